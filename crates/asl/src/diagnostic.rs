//! Validation findings, located by JSON pointer.

use std::fmt;

/// One problem in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// JSON pointer into the definition (`/States/Wait/Seconds`); empty for the root.
    pub pointer: String,
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED`, `INVALID_JSON_DESCRIPTION`,
    /// `MISSING_TRANSITION_TARGET`, `DUPLICATE_STATE_NAME`, `UNREACHABLE_STATE`.
    pub code: String,
    /// Human text, AWS's wording where AWS has one.
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            pointer: pointer.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{}: {}: {}", p, self.code, self.message)
    }
}
