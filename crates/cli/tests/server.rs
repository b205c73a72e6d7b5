//! The real server process: restarts after `kill -9` mid-run, graceful shutdown,
//! durability of what was acknowledged.

#[allow(dead_code)]
mod common;

use common::server::{Client, Server, ACCOUNT_PREFIX};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

static SLOW_HTTP: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn temp_dir(name: &str) -> std::path::PathBuf {
    common::server::fresh_dir(name)
}

/// An HTTP service that answers every request after 300 ms with `{"ok": true}`, for the
/// whole test (it outlives server restarts). Its base URL.
fn slow_http_service() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // One request per connection: read its head and body, then answer.
                loop {
                    let n = match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(300));
                let body = "{\"ok\": true}";
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

/// Waits, a Map over waiting iterations, a Parallel of waiting branches, an activity,
/// Lambda and HTTP calls, a nested execution.
fn machines() -> Vec<(&'static str, Value, Value, Value)> {
    let waits = json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Parameters": {"n.$": "$.n", "step": 1}, "Next": "W1"},
            "W1": {"Type": "Wait", "Seconds": 20, "Next": "Second"},
            "Second": {"Type": "Pass", "Parameters": {"n.$": "$.n", "step.$": "States.MathAdd($.step, 1)"}, "Next": "W2"},
            "W2": {"Type": "Wait", "Seconds": 20, "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }
    });
    let map = json!({
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 3,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Nap",
                    "States": {
                        "Nap": {"Type": "Wait", "Seconds": 10, "Next": "Double"},
                        "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": true}
                    }
                },
                "End": true
            }
        }
    });
    let parallel = json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 15, "Next": "A2"}, "A2": {"Type": "Pass", "Result": "a", "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 30, "Next": "B2"}, "B2": {"Type": "Pass", "Result": "b", "End": true}}},
                    {"StartAt": "C", "States": {"C": {"Type": "Pass", "Result": "c", "End": true}}}
                ],
                "Next": "Join"
            },
            "Join": {"Type": "Pass", "Parameters": {"joined.$": "States.ArrayLength($)"}, "End": true}
        }
    });
    let activity = json!({
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": format!("{ACCOUNT_PREFIX}activity:crash-worker"),
                "TimeoutSeconds": 300,
                "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 5, "IntervalSeconds": 1}],
                "Next": "After"
            },
            "After": {"Type": "Wait", "Seconds": 10, "Next": "End"},
            "End": {"Type": "Pass", "End": true}
        }
    });
    let distributed = json!({
        "StartAt": "Items",
        "States": {
            "Items": {
                "Type": "Map", "MaxConcurrency": 2, "Label": "Items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Nap",
                    "States": {
                        "Nap": {"Type": "Wait", "Seconds": 10, "Next": "Triple"},
                        "Triple": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, States.MathAdd($, $))"}, "End": true}
                    }
                },
                "End": true
            }
        }
    });
    // Real calls: a function that takes 300 ms of real time, through lambda:invoke and a
    // bare function ARN.
    let lambda = json!({
        "StartAt": "Triple",
        "States": {
            "Triple": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "triple", "Payload": {"n.$": "$.n"}},
                "OutputPath": "$.Payload",
                "Next": "Again"
            },
            "Again": {
                "Type": "Task",
                "Resource": format!("arn:aws:lambda:us-east-1:123456789012:function:triple"),
                "End": true
            }
        }
    });
    // A nested execution of `waits` through `.sync:2`: the parent waits for its child
    // across restarts.
    let nested = json!({
        "StartAt": "Child",
        "States": {
            "Child": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {
                    "StateMachineArn": format!("{ACCOUNT_PREFIX}stateMachine:waits"),
                    "Input": {"n.$": "$.n"}
                },
                "OutputPath": "$.Output",
                "End": true
            }
        }
    });
    let http = json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {
                    "ApiEndpoint.$": "$.url",
                    "Method": "POST",
                    "RequestBody": {"n.$": "$.n"},
                    "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/local/1"}
                },
                "ResultSelector": {"status.$": "$.StatusCode", "body.$": "$.ResponseBody"},
                "End": true
            }
        }
    });
    let url = SLOW_HTTP.get_or_init(slow_http_service).clone();
    vec![
        ("waits", waits, json!({"n": 7}), json!({"n": 7, "step": 2})),
        (
            "http",
            http,
            json!({"n": 1, "url": format!("{url}/orders")}),
            json!({"status": 200, "body": {"ok": true}}),
        ),
        (
            "nested",
            nested,
            json!({"n": 5}),
            json!({"n": 5, "step": 2}),
        ),
        ("lambda", lambda, json!({"n": 2}), json!({"n": 18})),
        (
            "distributed",
            distributed,
            json!([1, 2, 3, 4]),
            json!([{"v": 3}, {"v": 6}, {"v": 9}, {"v": 12}]),
        ),
        (
            "mapwaits",
            map,
            json!({"items": [1, 2, 3, 4, 5, 6, 7, 8]}),
            json!([{"v": 2}, {"v": 4}, {"v": 6}, {"v": 8}, {"v": 10}, {"v": 12}, {"v": 14}, {"v": 16}]),
        ),
        ("parallel", parallel, json!({}), json!({"joined": 3})),
        (
            "activity",
            activity,
            json!({"job": 1}),
            json!({"echo": {"job": 1}}),
        ),
    ]
}

