//! Lambda functions served locally (`command`, `bootstrap`, `endpoint`) and the shapes
//! Step Functions gives their results and errors: `lambda:invoke`'s
//! `{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode}`, a bare
//! function ARN's payload, and a function error as its `errorType` with its error JSON
//! as cause.

pub(crate) mod command;
pub(crate) mod endpoint;
pub(crate) mod runtime_api;

use crate::config::{Backend, Function};
use crate::TaskError;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Lambda's limit on a synchronous invocation's request and response (6 MB).
pub const MAX_PAYLOAD: usize = 6_291_556;

/// What one invocation gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Invoked {
    /// The function returned this payload (normally JSON).
    Returned {
        payload: Vec<u8>,
        request_id: String,
    },
    /// The function failed (Lambda's `X-Amz-Function-Error`): its error payload.
    FunctionError {
        payload: Vec<u8>,
        request_id: String,
    },
}

impl Invoked {
    pub(crate) fn function_error(error_type: &str, message: &str, request_id: &str) -> Invoked {
        Invoked::FunctionError {
            payload: json!({"errorType": error_type, "errorMessage": message})
                .to_string()
                .into_bytes(),
            request_id: request_id.to_string(),
        }
    }

    /// As Lambda reports a function that ran past its timeout.
    pub(crate) fn timed_out(f: &Function, request_id: &str) -> Invoked {
        Invoked::function_error(
            "Sandbox.Timedout",
            &format!(
                "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                f.timeout.as_secs_f64()
            ),
            request_id,
        )
    }
}

/// How a Task state called the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    /// Asynchronous: queued, answered at once with 202.
    Event,
    /// Only checks that the call would be allowed (204).
    DryRun,
}

/// A configured function, ready to invoke.
pub(crate) struct LocalFunction {
    pub config: Function,
    /// At most `concurrency` invocations at once; the rest wait their turn.
    limit: Arc<Semaphore>,
    env: Vec<(String, String)>,
    pool: Option<runtime_api::Pool>,
    client: Option<endpoint::Client>,
}

impl LocalFunction {
    /// `api_endpoint`: Stepwise's own API, given to the function as `AWS_ENDPOINT_URL_SFN`
    /// so the AWS SDKs in it (SendTaskSuccess, StartExecution) reach this Stepwise.
    pub(crate) fn new(
        config: Function,
        region: &str,
        account: &str,
        api_endpoint: Option<&str>,
    ) -> LocalFunction {
        let mut env = vec![
            ("AWS_LAMBDA_FUNCTION_NAME".to_string(), config.name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
                config.memory_size.to_string(),
            ),
            ("AWS_REGION".into(), region.to_string()),
            ("AWS_DEFAULT_REGION".into(), region.to_string()),
            (
                "LAMBDA_TASK_ROOT".into(),
                config.cwd.to_string_lossy().into_owned(),
            ),
        ];
        if let Some(url) = api_endpoint {
            env.push(("AWS_ENDPOINT_URL_SFN".into(), url.to_string()));
        }
        env.extend(
            config
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let pool = match &config.backend {
            Backend::Bootstrap(argv) => Some(runtime_api::Pool::new(
                config.clone(),
                argv.clone(),
                env.clone(),
                format!(
                    "arn:{}:lambda:{region}:{account}:function:{}",
                    stepwise_asl::partition_of(region),
                    config.name
                ),
            )),
            _ => None,
        };
        let client = match &config.backend {
            Backend::Endpoint { url, function_name } => {
                Some(endpoint::Client::new(url, function_name, region))
            }
            _ => None,
        };
        LocalFunction {
            limit: Arc::new(Semaphore::new(config.concurrency)),
            config,
            env,
            pool,
            client,
        }
    }

    /// Invoke with `payload` and wait for what it gives.
    pub(crate) async fn invoke(
        &self,
        payload: &[u8],
        request_id: &str,
    ) -> Result<Invoked, TaskError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(TaskError::new(
                "Lambda.RequestTooLargeException",
                format!("Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"),
            ));
        }
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| TaskError::new("Lambda.ServiceException", "Stepwise is stopping"))?;
        match &self.config.backend {
            Backend::Command(argv) => {
                command::invoke(&self.config, argv, &self.env, payload, request_id).await
            }
            Backend::Bootstrap(_) => match &self.pool {
                Some(p) => p.invoke(payload, request_id).await,
                None => Err(TaskError::new("Lambda.ServiceException", "no runtime")),
            },
            Backend::Endpoint { .. } => match &self.client {
                Some(c) => c.invoke(payload, request_id, self.config.timeout).await,
                None => Err(TaskError::new("Lambda.ServiceException", "no client")),
            },
        }
    }

    /// Stop warm processes.
    pub(crate) async fn shutdown(&self) {
        if let Some(p) = &self.pool {
            p.shutdown().await;
        }
    }
}

