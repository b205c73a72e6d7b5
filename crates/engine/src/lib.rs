//! The engine: runs executions durably on a [`Store`], drives the pure core, owns no SQL.
//!
//! One [`Engine`] holds, behind one lock, the catalogue (state machines, versions,
//! aliases, activities, tags) and every RUNNING execution as a
//! [`stepwise_interp::Execution`] value. A service call or a fired timer steps
//! executions in memory until each is blocked again, collects what changed into a
//! [`stepwise_store::Batch`] (history events, snapshot, timers, tasks) and hands it to
//! the [`committer::Committer`], which folds the batches of many callers into one
//! transaction. Nothing is acknowledged before its batch is durable.
//!
//! Waiting executions cost no thread and no task: a timer is a row plus an entry in an
//! ordered set served by one timer loop; an activity task or a callback is a row plus
//! a token in a map. Recovery loads snapshots of RUNNING executions with their timers
//! and tasks; it is the only way an execution is ever rebuilt.
//!
//! Status changes of Standard executions also become EventBridge-shaped events, written
//! with the change and delivered to webhooks at least once ([`events`]); closed
//! executions are deleted once older than the retention ([`retention`]).

mod calls;
mod catalog;
pub mod committer;
mod error;
pub mod events;
mod executions;
pub mod metrics;
mod names;
mod nested;
pub mod retention;
pub mod scope;
pub mod sources;
mod stepping;
mod stuck;
mod tasks;

pub use catalog::{AliasView, MachineView, NewStateMachine, StateMachineUpdate, VersionView};
pub use error::{Error, ErrorCode, Result};
pub use executions::{ExecutionOutcome, StartRequest, StartedExecution};
pub use scope::Scope;
pub use stepwise_interp::{Counts, MapRunInfo};
pub use stuck::{StuckExecution, WaitsFor};
pub use tasks::ActivityTask;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use stepwise_interp::{Execution, Machine};
use stepwise_mock::MockConfig;
use stepwise_store::{ActivityRecord, AliasRecord, StateMachineRecord, Store, VersionRecord};
use tokio::sync::{oneshot, Notify};

use committer::Committer;
use metrics::Metrics;

/// Told which execution the engine is stepping on the calling thread (`Some`) and when
/// it is done (`None`), so that a crash inside a step can be pinned on that execution at
/// the next start (see [`Config::poisoned`]). Several threads step at once, each its own
/// execution; it is called at every step, so it must be quick.
pub trait StepMarker: Send + Sync + std::fmt::Debug {
    fn mark(&self, execution_arn: Option<&str>);
}

/// How an engine runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub region: String,
    pub account: String,
    /// Real time per unit of execution time for Waits, retries and timeouts (1 = real time, 0 = instant).
    pub time_scale: f64,
    /// Step Functions Local's mock file, used by executions started as `arn#TestCase`.
    pub mocks: Option<Arc<MockConfig>>,
    /// Where steps are marked (see [`StepMarker`]); `None`: not marked.
    pub step_marker: Option<Arc<dyn StepMarker>>,
    /// Executions the previous process crashed while stepping, with the cause to fail
    /// them with (`States.Runtime`) instead of resuming them at recovery.
    pub poisoned: Vec<(String, String)>,
    /// What Task states call for real (`stepwise.toml`); `None`: only activities,
    /// callbacks and mocks.
    pub integrations: Option<Arc<stepwise_tasks::Integrations>>,
    /// Where status-change events go (see `events`); none: no events are written.
    pub webhooks: Vec<stepwise_tasks::config::Webhook>,
    /// How long closed executions are kept after they stop (see `retention`); `None`:
    /// forever.
    pub retention: Option<std::time::Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            time_scale: 1.0,
            mocks: None,
            step_marker: None,
            poisoned: Vec::new(),
            integrations: None,
            webhooks: Vec::new(),
            retention: None,
        }
    }
}

/// DescribeExecution's `redriveStatus` and `redriveStatusReason` of a Standard
/// execution.
pub fn redrive_status(rec: &stepwise_store::ExecutionRecord) -> (&'static str, Option<String>) {
    match rec.status.as_str() {
        "RUNNING" | "SUCCEEDED" | "PENDING_REDRIVE" => (
            "NOT_REDRIVABLE",
            Some(format!(
                "Execution is {} and cannot be redriven",
                rec.status
            )),
        ),
        _ => ("REDRIVABLE", None),
    }
}

