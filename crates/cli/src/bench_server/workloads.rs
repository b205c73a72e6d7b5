//! The workloads: each `NAME.asl.json` with its input, expected output and the
//! states one run enters, loaded from the workloads folder.

use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use stepwise_interp::run::{run_to_end, NoTasks, VirtualClock};
use stepwise_interp::{ExecutionInfo, Status};

/// One workload: its definition, input, expected output and states entered per run.
pub(super) struct Workload {
    pub(super) definition: String,
    pub(super) input: Value,
    pub(super) expected: Option<Value>,
    pub(super) transitions: u64,
}

pub(super) struct Workloads {
    pub(super) hello3: Workload,
    pub(super) chain100: Workload,
    pub(super) map1000: Workload,
    pub(super) callback: Workload,
    pub(super) waitday: Workload,
}

impl Workloads {
    pub(super) fn load(dir: &Path) -> anyhow::Result<Workloads> {
        let one = |name: &str, runs_alone: bool| -> anyhow::Result<Workload> {
            let read = |suffix: &str| -> anyhow::Result<String> {
                let p = dir.join(format!("{name}{suffix}"));
                std::fs::read_to_string(&p).with_context(|| {
                    format!(
                        "reading {} (give the folder with --workloads DIR)",
                        p.display()
                    )
                })
            };
            let definition = read(".json")?;
            let input: Value = serde_json::from_str(&read(".input.json")?)
                .with_context(|| format!("{name}.input.json"))?;
            if !runs_alone {
                return Ok(Workload {
                    definition,
                    input,
                    expected: None,
                    transitions: 0,
                });
            }
            let expected: Value = serde_json::from_str(&read(".expected.json")?)
                .with_context(|| format!("{name}.expected.json"))?;
            // States entered per execution, counted the way the in-process bench does.
            let machine = crate::engine::load_machine(&definition).map_err(|d| {
                anyhow!(
                    "{name}.json: {}",
                    crate::engine::invalid_definition_message(&d)
                )
            })?;
            let fin = run_to_end(
                machine,
                Arc::new(ExecutionInfo::local("Bench", "count")),
                input.clone(),
                &mut VirtualClock::new(1_735_689_600_000, 1),
                &mut NoTasks,
                &mut (),
                false,
            );
            if fin.status != Status::Succeeded || fin.output.as_ref() != Some(&expected) {
                bail!("{name}: the in-process run does not give {name}.expected.json");
            }
            Ok(Workload {
                definition,
                input,
                expected: Some(expected),
                transitions: fin.transitions,
            })
        };
        Ok(Workloads {
            hello3: one("hello3", true)?,
            chain100: one("chain100", true)?,
            map1000: one("map1000", true)?,
            callback: one("callback", false)?,
            waitday: one("waitday", false)?,
        })
    }
}
