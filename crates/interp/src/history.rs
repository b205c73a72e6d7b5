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

/// The typed details of an event.
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
        assigned_variables: Option<Map<String, Value>>,
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
    TaskScheduled {
        resource_type: String,
        resource: String,
        region: String,
        parameters: Value,
        timeout_in_seconds: Option<u64>,
        heartbeat_in_seconds: Option<u64>,
    },
    TaskStarted {
        resource_type: String,
        resource: String,
    },
    /// TaskSucceeded, TaskSubmitted.
    TaskOutput {
        resource_type: String,
        resource: String,
        output: Value,
    },
    /// TaskFailed, TaskTimedOut, TaskStartFailed, TaskSubmitFailed.
    TaskFailure {
        resource_type: String,
        resource: String,
        error: Option<String>,
        cause: Option<String>,
    },
    ActivityScheduled {
        resource: String,
        input: Value,
        timeout_in_seconds: Option<u64>,
        heartbeat_in_seconds: Option<u64>,
    },
    ActivityStarted {
        worker_name: String,
    },
    LambdaFunctionScheduled {
        resource: String,
        input: Value,
        timeout_in_seconds: Option<u64>,
    },
    EvaluationFailed {
        error: String,
        cause: String,
        location: Option<String>,
        state: String,
    },
    Redriven {
        redrive_count: u32,
    },
    MapRunRedriven {
        map_run_arn: String,
        redrive_count: u32,
    },
}

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

fn text(v: &Value) -> Value {
    Value::String(v.to_string())
}

