//! AWS's `TestState` action as a pure function: run one state once, with a mocked task
//! result or error, and report its output, its next state and (DEBUG/TRACE) the value
//! after each data-flow step.
//!
//! The state is parsed by wrapping it in a one-state machine (`StateName`, as AWS names
//! it, with a placeholder `Succeed` for each target), so every field is validated as
//! CreateStateMachine validates it. The data flow follows [`crate::exec`] step by step
//! (same order, same error names and causes); nothing is retried, waited for or called:
//! an error a Retrier matches is `RETRIABLE`, one a Catcher matches is `CAUGHT_ERROR`.
//! Tasks, Parallel and Map states need a mock (a Map's stands for its whole item
//! processor). A mocked result is not checked against the service's API shape
//! (`fieldValidationMode`): Stepwise has no service models.

use crate::exec::choice;
use crate::exec::dataflow::{self, error_output, Env, MAX_PAYLOAD_BYTES};
use crate::timefmt;
use serde_json::{Map, Value};
use std::sync::Arc;
use stepwise_asl::{
    Assign, ChoiceRule, Dyn, JitterStrategy, QueryLanguage, State, StateKind, States, Transition,
    Wait as WaitDef,
};
use stepwise_expr::error::names;
use stepwise_expr::{Sources, StatesError};
use stepwise_jsonata::{JsonataEvalError, JsonataScope};

/// The name AWS gives a state tested on its own (`/States/StateName/…` in its
/// messages, `$$.State.Name` in its recordings).
pub const TEST_STATE_NAME: &str = "StateName";

/// `inspectionLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InspectionLevel {
    #[default]
    Info,
    Debug,
    Trace,
}

impl InspectionLevel {
    /// `INFO`, `DEBUG` or `TRACE`.
    pub fn parse(s: &str) -> Option<InspectionLevel> {
        match s {
            "INFO" => Some(InspectionLevel::Info),
            "DEBUG" => Some(InspectionLevel::Debug),
            "TRACE" => Some(InspectionLevel::Trace),
            _ => None,
        }
    }
}

/// `mock`: exactly one of `result` (JSON text) and `errorOutput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestStateMock {
    pub result: Option<String>,
    pub error_output: Option<MockErrorOutput>,
    /// `STRICT` | `PRESENT` | `NONE`. Stepwise does not know the service API shapes, so
    /// mocked results are never checked against them.
    pub field_validation_mode: Option<String>,
}

/// `mock.errorOutput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockErrorOutput {
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// `stateConfiguration`. Only `retrierRetryCount` matters for the states supported here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestStateConfiguration {
    /// Retries already made by the Retrier that matches the mocked error.
    pub retrier_retry_count: Option<u32>,
    pub error_caused_by_state: Option<String>,
    pub map_iteration_failure_count: Option<u32>,
    pub map_item_reader_data: Option<String>,
}

/// A `TestState` request, with JSON fields still as text (as on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestStateRequest {
    /// One state's definition, or (with `state_name`) a whole state machine.
    pub definition: String,
    pub state_name: Option<String>,
    /// The state input; `{}` when absent.
    pub input: Option<String>,
    pub inspection_level: InspectionLevel,
    /// A JSON object: the variables the state sees.
    pub variables: Option<String>,
    pub reveal_secrets: bool,
    pub role_arn: Option<String>,
    /// A JSON object used as the Context object (`$$`) instead of the generated one.
    pub context: Option<String>,
    pub mock: Option<TestStateMock>,
    pub state_configuration: Option<TestStateConfiguration>,
    /// Region and account of the ARNs in the generated Context object.
    pub region: String,
    pub account: String,
}

impl Default for TestStateRequest {
    fn default() -> Self {
        TestStateRequest {
            definition: String::new(),
            state_name: None,
            input: None,
            inspection_level: InspectionLevel::Info,
            variables: None,
            reveal_secrets: false,
            role_arn: None,
            context: None,
            mock: None,
            state_configuration: None,
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }
}

/// `status` of a `TestState` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStateStatus {
    Succeeded,
    Failed,
    /// A Retrier matched the error and has attempts left (no retry is run).
    Retriable,
    /// A Catcher matched the error; `next_state` is its `Next`.
    CaughtError,
}

impl TestStateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestStateStatus::Succeeded => "SUCCEEDED",
            TestStateStatus::Failed => "FAILED",
            TestStateStatus::Retriable => "RETRIABLE",
            TestStateStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// `inspectionData.errorDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InspectionErrorDetails {
    pub catch_index: Option<u32>,
    pub retry_index: Option<u32>,
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// `inspectionData` (DEBUG and TRACE). Each value is present only where AWS shows it
/// for the state's type and query language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectionData {
    pub input: Option<Value>,
    pub after_arguments: Option<Value>,
    pub after_input_path: Option<Value>,
    pub after_parameters: Option<Value>,
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    /// The variables after the state (absent when there are none).
    pub variables: Option<Value>,
    pub error_details: Option<InspectionErrorDetails>,
    /// Map states: the items (JSONPath `ItemsPath`), `MaxConcurrency` (0 when not set)
    /// and the tolerated failure count or percentage when set.
    pub after_items_path: Option<Value>,
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
}

/// A `TestState` response.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateResponse {
    pub status: TestStateStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_state: Option<String>,
    pub inspection_data: Option<InspectionData>,
}

impl TestStateResponse {
    /// The response body as AWS sends it: `output` and the inspection values as JSON text.
    pub fn to_aws_json(&self) -> Value {
        fn text(v: &Value) -> Value {
            Value::String(spaced_json(v))
        }
        let mut m = Map::new();
        if let Some(c) = &self.cause {
            m.insert("cause".into(), Value::String(c.clone()));
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(d) = &self.inspection_data {
            let mut i = Map::new();
            let fields = [
                ("input", &d.input),
                ("afterArguments", &d.after_arguments),
                ("afterInputPath", &d.after_input_path),
                ("afterItemsPath", &d.after_items_path),
                ("afterParameters", &d.after_parameters),
                ("result", &d.result),
                ("afterResultSelector", &d.after_result_selector),
                ("afterResultPath", &d.after_result_path),
                ("variables", &d.variables),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    i.insert(k.into(), text(v));
                }
            }
            if let Some(n) = d.max_concurrency {
                i.insert("maxConcurrency".into(), Value::from(n));
            }
            if let Some(n) = d.tolerated_failure_count {
                i.insert("toleratedFailureCount".into(), Value::from(n));
            }
            if let Some(p) = d.tolerated_failure_percentage {
                i.insert("toleratedFailurePercentage".into(), Value::from(p));
            }
            if let Some(e) = &d.error_details {
                let mut em = Map::new();
                if let Some(n) = e.catch_index {
                    em.insert("catchIndex".into(), Value::from(n));
                }
                if let Some(n) = e.retry_index {
                    em.insert("retryIndex".into(), Value::from(n));
                }
                if let Some(n) = e.retry_backoff_interval_seconds {
                    em.insert("retryBackoffIntervalSeconds".into(), Value::from(n));
                }
                i.insert("errorDetails".into(), Value::Object(em));
            }
            m.insert("inspectionData".into(), Value::Object(i));
        }
        if let Some(n) = &self.next_state {
            m.insert("nextState".into(), Value::String(n.clone()));
        }
        if let Some(o) = &self.output {
            m.insert("output".into(), text(o));
        }
        m.insert("status".into(), Value::String(self.status.as_str().into()));
        Value::Object(m)
    }
}

