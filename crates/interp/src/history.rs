//! History events, as GetExecutionHistory returns them.
//!
//! Events are typed here (cheap to build on the hot path) and turned into AWS's JSON
//! shape by [`HistoryEvent::to_aws_json`]: `{"id", "previousEventId", "timestamp",
//! "type", "<x>EventDetails": {…}}`, with `input`/`output`/`parameters` as JSON text.

use serde_json::{json, Map, Value};
use std::sync::Arc;

macro_rules! event_types {
    ($($name:ident),* $(,)?) => {
        /// AWS's history event types.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType { $($name),* }
        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$name),*];
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$name => stringify!($name)),* }
            }
        }
    };
}

event_types!(
    ActivityFailed,
    ActivityScheduled,
    ActivityScheduleFailed,
    ActivityStarted,
    ActivitySucceeded,
    ActivityTimedOut,
    ChoiceStateEntered,
    ChoiceStateExited,
    ExecutionAborted,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionTimedOut,
    FailStateEntered,
    LambdaFunctionFailed,
    LambdaFunctionScheduled,
    LambdaFunctionScheduleFailed,
    LambdaFunctionStarted,
    LambdaFunctionStartFailed,
    LambdaFunctionSucceeded,
    LambdaFunctionTimedOut,
    MapIterationAborted,
    MapIterationFailed,
    MapIterationStarted,
    MapIterationSucceeded,
    MapStateAborted,
    MapStateEntered,
    MapStateExited,
    MapStateFailed,
    MapStateStarted,
    MapStateSucceeded,
    ParallelStateAborted,
    ParallelStateEntered,
    ParallelStateExited,
    ParallelStateFailed,
    ParallelStateStarted,
    ParallelStateSucceeded,
    PassStateEntered,
    PassStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    TaskFailed,
    TaskScheduled,
    TaskStarted,
    TaskStartFailed,
    TaskStateAborted,
    TaskStateEntered,
    TaskStateExited,
    TaskSubmitFailed,
    TaskSubmitted,
    TaskSucceeded,
    TaskTimedOut,
    WaitStateAborted,
    WaitStateEntered,
    WaitStateExited,
    MapRunAborted,
    MapRunFailed,
    MapRunStarted,
    MapRunSucceeded,
    ExecutionRedriven,
    MapRunRedriven,
    EvaluationFailed,
);

impl EventType {
    /// `<Type>StateEntered` for a state type name.
    pub fn entered(state_type: &str) -> EventType {
        match state_type {
            "Pass" => EventType::PassStateEntered,
            "Task" => EventType::TaskStateEntered,
            "Choice" => EventType::ChoiceStateEntered,
            "Wait" => EventType::WaitStateEntered,
            "Succeed" => EventType::SucceedStateEntered,
            "Fail" => EventType::FailStateEntered,
            "Parallel" => EventType::ParallelStateEntered,
            _ => EventType::MapStateEntered,
        }
    }
    /// `<Type>StateExited` for a state type name (Fail has none; it maps to Pass's, unused).
    pub fn exited(state_type: &str) -> EventType {
        match state_type {
            "Task" => EventType::TaskStateExited,
            "Choice" => EventType::ChoiceStateExited,
            "Wait" => EventType::WaitStateExited,
            "Succeed" => EventType::SucceedStateExited,
            "Parallel" => EventType::ParallelStateExited,
            "Map" => EventType::MapStateExited,
            _ => EventType::PassStateExited,
        }
    }

