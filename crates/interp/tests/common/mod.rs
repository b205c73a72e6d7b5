//! What the interpreter's step-level tests share: an execution started on a virtual clock.

use serde_json::{json, Value};
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

/// A definition whose one state is a Distributed Map labelled `label`, its item processor
/// `processor` (`StartAt`/`States`), and the Map's other fields from `extra`.
pub fn distributed_map(label: &str, processor: Value, extra: Value) -> Value {
    let mut m = json!({"Type": "Map", "End": true, "Label": label,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}});
    for (k, v) in processor.as_object().into_iter().flatten() {
        m["ItemProcessor"][k] = v.clone();
    }
    for (k, v) in extra.as_object().into_iter().flatten() {
        m[k] = v.clone();
    }
    json!({"StartAt": "M", "States": {"M": m}})
}
