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

use crate::bench::{clip, last_lines, thousands, Histogram};
use crate::bench_http::{text, Conn};
use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stepwise_interp::run::{run_to_end, NoTasks, VirtualClock};
use stepwise_interp::{ExecutionInfo, Status};

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

// ---- workloads --------------------------------------------------------------------

/// One workload: its definition, input, expected output and states entered per run.
struct Workload {
    definition: String,
    input: Value,
    expected: Option<Value>,
    transitions: u64,
}

struct Workloads {
    hello3: Workload,
    chain100: Workload,
    map1000: Workload,
    callback: Workload,
    waitday: Workload,
}

impl Workloads {
    fn load(dir: &Path) -> anyhow::Result<Workloads> {
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

// ---- the AWS JSON client ----------------------------------------------------------

/// One keep-alive connection's worth of AWS JSON 1.0 client.
pub(crate) struct Api {
    url: String,
    /// For the odd GET and moto's configuration call.
    agent: ureq::Agent,
    /// The timed calls.
    pub(crate) conn: std::cell::RefCell<Conn>,
}

/// Unique execution names across threads and measurements (moto needs a name).
static NAME_SEQ: AtomicU64 = AtomicU64::new(0);

fn next_name(tag: &str) -> String {
    format!("{tag}-{}", NAME_SEQ.fetch_add(1, Ordering::Relaxed))
}

impl Api {
    pub(crate) fn new(url: &str) -> Api {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .max_idle_connections_per_host(4)
            .build();
        Api {
            url: url.to_string(),
            agent,
            conn: std::cell::RefCell::new(Conn::new(url)),
        }
    }

    /// One Step Functions call; an AWS error becomes `Code: message`.
    pub(crate) fn call(&self, action: &str, body: &Value) -> anyhow::Result<Value> {
        self.call_service("states", &format!("AWSStepFunctions.{action}"), body)
    }

    /// Any JSON 1.0 service; the (unsigned) credential scope tells moto which service.
    fn call_service(&self, scope: &str, target: &str, body: &Value) -> anyhow::Result<Value> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=bench/20250101/{REGION}/{scope}/aws4_request, SignedHeaders=host;x-amz-target, Signature=0"
        );
        let body = body.to_string();
        let mut conn = self.conn.borrow_mut();
        let a = conn
            .post(
                &[
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("X-Amz-Target", target),
                    ("Authorization", &auth),
                ],
                body.as_bytes(),
            )
            .with_context(|| target.to_string())?;
        if a.status == 200 {
            return serde_json::from_slice(a.body).with_context(|| {
                format!(
                    "{target}: the answer is not JSON: {}",
                    clip(&text(a.body), 200)
                )
            });
        }
        let v: Value = serde_json::from_slice(a.body).unwrap_or(Value::Null);
        let ty = v["__type"].as_str().unwrap_or("");
        let code = ty.rsplit('#').next().unwrap_or("");
        let msg = v["message"]
            .as_str()
            .or(v["Message"].as_str())
            .unwrap_or("");
        if code.is_empty() {
            bail!("{target}: HTTP {}: {}", a.status, clip(&text(a.body), 200))
        }
        bail!("{target}: {code}: {msg}")
    }

    fn get(&self, path: &str) -> anyhow::Result<String> {
        let r = self.agent.get(&format!("{}{path}", self.url)).call();
        match r {
            Ok(resp) => Ok(resp.into_string()?),
            Err(e) => bail!("GET {path}: {e}"),
        }
    }

    pub(crate) fn create_machine(&self, name: &str, definition: &str) -> anyhow::Result<String> {
        let v = self.call(
            "CreateStateMachine",
            &json!({"name": name, "definition": definition,
                    "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/stepwise-bench")}),
        )?;
        v["stateMachineArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("CreateStateMachine {name}: no stateMachineArn in {v}"))
    }

