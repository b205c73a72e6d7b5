//! The load client's AWS JSON 1.0 calls over one keep-alive connection, and the check
//! that a finished execution SUCCEEDED with exactly the expected output.

use crate::bench::clip;
use crate::bench_http::{text, Conn};
use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{ACCOUNT, EXECUTION_TIMEOUT, REGION};

/// One keep-alive connection's worth of AWS JSON 1.0 client.
pub(crate) struct Api {
    pub(super) url: String,
    /// For the odd GET and moto's configuration call.
    pub(super) agent: ureq::Agent,
    /// The timed calls.
    pub(crate) conn: std::cell::RefCell<Conn>,
}

/// Unique execution names across threads and measurements (moto needs a name).
static NAME_SEQ: AtomicU64 = AtomicU64::new(0);

fn next_name(tag: &str) -> String {
    format!("{tag}-{}", NAME_SEQ.fetch_add(1, Ordering::Relaxed))
}

impl Api {
    pub(crate) fn new(url: &str) -> Api {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .max_idle_connections_per_host(4)
            .build();
        Api {
            url: url.to_string(),
            agent,
            conn: std::cell::RefCell::new(Conn::new(url)),
        }
    }

    /// One Step Functions call; an AWS error becomes `Code: message`.
    pub(crate) fn call(&self, action: &str, body: &Value) -> anyhow::Result<Value> {
        self.call_service("states", &format!("AWSStepFunctions.{action}"), body)
    }

    /// Any JSON 1.0 service; the (unsigned) credential scope tells moto which service.
    pub(super) fn call_service(
        &self,
        scope: &str,
        target: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=bench/20250101/{REGION}/{scope}/aws4_request, SignedHeaders=host;x-amz-target, Signature=0"
        );
        let body = body.to_string();
        let mut conn = self.conn.borrow_mut();
        let a = conn
            .post(
                &[
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("X-Amz-Target", target),
                    ("Authorization", &auth),
                ],
                body.as_bytes(),
            )
            .with_context(|| target.to_string())?;
        if a.status == 200 {
            return serde_json::from_slice(a.body).with_context(|| {
                format!(
                    "{target}: the answer is not JSON: {}",
                    clip(&text(a.body), 200)
                )
            });
        }
        let v: Value = serde_json::from_slice(a.body).unwrap_or(Value::Null);
        let ty = v["__type"].as_str().unwrap_or("");
        let code = ty.rsplit('#').next().unwrap_or("");
        let msg = v["message"]
            .as_str()
            .or(v["Message"].as_str())
            .unwrap_or("");
        if code.is_empty() {
            bail!("{target}: HTTP {}: {}", a.status, clip(&text(a.body), 200))
        }
        bail!("{target}: {code}: {msg}")
    }

    pub(super) fn get(&self, path: &str) -> anyhow::Result<String> {
        let r = self.agent.get(&format!("{}{path}", self.url)).call();
        match r {
            Ok(resp) => Ok(resp.into_string()?),
            Err(e) => bail!("GET {path}: {e}"),
        }
    }

    pub(crate) fn create_machine(&self, name: &str, definition: &str) -> anyhow::Result<String> {
        let v = self.call(
            "CreateStateMachine",
            &json!({"name": name, "definition": definition,
                    "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/stepwise-bench")}),
        )?;
        v["stateMachineArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("CreateStateMachine {name}: no stateMachineArn in {v}"))
    }

    pub(crate) fn start(&self, machine: &str, input: &str, tag: &str) -> anyhow::Result<String> {
        let v = self.call(
            "StartExecution",
            &json!({"stateMachineArn": machine, "name": next_name(tag), "input": input}),
        )?;
        v["executionArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("StartExecution: no executionArn in {v}"))
    }

    /// Poll DescribeExecution until it is no longer RUNNING: at once, then backing off
    /// from 100 µs to 10 ms so that polling costs a slow server little.
    pub(crate) fn wait_done(&self, execution: &str) -> anyhow::Result<Value> {
        let body = json!({ "executionArn": execution });
        let start = Instant::now();
        let mut pause = Duration::from_micros(100);
        loop {
            let d = self.call("DescribeExecution", &body)?;
            if d["status"] != "RUNNING" {
                return Ok(d);
            }
            if start.elapsed() > EXECUTION_TIMEOUT {
                bail!(
                    "{execution} still RUNNING after {} s",
                    EXECUTION_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// The task token of a `.waitForTaskToken` task, from the TaskScheduled event's
    /// parameters (the workload puts it in `MessageBody.token`).
    pub(crate) fn wait_token(&self, execution: &str) -> anyhow::Result<String> {
        let body = json!({ "executionArn": execution, "maxResults": 100 });
        let start = Instant::now();
        let mut pause = Duration::from_micros(100);
        loop {
            let h = self.call("GetExecutionHistory", &body)?;
            let events = h["events"].as_array().cloned().unwrap_or_default();
            for e in &events {
                if e["type"] == "TaskScheduled" {
                    let params = e["taskScheduledEventDetails"]["parameters"]
                        .as_str()
                        .unwrap_or("null");
                    let p: Value = serde_json::from_str(params).with_context(|| {
                        format!(
                            "TaskScheduled parameters are not JSON: {}",
                            clip(params, 200)
                        )
                    })?;
                    return p["MessageBody"]["token"]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| {
                            anyhow!("no MessageBody.token in the TaskScheduled parameters {p}")
                        });
                }
                if matches!(
                    e["type"].as_str(),
                    Some("ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted")
                ) {
                    bail!("the callback execution ended before its task was scheduled: {e}");
                }
            }
            if start.elapsed() > EXECUTION_TIMEOUT {
                bail!(
                    "{execution}: no TaskScheduled after {} s",
                    EXECUTION_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

/// A finished execution must have SUCCEEDED with exactly `expected`.
pub(super) fn check_succeeded(d: &Value, expected: &Value) -> anyhow::Result<()> {
    if d["status"] != "SUCCEEDED" {
        bail!(
            "execution ended {} (error {}, cause {}), expected SUCCEEDED",
            d["status"],
            d["error"],
            clip(d["cause"].as_str().unwrap_or(""), 200)
        );
    }
    let text = d["output"].as_str().unwrap_or("null");
    let got: Value = serde_json::from_str(text)
        .with_context(|| format!("output is not JSON: {}", clip(text, 200)))?;
    if !same_json(&got, expected) {
        bail!(
            "output differs from the expected one: got {}",
            clip(text, 300)
        );
    }
    Ok(())
}

/// JSON equality with numbers compared by value (`1` = `1.0`, as Python may print it).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
#[path = "../tests/bench_server/api.rs"]
mod tests;
