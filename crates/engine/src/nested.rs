//! Nested executions: `arn:aws:states:::states:startExecution` starts a child execution
//! in this engine. Request-response answers with `{ExecutionArn, StartDate, Sdk…}`;
//! `.waitForTaskToken` submits that and waits for the token; `.sync` and `.sync:2`
//! submit it, wait for the child's end and answer with its DescribeExecution (`Output`
//! as a string, or as JSON for `.sync:2`), or fail with `States.TaskFailed`. A `.sync`
//! task that goes away first (its parent stopped, its timeout) stops the child.

use crate::calls::{answer_call, Answer, CallJob, Resume, CHILD, SUBMITTED};
use crate::executions::StartRequest;
use crate::{Engine, ErrorCode, Inner};
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use stepwise_store::ExecutionRecord;
use stepwise_tasks::resource::Pattern;
use stepwise_tasks::TaskError;
use tokio::sync::oneshot;

pub(crate) async fn run(weak: Weak<Inner>, job: CallJob, pattern: Pattern, resume: Resume) {
    let child = match resume {
        Resume::Watch(arn) => arn,
        Resume::Send { again } => match start_child(&weak, &job, again).await {
            Err(e) => return answer_call(&weak, &job, Answer::Done(Err(e))).await,
            Ok((arn, start_millis)) => {
                let output = start_result(&arn, start_millis, &job.request_id());
                match pattern {
                    Pattern::RequestResponse => {
                        return answer_call(&weak, &job, Answer::Done(Ok(output))).await
                    }
                    Pattern::WaitForTaskToken => {
                        let worker = SUBMITTED.to_string();
                        return answer_call(&weak, &job, Answer::Submitted { output, worker })
                            .await;
                    }
                    Pattern::Sync | Pattern::Sync2 => {
                        let worker = format!("{CHILD}{arn}");
                        answer_call(&weak, &job, Answer::Submitted { output, worker }).await;
                        arn
                    }
                }
            }
        },
    };
    let guard = StopChild {
        weak: weak.clone(),
        arn: child.clone(),
        armed: true,
    };
    let ended = wait_for_end(&weak, &child).await;
    guard.disarm();
    let record = match ended {
        Some(r) => r,
        None if weak.upgrade().is_some_and(|i| !i.stopping.load(Relaxed)) => {
            let cause = format!("The child execution {child} could not be followed to its end");
            let e = TaskError::new("States.Runtime", cause);
            return answer_call(&weak, &job, Answer::Done(Err(e))).await;
        }
        // Stopping: the next start watches it again.
        None => return,
    };
    let description = describe(&record, pattern == Pattern::Sync2);
    let answer = if record.status == "SUCCEEDED" {
        Ok(description)
    } else {
        Err(TaskError::new("States.TaskFailed", description.to_string()))
    };
    answer_call(&weak, &job, Answer::Done(answer)).await;
}

/// StartExecution of the child, from the task's `StateMachineArn`, `Input` and `Name`.
/// `again` (after a crash): the child it may have started already counts as started.
async fn start_child(
    weak: &Weak<Inner>,
    job: &CallJob,
    again: bool,
) -> Result<(String, i64), TaskError> {
    let runtime = |m: String| {
        TaskError::new(
            "States.Runtime",
            format!("{m} (state '{}', states:startExecution)", job.state_name),
        )
    };
    let empty = Map::new();
    let params = job.parameters.as_object().unwrap_or(&empty);
    let Some(machine) = params.get("StateMachineArn").and_then(Value::as_str) else {
        return Err(runtime(
            "The field 'StateMachineArn' is required and must be a string".into(),
        ));
    };
    let input = match params.get("Input") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let name = match params.get("Name") {
        None => job.request_id(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(runtime("The field 'Name' must be a string".into())),
    };
    let engine = Engine {
        inner: weak
            .upgrade()
            .ok_or_else(|| runtime("Stepwise is stopping".into()))?,
    };
    let req = StartRequest {
        state_machine_arn: machine.to_string(),
        name: Some(name),
        input: Some(input),
        trace_header: None,
    };
    match engine.start_execution(req, false).await {
        Ok((started, _)) => Ok((started.arn, started.start_millis)),
        Err(e) if again && e.code == ErrorCode::ExecutionAlreadyExists => {
            // Started before the crash: the message names it.
            let arn = e.message.split('\'').nth(1).unwrap_or_default().to_string();
            let rec = engine
                .describe_execution(&arn)
                .await
                .map_err(|e| runtime(e.message))?;
            Ok((rec.arn, rec.start_millis))
        }
        Err(e) => {
            let code = e.code.as_str();
            let exception = if code.ends_with("Exception") {
                code.to_string()
            } else {
                format!("{code}Exception")
            };
            Err(TaskError::new(
                format!("StepFunctions.{exception}"),
                format!(
                    "{} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; Request ID: {}; Proxy: null)",
                    e.message,
                    job.request_id()
                ),
            ))
        }
    }
}

/// The request-response result, with the SDK's HTTP metadata as AWS records it.
fn start_result(arn: &str, start_millis: i64, request_id: &str) -> Value {
    let body = json!({"executionArn": arn, "startDate": start_millis as f64 / 1000.0}).to_string();
    let date = stepwise_tasks::lambda::http_date();
    json!({
        "ExecutionArn": arn,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [body.len().to_string()],
                "Date": [date],
                "Content-Type": ["application/x-amz-json-1.0"]
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": body.len().to_string(),
                "Content-Type": "application/x-amz-json-1.0",
                "Date": date,
                "x-amzn-RequestId": request_id
            },
            "HttpStatusCode": 200
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": start_millis
    })
}

