//! The `States.*` intrinsic functions.
//!
//! STUB: the API below is the contract; bodies are being written.

use crate::{Scope, Sources, StatesError};
use serde_json::Value;

/// A parse failure of an intrinsic function call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IntrinsicParseError {
    pub message: String,
}

/// A parsed intrinsic call such as `States.Format('x {}', $.a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Intrinsic {
    src: String,
}

impl Intrinsic {
    /// True when `src` looks like an intrinsic call (`States.` … `(`) rather than a path.
    pub fn looks_like(src: &str) -> bool {
        src.trim_start().starts_with("States.")
    }
    pub fn parse(src: &str) -> Result<Intrinsic, IntrinsicParseError> {
        let _ = src;
        unimplemented!()
    }
    pub fn as_str(&self) -> &str {
        &self.src
    }
    /// Evaluate; failures are `States.IntrinsicFailure` (or `States.Runtime` for
    /// unresolvable path arguments) with AWS's cause text.
    pub fn eval(&self, scope: &Scope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
        let _ = (scope, sources);
        unimplemented!()
    }
}