    pub(crate) fn start(&self, machine: &str, input: &str, tag: &str) -> anyhow::Result<String> {
        let v = self.call(
            "StartExecution",
            &json!({"stateMachineArn": machine, "name": next_name(tag), "input": input}),
        )?;
        v["executionArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("StartExecution: no executionArn in {v}"))
    }

    /// Poll DescribeExecution until it is no longer RUNNING: at once, then backing off
    /// from 100 µs to 10 ms so that polling costs a slow server little.
    pub(crate) fn wait_done(&self, execution: &str) -> anyhow::Result<Value> {
        let body = json!({ "executionArn": execution });
        let start = Instant::now();
        let mut pause = Duration::from_micros(100);
        loop {
            let d = self.call("DescribeExecution", &body)?;
            if d["status"] != "RUNNING" {
                return Ok(d);
            }
            if start.elapsed() > EXECUTION_TIMEOUT {
                bail!(
                    "{execution} still RUNNING after {} s",
                    EXECUTION_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// The task token of a `.waitForTaskToken` task, from the TaskScheduled event's
    /// parameters (the workload puts it in `MessageBody.token`).
    pub(crate) fn wait_token(&self, execution: &str) -> anyhow::Result<String> {
        let body = json!({ "executionArn": execution, "maxResults": 100 });
        let start = Instant::now();
        let mut pause = Duration::from_micros(100);
        loop {
            let h = self.call("GetExecutionHistory", &body)?;
            let events = h["events"].as_array().cloned().unwrap_or_default();
            for e in &events {
                if e["type"] == "TaskScheduled" {
                    let params = e["taskScheduledEventDetails"]["parameters"]
                        .as_str()
                        .unwrap_or("null");
                    let p: Value = serde_json::from_str(params).with_context(|| {
                        format!(
                            "TaskScheduled parameters are not JSON: {}",
                            clip(params, 200)
                        )
                    })?;
                    return p["MessageBody"]["token"]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| {
                            anyhow!("no MessageBody.token in the TaskScheduled parameters {p}")
                        });
                }
                if matches!(
                    e["type"].as_str(),
                    Some("ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted")
                ) {
                    bail!("the callback execution ended before its task was scheduled: {e}");
                }
            }
            if start.elapsed() > EXECUTION_TIMEOUT {
                bail!(
                    "{execution}: no TaskScheduled after {} s",
                    EXECUTION_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

/// A finished execution must have SUCCEEDED with exactly `expected`.
fn check_succeeded(d: &Value, expected: &Value) -> anyhow::Result<()> {
    if d["status"] != "SUCCEEDED" {
        bail!(
            "execution ended {} (error {}, cause {}), expected SUCCEEDED",
            d["status"],
            d["error"],
            clip(d["cause"].as_str().unwrap_or(""), 200)
        );
    }
    let text = d["output"].as_str().unwrap_or("null");
    let got: Value = serde_json::from_str(text)
        .with_context(|| format!("output is not JSON: {}", clip(text, 200)))?;
    if !same_json(&got, expected) {
        bail!(
            "output differs from the expected one: got {}",
            clip(text, 300)
        );
    }
    Ok(())
}

/// JSON equality with numbers compared by value (`1` = `1.0`, as Python may print it).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

// ---- the servers ------------------------------------------------------------------

pub(crate) fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// A server child process; SIGKILLed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `stepwise serve` on `port` with `data_dir`; returns it and the time to `/health` OK.
    pub(crate) fn spawn_stepwise(
        exe: &Path,
        port: u16,
        data_dir: &Path,
        time_scale: f64,
        extra: &[&str],
    ) -> anyhow::Result<(Server, Duration)> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let log = data_dir.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let t = Instant::now();
        let child = Command::new(exe)
            .arg("serve")
            .arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--time-scale")
            .arg(time_scale.to_string())
            .args(extra)
            .env("STEPWISE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {} serve", exe.display()))?;
        let mut srv = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        srv.wait_ready(Duration::from_secs(120), |api| {
            api.agent
                .get(&format!("{}/health", api.url))
                .call()
                .map(|r| r.status() == 200)
                .unwrap_or(false)
        })?;
        Ok((srv, t.elapsed()))
    }

    /// `moto_server` from the venv, with state machine execution on and the callback queue made.
    fn spawn_moto(venv: &Moto, port: u16, log: &Path) -> anyhow::Result<Server> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let child = Command::new(venv.dir.join("bin").join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .context("starting moto_server")?;
        let mut srv = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        };
        // moto's switch for running state machines (moto/core/config.py); it is off by default.
        let config = json!({"stepfunctions": {"execute_state_machine": true}}).to_string();
        srv.wait_ready(Duration::from_secs(60), |api| {
            api.agent
                .post(&format!("{}/moto-api/config", api.url))
                .set("Content-Type", "application/json")
                .send_string(&config)
                .is_ok()
        })?;
        Api::new(&srv.url)
            .call_service(
                "sqs",
                "AmazonSQS.CreateQueue",
                &json!({ "QueueName": CALLBACK_QUEUE }),
            )
            .context("creating the callback workload's SQS queue in moto")?;
        Ok(srv)
    }

    fn wait_ready(&mut self, within: Duration, ready: impl Fn(&Api) -> bool) -> anyhow::Result<()> {
        let api = Api::new(&self.url);
        let start = Instant::now();
        loop {
            if ready(&api) {
                return Ok(());
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                bail!(
                    "the server exited early ({st}): {}",
                    last_lines(&self.log_text(), 6)
                );
            }
            if start.elapsed() > within {
                bail!(
                    "the server was not ready after {} s: {}",
                    within.as_secs(),
                    last_lines(&self.log_text(), 6)
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn rss_kib(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status_kib(&s, "VmRSS:")
    }

    fn cpu_secs(&self) -> Option<f64> {
        cpu_secs_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// Stepwise's `/metrics` as name (with labels) → value.
    fn metrics(&self) -> HashMap<String, f64> {
        Api::new(&self.url)
            .get("/metrics")
            .map(|t| parse_metrics(&t))
            .unwrap_or_default()
    }
}

/// A `Name:  N kB` line of /proc/PID/status, in KiB.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    let mut parts = line[key.len()..].split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    matches!(parts.next(), Some("kB") | None).then_some(n)
}

/// utime + stime of a /proc/PID/stat file, in seconds.
fn cpu_secs_of(path: &str) -> Option<f64> {
    let s = std::fs::read_to_string(path).ok()?;
    parse_stat_cpu(&s)
}

fn parse_stat_cpu(stat: &str) -> Option<f64> {
    // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS_PER_SEC)
}

/// Prometheus text → `name{labels}` → value.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// moto in a venv of its own, installed on demand.
struct Moto {
    dir: PathBuf,
    version: String,
}

impl Moto {
    fn prepare(peer_dir: &Path) -> Result<Moto, String> {
        let dir = peer_dir.join("moto-venv");
        let python = dir.join("bin").join("python");
        let version = |python: &Path| -> Option<String> {
            let o = Command::new(python)
                .args(["-c", "import moto, flask; print(moto.__version__)"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()?;
            o.status
                .success()
                .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        if let Some(v) = version(&python) {
            return Ok(Moto { dir, version: v });
        }
        eprintln!(
            "installing moto[server] into {} (python3 -m venv, pip)…",
            dir.display()
        );
        if !python.exists() {
            let o = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&dir)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("python3 not found (`python3`: {e}); install Python 3.9+ to compare with moto"))?;
            if !o.status.success() {
                return Err(format!(
                    "python3 -m venv failed: {}",
                    clip(
                        last_lines(&String::from_utf8_lossy(&o.stderr), 3).trim(),
                        300
                    )
                ));
            }
        }
        let o = Command::new(dir.join("bin").join("pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "moto[server]",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running pip: {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "pip install moto[server] failed: {}",
                clip(
                    last_lines(&String::from_utf8_lossy(&o.stderr), 3).trim(),
                    300
                )
            ));
        }
        version(&python)
            .map(|v| Moto {
                dir: dir.clone(),
                version: v,
            })
            .ok_or_else(|| format!("moto is not importable in {}", dir.display()))
    }
}

// ---- the load driver --------------------------------------------------------------

pub(crate) enum Until {
    /// Start operations until this many seconds have passed (the last ones finish after).
    Seconds(f64),
    /// Exactly this many operations in all.
    Count(u64),
}

pub(crate) struct Run {
    pub(crate) ops: u64,
    wall: f64,
    hist: Histogram,
}

impl Run {
    pub(crate) fn per_sec(&self) -> f64 {
        self.ops as f64 / self.wall.max(1e-9)
    }

    pub(crate) fn ms(&self, p: f64) -> f64 {
        self.hist.percentile(p) / 1e6
    }
}

/// `clients` threads, each with its own connection, run `op` until `until`; the first
/// error stops them all and is the result.
pub(crate) fn drive(
    url: &str,
    clients: usize,
    until: Until,
    op: &(dyn Fn(&Api) -> anyhow::Result<()> + Sync),
) -> anyhow::Result<Run> {
    let tickets = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let start = Instant::now();
    let deadline = match until {
        Until::Seconds(s) => Some(start + Duration::from_secs_f64(s)),
        Until::Count(_) => None,
    };
    let limit = match until {
        Until::Count(n) => n,
        Until::Seconds(_) => u64::MAX,
    };
    let results: Vec<(u64, Histogram)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let api = Api::new(url);
                    let mut hist = Histogram::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        if deadline.is_some_and(|d| Instant::now() >= d)
                            || tickets.fetch_add(1, Ordering::Relaxed) >= limit
                        {
                            break;
                        }
                        let t0 = Instant::now();
                        if let Err(e) = op(&api) {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(e);
                            }
                            break;
                        }
                        hist.record(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
                        n += 1;
                    }
                    (n, hist)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let wall = start.elapsed().as_secs_f64();
    if let Some(e) = first_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    if results.len() != clients {
        bail!("a client thread panicked");
    }
    let mut hist = Histogram::new();
    let mut ops = 0;
    for (n, h) in &results {
        ops += n;
        hist.merge(h);
    }
    Ok(Run { ops, wall, hist })
}

// ---- the measurements -------------------------------------------------------------

/// Why a figure is missing: a failure (the message) or a reason it was not measured.
#[derive(Debug, Clone)]
struct Skip(String);

impl Skip {
    fn failed(e: anyhow::Error) -> Skip {
        Skip(format!("FAILED: {e:#}"))
    }
}

/// A figure and, where it says something, how it was measured.
#[derive(Debug, Clone)]
struct Fig {
    value: f64,
    note: String,
}

fn fig(value: f64) -> Fig {
    Fig {
        value,
        note: String::new(),
    }
}

type Measured = Result<Fig, Skip>;

struct Results {
    figs: HashMap<&'static str, Measured>,
    parked: Result<Parked, Skip>,
    rss_after_runs: Option<u64>,
}

impl Default for Results {
    fn default() -> Results {
        Results {
            figs: HashMap::new(),
            parked: Err(Skip::default()),
            rss_after_runs: None,
        }
    }
}

impl Default for Skip {
    fn default() -> Skip {
        Skip("not run".into())
    }
}

struct Parked {
    count: u64,
    start_per_sec: f64,
    rss_kib: Option<u64>,
    restart: Duration,
    rss_after_restart_kib: Option<u64>,
}

/// Stepwise's counters and CPU around one measurement.
struct Diag {
    name: String,
    wall: f64,
    started: f64,
    finished: f64,
    transitions: f64,
    commits: f64,
    batches: f64,
    commit_secs: f64,
    server_cpu: f64,
    client_cpu: f64,
}

impl Diag {
    fn to_json(&self) -> Value {
        json!({
            "measurement": self.name, "wall_seconds": self.wall,
            "executions_started": self.started, "executions_finished": self.finished, "transitions": self.transitions,
            "commits": self.commits, "batches": self.batches, "commit_seconds": self.commit_secs,
            "server_cpu_seconds": self.server_cpu, "client_cpu_seconds": self.client_cpu,
        })
    }
}

struct Probe {
    metrics: HashMap<String, f64>,
    server_cpu: f64,
    client_cpu: f64,
    at: Instant,
}

fn probe(srv: &Server) -> Probe {
    Probe {
        metrics: srv.metrics(),
        server_cpu: srv.cpu_secs().unwrap_or(0.0),
        client_cpu: cpu_secs_of("/proc/self/stat").unwrap_or(0.0),
        at: Instant::now(),
    }
}

fn diag(name: &str, before: &Probe, after: &Probe) -> Diag {
    let d = |k: &str| {
        after.metrics.get(k).copied().unwrap_or(0.0) - before.metrics.get(k).copied().unwrap_or(0.0)
    };
    Diag {
        name: name.to_string(),
        wall: (after.at - before.at).as_secs_f64(),
        started: d("stepwise_executions_started_total"),
        finished: ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
            .iter()
            .map(|st| {
                d(&format!(
                    "stepwise_executions_finished_total{{status=\"{st}\"}}"
                ))
            })
            .sum(),
        transitions: d("stepwise_state_transitions_total"),
        commits: d("stepwise_commit_seconds_count"),
        batches: d("stepwise_commit_batches_sum"),
        commit_secs: d("stepwise_commit_seconds_sum"),
        server_cpu: after.server_cpu - before.server_cpu,
        client_cpu: after.client_cpu - before.client_cpu,
    }
}

/// Every over-the-API measurement on one server, into `out`; Stepwise's counters into `diags`.
/// `cb_srv` serves the callback workload: its task has a TimeoutSeconds, which a
/// `--time-scale 0` server would fire at once.
fn measure_all(
    srv: &Server,
    cb_srv: &Server,
    who: &str,
    wl: &Workloads,
    o: &Options,
    out: &mut Results,
    mut diags: Option<&mut Vec<Diag>>,
) {
    let api = Api::new(&srv.url);
    let cb_api = Api::new(&cb_srv.url);
    let mut arns = HashMap::new();
    for (name, w, api) in [
        ("hello3", &wl.hello3, &api),
        ("chain100", &wl.chain100, &api),
        ("map1000", &wl.map1000, &api),
        ("callback", &wl.callback, &cb_api),
    ] {
        match api.create_machine(&format!("bench-{name}"), &w.definition) {
            Ok(arn) => {
                arns.insert(name, arn);
            }
            Err(e) => {
                eprintln!("bench --server: {who}: CreateStateMachine {name}: {e:#}");
            }
        }
    }
    let secs = o.seconds;
    let c = o.clients;
    let url = srv.url.as_str();
    let is_stepwise = diags.is_some();
    let mut record = |on: &Server,
                      out: &mut Results,
                      key: &'static str,
                      label: String,
                      f: &mut dyn FnMut() -> Measured| {
        eprintln!("bench --server: {who}: {label}…");
        let before = is_stepwise.then(|| probe(on));
        let r = f();
        if let (Some(ds), Some(b)) = (diags.as_deref_mut(), before) {
            ds.push(diag(&label, &b, &probe(on)));
        }
        if let Err(Skip(e)) = &r {
            eprintln!("bench --server: {who}: {label}: {e}");
        }
        out.figs.insert(key, r);
    };
    let missing = |name: &str| Skip(format!("FAILED: no state machine {name}"));

    let hello_input = wl.hello3.input.to_string();
    let hello_expected = wl.hello3.expected.clone().unwrap_or(Value::Null);
    match arns.get("hello3") {
        Some(arn) => {
            // One checked execution first: a server that gets hello3 wrong is not timed.
            let ok = api
                .start(arn, &hello_input, "check")
                .and_then(|e| api.wait_done(&e))
                .and_then(|d| check_succeeded(&d, &hello_expected));
            if let Err(e) = ok {
                let s = Skip::failed(e);
                for k in [
                    "start1", "startN", "exec1", "execN", "p50_1", "p99_1", "p50_N", "p99_N",
                ] {
                    out.figs.insert(k, Err(s.clone()));
                }
            } else {
                for (key, n) in [("start1", 1), ("startN", c)] {
                    record(
                        srv,
                        out,
                        key,
                        format!("hello3 StartExecution/s, {n} client(s)"),
                        &mut || {
                            drive(url, n, Until::Seconds(secs), &|a: &Api| {
                                a.start(arn, &hello_input, "s").map(|_| ())
                            })
                            .map(|r| fig(r.per_sec()))
                            .map_err(Skip::failed)
                        },
                    );
                }
                // Let the started executions finish before timing completions.
                settle(srv, is_stepwise);
                for (keys, n) in [
                    (["exec1", "p50_1", "p99_1"], 1),
                    (["execN", "p50_N", "p99_N"], c),
                ] {
                    let mut lat = None;
                    record(
                        srv,
                        out,
                        keys[0],
                        format!("hello3 executions/s, {n} client(s)"),
                        &mut || {
                            let r = drive(url, n, Until::Seconds(secs), &|a: &Api| {
                                let e = a.start(arn, &hello_input, "h")?;
                                check_succeeded(&a.wait_done(&e)?, &hello_expected)
                            });
                            match r {
                                Ok(r) => {
                                    lat = Some((r.ms(0.5), r.ms(0.99)));
                                    Ok(fig(r.per_sec()))
                                }
                                Err(e) => Err(Skip::failed(e)),
                            }
                        },
                    );
                    let failed = out
                        .figs
                        .get(keys[0])
                        .and_then(|r| r.as_ref().err())
                        .cloned();
                    out.figs.insert(
                        keys[1],
                        lat.map(|l| fig(l.0))
                            .ok_or_else(|| failed.clone().unwrap_or_default()),
                    );
                    out.figs.insert(
                        keys[2],
                        lat.map(|l| fig(l.1))
                            .ok_or_else(|| failed.unwrap_or_default()),
                    );
                }
            }
        }
        None => {
            for k in [
                "start1", "startN", "exec1", "execN", "p50_1", "p99_1", "p50_N", "p99_N",
            ] {
                out.figs.insert(k, Err(missing("hello3")));
            }
        }
    }

    for (key, name, w) in [
        ("chain100", "chain100", &wl.chain100),
        ("map1000", "map1000", &wl.map1000),
    ] {
        let Some(arn) = arns.get(name) else {
            out.figs.insert(key, Err(missing(name)));
            continue;
        };
        record(
            srv,
            out,
            key,
            format!("{name} durable transitions/s"),
            &mut || durable(&api, url, arn, w, secs, c).map_err(Skip::failed),
        );
    }

    match arns.get("callback") {
        Some(arn) => {
            let input = wl.callback.input.to_string();
            let answer = json!({"approved": true});
            let mut expected = wl.callback.input.clone();
            if let Some(m) = expected.as_object_mut() {
                m.insert("approval".into(), answer.clone());
            }
            let answer = answer.to_string();
            let mut lat = None;
            let url = cb_srv.url.as_str();
            record(
                cb_srv,
                out,
                "callback",
                format!("callback round trips/s, {c} clients"),
                &mut || {
                    let r = drive(url, c, Until::Seconds(secs), &|a: &Api| {
                        let e = a.start(arn, &input, "cb")?;
                        let token = a.wait_token(&e)?;
                        a.call(
                            "SendTaskSuccess",
                            &json!({"taskToken": token, "output": answer}),
                        )?;
                        check_succeeded(&a.wait_done(&e)?, &expected)
                    });
                    match r {
                        Ok(r) => {
                            lat = Some(r.ms(0.5));
                            Ok(Fig {
                                value: r.per_sec(),
                                note: format!("{} trips", r.ops),
                            })
                        }
                        Err(e) => Err(Skip::failed(e)),
                    }
                },
            );
            let failed = out
                .figs
                .get("callback")
                .and_then(|r| r.as_ref().err())
                .cloned();
            out.figs.insert(
                "callback_p50",
                lat.map(fig).ok_or_else(|| failed.unwrap_or_default()),
            );
        }
        None => {
            out.figs.insert("callback", Err(missing("callback")));
            out.figs.insert("callback_p50", Err(missing("callback")));
        }
    }
}

/// Wait (up to 60 s) until the server has no RUNNING executions left; on moto, which has
/// no such counter, a short pause.
fn settle(srv: &Server, stepwise: bool) {
    if !stepwise {
        std::thread::sleep(Duration::from_millis(500));
        return;
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        let m = srv.metrics();
        if m.get("stepwise_open_executions").copied().unwrap_or(0.0) == 0.0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Transitions/s of whole, checked executions. One checked execution first; a server
/// that takes longer than the measurement for it is timed on that one alone, and one
/// that takes more than a quarter of it gets fewer clients, so the run stays bounded.
fn durable(
    api: &Api,
    url: &str,
    arn: &str,
    w: &Workload,
    secs: f64,
    clients: usize,
) -> anyhow::Result<Fig> {
    let input = w.input.to_string();
    let expected = w.expected.clone().unwrap_or(Value::Null);
    let t0 = Instant::now();
    let e = api.start(arn, &input, "d")?;
    check_succeeded(&api.wait_done(&e)?, &expected)?;
    let first = t0.elapsed().as_secs_f64();
    if first >= secs {
        return Ok(Fig {
            value: w.transitions as f64 / first,
            note: "1 execution".into(),
        });
    }
    let n = if first * 4.0 <= secs {
        clients
    } else {
        ((secs / first) as usize).clamp(1, clients)
    };
    let r = drive(url, n, Until::Seconds(secs), &|a: &Api| {
        let e = a.start(arn, &input, "d")?;
        check_succeeded(&a.wait_done(&e)?, &expected)
    })?;
    Ok(Fig {
        value: (r.ops * w.transitions) as f64 / r.wall.max(1e-9),
        note: format!("{} execs, {n} clients", r.ops),
    })
}

/// Park `o.parked` waitday executions on a server with real time, read its RSS, kill -9
/// it, and time the restart until `/health`; the executions must all be back.
fn measure_parked(exe: &Path, dir: &Path, wl: &Workloads, o: &Options) -> anyhow::Result<Parked> {
    let port = free_port()?;
    let (mut srv, _) = Server::spawn_stepwise(exe, port, dir, 1.0, &[])?;
    let api = Api::new(&srv.url);
    let arn = api.create_machine("bench-waitday", &wl.waitday.definition)?;
    let input = wl.waitday.input.to_string();
    let run = drive(&srv.url, o.clients, Until::Count(o.parked), &|a: &Api| {
        a.start(&arn, &input, "park").map(|_| ())
    })?;
    let parked_now = |srv: &Server| {
        srv.metrics()
            .get("stepwise_open_executions")
            .copied()
            .unwrap_or(-1.0)
    };
    let start = Instant::now();
    while parked_now(&srv) < o.parked as f64 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let open = parked_now(&srv);
    if open < o.parked as f64 {
        bail!("{open} of {} executions open before the restart", o.parked);
    }
    let rss_kib = srv.rss_kib();
    // SIGKILL: no shutdown work; what was acknowledged must be on disk.
    let _ = srv.child.kill();
    let _ = srv.child.wait();
    drop(srv);
    let (srv, restart) = Server::spawn_stepwise(exe, port, dir, 1.0, &[])?;
    let open = parked_now(&srv);
    if open != o.parked as f64 {
        bail!(
            "{open} of {} parked executions open after kill -9 and restart",
            o.parked
        );
    }
    Ok(Parked {
        count: o.parked,
        start_per_sec: run.per_sec(),
        rss_kib,
        restart,
        rss_after_restart_kib: srv.rss_kib(),
    })
}

// ---- the table --------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    AtLeast(f64),
    AtMost(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    PerSec,
    Ms,
    MiB,
    Secs,
}

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Ran(f64, String),
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    workload: &'static str,
    metric: String,
    unit: Unit,
    better: Better,
    target: Option<Target>,
    stepwise: Cell,
    /// Stepwise with `--durability process`.
    process: Cell,
    moto: Cell,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        match (&self.stepwise, &self.moto) {
            (Cell::Ran(s, _), Cell::Ran(m, _)) if *s > 0.0 && *m > 0.0 => Some(match self.better {
                Better::Higher => s / m,
                Better::Lower => m / s,
            }),
            _ => None,
        }
    }

    /// Whether Stepwise meets the target; None without a target or a figure.
    fn met(&self) -> Option<bool> {
        let Cell::Ran(s, _) = self.stepwise else {
            return None;
        };
        match self.target? {
            Target::AtLeast(t) => Some(s >= t),
            Target::AtMost(t) => Some(s <= t),
        }
    }

    fn to_json(&self) -> Value {
        let cell = |c: &Cell| match c {
            Cell::Ran(v, note) => json!({ "value": v, "note": note }),
            Cell::Failed(e) => json!({ "error": e }),
            Cell::Skipped(why) => json!({ "skipped": why }),
        };
        json!({
            "workload": self.workload, "metric": self.metric,
            "stepwise": cell(&self.stepwise), "stepwise_process": cell(&self.process), "moto": cell(&self.moto),
            "ratio": self.ratio(), "target": self.target.map(|t| target_text(t, self.unit)), "met": self.met(),
        })
    }
}

fn cell_of(m: Option<&Measured>) -> Cell {
    match m {
        Some(Ok(f)) => Cell::Ran(f.value, f.note.clone()),
        Some(Err(Skip(s))) => match s.strip_prefix("FAILED: ") {
            Some(e) => Cell::Failed(e.to_string()),
            None => Cell::Skipped(s.clone()),
        },
        None => Cell::Skipped("not run".into()),
    }
}

fn rows(o: &Options, s: &Results, p: &Results, m: &Results, moto_ran: bool) -> Vec<Row> {
    let c = o.clients;
    let pick = |r: &Results, k: &str, ran: bool| {
        if ran {
            cell_of(r.figs.get(k))
        } else {
            Cell::Skipped(String::new())
        }
    };
    let row = |workload, metric: String, key: &str, unit, better, target| Row {
        workload,
        metric,
        unit,
        better,
        target,
        stepwise: pick(s, key, true),
        process: pick(p, key, true),
        moto: pick(m, key, moto_ran),
    };
    use Better::*;
    let mut out = vec![
        row(
            "hello3",
            "StartExecution/s, 1 client".into(),
            "start1",
            Unit::PerSec,
            Higher,
            None,
        ),
        row(
            "hello3",
            format!("StartExecution/s, {c} clients"),
            "startN",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(5000.0)),
        ),
        row(
            "hello3",
            "executions/s, 1 client".into(),
            "exec1",
            Unit::PerSec,
            Higher,
            None,
        ),
        row(
            "hello3",
            format!("executions/s, {c} clients"),
            "execN",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(8000.0)),
        ),
        row(
            "hello3",
            "start-to-finish p50 ms, 1 client".into(),
            "p50_1",
            Unit::Ms,
            Lower,
            Some(Target::AtMost(2.0)),
        ),
        row(
            "hello3",
            "start-to-finish p99 ms, 1 client".into(),
            "p99_1",
            Unit::Ms,
            Lower,
            None,
        ),
        row(
            "hello3",
            format!("start-to-finish p50 ms, {c} clients"),
            "p50_N",
            Unit::Ms,
            Lower,
            None,
        ),
        row(
            "hello3",
            format!("start-to-finish p99 ms, {c} clients"),
            "p99_N",
            Unit::Ms,
            Lower,
            None,
        ),
        row(
            "chain100",
            "durable transitions/s".into(),
            "chain100",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(100_000.0)),
        ),
        row(
            "map1000",
            "durable transitions/s".into(),
            "map1000",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(50_000.0)),
        ),
        row(
            "callback",
            format!("round trips/s, {c} clients"),
            "callback",
            Unit::PerSec,
            Higher,
            None,
        ),
        row(
            "callback",
            format!("round trip p50 ms, {c} clients"),
            "callback_p50",
            Unit::Ms,
            Lower,
            None,
        ),
    ];
    let n = o.parked;
    let parked = |f: &dyn Fn(&Parked) -> Option<f64>, note: String| match &s.parked {
        Ok(p) => match f(p) {
            Some(v) => Cell::Ran(v, note),
            None => Cell::Failed("not readable from /proc".into()),
        },
        Err(Skip(e)) => match e.strip_prefix("FAILED: ") {
            Some(e) => Cell::Failed(e.to_string()),
            None => Cell::Skipped(e.clone()),
        },
    };
    let moto_parked = if moto_ran {
        Cell::Skipped("n/a".into())
    } else {
        Cell::Skipped(String::new())
    };
    let kib = |k: Option<u64>| k.map(|k| k as f64 / 1024.0);
    let waitday = |metric: String, unit, better, target, cell| Row {
        workload: "waitday",
        metric,
        unit,
        better,
        target,
        stepwise: cell,
        process: Cell::Skipped(String::new()),
        moto: moto_parked.clone(),
    };
    out.push(waitday(
        format!(
            "StartExecution/s parking {}, {c} clients",
            thousands(n as f64)
        ),
        Unit::PerSec,
        Higher,
        None,
        parked(&|p| Some(p.start_per_sec), String::new()),
    ));
    out.push(waitday(
        format!("RSS MiB, {} parked", thousands(n as f64)),
        Unit::MiB,
        Lower,
        Some(Target::AtMost(500.0)),
        parked(&|p| kib(p.rss_kib), String::new()),
    ));
    out.push(waitday(
        "restart to /health s, after kill -9".into(),
        Unit::Secs,
        Lower,
        Some(Target::AtMost(5.0)),
        parked(&|p| Some(p.restart.as_secs_f64()), String::new()),
    ));
    out.push(waitday(
        "RSS MiB after the restart".into(),
        Unit::MiB,
        Lower,
        None,
        parked(&|p| kib(p.rss_after_restart_kib), String::new()),
    ));
    if let Ok(p) = &s.parked {
        debug_assert_eq!(p.count, n);
    }
    out.push(Row {
        workload: "(all)",
        metric: "server RSS MiB after the runs above".into(),
        unit: Unit::MiB,
        better: Lower,
        target: None,
        stepwise: s
            .rss_after_runs
            .map(|k| Cell::Ran(k as f64 / 1024.0, String::new()))
            .unwrap_or(Cell::Skipped("?".into())),
        process: p
            .rss_after_runs
            .map(|k| Cell::Ran(k as f64 / 1024.0, String::new()))
            .unwrap_or(Cell::Skipped("?".into())),
        moto: if moto_ran {
            m.rss_after_runs
                .map(|k| Cell::Ran(k as f64 / 1024.0, String::new()))
                .unwrap_or(Cell::Skipped("?".into()))
        } else {
            Cell::Skipped(String::new())
        },
    });
    out
}

fn number(v: f64, unit: Unit) -> String {
    match unit {
        Unit::PerSec if v < 100.0 => format!("{v:.1}"),
        Unit::PerSec => thousands(v),
        Unit::Ms if v < 10.0 => format!("{v:.2}"),
        Unit::Ms if v < 1000.0 => format!("{v:.1}"),
        Unit::Ms => thousands(v),
        Unit::MiB => format!("{v:.1}"),
        Unit::Secs => format!("{v:.2}"),
    }
}

fn target_text(t: Target, unit: Unit) -> String {
    match t {
        Target::AtLeast(x) => format!("≥ {}", number(x, unit)),
        Target::AtMost(x) => format!("≤ {}", number(x, unit)),
    }
}

fn cell_text(c: &Cell, unit: Unit) -> String {
    match c {
        Cell::Ran(v, note) if note.is_empty() => number(*v, unit),
        Cell::Ran(v, note) => format!("{} ({note})", number(*v, unit)),
        Cell::Failed(_) => "FAILED (below)".into(),
        Cell::Skipped(why) => why.clone(),
    }
}

/// Markdown with padded columns: workload | metric | Stepwise (fsync) | Stepwise
/// (process) | moto | ratio (fsync ÷ moto) | target (fsync).
fn format_table(rows: &[Row]) -> String {
    let mut table: Vec<[String; 7]> = vec![[
        "workload",
        "metric",
        "Stepwise (fsync)",
        "Stepwise (process)",
        "moto",
        "ratio",
        "target (fsync)",
    ]
    .map(String::from)];
    for r in rows {
        let ratio = r
            .ratio()
            .map(|x| {
                if x >= 100.0 {
                    format!("{x:.0}×")
                } else {
                    format!("{x:.1}×")
                }
            })
            .unwrap_or_default();
        let target = match (r.target, r.met()) {
            (Some(t), Some(met)) => {
                format!("{} {}", target_text(t, r.unit), if met { "✓" } else { "✗" })
            }
            (Some(t), None) => target_text(t, r.unit),
            (None, _) => String::new(),
        };
        table.push([
            r.workload.to_string(),
            r.metric.clone(),
            cell_text(&r.stepwise, r.unit),
            cell_text(&r.process, r.unit),
            cell_text(&r.moto, r.unit),
            ratio,
            target,
        ]);
    }
    render(&table, &[false, false, true, true, true, true, false])
}

fn format_diags(diags: &[Diag]) -> String {
    let mut table: Vec<[String; 9]> = vec![[
        "measurement",
        "executions started/s",
        "finished/s",
        "transitions/s (counter)",
        "commits/s",
        "batches/commit",
        "ms/commit",
        "server CPU",
        "bench client CPU",
    ]
    .map(String::from)];
    for d in diags {
        let w = d.wall.max(1e-9);
        let per_commit = |x: f64| if d.commits > 0.0 { x / d.commits } else { 0.0 };
        table.push([
            d.name.clone(),
            thousands(d.started / w),
            thousands(d.finished / w),
            thousands(d.transitions / w),
            thousands(d.commits / w),
            format!("{:.1}", per_commit(d.batches)),
            format!("{:.2}", per_commit(d.commit_secs) * 1000.0),
            format!("{:.0}%", d.server_cpu / w * 100.0),
            format!("{:.0}%", d.client_cpu / w * 100.0),
        ]);
    }
    render(
        &table,
        &[false, true, true, true, true, true, true, true, true],
    )
}

pub(crate) fn render<const N: usize>(table: &[[String; N]], right: &[bool; N]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, r) in table.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let fill = " ".repeat(widths[i].saturating_sub(s.chars().count()));
                if n > 0 && right[i] {
                    format!("{fill}{s}")
                } else {
                    format!("{s}{fill}")
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
        if n == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if right[i] {
                        format!("{}:", "-".repeat(w.saturating_sub(1)))
                    } else {
                        "-".repeat(*w)
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", rule.join(" | ")));
        }
    }
    out
}

#[cfg(test)]
#[path = "tests/bench_server.rs"]
mod tests;
