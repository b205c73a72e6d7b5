//! Running any accepted definition on arbitrary input never panics: every failure is
//! an execution outcome (FAILED with an error and cause), never a crash.

use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use stepwise_interp::run::{run_to_end, TaskAnswer, VirtualClock};
use stepwise_interp::{ExecutionInfo, Machine, Status, TaskRequest};

/// Answers tasks from a script of outcomes, cycling.
struct Scripted(Vec<Result<Value, (String, String)>>, usize);

impl TaskAnswer for Scripted {
    fn answer(&mut self, _req: &TaskRequest) -> Result<Value, (String, String)> {
        if self.0.is_empty() {
            return Ok(Value::Null);
        }
        self.1 += 1;
        self.0[self.1 % self.0.len()].clone()
    }
}

fn machines() -> Vec<Arc<Machine>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![root.join("testdata/asl/valid"), root.join("examples")];
    let shared = root.join("../shared/conformance/cases");
    if let Ok(rd) = std::fs::read_dir(&shared) {
        let mut cases: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        // Every 7th case keeps the run short while covering each category.
        dirs.extend(cases.into_iter().step_by(7));
    }
    let mut out = Vec::new();
    for d in dirs {
        let files: Vec<PathBuf> = if d.join("definition.json").is_file() {
            vec![d.join("definition.json")]
        } else {
            std::fs::read_dir(&d)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
                        .collect()
                })
                .unwrap_or_default()
        };
        for f in files {
            if let Ok(text) = std::fs::read_to_string(&f) {
                if let Ok(sm) = stepwise_asl::parse(&text) {
                    out.push(Machine::new(sm));
                }
            }
        }
    }
    out
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        "[a-z$.{}%\\[\\]0-9 :TZ-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_input_any_machine(input in arb_json(), fail_first in any::<bool>()) {
        let machines = machines();
        prop_assert!(!machines.is_empty());
        for m in machines {
            let mut clock = VirtualClock::new(1_700_000_000_000, 3);
            let script = if fail_first {
                vec![Err(("States.TaskFailed".to_string(), "scripted".to_string())), Ok(input.clone())]
            } else {
                vec![Ok(input.clone())]
            };
            let fin = run_to_end(m, ExecutionInfo::local("M", "e"), input.clone(), &mut clock, &mut Scripted(script, 0), &mut (), true);
            prop_assert!(fin.status != Status::Running || fin.history.last().is_some());
            if fin.status == Status::Failed {
                prop_assert!(fin.error.is_some() || fin.cause.is_some() || fin.history.iter().any(|e| e.event_type.as_str() == "FailStateEntered"));
            }
        }
    }
}
