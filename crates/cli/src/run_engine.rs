//! `stepwise run --config`: one execution on a private engine — an in-memory store and
//! the Step Functions API on a loopback port — so its Task states call what
//! `stepwise.toml` configures as `stepwise serve` would: functions, HTTP endpoints,
//! nested executions of `[state_machines.NAME]`, each concurrently, with their timeouts.
//! A `.waitForTaskToken` task is answered through that API: functions find it in
//! `AWS_ENDPOINT_URL_SFN`, anything else at the address `--progress` prints. The
//! execution's status-change events go to the file's `[[webhooks]]`, and `run` waits
//! (up to [`WEBHOOK_WAIT`]) for them to be taken before it exits.

use crate::progress::Progress;
use anyhow::Context;
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use stepwise_engine::{Config, Engine, NewStateMachine, StartRequest};
use stepwise_mock::MockConfig;
use stepwise_store_sqlite::SqliteStore;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

/// One run.
pub struct Job {
    /// The machine's name (`$$.StateMachine.Name`, the mock file's machine).
    pub name: String,
    pub definition: String,
    pub input: String,
    pub mocks: Option<(MockConfig, String)>,
    pub time_scale: f64,
    pub config: stepwise_tasks::config::Config,
    /// Print progress on stderr.
    pub progress: bool,
    pub history: Option<std::path::PathBuf>,
}

pub fn run(mut job: Job) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let result = rt.block_on(async move {
        let store = SqliteStore::open_in_memory().map_err(|e| anyhow::anyhow!("{e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("listening on 127.0.0.1")?;
        let api = format!("http://{}", listener.local_addr()?);
        let machines = job.config.state_machines.clone();
        let integrations = Arc::new(stepwise_tasks::Integrations::new(
            job.config.clone(),
            REGION,
            ACCOUNT,
            Some(&api),
        ));
        let (mocks, test_case) = match job.mocks.take() {
            Some((m, tc)) => (Some(Arc::new(m)), Some(tc)),
            None => (None, None),
        };
        let engine = Engine::open(
            Arc::new(store),
            Config {
                region: REGION.into(),
                account: ACCOUNT.into(),
                time_scale: job.time_scale,
                mocks,
                integrations: Some(Arc::clone(&integrations)),
                webhooks: job.config.webhooks.clone(),
                ..Config::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(stepwise_api::serve(
            listener,
            stepwise_api::router(engine.clone()),
            async {
                let _ = stop_rx.await;
            },
        ));
        if job.progress {
            eprintln!("  Step Functions API for task tokens: {api}");
        }
        let outcome = execute(&engine, &job, &machines, test_case.as_deref()).await;
        if !job.config.webhooks.is_empty() {
            deliver_events(&engine).await;
        }
        let _ = stop_tx.send(());
        let _ = server.await;
        integrations.shutdown().await;
        engine.shutdown();
        outcome
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

/// How long `run` waits at the end for the `[[webhooks]]` to take the status-change
/// events (each one retried with back-off meanwhile).
const WEBHOOK_WAIT: Duration = Duration::from_secs(10);

/// Waits until every status-change event reached every webhook, or [`WEBHOOK_WAIT`].
async fn deliver_events(engine: &Engine) {
    let deadline = tokio::time::Instant::now() + WEBHOOK_WAIT;
    loop {
        match engine.undelivered_events(1000).await {
            Ok(0) => return,
            Ok(n) if tokio::time::Instant::now() >= deadline => {
                eprintln!(
                    "stepwise run: {n} status-change event(s) not delivered to the [[webhooks]] within {} s; giving up",
                    WEBHOOK_WAIT.as_secs()
                );
                return;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => {
                eprintln!("stepwise run: status-change events: {}", e.message);
                return;
            }
        }
    }
}

async fn execute(
    engine: &Engine,
    job: &Job,
    machines: &std::collections::BTreeMap<String, stepwise_tasks::config::StateMachine>,
    test_case: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let err = |e: stepwise_engine::Error| anyhow::anyhow!("{}: {}", e.code.as_str(), e.message);
    for (name, m) in machines {
        if *name == job.name {
            anyhow::bail!(
                "bad configuration: state_machines.{name}: the machine being run is already called '{name}' (give it another --name)"
            );
        }
        let definition = std::fs::read_to_string(&m.definition).with_context(|| {
            format!(
                "state_machines.{name}.definition: reading {}",
                m.definition.display()
            )
        })?;
        engine
            .create_state_machine(new_machine(name, definition))
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "state_machines.{name}.definition ({}): {}",
                    m.definition.display(),
                    e.message
                )
            })?;
    }
    let (view, _) = engine
        .create_state_machine(new_machine(&job.name, job.definition.clone()))
        .await
        .map_err(err)?;
    let target = match test_case {
        Some(tc) => format!("{}#{tc}", view.arn),
        None => view.arn.clone(),
    };
    let (started, _) = engine
        .start_execution(
            StartRequest {
                state_machine_arn: target,
                name: None,
                input: Some(job.input.clone()),
                trace_header: None,
            },
            false,
        )
        .await
        .map_err(err)?;
    let arn = started.arn;
    let mut progress = Progress::new(job.progress, &job.definition);
    let mut seen = 0u64;
    let mut events: Vec<Value> = Vec::new();
    let record = loop {
        let record = engine.describe_execution(&arn).await.map_err(err)?;
        let new = engine
            .execution_history(&arn, seen, false, 1000)
            .await
            .map_err(err)?;
        let batch: Vec<Value> = new
            .iter()
            .filter_map(|e| serde_json::from_str(&e.json).ok())
            .collect();
        if let Some(last) = new.last() {
            seen = last.id;
        }
        progress.events(&batch);
        events.extend(batch);
        if record.status != "RUNNING" && new.is_empty() {
            break record;
        }
        if new.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    if let Some(h) = &job.history {
        std::fs::write(
            h,
            serde_json::to_string_pretty(&serde_json::json!({ "events": events }))?,
        )
        .with_context(|| format!("writing {}", h.display()))?;
    }
    if record.status == "SUCCEEDED" {
        println!("{}", record.output.unwrap_or_else(|| "null".into()));
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{}: {}",
        record.status,
        record.error.as_deref().unwrap_or("")
    );
    if let Some(c) = &record.cause {
        eprintln!("{c}");
    }
    Ok(ExitCode::from(1))
}

fn new_machine(name: &str, definition: String) -> NewStateMachine {
    NewStateMachine::standard(
        name,
        definition,
        &format!("arn:aws:iam::{ACCOUNT}:role/stepwise-run"),
    )
}
