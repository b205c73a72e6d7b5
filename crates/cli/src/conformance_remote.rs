//! `stepwise conformance DIR --server URL`: the corpus through the AWS JSON API of a
//! running server (CreateStateMachine, StartExecution, DescribeExecution,
//! GetExecutionHistory, DeleteStateMachine; StartSyncExecution for EXPRESS).
//!
//! Machine names are unique per run (`ConformanceMachine-<run>-<n>`): the comparator
//! treats state machine and execution names as same-text placeholders, and execution
//! names stay taken per machine ARN after the machine is deleted, so a fixed name
//! would fail a second run against the same data dir.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use stepwise_conformance::{Case, Engine, Outcome};

/// An engine that runs each case on a `stepwise serve` (or any Step Functions API).
pub struct Remote {
    url: String,
    agent: ureq::Agent,
    run_id: String,
    next: AtomicUsize,
    /// How long one execution may stay RUNNING before the case fails.
    timeout: Duration,
}

/// An API error: the code after `#` in `__type`, and the message.
#[derive(Debug)]
struct ApiError {
    code: String,
    message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/stepwise";

impl Remote {
    pub fn new(url: &str, timeout: Duration) -> Remote {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Remote {
            url: url.trim_end_matches('/').to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(120))
                .build(),
            run_id: format!("{}-{}", base36(millis), std::process::id()),
            next: AtomicUsize::new(0),
            timeout,
        }
    }

    fn call(&self, action: &str, body: &Value) -> Result<Value, ApiError> {
        let r = self
            .agent
            .post(&format!("{}/", self.url))
            .set("Content-Type", "application/x-amz-json-1.0")
            .set("X-Amz-Target", &format!("AWSStepFunctions.{action}"))
            .send_string(&body.to_string());
        let transport = |e: String| ApiError {
            code: "Transport".into(),
            message: format!("{action}: {e}"),
        };
        match r {
            Ok(resp) => {
                let text = resp.into_string().map_err(|e| transport(e.to_string()))?;
                serde_json::from_str(&text).map_err(|e| transport(e.to_string()))
            }
            Err(ureq::Error::Status(status, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let ty = v["__type"].as_str().unwrap_or_default();
                Err(ApiError {
                    code: ty.rsplit('#').next().unwrap_or_default().to_string(),
                    message: v["message"]
                        .as_str()
                        .map_or_else(|| format!("HTTP {status}: {text}"), str::to_string),
                })
            }
            Err(e) => Err(transport(e.to_string())),
        }
    }

    /// Runs a created machine's execution to its end and builds the outcome.
    fn execute(&self, case: &Case, machine_arn: &str) -> Result<Outcome, ApiError> {
        let start = json!({
            "stateMachineArn": machine_arn,
            "name": "conformance-execution",
            "input": case.input.to_string(),
        });
        if case.state_machine_type == "EXPRESS" {
            // AWS keeps no history for EXPRESS executions; the corpus records the
            // StartSyncExecution response only.
            let r = self.call("StartSyncExecution", &start)?;
            return Ok(outcome_from(&r, None));
        }
        let started = self.call("StartExecution", &start)?;
        let arn = started["executionArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let began = Instant::now();
        let mut pause = Duration::from_millis(2);
        let desc = loop {
            let d = self.call("DescribeExecution", &json!({"executionArn": arn}))?;
            if d["status"] != "RUNNING" {
                break d;
            }
            if began.elapsed() > self.timeout {
                return Ok(Outcome {
                    status: format!(
                        "RUNNING after {} s (runner timeout)",
                        self.timeout.as_secs()
                    ),
                    ..Outcome::default()
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        };
        let history = self.history(&arn)?;
        Ok(outcome_from(&desc, Some(history)))
    }

    /// Every event, all pages, with the data members, stripped like the recorder did.
    fn history(&self, arn: &str) -> Result<Vec<Value>, ApiError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body =
                json!({"executionArn": arn, "maxResults": 1000, "includeExecutionData": true});
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let page = self.call("GetExecutionHistory", &body)?;
            if let Some(events) = page["events"].as_array() {
                out.extend(events.iter().cloned().map(strip_event));
            }
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(out),
            }
        }
    }
}

/// The recorder dropped `timestamp` and the started event's `roleArn`.
fn strip_event(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.remove("timestamp");
        if let Some(Value::Object(d)) = m.get_mut("executionStartedEventDetails") {
            d.remove("roleArn");
        }
    }
    v
}

/// A DescribeExecution / StartSyncExecution response as an [`Outcome`].
fn outcome_from(r: &Value, history: Option<Vec<Value>>) -> Outcome {
    let text = |k: &str| r[k].as_str().map(str::to_string);
    Outcome {
        status: text("status").unwrap_or_default(),
        // The API carries the output as JSON text; unparsable text is kept as a string
        // so the comparison shows it.
        output: r["output"]
            .as_str()
            .map(|s| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))),
        error: text("error"),
        cause: text("cause"),
        history,
    }
}

/// A failure of the runner or the transport, shown in the status so the case fails
/// with the reason.
fn runner_error(what: &str, e: &ApiError) -> Outcome {
    Outcome {
        status: format!("{what} failed: {e}"),
        ..Outcome::default()
    }
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = Vec::new();
    loop {
        s.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

impl Engine for Remote {
    fn run(&self, case: &Case) -> Outcome {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("ConformanceMachine-{}-{n}", self.run_id);
        let created = self.call(
            "CreateStateMachine",
            &json!({
                "name": name,
                "definition": case.definition_text,
                "roleArn": ROLE_ARN,
                "type": case.state_machine_type,
            }),
        );
        let machine_arn = match created {
            Ok(r) => r["stateMachineArn"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            Err(e) if e.code == "InvalidDefinition" => return Outcome::create_failed(e.message),
            Err(e) => return runner_error("CreateStateMachine", &e),
        };
        let outcome = self
            .execute(case, &machine_arn)
            .unwrap_or_else(|e| runner_error("execution", &e));
        // Best effort: a machine left behind does not change any verdict.
        let _ = self.call(
            "DeleteStateMachine",
            &json!({"stateMachineArn": machine_arn}),
        );
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base36_digits() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }

    #[test]
    fn strips_timestamp_and_role() {
        let e = json!({"id": 1, "timestamp": 1.5, "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": "{}", "roleArn": "r"}});
        assert_eq!(
            strip_event(e),
            json!({"id": 1, "type": "ExecutionStarted",
                "executionStartedEventDetails": {"input": "{}"}})
        );
    }

    #[test]
    fn outcome_decodes_output_text() {
        let o = outcome_from(
            &json!({"status": "SUCCEEDED", "output": "{\"a\": [1]}"}),
            Some(vec![]),
        );
        assert_eq!(o.status, "SUCCEEDED");
        assert_eq!(o.output, Some(json!({"a": [1]})));
        assert_eq!(o.error, None);
        let f = outcome_from(
            &json!({"status": "FAILED", "error": "E", "cause": "C"}),
            None,
        );
        assert_eq!(
            (f.error.as_deref(), f.cause.as_deref()),
            (Some("E"), Some("C"))
        );
        assert_eq!(f.output, None);
    }
}
