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

use crate::bench::{clip, last_lines, thousands};
use crate::bench_http::text;
use crate::bench_server::{drive, free_port, render, Api, Run, Server, Until};
use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What `stepwise bench --tasks` was asked to do.
pub(crate) struct Options {
    pub seconds: f64,
    pub clients: usize,
    pub json: Option<PathBuf>,
}

/// The function: one handler, run by a Lambda Runtime API loop (`runtime`) or once with
/// the event on stdin (`oneshot`).
const FUNCTION_PY: &str = r#"import http.client, json, os, sys

def handler(event, context):
    return {"ok": True, "n": event.get("n") if isinstance(event, dict) else None}

def runtime():
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    base = "/2018-06-01/runtime/invocation/"
    while True:
        conn.request("GET", base + "next")
        r = conn.getresponse()
        event = json.loads(r.read())
        rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
        try:
            body, kind = json.dumps(handler(event, None)), "response"
        except Exception as e:
            body, kind = json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)}), "error"
        conn.request("POST", base + rid + "/" + kind, body, {"Content-Type": "application/json"})
        conn.getresponse().read()

def oneshot():
    sys.stdout.write(json.dumps(handler(json.load(sys.stdin), None)))

{"runtime": runtime, "oneshot": oneshot}[sys.argv[1]]()
"#;

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
        let state = match self {
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
        let mut state = state;
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
    for kind in [Kind::Pass, Kind::Bootstrap, Kind::Command, Kind::Http] {
        let result = match (&python, kind) {
            (Err(why), Kind::Bootstrap | Kind::Command) => Err(format!("skipped: {why}")),
            _ => {
                eprintln!("bench --tasks: {}…", kind.label());
                measure(&srv, kind, &http_url, &o, python.as_ref().ok(), &function)
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
            "rows": rows.iter().map(|r| row_json(r, pass_of(&rows))).collect::<Vec<_>>(),
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

/// One row: warm up, N clients for throughput and CPU, 1 client for latency, then the
/// direct calls the same way.
fn measure(
    srv: &Server,
    kind: Kind,
    http_url: &str,
    o: &Options,
    python: Option<&Python>,
    function: &Path,
) -> anyhow::Result<Measured> {
    let name = format!("bench-tasks-{}", kind as u8);
    let arn = create_express(&Api::new(&srv.url), &name, &kind.definition(http_url))?;
    let seq = AtomicU64::new(0);
    let op = |api: &Api| {
        let n = seq.fetch_add(1, Ordering::Relaxed);
        run_checked(api, &arn, n, &kind.expected(n))
    };
    let pid = srv.child.id();
    let (before, many, after, one) = timed(&srv.url, o, &op, &|| cpu_of(pid))?;
    let per_task = |x: f64| x * 1000.0 / (many.ops.max(1) as f64);
    let direct = match (kind, python) {
        (Kind::Command, Some(py)) => Some(timed(
            http_url,
            o,
            &|_: &Api| spawn_once(py, function),
            &|| (),
        )?),
        (Kind::Http, _) => Some(timed(
            http_url,
            o,
            &|api: &Api| {
                let mut conn = api.conn.borrow_mut();
                let a = conn.post(&[("Content-Type", "application/json")], b"{\"n\":1}")?;
                if a.status != 200 || a.body != b"{\"ok\":true}" {
                    bail!("the local server answered {}: {}", a.status, text(a.body));
                }
                Ok(())
            },
            &|| (),
        )?),
        _ => None,
    }
    .map(|(_, many, _, one)| figures(&many, &one));
    Ok(Measured {
        task: figures(&many, &one),
        direct,
        server_cpu_ms: per_task(after.own - before.own),
        children_cpu_ms: per_task(after.children - before.children),
    })
}

/// Warm up (every client a few times: a `bootstrap` process per concurrent call), then
/// `clients` clients for the rate with `probe` around them, then 1 client for latency.
fn timed<P>(
    url: &str,
    o: &Options,
    op: &(dyn Fn(&Api) -> anyhow::Result<()> + Sync),
    probe: &dyn Fn() -> P,
) -> anyhow::Result<(P, Run, P, Run)> {
    drive(
        url,
        o.clients,
        Until::Count((o.clients * 4).max(20) as u64),
        op,
    )?;
    let before = probe();
    let many = drive(url, o.clients, Until::Seconds(o.seconds), op)?;
    let after = probe();
    let one = drive(url, 1, Until::Seconds(o.seconds), op)?;
    Ok((before, many, after, one))
}

fn figures(many: &Run, one: &Run) -> Figures {
    Figures {
        per_sec: many.per_sec(),
        p50: one.ms(0.5),
        p99: one.ms(0.99),
    }
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

fn pass_of(rows: &[Row]) -> Option<&Figures> {
    rows.iter()
        .find(|r| r.kind == Kind::Pass)
        .and_then(|r| r.result.as_ref().ok())
        .map(|m| &m.task)
}

/// What a task adds at `p50`/`p99` (ms): its execution's latency less the Pass
/// execution's and the direct call's (none for `bootstrap`: the Runtime API round trip
/// is the overhead).
fn overhead(m: &Measured, pass: Option<&Figures>) -> Option<(f64, f64)> {
    let pass = pass?;
    let (d50, d99) = m.direct.as_ref().map_or((0.0, 0.0), |d| (d.p50, d.p99));
    Some((m.task.p50 - pass.p50 - d50, m.task.p99 - pass.p99 - d99))
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
        format!("direct calls/s, {clients} clients"),
        "direct p50 ms".into(),
        "direct p99 ms".into(),
        "overhead p50 ms".into(),
        "overhead p99 ms".into(),
        "server CPU ms/task".into(),
        "function CPU ms/task".into(),
    ]];
    let pass = pass_of(rows);
    for r in rows {
        let mut cells = vec![r.kind.label().to_string()];
        match &r.result {
            Ok(m) => {
                cells.extend([rate(m.task.per_sec), ms(m.task.p50), ms(m.task.p99)]);
                cells.extend(match (&m.direct, r.kind) {
                    (Some(d), _) => [rate(d.per_sec), ms(d.p50), ms(d.p99)],
                    (None, Kind::Bootstrap) => ["—".into(), "0 (¹)".into(), "0 (¹)".into()],
                    (None, _) => ["—".into(), "—".into(), "—".into()],
                });
                cells.extend(match overhead(m, pass) {
                    Some((a, b)) if r.kind != Kind::Pass => {
                        [format!("{a:+.3}"), format!("{b:+.3}")]
                    }
                    _ => ["—".into(), "—".into()],
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
        cells.resize(11, String::new());
        table.push(cells.try_into().unwrap_or_default());
    }
    let mut right = [true; 11];
    right[0] = false;
    render(&table, &right)
}

fn footnotes(rows: &[Row], o: &Options, http: &HttpServer) -> Vec<String> {
    let mut out = vec![
        format!("Each row: an EXPRESS machine of one state run by StartSyncExecution (its output checked), {} clients on keep-alive connections for tasks/s, then 1 client for p50/p99. Functions: concurrency {}, a Python stdlib handler; `bootstrap` runs it in a Lambda Runtime API loop kept warm, `command` once per call. HTTP: a local server (threads of this process) answering {{\"ok\":true}}.", o.clients, o.clients),
        "direct: the same call made from the bench (spawning the command as `serve` does, event on stdin; POSTing to the local server on a keep-alive connection).".into(),
        "overhead = Task execution − Pass execution − direct call, at the same percentile (a difference of percentiles, not a percentile of differences: p99 is noisy).".into(),
        "(¹) bootstrap: no direct call is subtracted; the Runtime API round trip to the warm process, with the Python handler, is what the task adds.".into(),
        "CPU: /proc utime+stime during the N-client run ÷ tasks; function = the server's child processes (reaped `command` processes, live `bootstrap` ones).".into(),
    ];
    let pass = pass_of(rows);
    let get = |k: Kind| {
        rows.iter()
            .find(|r| r.kind == k)
            .and_then(|r| r.result.as_ref().ok())
    };
    let mark = |ok: bool| if ok { "met" } else { "not met" };
    let boot = get(Kind::Bootstrap)
        .and_then(|m| overhead(m, pass))
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

fn row_json(r: &Row, pass: Option<&Figures>) -> Value {
    let figs = |f: &Figures| json!({"per_sec": f.per_sec, "p50_ms": f.p50, "p99_ms": f.p99});
    match &r.result {
        Ok(m) => json!({
            "task": r.kind.label(), "execution": figs(&m.task), "direct": m.direct.as_ref().map(figs),
            "overhead_ms": overhead(m, pass).filter(|_| r.kind != Kind::Pass).map(|(a, b)| json!({"p50": a, "p99": b})),
            "server_cpu_ms_per_task": m.server_cpu_ms, "children_cpu_ms_per_task": m.children_cpu_ms,
        }),
        Err(e) => json!({"task": r.kind.label(), "error": e}),
    }
}