/// An activity worker that survives server restarts: polls, answers, retries sends.
fn spawn_worker(client: Client, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let activity = format!("{ACCOUNT_PREFIX}activity:crash-worker");
        while !stop.load(Ordering::Relaxed) {
            let task = match client.call(
                "GetActivityTask",
                json!({"activityArn": activity, "workerName": "crash-test"}),
            ) {
                Ok(t) => t,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(25));
                    continue;
                }
            };
            let Some(token) = task["taskToken"].as_str() else {
                continue;
            };
            let input: Value = serde_json::from_str(task["input"].as_str().unwrap_or("null"))
                .expect("activity input is JSON");
            let output = json!({"echo": input}).to_string();
            // The server may be down: keep trying until it answers either way.
            let _ = client.retry(
                "SendTaskSuccess",
                json!({"taskToken": token, "output": output}),
            );
        }
    })
}

/// (type, state name) counts: a state entered twice by a replay shows up here.
fn shape(history: &[Value]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for e in history {
        let ty = e["type"].as_str().unwrap_or_default().to_string();
        let name = e
            .as_object()
            .and_then(|o| {
                o.values()
                    .find_map(|d| d.get("name"))
                    .and_then(Value::as_str)
            })
            .unwrap_or_default()
            .to_string();
        *m.entry((ty, name)).or_insert(0) += 1;
    }
    m
}

/// An execution's Map Runs and their child executions, each SUCCEEDED with well-formed
/// ids: (Map Runs, children, the distinct shapes of their histories).
type Children = (usize, usize, Vec<BTreeMap<(String, String), usize>>);

fn children_of(c: &Client, arn: &str) -> Children {
    let runs = c.ok("ListMapRuns", json!({"executionArn": arn}));
    let mut shapes = Vec::new();
    for run in runs["mapRuns"].as_array().into_iter().flatten() {
        let list = c.ok(
            "ListExecutions",
            json!({"mapRunArn": run["mapRunArn"], "maxResults": 100}),
        );
        for child in list["executions"].as_array().into_iter().flatten() {
            let carn = child["executionArn"].as_str().expect("child arn");
            assert_eq!(child["status"], "SUCCEEDED", "{carn}: {child}");
            let h = c.history(carn);
            check_ids(carn, &h);
            shapes.push(shape(&h));
        }
    }
    let n = shapes.len();
    shapes.sort();
    shapes.dedup();
    (runs["mapRuns"].as_array().map_or(0, |r| r.len()), n, shapes)
}

fn check_ids(arn: &str, history: &[Value]) {
    for (i, e) in history.iter().enumerate() {
        assert_eq!(e["id"], json!(i + 1), "{arn}: event ids must be 1..n: {e}");
        assert!(
            e["previousEventId"].as_u64().unwrap_or(u64::MAX) < (i + 1) as u64,
            "{arn}: previousEventId must point back: {e}"
        );
    }
}

/// Start every machine `copies` times; returns (machine, execution arn, expected output).
fn start_all(c: &Client, copies: usize, tag: &str) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (name, _, input, expected) in machines() {
        for i in 0..copies {
            let r = c.ok(
                "StartExecution",
                json!({"stateMachineArn": format!("{ACCOUNT_PREFIX}stateMachine:{name}"),
                       "name": format!("{tag}-{i}"), "input": input.to_string()}),
            );
            out.push((
                name.to_string(),
                r["executionArn"].as_str().expect("arn").to_string(),
                expected.clone(),
            ));
        }
    }
    out
}

fn setup(c: &Client) {
    for (name, def, _, _) in machines() {
        c.create_machine(name, &def);
    }
    c.ok("CreateActivity", json!({"name": "crash-worker"}));
}