    /// The name of the details object for this type, as AWS spells it.
    pub fn details_key(self) -> Option<&'static str> {
        use EventType::*;
        Some(match self {
            ActivityFailed => "activityFailedEventDetails",
            ActivityScheduled => "activityScheduledEventDetails",
            ActivityScheduleFailed => "activityScheduleFailedEventDetails",
            ActivityStarted => "activityStartedEventDetails",
            ActivitySucceeded => "activitySucceededEventDetails",
            ActivityTimedOut => "activityTimedOutEventDetails",
            ExecutionAborted => "executionAbortedEventDetails",
            ExecutionFailed => "executionFailedEventDetails",
            ExecutionStarted => "executionStartedEventDetails",
            ExecutionSucceeded => "executionSucceededEventDetails",
            ExecutionTimedOut => "executionTimedOutEventDetails",
            ExecutionRedriven => "executionRedrivenEventDetails",
            LambdaFunctionFailed => "lambdaFunctionFailedEventDetails",
            LambdaFunctionScheduled => "lambdaFunctionScheduledEventDetails",
            LambdaFunctionScheduleFailed => "lambdaFunctionScheduleFailedEventDetails",
            LambdaFunctionStartFailed => "lambdaFunctionStartFailedEventDetails",
            LambdaFunctionSucceeded => "lambdaFunctionSucceededEventDetails",
            LambdaFunctionTimedOut => "lambdaFunctionTimedOutEventDetails",
            MapIterationAborted
            | MapIterationFailed
            | MapIterationStarted
            | MapIterationSucceeded => match self {
                MapIterationAborted => "mapIterationAbortedEventDetails",
                MapIterationFailed => "mapIterationFailedEventDetails",
                MapIterationStarted => "mapIterationStartedEventDetails",
                _ => "mapIterationSucceededEventDetails",
            },
            MapStateStarted => "mapStateStartedEventDetails",
            MapRunStarted => "mapRunStartedEventDetails",
            MapRunFailed => "mapRunFailedEventDetails",
            MapRunRedriven => "mapRunRedrivenEventDetails",
            TaskFailed => "taskFailedEventDetails",
            TaskScheduled => "taskScheduledEventDetails",
            TaskStarted => "taskStartedEventDetails",
            TaskStartFailed => "taskStartFailedEventDetails",
            TaskSubmitFailed => "taskSubmitFailedEventDetails",
            TaskSubmitted => "taskSubmittedEventDetails",
            TaskSucceeded => "taskSucceededEventDetails",
            TaskTimedOut => "taskTimedOutEventDetails",
            EvaluationFailed => "evaluationFailedEventDetails",
            ChoiceStateEntered | FailStateEntered | MapStateEntered | ParallelStateEntered
            | PassStateEntered | SucceedStateEntered | TaskStateEntered | WaitStateEntered => {
                "stateEnteredEventDetails"
            }
            ChoiceStateExited | MapStateExited | ParallelStateExited | PassStateExited
            | SucceedStateExited | TaskStateExited | WaitStateExited => "stateExitedEventDetails",
            _ => return None,
        })
    }
}

/// The typed details of an event. The large, rare ones (tasks, evaluation failures) are
/// boxed so that an event stays small: events are moved on every transition.
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    None,
    ExecutionStarted {
        input: Arc<Value>,
        role_arn: String,
    },
    /// ExecutionSucceeded, ActivitySucceeded, LambdaFunctionSucceeded.
    Output {
        output: Arc<Value>,
    },
    /// ExecutionFailed/Aborted/TimedOut, ActivityFailed/TimedOut, LambdaFunctionFailed…
    Failure {
        error: Option<String>,
        cause: Option<String>,
    },
    StateEntered {
        name: Arc<str>,
        input: Arc<Value>,
    },
    StateExited {
        name: Arc<str>,
        output: Arc<Value>,
        /// Boxed: most states assign nothing, and events are moved often.
        assigned_variables: Option<Box<Map<String, Value>>>,
    },
    MapStateStarted {
        length: usize,
    },
    MapIteration {
        name: Arc<str>,
        index: usize,
    },
    MapRunStarted {
        map_run_arn: String,
    },
    TaskScheduled(Box<TaskScheduledDetails>),
    TaskStarted {
        resource_type: String,
        resource: String,
    },
    TaskOutput(Box<TaskOutputDetails>),
    TaskFailure(Box<TaskFailureDetails>),
    ActivityScheduled(Box<ActivityScheduledDetails>),
    ActivityStarted {
        worker_name: String,
    },
    LambdaFunctionScheduled(Box<LambdaFunctionScheduledDetails>),
    EvaluationFailed(Box<EvaluationFailedDetails>),
    Redriven {
        redrive_count: u32,
    },
    MapRunRedriven {
        map_run_arn: String,
        redrive_count: u32,
    },
}

