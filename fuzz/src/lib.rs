//! Shared pieces of the fuzz targets: deterministic `Sources`, fixed documents and the
//! fixed machines of the `snapshot` target.

use serde_json::{json, Map, Value};
use std::sync::{Arc, OnceLock};
use stepwise_expr::Sources;
use stepwise_interp::run::VirtualClock;

/// Deterministic time, UUIDs and random numbers: the interpreter's own virtual clock.
pub struct Fixed(VirtualClock);

impl Fixed {
    pub fn new() -> Fixed {
        Fixed(VirtualClock::new(1_700_000_000_000, 0x1234_5678))
    }
    /// Moves the clock forward (for events that fire timers).
    pub fn advance(&mut self, millis: i64) {
        self.0.now = self.0.now.saturating_add(millis);
    }
}

impl Default for Fixed {
    fn default() -> Self {
        Fixed::new()
    }
}

impl Sources for Fixed {
    fn now_millis(&mut self) -> i64 {
        self.0.now_millis()
    }
    fn uuid(&mut self) -> String {
        self.0.uuid()
    }
    fn random(&mut self) -> f64 {
        self.0.random()
    }
}

/// The state input every expression target evaluates against.
pub fn input_doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        json!({
            "a": 1,
            "b": [1, 2, {"c": "x", "d": [true, false, null]}],
            "s": "str",
            "n": null,
            "f": 1.5,
            "neg": -3,
            "big": 9007199254740993u64,
            "e": "",
            "obj": {"k": "v", "nested": {"deep": [[1], [2, [3]]]}, "num": 42},
            "items": [
                {"id": 1, "name": "one", "price": 9.99, "tags": ["a", "b"]},
                {"id": 2, "name": "two", "price": 20, "tags": []},
                {"id": 3, "name": "three", "price": null}
            ],
            "text": "Hello, World! {} \\ ' \"",
            "json": "{\"x\": [1, 2]}",
            "b64": "aGVsbG8=",
            "unicode": "\u{e9}\u{1F600}\u{0}",
            "waitSeconds": 1,
            "ts": "2024-01-01T00:00:00Z"
        })
    })
}

/// The Context object (`$$`).
pub fn context_doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        json!({
            "Execution": {
                "Id": "arn:aws:states:us-east-1:123456789012:execution:sm:ex",
                "Input": input_doc(),
                "Name": "ex",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "StartTime": "2024-01-01T00:00:00.000Z",
                "RedriveCount": 0
            },
            "State": {"EnteredTime": "2024-01-01T00:00:00.000Z", "Name": "S", "RetryCount": 0},
            "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "Name": "sm"},
            "Task": {"Token": "tok"},
            "Map": {"Item": {"Index": 0, "Value": {"x": 1}}}
        })
    })
}

/// Variables (`$v`, `$o`, …).
pub fn vars_doc() -> &'static Map<String, Value> {
    static DOC: OnceLock<Map<String, Value>> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut vars = Map::new();
        vars.insert("v".into(), json!(41));
        vars.insert("arr".into(), json!([3, 1, 2]));
        vars.insert("o".into(), json!({"k": "v", "a": [1, {"b": 2}]}));
        vars.insert("s".into(), json!("text"));
        vars
    })
}

/// `$states` for the JSONata target.
pub fn states_doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        json!({
            "input": input_doc(),
            "result": {"Payload": {"ok": true, "list": [1, 2, 3]}, "StatusCode": 200},
            "errorOutput": {"Error": "States.TaskFailed", "Cause": "boom"},
            "context": context_doc()
        })
    })
}

/// Splits `data` at NUL bytes into at most `n` fields (the last keeps any further NULs).
pub fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    data.splitn(n, |b| *b == 0).collect()
}

/// One fixed machine of the `snapshot` target and the input its seeds start with.
pub struct FixedMachine {
    pub name: &'static str,
    pub machine: Arc<stepwise_interp::Machine>,
    pub input: Value,
}

/// The machines of the `snapshot` target (the first byte of an input picks one).
/// The first four are conformance cases, `counter` is the repository's loop test
/// machine, the last two are written for this target (open tasks and Distributed Map
/// children).
pub fn machines() -> &'static [FixedMachine] {
    static M: OnceLock<Vec<FixedMachine>> = OnceLock::new();
    M.get_or_init(|| {
        let defs: [(&str, &str, Value); 7] = [
            (
                "wait_seconds_path",
                include_str!("../machines/wait_seconds_path.json"),
                json!({"input": {"waitSeconds": 5}}),
            ),
            (
                "parallel_nested",
                include_str!("../machines/parallel_nested.json"),
                json!([[1, 2, 3], [4, 5, 6]]),
            ),
            (
                "distributed_map_item_selector",
                include_str!("../machines/distributed_map_item_selector.json"),
                json!(["Hello", "World"]),
            ),
            (
                "wait_seconds_jsonata",
                include_str!("../machines/wait_seconds_jsonata.json"),
                json!({"waitSeconds": 3}),
            ),
            (
                "counter",
                include_str!("../../testdata/loops/counter.json"),
                json!({"n": 0, "to": 25000}),
            ),
            (
                "tasks",
                include_str!("../machines/tasks.json"),
                json!({"items": [1, 2, 3]}),
            ),
            (
                "distributed_map_tasks",
                include_str!("../machines/distributed_map_tasks.json"),
                json!({"items": ["a", "b", "c"]}),
            ),
        ];
        defs.into_iter()
            .map(|(name, text, input)| FixedMachine {
                name,
                machine: stepwise_interp::Machine::new(
                    stepwise_asl::parse(text)
                        .unwrap_or_else(|e| panic!("fixed machine {name} does not parse: {e:?}")),
                ),
                input,
            })
            .collect()
    })
}