/// `stepwise.toml` with the function `triple` (300 ms of real time per call), under `dir`.
fn functions_config(dir: &std::path::Path) -> String {
    let fns = dir.join("functions");
    std::fs::create_dir_all(&fns).expect("functions dir");
    std::fs::write(
        fns.join("triple.sh"),
        "read -r event\nn=$(printf '%s' \"$event\" | sed 's/[^0-9]//g')\nsleep 0.3\nprintf '{\"n\": %d}' $((n * 3))\n",
    )
    .expect("function");
    let config = fns.join("stepwise.toml");
    std::fs::write(
        &config,
        "[functions.triple]\ncommand = [\"sh\", \"triple.sh\"]\nconcurrency = 8\n\n[connections.local]\nAuthorizationType = \"API_KEY\"\n[connections.local.AuthParameters.ApiKeyAuthParameters]\nApiKeyName = \"x-api-key\"\nApiKeyValue = \"k\"\n",
    )
    .expect("config");
    config.to_string_lossy().into_owned()
}

#[test]
fn kill_9_mid_run_resumes_every_execution() {
    let dir = temp_dir("crash");
    let config = functions_config(&temp_dir("crash-functions"));
    // 1 s of execution time = 20 ms: waits of 10–30 s take 200–600 ms.
    let mut server = Server::start(&dir, &["--time-scale", "0.02", "--config", &config]);
    let c = server.client();
    setup(&c);
    let stop = Arc::new(AtomicBool::new(false));
    let worker = spawn_worker(c.clone(), Arc::clone(&stop));

    // Reference: the same executions without a crash.
    let reference = start_all(&c, 1, "ref");
    let mut expected_shape = BTreeMap::new();
    let mut expected_children = BTreeMap::new();
    for (machine, arn, expected) in &reference {
        let d = c.wait_done(arn, Duration::from_secs(60));
        assert_eq!(d["status"], "SUCCEEDED", "{arn}: {d}");
        let out: Value = serde_json::from_str(d["output"].as_str().expect("output")).expect("json");
        assert_eq!(&out, expected, "{arn}");
        let h = c.history(arn);
        check_ids(arn, &h);
        expected_shape.insert(machine.clone(), shape(&h));
        expected_children.insert(machine.clone(), children_of(&c, arn));
    }
    let (runs, children, shapes) = &expected_children["distributed"];
    assert_eq!(
        (*runs, *children, shapes.len()),
        (1, 4, 1),
        "one Map Run, 4 children alike"
    );

    // Now kill -9 the server three times while executions wait, run Maps and hold tasks.
    let runs = start_all(&c, 4, "crash");
    for delay_ms in [150u64, 330, 520] {
        std::thread::sleep(Duration::from_millis(delay_ms));
        server.kill_and_restart();
    }
    // The kills must have hit executions mid-run, or this test proves nothing.
    assert!(
        server.log_text().contains("recovered running executions"),
        "no execution was running at a kill:\n{}",
        server.log_text()
    );
    assert!(
        server
            .log_text()
            .contains("calling again what had not answered"),
        "no function call was in flight at a kill:\n{}",
        server.log_text()
    );
    let c = server.client();
    for (machine, arn, expected) in &runs {
        let d = c.wait_done(arn, Duration::from_secs(120));
        assert_eq!(
            d["status"],
            "SUCCEEDED",
            "{arn}: {d}\n{}",
            server.log_text()
        );
        let out: Value = serde_json::from_str(d["output"].as_str().expect("output")).expect("json");
        assert_eq!(&out, expected, "{arn}");
        let h = c.history(arn);
        check_ids(arn, &h);
        // A task handed to the worker just before a kill may never reach it; it then
        // times out and is retried, as on AWS. Anything else must match exactly.
        let lost_handoff = h.iter().any(|e| e["type"] == "ActivityTimedOut");
        if !lost_handoff {
            assert_eq!(
                shape(&h),
                expected_shape[machine],
                "{arn}: history differs from a run without crashes"
            );
        }
        // Child executions (Distributed Map) come back too, each once, none twice.
        assert_eq!(
            children_of(&c, arn),
            expected_children[machine],
            "{arn}: child executions differ from a run without crashes"
        );
    }
    stop.store(true, Ordering::Relaxed);
    assert_eq!(server.terminate(), Some(0), "SIGTERM must exit 0");
    drop(worker);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn acknowledged_work_survives_kill_9_and_sigterm_exits_zero() {
    let dir = temp_dir("ack");
    let mut server = Server::start(&dir, &["--time-scale", "0"]);
    let c = server.client();
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let arn = c.create_machine("acked", &def);
    let mut started = Vec::new();
    for i in 0..50 {
        let r = c.ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": format!("e{i}"), "input": format!("{{\"i\":{i}}}")}),
        );
        started.push(r["executionArn"].as_str().expect("arn").to_string());
    }
    let metrics = ureq::get(&format!("{}/metrics", server.url()))
        .call()
        .expect("metrics")
        .into_string()
        .expect("metrics text");
    for line in [
        "stepwise_executions_started_total 50",
        "stepwise_executions_finished_total{status=\"SUCCEEDED\"} 50",
        "stepwise_state_transitions_total 50",
        "stepwise_open_executions 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing in:\n{metrics}"
        );
    }
    assert!(
        metrics.contains("stepwise_commit_seconds_bucket"),
        "{metrics}"
    );
    server.kill_and_restart();
    let c = server.client();
    for (i, e) in started.iter().enumerate() {
        let d = c.ok("DescribeExecution", json!({"executionArn": e}));
        assert_eq!(d["status"], "SUCCEEDED");
        assert_eq!(d["output"], json!(format!("{{\"i\":{i}}}")));
    }
    // A name is taken for good, also after the restart.
    let again = c.call(
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "e0", "input": "{\"other\":1}"}),
    );
    assert_eq!(
        again.map_err(|e| e.0),
        Err("ExecutionAlreadyExists".to_string())
    );
    assert_eq!(server.terminate(), Some(0));
    assert!(server.log_text().contains("shutting down"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A loop with no Wait or Task runs in bounded steps: an EXPRESS one (no history
/// limit) times out at its five minutes (3 s at `--time-scale 0.01`) while the server
/// keeps answering, and a long Standard loop finishes with one unbroken history.
#[test]
fn long_loops_yield_and_express_ones_time_out() {
    let data = temp_dir("yield");
    let server = Server::start(&data, &["--time-scale", "0.01"]);
    let c = server.client();
    let spin = json!({"StartAt": "Spin", "States": {
        "Spin": {"Type": "Pass", "Next": "Again"},
        "Again": {"Type": "Choice",
                  "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "End"}],
                  "Default": "Spin"},
        "End": {"Type": "Succeed"}}});
    let express = c.ok(
        "CreateStateMachine",
        json!({"name": "spin", "type": "EXPRESS", "definition": spin.to_string(),
                   "roleArn": "arn:aws:iam::123456789012:role/stepwise"}),
    )["stateMachineArn"]
        .as_str()
        .expect("stateMachineArn")
        .to_string();
    let sync = {
        let c = c.clone();
        std::thread::spawn(move || {
            c.ok(
                "StartSyncExecution",
                json!({"stateMachineArn": express, "input": "{}"}),
            )
        })
    };
    // Meanwhile the server answers others (it used to spin inside one step, lock held).
    std::thread::sleep(Duration::from_millis(300));
    let counter: Value =
        serde_json::from_str(include_str!("../../../testdata/loops/counter.json")).unwrap();
    let standard = c.create_machine("counter", &counter);
    let e = c.ok(
        "StartExecution",
        json!({"stateMachineArn": standard, "input": json!({"n": 0, "to": 6000}).to_string()}),
    )["executionArn"]
        .as_str()
        .expect("executionArn")
        .to_string();
    let d = c.wait_done(&e, Duration::from_secs(60));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let output: Value = serde_json::from_str(d["output"].as_str().unwrap_or("null")).unwrap();
    assert_eq!(output, json!({"n": 6000, "to": 6000}));
    let h = c.history(&e);
    check_ids(&e, &h);
    // ExecutionStarted, 6,000 rounds of Pass and Choice (4 events each), End's two,
    // ExecutionSucceeded: nothing twice at the yields.
    assert_eq!(h.len(), 1 + 6000 * 4 + 2 + 1, "history length");

    let r = sync.join().expect("StartSyncExecution thread");
    assert_eq!(r["status"], "TIMED_OUT", "{r}");
    assert_eq!(r["error"], "States.Timeout");
}

/// One server per data directory (a second `serve` on it exits with a clear error), the
/// directory it creates is 0700 and its files 0600.
#[cfg(unix)]
#[test]
fn one_server_per_data_directory_and_private_files() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Command, Stdio};
    let dir = temp_dir("private");
    let server = Server::start(&dir, &[]);
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    for f in [
        "stepwise.db",
        "stepwise.db-wal",
        "stepwise.db-shm",
        "stepwise.lock",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    let second = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("run a second server");
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("another stepwise server is using the data directory"),
        "{err}"
    );
    // The first one is unaffected.
    assert_eq!(
        ureq::get(&format!("{}/health", server.url()))
            .call()
            .map(|r| r.status())
            .ok(),
        Some(200)
    );
    drop(server);
    // A data directory the server creates itself is its owner's only.
    let fresh = dir.join("fresh/data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(&fresh)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a server on a new directory");
    let started = std::time::Instant::now();
    while !fresh.join("stepwise.db-wal").exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join("stepwise.db")), 0o600);
    let _ = std::fs::remove_dir_all(&dir);
}
