//! What the interpreter's step-level tests share: an execution started on a virtual clock.

use serde_json::Value;
use stepwise_interp::run::VirtualClock;
use stepwise_interp::{Execution, ExecutionInfo, Machine, Step};

/// The virtual clock's start (epoch milliseconds).
pub const T0: i64 = 1_700_000_000_000;

/// Starts an execution of `def` (which must be valid) named `M`/`e` at [`T0`].
pub fn start(def: Value, input: Value) -> (Execution, Step, VirtualClock) {
    let sm =
        stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("invalid definition: {d:?}"));
    let mut clock = VirtualClock::new(T0, 1);
    let (ex, step) = Execution::start(
        Machine::new(sm),
        ExecutionInfo::local("M", "e"),
        input,
        &mut clock,
    );
    (ex, step, clock)
}