fn put_opt(m: &mut Map<String, Value>, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(k.into(), Value::String(v.clone()));
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
        if let (Some(key), Some(d)) = (
            self.event_type.details_key(),
            self.details_json(include_data),
        ) {
            m.insert(key.into(), d);
        }
        Value::Object(m)
    }

    fn details_json(&self, data: bool) -> Option<Value> {
        let trunc = || json!({"truncated": false});
        let mut m = Map::new();
        match &self.details {
            Details::None => return None,
            Details::ExecutionStarted { input, role_arn } => {
                if data {
                    m.insert("input".into(), text(input));
                    m.insert("inputDetails".into(), trunc());
                }
                m.insert("roleArn".into(), Value::String(role_arn.clone()));
            }
            Details::Output { output } => {
                if data {
                    m.insert("output".into(), text(output));
                    m.insert("outputDetails".into(), trunc());
                }
            }
            Details::Failure { error, cause } => {
                put_opt(&mut m, "error", error);
                put_opt(&mut m, "cause", cause);
            }
            Details::StateEntered { name, input } => {
                m.insert("name".into(), Value::String(name.to_string()));
                if data {
                    m.insert("input".into(), text(input));
                    m.insert("inputDetails".into(), trunc());
                }
            }
            Details::StateExited {
                name,
                output,
                assigned_variables,
            } => {
                m.insert("name".into(), Value::String(name.to_string()));
                if data {
                    m.insert("output".into(), text(output));
                    m.insert("outputDetails".into(), trunc());
                }
                if let Some(vars) = assigned_variables {
                    let vars: Map<String, Value> =
                        vars.iter().map(|(k, v)| (k.clone(), text(v))).collect();
                    m.insert("assignedVariables".into(), Value::Object(vars));
                    m.insert("assignedVariablesDetails".into(), trunc());
                }
            }
            Details::MapStateStarted { length } => {
                m.insert("length".into(), json!(length));
            }
            Details::MapIteration { name, index } => {
                m.insert("name".into(), Value::String(name.to_string()));
                m.insert("index".into(), json!(index));
            }
            Details::MapRunStarted { map_run_arn } => {
                m.insert("mapRunArn".into(), Value::String(map_run_arn.clone()));
            }
            Details::TaskScheduled {
                resource_type,
                resource,
                region,
                parameters,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => {
                m.insert("resourceType".into(), Value::String(resource_type.clone()));
                m.insert("resource".into(), Value::String(resource.clone()));
                m.insert("region".into(), Value::String(region.clone()));
                m.insert("parameters".into(), text(parameters));
                if let Some(t) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
                if let Some(h) = heartbeat_in_seconds {
                    m.insert("heartbeatInSeconds".into(), json!(h));
                }
            }
            Details::TaskStarted {
                resource_type,
                resource,
            } => {
                m.insert("resourceType".into(), Value::String(resource_type.clone()));
                m.insert("resource".into(), Value::String(resource.clone()));
            }
            Details::TaskOutput {
                resource_type,
                resource,
                output,
            } => {
                m.insert("resourceType".into(), Value::String(resource_type.clone()));
                m.insert("resource".into(), Value::String(resource.clone()));
                if data {
                    m.insert("output".into(), text(output));
                    m.insert("outputDetails".into(), trunc());
                }
            }
            Details::TaskFailure {
                resource_type,
                resource,
                error,
                cause,
            } => {
                m.insert("resourceType".into(), Value::String(resource_type.clone()));
                m.insert("resource".into(), Value::String(resource.clone()));
                put_opt(&mut m, "error", error);
                put_opt(&mut m, "cause", cause);
            }
            Details::ActivityScheduled {
                resource,
                input,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => {
                m.insert("resource".into(), Value::String(resource.clone()));
                if data {
                    m.insert("input".into(), text(input));
                    m.insert("inputDetails".into(), trunc());
                }
                if let Some(t) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
                if let Some(h) = heartbeat_in_seconds {
                    m.insert("heartbeatInSeconds".into(), json!(h));
                }
            }
            Details::ActivityStarted { worker_name } => {
                m.insert("workerName".into(), Value::String(worker_name.clone()));
            }
            Details::LambdaFunctionScheduled {
                resource,
                input,
                timeout_in_seconds,
            } => {
                m.insert("resource".into(), Value::String(resource.clone()));
                if data {
                    m.insert("input".into(), text(input));
                    m.insert("inputDetails".into(), trunc());
                }
                if let Some(t) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
            }
            Details::EvaluationFailed {
                error,
                cause,
                location,
                state,
            } => {
                m.insert("error".into(), Value::String(error.clone()));
                m.insert("cause".into(), Value::String(cause.clone()));
                put_opt(&mut m, "location", location);
                m.insert("state".into(), Value::String(state.clone()));
            }
            Details::Redriven { redrive_count } => {
                m.insert("redriveCount".into(), json!(redrive_count));
            }
            Details::MapRunRedriven {
                map_run_arn,
                redrive_count,
            } => {
                m.insert("mapRunArn".into(), Value::String(map_run_arn.clone()));
                m.insert("redriveCount".into(), json!(redrive_count));
            }
        }
        Some(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_two_event_types() {
        assert_eq!(EventType::ALL.len(), 62);
    }

    #[test]
    fn state_entered_shape() {
        let e = HistoryEvent {
            id: 2,
            previous_event_id: 0,
            timestamp_millis: 1_500,
            event_type: EventType::PassStateEntered,
            details: Details::StateEntered {
                name: Arc::from("A"),
                input: Arc::new(json!({"a": 1})),
            },
        };
        let j = e.to_aws_json(true);
        assert_eq!(j["type"], "PassStateEntered");
        assert_eq!(j["timestamp"], 1.5);
        assert_eq!(j["stateEnteredEventDetails"]["input"], "{\"a\":1}");
        assert_eq!(
            j["stateEnteredEventDetails"]["inputDetails"]["truncated"],
            false
        );
        let j = e.to_aws_json(false);
        assert!(j["stateEnteredEventDetails"].get("input").is_none());
    }

    #[test]
    fn events_without_details() {
        let e = HistoryEvent {
            id: 9,
            previous_event_id: 8,
            timestamp_millis: 0,
            event_type: EventType::MapStateSucceeded,
            details: Details::None,
        };
        let j = e.to_aws_json(true);
        assert_eq!(j.as_object().map(|m| m.len()), Some(4));
    }
}
