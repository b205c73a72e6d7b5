//! `stepwise bench`: the in-process benchmark, side by side with aws-local-stepfunctions.
//!
//! Each workload (`NAME.json`, `NAME.input.json`, `NAME.expected.json`) runs in a child
//! process of this binary (`stepwise bench --one NAME`), so that its peak memory
//! (VmHWM) is its own; the child checks the output against the expected one, loops
//! for a fixed wall time and prints one JSON line. The peer, aws-local-stepfunctions on
//! Node.js, is installed on demand into a cache folder and runs the same loop through
//! `bench-peer/aws-local-stepfunctions.mjs`, printing the same figures. Workloads
//! without an expected output (`waitday`, `callback`) need a server and are listed as
//! such; `--server` benchmarks the server instead (`bench_server`). No figure here is
//! asserted anywhere: benchmarks measure, tests check.

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use stepwise_interp::run::{run_to_end, NoTasks, VirtualClock};
use stepwise_interp::{ExecutionInfo, Status};

/// The peer runner and its package.json, built in so the bench works from any folder.
const PEER_SCRIPT: &str = include_str!("../bench-peer/aws-local-stepfunctions.mjs");
const PEER_PACKAGE: &str = include_str!("../bench-peer/package.json");
const PEER_SCRIPT_NAME: &str = "aws-local-stepfunctions.mjs";
const PEER_NAME: &str = "aws-local-stepfunctions";

/// The README's order: latency first, then growing executions.
const KNOWN_ORDER: [&str; 7] = [
    "hello3",
    "chain100",
    "parallel10",
    "choiceloop",
    "map1000",
    "waitday",
    "callback",
];

#[derive(Args)]
pub struct BenchArgs {
    /// Folder of workloads (NAME.json, NAME.input.json, NAME.expected.json).
    #[arg(long, default_value = "../shared/bench")]
    workloads: PathBuf,
    /// Wall time of the timed loop, per workload and engine (with --server: per
    /// measurement), in seconds. Default 2 (with --server: 3).
    #[arg(long)]
    seconds: Option<f64>,
    /// Run only this workload (repeatable).
    #[arg(long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Do not run the peer (aws-local-stepfunctions; with --server: moto).
    #[arg(long, visible_alias = "no-peers")]
    no_peer: bool,
    /// Benchmark `stepwise serve` over the AWS API instead, side by side with moto's server.
    #[arg(long, group = "through_serve")]
    server: bool,
    /// Benchmark Task states that call real things through `stepwise serve --config`
    /// instead: Lambda `bootstrap` and `command` functions and `http:invoke`.
    #[arg(long, group = "through_serve")]
    tasks: bool,
    /// Time the console's pages (executions list, Stuck, a 10,000-event execution, a
    /// live update) on `stepwise serve` holding --console-executions executions.
    #[arg(long, group = "through_serve")]
    console: bool,
    /// With --console: executions in the store.
    #[arg(long, default_value_t = 100_000, requires = "console")]
    console_executions: u64,
    /// With --server or --tasks: concurrent clients for the many-client measurements.
    #[arg(long, default_value_t = 16, requires = "through_serve")]
    clients: usize,
    /// With --server: how many `waitday` executions to park for the RSS and restart figures.
    #[arg(long, default_value_t = 100_000, requires = "server")]
    parked: u64,
    /// With --server: skip the parked executions (RSS and restart time).
    #[arg(long, requires = "server")]
    skip_parked: bool,
    /// Where aws-local-stepfunctions is installed on demand (npm --prefix).
    #[arg(long, value_name = "DIR", default_value = "target/bench-peers")]
    peer_dir: PathBuf,
    /// Internal: run one workload in this process and print one JSON line.
    #[arg(long, hide = true, value_name = "NAME")]
    one: Option<String>,
}

