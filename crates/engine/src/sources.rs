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
