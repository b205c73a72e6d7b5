//! One error type for the wire: AWS's code, HTTP status and message side by side.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use stepwise_engine::{Error, ErrorCode};

/// An error as AWS's JSON 1.0 protocol sends it:
/// `{"__type": "<namespace>#<Code>", "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub namespace: &'static str,
    pub code: String,
    pub message: String,
}

/// Step Functions' own errors.
const SFN: &str = "com.amazonaws.swf.service.v2.model";
/// Errors of the service framework (routing, parsing, constraint checks).
const CORAL: &str = "com.amazon.coral.service";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate";

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            namespace: SFN,
            code: code.to_string(),
            message: message.into(),
        }
    }
    /// An error of the service framework (authentication, routing), HTTP 400.
    pub fn coral(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            namespace: CORAL,
            code: code.to_string(),
            message: message.into(),
        }
    }
    pub fn unknown_operation(target: &str) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            namespace: CORAL,
            code: "UnknownOperationException".into(),
            message: if target.is_empty() {
                "Missing X-Amz-Target header".into()
            } else {
                format!("Unknown operation: {target}")
            },
        }
    }
    pub fn serialization(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            namespace: CORAL,
            code: "SerializationException".into(),
            message: message.into(),
        }
    }
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            namespace: CORAL_VALIDATE,
            code: "ValidationException".into(),
            message: message.into(),
        }
    }
    pub fn too_large(limit: usize) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            namespace: CORAL,
            code: "RequestEntityTooLargeException".into(),
            message: format!("Request body exceeds the limit of {limit} bytes"),
        }
    }
    pub fn invalid_arn(message: impl Into<String>) -> ApiError {
        ApiError::new("InvalidArn", message)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e.code {
            ErrorCode::ValidationException => ApiError::validation(e.message),
            ErrorCode::ServiceException => ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                namespace: CORAL,
                code: "ServiceException".into(),
                message: e.message,
            },
            code => ApiError::new(code.as_str(), e.message),
        }
    }
}

impl From<crate::shapes::WireError> for ApiError {
    fn from(e: crate::shapes::WireError) -> ApiError {
        match e {
            crate::shapes::WireError::Validation(m) => ApiError::validation(m),
            crate::shapes::WireError::Serialization(m) => ApiError::serialization(m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "__type": format!("{}#{}", self.namespace, self.code),
            "message": self.message,
        });
        (self.status, body.to_string()).into_response()
    }
}
