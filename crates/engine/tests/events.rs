//! Status-change events and retention through the engine: one event per status change,
//! written in the very batch that writes the change; delivery to a real HTTP receiver;
//! closed executions removed with their history and their names free again.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stepwise_engine::{Config, Engine, ErrorCode, NewStateMachine, StartRequest};
use stepwise_store::{
    Batch, Catalog, ExecutionQuery, ExecutionRecord, MachineType, OutboxEvent, Recovery, Store,
    StoredEvent, Write,
};
use stepwise_store_sqlite::SqliteStore;
use stepwise_tasks::config::Webhook;

const PREFIX: &str = "arn:aws:states:us-east-1:123456789012:";

/// SQLite in memory, keeping a copy of every batch committed.
struct Recording {
    inner: SqliteStore,
    batches: Mutex<Vec<Batch>>,
}

impl Recording {
    fn new() -> Arc<Recording> {
        Arc::new(Recording {
            inner: SqliteStore::open_in_memory().expect("store"),
            batches: Mutex::new(Vec::new()),
        })
    }
    fn batches(&self) -> Vec<Batch> {
        self.batches.lock().expect("lock").clone()
    }
}

impl Store for Recording {
    fn commit(&self, batches: &[Batch]) -> stepwise_store::Result<()> {
        self.inner.commit(batches)?;
        self.batches
            .lock()
            .expect("lock")
            .extend_from_slice(batches);
        Ok(())
    }
    fn load_catalog(&self) -> stepwise_store::Result<Catalog> {
        self.inner.load_catalog()
    }
    fn load_recovery(&self) -> stepwise_store::Result<Recovery> {
        self.inner.load_recovery()
    }
    fn execution(&self, arn: &str) -> stepwise_store::Result<Option<ExecutionRecord>> {
        self.inner.execution(arn)
    }
    fn map_run_execution(&self, arn: &str) -> stepwise_store::Result<Option<String>> {
        self.inner.map_run_execution(arn)
    }
    fn execution_arns(&self, each: &mut dyn FnMut(&str)) -> stepwise_store::Result<()> {
        self.inner.execution_arns(each)
    }
    fn executions(&self, q: &ExecutionQuery) -> stepwise_store::Result<Vec<ExecutionRecord>> {
        self.inner.executions(q)
    }
    fn execution_counts(&self) -> stepwise_store::Result<Vec<(String, String, u64)>> {
        self.inner.execution_counts()
    }
    fn history(
        &self,
        arn: &str,
        from: u64,
        reverse: bool,
        limit: usize,
    ) -> stepwise_store::Result<Vec<StoredEvent>> {
        self.inner.history(arn, from, reverse, limit)
    }
    fn events(&self, after: u64, limit: usize) -> stepwise_store::Result<Vec<OutboxEvent>> {
        self.inner.events(after, limit)
    }
    fn delete_closed_executions(
        &self,
        before: i64,
        limit: usize,
    ) -> stepwise_store::Result<Vec<String>> {
        self.inner.delete_closed_executions(before, limit)
    }
}

fn config(webhooks: Vec<Webhook>) -> Config {
    Config {
        time_scale: 0.0,
        webhooks,
        ..Config::default()
    }
}

/// A webhook nobody listens on (its events stay in the outbox).
fn nowhere() -> Webhook {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    Webhook {
        max_backoff: Duration::from_secs(60),
        ..Webhook::at(&format!("http://127.0.0.1:{port}/")).expect("url")
    }
}

async fn machine(e: &Engine, name: &str, ty: MachineType, def: Value) -> String {
    e.create_state_machine(NewStateMachine {
        machine_type: ty,
        ..NewStateMachine::standard(name, def.to_string(), "arn:aws:iam::123456789012:role/r")
    })
    .await
    .expect("create machine")
    .0
    .arn
}

