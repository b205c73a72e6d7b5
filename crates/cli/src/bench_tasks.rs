//! `stepwise bench --tasks`: Task states that call real things, through `stepwise serve`.
//!
//! Writes a Python (stdlib only) function and a `stepwise.toml` into a scratch folder,
//! starts a local HTTP server answering `{"ok":true}` on threads of this process, and
//! this binary's `serve --config … --durability process --time-scale 0`. Each row is an
//! EXPRESS machine run with StartSyncExecution (one request per execution, answered when
//! it ends, its output checked): a Pass state (the baseline), a `lambda:invoke` of the
//! function as `bootstrap` (a Lambda Runtime API client kept warm), of the same handler as
//! `command` (a process per call), and an `http:invoke` of the local server. The same
//! calls are also timed directly from here (spawning the command; POSTing to the server),
//! so the table shows what Stepwise adds per task. No figure is asserted anywhere.

use crate::bench::{clip, last_lines, thousands, Histogram};
use crate::bench_http::text;
use crate::bench_server::{drive, free_port, render, Api, Server, Until};
use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `stepwise bench --tasks` was asked to do.
pub(crate) struct Options {
    pub seconds: f64,
    pub clients: usize,
    pub json: Option<PathBuf>,
}

/// The function: one handler, run by a Lambda Runtime API loop (`runtime`) or once with
/// the event on stdin (`oneshot`).
const FUNCTION_PY: &str = include_str!("bench_tasks/function.py");

/// `[connections.bench]`, which CONNECTION_ARN names (an API key the server ignores).
const CONNECTION_TOML: &str = "[connections.bench]\nAuthorizationType = \"API_KEY\"\n[connections.bench.AuthParameters.ApiKeyAuthParameters]\nApiKeyName = \"x-api-key\"\nApiKeyValue = \"bench\"\n";
const CONNECTION_ARN: &str =
    "arn:aws:events:us-east-1:123456789012:connection/bench/00000000-0000-4000-8000-000000000000";
const HTTP_ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
/// Linux's USER_HZ: the unit of the CPU times in /proc/PID/stat.
const TICKS_PER_SEC: f64 = 100.0;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Pass,
    Bootstrap,
    Command,
    Http,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Pass => "Pass state (no task; baseline)",
            Kind::Bootstrap => "Lambda `bootstrap` (warm)",
            Kind::Command => "Lambda `command` (process per call)",
            Kind::Http => "HTTP `http:invoke`",
        }
    }

    fn definition(self, http_url: &str) -> Value {
        let mut state = match self {
            Kind::Pass => json!({"Type": "Pass", "Parameters": {"ok": true, "n.$": "$.n"}}),
            Kind::Bootstrap | Kind::Command => json!({
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": if self == Kind::Command { "fn-command" } else { "fn-bootstrap" }, "Payload.$": "$"},
                "OutputPath": "$.Payload"}),
            Kind::Http => json!({
                "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {"ApiEndpoint": format!("{http_url}/ok"), "Method": "POST",
                               "Authentication": {"ConnectionArn": CONNECTION_ARN}, "RequestBody.$": "$"},
                "OutputPath": "$.ResponseBody"}),
        };
        state["End"] = json!(true);
        json!({"StartAt": "S", "States": {"S": state}})
    }

    fn expected(self, n: u64) -> Value {
        match self {
            Kind::Http => json!({"ok": true}),
            _ => json!({"ok": true, "n": n}),
        }
    }
}

/// Latency (1 client) and throughput (N clients) of one way of calling.
struct Figures {
    per_sec: f64,
    p50: f64,
    p99: f64,
}

struct Measured {
    task: Figures,
    /// A Pass execution's latency, timed in turn with the task's.
    baseline: Figures,
    direct: Option<Figures>,
    /// CPU time per task during the N-client run: the server's own, and its child
    /// processes' (the functions).
    server_cpu_ms: f64,
    children_cpu_ms: f64,
}

struct Row {
    kind: Kind,
    result: Result<Measured, String>,
}

