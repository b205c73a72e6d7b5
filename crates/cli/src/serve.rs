//! `stepwise serve`: the AWS Step Functions API on one port, durable in SQLite.

use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stepwise_engine::{Config, Engine};
use stepwise_store_sqlite::{Durability, SqliteStore};

#[derive(Args)]
pub struct ServeArgs {
    /// Port to listen on (8083 is AWS Step Functions Local's).
    #[arg(long, default_value_t = 8083)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Where the SQLite database lives. Default: $XDG_DATA_HOME/stepwise or ~/.local/share/stepwise.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// AWS Step Functions Local mock file; executions started as `stateMachineArn#TestCase` use it.
    /// Repeat it to merge several (the same test case in two files is an error).
    #[arg(long, value_name = "FILE")]
    mock_config: Vec<PathBuf>,
    /// Real time per unit of execution time for Waits, retries and timeouts (0 = instant).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// `stepwise.toml`: the functions, HTTP connections and state machines Task states call.
    #[arg(long, value_name = "FILE", env = "STEPWISE_CONFIG")]
    config: Option<PathBuf>,
    /// Region of the requests that name none (a request works in its SigV4 credential
    /// scope's region, as on AWS).
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Account of the requests that name none (a request whose access key id is 12 digits
    /// works in that account).
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// Require AWS Signature Version 4 on every API request, by a key in this file (the
    /// AWS shared credentials format, e.g. ~/.aws/credentials; every profile's key counts).
    /// The console then asks for one of these keys and its secret to sign in.
    #[arg(long, value_name = "FILE")]
    sigv4_credentials: Option<PathBuf>,
    /// What an acknowledged request survives: `fsync`, a power cut (every group commit is
    /// synced to disk); `process`, a crash of the process only (faster).
    #[arg(long, value_enum, default_value_t = DurabilityArg::Fsync)]
    durability: DurabilityArg,
    /// Serve no console pages (`/console/`).
    #[arg(long)]
    no_console: bool,
    /// POST each execution status change (EventBridge's "Step Functions Execution Status
    /// Change" event, JSON) to this URL, at least once, retried with back-off. Repeatable;
    /// adds to the `[[webhooks]]` of `--config`.
    #[arg(long, value_name = "URL")]
    webhook: Vec<String>,
    /// Days a closed execution is kept after it stops, then deleted with its history
    /// (AWS keeps them 90 days); fractions allowed; 0 keeps them forever.
    #[arg(long, value_name = "DAYS", default_value_t = 90.0)]
    retention_days: f64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DurabilityArg {
    Fsync,
    Process,
}

fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|s| !s.is_empty()) {
        return PathBuf::from(x).join("stepwise");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/stepwise"),
        None => PathBuf::from(".stepwise"),
    }
}