/// JSON text as TestState shows it: `, ` between elements and `: ` after keys
/// (`["a", "b"]`, `{"k": 1}`), where executions' histories are compact.
fn spaced_json(v: &Value) -> String {
    struct Spaced;
    fn comma<W: ?Sized + std::io::Write>(w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    impl serde_json::ser::Formatter for Spaced {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            comma(w, first)
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            comma(w, first)
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
        ) -> std::io::Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    match serde::Serialize::serialize(v, &mut ser) {
        // Serializing a Value writes valid UTF-8 and cannot fail.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => v.to_string(),
    }
}

/// Why a `TestState` request was refused (HTTP 400), with AWS's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestStateError {
    /// `InvalidDefinition`: the definition does not validate, or the state type cannot
    /// be tested.
    #[error("{0}")]
    InvalidDefinition(String),
    /// `InvalidExecutionInput`: the input is not JSON.
    #[error("{0}")]
    InvalidExecutionInput(String),
    /// `ValidationException`: anything else wrong with the request.
    #[error("{0}")]
    Validation(String),
}

impl TestStateError {
    /// AWS's error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            TestStateError::InvalidDefinition(_) => "InvalidDefinition",
            TestStateError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            TestStateError::Validation(_) => "ValidationException",
        }
    }
    pub fn message(&self) -> &str {
        match self {
            TestStateError::InvalidDefinition(m)
            | TestStateError::InvalidExecutionInput(m)
            | TestStateError::Validation(m) => m,
        }
    }
}

/// Test one state. Pure: the clock, UUIDs and random numbers (Full jitter) come from
/// `sources`.
pub fn test_state(
    req: &TestStateRequest,
    sources: &mut dyn Sources,
) -> Result<TestStateResponse, TestStateError> {
    let machine = parse_definition(req)?;
    let (states, index) = match &req.state_name {
        Some(name) => find_state(&machine.states, name)
            .ok_or_else(|| TestStateError::Validation("State not found in definition".into()))?,
        None => (&machine.states, machine.states.start_at),
    };
    let st = states.get(index);
    let mock = check_mock(req, st)?;
    let input = parse_input(req.input.as_deref())?;
    let vars = parse_variables(req.variables.as_deref())?;
    let retry_count = req
        .state_configuration
        .as_ref()
        .and_then(|c| c.retrier_retry_count)
        .unwrap_or(0);
    let now = sources.now_millis();
    let context = match &req.context {
        Some(text) => parse_context(text, st)?,
        None => default_context(req, st, &input, now, retry_count, sources),
    };
    let c = Ctx {
        context,
        vars,
        now,
        retry_count,
        map_failures: req
            .state_configuration
            .as_ref()
            .and_then(|c| c.map_iteration_failure_count),
    };
    let mut insp = InspectionData::default();
    let outcome = run(&c, st, input, mock, &mut insp, sources);
    let (status, output, err, next, assigned) = match outcome {
        Outcome::Done(d) => (
            TestStateStatus::Succeeded,
            Some(d.output),
            None,
            d.next,
            d.assigned,
        ),
        Outcome::Failed(e) => (TestStateStatus::Failed, None, Some(e), None, None),
        Outcome::Retriable(e) => (TestStateStatus::Retriable, None, Some(e), None, None),
        Outcome::Caught(e, d) => (
            TestStateStatus::CaughtError,
            Some(d.output),
            Some(e),
            d.next,
            d.assigned,
        ),
    };
    let inspection_data = (req.inspection_level != InspectionLevel::Info).then(|| {
        let mut vars = c.vars.clone();
        if let Some(Value::Object(m)) = assigned {
            vars.extend(m);
        }
        if !vars.is_empty() {
            insp.variables = Some(Value::Object(vars));
        }
        insp
    });
    Ok(TestStateResponse {
        status,
        output,
        error: err.as_ref().map(|e| e.error.clone()),
        cause: err.map(|e| e.cause),
        next_state: next.map(|i| states.get(i).name.to_string()),
        inspection_data,
    })
}

// ----- the request ----------------------------------------------------------------------

fn parse_definition(req: &TestStateRequest) -> Result<stepwise_asl::StateMachine, TestStateError> {
    let invalid = |d: Vec<stepwise_asl::Diagnostic>| {
        TestStateError::InvalidDefinition(stepwise_asl::aws_message(&d))
    };
    if req.state_name.is_some() {
        return stepwise_asl::parse(&req.definition).map_err(invalid);
    }
    // Not JSON (or not an object): parse the text itself, for AWS's message and position.
    let state: Value = match serde_json::from_str(&req.definition) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Err(match stepwise_asl::parse(&req.definition) {
                Err(d) => invalid(d),
                Ok(_) => TestStateError::InvalidDefinition(
                    "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The state definition must be a JSON object at /'".into(),
                ),
            })
        }
    };
    let mut targets = Vec::new();
    collect_targets(&state, &mut targets);
    // The wrapper is built as text so the state keeps its own text (duplicate keys
    // included, which the parser reports).
    let mut text = format!(
        "{{\"StartAt\":\"{TEST_STATE_NAME}\",\"States\":{{\"{TEST_STATE_NAME}\":{}",
        req.definition
    );
    for t in targets {
        if t != TEST_STATE_NAME {
            text.push(',');
            text.push_str(&Value::String(t).to_string());
            text.push_str(":{\"Type\":\"Succeed\"}");
        }
    }
    text.push_str("}}");
    stepwise_asl::parse(&text).map_err(invalid)
}

/// The state names a state can go to: `Next`, `Default`, `Choices[].Next`, `Catch[].Next`.
fn collect_targets(state: &Value, out: &mut Vec<String>) {
    let mut add = |v: Option<&Value>| {
        if let Some(Value::String(s)) = v {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
    };
    add(state.get("Next"));
    add(state.get("Default"));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = state.get(list) {
            for i in items {
                add(i.get("Next"));
            }
        }
    }
}