/// The child's DescribeExecution as `.sync` gives it (keys in AWS's order); `Input` and
/// `Output` as JSON for `.sync:2`.
fn describe(rec: &ExecutionRecord, as_json: bool) -> Value {
    let payload = |text: &str| {
        if as_json {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
        } else {
            Value::String(text.to_string())
        }
    };
    let mut m = Map::new();
    if let Some(c) = &rec.cause {
        m.insert("Cause".into(), json!(c));
    }
    if let Some(e) = &rec.error {
        m.insert("Error".into(), json!(e));
    }
    m.insert("ExecutionArn".into(), json!(rec.arn));
    m.insert("Input".into(), payload(&rec.input));
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), json!(rec.name));
    if let Some(o) = &rec.output {
        m.insert("Output".into(), payload(o));
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    m.insert("RedriveCount".into(), json!(rec.redrive_count));
    let (status, reason) = crate::redrive_status(rec);
    m.insert("RedriveStatus".into(), json!(status));
    if let Some(r) = reason {
        m.insert("RedriveStatusReason".into(), json!(r));
    }
    m.insert("StartDate".into(), json!(rec.start_millis));
    m.insert("StateMachineArn".into(), json!(rec.machine_arn));
    m.insert("Status".into(), json!(rec.status));
    if let Some(t) = rec.stop_millis {
        m.insert("StopDate".into(), json!(t));
    }
    Value::Object(m)
}

/// The child's final record once it ends (`None`: the engine stopped first).
async fn wait_for_end(weak: &Weak<Inner>, arn: &str) -> Option<ExecutionRecord> {
    let rx = {
        let inner = weak.upgrade()?;
        let mut st = inner.lock();
        st.running.get_mut(arn).map(|r| {
            let (tx, rx) = oneshot::channel();
            r.sync.push(tx);
            rx
        })
    };
    match rx {
        Some(rx) => {
            let (record, seq) = rx.await.ok()?;
            let committer = Arc::clone(&weak.upgrade()?.committer);
            committer.wait(seq).await.ok()?;
            Some(record)
        }
        None => {
            let inner = weak.upgrade()?;
            // An EXPRESS child is not described by the API, but stored once it ended:
            // wait for what is in flight to be written, then read it.
            let committer = Arc::clone(&inner.committer);
            committer.wait(committer.last_submitted()).await.ok()?;
            match inner.store.execution(arn) {
                Ok(Some(r)) if r.status != "RUNNING" => Some(r),
                _ => Engine { inner }.describe_execution(arn).await.ok(),
            }
        }
    }
}

/// Stops the child when dropped armed: the `.sync` task waiting for it went away.
struct StopChild {
    weak: Weak<Inner>,
    arn: String,
    armed: bool,
}

impl StopChild {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for StopChild {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Some(inner) = self.weak.upgrade() else {
            return;
        };
        // A server going down leaves its children to the next start.
        if inner.stopping.load(Relaxed) {
            return;
        }
        let Some(runtime) = inner.runtime.clone() else {
            return;
        };
        let engine = Engine { inner };
        let arn = std::mem::take(&mut self.arn);
        runtime.spawn(async move {
            if let Err(e) = engine.stop_execution(&arn, None, None).await {
                tracing::debug!(execution = %arn, error = %e.message, "stopping a nested execution");
            }
        });
    }
}