pub fn main(a: BenchArgs) -> anyhow::Result<ExitCode> {
    let seconds = a.seconds.unwrap_or(if a.server { 3.0 } else { 2.0 });
    if !(seconds.is_finite() && seconds > 0.0) {
        bail!("--seconds must be a positive number, not {seconds}");
    }
    if a.console {
        if a.clients == 0 {
            bail!("--clients must be at least 1");
        }
        return crate::bench_console::main(crate::bench_console::Options {
            executions: a.console_executions,
            clients: a.clients,
            json: a.json,
        });
    }
    if a.tasks {
        if a.clients == 0 {
            bail!("--clients must be at least 1");
        }
        return crate::bench_tasks::main(crate::bench_tasks::Options {
            seconds,
            clients: a.clients,
            json: a.json,
        });
    }
    if a.server {
        if a.clients == 0 {
            bail!("--clients must be at least 1");
        }
        return crate::bench_server::main(crate::bench_server::Options {
            workloads: a.workloads,
            seconds,
            clients: a.clients,
            no_peer: a.no_peer,
            skip_parked: a.skip_parked,
            parked: a.parked,
            peer_dir: a.peer_dir,
            json: a.json,
        });
    }
    if let Some(name) = &a.one {
        let figures = measure_one(&a.workloads, name, seconds)?;
        println!("{}", figures.to_json());
        return Ok(ExitCode::SUCCESS);
    }
    let names = discover(&a.workloads)?;
    let names: Vec<String> = if a.only.is_empty() {
        names
    } else {
        for o in &a.only {
            if !names.contains(o) {
                bail!(
                    "no workload {o} in {} (have: {})",
                    a.workloads.display(),
                    names.join(", ")
                );
            }
        }
        names.into_iter().filter(|n| a.only.contains(n)).collect()
    };
    let peer = if a.no_peer {
        Err("--no-peer".to_string())
    } else {
        prepare_peer(&a.peer_dir)
    };
    if let Err(reason) = &peer {
        eprintln!("peer unavailable: {reason}");
    }
    let exe = std::env::current_exe()
        .context("finding this program to run workloads in child processes")?;
    let timeout = Duration::from_secs_f64(seconds * 10.0 + 120.0);
    let mut rows = Vec::new();
    let mut failed = false;
    for name in &names {
        if !a.workloads.join(format!("{name}.expected.json")).exists() {
            rows.push(Row {
                workload: name.clone(),
                stepwise: Cell::Skipped("n/a (server)".into()),
                peer: Cell::Skipped(String::new()),
            });
            continue;
        }
        eprintln!("bench {name}: stepwise…");
        let mut cmd = Command::new(&exe);
        cmd.arg("bench")
            .arg("--one")
            .arg(name)
            .arg("--workloads")
            .arg(&a.workloads)
            .arg("--seconds")
            .arg(seconds.to_string());
        let stepwise = match run_child(cmd, timeout) {
            Ok(line) => Cell::Ran(Figures::from_json(&line)?),
            Err(e) => {
                failed = true;
                // The child's own error line starts with the program name.
                let e = e.strip_prefix("stepwise: ").unwrap_or(&e).to_string();
                eprintln!("bench {name}: stepwise FAILED: {e}");
                Cell::Failed(first_line(&e))
            }
        };
        let peer_cell = match (&peer, &stepwise) {
            (Err(_), _) => Cell::Skipped(String::new()),
            (Ok(_), Cell::Failed(_) | Cell::Skipped(_)) => Cell::Skipped("not run".into()),
            (Ok(p), Cell::Ran(s)) => {
                eprintln!("bench {name}: {PEER_NAME}…");
                let mut cmd = Command::new("node");
                cmd.arg(p.dir.join(PEER_SCRIPT_NAME))
                    .arg(p.workloads_abs(&a.workloads))
                    .arg(name)
                    .arg(seconds.to_string())
                    .arg(s.transitions_per_exec.to_string());
                match run_child(cmd, timeout).and_then(|v| peer_line(&v)) {
                    Ok(f) => Cell::Ran(f),
                    Err(e) => {
                        eprintln!("bench {name}: {PEER_NAME} FAILED: {e}");
                        Cell::Failed(first_line(&e))
                    }
                }
            }
        };
        rows.push(Row {
            workload: name.clone(),
            stepwise,
            peer: peer_cell,
        });
    }

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "stepwise bench: {} s per workload and engine, {cores} cores; Stepwise {} in-process (virtual clock, history not kept); peer: {}",
        seconds,
        env!("CARGO_PKG_VERSION"),
        match &peer {
            Ok(p) => format!("{PEER_NAME} {} on Node.js {} (default options)", p.version, p.node),
            Err(reason) => format!("unavailable: {reason}"),
        }
    );
    print!("{}", format_table(&rows));
    if let Err(reason) = &peer {
        println!("peer unavailable: {reason}");
    }
    for r in &rows {
        if let Cell::Failed(e) = &r.peer {
            println!("peer failed on {}: {e}", r.workload);
        }
        if let Cell::Failed(e) = &r.stepwise {
            println!("STEPWISE FAILED on {}: {e}", r.workload);
        }
    }
    if let Some(path) = &a.json {
        let doc = report_json(seconds, cores, &peer, &rows);
        let text = serde_json::to_string_pretty(&doc).context("encoding the report")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What one engine measured on one workload.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    executions: u64,
    transitions_per_exec: u64,
    seconds: f64,
    transitions_per_sec: f64,
    us_p50: f64,
    us_p99: f64,
    peak_rss_kib: Option<u64>,
}

