//! Runtime failures as data: an AWS error name (`States.Runtime`, …) and its cause text.

/// Well-known error names, spelled as AWS spells them.
pub mod names {
    pub const ALL: &str = "States.ALL";
    pub const RUNTIME: &str = "States.Runtime";
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    pub const TIMEOUT: &str = "States.Timeout";
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const PERMISSIONS: &str = "States.Permissions";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
}

/// A failure raised while a state runs. Retry and Catch match on `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct StatesError {
    pub error: String,
    pub cause: String,
    /// An empty `error` or `cause` stands for a field that was left out (a task failure
    /// answered without it, as `SendTaskFailure` allows): a Catch shows it as `null`,
    /// where an empty text AWS made itself (a timeout's cause) stays `""`.
    pub absent_if_empty: bool,
}

impl StatesError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError {
            error: error.into(),
            cause: cause.into(),
            absent_if_empty: false,
        }
    }
    /// A task's own failure (`SendTaskFailure`, a call's error): empty texts are
    /// fields it left out.
    pub fn from_task(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError {
            absent_if_empty: true,
            ..Self::new(error, cause)
        }
    }
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(names::RUNTIME, cause)
    }
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Self::new(names::INTRINSIC_FAILURE, cause)
    }
    pub fn query_evaluation(cause: impl Into<String>) -> Self {
        Self::new(names::QUERY_EVALUATION_ERROR, cause)
    }
}
