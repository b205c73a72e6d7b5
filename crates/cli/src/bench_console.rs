//! `stepwise bench --console`: the console's pages against a store of 100,000
//! executions, timed with real HTTP GETs to `stepwise serve`.
//!
//! Starts this binary's `serve` on a scratch data directory (real time, so Waits stay
//! parked), fills it through the API with many concurrent StartExecution calls of a
//! Pass-only machine, parks some executions at a Wait of a day and some at a
//! `.waitForTaskToken`, and runs one execution of about 10,000 history events (an
//! inline Map over 1,650 items of two Pass states). Then it times, several runs each
//! after one untimed warm-up: the executions list (first page, by machine, by status, a
//! deep page through `after=`), the Stuck view, the big execution's page, and a live
//! update: a `/console/stream` (SSE) follower of an execution parked on a task token,
//! from the SendTaskSuccess call's return (its commit is durable then) to the `history`
//! event's arrival. The table puts each figure beside the goal; nothing is
//! asserted (benchmarks measure, tests check).

use crate::bench::thousands;
use crate::bench_server::{drive, free_port, render, Api, Server, Until};
use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What `stepwise bench --console` was asked to do.
pub(crate) struct Options {
    /// Executions in the store (Pass-only ones make up what the parked ones do not).
    pub executions: u64,
    pub clients: usize,
    pub json: Option<PathBuf>,
}

/// Timed runs of each page (after one warm-up).
const PAGE_RUNS: usize = 20;
/// Timed runs of the big execution's page.
const BIG_RUNS: usize = 5;
/// Live updates timed (one parked execution each).
const LIVE_RUNS: usize = 10;
/// Items of the big execution's Map: 6 events each (iteration started and succeeded,
/// two Pass states entered and exited), about 10,000 events in all.
const BIG_ITEMS: usize = 1_650;

fn pass_machine() -> Value {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": true}, "End": true}}})
}

fn wait_machine() -> Value {
    json!({"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 86400, "End": true}}})
}

fn callback_machine() -> Value {
    json!({"StartAt": "Await", "States": {"Await": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": true}}})
}

fn big_machine() -> Value {
    json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "End": true}}},
        "ResultSelector": {"done": true},
        "End": true}}})
}

/// One measured page or update.
struct Row {
    label: String,
    goal_ms: f64,
    result: Result<Vec<f64>, String>,
}