impl Figures {
    fn to_json(&self) -> Value {
        json!({
            "executions": self.executions,
            "transitions_per_exec": self.transitions_per_exec,
            "seconds": self.seconds,
            "transitions_per_sec": self.transitions_per_sec,
            "us_p50": self.us_p50,
            "us_p99": self.us_p99,
            "peak_rss_kib": self.peak_rss_kib,
        })
    }

    fn from_json(v: &Value) -> anyhow::Result<Figures> {
        let num = |k: &str| {
            v.get(k)
                .and_then(Value::as_f64)
                .with_context(|| format!("no number {k:?} in {v}"))
        };
        Ok(Figures {
            executions: num("executions")? as u64,
            transitions_per_exec: num("transitions_per_exec")? as u64,
            seconds: num("seconds")?,
            transitions_per_sec: num("transitions_per_sec")?,
            us_p50: num("us_p50")?,
            us_p99: num("us_p99")?,
            peak_rss_kib: v
                .get("peak_rss_kib")
                .and_then(Value::as_f64)
                .map(|k| k as u64),
        })
    }
}

/// One table cell group: figures, a failure, or a reason it did not run.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Ran(Figures),
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    workload: String,
    stepwise: Cell,
    peer: Cell,
}

// ---- the child: one workload in this process -------------------------------------

