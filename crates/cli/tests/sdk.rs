//! `stepwise serve` through the AWS SDK for Rust (`aws-sdk-sfn`): the SDK's own serializers,
//! paginators, typed errors and timestamp parsing against the real server process, over plain
//! HTTP to 127.0.0.1 with static credentials (no TLS crates, no aws-config).

#[allow(dead_code)]
mod common;

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::{
    ExecutionStatus, HistoryEvent, HistoryEventType, StateMachineStatus, StateMachineType,
    SyncExecutionStatus, Tag,
};
use aws_sdk_sfn::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointPrefix;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use common::server::{Server, ACCOUNT_PREFIX};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/stepwise-sdk";

/// The Rust SDK has no `inject_host_prefix=False` switch (boto3's): StartSyncExecution and
/// TestState would go to `sync-127.0.0.1`. The operation stores the `sync-` prefix in the
/// config bag before the retry loop; removing it there keeps the endpoint as given.
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_retry_loop(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().unset::<EndpointPrefix>();
        Ok(())
    }
}

/// A server of its own for each test (tests run in parallel, each in its own tokio runtime).
fn server(name: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("stepwise-sdk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Server::start(&dir, &["--time-scale", "0"])
}

fn client(server: &Server) -> Client {
    client_with_keys(server, "test", "test")
}

fn client_with_keys(server: &Server, id: &str, secret: &str) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .endpoint_url(server.url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(id, secret, None, None, "static"))
        .behavior_version(BehaviorVersion::latest())
        // Plain HTTP only: no TLS provider is compiled in.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .interceptor(NoHostPrefix)
        .build();
    Client::from_conf(config)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A timestamp the SDK parsed, within a minute of now.
fn assert_recent(t: Option<&DateTime>, what: &str) {
    let t = t.unwrap_or_else(|| panic!("{what}: no timestamp"));
    assert!(
        (t.secs() - now_secs()).abs() < 60,
        "{what}: {t} is not about now"
    );
}

fn parse(text: Option<&str>) -> Value {
    serde_json::from_str(text.expect("JSON text")).expect("valid JSON")
}

async fn create(sfn: &Client, name: &str, definition: &Value, ty: StateMachineType) -> String {
    sfn.create_state_machine()
        .name(name)
        .definition(definition.to_string())
        .role_arn(ROLE_ARN)
        .r#type(ty)
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn
}

async fn start(sfn: &Client, machine: &str, name: Option<&str>, input: &Value) -> String {
    sfn.start_execution()
        .state_machine_arn(machine)
        .set_name(name.map(str::to_string))
        .input(input.to_string())
        .send()
        .await
        .expect("StartExecution")
        .execution_arn
}

/// Poll DescribeExecution until the execution leaves RUNNING.
async fn wait_done(
    sfn: &Client,
    execution: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let started = Instant::now();
    loop {
        let d = sfn
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .expect("DescribeExecution");
        if d.status != ExecutionStatus::Running {
            return d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{execution} still RUNNING"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn history(sfn: &Client, execution: &str) -> Vec<HistoryEvent> {
    sfn.get_execution_history()
        .execution_arn(execution)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("GetExecutionHistory")
}

/// Poll the history until an event of `ty` appears.
async fn wait_event(sfn: &Client, execution: &str, ty: HistoryEventType) -> HistoryEvent {
    let started = Instant::now();
    loop {
        if let Some(e) = history(sfn, execution)
            .await
            .into_iter()
            .find(|e| e.r#type == ty)
        {
            return e;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no {ty:?} in {execution}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn types(events: &[HistoryEvent]) -> Vec<HistoryEventType> {
    events.iter().map(|e| e.r#type.clone()).collect()
}

#[tokio::test]
async fn create_describe_start_and_succeed() {
    let srv = server("basic");
    let sfn = client(&srv);
    let definition = json!({
        "Comment": "sdk",
        "StartAt": "Greet",
        "States": {
            "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $.who)"}, "End": true}
        }
    });
    let created = sfn
        .create_state_machine()
        .name("greeter")
        .definition(definition.to_string())
        .role_arn(ROLE_ARN)
        .r#type(StateMachineType::Standard)
        .send()
        .await
        .expect("CreateStateMachine");
    let arn = created.state_machine_arn().to_string();
    assert_eq!(arn, format!("{ACCOUNT_PREFIX}stateMachine:greeter"));
    assert_recent(Some(created.creation_date()), "creationDate");

    let d = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .expect("DescribeStateMachine");
    assert_eq!(d.name(), "greeter");
    assert_eq!(d.status(), Some(&StateMachineStatus::Active));
    assert_eq!(d.r#type(), &StateMachineType::Standard);
    assert_eq!(d.role_arn(), ROLE_ARN);
    assert_eq!(
        serde_json::from_str::<Value>(d.definition()).expect("definition"),
        definition
    );
    assert_eq!(d.creation_date(), created.creation_date());

    let listed = sfn
        .list_state_machines()
        .send()
        .await
        .expect("ListStateMachines");
    assert_eq!(listed.state_machines().len(), 1);
    assert_eq!(listed.state_machines()[0].state_machine_arn(), arn);

    let exec = start(&sfn, &arn, Some("first"), &json!({"who": "sdk"})).await;
    assert_eq!(exec, format!("{ACCOUNT_PREFIX}execution:greeter:first"));
    let done = wait_done(&sfn, &exec).await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(parse(done.output()), json!({"greeting": "hello sdk"}));
    assert_eq!(parse(done.input()), json!({"who": "sdk"}));
    assert_eq!(done.name(), Some("first"));
    assert_eq!(done.state_machine_arn(), arn);
    assert_recent(Some(done.start_date()), "startDate");
    assert_recent(done.stop_date(), "stopDate");
    assert!(done.stop_date().expect("stopDate") >= done.start_date());
}

#[tokio::test]
async fn history_pages_and_reverse_order() {
    let srv = server("history");
    let sfn = client(&srv);
    let definition = json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Result": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Wait", "Seconds": 1, "Next": "D"},
            "D": {"Type": "Pass", "End": true}
        }
    });
    let machine = create(&sfn, "paged", &definition, StateMachineType::Standard).await;
    let exec = start(&sfn, &machine, None, &json!({})).await;
    assert_eq!(
        wait_done(&sfn, &exec).await.status(),
        &ExecutionStatus::Succeeded
    );

    let pages: Vec<_> = sfn
        .get_execution_history()
        .execution_arn(&exec)
        .max_results(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("history pages");
    // 10 events: started, 4 × (entered, exited), succeeded.
    assert_eq!(pages.len(), 5);
    assert!(pages.iter().all(|p| p.events().len() == 2));
    assert!(pages[..4].iter().all(|p| p.next_token().is_some()));
    assert_eq!(pages[4].next_token(), None);
    let events: Vec<HistoryEvent> = pages.iter().flat_map(|p| p.events().to_vec()).collect();
    assert_eq!(
        events.iter().map(|e| e.id()).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(
        types(&events),
        vec![
            HistoryEventType::ExecutionStarted,
            HistoryEventType::PassStateEntered,
            HistoryEventType::PassStateExited,
            HistoryEventType::PassStateEntered,
            HistoryEventType::PassStateExited,
            HistoryEventType::WaitStateEntered,
            HistoryEventType::WaitStateExited,
            HistoryEventType::PassStateEntered,
            HistoryEventType::PassStateExited,
            HistoryEventType::ExecutionSucceeded,
        ]
    );
    assert_eq!(events[0].previous_event_id(), 0);
    // AWS links each event to an earlier one (not always the one just before).
    assert!(events.iter().all(|e| e.previous_event_id() < e.id()));
    assert_eq!(events[2].previous_event_id(), 2);
    for e in &events {
        assert_recent(Some(e.timestamp()), "event timestamp");
    }
    let started = events[0]
        .execution_started_event_details()
        .expect("started details");
    assert_eq!(parse(started.input()), json!({}));
    assert_eq!(started.role_arn(), Some(ROLE_ARN));
    let exited = events[2]
        .state_exited_event_details()
        .expect("exited details");
    assert_eq!(exited.name(), "A");
    assert_eq!(parse(exited.output()), json!({"x": 1}));
    let succeeded = events[9]
        .execution_succeeded_event_details()
        .expect("succeeded details");
    assert_eq!(parse(succeeded.output()), json!({"x": 1}));

    let reversed: Vec<HistoryEvent> = sfn
        .get_execution_history()
        .execution_arn(&exec)
        .reverse_order(true)
        .max_results(3)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("reverse history");
    assert_eq!(
        reversed.iter().map(|e| e.id()).collect::<Vec<_>>(),
        (1..=10).rev().collect::<Vec<_>>()
    );
    assert_eq!(reversed[0].r#type(), &HistoryEventType::ExecutionSucceeded);
}

/// A Task on an activity nobody polls keeps an execution RUNNING.
fn parked_definition(activity: &str) -> Value {
    json!({
        "StartAt": "Park",
        "States": {
            "Park": {"Type": "Choice",
                     "Choices": [{"Variable": "$.park", "BooleanEquals": true, "Next": "Hold"}],
                     "Default": "Done"},
            "Hold": {"Type": "Task", "Resource": activity, "End": true},
            "Done": {"Type": "Succeed"}
        }
    })
}

#[tokio::test]
async fn list_executions_by_status() {
    let srv = server("list");
    let sfn = client(&srv);
    let activity = sfn
        .create_activity()
        .name("nobody-polls")
        .send()
        .await
        .expect("CreateActivity")
        .activity_arn;
    let machine = create(
        &sfn,
        "lister",
        &parked_definition(&activity),
        StateMachineType::Standard,
    )
    .await;
    let parked = start(&sfn, &machine, Some("parked"), &json!({"park": true})).await;
    let mut done = Vec::new();
    for i in 0..2 {
        let arn = start(
            &sfn,
            &machine,
            Some(&format!("done-{i}")),
            &json!({"park": false}),
        )
        .await;
        assert_eq!(
            wait_done(&sfn, &arn).await.status(),
            &ExecutionStatus::Succeeded
        );
        done.push(arn);
    }
    let stopped = start(&sfn, &machine, Some("stopped"), &json!({"park": true})).await;
    let stop = sfn
        .stop_execution()
        .execution_arn(&stopped)
        .error("Halt")
        .cause("by the test")
        .send()
        .await
        .expect("StopExecution");
    assert_recent(Some(stop.stop_date()), "StopExecution stopDate");

    let list = |status: ExecutionStatus| {
        let sfn = sfn.clone();
        let machine = machine.clone();
        async move {
            let mut arns: Vec<(String, bool)> = sfn
                .list_executions()
                .state_machine_arn(machine)
                .status_filter(status.clone())
                .send()
                .await
                .expect("ListExecutions")
                .executions()
                .iter()
                .inspect(|e| assert_eq!(e.status(), &status))
                .map(|e| (e.execution_arn().to_string(), e.stop_date().is_some()))
                .collect();
            arns.sort();
            arns
        }
    };
    assert_eq!(
        list(ExecutionStatus::Succeeded).await,
        done.iter().map(|a| (a.clone(), true)).collect::<Vec<_>>()
    );
    assert_eq!(list(ExecutionStatus::Running).await, vec![(parked, false)]);
    assert_eq!(
        list(ExecutionStatus::Aborted).await,
        vec![(stopped.clone(), true)]
    );
    assert_eq!(list(ExecutionStatus::Failed).await, vec![]);

    let aborted = wait_done(&sfn, &stopped).await;
    assert_eq!(aborted.error(), Some("Halt"));
    assert_eq!(aborted.cause(), Some("by the test"));

    // All four, two a page, through the SDK's paginator.
    let all: Vec<_> = sfn
        .list_executions()
        .state_machine_arn(&machine)
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("ListExecutions pages");
    assert_eq!(all.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_worker_completes_execution() {
    let srv = server("activity");
    let sfn = client(&srv);
    let created = sfn
        .create_activity()
        .name("doubler")
        .send()
        .await
        .expect("CreateActivity");
    let activity = created.activity_arn().to_string();
    assert_eq!(activity, format!("{ACCOUNT_PREFIX}activity:doubler"));
    assert_recent(Some(created.creation_date()), "activity creationDate");
    let definition = json!({
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": activity,
                     "ResultPath": "$.result", "End": true}
        }
    });
    let machine = create(&sfn, "with-worker", &definition, StateMachineType::Standard).await;

    // The worker: long-poll until a task comes, heartbeat, answer with the input doubled.
    let worker = {
        let sfn = sfn.clone();
        let activity = activity.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            loop {
                assert!(started.elapsed() < Duration::from_secs(70), "no task");
                let task = sfn
                    .get_activity_task()
                    .activity_arn(&activity)
                    .worker_name("sdk-worker")
                    .send()
                    .await
                    .expect("GetActivityTask");
                let Some(token) = task.task_token().filter(|t| !t.is_empty()) else {
                    continue;
                };
                let input = parse(task.input());
                sfn.send_task_heartbeat()
                    .task_token(token)
                    .send()
                    .await
                    .expect("SendTaskHeartbeat");
                let n = input["n"].as_i64().expect("n");
                sfn.send_task_success()
                    .task_token(token)
                    .output(json!({"doubled": n * 2}).to_string())
                    .send()
                    .await
                    .expect("SendTaskSuccess");
                return token.to_string();
            }
        })
    };
    let exec = start(&sfn, &machine, None, &json!({"n": 21})).await;
    let token = worker.await.expect("worker");
    let done = wait_done(&sfn, &exec).await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(
        parse(done.output()),
        json!({"n": 21, "result": {"doubled": 42}})
    );
    let events = history(&sfn, &exec).await;
    let kinds = types(&events);
    assert!(kinds.contains(&HistoryEventType::ActivityScheduled));
    let started = events
        .iter()
        .find_map(|e| e.activity_started_event_details())
        .expect("ActivityStarted");
    assert_eq!(started.worker_name(), Some("sdk-worker"));
    let succeeded = events
        .iter()
        .find_map(|e| e.activity_succeeded_event_details())
        .expect("ActivitySucceeded");
    assert_eq!(parse(succeeded.output()), json!({"doubled": 42}));

    // The token is spent: a typed TaskTimedOut.
    let err = sfn
        .send_task_success()
        .task_token(token)
        .output("{}")
        .send()
        .await
        .expect_err("spent token")
        .into_service_error();
    assert!(err.is_task_timed_out(), "{err:?}");
}

#[tokio::test]
async fn wait_for_task_token_failure_is_caught() {
    let srv = server("callback");
    let sfn = client(&srv);
    let function = "arn:aws:lambda:us-east-1:123456789012:function:approve";
    let definition = json!({
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": function,
                               "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
                "ResultPath": "$.approval",
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}],
                "End": true
            },
            "Rejected": {"Type": "Pass", "End": true}
        }
    });
    let machine = create(&sfn, "callback", &definition, StateMachineType::Standard).await;
    let exec = start(&sfn, &machine, None, &json!({"order": {"id": 7}})).await;

    let scheduled = wait_event(&sfn, &exec, HistoryEventType::TaskScheduled).await;
    let details = scheduled
        .task_scheduled_event_details()
        .expect("TaskScheduled details");
    assert_eq!(details.resource_type(), "lambda");
    assert_eq!(details.resource(), "invoke.waitForTaskToken");
    assert_eq!(details.region(), "us-east-1");
    let params: Value = serde_json::from_str(details.parameters()).expect("parameters");
    assert_eq!(params["FunctionName"], function);
    assert_eq!(params["Payload"]["order"], json!({"id": 7}));
    let token = params["Payload"]["token"]
        .as_str()
        .expect("token in the parameters")
        .to_string();
    assert_eq!(
        sfn.describe_execution()
            .execution_arn(&exec)
            .send()
            .await
            .expect("describe")
            .status(),
        &ExecutionStatus::Running
    );

    sfn.send_task_failure()
        .task_token(&token)
        .error("Rejected")
        .cause("not today")
        .send()
        .await
        .expect("SendTaskFailure");
    let done = wait_done(&sfn, &exec).await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(
        parse(done.output()),
        json!({"order": {"id": 7}, "rejection": {"Error": "Rejected", "Cause": "not today"}})
    );
    let events = history(&sfn, &exec).await;
    let failed = events
        .iter()
        .find_map(|e| e.task_failed_event_details())
        .expect("TaskFailed");
    assert_eq!(failed.error(), Some("Rejected"));
    assert_eq!(failed.cause(), Some("not today"));
    assert_eq!(failed.resource_type(), "lambda");
    assert_eq!(failed.resource(), "invoke.waitForTaskToken");
}