/// The details of `TaskScheduled` events.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskScheduledDetails {
    pub resource_type: String,
    pub resource: String,
    pub region: String,
    pub parameters: Value,
    pub timeout_in_seconds: Option<u64>,
    pub heartbeat_in_seconds: Option<u64>,
}

/// The details of `TaskSucceeded` and `TaskSubmitted` events.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskOutputDetails {
    pub resource_type: String,
    pub resource: String,
    pub output: Value,
}

/// The details of `TaskFailed`, `TaskTimedOut`, `TaskStartFailed` and `TaskSubmitFailed` events.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFailureDetails {
    pub resource_type: String,
    pub resource: String,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// The details of `ActivityScheduled` events.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityScheduledDetails {
    pub resource: String,
    pub input: Value,
    pub timeout_in_seconds: Option<u64>,
    pub heartbeat_in_seconds: Option<u64>,
}

/// The details of `LambdaFunctionScheduled` events.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaFunctionScheduledDetails {
    pub resource: String,
    pub input: Value,
    pub timeout_in_seconds: Option<u64>,
}

/// The details of `EvaluationFailed` events.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationFailedDetails {
    pub error: String,
    pub cause: String,
    pub location: Option<String>,
    pub state: String,
}

// Events are moved on every transition: keep them small (88 bytes on 64-bit targets).
const _: () = assert!(std::mem::size_of::<HistoryEvent>() <= 96);

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    /// Milliseconds since the epoch (from the injected clock).
    pub timestamp_millis: i64,
    pub event_type: EventType,
    pub details: Details,
}

/// Where the fields of an event's details go: a JSON value ([`HistoryEvent::to_aws_json`])
/// or JSON text written directly ([`HistoryEvent::aws_json_text`], the store's hot path).
/// One walk over the details ([`HistoryEvent::details_fields`]) feeds both, so the two
/// shapes cannot drift apart.
trait Fields {
    fn str(&mut self, key: &str, v: &str);
    /// A JSON value as JSON text (AWS's `input`, `output`, `parameters`).
    fn text(&mut self, key: &str, v: &Value);
    fn num(&mut self, key: &str, v: u64);
    /// `{"truncated": false}`.
    fn not_truncated(&mut self, key: &str);
    /// An object whose values are JSON texts (`assignedVariables`).
    fn texts(&mut self, key: &str, vars: &Map<String, Value>);
    fn opt(&mut self, key: &str, v: &Option<String>) {
        if let Some(v) = v {
            self.str(key, v);
        }
    }
}

impl Fields for Map<String, Value> {
    fn str(&mut self, key: &str, v: &str) {
        self.insert(key.into(), Value::String(v.to_string()));
    }
    fn text(&mut self, key: &str, v: &Value) {
        self.insert(key.into(), Value::String(v.to_string()));
    }
    fn num(&mut self, key: &str, v: u64) {
        self.insert(key.into(), json!(v));
    }
    fn not_truncated(&mut self, key: &str) {
        self.insert(key.into(), json!({"truncated": false}));
    }
    fn texts(&mut self, key: &str, vars: &Map<String, Value>) {
        let m = vars
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
            .collect();
        self.insert(key.into(), Value::Object(m));
    }
}

/// JSON text of one object, written as serde_json writes a `Value` (same escaping, same
/// number format), field by field.
struct Text {
    out: Vec<u8>,
    first: bool,
}

/// Writes `v.to_string()` (serde_json's compact text) as the body of a JSON string, in
/// one walk: what serde_json escapes once inside strings is escaped again here, and the
/// text's own quotes become `\"`. Numbers are written by serde_json itself (their text
/// never needs escaping), so the output is exactly the two-step result.
fn write_escaped_json(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Writing into a Vec cannot fail.
        Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        Value::String(s) => write_escaped_string(out, s),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_escaped_json(out, x);
            }
            out.push(b']');
        }
        Value::Object(m) => {
            out.push(b'{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_escaped_string(out, k);
                out.push(b':');
                write_escaped_json(out, x);
            }
            out.push(b'}');
        }
    }
}

