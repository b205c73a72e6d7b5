//! The real clock and randomness the engine injects into the pure core.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use stepwise_expr::Sources;

/// Wall-clock time and OS-seeded randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemSources;

impl Sources for SystemSources {
    fn now_millis(&mut self) -> i64 {
        now_millis()
    }
    fn uuid(&mut self) -> String {
        let a = random_u64();
        let c = random_u64();
        stepwise_interp::run::format_uuid(a, c)
    }
    fn random(&mut self) -> f64 {
        (random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn out_of_time(&mut self) -> bool {
        stepwise_jsonata::interrupted()
            || STEP_DEADLINE.with(|d| d.get().is_some_and(|d| std::time::Instant::now() >= d))
    }
    fn interrupted(&mut self) -> bool {
        stepwise_jsonata::interrupted()
    }
    fn activity_exists(&mut self, arn: &str) -> bool {
        STEP_ACTIVITIES.with(|a| {
            a.borrow()
                .as_ref()
                .is_none_or(|set| set.read().map_or(true, |s| s.contains(arn)))
        })
    }
}

/// The ARNs of the activities an engine keeps (read by the steps it runs, without the
/// engine's lock; written under it with the catalogue).
pub(crate) type ActivityArns = std::sync::RwLock<std::collections::HashSet<String>>;

thread_local! {
    /// The activities of the engine whose step runs on this thread.
    static STEP_ACTIVITIES: std::cell::RefCell<Option<std::sync::Arc<ActivityArns>>> =
        const { std::cell::RefCell::new(None) };
}

/// Answer [`Sources::activity_exists`] from `arns` for the step that starts now on this
/// thread (`None`: the step ended).
pub(crate) fn set_step_activities(arns: Option<std::sync::Arc<ActivityArns>>) {
    STEP_ACTIVITIES.with(|a| *a.borrow_mut() = arns);
}

/// How long one step of an execution may hold the engine before it yields (between two
/// states; a single state is not cut short, see the JSONata guard).
pub const STEP_BUDGET: std::time::Duration = std::time::Duration::from_millis(50);

thread_local! {
    /// When the step running on this thread must yield (set while a step runs).
    static STEP_DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// Give the step that starts now on this thread [`STEP_BUDGET`] (`false`: no limit).
pub(crate) fn set_step_deadline(on: bool) {
    let deadline = on.then(|| std::time::Instant::now() + STEP_BUDGET);
    STEP_DEADLINE.with(|d| d.set(deadline));
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// 64 random bits: `RandomState` is seeded from the OS; hashing a counter gives
/// independent words without a dependency.
pub fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}