/// The process of a `command` or `bootstrap` function: in its folder, with its
/// environment, stdout and stderr piped, in its own process group (so killing the group
/// ends whatever it started too), killed if the handle is dropped.
pub(crate) fn function_process(
    f: &Function,
    argv: &[String],
    env: &[(String, String)],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(argv.first().map_or("", String::as_str));
    cmd.args(argv.iter().skip(1))
        .current_dir(&f.cwd)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    cmd
}

/// A payload as Step Functions reads it: JSON when it parses, else a string.
pub(crate) fn payload_value(payload: &[u8]) -> Value {
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

/// A function error as the Task's error: its `errorType` (else `Lambda.Unknown`) and its
/// error payload as cause — as the function wrote it for a bare function ARN, compact
/// JSON for `lambda:invoke` (AWS re-serialises it there).
pub(crate) fn function_failure(payload: &[u8], compact: bool) -> TaskError {
    let parsed = serde_json::from_slice::<Value>(payload).ok();
    let text = match (&parsed, compact) {
        (Some(v), true) => v.to_string(),
        _ => String::from_utf8_lossy(payload).into_owned(),
    };
    let error_type = parsed.as_ref().and_then(|v| {
        v.get("errorType")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    match error_type {
        Some(t) => TaskError::new(t, text),
        None => TaskError::new(
            "Lambda.Unknown",
            format!(
                "The cause could not be determined because Lambda did not return an error type. Returned payload: {text}"
            ),
        ),
    }
}

/// `lambda:invoke`'s result: the payload with the Invoke response's metadata, its
/// headers as AWS's Java SDK lists them (`AllHttpHeaders` in hash order with list
/// values, `HttpHeaders` sorted without case).
pub(crate) fn invoke_result(status: u16, raw: &[u8], request_id: &str) -> Value {
    let synchronous = status == 200;
    let payload = if synchronous {
        payload_value(raw)
    } else {
        Value::String(String::new())
    };
    let mut all: Vec<(&str, String)> = Vec::new();
    if synchronous {
        all.push(("X-Amz-Executed-Version", "$LATEST".into()));
    }
    all.extend([
        ("x-amzn-Remapped-Content-Length", "0".to_string()),
        ("Connection", "keep-alive".into()),
        ("x-amzn-RequestId", request_id.to_string()),
        ("Content-Length", raw.len().to_string()),
        ("Date", http_date()),
        ("X-Amzn-Trace-Id", format!("root={}", trace_id(request_id))),
    ]);
    if synchronous {
        all.push(("Content-Type", "application/json".into()));
    }
    let mut sorted = all.clone();
    sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let all_headers: Map<String, Value> = all
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!([v])))
        .collect();
    let headers: Map<String, Value> = sorted
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut out = Map::new();
    if synchronous {
        out.insert("ExecutedVersion".into(), json!("$LATEST"));
    }
    out.insert("Payload".into(), payload);
    out.insert(
        "SdkHttpMetadata".into(),
        json!({"AllHttpHeaders": all_headers, "HttpHeaders": headers, "HttpStatusCode": status}),
    );
    out.insert(
        "SdkResponseMetadata".into(),
        json!({"RequestId": request_id}),
    );
    out.insert("StatusCode".into(), json!(status));
    Value::Object(out)
}

/// An X-Ray style trace id made from the request id (`1-<8 hex>-<24 hex>`).
fn trace_id(request_id: &str) -> String {
    let hex: String = request_id.chars().filter(char::is_ascii_hexdigit).collect();
    let hex = format!("{hex:0<32}");
    format!("1-{}-{}", &hex[..8], &hex[8..32])
}

/// RFC 7231's date, as the `Date` header gives it.
pub fn http_date() -> String {
    httpdate(time::OffsetDateTime::now_utc())
}

fn httpdate(t: time::OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(FORMAT).unwrap_or_default()
}

/// Today's date (UTC) as `YYYY/MM/DD`, as Lambda names log streams.
pub(crate) fn log_date() -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]/[month]/[day]");
    time::OffsetDateTime::now_utc()
        .format(FORMAT)
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "../tests/lambda.rs"]
mod tests;