/// A state by name anywhere in the machine (names are unique machine-wide).
fn find_state<'a>(states: &'a States, name: &str) -> Option<(&'a States, usize)> {
    if let Some(i) = states.find(name) {
        return Some((states, i));
    }
    states.states.iter().find_map(|s| match &s.kind {
        StateKind::Parallel(p) => p.branches.iter().find_map(|b| find_state(b, name)),
        StateKind::Map(m) => find_state(&m.processor, name),
        _ => None,
    })
}

/// What the state runs on: the mocked task outcome.
enum Mocked {
    Result(Value),
    Error(StatesError),
}

fn check_mock(req: &TestStateRequest, st: &State) -> Result<Option<Mocked>, TestStateError> {
    let failure_count = req
        .state_configuration
        .as_ref()
        .and_then(|c| c.map_iteration_failure_count);
    if failure_count.is_some() && req.mock.is_none() {
        return Err(TestStateError::Validation(
            "TestState does not support MapIterationFailureCount when a mock is not specified."
                .into(),
        ));
    }
    let fanout = matches!(st.kind, StateKind::Map(_) | StateKind::Parallel(_));
    if fanout && req.mock.is_none() {
        // AWS's text: Map and Parallel states are tested only with a mock.
        return Err(TestStateError::InvalidDefinition(
            "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]".into(),
        ));
    }
    if req.mock.is_none() && req.role_arn.is_none() && matches!(st.kind, StateKind::Task(_)) {
        return Err(TestStateError::Validation(
            "RoleArn must be specified when testing a Task state".into(),
        ));
    }
    let Some(mock) = &req.mock else {
        if let StateKind::Task(t) = &st.kind {
            return Err(TestStateError::Validation(format!(
                "A mock is required to test the Task state '{}': Stepwise has no local integration for resource '{}' in TestState (activities and .waitForTaskToken tasks need one too). Set mock.result or mock.errorOutput.",
                st.name, t.resource
            )));
        }
        return Ok(None);
    };
    if matches!(
        st.kind,
        StateKind::Pass(_) | StateKind::Fail(_) | StateKind::Succeed
    ) {
        return Err(TestStateError::Validation(format!(
            "State type '{}' is not supported when a mock is specified",
            st.kind.type_name()
        )));
    }
    if req.reveal_secrets {
        return Err(TestStateError::Validation(
            "TestState does not support RevealSecrets when a mock is specified.".into(),
        ));
    }
    if let Some(m) = &mock.field_validation_mode {
        if !matches!(m.as_str(), "STRICT" | "PRESENT" | "NONE") {
            return Err(TestStateError::Validation(format!(
                "1 validation error detected: Value '{m}' at 'mock.fieldValidationMode' failed to satisfy constraint: Member must satisfy enum value set: [STRICT, PRESENT, NONE]"
            )));
        }
    }
    match (&mock.result, &mock.error_output) {
        (Some(_), Some(_)) => Err(TestStateError::Validation(
            "A test mock should have only one of the following fields: [result, errorOutput]."
                .into(),
        )),
        (Some(r), None) => {
            let v: Value = serde_json::from_str(r).map_err(|_| {
                TestStateError::Validation("Mocked result must be valid JSON".into())
            })?;
            if let StateKind::Parallel(p) = &st.kind {
                match &v {
                    Value::Array(a) if a.len() == p.branches.len() => {}
                    Value::Array(_) => return Err(TestStateError::Validation(
                        "Mocked result must contain the same number of items as number of Parallel branches.".into(),
                    )),
                    _ => return Err(TestStateError::Validation(
                        "Mocked result must be an array.".into(),
                    )),
                }
            }
            if let StateKind::Map(m) = &st.kind {
                // The mock stands for the whole item processor: its results, or with a
                // ResultWriter the object the writer returns.
                match (&v, m.result_writer.is_some()) {
                    (Value::Object(_), true) => {}
                    (_, true) => {
                        return Err(TestStateError::Validation(
                            "Mocked result must be a JSON object.".into(),
                        ))
                    }
                    (Value::Array(a), false) => {
                        if failure_count.is_some_and(|n| n as usize > a.len()) {
                            return Err(TestStateError::Validation(
                                "Map iteration failure count must be less than or equal to the number of Map iterations".into(),
                            ));
                        }
                    }
                    (_, false) => {
                        return Err(TestStateError::Validation(
                            "Mocked result must be an array.".into(),
                        ))
                    }
                }
            }
            Ok(Some(Mocked::Result(v)))
        }
        (None, Some(e)) => Ok(Some(Mocked::Error(StatesError::new(
            e.error.clone().unwrap_or_default(),
            e.cause.clone().unwrap_or_default(),
        )))),
        (None, None) => Err(TestStateError::Validation(
            "A test mock should have one of the following fields: [result, errorOutput].".into(),
        )),
    }
}

fn parse_input(text: Option<&str>) -> Result<Value, TestStateError> {
    let Some(text) = text else {
        return Ok(Value::Object(Map::new()));
    };
    serde_json::from_str(text).map_err(|e| {
        let detail = if text.trim().is_empty() {
            "Invalid execution input.".to_string()
        } else {
            e.to_string()
        };
        TestStateError::InvalidExecutionInput(format!(
            "Invalid State Machine Execution Input: '{detail}'"
        ))
    })
}

fn parse_variables(text: Option<&str>) -> Result<Map<String, Value>, TestStateError> {
    match text.map(serde_json::from_str::<Value>) {
        None => Ok(Map::new()),
        Some(Ok(Value::Object(m))) => Ok(m),
        Some(Ok(_)) => Err(TestStateError::Validation(
            "Invalid variables provided: variables must be a JSON object".into(),
        )),
        Some(Err(e)) => Err(TestStateError::Validation(format!(
            "Invalid variables provided: {e}"
        ))),
    }
}

/// Whether a Task gets `$$.Task.Token` (activities and `.waitForTaskToken`; `.sync`
/// tasks may be given one in a mocked Context object).
fn token_task(st: &State, sync_too: bool) -> bool {
    match &st.kind {
        StateKind::Task(t) => {
            t.resource.ends_with(".waitForTaskToken")
                || (sync_too && t.resource.contains(".sync"))
                || is_activity(&t.resource)
        }
        _ => false,
    }
}

fn is_activity(resource: &str) -> bool {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    parts.len() == 6 && parts[2] == "states" && parts[5].starts_with("activity:")
}

