//! Rough throughput figures (ignored by default; run with
//! `cargo test -p stepwise-store-sqlite --release -- --ignored --nocapture`).
//! They print numbers; they assert only that the data arrived.

use std::time::Instant;
use stepwise_store::*;
use stepwise_store_sqlite::SqliteStore;

fn definition() -> String {
    let states: Vec<String> = (0..8)
        .map(|i| format!(r#""S{i}":{{"Type":"Pass","Result":{{"step":{i},"note":"padding padding padding"}},"Next":"S{}"}}"#, i + 1))
        .collect();
    format!(
        r#"{{"StartAt":"S0","States":{{{},"S8":{{"Type":"Succeed"}}}}}}"#,
        states.join(",")
    )
}

fn record(n: usize, def: &str) -> ExecutionRecord {
    ExecutionRecord {
        arn: format!("arn:aws:states:us-east-1:123456789012:execution:bench:{n:08}-5f1c2a7e-0000-4000-8000-000000000000"),
        machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:bench".to_string(),
        version_arn: None,
        alias_arn: None,
        name: format!("{n:08}-5f1c2a7e-0000-4000-8000-000000000000"),
        machine_type: MachineType::Standard,
        status: "RUNNING".to_string(),
        input: r#"{"orderId":"12345","items":[1,2,3],"customer":{"id":"c-1","tier":"gold"}}"#.to_string(),
        output: None,
        error: None,
        cause: None,
        start_millis: 1_700_000_000_000 + n as i64,
        stop_millis: None,
        redrive_count: 0,
        redrive_millis: None,
        definition: def.to_string(),
        test_case: None,
        trace_header: None,
        snapshot: Some(vec![7; 160]),
        history_len: 0,
        transitions: 0,
        map_run_arn: None,
    }
}

fn events(n: usize) -> Vec<StoredEvent> {
    (1..=8u64)
        .map(|id| StoredEvent {
            id,
            json: format!(r#"{{"timestamp":{},"type":"PassStateExited","id":{id},"previousEventId":{},"stateExitedEventDetails":{{"name":"S{id}","output":"{{\"step\":{id}}}","outputDetails":{{"truncated":false}}}}}}"#, 1_700_000_000_000u64 + n as u64, id - 1),
        })
        .collect()
}

#[test]
#[ignore]
fn commit_throughput() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("bench.db")).expect("open");
    let def = definition();
    let total = 10_000;
    let per_commit = 100;
    let start = Instant::now();
    for chunk in 0..total / per_commit {
        let batches: Vec<Batch> = (0..per_commit)
            .map(|k| {
                let n = chunk * per_commit + k;
                let rec = record(n, &def);
                let update = ExecutionUpdate {
                    arn: rec.arn.clone(),
                    status: "SUCCEEDED".to_string(),
                    output: Some(r#"{"ok":true}"#.to_string()),
                    error: None,
                    cause: None,
                    stop_millis: Some(rec.start_millis + 5),
                    redrive_count: 0,
                    redrive_millis: None,
                    snapshot: None,
                    history_len: 8,
                    transitions: 4,
                };
                Batch {
                    writes: vec![
                        Write::AppendHistory {
                            execution_arn: rec.arn.clone(),
                            events: events(n),
                        },
                        Write::UpdateExecution(update),
                    ],
                }
                .with_insert(rec)
            })
            .collect();
        store.commit(&batches).expect("commit");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "commit_throughput: {total} executions (insert + 8 events + update) in {} commits: {:.3} s = {:.0} executions/s, {:.0} events/s",
        total / per_commit,
        secs,
        total as f64 / secs,
        (total * 8) as f64 / secs
    );
    let q = ExecutionQuery {
        limit: 5,
        ..Default::default()
    };
    assert_eq!(store.executions(&q).expect("list").len(), 5);
}

#[test]
#[ignore]
fn recovery_of_100k_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let def = definition();
    let total = 100_000;
    {
        let store = SqliteStore::open(&path).expect("open");
        let start = Instant::now();
        for chunk in 0..total / 1000 {
            let batches: Vec<Batch> = (0..1000)
                .map(|k| {
                    let rec = record(chunk * 1000 + k, &def);
                    let timer = TimerRecord {
                        execution_arn: rec.arn.clone(),
                        timer: 1,
                        due_millis: 5,
                    };
                    Batch {
                        writes: vec![Write::PutTimer(timer)],
                    }
                    .with_insert(rec)
                })
                .collect();
            store.commit(&batches).expect("commit");
        }
        println!(
            "recovery_of_100k_running: inserted {total} in {:.3} s",
            start.elapsed().as_secs_f64()
        );
    }
    let start = Instant::now();
    let store = SqliteStore::open(&path).expect("reopen");
    let r = store.load_recovery().expect("recovery");
    println!(
        "recovery_of_100k_running: open + load_recovery of {} executions, {} timers: {:.3} s",
        r.running.len(),
        r.timers.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(r.running.len(), total);
    assert_eq!(r.timers.len(), total);
}

trait WithInsert {
    fn with_insert(self, rec: ExecutionRecord) -> Batch;
}

impl WithInsert for Batch {
    /// Puts the InsertExecution first, as the engine does.
    fn with_insert(mut self, rec: ExecutionRecord) -> Batch {
        self.writes.insert(0, Write::InsertExecution(rec));
        self
    }
}