async fn start(e: &Engine, machine_arn: &str, name: &str) -> String {
    e.start_execution(
        StartRequest {
            state_machine_arn: machine_arn.into(),
            name: Some(name.into()),
            input: Some(r#"{"n":1}"#.into()),
            trace_header: None,
        },
        false,
    )
    .await
    .expect("start")
    .0
    .arn
}

async fn status(e: &Engine, arn: &str, want: &str) {
    for _ in 0..500 {
        if e.describe_execution(arn).await.expect("describe").status == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{arn} never {want}");
}

/// (execution ARN, status) of each event in `batch`, in order.
fn events_in(batch: &Batch) -> Vec<(String, String)> {
    batch
        .writes
        .iter()
        .filter_map(|w| match w {
            Write::PutEvent(ev) => {
                let v: Value = serde_json::from_str(&ev.body).expect("event JSON");
                assert_eq!(v["id"], ev.id.as_str(), "the row's id is the event's");
                assert_eq!(v["detail"]["executionArn"], ev.execution_arn.as_str());
                Some((
                    ev.execution_arn.clone(),
                    v["detail"]["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ))
            }
            _ => None,
        })
        .collect()
}

/// (execution ARN, status) of each status the batch writes.
fn changes_in(
    batch: &Batch,
    known: &mut std::collections::HashMap<String, String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in &batch.writes {
        let (arn, status, fresh) = match w {
            // AWS sends no events for EXPRESS executions.
            Write::InsertExecution(r)
                if r.map_run_arn.is_none() && r.machine_type == MachineType::Standard =>
            {
                (&r.arn, &r.status, true)
            }
            Write::UpdateExecution(u) => (&u.arn, &u.status, false),
            _ => continue,
        };
        let before = known.insert(arn.clone(), status.clone());
        if fresh && status != "RUNNING" {
            // Inserted already finished: it started in this batch too.
            out.push((arn.clone(), "RUNNING".to_string()));
        }
        if fresh || before.as_deref() != Some(status.as_str()) {
            out.push((arn.clone(), status.clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_status_change_is_one_event_in_the_batch_that_writes_it() {
    let store = Recording::new();
    let e = Engine::open(store.clone(), config(vec![nowhere()])).expect("engine");
    e.create_activity("jobs", Vec::new(), Default::default())
        .await
        .expect("activity");
    let quick = machine(
        &e,
        "quick",
        MachineType::Standard,
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let waits = machine(
        &e,
        "waits",
        MachineType::Standard,
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "F"},
               "F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}),
    )
    .await;
    let works = machine(
        &e,
        "works",
        MachineType::Standard,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task",
               "Resource": format!("{PREFIX}activity:jobs"), "End": true}}}),
    )
    .await;
    let express = machine(
        &e,
        "fast",
        MachineType::Express,
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .await;

    let a = start(&e, &quick, "a").await;
    status(&e, &a, "SUCCEEDED").await;
    let b = start(&e, &waits, "b").await;
    status(&e, &b, "FAILED").await;
    let c = start(&e, &works, "c").await;
    e.stop_execution(&c, Some("Stop".into()), Some("by test".into()))
        .await
        .expect("stop");
    status(&e, &c, "ABORTED").await;
    e.redrive_execution(&c).await.expect("redrive");
    status(&e, &c, "RUNNING").await;
    e.stop_execution(&c, None, None).await.expect("stop again");
    status(&e, &c, "ABORTED").await;
    let x = start(&e, &express, "x").await;
    e.shutdown();

    // Every batch carries exactly the events of the status changes it writes.
    let mut known = std::collections::HashMap::new();
    let mut all = Vec::new();
    for batch in store.batches() {
        let changes = changes_in(&batch, &mut known);
        assert_eq!(events_in(&batch), changes, "{batch:#?}");
        all.extend(changes);
    }
    let of = |arn: &str| -> Vec<String> {
        all.iter()
            .filter(|(a, _)| a == arn)
            .map(|(_, s)| s.clone())
            .collect()
    };
    assert_eq!(of(&a), ["RUNNING", "SUCCEEDED"]);
    assert_eq!(of(&b), ["RUNNING", "FAILED"]);
    assert_eq!(of(&c), ["RUNNING", "ABORTED", "RUNNING", "ABORTED"]);
    assert!(
        !all.iter().any(|(arn, _)| *arn == x),
        "no events for EXPRESS executions, as on AWS"
    );

    // The outbox holds them all (nobody took them), in order, each with its own id.
    let outbox = store.events(0, 100).expect("outbox");
    assert_eq!(outbox.len(), 8);
    let ids: std::collections::HashSet<&str> = outbox.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), 8, "ids are unique");
    let bodies: Vec<Value> = outbox
        .iter()
        .map(|o| serde_json::from_str(&o.body).expect("JSON"))
        .collect();
    // AWS's envelope and detail, field by field.
    let started = &bodies[0];
    assert_eq!(started["version"], "0");
    assert_eq!(
        started["detail-type"],
        "Step Functions Execution Status Change"
    );
    assert_eq!(started["source"], "aws.states");
    assert_eq!(started["account"], "123456789012");
    assert_eq!(started["region"], "us-east-1");
    assert_eq!(started["resources"], json!([a]));
    let time = started["time"].as_str().expect("time");
    assert!(time.len() == 20 && time.ends_with('Z'), "{time}");
    let d = &started["detail"];
    assert_eq!(d["executionArn"], a.as_str());
    assert_eq!(d["stateMachineArn"], quick.as_str());
    assert_eq!(d["name"], "a");
    assert_eq!(d["status"], "RUNNING");
    assert!(d["startDate"].is_i64());
    assert_eq!(d["stopDate"], Value::Null);
    assert_eq!(d["input"], r#"{"n":1}"#);
    assert_eq!(d["inputDetails"], json!({"included": true}));
    assert_eq!(d["output"], Value::Null);
    assert_eq!(d["outputDetails"], Value::Null);
    assert_eq!(d["redriveCount"], 0);
    assert_eq!(d["redriveStatus"], "NOT_REDRIVABLE");
    assert_eq!(
        d["redriveStatusReason"],
        "Execution is RUNNING and cannot be redriven"
    );
    let done = &bodies[1]["detail"];
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["output"], r#"{"n":1}"#);
    assert_eq!(done["outputDetails"], json!({"included": true}));
    assert!(done["stopDate"].as_i64() >= done["startDate"].as_i64());
    let failed = bodies
        .iter()
        .map(|b| &b["detail"])
        .find(|d| d["status"] == "FAILED")
        .expect("FAILED event");
    assert_eq!(failed["error"], "Boom");
    assert_eq!(failed["cause"], "on purpose");
    assert_eq!(failed["redriveStatus"], "REDRIVABLE");
    let redriven: Vec<&Value> = bodies
        .iter()
        .map(|b| &b["detail"])
        .filter(|d| d["executionArn"] == c.as_str())
        .collect();
    assert_eq!(redriven[1]["error"], "Stop");
    assert_eq!(redriven[2]["status"], "RUNNING");
    assert_eq!(redriven[2]["redriveCount"], 1);
    assert!(redriven[2]["redriveDate"].is_i64());
    assert_eq!(redriven[3]["redriveCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_webhooks_nothing_is_written() {
    let store = Recording::new();
    let e = Engine::open(store.clone(), config(Vec::new())).expect("engine");
    let m = machine(
        &e,
        "quiet",
        MachineType::Standard,
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let a = start(&e, &m, "a").await;
    status(&e, &a, "SUCCEEDED").await;
    e.shutdown();
    assert!(store.batches().iter().all(|b| events_in(b).is_empty()));
    assert!(store.events(0, 10).expect("outbox").is_empty());
}

/// An HTTP/1.1 receiver on a thread: records each request body and answers 200
/// (`fail_first` requests get a 503 first).
struct Receiver {
    bodies: Arc<Mutex<Vec<String>>>,
    port: u16,
}

impl Receiver {
    fn start(fail_first: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&bodies);
        let failures = Arc::new(Mutex::new(fail_first));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (seen, failures) = (Arc::clone(&seen), Arc::clone(&failures));
                std::thread::spawn(move || {
                    let mut w = conn.try_clone().expect("clone");
                    let mut r = BufReader::new(conn);
                    loop {
                        let mut len = 0usize;
                        let mut json_type = false;
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            line.clear();
                            if r.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let l = line.trim_end().to_ascii_lowercase();
                            if l.is_empty() {
                                break;
                            }
                            if let Some(v) = l.strip_prefix("content-length:") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                            json_type |= l == "content-type: application/json";
                        }
                        let mut body = vec![0; len];
                        if r.read_exact(&mut body).is_err() {
                            return;
                        }
                        assert!(json_type, "Content-Type: application/json");
                        let fail = {
                            let mut f = failures.lock().expect("lock");
                            let fail = *f > 0;
                            *f = f.saturating_sub(1);
                            fail
                        };
                        let answer = if fail {
                            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
                        } else {
                            seen.lock()
                                .expect("lock")
                                .push(String::from_utf8_lossy(&body).into_owned());
                            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
                        };
                        if w.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver { bodies, port }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_a_receiver_through_failures_and_leave_the_outbox() {
    let rx = Receiver::start(3);
    let hook = Webhook {
        max_backoff: Duration::from_millis(50),
        ..Webhook::at(&format!("http://127.0.0.1:{}/hook", rx.port)).expect("url")
    };
    let store = Recording::new();
    let e = Engine::open(store.clone(), config(vec![hook])).expect("engine");
    let m = machine(
        &e,
        "sent",
        MachineType::Standard,
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let mut arns = Vec::new();
    for i in 0..5 {
        arns.push(start(&e, &m, &format!("e{i}")).await);
    }
    let mut got = Vec::new();
    for _ in 0..500 {
        got = rx.bodies.lock().expect("lock").clone();
        if got.len() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got: Vec<Value> = got
        .iter()
        .map(|b| serde_json::from_str(b).expect("JSON"))
        .collect();
    assert_eq!(got.len(), 10, "two events per execution, after 3 refusals");
    for arn in &arns {
        let statuses: Vec<&str> = got
            .iter()
            .filter(|v| v["detail"]["executionArn"] == arn.as_str())
            .filter_map(|v| v["detail"]["status"].as_str())
            .collect();
        assert_eq!(statuses, ["RUNNING", "SUCCEEDED"], "{arn}: in order");
    }
    // Delivered events leave the outbox.
    for _ in 0..200 {
        if store.events(0, 100).expect("outbox").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(store.events(0, 100).expect("outbox").is_empty());
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_closed_executions_and_frees_their_names() {
    let store = Recording::new();
    let e = Engine::open(store.clone(), config(Vec::new())).expect("engine");
    e.create_activity("held", Vec::new(), Default::default())
        .await
        .expect("activity");
    let quick = machine(
        &e,
        "done",
        MachineType::Standard,
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let held = machine(
        &e,
        "held",
        MachineType::Standard,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task",
               "Resource": format!("{PREFIX}activity:held"), "End": true}}}),
    )
    .await;
    let a = start(&e, &quick, "a").await;
    status(&e, &a, "SUCCEEDED").await;
    let r = start(&e, &held, "r").await;
    // Kept while younger than the retention.
    assert_eq!(
        e.remove_closed_executions(Duration::from_secs(3600)).await,
        0
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(e.remove_closed_executions(Duration::ZERO).await, 1);
    let gone = e.describe_execution(&a).await.expect_err("deleted");
    assert_eq!(gone.code, ErrorCode::ExecutionDoesNotExist);
    let gone = e
        .execution_history(&a, 0, false, 10)
        .await
        .expect_err("no history");
    assert_eq!(gone.code, ErrorCode::ExecutionDoesNotExist);
    assert!(store.history(&a, 0, false, 10).expect("history").is_empty());
    // The running one stays.
    assert_eq!(
        e.describe_execution(&r).await.expect("running").status,
        "RUNNING"
    );
    // The name is free again: a new execution under the same ARN.
    let again = start(&e, &quick, "a").await;
    assert_eq!(again, a);
    status(&e, &a, "SUCCEEDED").await;
    assert_eq!(
        e.execution_history(&a, 0, false, 100)
            .await
            .expect("history")
            .len(),
        4
    );
    e.shutdown();
}
