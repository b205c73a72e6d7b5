//! The execution step function: pure, deterministic, recoverable.
//!
//! [`Execution::start`] and [`Execution::handle`] take an [`Event`] (timer fired, task
//! answered, stop requested) and return a [`Step`]: the new AWS-shaped
//! [`HistoryEvent`]s and the [`Command`]s the edges must carry out (arm a timer,
//! dispatch a task). Time, UUIDs and random numbers come from an injected
//! [`stepwise_expr::Sources`]; waits and retries never sleep here.
//! [`run::run_to_end`] drives an execution in-process for `stepwise run`, the
//! conformance runner and the benchmark.
//!
//! A running execution persists as bytes ([`Execution::snapshot`] /
//! [`Execution::restore`]); [`fold::fold`] derives from history alone the
//! [`fold::Summary`] that [`Execution::summary`] must match. An execution that failed,
//! timed out or was stopped can be continued with [`Execution::redrive`].
//! [`test_state::test_state`] runs one state alone, as AWS's `TestState` action does.

pub mod exec;
pub mod fold;
pub mod history;
pub mod mock_shapes;
pub mod run;
pub mod test_state;
pub mod timefmt;

pub use exec::{
    ChildChange, ChildExecution, Command, Counts, Event, Execution, ExecutionInfo, InspectionData,
    Machine, MapRunInfo, RedriveError, SnapshotError, StateInspection, Status, Step, TaskCaller,
    TaskRequest,
};
pub use fold::{fold, Folder, OpenState, Summary};
pub use history::{Details, EventType, HistoryEvent};
