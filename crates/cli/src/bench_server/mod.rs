//! `stepwise bench --server`: `stepwise serve` over the AWS API, side by side with moto.
//!
//! Starts this binary's `serve` as a child process (free loopback port, temporary data
//! dir) and moto's server (PyPI `moto[server]`, installed on demand into a venv under the
//! peer folder, with its `stepfunctions.execute_state_machine` setting turned on through
//! `POST /moto-api/config`), and drives each in turn with the same load client: threads,
//! one keep-alive connection each (`bench_http`: a request is one `write`), AWS's JSON
//! 1.0 protocol. Every execution that the
//! client waits for is checked against `NAME.expected.json` (or, for `callback`, against
//! its input plus the answer sent): a benchmark of a wrong result is worthless. The
//! parked-executions figures (RSS, restart after `kill -9`) are Stepwise's only. Per
//! measurement, Stepwise's own `GET /metrics` counters and both processes' CPU time are
//! printed below the table, to show where the time goes. No figure is asserted anywhere.
//!
//! Here: the options and the run of every measurement in turn. Beside it: `workloads.rs`,
//! `api.rs` (the AWS JSON client), `servers.rs` (`stepwise serve` as a child process),
//! `moto.rs` (the peer), `driver.rs` (the load driver), `measure.rs` (the measurements)
//! and `table.rs` (the table and the diagnostics).

mod api;
mod driver;
mod measure;
mod moto;
mod servers;
mod table;
mod workloads;

use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub(crate) use api::Api;
pub(crate) use driver::{drive, Until};
pub(crate) use servers::{free_port, Server};
pub(crate) use table::render;

use measure::{measure_all, measure_parked, Diag, Results, Skip};
use moto::Moto;
use table::{format_diags, format_table, rows, Cell, Row};
use workloads::Workloads;

/// What `stepwise bench --server` was asked to do.
pub(crate) struct Options {
    pub workloads: PathBuf,
    pub seconds: f64,
    pub clients: usize,
    pub no_peer: bool,
    pub skip_parked: bool,
    pub parked: u64,
    pub peer_dir: PathBuf,
    pub json: Option<PathBuf>,
}

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// The callback workload's queue; moto's SQS integration needs it to exist.
const CALLBACK_QUEUE: &str = "approvals";
/// Longest wait for one execution to finish before the measurement is called failed.
const EXECUTION_TIMEOUT: Duration = Duration::from_secs(180);
/// Linux's USER_HZ: the unit of utime/stime in /proc/PID/stat.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

pub(crate) fn main(o: Options) -> anyhow::Result<ExitCode> {
    let wl = Workloads::load(&o.workloads)?;
    let exe = std::env::current_exe().context("finding this program to start `serve`")?;
    let scratch =
        std::env::temp_dir().join(format!("stepwise-bench-server-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let _cleanup = RemoveOnDrop(scratch.clone());

    let mut stepwise = Results::default();
    let mut diags = Vec::new();
    {
        eprintln!("bench --server: Stepwise (time scale 0)…");
        let (srv, _) = Server::spawn_stepwise(&exe, free_port()?, &scratch.join("main"), 0.0, &[])?;
        let (cb_srv, _) =
            Server::spawn_stepwise(&exe, free_port()?, &scratch.join("callback"), 1.0, &[])?;
        measure_all(
            &srv,
            &cb_srv,
            "Stepwise",
            &wl,
            &o,
            &mut stepwise,
            Some(&mut diags),
        );
        stepwise.rss_after_runs = srv.rss_kib();
    }
    // The same measurements with `--durability process` (commits not synced to disk).
    let mut process = Results::default();
    {
        eprintln!("bench --server: Stepwise --durability process (time scale 0)…");
        let faster = ["--durability", "process"];
        let (srv, _) =
            Server::spawn_stepwise(&exe, free_port()?, &scratch.join("process"), 0.0, &faster)?;
        let (cb_srv, _) = Server::spawn_stepwise(
            &exe,
            free_port()?,
            &scratch.join("process-callback"),
            1.0,
            &faster,
        )?;
        let mut unused = Vec::new();
        measure_all(
            &srv,
            &cb_srv,
            "Stepwise (process)",
            &wl,
            &o,
            &mut process,
            Some(&mut unused),
        );
        process.rss_after_runs = srv.rss_kib();
    }
    if o.skip_parked {
        stepwise.parked = Err(Skip("skipped (--skip-parked)".into()));
    } else {
        eprintln!(
            "bench --server: Stepwise, {} parked waitday executions…",
            o.parked
        );
        stepwise.parked =
            measure_parked(&exe, &scratch.join("parked"), &wl, &o).map_err(Skip::failed);
    }

    let mut moto = Results::default();
    let moto_version = if o.no_peer {
        Err("--no-peer".to_string())
    } else {
        match Moto::prepare(&o.peer_dir) {
            Ok(venv) => {
                eprintln!("bench --server: moto {}…", venv.version);
                match Server::spawn_moto(&venv, free_port()?, &scratch.join("moto.log")) {
                    Ok(srv) => {
                        measure_all(&srv, &srv, "moto", &wl, &o, &mut moto, None);
                        moto.rss_after_runs = srv.rss_kib();
                        Ok(venv.version)
                    }
                    Err(e) => Err(format!("moto did not start: {e:#}")),
                }
            }
            Err(e) => Err(e),
        }
    };
    if let Err(reason) = &moto_version {
        eprintln!("peer unavailable: {reason}");
    }
    moto.parked = Err(Skip("n/a (Stepwise only)".into()));

    let rows = rows(&o, &stepwise, &process, &moto, moto_version.is_ok());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "stepwise bench --server: {} s per measurement, {} clients, {cores} cores; Stepwise {} (`serve`, SQLite, --time-scale 0; fsync: every group commit synced to disk, the default; process: --durability process); peer: {}",
        o.seconds,
        o.clients,
        env!("CARGO_PKG_VERSION"),
        match &moto_version {
            Ok(v) => format!("moto {v} server (execute_state_machine on)"),
            Err(reason) => format!("unavailable: {reason}"),
        }
    );
    print!("{}", format_table(&rows));
    println!(
        "ratio: times better than moto (throughput Stepwise ÷ moto, latency moto ÷ Stepwise)."
    );
    for r in &rows {
        for (who, c) in [("Stepwise", &r.stepwise), ("moto", &r.moto)] {
            if let Cell::Failed(e) = c {
                println!("{who} failed on {} {}: {e}", r.workload, r.metric);
            }
        }
    }
    if !diags.is_empty() {
        println!();
        println!("Stepwise server during each measurement (GET /metrics deltas, /proc CPU time):");
        print!("{}", format_diags(&diags));
    }
    if let Some(path) = &o.json {
        let doc = json!({
            "seconds_per_measurement": o.seconds,
            "clients": o.clients,
            "cores": cores,
            "stepwise": { "version": env!("CARGO_PKG_VERSION") },
            "peer": match &moto_version {
                Ok(v) => json!({ "engine": "moto", "version": v }),
                Err(reason) => json!({ "engine": "moto", "unavailable": reason }),
            },
            "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "stepwise_server": diags.iter().map(Diag::to_json).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&doc).context("encoding the report")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    let failed = rows.iter().any(|r| matches!(r.stepwise, Cell::Failed(_)));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
