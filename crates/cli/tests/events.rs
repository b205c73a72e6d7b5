//! Status-change events to a real HTTP receiver through `stepwise serve`, across the
//! receiver being down and a `kill -9` of the server; and retention removing closed
//! executions so their names can be used again.

#[allow(dead_code)]
mod common;

use common::server::{Server, ACCOUNT_PREFIX};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("stepwise-events-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// An HTTP/1.1 receiver on a port: records every request body (also those it refuses)
/// and answers 200, or 503 to its first `refuse` requests. `down` closes the port and
/// every connection.
struct Receiver {
    port: u16,
    stop: Arc<AtomicBool>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

type Bodies = Arc<Mutex<Vec<String>>>;

impl Receiver {
    fn up(port: u16, bodies: &Bodies, refuse: usize) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let refuse = Arc::new(AtomicUsize::new(refuse));
        let accept = {
            let (stop, threads, bodies) =
                (Arc::clone(&stop), Arc::clone(&threads), Arc::clone(bodies));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let (stop, bodies, refuse) =
                                (Arc::clone(&stop), Arc::clone(&bodies), Arc::clone(&refuse));
                            let t =
                                std::thread::spawn(move || serve(conn, &stop, &bodies, &refuse));
                            threads.lock().expect("lock").push(t);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Receiver {
            port,
            stop,
            threads,
            accept: Some(accept),
        }
    }

    fn down(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        for t in self.threads.lock().expect("lock").drain(..) {
            let _ = t.join();
        }
    }
}

/// One connection: requests parsed by hand until the peer closes or the receiver stops.
fn serve(mut conn: TcpStream, stop: &AtomicBool, bodies: &Bodies, refuse: &AtomicUsize) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // A whole request in the buffer?
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                assert!(head.starts_with("post "), "{head}");
                assert!(head.contains("content-type: application/json"), "{head}");
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
                buf.drain(..end + 4 + len);
                bodies.lock().expect("lock").push(body);
                let refused = refuse
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let answer: &[u8] = if refused {
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
                };
                if conn.write_all(answer).is_err() {
                    return;
                }
                continue;
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

fn parsed(bodies: &Bodies) -> Vec<Value> {
    bodies
        .lock()
        .expect("lock")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap_or_else(|e| panic!("not JSON ({e}): {b}")))
        .collect()
}

/// (execution name, status) of every event received.
fn changes(events: &[Value]) -> BTreeSet<(String, String)> {
    events
        .iter()
        .map(|v| {
            (
                v["detail"]["name"].as_str().unwrap_or_default().to_string(),
                v["detail"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn wait_for(bodies: &Bodies, want: &BTreeSet<(String, String)>, within: Duration) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let got = parsed(bodies);
        if want.is_subset(&changes(&got)) {
            return got;
        }
        assert!(
            start.elapsed() < within,
            "missing after {within:?}: {:?}",
            want.difference(&changes(&got)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn expect(names: &[&str]) -> BTreeSet<(String, String)> {
    names
        .iter()
        .flat_map(|n| {
            [
                (n.to_string(), "RUNNING".to_string()),
                (n.to_string(), "SUCCEEDED".to_string()),
            ]
        })
        .collect()
}

#[test]
fn every_status_change_arrives_at_least_once_across_a_receiver_outage_and_a_kill_9() {
    let dir = temp_dir("deliver");
    let bodies: Bodies = Arc::default();
    let rx = Receiver::up(0, &bodies, 0);
    let port = rx.port;
    let config = dir.join("stepwise.toml");
    std::fs::write(
        &config,
        format!(
            "[[webhooks]]\nurl = \"http://127.0.0.1:{port}/events\"\nheaders = {{ X-Test = \"1\" }}\ntimeout = 2\nmax_backoff = 0.2\n"
        ),
    )
    .expect("config");
    let data = dir.join("data");
    let config_arg = config.to_string_lossy().into_owned();
    let mut server = Server::start(&data, &["--config", &config_arg]);
    let client = server.client();
    let quick = client.create_machine(
        "quick",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let slow = client.create_machine(
        "slow",
        &json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "End": true}}}),
    );
    let run = |machine: &str, name: &str| {
        client.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name, "input": "{\"k\":1}"}),
        )["executionArn"]
            .as_str()
            .expect("executionArn")
            .to_string()
    };

    // Up: events arrive, in AWS's shape.
    let t = Instant::now();
    for n in ["a1", "a2", "a3"] {
        let arn = run(&quick, n);
        client.wait_done(&arn, Duration::from_secs(10));
    }
    let got = wait_for(
        &bodies,
        &expect(&["a1", "a2", "a3"]),
        Duration::from_secs(10),
    );
    eprintln!("receiver up: 6 events in {:?}", t.elapsed());
    let first = got
        .iter()
        .find(|v| v["detail"]["name"] == "a1" && v["detail"]["status"] == "SUCCEEDED")
        .expect("a1 SUCCEEDED");
    assert_eq!(first["version"], "0");
    assert_eq!(
        first["detail-type"],
        "Step Functions Execution Status Change"
    );
    assert_eq!(first["source"], "aws.states");
    assert_eq!(first["account"], "123456789012");
    assert_eq!(first["region"], "us-east-1");
    let a1 = format!("{ACCOUNT_PREFIX}execution:quick:a1");
    assert_eq!(first["resources"], json!([a1]));
    let d = &first["detail"];
    assert_eq!(d["executionArn"], a1.as_str());
    assert_eq!(d["stateMachineArn"], quick.as_str());
    assert_eq!(d["input"], "{\"k\":1}");
    assert_eq!(d["output"], "{\"k\":1}");
    assert_eq!(d["inputDetails"], json!({"included": true}));
    assert_eq!(d["outputDetails"], json!({"included": true}));
    assert!(d["startDate"].is_i64() && d["stopDate"].is_i64());
    assert_eq!(d["error"], Value::Null);
    assert_eq!(d["redriveCount"], 0);
    let id = first["id"].as_str().expect("id");
    assert_eq!(id.len(), 36, "a UUID: {id}");

    // Down: executions go on; their events wait in the outbox.
    rx.down();
    for n in ["b1", "b2", "b3"] {
        let arn = run(&quick, n);
        client.wait_done(&arn, Duration::from_secs(10));
    }
    // One RUNNING across the restart: its end comes from the next process.
    let s1 = run(&slow, "s1");
    std::thread::sleep(Duration::from_millis(300));
    // kill -9, and start again with the receiver still down.
    server.kill_and_restart();
    let client = server.client();
    let c1 = run(&quick, "c1");
    client.wait_done(&c1, Duration::from_secs(10));
    client.wait_done(&s1, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));

    // Up again on the same port, refusing its first two requests (retried, same id).
    let received_before = bodies.lock().expect("lock").len();
    let t = Instant::now();
    let rx = Receiver::up(port, &bodies, 2);
    let all = ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "s1"];
    let got = wait_for(&bodies, &expect(&all), Duration::from_secs(30));
    eprintln!(
        "receiver back: every missing event in {:?} ({} requests, {} before the outage)",
        t.elapsed(),
        got.len(),
        received_before
    );

    // One id per status change, the same on every repeat (the same text, too).
    let mut by_id: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for v in &got {
        by_id
            .entry(v["id"].as_str().expect("id").to_string())
            .or_default()
            .push(v.clone());
    }
    for (id, copies) in &by_id {
        assert!(
            copies.windows(2).all(|w| w[0] == w[1]),
            "repeats of {id} differ"
        );
    }
    let mut ids_per_change: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for v in &got {
        ids_per_change
            .entry((
                v["detail"]["name"].as_str().unwrap_or_default().to_string(),
                v["detail"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ))
            .or_default()
            .insert(v["id"].as_str().unwrap_or_default().to_string());
    }
    for (change, ids) in &ids_per_change {
        assert_eq!(ids.len(), 1, "{change:?} has one id: {ids:?}");
    }
    assert_eq!(by_id.len(), all.len() * 2, "no event was invented");
    let repeats = got.len() - by_id.len();
    assert!(
        repeats >= 2,
        "the two refused requests came again: {repeats}"
    );
    eprintln!("{} distinct events, {repeats} repeats", by_id.len());
    // Per execution, first arrivals in order: RUNNING before its end.
    for n in all {
        let first_of = |s: &str| {
            got.iter()
                .position(|v| v["detail"]["name"] == n && v["detail"]["status"] == s)
                .expect("arrived")
        };
        assert!(first_of("RUNNING") < first_of("SUCCEEDED"), "{n} in order");
    }
    rx.down();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn closed_executions_go_after_the_retention_and_their_names_are_free() {
    let dir = temp_dir("retention");
    // 0.00002 days: 1.7 seconds.
    let server = Server::start(&dir, &["--retention-days", "0.00002"]);
    let client = server.client();
    client.ok("CreateActivity", json!({"name": "held"}));
    let quick = client.create_machine(
        "quick",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let held = client.create_machine(
        "held",
        &json!({"StartAt": "T", "States": {"T": {"Type": "Task",
               "Resource": format!("{ACCOUNT_PREFIX}activity:held"), "End": true}}}),
    );
    let start = |machine: &str, name: &str| {
        client.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name}),
        )["executionArn"]
            .as_str()
            .expect("arn")
            .to_string()
    };
    let a = start(&quick, "a");
    let first = client.wait_done(&a, Duration::from_secs(10));
    let r = start(&held, "r");
    assert_eq!(client.history(&a).len(), 4);
    let t = Instant::now();
    loop {
        match client.call("DescribeExecution", json!({"executionArn": a})) {
            Err((code, _)) if code == "ExecutionDoesNotExist" => break,
            Ok(_) => {}
            Err(e) => panic!("describe: {e:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(15), "{a} never removed");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("removed {:?} after it stopped", t.elapsed());
    let history = client.call("GetExecutionHistory", json!({"executionArn": a}));
    assert_eq!(
        history.map_err(|e| e.0),
        Err("ExecutionDoesNotExist".into())
    );
    let listed = client.ok("ListExecutions", json!({"stateMachineArn": quick}));
    assert_eq!(listed["executions"], json!([]));
    // The running one stays.
    let d = client.ok("DescribeExecution", json!({"executionArn": r}));
    assert_eq!(d["status"], "RUNNING");
    // The name is free: the same ARN, a new execution.
    assert_eq!(start(&quick, "a"), a);
    let second = client.wait_done(&a, Duration::from_secs(10));
    assert_eq!(second["status"], "SUCCEEDED");
    assert!(second["startDate"].as_f64() > first["startDate"].as_f64());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_webhook_urls_and_retention_are_refused_naming_the_setting() {
    let dir = temp_dir("bad");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--port")
            .arg("0")
            .args(args)
            .output()
            .expect("run stepwise");
        assert!(!out.status.success(), "{args:?} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(&["--webhook", "localhost:9000"]);
    assert!(
        e.contains("--webhook: 'localhost:9000' is not an http"),
        "{e}"
    );
    let config = dir.join("stepwise.toml");
    std::fs::write(&config, "[[webhooks]]\nurl = \"ftp://example.com/\"\n").expect("config");
    let e = run(&["--config", &config.to_string_lossy()]);
    assert!(e.contains("webhooks[0].url"), "{e}");
    let e = run(&["--retention-days=-1"]);
    assert!(e.contains("--retention-days"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `stepwise run --config` sends its execution's status changes to the file's
/// `[[webhooks]]` too, and exits only once they were taken (the receiver refuses the first
/// attempt, so one is retried).
#[test]
fn run_sends_its_status_changes_to_the_webhooks_before_it_exits() {
    let dir = temp_dir("run");
    let bodies: Bodies = Arc::default();
    let rx = Receiver::up(0, &bodies, 1);
    let config = dir.join("stepwise.toml");
    std::fs::write(
        &config,
        format!(
            "[[webhooks]]\nurl = \"http://127.0.0.1:{}/events\"\nmax_backoff = 0.2\n",
            rx.port
        ),
    )
    .expect("config");
    let definition = dir.join("m.asl.json");
    std::fs::write(
        &definition,
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}"#,
    )
    .expect("definition");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .arg(&definition)
        .args(["--input", "{\"k\": 1}"])
        .output()
        .expect("stepwise run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Taken before `run` exited: no waiting here.
    let got = parsed(&bodies);
    let statuses: Vec<&str> = got
        .iter()
        .map(|v| v["detail"]["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        ["RUNNING", "RUNNING", "SUCCEEDED"],
        "the refused first attempt, its retry, then the end: {got:?}"
    );
    assert_eq!(got[0]["id"], got[1]["id"], "a retry repeats the event's id");
    assert_eq!(got[2]["detail"]["output"], "{\"ok\":true}");
    assert_eq!(
        got[2]["detail-type"],
        "Step Functions Execution Status Change"
    );
    rx.down();
    let _ = std::fs::remove_dir_all(&dir);
}
