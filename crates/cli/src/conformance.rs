//! `stepwise conformance DIR`: run recorded cases through the in-process engine.

use crate::engine::{invalid_definition_message, load_machine};
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use stepwise_conformance::{Case, Engine, Outcome};
use stepwise_interp::run::{run_to_end, NoTasks, VirtualClock};
use stepwise_interp::ExecutionInfo;

#[derive(Args)]
pub struct ConformanceArgs {
    /// A folder of case folders (definition.json, input.json, expected.json).
    dir: PathBuf,
    /// Write the JSON report here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Only cases whose id or category contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Skip history comparison.
    #[arg(long)]
    no_history: bool,
    /// Print each failing case's differences.
    #[arg(long, short)]
    verbose: bool,
}

/// The in-process engine: parse, run on a virtual clock, return AWS-shaped results.
pub struct InProcess;

/// A fixed, realistic start instant keeps runs reproducible.
const START_MILLIS: i64 = 1_735_689_600_000;

impl Engine for InProcess {
    fn run(&self, case: &Case) -> Outcome {
        let machine = match load_machine(&case.definition_text) {
            Ok(m) => m,
            Err(diags) => return Outcome::create_failed(invalid_definition_message(&diags)),
        };
        let info = if case.state_machine_type == "EXPRESS" {
            ExecutionInfo::local_express(
                "ConformanceMachine",
                "conformance-execution",
                "4f9d2c1e-0000-4000-8000-000000000001",
            )
        } else {
            ExecutionInfo::local("ConformanceMachine", "conformance-execution")
        };
        let mut clock = VirtualClock::new(START_MILLIS, 7);
        let fin = run_to_end(
            machine,
            info,
            case.input.clone(),
            &mut clock,
            &mut NoTasks,
            &mut (),
            true,
        );
        let history = fin
            .history
            .iter()
            .map(|e| {
                let mut v = e.to_aws_json(true);
                if let Value::Object(m) = &mut v {
                    // The recorder dropped these two.
                    m.remove("timestamp");
                    if let Some(Value::Object(d)) = m.get_mut("executionStartedEventDetails") {
                        d.remove("roleArn");
                    }
                }
                v
            })
            .collect();
        Outcome {
            status: fin.status.as_str().to_string(),
            output: fin.output,
            error: fin.error,
            cause: fin.cause,
            history: Some(history),
        }
    }
}

pub fn main(a: ConformanceArgs) -> anyhow::Result<ExitCode> {
    let cases = stepwise_conformance::load_cases(&a.dir, a.filter.as_deref())?;
    let report = stepwise_conformance::run_all(&cases, &InProcess, !a.no_history);
    if a.verbose {
        for c in report.cases.iter().filter(|c| !c.passed) {
            println!(
                "FAIL {} [{}]\n  {}",
                c.id,
                c.part.as_deref().unwrap_or("?"),
                c.diff.as_deref().unwrap_or("").replace('\n', "\n  ")
            );
        }
    }
    print!("{}", report.table());
    if let Some(p) = &a.report {
        std::fs::write(p, report.to_json())?;
    }
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