/// A Context object given in the request, checked as AWS checks it.
fn parse_context(text: &str, st: &State) -> Result<Value, TestStateError> {
    let bad =
        |m: String| TestStateError::Validation(format!("Invalid Context object provided: {m}"));
    let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let Value::Object(m) = &v else {
        return Err(bad("The Context object must be a JSON object".into()));
    };
    for (k, field) in m {
        match k.as_str() {
            "Map" => {
                return Err(bad(
                    "'Map' field is not supported when mocking a Context object".into(),
                ))
            }
            "Task" if !token_task(st, true) => {
                return Err(bad("Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern".into()))
            }
            "Execution" | "State" | "StateMachine" | "Task" => {
                let allowed: &[&str] = match k.as_str() {
                    "Execution" => &["Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"],
                    "State" => &["EnteredTime", "Name", "RetryCount"],
                    "StateMachine" => &["Id", "Name"],
                    _ => &["Token"],
                };
                let Value::Object(fm) = field else {
                    return Err(bad(format!("{k} must be an object")));
                };
                for (f, fv) in fm {
                    if !allowed.contains(&f.as_str()) {
                        return Err(bad(format!("Field '{f}' is not allowed")));
                    }
                    let numeric = matches!(f.as_str(), "RetryCount" | "RedriveCount");
                    let ok = match f.as_str() {
                        "Input" => true,
                        _ if numeric => fv.is_u64(),
                        _ => fv.is_string(),
                    };
                    if !ok {
                        let kind = if numeric { "an integer" } else { "a string" };
                        return Err(bad(format!("{k}.{f} must be {kind}")));
                    }
                }
            }
            other => return Err(bad(format!("Field '{other}' is not allowed"))),
        }
    }
    Ok(v)
}

/// The Context object of an Express execution that has just entered the state.
fn default_context(
    req: &TestStateRequest,
    st: &State,
    input: &Value,
    now: i64,
    retry_count: u32,
    src: &mut dyn Sources,
) -> Value {
    let exec_name = src.uuid();
    let sm_name = format!("TestState-{}", src.uuid());
    let (region, account) = (&req.region, &req.account);
    let mut exec = Map::new();
    exec.insert(
        "Id".into(),
        Value::String(format!(
            "arn:aws:states:{region}:{account}:express:{sm_name}:{exec_name}"
        )),
    );
    exec.insert("Input".into(), input.clone());
    exec.insert("Name".into(), Value::String(exec_name));
    exec.insert(
        "RoleArn".into(),
        req.role_arn
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    exec.insert(
        "StartTime".into(),
        Value::String(timefmt::format_millis(now)),
    );
    let mut sm = Map::new();
    sm.insert(
        "Id".into(),
        Value::String(format!(
            "arn:aws:states:{region}:{account}:stateMachine:{sm_name}"
        )),
    );
    sm.insert("Name".into(), Value::String(sm_name));
    let mut state = Map::new();
    // AWS names the state `StateName` here even when a whole machine is tested.
    state.insert("Name".into(), Value::String(TEST_STATE_NAME.into()));
    state.insert(
        "EnteredTime".into(),
        Value::String(timefmt::format_millis(now)),
    );
    if matches!(
        st.kind,
        StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
    ) {
        state.insert("RetryCount".into(), Value::from(retry_count));
    }
    let mut c = Map::new();
    c.insert("Execution".into(), Value::Object(exec));
    c.insert("StateMachine".into(), Value::Object(sm));
    c.insert("State".into(), Value::Object(state));
    if token_task(st, false) {
        let mut task = Map::new();
        let (a, b) = (src.uuid().replace('-', ""), src.uuid().replace('-', ""));
        task.insert("Token".into(), Value::String(format!("AQ{a}{b}")));
        c.insert("Task".into(), Value::Object(task));
    }
    Value::Object(c)
}

// ----- running the state ----------------------------------------------------------------

/// What the state sees besides its input.
struct Ctx {
    context: Value,
    vars: Map<String, Value>,
    now: i64,
    retry_count: u32,
    /// `stateConfiguration.mapIterationFailureCount`: iterations taken to have failed.
    map_failures: Option<u32>,
}

impl Ctx {
    fn env(&self) -> Env<'_> {
        Env {
            context: &self.context,
            vars: &self.vars,
        }
    }
    fn states(&self, input: &Value, extra: &[(&str, &Value)]) -> Value {
        let mut m = Map::new();
        m.insert("input".into(), input.clone());
        m.insert("context".into(), self.context.clone());
        for (k, v) in extra {
            m.insert((*k).into(), (*v).clone());
        }
        Value::Object(m)
    }
}

/// A failure, and whether its cause gets the "An error occurred while executing the
/// state …" prefix (as in `exec`).
struct Failure {
    err: StatesError,
    prefixed: bool,
}

impl Failure {
    fn plain(err: StatesError) -> Failure {
        Failure {
            err,
            prefixed: false,
        }
    }
    fn eval(err: StatesError) -> Failure {
        Failure {
            err,
            prefixed: true,
        }
    }
}

impl From<JsonataEvalError> for Failure {
    fn from(e: JsonataEvalError) -> Failure {
        Failure::eval(e.error)
    }
}

/// A state that finished: its output, its variables and where it goes.
struct Done {
    output: Value,
    assigned: Option<Value>,
    next: Option<usize>,
}

enum Outcome {
    Done(Done),
    Failed(StatesError),
    Retriable(StatesError),
    Caught(StatesError, Done),
}

fn next_of(st: &State) -> Option<usize> {
    match st.transition {
        Transition::Next(n) => Some(n),
        Transition::End => None,
    }
}

fn run(
    c: &Ctx,
    st: &State,
    input: Value,
    mock: Option<Mocked>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Outcome {
    insp.input = Some(input.clone());
    let input = Arc::new(input);
    let body = match &st.kind {
        StateKind::Pass(p) => run_pass(c, st, p.result.as_ref(), &input, insp, src),
        StateKind::Succeed => run_succeed(c, st, &input, insp, src),
        StateKind::Choice(ch) => run_choice(c, st, ch, &input, insp, src),
        StateKind::Wait(w) => run_wait(c, st, w, &input, insp, src),
        StateKind::Fail(f) => {
            return match run_fail(c, st, f, &input, insp, src) {
                Ok(e) => Outcome::Failed(e),
                Err(f) => Outcome::Failed(cause_of(st, f)),
            }
        }
        StateKind::Task(t) => run_task(c, st, t, &input, mock, insp, src),
        StateKind::Parallel(_) => run_parallel(c, st, &input, mock, insp, src),
        StateKind::Map(m) => run_map(c, st, m, &input, mock, insp, src),
    };
    let body = body.and_then(|d| finish(st, d));
    match body {
        Ok(d) => Outcome::Done(d),
        Err(f) => handle_failure(c, st, &input, f, insp, src),
    }
}

fn cause_of(st: &State, f: Failure) -> StatesError {
    let mut err = f.err;
    if f.prefixed {
        // The tested state is the first one entered: event #2 after ExecutionStarted.
        err.cause = format!(
            "An error occurred while executing the state '{}' (entered at the event id #2). {}",
            st.name, err.cause
        );
    }
    err
}

/// The output size check `exec::finish_state` makes.
fn finish(st: &State, d: Done) -> Result<Done, Failure> {
    if dataflow::exceeds(&d.output, MAX_PAYLOAD_BYTES) {
        return Err(Failure::plain(StatesError::new(
            names::DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                st.name
            ),
        )));
    }
    Ok(d)
}

