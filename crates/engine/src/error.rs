//! Failures of service calls, named by AWS's error codes.

/// AWS Step Functions' error codes (the `__type` after `#`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ActivityDoesNotExist,
    ActivityWorkerLimitExceeded,
    ConflictException,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionLimitExceeded,
    ExecutionNotRedrivable,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    ResourceNotFound,
    ServiceQuotaExceededException,
    StateMachineAlreadyExists,
    StateMachineDeleting,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TaskDoesNotExist,
    TaskTimedOut,
    TooManyTags,
    ValidationException,
    /// Ours: the store failed; HTTP 500.
    ServiceException,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ActivityDoesNotExist => "ActivityDoesNotExist",
            ActivityWorkerLimitExceeded => "ActivityWorkerLimitExceeded",
            ConflictException => "ConflictException",
            ExecutionAlreadyExists => "ExecutionAlreadyExists",
            ExecutionDoesNotExist => "ExecutionDoesNotExist",
            ExecutionLimitExceeded => "ExecutionLimitExceeded",
            ExecutionNotRedrivable => "ExecutionNotRedrivable",
            InvalidArn => "InvalidArn",
            InvalidDefinition => "InvalidDefinition",
            InvalidExecutionInput => "InvalidExecutionInput",
            InvalidName => "InvalidName",
            InvalidOutput => "InvalidOutput",
            InvalidToken => "InvalidToken",
            ResourceNotFound => "ResourceNotFound",
            ServiceQuotaExceededException => "ServiceQuotaExceededException",
            StateMachineAlreadyExists => "StateMachineAlreadyExists",
            StateMachineDeleting => "StateMachineDeleting",
            StateMachineDoesNotExist => "StateMachineDoesNotExist",
            StateMachineTypeNotSupported => "StateMachineTypeNotSupported",
            TaskDoesNotExist => "TaskDoesNotExist",
            TaskTimedOut => "TaskTimedOut",
            TooManyTags => "TooManyTags",
            ValidationException => "ValidationException",
            ServiceException => "ServiceException",
        }
    }
}

/// A failed service call: AWS's code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }
    pub(crate) fn store(e: stepwise_store::StoreError) -> Error {
        tracing::error!(error = %e, "store read failed");
        Error::new(ErrorCode::ServiceException, "Internal storage error")
    }
    pub(crate) fn commit() -> Error {
        Error::new(
            ErrorCode::ServiceException,
            "The change could not be made durable; the server must be restarted",
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