/// Load, check the output, warm up, then run the timed loop.
fn measure_one(dir: &Path, name: &str, seconds: f64) -> anyhow::Result<Figures> {
    let read = |suffix: &str| -> anyhow::Result<String> {
        let p = dir.join(format!("{name}{suffix}"));
        std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
    };
    let text = read(".json")?;
    let input: Value = serde_json::from_str(&read(".input.json")?)
        .with_context(|| format!("{name}.input.json"))?;
    let expected: Value = serde_json::from_str(&read(".expected.json")?)
        .with_context(|| format!("{name}.expected.json"))?;
    let machine = crate::engine::load_machine(&text).map_err(|d| {
        anyhow::anyhow!(
            "{name}.json: {}",
            crate::engine::invalid_definition_message(&d)
        )
    })?;
    let info = std::sync::Arc::new(ExecutionInfo::local("Bench", "exec-1"));
    let mut clock = VirtualClock::new(1_735_689_600_000, 1);
    let mut run = || {
        run_to_end(
            machine.clone(),
            std::sync::Arc::clone(&info),
            input.clone(),
            &mut clock,
            &mut NoTasks,
            &mut (),
            false,
        )
    };

    let first = run();
    check_output(
        name,
        "first",
        first.status,
        first.output.as_ref(),
        &expected,
        first.error.as_deref(),
        first.cause.as_deref(),
    )?;
    let per_exec = first.transitions;
    drop(first);

    let warmup_end = Instant::now() + Duration::from_secs_f64((seconds / 10.0).min(0.2));
    while Instant::now() < warmup_end {
        run();
    }

    let mut hist = Histogram::new();
    let mut transitions: u64 = 0;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let last = loop {
        let t0 = Instant::now();
        let fin = run();
        let t1 = Instant::now();
        hist.record(u64::try_from((t1 - t0).as_nanos()).unwrap_or(u64::MAX));
        transitions += fin.transitions;
        // Cheap checks on every execution; the full comparison on the last one.
        if fin.status != Status::Succeeded || fin.transitions != per_exec {
            check_output(
                name,
                "a timed",
                fin.status,
                fin.output.as_ref(),
                &expected,
                fin.error.as_deref(),
                fin.cause.as_deref(),
            )?;
            bail!(
                "{name}: {} transitions in one execution, {per_exec} in the first",
                fin.transitions
            );
        }
        if t1 >= deadline {
            break fin;
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    check_output(
        name,
        "the last",
        last.status,
        last.output.as_ref(),
        &expected,
        last.error.as_deref(),
        last.cause.as_deref(),
    )?;
    let peak_rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| parse_vm_hwm_kib(&s));
    Ok(Figures {
        executions: hist.count(),
        transitions_per_exec: per_exec,
        seconds: elapsed,
        transitions_per_sec: transitions as f64 / elapsed,
        us_p50: hist.percentile(0.5) / 1000.0,
        us_p99: hist.percentile(0.99) / 1000.0,
        peak_rss_kib,
    })
}

/// A benchmark of a wrong result is worthless: any difference is an error.
fn check_output(
    name: &str,
    which: &str,
    status: Status,
    output: Option<&Value>,
    expected: &Value,
    error: Option<&str>,
    cause: Option<&str>,
) -> anyhow::Result<()> {
    if status != Status::Succeeded {
        bail!(
            "{name}: {which} execution ended {status:?} (error {:?}, cause {:?}), expected success",
            error.unwrap_or(""),
            cause.unwrap_or("")
        );
    }
    if output != Some(expected) {
        let got = output
            .map(|v| v.to_string())
            .unwrap_or_else(|| "no output".into());
        bail!(
            "{name}: {which} execution's output differs from {name}.expected.json: got {}",
            clip(&got, 300)
        );
    }
    Ok(())
}

pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `VmHWM` (peak resident set) in KiB from the text of `/proc/self/status`.
fn parse_vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut parts = line["VmHWM:".len()..].split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(n),
        Some(_) => None,
    }
}

// ---- latency histogram ------------------------------------------------------------

/// Sub-buckets per power of two: < 1.6% error, constant memory whatever the number
/// of executions (a growing sample list would show up in the peak RSS being measured).
/// The peer script uses the same scheme.
const SUB: u64 = 64;

/// A log-linear histogram of nanoseconds: exact below 128, then 64 buckets per octave.
pub(crate) struct Histogram {
    counts: Vec<u64>,
    n: u64,
}

impl Histogram {
    pub(crate) fn new() -> Histogram {
        Histogram {
            counts: vec![0; (64 * SUB + 2 * SUB) as usize],
            n: 0,
        }
    }

    fn bucket(ns: u64) -> usize {
        if ns < 2 * SUB {
            return ns as usize;
        }
        let e = 63 - u64::from(ns.leading_zeros()); // ≥ 7
        let shift = e - 6;
        (shift * SUB + (ns >> shift)) as usize
    }

    /// The middle of a bucket, in nanoseconds.
    fn value(index: usize) -> f64 {
        let index = index as u64;
        if index < 2 * SUB {
            return index as f64;
        }
        let shift = index / SUB - 1;
        let top = index - shift * SUB;
        let width = (1u64 << shift) as f64;
        (top << shift) as f64 + (width - 1.0) / 2.0
    }

    pub(crate) fn record(&mut self, ns: u64) {
        let i = Histogram::bucket(ns);
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
            self.n += 1;
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.n
    }

    /// Add another histogram's counts (one per client thread).
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.n += other.n;
    }

    /// The value at quantile `p` (0..=1), nearest-rank; 0 when empty.
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        percentile_of_counts(&self.counts, self.n, p)
            .map(Histogram::value)
            .unwrap_or(0.0)
    }
}

/// The bucket holding the nearest-rank `p` quantile of `n` recorded values.
fn percentile_of_counts(counts: &[u64], n: u64, p: f64) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let rank = ((p.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(i);
        }
    }
    None
}