/// A JSON string (quotes included) as serde_json writes it, escaped once more.
fn write_escaped_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(b"\\\"");
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let twice: &[u8] = match b {
            b'"' => b"\\\\\\\"",
            b'\\' => b"\\\\\\\\",
            b'\n' => b"\\\\n",
            b'\r' => b"\\\\r",
            b'\t' => b"\\\\t",
            0x08 => b"\\\\b",
            0x0c => b"\\\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if twice.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(twice);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.extend_from_slice(b"\\\"");
}

impl Text {
    fn key(&mut self, key: &str) {
        if !std::mem::replace(&mut self.first, false) {
            self.out.push(b',');
        }
        self.string(key);
        self.out.push(b':');
    }
    fn string(&mut self, s: &str) {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, s);
    }
    fn open(&mut self) {
        self.out.push(b'{');
        self.first = true;
    }
    fn close(&mut self) {
        self.out.push(b'}');
        self.first = false;
    }
}

impl Fields for Text {
    fn str(&mut self, key: &str, v: &str) {
        self.key(key);
        self.string(v);
    }
    fn text(&mut self, key: &str, v: &Value) {
        self.key(key);
        self.out.push(b'"');
        write_escaped_json(&mut self.out, v);
        self.out.push(b'"');
    }
    fn num(&mut self, key: &str, v: u64) {
        self.key(key);
        let _ = serde_json::to_writer(&mut self.out, &v);
    }
    fn not_truncated(&mut self, key: &str) {
        self.key(key);
        self.out.extend_from_slice(b"{\"truncated\":false}");
    }
    fn texts(&mut self, key: &str, vars: &Map<String, Value>) {
        self.key(key);
        self.open();
        for (k, v) in vars {
            self.text(k, v);
        }
        self.close();
    }
}

impl HistoryEvent {
    /// The event as GetExecutionHistory returns it. `include_data: false` drops inputs
    /// and outputs (`includeExecutionData = false`).
    pub fn to_aws_json(&self, include_data: bool) -> Value {
        let mut m = Map::new();
        m.insert(
            "timestamp".into(),
            json!(self.timestamp_millis as f64 / 1000.0),
        );
        m.insert(
            "type".into(),
            Value::String(self.event_type.as_str().into()),
        );
        m.insert("id".into(), json!(self.id));
        m.insert("previousEventId".into(), json!(self.previous_event_id));
        if let Some(key) = self.event_type.details_key() {
            let mut d = Map::new();
            if self.details_fields(include_data, &mut d) {
                m.insert(key.into(), Value::Object(d));
            }
        }
        Value::Object(m)
    }

