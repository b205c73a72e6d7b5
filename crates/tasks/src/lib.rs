//! Calls what Task states name, for real: Lambda functions run locally (`command`,
//! `bootstrap`, `endpoint`) and HTTP endpoints (`http:invoke`), as `stepwise.toml`
//! configures them.
//!
//! The engine hands a [`Call`] (the resource and the state's effective parameters) to
//! [`Integrations::call`] and gets the Task's result or its error, in the shapes Step
//! Functions gives them; the ASL core never sees this I/O. Nested executions
//! (`states:startExecution`) are the engine's own: [`resource::classify`] names them.

pub mod config;
mod http_client;
mod http_task;
pub mod lambda;
pub mod resource;
pub mod webhook;

use config::Config;
use lambda::{InvocationType, Invoked, LocalFunction};
use resource::{Pattern, Resource};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use config::ConfigError;
pub use http_task::Exchange;

/// A Task's failure: Step Functions' error name and cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    pub error: String,
    pub cause: String,
}

impl TaskError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }

    fn runtime(cause: impl Into<String>) -> TaskError {
        TaskError::new("States.Runtime", cause)
    }
}

/// One Task state's call.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub state_name: &'a str,
    pub resource: &'a str,
    /// The effective parameters (`Parameters` / `Arguments`).
    pub parameters: &'a Value,
    /// Unique per call (the Lambda request id).
    pub request_id: String,
}

/// The configured functions and connections, ready to call.
pub struct Integrations {
    config: Arc<Config>,
    functions: BTreeMap<String, Arc<LocalFunction>>,
    http: http_task::Client,
    region: String,
    account: String,
}

impl Integrations {
    /// `api_endpoint`: the Step Functions API functions may call back (SendTaskSuccess),
    /// set in their environment as `AWS_ENDPOINT_URL_SFN`.
    pub fn new(
        config: Config,
        region: &str,
        account: &str,
        api_endpoint: Option<&str>,
    ) -> Integrations {
        let functions = config
            .functions
            .values()
            .map(|f| {
                (
                    f.name.clone(),
                    Arc::new(LocalFunction::new(f.clone(), region, account, api_endpoint)),
                )
            })
            .collect();
        Integrations {
            http: http_task::Client::new(),
            config: Arc::new(config),
            functions,
            region: region.to_string(),
            account: account.to_string(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether [`Integrations::call`] answers `resource` (nested executions are the
    /// engine's).
    pub fn calls(&self, resource: &str) -> bool {
        matches!(
            resource::classify(resource),
            Some((
                Resource::LambdaInvoke | Resource::LambdaFunction { .. } | Resource::HttpInvoke,
                _
            ))
        )
    }

    /// Make the call and give the Task's result (for `.waitForTaskToken`, the result of
    /// handing the token over; the Task's own result comes with the token).
    pub async fn call(&self, call: Call<'_>) -> Result<Value, TaskError> {
        let Some((resource, pattern)) = resource::classify(call.resource) else {
            return Err(TaskError::runtime(format!(
                "Stepwise does not call resource '{}' (state '{}')",
                call.resource, call.state_name
            )));
        };
        match resource {
            Resource::LambdaInvoke => self.lambda_invoke(&call, pattern).await,
            Resource::LambdaFunction { function } => {
                let f = self.function(&call, &function)?;
                let payload = call.parameters.to_string().into_bytes();
                match f.invoke(&payload, &call.request_id).await? {
                    Invoked::Returned { payload, .. } => Ok(lambda::payload_value(&payload)),
                    Invoked::FunctionError { payload, .. } => {
                        Err(lambda::function_failure(&payload, false))
                    }
                }
            }
            Resource::HttpInvoke => self.http.invoke(&self.config, &call).await,
            Resource::StartExecution => Err(TaskError::runtime(format!(
                "Nested executions are started by the engine (state '{}')",
                call.state_name
            ))),
        }
    }

    /// [`Integrations::call`], recording an HTTP Task's request and response in
    /// `exchange` (TestState's inspection data).
    pub async fn call_traced(
        &self,
        call: Call<'_>,
        exchange: &mut Exchange,
    ) -> Result<Value, TaskError> {
        match resource::classify(call.resource) {
            Some((Resource::HttpInvoke, _)) => {
                self.http
                    .invoke_traced(&self.config, &call, Some(exchange))
                    .await
            }
            _ => self.call(call).await,
        }
    }

    async fn lambda_invoke(&self, call: &Call<'_>, _pattern: Pattern) -> Result<Value, TaskError> {
        let empty = Map::new();
        let params = call.parameters.as_object().unwrap_or(&empty);
        let Some(name) = params.get("FunctionName").and_then(Value::as_str) else {
            return Err(TaskError::runtime(format!(
                "The field 'FunctionName' of state '{}' is required and must be a string (lambda:invoke's Parameters)",
                call.state_name
            )));
        };
        let invocation_type = match params.get("InvocationType").and_then(Value::as_str) {
            None | Some("RequestResponse") => InvocationType::RequestResponse,
            Some("Event") => InvocationType::Event,
            Some("DryRun") => InvocationType::DryRun,
            Some(other) => {
                return Err(TaskError::new(
                    "Lambda.InvalidParameterValueException",
                    format!("1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"),
                ))
            }
        };
        let f = self.function(call, name)?;
        let payload = match params.get("Payload") {
            None => b"{}".to_vec(),
            Some(p) => p.to_string().into_bytes(),
        };
        let rid = call.request_id.clone();
        match invocation_type {
            InvocationType::DryRun => Ok(lambda::invoke_result(204, b"", &rid)),
            InvocationType::Event => {
                // Queued: Lambda answers at once and runs it on its own.
                let f = Arc::clone(&f);
                let id = rid.clone();
                tokio::spawn(async move {
                    if let Err(e) = f.invoke(&payload, &id).await {
                        tracing::warn!(function = %f.config.name, error = %e.error, cause = %e.cause, "asynchronous invocation failed");
                    }
                });
                Ok(lambda::invoke_result(202, b"", &rid))
            }
            InvocationType::RequestResponse => match f.invoke(&payload, &rid).await? {
                Invoked::Returned {
                    payload,
                    request_id,
                } => Ok(lambda::invoke_result(200, &payload, &request_id)),
                Invoked::FunctionError { payload, .. } => {
                    Err(lambda::function_failure(&payload, true))
                }
            },
        }
    }

    fn function(&self, call: &Call<'_>, name: &str) -> Result<Arc<LocalFunction>, TaskError> {
        let key = config::function_name_of(name);
        match self.functions.get(key) {
            Some(f) => Ok(Arc::clone(f)),
            None => Err(TaskError::new(
                "Lambda.ResourceNotFoundException",
                format!(
                    "Function not found: arn:{}:lambda:{}:{}:function:{key}:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: {}; Proxy: null). State '{}' calls it; configure it as [functions.{key}] in stepwise.toml (--config){}",
                    stepwise_asl::partition_of(&self.region),
                    self.region,
                    self.account,
                    call.request_id,
                    call.state_name,
                    match &self.config.path {
                        Some(p) => format!(", now {}", p.display()),
                        None => String::new(),
                    }
                ),
            )),
        }
    }

    /// Stop the warm `bootstrap` processes.
    pub async fn shutdown(&self) {
        for f in self.functions.values() {
            f.shutdown().await;
        }
    }
}

impl std::fmt::Debug for Integrations {
    /// Names only: connections hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integrations")
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field(
                "connections",
                &self.config.connections.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}