// ---- the peer ---------------------------------------------------------------------

struct Peer {
    dir: PathBuf,
    version: String,
    node: String,
}

impl Peer {
    /// Node runs with the cache folder's path; give it an absolute workloads folder.
    fn workloads_abs(&self, dir: &Path) -> PathBuf {
        std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
    }
}

/// Find Node.js and install aws-local-stepfunctions into `dir` when missing; the reason
/// it cannot be run otherwise.
fn prepare_peer(dir: &Path) -> Result<Peer, String> {
    let node = match Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => {
            return Err(format!(
                "`node --version` failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
        Err(e) => {
            return Err(format!(
                "Node.js not found (`node`: {e}); install Node.js 20+ to compare"
            ))
        }
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let write_if_changed = |name: &str, text: &str| -> Result<bool, String> {
        let p = dir.join(name);
        if std::fs::read_to_string(&p).ok().as_deref() == Some(text) {
            return Ok(false);
        }
        std::fs::write(&p, text).map_err(|e| format!("writing {}: {e}", p.display()))?;
        Ok(true)
    };
    let package_changed = write_if_changed("package.json", PEER_PACKAGE)?;
    write_if_changed(PEER_SCRIPT_NAME, PEER_SCRIPT)?;
    let installed = dir
        .join("node_modules")
        .join(PEER_NAME)
        .join("package.json");
    if package_changed || !installed.exists() {
        eprintln!("installing {PEER_NAME} into {} (npm)…", dir.display());
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("npm not found (`npm`: {e})"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let _ = std::fs::remove_file(dir.join("package.json")); // retry the install next time
            return Err(format!(
                "npm install failed: {}",
                clip(last_lines(&err, 3).trim(), 400)
            ));
        }
    }
    let pkg: Value = std::fs::read_to_string(&installed)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| format!("{PEER_NAME} is not installed in {}", dir.display()))?;
    let version = pkg
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    if !version.starts_with("3.") {
        return Err(format!(
            "{PEER_NAME} {version} installed in {}, the bench wants 3.x",
            dir.display()
        ));
    }
    Ok(Peer {
        dir: dir.to_path_buf(),
        version,
        node,
    })
}

/// The peer's JSON line: its figures, or the error it reported.
fn peer_line(v: &Value) -> Result<Figures, String> {
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return Err(e.to_string());
    }
    Figures::from_json(v).map_err(|e| e.to_string())
}

/// Run a child to its end (killed after `timeout`) and parse the last line it prints
/// on stdout as JSON. On failure: what it said.
fn run_child(mut cmd: Command, timeout: Duration) -> Result<Value, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {:?}: {e}", cmd.get_program()))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for the child: {e}")),
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let last = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let parsed: Option<Value> = serde_json::from_str(last).ok();
    match status {
        None => Err(format!("timed out after {} s", timeout.as_secs())),
        Some(s) if s.success() => {
            parsed.ok_or_else(|| format!("no JSON line on stdout: {}", clip(last, 300)))
        }
        Some(s) => {
            // The peer reports its own errors as {"error": …}; keep that text.
            if let Some(Value::String(e)) = parsed.as_ref().and_then(|v| v.get("error")) {
                return Err(e.clone());
            }
            let said = last_lines(&err, 6);
            let said = said.trim();
            Err(if said.is_empty() {
                format!("exited with {s}")
            } else {
                said.to_string()
            })
        }
    }
}

pub(crate) fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn first_line(s: &str) -> String {
    clip(s.lines().find(|l| !l.trim().is_empty()).unwrap_or(""), 120)
}

// ---- workloads, table, report -----------------------------------------------------

/// Workload names in `dir`: every `NAME.json` that is not an input or expected file.
fn discover(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "reading the workloads folder {} (give another with --workloads DIR)",
            dir.display()
        )
    })?;
    let mut names = Vec::new();
    for e in entries {
        let file = e
            .with_context(|| format!("listing {}", dir.display()))?
            .file_name();
        let file = file.to_string_lossy();
        if let Some(stem) = file.strip_suffix(".json") {
            if !stem.ends_with(".input") && !stem.ends_with(".expected") {
                names.push(stem.to_string());
            }
        }
    }
    if names.is_empty() {
        bail!("no workloads (NAME.json) in {}", dir.display());
    }
    sort_workloads(&mut names);
    Ok(names)
}