/// The durable runtime behind the API.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Arc<dyn Store>,
    committer: Arc<Committer>,
    metrics: Arc<Metrics>,
    state: Mutex<State>,
    /// Execution ARNs that may be taken (see `names`): StartExecution reads the store
    /// for a name only when this says "maybe".
    names: Mutex<names::NameFilter>,
    /// Wakes the timer loop when an earlier timer is armed.
    timer_wake: Notify,
    stopping: std::sync::atomic::AtomicBool,
    /// Itself, for work it spawns (calls).
    me: std::sync::OnceLock<std::sync::Weak<Inner>>,
    /// The runtime the engine was opened in (calls run there).
    runtime: Option<tokio::runtime::Handle>,
    /// The activities' ARNs, which a step reads without the lock (a Task on one that
    /// does not exist fails at once).
    activity_arns: Arc<sources::ActivityArns>,
    /// Held shared by a redrive until its batch is durable, exclusively by a retention
    /// sweep (see `retention`).
    sweep_gate: tokio::sync::RwLock<()>,
}

struct MachineEntry {
    rec: StateMachineRecord,
    machine: Arc<Machine>,
}

struct VersionEntry {
    rec: VersionRecord,
    machine: Arc<Machine>,
}

/// A RUNNING execution held in memory.
struct Running {
    /// `None` while a step has it out (see `stepping`).
    ex: Option<Execution>,
    /// What arrived while a step had it out, applied before it is put back, each with
    /// the caller waiting for the batch that applied it.
    mail: Vec<(stepping::Mail, Option<oneshot::Sender<u64>>)>,
    /// Its Map Runs as the step that has it out began (ListMapRuns meanwhile).
    map_runs: Vec<MapRunInfo>,
    /// Cancels the step that has it out (a stop).
    interrupt: Option<Arc<stepwise_jsonata::Interrupt>>,
    /// The record as inserted (status and results are updated when it finishes), without
    /// its `definition`, which is shared here instead: many executions, one text.
    record: stepwise_store::ExecutionRecord,
    definition: Arc<str>,
    /// Armed timers: id → (wall-clock due time, due time before `--time-scale`).
    timers: HashMap<u64, (i64, i64)>,
    /// Open tasks: id → token (empty for tasks answered at once).
    tasks: HashMap<u64, String>,
    /// StartSyncExecution callers waiting for the end.
    sync: Vec<oneshot::Sender<(stepwise_store::ExecutionRecord, u64)>>,
    /// Whether it ever stored a timer or a task (its end then clears them).
    stored_work: bool,
    /// A new Standard execution the store does not have yet: the batch of its first
    /// step inserts it (or StartExecution does, when that step is slow).
    unstored: bool,
}

/// A finished execution's final record and the batch that makes it durable.
struct Finished {
    /// Without its definition (see `Running::record`); `None` when its payloads are too
    /// large to keep (the entry then only reserves the name; reads go to the store).
    record: Option<Arc<stepwise_store::ExecutionRecord>>,
    definition: Arc<str>,
    seq: u64,
    at: std::time::Instant,
}

/// An activity task or callback waiting for `SendTask*`.
struct TokenEntry {
    execution: Arc<str>,
    task: u64,
    /// The activity task was handed to a worker.
    started: bool,
    /// As stored (Standard executions), so a hand-out can record its worker; the input
    /// is what workers receive.
    record: stepwise_store::TaskRecord,
    durable: bool,
    /// A call on its way (aborted when the entry goes).
    call: Option<calls::CallHandle>,
}

#[derive(Default)]
struct ActivityQueue {
    /// Tokens of tasks no worker has taken yet, oldest first.
    tasks: VecDeque<String>,
    pollers: VecDeque<tasks::Poller>,
}

#[derive(Default)]
struct State {
    machines: BTreeMap<String, MachineEntry>,
    /// Deleted Standard machines whose executions still run (AWS's DELETING status):
    /// each of those executions fails at its next transition.
    deleting: HashMap<String, MachineEntry>,
    versions: BTreeMap<String, VersionEntry>,
    aliases: BTreeMap<String, AliasRecord>,
    activities: BTreeMap<String, ActivityRecord>,
    /// The keys of `activities`, shared with the steps (`Inner::activity_arns`).
    activity_arns: Arc<sources::ActivityArns>,
    tags: HashMap<String, Vec<(String, String)>>,
    /// Parsed definitions by text, shared by executions and machines.
    parsed: HashMap<Arc<str>, std::sync::Weak<Machine>>,
    /// Boxed: the table stays small however large an execution's state is.
    running: HashMap<Arc<str>, Box<Running>>,
    /// Recently finished executions: their names stay taken before the store has them,
    /// and DescribeExecution answers from here (after their batch is durable).
    finished: HashMap<Arc<str>, Finished>,
    /// `finished` in finishing order, for eviction.
    finished_order: VecDeque<Arc<str>>,
    /// Finished in the current batch; stamped with its sequence number on submit.
    unstamped: Vec<Arc<str>>,
    /// (wall-clock due, unscaled due, execution, timer).
    wheel: BTreeSet<(i64, i64, Arc<str>, u64)>,
    /// Executions whose last step yielded with more to run (`Command::Continue`); the
    /// timer loop steps them again, each once per turn, between other work.
    continues: VecDeque<Arc<str>>,
    tokens: HashMap<String, TokenEntry>,
    queues: HashMap<String, ActivityQueue>,
}