/// JSONPath `InputPath`, recorded as `afterInputPath`.
fn input_path(
    c: &Ctx,
    st: &State,
    input: &Arc<Value>,
    insp: &mut InspectionData,
) -> Result<Arc<Value>, Failure> {
    let v =
        dataflow::filter(&st.io.input_path, Arc::clone(input), &c.env()).map_err(Failure::eval)?;
    insp.after_input_path = Some(Value::clone(&v));
    Ok(v)
}

/// JSONPath `InputPath` then `Parameters` (`afterInputPath`, `afterParameters`).
fn effective_input(
    c: &Ctx,
    st: &State,
    input: &Arc<Value>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Value, Failure> {
    let v = input_path(c, st, input, insp)?;
    let p = match &st.io.parameters {
        Some(t) => dataflow::template(t, &v, &c.env(), src).map_err(Failure::eval)?,
        None => Arc::unwrap_or_clone(v),
    };
    insp.after_parameters = Some(p.clone());
    Ok(p)
}

/// `exec::complete` for a state with a result: ResultSelector, Assign, ResultPath,
/// OutputPath (JSONPath) or Output and Assign with `$states.result` (JSONata).
fn complete_with_result(
    c: &Ctx,
    st: &State,
    input: &Arc<Value>,
    result: Value,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    match st.query_language {
        QueryLanguage::JsonPath => {
            let env = c.env();
            let result = match &st.io.result_selector {
                Some(t) => dataflow::template(t, &result, &env, src).map_err(Failure::eval)?,
                None => result,
            };
            insp.after_result_selector = Some(result.clone());
            let assigned = match &st.assign {
                Some(Assign::JsonPath(t)) => {
                    Some(dataflow::template(t, &result, &env, src).map_err(Failure::eval)?)
                }
                _ => None,
            };
            let combined =
                dataflow::result_path(&st.io.result_path, Arc::clone(input), Arc::new(result))
                    .map_err(Failure::eval)?;
            insp.after_result_path = Some(Value::clone(&combined));
            let out =
                dataflow::filter(&st.io.output_path, combined, &env).map_err(Failure::eval)?;
            Ok(Done {
                output: Arc::unwrap_or_clone(out),
                assigned,
                next: next_of(st),
            })
        }
        QueryLanguage::Jsonata => {
            let states = c.states(input, &[("result", &result)]);
            jsonata_output_and_assign(c, st, &states, result, src)
        }
    }
}

/// JSONata `Output` (default: `default`) and `Assign`, against the same `$states`.
fn jsonata_output_and_assign(
    c: &Ctx,
    st: &State,
    states: &Value,
    default: Value,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    let scope = JsonataScope {
        states,
        vars: &c.vars,
    };
    let assigned = match &st.assign {
        Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
        _ => None,
    };
    let output = match &st.io.output {
        Some(t) => t.eval("Output", &scope, src)?,
        None => default,
    };
    Ok(Done {
        output,
        assigned,
        next: next_of(st),
    })
}

/// JSONPath states without a result (Succeed, Wait): Assign on the effective input,
/// then OutputPath. JSONata: Output and Assign.
fn passthrough(
    c: &Ctx,
    st: &State,
    input: &Arc<Value>,
    eff: Option<Arc<Value>>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    match st.query_language {
        QueryLanguage::JsonPath => {
            let eff = match eff {
                Some(e) => e,
                None => input_path(c, st, input, insp)?,
            };
            let env = c.env();
            let assigned = match &st.assign {
                Some(Assign::JsonPath(t)) => {
                    Some(dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?)
                }
                _ => None,
            };
            let out = dataflow::filter(&st.io.output_path, eff, &env).map_err(Failure::eval)?;
            Ok(Done {
                output: Arc::unwrap_or_clone(out),
                assigned,
                next: next_of(st),
            })
        }
        QueryLanguage::Jsonata => {
            let states = c.states(input, &[]);
            jsonata_output_and_assign(c, st, &states, Value::clone(input), src)
        }
    }
}

fn run_pass(
    c: &Ctx,
    st: &State,
    result: Option<&Value>,
    input: &Arc<Value>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    match st.query_language {
        QueryLanguage::JsonPath => {
            let r = match result {
                Some(r) => {
                    // InputPath still has to resolve; AWS shows `result` instead of it.
                    dataflow::filter(&st.io.input_path, Arc::clone(input), &c.env())
                        .map_err(Failure::eval)?;
                    insp.result = Some(r.clone());
                    r.clone()
                }
                None => effective_input(c, st, input, insp, src)?,
            };
            complete_with_result(c, st, input, r, insp, src)
        }
        QueryLanguage::Jsonata => passthrough(c, st, input, None, insp, src),
    }
}

fn run_succeed(
    c: &Ctx,
    st: &State,
    input: &Arc<Value>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    let mut d = passthrough(c, st, input, None, insp, src)?;
    d.next = None;
    Ok(d)
}

fn run_choice(
    c: &Ctx,
    st: &State,
    ch: &stepwise_asl::Choice,
    input: &Arc<Value>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    let no_match = || Failure::eval(StatesError::new(names::NO_CHOICE_MATCHED, "No Matches!"));
    match st.query_language {
        QueryLanguage::JsonPath => {
            let eff = input_path(c, st, input, insp)?;
            let env = c.env();
            let scope = env.scope(&eff);
            let mut chosen = None;
            for b in &ch.choices {
                if choice::eval_rule(&b.rule, &scope).map_err(Failure::eval)? {
                    chosen = Some(b);
                    break;
                }
            }
            let (next, assign) = match chosen {
                Some(b) => (b.next, b.assign.as_ref().or(st.assign.as_ref())),
                None => (ch.default.ok_or_else(no_match)?, st.assign.as_ref()),
            };
            let assigned = match assign {
                Some(Assign::JsonPath(t)) => {
                    Some(dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?)
                }
                _ => None,
            };
            let out = dataflow::filter(&st.io.output_path, eff, &env).map_err(Failure::eval)?;
            Ok(Done {
                output: Arc::unwrap_or_clone(out),
                assigned,
                next: Some(next),
            })
        }
        QueryLanguage::Jsonata => {
            let states = c.states(input, &[]);
            let scope = JsonataScope {
                states: &states,
                vars: &c.vars,
            };
            let mut chosen = None;
            for b in &ch.choices {
                if jsonata_condition(&b.rule, &scope, src)? {
                    chosen = Some(b);
                    break;
                }
            }
            let (next, assign, output) = match chosen {
                Some(b) => (
                    b.next,
                    b.assign.as_ref().or(st.assign.as_ref()),
                    b.output.as_ref().or(st.io.output.as_ref()),
                ),
                None => (
                    ch.default.ok_or_else(no_match)?,
                    st.assign.as_ref(),
                    st.io.output.as_ref(),
                ),
            };
            let assigned = match assign {
                Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
                _ => None,
            };
            let output = match output {
                Some(t) => t.eval("Output", &scope, src)?,
                None => Value::clone(input),
            };
            Ok(Done {
                output,
                assigned,
                next: Some(next),
            })
        }
    }
}

fn jsonata_condition(
    rule: &ChoiceRule,
    scope: &JsonataScope,
    src: &mut dyn Sources,
) -> Result<bool, Failure> {
    match rule {
        ChoiceRule::Condition(Dyn::Literal(b)) => Ok(*b),
        ChoiceRule::Condition(Dyn::Jsonata(e)) => {
            match e
                .eval_required("Condition", scope, src)
                .map_err(Failure::eval)?
            {
                Value::Bool(b) => Ok(b),
                other => Err(Failure::eval(e.unexpected_type_error(
                    "Condition",
                    "boolean",
                    &other,
                ))),
            }
        }
        _ => Ok(false),
    }
}

/// A Wait state: its delay is computed and checked as in a run (so a bad `SecondsPath`
/// fails the same way), but nothing waits.
fn run_wait(
    c: &Ctx,
    st: &State,
    w: &WaitDef,
    input: &Arc<Value>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    let eff = match st.query_language {
        QueryLanguage::JsonPath => Some(input_path(c, st, input, insp)?),
        QueryLanguage::Jsonata => None,
    };
    let due = wait_due(c, w, eff.as_deref().unwrap_or(input), input, src)?;
    if due - c.now > i64::from(i32::MAX) * 1000 {
        return Err(Failure::eval(StatesError::runtime(
            "Wait state delay is too long.",
        )));
    }
    passthrough(c, st, input, eff, insp, src)
}

fn shown(v: &Option<Value>) -> String {
    v.as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "null".into())
}

