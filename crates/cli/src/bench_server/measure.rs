//! The measurements: every over-the-API figure on one server, the parked-executions
//! figures (RSS, restart after `kill -9`) and Stepwise's counters and CPU around each.

use anyhow::bail;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::api::{check_succeeded, Api};
use super::driver::{drive, Until};
use super::servers::{cpu_secs_of, free_port, Server};
use super::workloads::{Workload, Workloads};
use super::Options;

/// Why a figure is missing: a failure (the message) or a reason it was not measured.
#[derive(Debug, Clone)]
pub(super) struct Skip(pub(super) String);

impl Skip {
    pub(super) fn failed(e: anyhow::Error) -> Skip {
        Skip(format!("FAILED: {e:#}"))
    }
}

/// A figure and, where it says something, how it was measured.
#[derive(Debug, Clone)]
pub(super) struct Fig {
    pub(super) value: f64,
    pub(super) note: String,
}

fn fig(value: f64) -> Fig {
    Fig {
        value,
        note: String::new(),
    }
}

pub(super) type Measured = Result<Fig, Skip>;

pub(super) struct Results {
    pub(super) figs: HashMap<&'static str, Measured>,
    pub(super) parked: Result<Parked, Skip>,
    pub(super) rss_after_runs: Option<u64>,
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

pub(super) struct Parked {
    pub(super) count: u64,
    pub(super) start_per_sec: f64,
    pub(super) rss_kib: Option<u64>,
    pub(super) restart: Duration,
    pub(super) rss_after_restart_kib: Option<u64>,
}

/// Stepwise's counters and CPU around one measurement.
pub(super) struct Diag {
    pub(super) name: String,
    pub(super) wall: f64,
    pub(super) started: f64,
    pub(super) finished: f64,
    pub(super) transitions: f64,
    pub(super) commits: f64,
    pub(super) batches: f64,
    pub(super) commit_secs: f64,
    pub(super) server_cpu: f64,
    pub(super) client_cpu: f64,
}

impl Diag {
    pub(super) fn to_json(&self) -> Value {
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
pub(super) fn measure_all(
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
pub(super) fn measure_parked(
    exe: &Path,
    dir: &Path,
    wl: &Workloads,
    o: &Options,
) -> anyhow::Result<Parked> {
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
