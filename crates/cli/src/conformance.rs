//! `stepwise conformance DIR`: run recorded cases through the in-process engine, or
//! with `--server URL` through the AWS API of a running server (`conformance_remote`).

use crate::conformance_remote::Remote;
use crate::engine::{invalid_definition_message, load_machine};
use anyhow::Context;
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use stepwise_conformance::{Case, CompareOptions, Engine, Outcome, RunOptions};
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
    /// Run the cases through the Step Functions API at this URL (e.g. http://127.0.0.1:8083)
    /// instead of in this process. Start the server with `--time-scale 0` so Waits are instant.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Cases run at once (default: the number of cores, 8 with --server).
    #[arg(long)]
    threads: Option<usize>,
    /// With --server: seconds an execution may stay RUNNING before its case fails.
    #[arg(long, default_value_t = 60)]
    case_timeout: u64,
    /// Cases known to fail (one id per line, then why; `#` comments): the summary names
    /// them as known, and only failures not listed make the exit status 1.
    #[arg(long, value_name = "FILE")]
    known_failures: Option<PathBuf>,
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
        let express = case.state_machine_type == "EXPRESS";
        if express {
            // What CreateStateMachine refuses for an EXPRESS machine (as the server does).
            let diags = stepwise_asl::check_express(&machine.definition);
            if !diags.is_empty() {
                return Outcome::create_failed(invalid_definition_message(&diags));
            }
        }
        let info = if express {
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
    let known = match &a.known_failures {
        Some(f) => Some(stepwise_conformance::parse_known_failures(
            &std::fs::read_to_string(f)
                .with_context(|| format!("reading known failures {}", f.display()))?,
        )),
        None => None,
    };
    let cases = stepwise_conformance::load_cases(&a.dir, a.filter.as_deref())?;
    let compare = CompareOptions {
        check_history: !a.no_history,
        ..CompareOptions::default()
    };
    let report = match &a.server {
        Some(url) => {
            let remote = Remote::new(url, Duration::from_secs(a.case_timeout));
            // Mostly waiting on HTTP round trips, so more threads than cores pay off.
            let threads = a.threads.unwrap_or(8);
            stepwise_conformance::run_all_with(&cases, &remote, RunOptions { compare, threads })
        }
        None => {
            let threads = a.threads.unwrap_or(0);
            stepwise_conformance::run_all_with(&cases, &InProcess, RunOptions { compare, threads })
        }
    };
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
    match &known {
        Some(k) => println!("{}", report.table_with_known(k)),
        None => println!("{}", report.table()),
    }
    if let Some(p) = &a.report {
        std::fs::write(p, report.to_json())?;
    }
    let failed = match &known {
        Some(k) => report.unknown_failures(k),
        None => report.failed(),
    };
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