pub fn main(a: ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STEPWISE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if !(a.time_scale >= 0.0 && a.time_scale.is_finite()) {
        anyhow::bail!("--time-scale must be a number >= 0");
    }
    let mocks = crate::run::load_mocks(&a.mock_config)?.map(Arc::new);
    let sigv4 = match &a.sigv4_credentials {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("reading credentials file {}", f.display()))?;
            Some(
                stepwise_api::sigv4::Credentials::parse_ini(&text)
                    .with_context(|| format!("credentials file {}", f.display()))?,
            )
        }
        None => None,
    };
    let task_config = crate::task_config::load(a.config.as_deref())?;
    let mut webhooks = task_config
        .as_ref()
        .map(|c| c.webhooks.clone())
        .unwrap_or_default();
    for url in &a.webhook {
        webhooks.push(
            stepwise_tasks::config::Webhook::at(url)
                .map_err(|m| anyhow::anyhow!("--webhook: {m}"))?,
        );
    }
    if !(a.retention_days >= 0.0 && a.retention_days.is_finite()) {
        anyhow::bail!("--retention-days must be a number of days >= 0");
    }
    let retention = (a.retention_days > 0.0)
        .then(|| std::time::Duration::try_from_secs_f64(a.retention_days * 86_400.0))
        .transpose()
        .map_err(|_| anyhow::anyhow!("--retention-days is too large"))?;
    let dir = a.data_dir.clone().unwrap_or_else(default_data_dir);
    let data = crate::data_dir::open(&dir)?;
    let db = data.db.clone();
    let durability = match a.durability {
        DurabilityArg::Fsync => Durability::PowerLoss,
        DurabilityArg::Process => Durability::Process,
    };
    let addr: SocketAddr = format!("{}:{}", a.bind, a.port)
        .parse()
        .with_context(|| format!("bad --bind/--port: {}:{}", a.bind, a.port))?;
    let (marker, poisoned) = crate::crash_marker::open(&dir)?;
    let config = Config {
        region: a.region.clone(),
        account: a.account.clone(),
        time_scale: a.time_scale,
        mocks,
        step_marker: Some(marker),
        poisoned: poisoned
            .into_iter()
            .map(|arn| (arn, crate::crash_marker::cause()))
            .collect(),
        integrations: None,
        webhooks,
        retention,
    };
    // One core stays for the SQLite writer thread: on small machines fewer request
    // threads means fewer cross-thread wake-ups per request (measured on 2 cores).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.saturating_sub(1).max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        let t = std::time::Instant::now();
        let store = SqliteStore::open_with(&db, durability)
            .with_context(|| format!("opening {}", db.display()))?;
        // Bound before the engine opens: functions learn the API's address (recovery
        // may call them at once).
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let api = match listener.local_addr() {
            Ok(a) => format!("http://{}:{}", if a.ip().is_unspecified() { "127.0.0.1".to_string() } else { a.ip().to_string() }, a.port()),
            Err(_) => format!("http://{addr}"),
        };
        let integrations = crate::task_config::integrations(task_config, &a.region, &a.account, &api);
        let config = Config {
            integrations: integrations.clone(),
            ..config
        };
        let engine = Engine::open(Arc::new(store), config).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Recovery read every RUNNING execution with its snapshot at once; give the
        // freed pages back to the OS rather than keep them as the process's high-water mark.
        // SAFETY: mi_collect only walks and frees mimalloc's own free pages.
        unsafe { libmimalloc_sys::mi_collect(true) };
        tracing::info!(%addr, db = %db.display(), durability = ?a.durability, ready_in_ms = t.elapsed().as_millis() as u64, "stepwise serving the AWS Step Functions API");
        // AWS's clients call StartSyncExecution and TestState at `sync-` + the endpoint's host.
        tracing::info!(
            "clients: --endpoint-url http://localhost:{port}; for StartSyncExecution and TestState set AWS_DISABLE_HOST_PREFIX_INJECTION=true, or use http://stepwise.localhost:{port} where *.localhost resolves (README: \"The sync- host prefix\")",
            port = addr.port()
        );
        let on_signal = {
            let engine = engine.clone();
            async move {
                shutdown_signal().await;
                tracing::info!("signal received: finishing open requests");
                engine.release_pollers();
            }
        };
        let console = if a.no_console {
            None
        } else {
            tracing::info!(sign_in = sigv4.is_some(), "console at http://{addr}/console/");
            // With keys, the console asks for one of them (and its secret) once.
            Some(match &sigv4 {
                Some(creds) => stepwise_console::router_with_sign_in(engine.clone(), creds.clone()),
                None => stepwise_console::router(engine.clone()),
            })
        };
        let app = match sigv4 {
            Some(creds) => {
                tracing::info!(keys = creds.len(), "requests must carry an AWS Signature Version 4");
                stepwise_api::router_with_sigv4(engine.clone(), creds)
            }
            None => stepwise_api::router(engine.clone()),
        };
        let app = match console {
            Some(console) => app.merge(console),
            None => app,
        };
        stepwise_api::serve(listener, app, on_signal).await;
        tracing::info!("shutting down: committing what is in flight");
        engine.shutdown();
        if let Some(i) = &integrations {
            i.shutdown().await;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    drop(data);
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