fn wait_due(
    c: &Ctx,
    w: &WaitDef,
    eff: &Value,
    input: &Value,
    src: &mut dyn Sources,
) -> Result<i64, Failure> {
    let env = c.env();
    let states = c.states(input, &[]);
    let jscope = JsonataScope {
        states: &states,
        vars: &c.vars,
    };
    let rt = |m: String| Failure::eval(StatesError::runtime(m));
    match w {
        WaitDef::Seconds(d) => {
            let secs = match d {
                Dyn::Literal(s) => i64::try_from(*s).unwrap_or(i64::MAX),
                Dyn::Path(p) => {
                    let v = p.select(&env.scope(eff));
                    match v.as_ref().and_then(as_long) {
                        Some(s) if s >= 0 => s,
                        Some(_) => {
                            return Err(rt(format!(
                                "The SecondsPath parameter references a negative value: {} == {}",
                                p.as_str(),
                                shown(&v)
                            )))
                        }
                        None => {
                            return Err(rt(format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                            p.as_str(),
                            shown(&v)
                        )))
                        }
                    }
                }
                Dyn::Jsonata(e) => {
                    let v = e
                        .eval_required("Seconds", &jscope, src)
                        .map_err(Failure::eval)?;
                    match as_long(&v) {
                        Some(s) if s >= 0 => s,
                        _ => return Err(Failure::eval(StatesError::query_evaluation(format!(
                            "The JSONata expression '{}' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}",
                            e.as_str(),
                            stepwise_jsonata::json_type_name(&v),
                            v
                        )))),
                    }
                }
                Dyn::Intrinsic(_) => 0,
            };
            Ok(c.now.saturating_add(secs.saturating_mul(1000)))
        }
        WaitDef::Timestamp(d) => {
            let bad_literal = |s: &str| {
                rt(format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                ))
            };
            let text = match d {
                Dyn::Literal(s) => s.clone(),
                Dyn::Path(p) => match p.select(&env.scope(eff)) {
                    Some(Value::String(s)) => {
                        if timefmt::parse_timestamp(&s).is_none() {
                            return Err(rt(format!(
                                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {s}",
                                p.as_str()
                            )));
                        }
                        s
                    }
                    other => {
                        return Err(rt(format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                            p.as_str(),
                            shown(&other)
                        )))
                    }
                },
                Dyn::Jsonata(e) => {
                    match e
                        .eval_required("Timestamp", &jscope, src)
                        .map_err(Failure::eval)?
                    {
                        Value::String(s) => {
                            if timefmt::parse_timestamp(&s).is_none() {
                                return Err(Failure::eval(StatesError::query_evaluation(format!(
                                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                                ))));
                            }
                            s
                        }
                        other => {
                            return Err(Failure::eval(e.unexpected_type_error(
                                "Timestamp",
                                "string",
                                &other,
                            )))
                        }
                    }
                }
                Dyn::Intrinsic(_) => return Ok(c.now),
            };
            match timefmt::parse_timestamp(&text) {
                Some(ns) => Ok((ns / 1_000_000) as i64),
                None => Err(bad_literal(&text)),
            }
        }
    }
}

fn as_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