impl Engine {
    /// Open an engine on a store: load the catalogue, resume every RUNNING execution,
    /// start the writer thread and the timer loop. Must be called inside a Tokio runtime.
    pub fn open(store: Arc<dyn Store>, config: Config) -> Result<Engine> {
        let metrics = Arc::new(Metrics::default());
        let committer = Committer::start(Arc::clone(&store), Arc::clone(&metrics));
        let activity_arns: Arc<sources::ActivityArns> = Arc::default();
        let state = State {
            activity_arns: Arc::clone(&activity_arns),
            ..State::default()
        };
        let inner = Arc::new(Inner {
            config,
            store,
            committer,
            metrics,
            state: Mutex::new(state),
            names: Mutex::new(names::NameFilter::new()),
            timer_wake: Notify::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            me: std::sync::OnceLock::new(),
            runtime: tokio::runtime::Handle::try_current().ok(),
            activity_arns,
            sweep_gate: tokio::sync::RwLock::new(()),
        });
        let _ = inner.me.set(Arc::downgrade(&inner));
        let engine = Engine { inner };
        {
            let mut names = engine.inner.names();
            engine
                .inner
                .store
                .execution_arns(&mut |a| names.insert(a))
                .map_err(Error::store)?;
        }
        engine.recover()?;
        let weak = Arc::downgrade(&engine.inner);
        tokio::spawn(stepping::timer_loop(weak));
        events::start(&engine.inner);
        retention::start(&engine.inner);
        Ok(engine)
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Prometheus text for `GET /metrics`.
    pub fn metrics_text(&self) -> String {
        let gauges = {
            let st = self.inner.lock();
            metrics::Gauges {
                open_executions: st.running.len(),
                timers: st.wheel.len(),
                activity_pollers: st.queues.values().map(|q| q.pollers.len()).sum(),
                queued_batches: self
                    .inner
                    .committer
                    .queued
                    .load(std::sync::atomic::Ordering::Relaxed),
            }
        };
        self.inner.metrics.render(&gauges)
    }

    /// The region in this engine's ARNs.
    pub fn region(&self) -> &str {
        &self.inner.config.region
    }

    /// Whether the engine can still make changes durable.
    pub fn healthy(&self) -> bool {
        !self.inner.committer.poisoned()
    }

    /// First step of a graceful shutdown: waiting GetActivityTask calls return empty
    /// now and new ones do not wait, so open connections can finish.
    pub fn release_pollers(&self) {
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let mut st = self.inner.lock();
        for q in st.queues.values_mut() {
            q.pollers.clear();
        }
    }

    /// Write what is queued and stop the writer. Later calls fail.
    pub fn shutdown(&self) {
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.inner.timer_wake.notify_one();
        self.inner.committer.shutdown();
    }

    /// Run `f` on Tokio's blocking pool: execution steps never run on the threads that
    /// serve the API, so a slow one delays no other request.
    async fn off_api<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<T> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "a step failed");
                Error::new(ErrorCode::ServiceException, "Internal error while stepping")
            })
    }

    /// Wait until what a [`stepping::Delivery`] applied is durable; false when there
    /// was no running execution to deliver to.
    async fn delivered(&self, d: stepping::Delivery) -> Result<bool> {
        let seq = match d {
            stepping::Delivery::Gone => return Ok(false),
            stepping::Delivery::Stepped(seq) => seq,
            stepping::Delivery::Queued(rx) => rx.await.map_err(|_| Error::commit())?,
        };
        self.inner
            .committer
            .wait(seq)
            .await
            .map_err(|_| Error::commit())?;
        Ok(true)
    }

    /// The ARN prefix (`arn:aws:states:REGION:ACCOUNT:`) of what `arn` names: its
    /// own, or the server's when it names none.
    fn prefix_for(&self, arn: &str) -> String {
        scope::prefix_of(arn).unwrap_or_else(|| self.default_scope().arn_prefix())
    }
}

/// Marks a step while it lives (see [`StepMarker`]).
pub(crate) struct Stepping<'a>(Option<&'a dyn StepMarker>);

