//! `Engine::stuck_executions`: parked executions are listed from memory with what they
//! wait for; young ones are not.

use crate::{Config, Engine, NewStateMachine, StartRequest, WaitsFor};
use serde_json::{json, Value};
use std::sync::Arc;
use stepwise_store_sqlite::SqliteStore;

async fn machine(e: &Engine, name: &str, def: Value) -> String {
    let (m, _) = e
        .create_state_machine(NewStateMachine::standard(
            name,
            def.to_string(),
            "arn:aws:iam::123456789012:role/r",
        ))
        .await
        .expect("create machine");
    m.arn
}

async fn start(e: &Engine, machine_arn: &str, name: &str) -> String {
    let (s, _) = e
        .start_execution(
            StartRequest {
                state_machine_arn: machine_arn.into(),
                name: Some(name.into()),
                input: None,
                trace_header: None,
            },
            false,
        )
        .await
        .expect("start");
    s.arn
}

/// Waits until `n` executions are parked (each step has put its execution back).
async fn parked(e: &Engine, n: usize) -> Vec<crate::StuckExecution> {
    for _ in 0..200 {
        let v = e.stuck_executions(0, None, 10);
        if v.len() == n {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    e.stuck_executions(0, None, 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_executions_are_listed_with_what_they_wait_for() {
    let store = SqliteStore::open_in_memory().expect("store");
    let e = Engine::open(Arc::new(store), Config::default()).expect("engine");
    let wait = machine(
        &e,
        "sleeper",
        json!({"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 86400, "End": true}}}),
    )
    .await;
    let callback = machine(
        &e,
        "approval",
        json!({"StartAt": "Await", "States": {"Await": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true}}}),
    )
    .await;
    let sleeper = start(&e, &wait, "s1").await;
    let waiter = start(&e, &callback, "c1").await;
    let all = parked(&e, 2).await;
    assert_eq!(all.len(), 2, "{all:?}");
    // Oldest first.
    assert!(all[0].entered_millis <= all[1].entered_millis);
    let s = all
        .iter()
        .find(|s| s.execution_arn == sleeper)
        .expect("the sleeper");
    assert_eq!((s.name.as_str(), s.state.as_str()), ("s1", "Sleep"));
    assert_eq!(s.state_machine_arn, wait);
    let WaitsFor::Timer { retry, due_millis } = s.waits_for else {
        panic!("{s:?}");
    };
    assert!(!retry);
    let due = due_millis.expect("armed");
    assert!(
        due >= s.entered_millis + 86_399_000,
        "{due} {}",
        s.entered_millis
    );
    let c = all
        .iter()
        .find(|s| s.execution_arn == waiter)
        .expect("the callback");
    assert_eq!(c.state, "Await");
    assert_eq!(c.waits_for, WaitsFor::TaskToken);

    // Paged: one at a time, after the previous one's position.
    let first = e.stuck_executions(0, None, 1);
    assert_eq!(first.len(), 1);
    let after = (first[0].entered_millis, first[0].execution_arn.as_str());
    let second = e.stuck_executions(0, Some(after), 1);
    assert_eq!(second.len(), 1);
    assert_ne!(second[0].execution_arn, first[0].execution_arn);
    assert!(e
        .stuck_executions(
            0,
            Some((second[0].entered_millis, &second[0].execution_arn)),
            1
        )
        .is_empty());

    // Entered a moment ago: not in one state for an hour.
    assert!(e.stuck_executions(3_600_000, None, 10).is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let young = start(&e, &wait, "young").await;
    let older = parked(&e, 3).await;
    assert_eq!(older.len(), 3);
    let min_age = crate::sources::now_millis() - all[1].entered_millis;
    let listed = e.stuck_executions(min_age, None, 10);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|s| s.execution_arn != young));
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_task_waits_for_a_worker_then_for_its_answer() {
    let store = SqliteStore::open_in_memory().expect("store");
    let e = Engine::open(Arc::new(store), Config::default()).expect("engine");
    let activity = e
        .create_activity("packer", Vec::new(), Default::default())
        .await
        .expect("activity")
        .arn;
    let m = machine(
        &e,
        "packing",
        json!({"StartAt": "Pack", "States": {"Pack": {"Type": "Task", "Resource": activity, "End": true}}}),
    )
    .await;
    start(&e, &m, "p1").await;
    let v = parked(&e, 1).await;
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        v[0].waits_for,
        WaitsFor::Activity {
            activity_arn: activity.clone(),
            worker: None,
            pollers: 0
        }
    );
    let task = e
        .get_activity_task_within(
            &activity,
            Some("w1".into()),
            std::time::Duration::from_secs(5),
        )
        .await
        .expect("poll");
    assert!(task.is_some());
    let v = parked(&e, 1).await;
    assert!(
        matches!(&v[0].waits_for, WaitsFor::Activity { worker: Some(w), .. } if w == "w1"),
        "{v:?}"
    );
    e.shutdown();
}