/// A Fail state's error and cause (JSONPath: AWS shows `afterInputPath`, the input).
fn run_fail(
    c: &Ctx,
    st: &State,
    f: &stepwise_asl::Fail,
    input: &Arc<Value>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<StatesError, Failure> {
    if st.query_language == QueryLanguage::JsonPath {
        insp.after_input_path = Some(Value::clone(input));
    }
    let env = c.env();
    let states = c.states(input, &[]);
    let jscope = JsonataScope {
        states: &states,
        vars: &c.vars,
    };
    let mut field = |d: &Option<Dyn<String>>,
                     name: &str,
                     path_name: &str|
     -> Result<String, Failure> {
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        Ok(match d {
            None => String::new(),
            Some(Dyn::Literal(s)) => s.clone(),
            Some(Dyn::Path(p)) => match p.select(&env.scope(input)) {
                Some(v) => text(v),
                None => {
                    return Err(Failure::eval(StatesError::runtime(format!(
                        "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                        p.as_str(),
                        path_name,
                        input
                    ))))
                }
            },
            Some(Dyn::Intrinsic(i)) => {
                text(i.eval(&env.scope(input), src).map_err(Failure::eval)?)
            }
            Some(Dyn::Jsonata(e)) => text(
                e.eval_required(name, &jscope, src)
                    .map_err(Failure::eval)?,
            ),
        })
    };
    let error = field(&f.error, "Error", "ErrorPath")?;
    let cause = field(&f.cause, "Cause", "CausePath")?;
    Ok(StatesError { error, cause })
}

#[allow(clippy::too_many_arguments)]
fn run_task(
    c: &Ctx,
    st: &State,
    t: &stepwise_asl::Task,
    input: &Arc<Value>,
    mock: Option<Mocked>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    match st.query_language {
        QueryLanguage::JsonPath => {
            effective_input(c, st, input, insp, src)?;
        }
        QueryLanguage::Jsonata => {
            let states = c.states(input, &[]);
            let scope = JsonataScope {
                states: &states,
                vars: &c.vars,
            };
            let args = match &st.io.arguments {
                Some(a) => a.eval("Arguments", &scope, src)?,
                None => Value::clone(input),
            };
            insp.after_arguments = Some(args);
        }
    }
    task_seconds(
        c,
        st,
        t.timeout_seconds.as_ref(),
        "TimeoutSeconds",
        input,
        src,
    )?;
    task_seconds(
        c,
        st,
        t.heartbeat_seconds.as_ref(),
        "HeartbeatSeconds",
        input,
        src,
    )?;
    match mock {
        Some(Mocked::Result(r)) => {
            insp.result = Some(r.clone());
            complete_with_result(c, st, input, r, insp, src)
        }
        Some(Mocked::Error(e)) => Err(Failure::plain(e)),
        // Refused in `check_mock`.
        None => Err(Failure::plain(StatesError::new(
            names::TASK_FAILED,
            "No mock given for the Task state",
        ))),
    }
}

/// A Parallel state with its branches' results mocked: its own input and result
/// processing as in a run. AWS shows neither the effective input nor the raw result.
fn run_parallel(
    c: &Ctx,
    st: &State,
    input: &Arc<Value>,
    mock: Option<Mocked>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    match st.query_language {
        QueryLanguage::JsonPath => {
            effective_input(c, st, input, &mut InspectionData::default(), src)?;
        }
        QueryLanguage::Jsonata => {
            if let Some(a) = &st.io.arguments {
                let states = c.states(input, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &c.vars,
                };
                a.eval("Arguments", &scope, src)?;
            }
        }
    }
    match mock {
        Some(Mocked::Result(r)) => complete_with_result(c, st, input, r, insp, src),
        Some(Mocked::Error(e)) => Err(Failure::plain(e)),
        None => Err(Failure::plain(StatesError::new(
            names::BRANCH_FAILED,
            "No mock given for the Parallel state",
        ))),
    }
}

/// A Map state with its item processor's results mocked: the items are selected and
/// `MaxConcurrency` and the failure tolerance evaluated as in a run (shown at DEBUG and
/// TRACE); `mapIterationFailureCount` iterations count as failed against the tolerance,
/// which AWS checks only when the state sets one.
#[allow(clippy::too_many_arguments)]
fn run_map(
    c: &Ctx,
    st: &State,
    m: &stepwise_asl::Map,
    input: &Arc<Value>,
    mock: Option<Mocked>,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    let total = match st.query_language {
        QueryLanguage::JsonPath => {
            let eff = input_path(c, st, input, insp)?;
            let env = c.env();
            let items = match &m.items_path {
                None => Value::clone(&eff),
                Some(p) => p.select(&env.scope(&eff)).unwrap_or(Value::Null),
            };
            let Value::Array(a) = &items else {
                // AWS names a context path (`$$…`) with a single `$` here.
                let path = m.items_path.as_ref().map_or("$", |p| p.as_str());
                let shown = path
                    .strip_prefix('$')
                    .filter(|p| p.starts_with('$'))
                    .unwrap_or(path);
                return Err(Failure::plain(StatesError::runtime(format!(
                    "Reference path \"{shown}\" must point to array."
                ))));
            };
            let n = a.len();
            insp.after_items_path = Some(items);
            n
        }
        QueryLanguage::Jsonata => {
            let states = c.states(input, &[]);
            let scope = JsonataScope {
                states: &states,
                vars: &c.vars,
            };
            match &m.items {
                Some(t) => match t.eval("Items", &scope, src)? {
                    Value::Array(a) => a.len(),
                    other => {
                        return Err(Failure::eval(StatesError::query_evaluation(format!(
                            "Map state input must be an array but was: {other}"
                        ))))
                    }
                },
                None => input.as_array().map_or(0, Vec::len),
            }
        }
    };
    let number = |d: Option<&Dyn<u64>>, field: &str, src: &mut dyn Sources| {
        map_number(c, d.map(DynNumber::Int), field, input, src)
    };
    let max = number(m.max_concurrency.as_ref(), "MaxConcurrency", src)?;
    insp.max_concurrency = Some(max.map_or(0, |n| n as u64));
    let count = number(
        m.tolerated_failure_count.as_ref(),
        "ToleratedFailureCount",
        src,
    )?
    .map(|n| n as u64);
    let pct = map_number(
        c,
        m.tolerated_failure_percentage
            .as_ref()
            .map(DynNumber::Float),
        "ToleratedFailurePercentage",
        input,
        src,
    )?;
    if pct.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
        return Err(Failure::eval(StatesError::runtime(
            "ToleratedFailurePercentage must be between 0 and 100.",
        )));
    }
    insp.tolerated_failure_count = count;
    insp.tolerated_failure_percentage = pct;
    let result = match mock {
        Some(Mocked::Result(r)) => r,
        Some(Mocked::Error(e)) => return Err(Failure::plain(e)),
        None => {
            return Err(Failure::plain(StatesError::new(
                names::RUNTIME,
                "No mock given for the Map state",
            )))
        }
    };
    let failed = u64::from(c.map_failures.unwrap_or(0));
    let iterations = result.as_array().map_or(total, Vec::len) as u64;
    let over_count = count.is_some_and(|n| failed > n);
    let over_pct =
        pct.is_some_and(|p| iterations > 0 && failed as f64 * 100.0 / iterations as f64 > p);
    if over_count || over_pct {
        return Err(Failure::plain(StatesError::new(
            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
            "The specified tolerated failure threshold was exceeded",
        )));
    }
    complete_with_result(c, st, input, result, insp, src)
}