pub(crate) fn main(o: Options) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("finding this program to start `serve`")?;
    let scratch = std::env::temp_dir().join(format!("stepwise-bench-tasks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let _cleanup = RemoveOnDrop(scratch.clone());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?").to_string();

    let python = find_python();
    let function = scratch.join("function.py");
    std::fs::write(&function, FUNCTION_PY)?;
    let http = HttpServer::start()?;
    let http_url = format!("http://127.0.0.1:{}", http.port);
    let mut config = CONNECTION_TOML.to_string();
    if let Ok(py) = &python {
        for (name, key, mode) in [
            ("fn-bootstrap", "bootstrap", "runtime"),
            ("fn-command", "command", "oneshot"),
        ] {
            config += &format!(
                "\n[functions.{name}]\n{key} = [{}, \"function.py\", \"{mode}\"]\ntimeout = 60\nconcurrency = {}\n",
                serde_json::to_string(&py.path)?,
                o.clients
            );
        }
    }
    let config_path = scratch.join("stepwise.toml");
    std::fs::write(&config_path, config)?;

    eprintln!(
        "bench --tasks: starting stepwise serve --config {}…",
        config_path.display()
    );
    let config_arg = config_path.to_string_lossy();
    let extra = ["--durability", "process", "--config", &config_arg];
    let (srv, _) = Server::spawn_stepwise(&exe, free_port()?, &scratch.join("data"), 0.0, &extra)?;
    let mut rows = Vec::new();
    let pass_def = Kind::Pass.definition(&http_url);
    let pass_arn = create_express(&Api::new(&srv.url), "bench-tasks-pass", &pass_def)?;
    for kind in [Kind::Pass, Kind::Bootstrap, Kind::Command, Kind::Http] {
        let result = match (&python, kind) {
            (Err(why), Kind::Bootstrap | Kind::Command) => Err(format!("skipped: {why}")),
            _ => {
                eprintln!("bench --tasks: {}…", kind.label());
                let py = python.as_ref().ok();
                measure(&srv, kind, &pass_arn, &http_url, &o, py, &function)
                    .map_err(|e| format!("FAILED: {e:#}"))
            }
        };
        rows.push(Row { kind, result });
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "stepwise bench --tasks: {} s per measurement, {} clients, {cores} cores (load average {load} at start); Stepwise {} (`serve --config --durability process --time-scale 0`, EXPRESS machines, StartSyncExecution); function: {}",
        o.seconds,
        o.clients,
        env!("CARGO_PKG_VERSION"),
        match &python {
            Ok(p) => format!("Python {} stdlib", p.version),
            Err(why) => format!("unavailable: {why}"),
        }
    );
    print!("{}", format_table(&rows, o.clients));
    for line in footnotes(&rows, &o, &http) {
        println!("{line}");
    }
    if let Some(path) = &o.json {
        let doc = json!({
            "seconds_per_measurement": o.seconds, "clients": o.clients, "cores": cores, "load_average": load,
            "stepwise": {"version": env!("CARGO_PKG_VERSION")},
            "rows": rows.iter().map(row_json).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&doc)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    let failed = rows
        .iter()
        .any(|r| matches!(&r.result, Err(e) if e.starts_with("FAILED")));
    if failed {
        println!(
            "server log (last lines):\n{}",
            last_lines(&srv.log_text(), 10)
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

type Op<'a> = &'a (dyn Fn(&Api) -> anyhow::Result<()> + Sync);

/// One row: warm up, `clients` clients for throughput and CPU (then for the direct
/// call's rate), then 1 client for latency.
#[allow(clippy::too_many_arguments)]
fn measure(
    srv: &Server,
    kind: Kind,
    pass_arn: &str,
    http_url: &str,
    o: &Options,
    python: Option<&Python>,
    function: &Path,
) -> anyhow::Result<Measured> {
    let arn = match kind {
        Kind::Pass => pass_arn.to_string(),
        _ => {
            let name = format!("bench-tasks-{}", kind as u8);
            create_express(&Api::new(&srv.url), &name, &kind.definition(http_url))?
        }
    };
    let seq = AtomicU64::new(0);
    let run = |arn: &str, kind: Kind, api: &Api| {
        let n = seq.fetch_add(1, Ordering::Relaxed);
        run_checked(api, arn, n, &kind.expected(n))
    };
    let task = |api: &Api| run(&arn, kind, api);
    let pass = |api: &Api| run(pass_arn, Kind::Pass, api);
    let spawn = |_: &Api| spawn_once(python.context("no python3")?, function);
    let direct: Option<Op> = match kind {
        Kind::Command => Some(&spawn),
        Kind::Http => Some(&post_direct),
        _ => None,
    };
    let warm = || Until::Count((o.clients * 4).max(20) as u64);
    drive(&srv.url, o.clients, warm(), &task)?;
    let (pid, before) = (srv.child.id(), cpu_of(srv.child.id()));
    let many = drive(&srv.url, o.clients, Until::Seconds(o.seconds), &task)?;
    let after = cpu_of(pid);
    let direct_rate = match direct {
        Some(d) => {
            drive(http_url, o.clients, warm(), d)?;
            Some(drive(http_url, o.clients, Until::Seconds(o.seconds), d)?.per_sec())
        }
        None => None,
    };
    // 1 client: the task, Pass executions and the direct call in turn, 20 ms of each, so
    // that all three see the same load (other processes share the cores) and few calls
    // follow another kind's (a bootstrap's Runtime API exchange ends after its answer).
    let (api, direct_api) = (Api::new(&srv.url), Api::new(http_url));
    let mut ops: Vec<(Op, &Api)> = vec![(&task, &api)];
    if kind != Kind::Pass {
        ops.push((&pass, &api));
    }
    ops.extend(direct.map(|d| (d, &direct_api)));
    let mut hists: Vec<Histogram> = ops.iter().map(|_| Histogram::new()).collect();
    let end = Instant::now() + Duration::from_secs_f64(o.seconds);
    while Instant::now() < end {
        for ((op, api), h) in ops.iter().zip(&mut hists) {
            let turn = Instant::now() + Duration::from_millis(20);
            loop {
                let t0 = Instant::now();
                op(api)?;
                h.record(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
                if Instant::now() >= turn {
                    break;
                }
            }
        }
    }
    let figures = |per_sec, h: &Histogram| Figures {
        per_sec,
        p50: h.percentile(0.5) / 1e6,
        p99: h.percentile(0.99) / 1e6,
    };
    let per_task = |x: f64| x * 1000.0 / (many.ops.max(1) as f64);
    Ok(Measured {
        task: figures(many.per_sec(), &hists[0]),
        baseline: figures(0.0, hists.get(1).unwrap_or(&hists[0])),
        direct: direct_rate.map(|r| figures(r, &hists[hists.len() - 1])),
        server_cpu_ms: per_task(after.own - before.own),
        children_cpu_ms: per_task(after.children - before.children),
    })
}

/// The HTTP task's call made directly: a POST to the local server.
fn post_direct(api: &Api) -> anyhow::Result<()> {
    let mut conn = api.conn.borrow_mut();
    let a = conn.post(&[("Content-Type", "application/json")], b"{\"n\":1}")?;
    if a.status != 200 || a.body != b"{\"ok\":true}" {
        bail!("the local server answered {}: {}", a.status, text(a.body));
    }
    Ok(())
}

/// The `command` function run the way `serve` runs it: its own process group, the event
/// on stdin, the result on stdout.
fn spawn_once(py: &Python, function: &Path) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(&py.path)
        .arg(function)
        .arg("oneshot")
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("spawning the function")?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(b"{\"n\":1}")?;
    }
    let out = child.wait_with_output()?;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    if !out.status.success() || v != json!({"ok": true, "n": 1}) {
        bail!(
            "the function gave {}: {}",
            out.status,
            clip(&text(&out.stdout), 200)
        );
    }
    Ok(())
}

// ---- the API calls ----------------------------------------------------------------

fn create_express(api: &Api, name: &str, definition: &Value) -> anyhow::Result<String> {
    let v = api.call(
        "CreateStateMachine",
        &json!({"name": name, "type": "EXPRESS", "definition": definition.to_string(),
                "roleArn": "arn:aws:iam::123456789012:role/stepwise-bench"}),
    )?;
    v["stateMachineArn"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no stateMachineArn in {v}"))
}

/// One StartSyncExecution of `{"n": n}`; it must succeed with `expected`.
fn run_checked(api: &Api, arn: &str, n: u64, expected: &Value) -> anyhow::Result<()> {
    let input = json!({ "n": n }).to_string();
    let out = api.call(
        "StartSyncExecution",
        &json!({"stateMachineArn": arn, "input": input}),
    )?;
    if out["status"] != "SUCCEEDED" {
        bail!(
            "execution ended {} (error {}, cause {})",
            out["status"],
            out["error"],
            clip(out["cause"].as_str().unwrap_or(""), 300)
        );
    }
    let got: Value =
        serde_json::from_str(out["output"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    if &got != expected {
        bail!("output {got}, expected {expected}");
    }
    Ok(())
}

// ---- the processes ----------------------------------------------------------------

struct Python {
    path: String,
    version: String,
}

/// The real interpreter behind `python3` (not a shim such as pyenv's, whose shell script
/// would be timed with every `command` call).
fn find_python() -> Result<Python, String> {
    let o = Command::new("python3")
        .args([
            "-c",
            "import sys, platform; print(sys.executable); print(platform.python_version())",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("python3 not found ({e})"))?;
    let out = String::from_utf8_lossy(&o.stdout);
    let mut lines = out.lines();
    match (o.status.success(), lines.next(), lines.next()) {
        (true, Some(path), Some(version)) if !path.is_empty() => Ok(Python {
            path: path.to_string(),
            version: version.to_string(),
        }),
        _ => Err("python3 did not run".into()),
    }
}

/// CPU seconds of a process: its own, and its children's (reaped, plus those alive).
struct Cpu {
    own: f64,
    children: f64,
}

fn cpu_of(pid: u32) -> Cpu {
    // Fields after `(comm)`: ppid is the 2nd, utime/stime the 12th/13th, cutime/cstime the 14th/15th.
    let fields = |path: &Path| -> Option<Vec<f64>> {
        let s = std::fs::read_to_string(path).ok()?;
        let rest = &s[s.rfind(')')? + 1..];
        Some(
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0.0))
                .collect(),
        )
    };
    let get = |f: &Vec<f64>, i: usize| f.get(i).copied().unwrap_or(0.0) / TICKS_PER_SEC;
    let me = fields(Path::new(&format!("/proc/{pid}/stat"))).unwrap_or_default();
    let mut children = get(&me, 13) + get(&me, 14);
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Some(f) = fields(&e.path().join("stat")) {
            if f.get(1).copied() == Some(f64::from(pid)) {
                children += get(&f, 11) + get(&f, 12);
            }
        }
    }
    Cpu {
        own: get(&me, 11) + get(&me, 12),
        children,
    }
}

/// The local HTTP endpoint: a thread per connection, `{"ok":true}` to every request.
struct HttpServer {
    port: u16,
    connections: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
}

impl HttpServer {
    fn start() -> anyhow::Result<HttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the local HTTP server")?;
        let port = listener.local_addr()?.port();
        let (connections, requests) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (c, r) = (Arc::clone(&connections), Arc::clone(&requests));
        // Detached: it serves until this process exits.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                c.fetch_add(1, Ordering::Relaxed);
                let r = Arc::clone(&r);
                std::thread::spawn(move || serve_http(stream, &r));
            }
        });
        Ok(HttpServer {
            port,
            connections,
            requests,
        })
    }
}

/// Answers each request once its head and `Content-Length` body are in (the callers
/// here send no chunked bodies), until the peer closes.
fn serve_http(mut s: TcpStream, requests: &AtomicU64) {
    let _ = s.set_nodelay(true);
    let (mut buf, mut chunk) = (Vec::with_capacity(4096), [0u8; 8192]);
    loop {
        let mut hs = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut hs);
        let whole = match req.parse(&buf) {
            Ok(httparse::Status::Complete(head)) => {
                let length = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok());
                Some(head + length.unwrap_or(0))
            }
            Ok(httparse::Status::Partial) => None,
            Err(_) => return,
        };
        if let Some(n) = whole.filter(|n| buf.len() >= *n) {
            buf.drain(..n);
            requests.fetch_add(1, Ordering::Relaxed);
            if s.write_all(HTTP_ANSWER).is_err() {
                return;
            }
            continue;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- the table --------------------------------------------------------------------

/// What a task adds at p50/p99 (ms): its execution's latency less the Pass execution's
/// timed in turn with it and the direct call's (none for `bootstrap`: the Runtime API
/// round trip is the overhead).
fn overhead(m: &Measured) -> (f64, f64) {
    let (d50, d99) = m.direct.as_ref().map_or((0.0, 0.0), |d| (d.p50, d.p99));
    (
        m.task.p50 - m.baseline.p50 - d50,
        m.task.p99 - m.baseline.p99 - d99,
    )
}

fn ms(v: f64) -> String {
    if v.abs() < 1.0 {
        format!("{v:.3}")
    } else if v.abs() < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

fn rate(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        thousands(v)
    }
}

fn format_table(rows: &[Row], clients: usize) -> String {
    let mut table = vec![[
        "task".to_string(),
        format!("tasks/s, {clients} clients"),
        "p50 ms, 1 client".into(),
        "p99 ms, 1 client".into(),
        "Pass p50 / p99 ms, in turn".into(),
        format!("direct calls/s, {clients} clients"),
        "direct p50 ms".into(),
        "direct p99 ms".into(),
        "overhead p50 ms".into(),
        "overhead p99 ms".into(),
        "server CPU ms/task".into(),
        "function CPU ms/task".into(),
    ]];
    for r in rows {
        let mut cells = vec![r.kind.label().to_string()];
        match &r.result {
            Ok(m) => {
                cells.extend([rate(m.task.per_sec), ms(m.task.p50), ms(m.task.p99)]);
                cells.push(match r.kind {
                    Kind::Pass => "—".into(),
                    _ => format!("{} / {}", ms(m.baseline.p50), ms(m.baseline.p99)),
                });
                cells.extend(match (&m.direct, r.kind) {
                    (Some(d), _) => [rate(d.per_sec), ms(d.p50), ms(d.p99)],
                    (None, Kind::Bootstrap) => ["—".into(), "0 (¹)".into(), "0 (¹)".into()],
                    (None, _) => ["—".into(), "—".into(), "—".into()],
                });
                cells.extend(match (r.kind, overhead(m)) {
                    (Kind::Pass, _) => ["—".into(), "—".into()],
                    (_, (a, b)) => [format!("{a:+.3}"), format!("{b:+.3}")],
                });
                cells.push(format!("{:.3}", m.server_cpu_ms));
                cells.push(match r.kind {
                    Kind::Pass | Kind::Http => "—".into(),
                    _ => format!("{:.3}", m.children_cpu_ms),
                });
            }
            Err(e) if e.starts_with("FAILED") => cells.push("FAILED (below)".into()),
            Err(e) => cells.push(e.clone()),
        }
        cells.resize(12, String::new());
        table.push(cells.try_into().unwrap_or_default());
    }
    let mut right = [true; 12];
    right[0] = false;
    render(&table, &right)
}

fn footnotes(rows: &[Row], o: &Options, http: &HttpServer) -> Vec<String> {
    let mut out = vec![
        format!("Each row: an EXPRESS machine of one state run by StartSyncExecution (its output checked), {} clients on keep-alive connections for tasks/s, then 1 client for p50/p99, running the task, Pass executions and the direct call in turns of 20 ms so that all three see the same load. Functions: concurrency {}, a Python stdlib handler; `bootstrap` runs it in a Lambda Runtime API loop kept warm, `command` once per call. HTTP: a local server (threads of this process) answering {{\"ok\":true}}.", o.clients, o.clients),
        "direct: the same call made from the bench (spawning the command as `serve` does, event on stdin; POSTing to the local server on a keep-alive connection).".into(),
        "overhead = Task execution − Pass execution (timed in turn with it) − direct call, at the same percentile (a difference of percentiles, not a percentile of differences: p99 is noisy).".into(),
        "(¹) bootstrap: no direct call is subtracted; the Runtime API round trip to the warm process, with the Python handler, is what the task adds.".into(),
        "CPU: /proc utime+stime during the N-client run ÷ tasks; function = the server's child processes (reaped `command` processes, live `bootstrap` ones).".into(),
    ];
    let get = |k: Kind| {
        rows.iter()
            .find(|r| r.kind == k)
            .and_then(|r| r.result.as_ref().ok())
    };
    let mark = |ok: bool| if ok { "met" } else { "not met" };
    let boot = get(Kind::Bootstrap)
        .map(overhead)
        .map_or("not measured".into(), |(p50, _)| {
            format!("{} ms, {}", ms(p50), mark(p50 <= 1.0))
        });
    let http_rate = get(Kind::Http).map_or("not measured".into(), |m| {
        format!(
            "{}/s, {}",
            rate(m.task.per_sec),
            mark(m.task.per_sec >= 2000.0)
        )
    });
    out.push(format!("Targets (from the issue; not asserted): a warm `bootstrap` invocation adds ≤ 1 ms p50 (got {boot}); ≥ 2,000 HTTP tasks/s through the server (got {http_rate})."));
    out.push(format!(
        "Local HTTP server: {} requests on {} connections.",
        thousands(http.requests.load(Ordering::Relaxed) as f64),
        thousands(http.connections.load(Ordering::Relaxed) as f64)
    ));
    for r in rows {
        if let Err(e) = &r.result {
            if let Some(e) = e.strip_prefix("FAILED: ") {
                out.push(format!("{} failed: {e}", r.kind.label()));
            }
        }
    }
    out
}

fn row_json(r: &Row) -> Value {
    let figs = |f: &Figures| json!({"per_sec": f.per_sec, "p50_ms": f.p50, "p99_ms": f.p99});
    match &r.result {
        Ok(m) => json!({
            "task": r.kind.label(), "execution": figs(&m.task), "direct": m.direct.as_ref().map(figs),
            "pass_in_turn": figs(&m.baseline),
            "overhead_ms": Some(overhead(m)).filter(|_| r.kind != Kind::Pass).map(|(a, b)| json!({"p50": a, "p99": b})),
            "server_cpu_ms_per_task": m.server_cpu_ms, "children_cpu_ms_per_task": m.children_cpu_ms,
        }),
        Err(e) => json!({"task": r.kind.label(), "error": e}),
    }
}