impl Drop for Stepping<'_> {
    fn drop(&mut self) {
        sources::set_step_deadline(false);
        sources::set_step_activities(None);
        stepwise_jsonata::interrupt_with(None);
        if let Some(m) = self.0 {
            m.mark(None);
        }
    }
}

impl Inner {
    /// Mark `arn` as being stepped on this thread until the returned guard drops, give
    /// the step its time budget ([`sources::STEP_BUDGET`]) and let `interrupt` cut it
    /// short.
    pub(crate) fn stepping(
        &self,
        arn: &str,
        interrupt: Option<Arc<stepwise_jsonata::Interrupt>>,
    ) -> Stepping<'_> {
        sources::set_step_deadline(true);
        sources::set_step_activities(Some(Arc::clone(&self.activity_arns)));
        stepwise_jsonata::interrupt_with(interrupt);
        let m = self.config.step_marker.as_deref();
        if let Some(m) = m {
            m.mark(Some(arn));
        }
        Stepping(m)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            // A panic while holding the lock is a bug; the data is still usable.
            Err(p) => p.into_inner(),
        }
    }

    fn names(&self) -> MutexGuard<'_, names::NameFilter> {
        match self.names.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

impl Running {
    /// An entry with no timers, tasks or waiting callers yet.
    fn new(
        ex: Option<Execution>,
        record: stepwise_store::ExecutionRecord,
        definition: Arc<str>,
    ) -> Box<Running> {
        Box::new(Running {
            ex,
            mail: Vec::new(),
            map_runs: Vec::new(),
            interrupt: None,
            record,
            definition,
            timers: HashMap::new(),
            tasks: HashMap::new(),
            sync: Vec::new(),
            stored_work: false,
            unstored: false,
        })
    }

    /// The record with its definition, as the store and DescribeExecution want it.
    fn full_record(&self) -> stepwise_store::ExecutionRecord {
        let mut rec = self.record.clone();
        rec.definition = self.definition.to_string();
        rec
    }
}

impl State {
    /// One shared copy of a definition text (the parsed-definition cache's key).
    fn shared_definition(&self, text: &str) -> Arc<str> {
        match self.parsed.get_key_value(text) {
            Some((k, _)) => Arc::clone(k),
            None => Arc::from(text),
        }
    }

    /// A parsed definition, shared with every holder of the same text.
    fn machine_for(&mut self, definition: &str) -> std::result::Result<Arc<Machine>, String> {
        if let Some(m) = self.parsed.get(definition).and_then(|w| w.upgrade()) {
            return Ok(m);
        }
        let m = stepwise_asl::parse(definition)
            .map(Machine::new)
            .map_err(|d| stepwise_asl::aws_message(&d))?;
        if self.parsed.len() > 1024 {
            self.parsed.retain(|_, w| w.strong_count() > 0);
        }
        self.parsed
            .insert(Arc::from(definition), Arc::downgrade(&m));
        Ok(m)
    }
}

pub use stepwise_interp::test_state::{
    InspectionLevel, MockErrorOutput, TestStateConfiguration, TestStateMock, TestStateRequest,
    TestStateResponse,
};

impl Engine {
    /// TestState: one state, run in isolation (nothing is stored), in the server's scope.
    pub async fn test_state(&self, req: TestStateRequest) -> Result<TestStateResponse> {
        self.test_state_in(&self.default_scope(), req).await
    }

    /// TestState in `scope` (the region and account of the ARNs its Context object and
    /// events name).
    pub async fn test_state_in(
        &self,
        scope: &Scope,
        mut req: TestStateRequest,
    ) -> Result<TestStateResponse> {
        use stepwise_interp::test_state::TestStateError as E;
        req.region = scope.region.clone();
        req.account = scope.account.clone();
        let integrations = self.inner.config.integrations.clone();
        let runtime = self.inner.runtime.clone();
        let run = move |_: &Engine| {
            let mut caller = match (integrations, runtime) {
                (Some(i), Some(rt)) => Some(calls::TestStateCalls::new(i, rt, req.reveal_secrets)),
                _ => None,
            };
            stepwise_interp::test_state::test_state_calling(
                &req,
                &mut sources::SystemSources,
                caller
                    .as_mut()
                    .map(|c| c as &mut dyn stepwise_interp::TaskCaller),
            )
        };
        self.off_api(run).await?.map_err(|e| {
            let code = match e {
                E::InvalidDefinition(_) => ErrorCode::InvalidDefinition,
                E::InvalidExecutionInput(_) => ErrorCode::InvalidExecutionInput,
                E::Validation(_) => ErrorCode::ValidationException,
            };
            Error::new(code, e.message())
        })
    }
}