/// A Map field given as an integer or a float.
enum DynNumber<'a> {
    Int(&'a Dyn<u64>),
    Float(&'a Dyn<f64>),
}

/// `MaxConcurrency(Path)`, `ToleratedFailureCount(Path)`, `ToleratedFailurePercentage(Path)`
/// as a number (literal, path or JSONata), with AWS's messages for other values.
fn map_number(
    c: &Ctx,
    d: Option<DynNumber<'_>>,
    field: &str,
    input: &Value,
    src: &mut dyn Sources,
) -> Result<Option<f64>, Failure> {
    let Some(d) = d else { return Ok(None) };
    let int = matches!(d, DynNumber::Int(_));
    let kind = if int { "integer" } else { "float" };
    let parse = |v: &Value| match v {
        Value::Number(n) if int => as_long(v).map(|_| n.as_f64().unwrap_or_default()),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && (!int || f.fract() == 0.0)),
        _ => None,
    };
    let n = match d {
        DynNumber::Int(Dyn::Literal(v)) => *v as f64,
        DynNumber::Float(Dyn::Literal(v)) => *v,
        DynNumber::Int(Dyn::Path(p)) | DynNumber::Float(Dyn::Path(p)) => {
            dataflow::path_number(p, p.select(&c.env().scope(input)), field, kind, parse)
                .map_err(Failure::eval)?
        }
        DynNumber::Int(Dyn::Jsonata(e)) | DynNumber::Float(Dyn::Jsonata(e)) => {
            let states = c.states(input, &[]);
            let scope = JsonataScope {
                states: &states,
                vars: &c.vars,
            };
            let v = e.eval_required(field, &scope, src).map_err(Failure::eval)?;
            match v.is_number().then(|| parse(&v)).flatten() {
                Some(n) => n,
                None => {
                    let kind = if int { "integer" } else { "number" };
                    return Err(Failure::eval(e.unexpected_type_error(field, kind, &v)));
                }
            }
        }
        DynNumber::Int(Dyn::Intrinsic(_)) | DynNumber::Float(Dyn::Intrinsic(_)) => return Ok(None),
    };
    if int && n < 0.0 {
        return Err(Failure::eval(StatesError::runtime(format!(
            "{field} cannot be negative."
        ))));
    }
    Ok(Some(n))
}

/// `TimeoutSeconds(Path)` / `HeartbeatSeconds(Path)`: evaluated as in a run, for
/// their errors.
fn task_seconds(
    c: &Ctx,
    st: &State,
    d: Option<&Dyn<u64>>,
    field: &str,
    input: &Value,
    src: &mut dyn Sources,
) -> Result<(), Failure> {
    let Some(d) = d else { return Ok(()) };
    let n: i64 = match d {
        Dyn::Literal(v) => i64::try_from(*v).unwrap_or(i64::MAX),
        Dyn::Path(p) => {
            let parse = |v: &Value| match v {
                Value::String(s) => s.trim().parse::<i64>().ok(),
                other => as_long(other),
            };
            dataflow::path_number(p, p.select(&c.env().scope(input)), field, "integer", parse)
                .map_err(Failure::eval)?
        }
        Dyn::Jsonata(e) => {
            let states = c.states(input, &[]);
            let scope = JsonataScope {
                states: &states,
                vars: &c.vars,
            };
            let v = e.eval_required(field, &scope, src).map_err(Failure::eval)?;
            match v.is_number().then(|| as_long(&v)).flatten() {
                Some(n) => n,
                None => return Err(Failure::eval(e.unexpected_type_error(field, "integer", &v))),
            }
        }
        Dyn::Intrinsic(_) => return Ok(()),
    };
    let _ = st;
    if n < 0 {
        return Err(Failure::eval(StatesError::runtime(format!(
            "{field} cannot be negative."
        ))));
    }
    if n == 0 {
        return Err(Failure::eval(StatesError::runtime(format!(
            "{field} must be a positive integer."
        ))));
    }
    Ok(())
}

// ----- Retry and Catch ------------------------------------------------------------------

/// `exec::handle_failure` without the retry: a Retrier with attempts left makes the
/// test RETRIABLE, a Catcher makes it CAUGHT_ERROR, anything else FAILED.
fn handle_failure(
    c: &Ctx,
    st: &State,
    input: &Arc<Value>,
    f: Failure,
    insp: &mut InspectionData,
    src: &mut dyn Sources,
) -> Outcome {
    let err = cause_of(st, f);
    let retriable = err.error != names::RUNTIME && err.error != names::DATA_LIMIT_EXCEEDED;
    for (i, r) in st.retry.iter().enumerate() {
        if !error_matches(&r.error_equals, &err.error) {
            continue;
        }
        if !retriable && !r.error_equals.contains(&err.error) {
            continue;
        }
        let details = insp.error_details.get_or_insert_with(Default::default);
        details.retry_index = u32::try_from(i).ok();
        if u64::from(c.retry_count) < r.max_attempts {
            let mut delay = r.interval_seconds as f64
                * r.backoff_rate
                    .powi(i32::try_from(c.retry_count).unwrap_or(i32::MAX));
            if let Some(max) = r.max_delay_seconds {
                delay = delay.min(max as f64);
            }
            if r.jitter_strategy == JitterStrategy::Full {
                delay *= src.random();
            }
            details.retry_backoff_interval_seconds = Some(delay as u64);
            return Outcome::Retriable(err);
        }
        break;
    }
    let Some((i, catcher)) = st
        .catch
        .iter()
        .enumerate()
        .find(|(_, k)| catch_matches(&k.error_equals, &err.error))
    else {
        return Outcome::Failed(err);
    };
    insp.error_details
        .get_or_insert_with(Default::default)
        .catch_index = u32::try_from(i).ok();
    match caught(c, st, catcher, input, &err, src).and_then(|d| finish(st, d)) {
        Ok(d) => Outcome::Caught(err, d),
        Err(f2) => Outcome::Failed(cause_of(st, f2)),
    }
}

/// The output a Catcher passes on (`exec::caught`).
fn caught(
    c: &Ctx,
    st: &State,
    k: &stepwise_asl::Catcher,
    input: &Arc<Value>,
    err: &StatesError,
    src: &mut dyn Sources,
) -> Result<Done, Failure> {
    let eo = error_output(err);
    let (output, assigned) = match st.query_language {
        QueryLanguage::JsonPath => {
            let assigned = match &k.assign {
                Some(Assign::JsonPath(t)) => {
                    Some(dataflow::template(t, &eo, &c.env(), src).map_err(Failure::eval)?)
                }
                _ => None,
            };
            let out = dataflow::result_path(&k.result_path, Arc::clone(input), Arc::new(eo))
                .map_err(Failure::eval)?;
            (Arc::unwrap_or_clone(out), assigned)
        }
        QueryLanguage::Jsonata => {
            let states = c.states(input, &[("errorOutput", &eo)]);
            let scope = JsonataScope {
                states: &states,
                vars: &c.vars,
            };
            let assigned = match &k.assign {
                Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
                _ => None,
            };
            let out = match &k.output {
                Some(t) => t.eval("Output", &scope, src)?,
                None => eo,
            };
            (out, assigned)
        }
    };
    Ok(Done {
        output,
        assigned,
        next: Some(k.next),
    })
}

use crate::exec::{catch_matches, error_matches};

#[cfg(test)]
#[path = "tests/test_state.rs"]
mod tests;
