//! The engine over a real SQLite file: timers, activities, callbacks, stop, mocks,
//! reopening a store with work in flight, and the activity poller limit.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use stepwise_engine::{Config, Engine, ErrorCode, NewStateMachine, StartRequest};
use stepwise_store_sqlite::SqliteStore;

const PREFIX: &str = "arn:aws:states:us-east-1:123456789012:";

struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        let dir =
            std::env::temp_dir().join(format!("stepwise-engine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDb(dir)
    }
    fn open(&self, config: Config) -> Engine {
        let store = SqliteStore::open(&self.0.join("db.sqlite")).expect("open store");
        Engine::open(Arc::new(store), config).expect("open engine")
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn instant() -> Config {
    Config {
        time_scale: 0.0,
        ..Config::default()
    }
}

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

async fn start(e: &Engine, machine_arn: &str, name: &str, input: Value) -> String {
    let (s, _) = e
        .start_execution(
            StartRequest {
                state_machine_arn: machine_arn.into(),
                name: Some(name.into()),
                input: Some(input.to_string()),
                trace_header: None,
            },
            false,
        )
        .await
        .expect("start");
    s.arn
}

/// Poll until the execution leaves RUNNING; returns (status, output).
async fn finished(e: &Engine, arn: &str) -> (String, Option<Value>) {
    for _ in 0..500 {
        let r = e.describe_execution(arn).await.expect("describe");
        if r.status != "RUNNING" {
            let out = r
                .output
                .map(|o| serde_json::from_str(&o).expect("output JSON"));
            return (r.status, out);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{arn} still RUNNING after 5 s");
}

async fn history_types(e: &Engine, arn: &str) -> Vec<String> {
    e.execution_history(arn, 0, false, 1000)
        .await
        .expect("history")
        .iter()
        .map(|ev| {
            let v: Value = serde_json::from_str(&ev.json).expect("event JSON");
            v["type"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_fire_from_the_timer_loop() {
    let db = TempDb::new("wait");
    let e = db.open(instant());
    let m = machine(
        &e,
        "waits",
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "Next": "P"},
               "P": {"Type": "Pass", "Result": "done", "End": true}}}),
    )
    .await;
    let arn = start(&e, &m, "one", json!({})).await;
    assert_eq!(
        finished(&e, &arn).await,
        ("SUCCEEDED".into(), Some(json!("done")))
    );
    assert_eq!(
        history_types(&e, &arn).await,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instant_waits_end_in_the_order_of_their_length() {
    let db = TempDb::new("wait-order");
    let e = db.open(instant());
    let wait = |name: &str, seconds: u64| json!({"StartAt": name, "States": {name: {"Type": "Wait", "Seconds": seconds, "End": true}}});
    // Branch order is the reverse of wait length: arm order alone would end "Long" first.
    let m = machine(
        &e,
        "wait-order",
        json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true,
               "Branches": [wait("Long", 172800), wait("Middle", 86400), wait("Short", 60)]}}}),
    )
    .await;
    let arn = start(&e, &m, "one", json!({})).await;
    assert_eq!(finished(&e, &arn).await.0, "SUCCEEDED");
    let exits: Vec<String> = e
        .execution_history(&arn, 0, false, 1000)
        .await
        .expect("history")
        .iter()
        .filter_map(|ev| {
            let v: Value = serde_json::from_str(&ev.json).expect("event JSON");
            (v["type"] == "WaitStateExited").then(|| {
                v["stateExitedEventDetails"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
        })
        .collect();
    assert_eq!(exits, ["Short", "Middle", "Long"]);
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_task_survives_reopening_the_store() {
    let db = TempDb::new("reopen");
    let activity = format!("{PREFIX}activity:jobs");
    let def = json!({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": true}}});
    let arn = {
        let e = db.open(instant());
        e.create_activity("jobs", Vec::new(), Default::default())
            .await
            .expect("activity");
        let m = machine(&e, "jobs", def).await;
        let arn = start(&e, &m, "first", json!({"n": 1})).await;
        e.shutdown();
        arn
    };
    // A new engine on the same file: the execution is RUNNING and its task is queued.
    let e = db.open(instant());
    assert_eq!(
        e.describe_execution(&arn).await.expect("describe").status,
        "RUNNING"
    );
    let task = e
        .get_activity_task_within(&activity, Some("w".into()), Duration::from_secs(5))
        .await
        .expect("poll")
        .expect("the queued task");
    assert_eq!(
        serde_json::from_str::<Value>(&task.input).expect("input"),
        json!({"n": 1})
    );
    e.send_task_success(&task.token, r#"{"ok":true}"#)
        .await
        .expect("answer");
    assert_eq!(
        finished(&e, &arn).await,
        ("SUCCEEDED".into(), Some(json!({"ok": true})))
    );
    // The token is spent.
    let again = e
        .send_task_success(&task.token, "{}")
        .await
        .expect_err("spent token");
    assert_eq!(again.code, ErrorCode::TaskTimedOut);
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_stop_and_unknown_tokens() {
    let db = TempDb::new("callback");
    let e = db.open(Config::default());
    let def = json!({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
        "Catch": [{"ErrorEquals": ["Rejected"], "Next": "No"}], "End": true},
        "No": {"Type": "Pass", "Result": "rejected", "End": true}}});
    let m = machine(&e, "asks", def).await;
    let token_of = |e: Engine, arn: String| async move {
        let events = e
            .execution_history(&arn, 0, false, 100)
            .await
            .expect("history");
        let scheduled: Value = events
            .iter()
            .map(|ev| serde_json::from_str::<Value>(&ev.json).expect("json"))
            .find(|v| v["type"] == "TaskScheduled")
            .expect("TaskScheduled");
        let params: Value = serde_json::from_str(
            scheduled["taskScheduledEventDetails"]["parameters"]
                .as_str()
                .expect("parameters"),
        )
        .expect("parameters JSON");
        params["Payload"]["token"]
            .as_str()
            .expect("token")
            .to_string()
    };
    let a = start(&e, &m, "a", json!({})).await;
    let token = token_of(e.clone(), a.clone()).await;
    e.send_task_failure(&token, Some("Rejected".into()), Some("no".into()))
        .await
        .expect("failure");
    assert_eq!(
        finished(&e, &a).await,
        ("SUCCEEDED".into(), Some(json!("rejected")))
    );

    let b = start(&e, &m, "b", json!({})).await;
    e.stop_execution(&b, Some("Bored".into()), None)
        .await
        .expect("stop");
    assert_eq!(finished(&e, &b).await.0, "ABORTED");
    assert_eq!(
        history_types(&e, &b).await.last().map(String::as_str),
        Some("ExecutionAborted")
    );

    let bad = e
        .send_task_success("not-a-token", "{}")
        .await
        .expect_err("bad token");
    assert_eq!(bad.code, ErrorCode::InvalidToken);
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mocked_tasks_answer_inline() {
    let mocks = stepwise_mock::MockConfig::parse(
        &json!({
            "StateMachines": {"orders": {"TestCases": {"Flaky": {"Charge": "FailThenOk"}}}},
            "MockedResponses": {"FailThenOk": {
                "0": {"Throw": {"Error": "Card.Declined", "Cause": "busy"}},
                "1": {"Return": {"charged": 5}}}}
        })
        .to_string(),
    )
    .expect("mock file");
    let db = TempDb::new("mocks");
    let e = db.open(Config {
        mocks: Some(Arc::new(mocks)),
        ..instant()
    });
    let def = json!({"StartAt": "Charge", "States": {"Charge": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["Card.Declined"], "IntervalSeconds": 60}], "End": true}}});
    let m = machine(&e, "orders", def).await;
    let arn = start(&e, &format!("{m}#Flaky"), "x", json!({})).await;
    assert_eq!(
        finished(&e, &arn).await,
        ("SUCCEEDED".into(), Some(json!({"charged": 5})))
    );
    // Without a test case nothing answers a Lambda task: a clear failure.
    let plain = start(&e, &m, "y", json!({})).await;
    assert_eq!(finished(&e, &plain).await.0, "FAILED");
    let rec = e.describe_execution(&plain).await.expect("describe");
    assert!(
        rec.cause
            .unwrap_or_default()
            .contains("no local integration"),
        "cause names the gap"
    );
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_1000_pollers_wait_per_activity() {
    let db = TempDb::new("pollers");
    let e = db.open(instant());
    let act = e
        .create_activity("busy", Vec::new(), Default::default())
        .await
        .expect("activity");
    let mut waiting = Vec::new();
    for _ in 0..1000 {
        let (e, arn) = (e.clone(), act.arn.clone());
        waiting.push(tokio::spawn(async move {
            e.get_activity_task_within(&arn, None, Duration::from_secs(30))
                .await
        }));
    }
    // Let them all register.
    for _ in 0..200 {
        if e.metrics_text().contains("stepwise_activity_pollers 1000") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(e.metrics_text().contains("stepwise_activity_pollers 1000"));
    let over = e
        .get_activity_task_within(&act.arn, None, Duration::from_secs(1))
        .await
        .expect_err("the 1001st poller");
    assert_eq!(over.code, ErrorCode::ActivityWorkerLimitExceeded);
    // Shutting down releases them with no task.
    e.release_pollers();
    for w in waiting {
        assert_eq!(w.await.expect("join").expect("poll"), None);
    }
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_machine_fails_its_executions_at_their_next_transition() {
    let db = TempDb::new("deleting");
    let e = db.open(instant());
    let activity = format!("{PREFIX}activity:slow");
    e.create_activity("slow", Vec::new(), Default::default())
        .await
        .expect("activity");
    let def = json!({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "Next": "After"},
        "After": {"Type": "Pass", "End": true}}});
    let m = machine(&e, "doomed", def).await;
    let arn = start(&e, &m, "running", json!({})).await;
    e.delete_state_machine(&m).await.expect("delete");
    assert_eq!(
        e.describe_state_machine(&m)
            .expect("still described")
            .status,
        "DELETING"
    );
    let again = e
        .start_execution(
            StartRequest {
                state_machine_arn: m.clone(),
                ..StartRequest::default()
            },
            false,
        )
        .await
        .expect_err("no new executions");
    assert_eq!(again.code, ErrorCode::StateMachineDeleting);
    // The task's answer is its next transition: the execution fails instead.
    let task = e
        .get_activity_task_within(&activity, None, Duration::from_secs(5))
        .await
        .expect("poll")
        .expect("task");
    e.send_task_success(&task.token, "{}")
        .await
        .expect("answer");
    let rec = e.describe_execution(&arn).await.expect("describe");
    assert_eq!(rec.status, "FAILED");
    assert_eq!(rec.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        rec.cause.as_deref(),
        Some("State machine doomed has been deleted.")
    );
    // With its last execution over, the machine is gone.
    let gone = e.describe_state_machine(&m).expect_err("deleted");
    assert_eq!(gone.code, ErrorCode::StateMachineDoesNotExist);
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_taken_by_a_worker_is_not_handed_out_again_after_reopening() {
    let db = TempDb::new("taken");
    let activity = format!("{PREFIX}activity:once");
    let def = json!({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": true}}});
    let (arn, token) = {
        let e = db.open(instant());
        e.create_activity("once", Vec::new(), Default::default())
            .await
            .expect("activity");
        let m = machine(&e, "once", def).await;
        let arn = start(&e, &m, "one", json!({})).await;
        let task = e
            .get_activity_task_within(&activity, Some("first".into()), Duration::from_secs(5))
            .await
            .expect("poll")
            .expect("task");
        e.shutdown();
        (arn, task.token)
    };
    let e = db.open(instant());
    let again = e
        .get_activity_task_within(&activity, Some("second".into()), Duration::from_millis(200))
        .await
        .expect("poll");
    assert_eq!(again, None, "the first worker still holds the task");
    // The first worker's answer still lands.
    e.send_task_success(&token, "\"done\"")
        .await
        .expect("answer");
    assert_eq!(
        finished(&e, &arn).await,
        ("SUCCEEDED".into(), Some(json!("done")))
    );
    let started = history_types(&e, &arn)
        .await
        .iter()
        .filter(|t| *t == "ActivityStarted")
        .count();
    assert_eq!(started, 1);
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_finished_executions_are_read_back_from_the_store() {
    let db = TempDb::new("large");
    let e = db.open(instant());
    let m = machine(
        &e,
        "big",
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let big = json!({"blob": "x".repeat(100_000)});
    let arn = start(&e, &m, "big-one", big.clone()).await;
    // Not kept in memory (too large), so this reads the store — and must be complete.
    let rec = e.describe_execution(&arn).await.expect("describe");
    assert_eq!(rec.status, "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(rec.output.as_deref().unwrap_or("null")).expect("json"),
        big
    );
    // The name stays taken.
    let again = e
        .start_execution(
            StartRequest {
                state_machine_arn: m.clone(),
                name: Some("big-one".into()),
                input: Some("{}".into()),
                trace_header: None,
            },
            false,
        )
        .await
        .expect_err("name taken");
    assert_eq!(again.code, ErrorCode::ExecutionAlreadyExists);
    e.shutdown();
}

/// test_activities.snapshot.json (LocalStack, recorded against AWS on 2024-03-17),
/// `TestActivities::test_activity_task_on_deleted`: an activity created, deleted, then
/// used by a Task. AWS writes `ExecutionStarted`, `TaskStateEntered` (2 → 0) and
/// `ExecutionFailed` (3 → 2, `States.Runtime`, "An error occurred while executing the
/// state 'ActivityTask' (entered at the event id #2). The activity <ARN> does not
/// exist."), no `ActivityScheduled`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_on_a_deleted_activity_fails_at_once() {
    let db = TempDb::new("deleted-activity");
    let e = db.open(instant());
    let activity = format!("{PREFIX}activity:gone");
    e.create_activity("gone", Vec::new(), Default::default())
        .await
        .expect("activity");
    e.delete_activity(&activity).await.expect("delete");
    let def = json!({"Comment": "BASE_ACTIVITY_TASK", "StartAt": "ActivityTask", "States": {
        "ActivityTask": {"Type": "Task", "Resource": activity, "End": true}}});
    let m = machine(&e, "deleted", def).await;
    let arn = start(&e, &m, "first", json!({"Value1": "HelloWorld"})).await;
    assert_eq!(finished(&e, &arn).await.0, "FAILED");
    let d = e.describe_execution(&arn).await.expect("describe");
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    let cause = format!(
        "An error occurred while executing the state 'ActivityTask' (entered at the event id #2). \
         The activity {activity} does not exist."
    );
    assert_eq!(d.cause.as_deref(), Some(cause.as_str()));
    let events: Vec<Value> = e
        .execution_history(&arn, 0, false, 1000)
        .await
        .expect("history")
        .iter()
        .map(|ev| serde_json::from_str(&ev.json).expect("event JSON"))
        .collect();
    let chain: Vec<(u64, u64, &str)> = events
        .iter()
        .map(|v| {
            (
                v["id"].as_u64().unwrap_or(0),
                v["previousEventId"].as_u64().unwrap_or(0),
                v["type"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        chain,
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "TaskStateEntered"),
            (3, 2, "ExecutionFailed")
        ]
    );
    assert_eq!(
        events[2]["executionFailedEventDetails"],
        json!({"error": "States.Runtime", "cause": cause})
    );
    // The same machine runs once the activity exists again.
    e.create_activity("gone", Vec::new(), Default::default())
        .await
        .expect("activity again");
    let again = start(&e, &m, "second", json!({})).await;
    assert!(history_types(&e, &again)
        .await
        .contains(&"ActivityScheduled".to_string()));
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_created_in_a_scope_runs_there() {
    let db = TempDb::new("scope");
    let e = db.open(instant());
    let eu = stepwise_engine::Scope::new("eu-west-1", "111122223333");
    let def = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"child.$": "$$.Execution.Id"}, "End": true}}},
        "ResultSelector": {"children.$": "$[*].child"},
        "End": true}}});
    let (m, _) = e
        .create_state_machine_in(
            &eu,
            NewStateMachine::standard(
                "scoped",
                def.to_string(),
                "arn:aws:iam::111122223333:role/r",
            ),
        )
        .await
        .expect("create machine");
    assert_eq!(
        m.arn,
        "arn:aws:states:eu-west-1:111122223333:stateMachine:scoped"
    );
    let arn = start(&e, &m.arn, "run", json!({"items": [1]})).await;
    assert_eq!(
        arn,
        "arn:aws:states:eu-west-1:111122223333:execution:scoped:run"
    );
    let (status, out) = finished(&e, &arn).await;
    assert_eq!(status, "SUCCEEDED");
    // The Map Run's child executions live in the machine's scope too.
    let child = out
        .as_ref()
        .and_then(|o| o["children"][0].as_str())
        .unwrap_or_default();
    assert!(
        child.starts_with("arn:aws:states:eu-west-1:111122223333:execution:scoped/"),
        "{out:?}"
    );
    let runs = e.list_map_runs(&arn).expect("map runs");
    assert!(runs[0]
        .arn
        .starts_with("arn:aws:states:eu-west-1:111122223333:mapRun:scoped/"));
    // Activities too; the server's own scope stays the default.
    let a = e
        .create_activity_in(&eu, "work", Vec::new(), Default::default())
        .await
        .expect("activity");
    assert_eq!(a.arn, "arn:aws:states:eu-west-1:111122223333:activity:work");
    assert_eq!(e.default_scope().arn_prefix(), PREFIX);
    e.shutdown();
}