fn sort_workloads(names: &mut [String]) {
    let rank = |n: &str| {
        KNOWN_ORDER
            .iter()
            .position(|k| *k == n)
            .unwrap_or(KNOWN_ORDER.len())
    };
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
}

/// `1234567.8` → `1,234,568`.
pub(crate) fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Microseconds with the precision that matters at that size.
fn micros(us: f64) -> String {
    if us < 10.0 {
        format!("{us:.2}")
    } else if us < 1000.0 {
        format!("{us:.1}")
    } else {
        thousands(us)
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1}", k as f64 / 1024.0))
        .unwrap_or_else(|| "?".into())
}

fn ratio(row: &Row) -> Option<f64> {
    match (&row.stepwise, &row.peer) {
        (Cell::Ran(s), Cell::Ran(p)) if p.transitions_per_sec > 0.0 => {
            Some(s.transitions_per_sec / p.transitions_per_sec)
        }
        _ => None,
    }
}

/// The table as Markdown: numbers right-aligned, one row per workload.
fn format_table(rows: &[Row]) -> String {
    let header = [
        "workload",
        "Stepwise transitions/s",
        "peer transitions/s",
        "ratio",
        "Stepwise µs/exec p50 / p99",
        "peer µs/exec p50 / p99",
        "Stepwise peak RSS MiB",
        "peer peak RSS MiB",
    ];
    // Columns of one engine: tps, latency, memory; a failure fills the first.
    fn cells(c: &Cell) -> [String; 3] {
        match c {
            Cell::Ran(f) => [
                thousands(f.transitions_per_sec),
                format!("{} / {}", micros(f.us_p50), micros(f.us_p99)),
                mib(f.peak_rss_kib),
            ],
            Cell::Failed(_) => ["FAILED".into(), String::new(), String::new()],
            Cell::Skipped(why) => [why.clone(), String::new(), String::new()],
        }
    }
    let mut table: Vec<[String; 8]> = vec![header.map(String::from)];
    for r in rows {
        let [s_tps, s_us, s_mem] = cells(&r.stepwise);
        let [p_tps, p_us, p_mem] = cells(&r.peer);
        let ratio = ratio(r).map(|x| format!("{x:.1}×")).unwrap_or_default();
        table.push([
            r.workload.clone(),
            s_tps,
            p_tps,
            ratio,
            s_us,
            p_us,
            s_mem,
            p_mem,
        ]);
    }
    let width = |i: usize| {
        table
            .iter()
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..8).map(width).collect();
    let pad = |s: &str, w: usize, right: bool| {
        let fill = " ".repeat(w.saturating_sub(s.chars().count()));
        if right {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    let mut out = String::new();
    for (n, r) in table.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| pad(s, widths[i], n > 0 && i > 0))
            .collect();
        out.push_str(&format!("| {} |\n", line.join(" | ")));
        if n == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 {
                        "-".repeat(*w)
                    } else {
                        format!("{}:", "-".repeat(w - 1))
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", rule.join(" | ")));
        }
    }
    out
}

fn report_json(seconds: f64, cores: usize, peer: &Result<Peer, String>, rows: &[Row]) -> Value {
    let cell = |c: &Cell| match c {
        Cell::Ran(f) => f.to_json(),
        Cell::Failed(e) => json!({ "error": e }),
        Cell::Skipped(why) => json!({ "skipped": why }),
    };
    json!({
        "seconds_per_workload": seconds,
        "cores": cores,
        "stepwise": { "version": env!("CARGO_PKG_VERSION") },
        "peer": match peer {
            Ok(p) => json!({ "engine": PEER_NAME, "version": p.version, "node": p.node }),
            Err(reason) => json!({ "engine": PEER_NAME, "unavailable": reason }),
        },
        "workloads": rows.iter().map(|r| json!({
            "name": r.workload,
            "stepwise": cell(&r.stepwise),
            "peer": cell(&r.peer),
            "ratio": ratio(r),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
#[path = "tests/bench.rs"]
mod tests;
