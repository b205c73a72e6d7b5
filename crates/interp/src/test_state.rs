//! AWS's `TestState` action as a pure function: run one state once, with a mocked task
//! result or error, and report its output, its next state and (DEBUG/TRACE) the value
//! after each data-flow step.
//!
//! The state is parsed by wrapping it in a one-state machine (`StateName`, as AWS names
//! it, with a placeholder `Succeed` for each target), so every field is validated as
//! CreateStateMachine validates it. It then runs through the same code as a state of an
//! execution ([`Execution`], alone: see `exec/single_state.rs`), with the inspector
//! recording each data-flow step; nothing is retried, waited for or called: an error a
//! Retrier would retry is `RETRIABLE`, one a Catcher catches is `CAUGHT_ERROR`. Tasks,
//! Parallel and Map states need a mock (a Map's stands for its whole item processor). A
//! Task's mocked result is checked against the output shape of the API its resource
//! calls, as `mock.fieldValidationMode` says (`STRICT` by default, `PRESENT`, `NONE`),
//! after the mock's other checks and before anything runs: see [`crate::mock_shapes`]
//! for the rules, AWS's messages and which resources are checked (those whose service
//! and action are in `model/mock-shapes.json`; others are not).

use crate::exec::{states_at, Alone, AloneOutcome, Execution, ExecutionInfo, Machine, SingleState};
use crate::mock_shapes::{check_mock_result, FieldValidationMode};
use crate::timefmt;
use serde_json::{Map, Value};
use stepwise_asl::{QueryLanguage, State, StateKind, States};
use stepwise_expr::{Sources, StatesError};

pub use crate::exec::{InspectionData, InspectionErrorDetails};

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
    /// `STRICT` (when absent) | `PRESENT` | `NONE`: how a Task's mocked `result` is
    /// checked against the output shape of the API it calls ([`crate::mock_shapes`]).
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
                ("afterItemSelector", &d.after_item_selector),
                ("afterItemBatcher", &d.after_item_batcher),
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
            for (k, v) in [("request", &d.request), ("response", &d.response)] {
                if let Some(v) = v {
                    i.insert(k.into(), v.clone());
                }
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
    test_state_calling(req, sources, None)
}

/// [`test_state`], with `caller` making a Task's call for real when no mock is given.
pub fn test_state_calling(
    req: &TestStateRequest,
    sources: &mut dyn Sources,
    caller: Option<&mut dyn crate::exec::TaskCaller>,
) -> Result<TestStateResponse, TestStateError> {
    let machine = Machine::new(parse_definition(req)?);
    let (path, index) = match &req.state_name {
        Some(name) => find_state(&machine.definition.states, name, &mut Vec::new())
            .ok_or_else(|| TestStateError::Validation("State not found in definition".into()))?,
        None => (Vec::new(), machine.definition.states.start_at),
    };
    let states = states_at(&machine.definition, &path);
    let st = states.get(index);
    let callable = match (&st.kind, &caller) {
        (StateKind::Task(t), Some(c)) => c.calls(&t.resource),
        _ => false,
    };
    let mock = check_mock(req, st, callable)?;
    let input = parse_input(req.input.as_deref())?;
    let vars = parse_variables(req.variables.as_deref())?;
    let config = req.state_configuration.as_ref();
    let retry_count = config.and_then(|c| c.retrier_retry_count).unwrap_or(0);
    let context = match &req.context {
        Some(text) => parse_context(text, st)?,
        None => default_context(req, st, &input, sources.now_millis(), retry_count, sources),
    };
    // A Task's mock answers its call; a Parallel's or Map's stands for all its children.
    let (task, children) = match st.kind {
        StateKind::Task(_) => (mock, None),
        _ => (None, mock),
    };
    let alone = Alone {
        machine: std::sync::Arc::clone(&machine),
        info: test_execution_info(req),
        path,
        state: index,
        input,
        vars: vars.clone(),
        single: SingleState {
            context,
            retry_count,
            children,
            map_failures: config.and_then(|c| c.map_iteration_failure_count),
        },
        task,
    };
    let (outcome, inspection, vars_after, exchange) = match caller {
        Some(c) => {
            let (o, i, v) = Execution::run_alone(alone, sources, Some(&mut *c));
            (o, i, v, c.exchange())
        }
        None => {
            let (o, i, v) = Execution::run_alone(alone, sources, None);
            (o, i, v, (None, None))
        }
    };
    let caught = inspection.error.clone();
    // A state that did not finish assigned nothing: the variables are those given.
    let (status, output, error, next, vars) = match outcome {
        AloneOutcome::Next(next, output) => {
            let status = match caught {
                Some(_) => TestStateStatus::CaughtError,
                None => TestStateStatus::Succeeded,
            };
            (status, Some(output), caught, Some(next), vars_after)
        }
        AloneOutcome::End(output) => (
            TestStateStatus::Succeeded,
            Some(output),
            None,
            None,
            vars_after,
        ),
        AloneOutcome::Retrying => (TestStateStatus::Retriable, None, caught, None, vars),
        AloneOutcome::Failed { error, cause } => (
            TestStateStatus::Failed,
            None,
            Some(StatesError::new(error, cause)),
            None,
            vars,
        ),
    };
    let inspection_data = (req.inspection_level != InspectionLevel::Info).then(|| {
        let mut d = shown_for(st, inspection.data);
        d.variables = (!vars.is_empty()).then_some(Value::Object(vars));
        (d.request, d.response) = exchange;
        d
    });
    Ok(TestStateResponse {
        status,
        output,
        error: error.as_ref().map(|e| e.error.clone()),
        cause: error.map(|e| e.cause),
        next_state: next.map(|i| states.get(i).name.to_string()),
        inspection_data,
    })
}