/// Nearest-rank quantile of sorted milliseconds.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn main(o: Options) -> anyhow::Result<ExitCode> {
    if o.executions < 100 {
        bail!("--console-executions must be at least 100");
    }
    let exe = std::env::current_exe().context("finding this program to start `serve`")?;
    let scratch =
        std::env::temp_dir().join(format!("stepwise-bench-console-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let _cleanup = RemoveOnDrop(scratch.clone());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?").to_string();

    eprintln!("bench --console: starting stepwise serve…");
    let (srv, _) = Server::spawn_stepwise(&exe, free_port()?, &scratch.join("data"), 1.0, &[])?;
    let api = Api::new(&srv.url);
    let pass = api.create_machine("bench-console-pass", &pass_machine().to_string())?;
    let wait = api.create_machine("bench-console-wait", &wait_machine().to_string())?;
    let callback = api.create_machine("bench-console-callback", &callback_machine().to_string())?;
    let big = api.create_machine("bench-console-big", &big_machine().to_string())?;

    // Parked ones first, so the Pass executions are the newest pages.
    let parked = (o.executions / 200).clamp(10, 300);
    let t = Instant::now();
    for machine in [&wait, &callback] {
        drive(&srv.url, o.clients, Until::Count(parked), &|a: &Api| {
            a.start(machine, "{}", "parked").map(|_| ())
        })?;
    }
    let live: Vec<String> = (0..LIVE_RUNS)
        .map(|_| api.start(&callback, "{}", "live"))
        .collect::<anyhow::Result<_>>()?;
    let items: Vec<u64> = (0..BIG_ITEMS as u64).collect();
    let big_arn = api.start(&big, &json!({ "items": items }).to_string(), "big")?;
    let big_done = api.wait_done(&big_arn)?;
    if big_done["status"] != "SUCCEEDED" {
        bail!("the big execution ended {}", big_done["status"]);
    }
    let big_events = history_len(&api, &big_arn)?;

    let fill = o
        .executions
        .saturating_sub(2 * parked + LIVE_RUNS as u64 + 1);
    eprintln!(
        "bench --console: {} Pass executions through {} clients…",
        thousands(fill as f64),
        o.clients
    );
    // The deep page continues after the middle execution of the fill.
    let seq = AtomicU64::new(0);
    let middle: Mutex<Option<String>> = Mutex::new(None);
    let t_fill = Instant::now();
    drive(&srv.url, o.clients, Until::Count(fill), &|a: &Api| {
        let n = seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("fill-{n}");
        let v = a.call(
            "StartExecution",
            &json!({"stateMachineArn": pass, "name": name, "input": "{}"}),
        )?;
        if n == fill / 2 {
            let arn = v["executionArn"].as_str().unwrap_or_default();
            let start = v["startDate"].as_f64().unwrap_or(0.0);
            if let Ok(mut m) = middle.lock() {
                *m = Some(format!("{}:{arn}", (start * 1e3).round() as i64));
            }
        }
        Ok(())
    })?;
    let fill_secs = t_fill.elapsed().as_secs_f64();
    let filled_secs = t.elapsed().as_secs_f64();
    let deep = middle
        .lock()
        .ok()
        .and_then(|m| m.clone())
        .ok_or_else(|| anyhow!("the fill did not record its middle execution"))?;
    // Wait until the last Pass executions have ended (each ends in its first step).
    std::thread::sleep(Duration::from_millis(500));

    eprintln!("bench --console: timing the pages…");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let page = |path: &str, runs: usize| time_gets(&agent, &srv.url, path, "<table", runs);
    let q = |s: &str| percent(s);
    let mut rows = vec![
        Row {
            label: "executions list, first page".into(),
            goal_ms: 100.0,
            result: page("/console/executions", PAGE_RUNS),
        },
        Row {
            label: "executions list, by machine".into(),
            goal_ms: 100.0,
            result: page(
                &format!("/console/executions?machine={}", q(&pass)),
                PAGE_RUNS,
            ),
        },
        Row {
            label: "executions list, by status (RUNNING)".into(),
            goal_ms: 100.0,
            result: page("/console/executions?status=RUNNING", PAGE_RUNS),
        },
        Row {
            label: "executions list, by status (TIMED_OUT, none)".into(),
            goal_ms: 100.0,
            result: time_gets(
                &agent,
                &srv.url,
                "/console/executions?status=TIMED_OUT",
                "</html>",
                PAGE_RUNS,
            ),
        },
        Row {
            label: "executions list, deep page (after= the middle)".into(),
            goal_ms: 100.0,
            result: page(
                &format!("/console/executions?after={}", q(&deep)),
                PAGE_RUNS,
            ),
        },
        Row {
            label: "Stuck view (minutes=0)".into(),
            goal_ms: 100.0,
            result: page("/console/stuck?minutes=0", PAGE_RUNS),
        },
        Row {
            label: format!(
                "execution of {} events, its page",
                thousands(big_events as f64)
            ),
            goal_ms: 1000.0,
            result: page(&format!("/console/executions/{}", q(&big_arn)), BIG_RUNS),
        },
        Row {
            label: "  the same, its Map's step panel and iteration 800".into(),
            goal_ms: 1000.0,
            result: page(
                &format!(
                    "/console/executions/{}?state=Each&iteration=800",
                    q(&big_arn)
                ),
                BIG_RUNS,
            ),
        },
        Row {
            label: "state machines list (executions counted by status)".into(),
            goal_ms: 100.0,
            result: page("/console/", PAGE_RUNS),
        },
    ];
    eprintln!("bench --console: live updates…");
    rows.push(Row {
        label: "live update: SendTaskSuccess → SSE event".into(),
        goal_ms: 250.0,
        result: live
            .iter()
            .enumerate()
            .map(|(i, arn)| live_update(&api, &srv.url, arn, i))
            .collect::<anyhow::Result<Vec<f64>>>()
            .map_err(|e| format!("FAILED: {e:#}")),
    });
    drop(api);
    drop(srv);

    // The Stuck view walks the RUNNING executions in memory: time it with all of
    // them RUNNING too, on a second server.
    eprintln!(
        "bench --console: a second server with {} executions parked at a Wait…",
        thousands(o.executions as f64)
    );
    let (srv, _) = Server::spawn_stepwise(&exe, free_port()?, &scratch.join("parked"), 1.0, &[])?;
    let wait =
        Api::new(&srv.url).create_machine("bench-console-wait", &wait_machine().to_string())?;
    let t_park = Instant::now();
    drive(
        &srv.url,
        o.clients,
        Until::Count(o.executions),
        &|a: &Api| a.start(&wait, "{}", "parked").map(|_| ()),
    )?;
    let park_secs = t_park.elapsed().as_secs_f64();
    rows.push(Row {
        label: format!(
            "Stuck view, {} RUNNING (minutes=0)",
            thousands(o.executions as f64)
        ),
        goal_ms: 100.0,
        result: time_gets(
            &agent,
            &srv.url,
            "/console/stuck?minutes=0",
            "<table",
            PAGE_RUNS,
        ),
    });
    drop(srv);

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "stepwise bench --console: {} executions in the store ({} Pass-only started in {:.1} s, {}/s, {} clients; {parked} parked at a Wait of a day, {} on a task token); {cores} cores (load average {load} at start); Stepwise {} (`serve`, fsync); median and p95 of {PAGE_RUNS} GETs per page ({BIG_RUNS} for the big execution, {LIVE_RUNS} live updates), after one warm-up",
        thousands(o.executions as f64),
        thousands(fill as f64),
        fill_secs,
        thousands(fill as f64 / fill_secs.max(1e-9)),
        o.clients,
        parked + LIVE_RUNS as u64,
        env!("CARGO_PKG_VERSION"),
    );
    print!("{}", format_table(&rows));
    println!("No peer: neither aws-local-stepfunctions nor moto has a console to compare with.");
    println!(
        "Met: the p95 is within the goal (issue #14; not asserted). Store filled in {filled_secs:.1} s; the second server's executions parked in {park_secs:.1} s."
    );
    if let Some(path) = &o.json {
        let doc = json!({
            "executions": o.executions, "parked": parked, "big_events": big_events,
            "fill_per_sec": fill as f64 / fill_secs.max(1e-9), "cores": cores, "load_average": load,
            "rows": rows.iter().map(|r| match &r.result {
                Ok(v) => {
                    let (p50, p95) = figures(v);
                    json!({"measurement": r.label, "goal_ms": r.goal_ms, "median_ms": p50, "p95_ms": p95, "runs": v.len()})
                }
                Err(e) => json!({"measurement": r.label, "goal_ms": r.goal_ms, "error": e}),
            }).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if rows.iter().any(|r| r.result.is_err()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `runs` timed GETs of `path` after one untimed, each read to its end and checked for
/// `marker` (the pages with rows show a table).
fn time_gets(
    agent: &ureq::Agent,
    base: &str,
    path: &str,
    marker: &str,
    runs: usize,
) -> Result<Vec<f64>, String> {
    let url = format!("{base}{path}");
    let get = || -> Result<f64, String> {
        let t = Instant::now();
        let r = agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let body = r.into_string().map_err(|e| format!("GET {path}: {e}"))?;
        let took = ms(t.elapsed());
        if !body.contains(marker) {
            return Err(format!("GET {path}: no {marker} in the page"));
        }
        Ok(took)
    };
    get()?;
    (0..runs).map(|_| get()).collect()
}

/// Median and p95 of milliseconds.
fn figures(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    (quantile(&s, 0.5), quantile(&s, 0.95))
}

fn format_table(rows: &[Row]) -> String {
    let mut table = vec![[
        "measurement".to_string(),
        "runs".to_string(),
        "median ms".to_string(),
        "p95 ms".to_string(),
        "goal".to_string(),
        "met".to_string(),
    ]];
    for r in rows {
        let goal = if r.goal_ms >= 1000.0 {
            format!("≤ {} s", r.goal_ms / 1000.0)
        } else {
            format!("≤ {} ms", r.goal_ms)
        };
        table.push(match &r.result {
            Ok(v) => {
                let (p50, p95) = figures(v);
                [
                    r.label.clone(),
                    v.len().to_string(),
                    format!("{p50:.1}"),
                    format!("{p95:.1}"),
                    goal,
                    if p95 <= r.goal_ms { "met" } else { "not met" }.to_string(),
                ]
            }
            Err(e) => [
                r.label.clone(),
                "0".into(),
                e.clone(),
                String::new(),
                goal,
                "—".into(),
            ],
        });
    }
    render(&table, &[false, true, true, true, false, false])
}

/// The id of an execution's last history event.
fn history_len(api: &Api, arn: &str) -> anyhow::Result<u64> {
    let h = api.call(
        "GetExecutionHistory",
        &json!({"executionArn": arn, "reverseOrder": true, "maxResults": 1}),
    )?;
    h["events"][0]["id"]
        .as_u64()
        .ok_or_else(|| anyhow!("no history for {arn}: {h}"))
}

/// Follow `arn` (parked on its task token) on `/console/stream`, answer its task, and
/// time from SendTaskSuccess's return to the `history` event's arrival (0 if it came
/// first). `i` staggers the answer across the stream's polling period.
fn live_update(api: &Api, url: &str, arn: &str, i: usize) -> anyhow::Result<f64> {
    let token = api.wait_token(arn)?;
    let from = history_len(api, arn)?;
    let addr = url.strip_prefix("http://").unwrap_or(url);
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET /console/stream?arn={}&from={from} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n",
        percent(arn)
    )?;
    // The answer's head: the stream is open and polling.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).context("reading the stream's head")?;
        if n == 0 {
            bail!("the stream closed before its head");
        }
        head.extend_from_slice(&buf[..n]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        bail!(
            "GET /console/stream: {}",
            String::from_utf8_lossy(&head).lines().next().unwrap_or("")
        );
    }
    let mut rest = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| head[p + 4..].to_vec())
        .unwrap_or_default();
    let arrived = std::thread::scope(|sc| {
        let reader = sc.spawn(move || -> anyhow::Result<Instant> {
            loop {
                if rest.windows(14).any(|w| w == b"event: history") {
                    return Ok(Instant::now());
                }
                let n = s.read(&mut buf).context("reading the stream")?;
                if n == 0 {
                    bail!("the stream ended before the update");
                }
                rest.extend_from_slice(&buf[..n]);
            }
        });
        // Answer at a different point of the stream's 100 ms polling period each time.
        std::thread::sleep(Duration::from_millis(150 + (i as u64 * 37) % 100));
        let sent = api
            .call(
                "SendTaskSuccess",
                &json!({"taskToken": token, "output": "{\"approved\":true}"}),
            )
            .map(|_| Instant::now());
        let arrived = reader
            .join()
            .map_err(|_| anyhow!("the stream reader panicked"))?;
        Ok::<_, anyhow::Error>((sent?, arrived?))
    })?;
    let (sent, arrived) = arrived;
    Ok(ms(arrived.saturating_duration_since(sent)))
}

/// A query value or path segment with everything but `A-Za-z0-9-_.` escaped.
fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