#[tokio::test]
async fn typed_errors() {
    let srv = server("errors");
    let sfn = client(&srv);

    let missing_exec = format!("{ACCOUNT_PREFIX}execution:nosuch:nothing");
    let err = sfn
        .describe_execution()
        .execution_arn(&missing_exec)
        .send()
        .await
        .expect_err("missing execution")
        .into_service_error();
    assert!(err.is_execution_does_not_exist(), "{err:?}");
    assert_eq!(
        aws_sdk_sfn::error::ProvideErrorMetadata::message(&err),
        Some(format!("Execution Does Not Exist: '{missing_exec}'").as_str())
    );
    let err = sfn
        .get_execution_history()
        .execution_arn(&missing_exec)
        .send()
        .await
        .expect_err("history of a missing execution")
        .into_service_error();
    assert!(err.is_execution_does_not_exist(), "{err:?}");

    let missing_sm = format!("{ACCOUNT_PREFIX}stateMachine:nosuch");
    let err = sfn
        .describe_state_machine()
        .state_machine_arn(&missing_sm)
        .send()
        .await
        .expect_err("missing machine")
        .into_service_error();
    assert!(err.is_state_machine_does_not_exist(), "{err:?}");
    let err = sfn
        .start_execution()
        .state_machine_arn(&missing_sm)
        .send()
        .await
        .expect_err("start on a missing machine")
        .into_service_error();
    assert!(err.is_state_machine_does_not_exist(), "{err:?}");

    let err = sfn
        .describe_execution()
        .execution_arn("not-an-arn")
        .send()
        .await
        .expect_err("invalid ARN")
        .into_service_error();
    assert!(err.is_invalid_arn(), "{err:?}");
    let err = sfn
        .describe_state_machine()
        .state_machine_arn("not-an-arn")
        .send()
        .await
        .expect_err("invalid ARN")
        .into_service_error();
    assert!(err.is_invalid_arn(), "{err:?}");

    // Same name: the same input on a closed execution, or another input, is refused.
    let machine = create(
        &sfn,
        "named",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        StateMachineType::Standard,
    )
    .await;
    let first = start(&sfn, &machine, Some("once"), &json!({"a": 1})).await;
    wait_done(&sfn, &first).await;
    for input in [json!({"a": 1}), json!({"a": 2})] {
        let err = sfn
            .start_execution()
            .state_machine_arn(&machine)
            .name("once")
            .input(input.to_string())
            .send()
            .await
            .expect_err("duplicate name")
            .into_service_error();
        assert!(err.is_execution_already_exists(), "{err:?}");
        assert_eq!(
            aws_sdk_sfn::error::ProvideErrorMetadata::message(&err),
            Some(format!("Execution Already Exists: '{first}'").as_str())
        );
    }

    let err = sfn
        .create_state_machine()
        .name("named")
        .definition("{\"StartAt\": \"Nowhere\", \"States\": {}}")
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect_err("invalid definition")
        .into_service_error();
    assert!(err.is_invalid_definition(), "{err:?}");
}