/// The inspection values AWS shows for a state of this type: a Parallel shows neither
/// its effective input nor its branches' raw result (a Map not the raw result either),
/// and a JSONPath Fail state shows its input as `afterInputPath`.
fn shown_for(st: &State, mut d: InspectionData) -> InspectionData {
    match &st.kind {
        StateKind::Parallel(_) => {
            d.after_input_path = None;
            d.after_parameters = None;
            d.after_arguments = None;
            d.result = None;
        }
        StateKind::Map(_) => d.result = None,
        StateKind::Fail(_) if st.query_language == QueryLanguage::JsonPath => {
            d.after_input_path = d.input.clone();
        }
        _ => {}
    }
    d
}

/// An EXPRESS execution in the request's region and account, as TestState runs one.
fn test_execution_info(req: &TestStateRequest) -> ExecutionInfo {
    let mut info = ExecutionInfo::local_express("TestState", "TestState", "test");
    info.region = req.region.clone();
    info.account = req.account.clone();
    if let Some(r) = &req.role_arn {
        info.role_arn = r.clone();
    }
    info
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

/// A state by name anywhere in the machine (names are unique machine-wide): the path
/// to its `States` ((state index, branch index) pairs, as execution frames keep it) and
/// its index there.
fn find_state(
    states: &States,
    name: &str,
    path: &mut Vec<(u32, u32)>,
) -> Option<(Vec<(u32, u32)>, usize)> {
    if let Some(i) = states.find(name) {
        return Some((path.clone(), i));
    }
    for (si, s) in states.states.iter().enumerate() {
        let children: Vec<&States> = match &s.kind {
            StateKind::Parallel(p) => p.branches.iter().collect(),
            StateKind::Map(m) => vec![&m.processor],
            _ => continue,
        };
        for (bi, b) in children.into_iter().enumerate() {
            path.push((si as u32, bi as u32));
            if let Some(found) = find_state(b, name, path) {
                return Some(found);
            }
            path.pop();
        }
    }
    None
}

/// What the state runs on: the mocked task outcome.
type Mocked = Result<Value, StatesError>;

/// `callable`: a Task the edge can call for real, so no mock is needed.
fn check_mock(
    req: &TestStateRequest,
    st: &State,
    callable: bool,
) -> Result<Option<Mocked>, TestStateError> {
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
        if callable {
            return Ok(None);
        }
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
            // A Task's result must fit the output of the API its resource calls.
            if let StateKind::Task(t) = &st.kind {
                let mode = FieldValidationMode::parse(mock.field_validation_mode.as_deref())
                    .unwrap_or(FieldValidationMode::Strict);
                check_mock_result(&t.resource, mode, &v).map_err(TestStateError::Validation)?;
            }
            Ok(Some(Ok(v)))
        }
        (None, Some(e)) => Ok(Some(Err(StatesError::new(
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
    let partition = stepwise_asl::partition_of(region);
    let mut exec = Map::new();
    exec.insert(
        "Id".into(),
        Value::String(format!(
            "arn:{partition}:states:{region}:{account}:express:{sm_name}:{exec_name}"
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
            "arn:{partition}:states:{region}:{account}:stateMachine:{sm_name}"
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

#[cfg(test)]
#[path = "tests/test_state.rs"]
mod tests;