    /// `to_aws_json(include_data).to_string()`, written directly (no intermediate value).
    pub fn aws_json_text(&self, include_data: bool) -> String {
        let mut t = Text {
            out: Vec::with_capacity(256),
            first: true,
        };
        t.open();
        t.key("timestamp");
        let _ = serde_json::to_writer(&mut t.out, &(self.timestamp_millis as f64 / 1000.0));
        t.str("type", self.event_type.as_str());
        t.num("id", self.id);
        t.num("previousEventId", self.previous_event_id);
        if let Some(key) = self.event_type.details_key() {
            if !matches!(self.details, Details::None) {
                t.key(key);
                t.open();
                self.details_fields(include_data, &mut t);
                t.close();
            }
        }
        t.close();
        // serde_json writes UTF-8 only.
        String::from_utf8(t.out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Write the details' fields in AWS's order; `false` for an event without details.
    fn details_fields(&self, data: bool, m: &mut dyn Fields) -> bool {
        match &self.details {
            Details::None => return false,
            Details::ExecutionStarted { input, role_arn } => {
                if data {
                    m.text("input", input);
                    m.not_truncated("inputDetails");
                }
                m.str("roleArn", role_arn);
            }
            Details::Output { output } => {
                if data {
                    m.text("output", output);
                    m.not_truncated("outputDetails");
                }
            }
            Details::Failure { error, cause } => {
                m.opt("error", error);
                m.opt("cause", cause);
            }
            Details::StateEntered { name, input } => {
                m.str("name", name);
                if data {
                    m.text("input", input);
                    m.not_truncated("inputDetails");
                }
            }
            Details::StateExited {
                name,
                output,
                assigned_variables,
            } => {
                m.str("name", name);
                if data {
                    m.text("output", output);
                    m.not_truncated("outputDetails");
                }
                if let Some(vars) = assigned_variables {
                    m.texts("assignedVariables", vars);
                    m.not_truncated("assignedVariablesDetails");
                }
            }
            Details::MapStateStarted { length } => m.num("length", *length as u64),
            Details::MapIteration { name, index } => {
                m.str("name", name);
                m.num("index", *index as u64);
            }
            Details::MapRunStarted { map_run_arn } => m.str("mapRunArn", map_run_arn),
            Details::TaskScheduled(d) => {
                let TaskScheduledDetails {
                    resource_type,
                    resource,
                    region,
                    parameters,
                    timeout_in_seconds,
                    heartbeat_in_seconds,
                } = &**d;
                m.str("resourceType", resource_type);
                m.str("resource", resource);
                m.str("region", region);
                m.text("parameters", parameters);
                if let Some(t) = timeout_in_seconds {
                    m.num("timeoutInSeconds", *t);
                }
                if let Some(h) = heartbeat_in_seconds {
                    m.num("heartbeatInSeconds", *h);
                }
            }
            Details::TaskStarted {
                resource_type,
                resource,
            } => {
                m.str("resourceType", resource_type);
                m.str("resource", resource);
            }
            Details::TaskOutput(d) => {
                let TaskOutputDetails {
                    resource_type,
                    resource,
                    output,
                } = &**d;
                m.str("resourceType", resource_type);
                m.str("resource", resource);
                if data {
                    m.text("output", output);
                    m.not_truncated("outputDetails");
                }
            }
            Details::TaskFailure(d) => {
                let TaskFailureDetails {
                    resource_type,
                    resource,
                    error,
                    cause,
                } = &**d;
                m.str("resourceType", resource_type);
                m.str("resource", resource);
                m.opt("error", error);
                m.opt("cause", cause);
            }
            Details::ActivityScheduled(d) => {
                let ActivityScheduledDetails {
                    resource,
                    input,
                    timeout_in_seconds,
                    heartbeat_in_seconds,
                } = &**d;
                m.str("resource", resource);
                if data {
                    m.text("input", input);
                    m.not_truncated("inputDetails");
                }
                if let Some(t) = timeout_in_seconds {
                    m.num("timeoutInSeconds", *t);
                }
                if let Some(h) = heartbeat_in_seconds {
                    m.num("heartbeatInSeconds", *h);
                }
            }
            // A worker that gave no name: AWS shows `{}`.
            Details::ActivityStarted { worker_name } if worker_name.is_empty() => {}
            Details::ActivityStarted { worker_name } => m.str("workerName", worker_name),
            Details::LambdaFunctionScheduled(d) => {
                let LambdaFunctionScheduledDetails {
                    resource,
                    input,
                    timeout_in_seconds,
                } = &**d;
                m.str("resource", resource);
                if data {
                    m.text("input", input);
                    m.not_truncated("inputDetails");
                }
                if let Some(t) = timeout_in_seconds {
                    m.num("timeoutInSeconds", *t);
                }
            }
            Details::EvaluationFailed(d) => {
                let EvaluationFailedDetails {
                    error,
                    cause,
                    location,
                    state,
                } = &**d;
                m.str("error", error);
                m.str("cause", cause);
                m.opt("location", location);
                m.str("state", state);
            }
            Details::Redriven { redrive_count } => m.num("redriveCount", u64::from(*redrive_count)),
            Details::MapRunRedriven {
                map_run_arn,
                redrive_count,
            } => {
                m.str("mapRunArn", map_run_arn);
                m.num("redriveCount", u64::from(*redrive_count));
            }
        }
        true
    }
}

#[cfg(test)]
#[path = "tests/history.rs"]
mod tests;