/// Same name, same input, execution still open: AWS answers with the original execution.
#[tokio::test]
async fn start_is_idempotent_while_running() {
    let srv = server("idempotent");
    let sfn = client(&srv);
    let activity = sfn
        .create_activity()
        .name("hold")
        .send()
        .await
        .expect("CreateActivity")
        .activity_arn;
    let machine = create(
        &sfn,
        "holder",
        &parked_definition(&activity),
        StateMachineType::Standard,
    )
    .await;
    let input = json!({"park": true}).to_string();
    let first = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("twice")
        .input(&input)
        .send()
        .await
        .expect("first start");
    let again = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("twice")
        .input(&input)
        .send()
        .await
        .expect("second start, same input");
    assert_eq!(again.execution_arn(), first.execution_arn());
    assert_eq!(again.start_date(), first.start_date());
    let err = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("twice")
        .input("{\"park\": false}")
        .send()
        .await
        .expect_err("other input")
        .into_service_error();
    assert!(err.is_execution_already_exists(), "{err:?}");
}

#[tokio::test]
async fn start_sync_execution_on_express() {
    let srv = server("sync");
    let sfn = client(&srv);
    let machine = create(
        &sfn,
        "quick",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}}),
        StateMachineType::Express,
    )
    .await;
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(&machine)
        .send()
        .await
        .expect("describe");
    assert_eq!(d.r#type(), &StateMachineType::Express);

    let out = sfn
        .start_sync_execution()
        .state_machine_arn(&machine)
        .name("sync-run")
        .input(json!({"a": 2, "b": 3}).to_string())
        .send()
        .await
        .expect("StartSyncExecution");
    assert_eq!(out.status(), &SyncExecutionStatus::Succeeded);
    assert_eq!(parse(out.output()), json!({"sum": 5}));
    assert_eq!(parse(out.input()), json!({"a": 2, "b": 3}));
    assert_eq!(out.name(), Some("sync-run"));
    assert_eq!(out.state_machine_arn(), Some(machine.as_str()));
    assert!(
        out.execution_arn()
            .starts_with(&format!("{ACCOUNT_PREFIX}express:quick:sync-run:")),
        "{}",
        out.execution_arn()
    );
    assert_recent(Some(out.start_date()), "startDate");
    assert_recent(Some(out.stop_date()), "stopDate");
    assert!(out.stop_date() >= out.start_date());
    assert!(out.billing_details().is_some());

    let failing = create(
        &sfn,
        "quick-fail",
        &json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}),
        StateMachineType::Express,
    )
    .await;
    let out = sfn
        .start_sync_execution()
        .state_machine_arn(&failing)
        .input("{}")
        .send()
        .await
        .expect("StartSyncExecution, failing");
    assert_eq!(out.status(), &SyncExecutionStatus::Failed);
    assert_eq!(out.error(), Some("E"));
    assert_eq!(out.cause(), Some("C"));
    assert_eq!(out.output(), None);

    // A STANDARD machine cannot run synchronously.
    let standard = create(
        &sfn,
        "slow",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        StateMachineType::Standard,
    )
    .await;
    let err = sfn
        .start_sync_execution()
        .state_machine_arn(&standard)
        .send()
        .await
        .expect_err("standard machine")
        .into_service_error();
    assert!(err.is_state_machine_type_not_supported(), "{err:?}");
}

#[tokio::test]
async fn tags() {
    let srv = server("tags");
    let sfn = client(&srv);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    let machine = sfn
        .create_state_machine()
        .name("tagged")
        .definition(
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string(),
        )
        .role_arn(ROLE_ARN)
        .tags(tag("created", "yes"))
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn;
    let listed = |arn: String| {
        let sfn = sfn.clone();
        async move {
            let mut tags: Vec<(String, String)> = sfn
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .expect("ListTagsForResource")
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            tags.sort();
            tags
        }
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(listed(machine.clone()).await, vec![pair("created", "yes")]);

    sfn.tag_resource()
        .resource_arn(&machine)
        .tags(tag("team", "core"))
        .tags(tag("empty", ""))
        .send()
        .await
        .expect("TagResource");
    assert_eq!(
        listed(machine.clone()).await,
        vec![
            pair("created", "yes"),
            pair("empty", ""),
            pair("team", "core")
        ]
    );
    sfn.tag_resource()
        .resource_arn(&machine)
        .tags(tag("team", "edge"))
        .send()
        .await
        .expect("TagResource, replace");
    sfn.untag_resource()
        .resource_arn(&machine)
        .tag_keys("created")
        .tag_keys("empty")
        .send()
        .await
        .expect("UntagResource");
    assert_eq!(listed(machine.clone()).await, vec![pair("team", "edge")]);

    let activity = sfn
        .create_activity()
        .name("tagged-activity")
        .tags(tag("a", "1"))
        .send()
        .await
        .expect("CreateActivity")
        .activity_arn;
    sfn.tag_resource()
        .resource_arn(&activity)
        .tags(tag("b", "2"))
        .send()
        .await
        .expect("TagResource on an activity");
    assert_eq!(listed(activity).await, vec![pair("a", "1"), pair("b", "2")]);

    let err = sfn
        .list_tags_for_resource()
        .resource_arn(format!("{ACCOUNT_PREFIX}stateMachine:nosuch"))
        .send()
        .await
        .expect_err("missing resource")
        .into_service_error();
    assert!(err.is_resource_not_found(), "{err:?}");
}

/// `serve --sigv4-credentials`: the SDK's own SigV4 signer (not botocore's) is accepted
/// with the configured key, and a wrong secret gets AWS's InvalidSignatureException.
#[tokio::test]
async fn sigv4_signed_by_the_rust_sdk() {
    let dir = std::env::temp_dir().join(format!("stepwise-sdk-sigv4-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let creds = dir.join("credentials");
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = AKIDRUSTSDK\naws_secret_access_key = rust/sdk+secret\n",
    )
    .expect("credentials file");
    let creds = creds.to_string_lossy().to_string();
    let server = Server::start(
        &dir.join("server"),
        &["--time-scale", "0", "--sigv4-credentials", &creds],
    );
    let good = client_with_keys(&server, "AKIDRUSTSDK", "rust/sdk+secret");
    let arn = good
        .create_state_machine()
        .name("signed")
        .definition(
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string(),
        )
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("CreateStateMachine signed with the configured key")
        .state_machine_arn;
    let bad = client_with_keys(&server, "AKIDRUSTSDK", "not-the-secret");
    let err = bad
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .expect_err("a wrong secret is refused");
    let meta = aws_sdk_sfn::error::ProvideErrorMetadata::code(&err).map(str::to_string);
    assert_eq!(
        meta.as_deref(),
        Some("InvalidSignatureException"),
        "{err:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
