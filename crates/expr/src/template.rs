//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector`, JSONPath `Assign`.
//!
//! STUB: the API below is the contract; bodies are being written.

use crate::{Scope, Sources, StatesError};
use serde_json::Value;

/// A problem in a template, located by a JSON pointer relative to the template root
/// (e.g. `/a/b.$`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct TemplateError {
    pub pointer: String,
    pub message: String,
}

/// A compiled payload template.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadTemplate {
    raw: Value,
}

impl PayloadTemplate {
    /// Compile: every `"key.$"` string value must be a valid path or intrinsic call.
    pub fn compile(raw: &Value) -> Result<PayloadTemplate, Vec<TemplateError>> {
        let _ = raw;
        unimplemented!()
    }
    pub fn raw(&self) -> &Value {
        &self.raw
    }
    /// Evaluate against `scope`; `"key.$"` fields become `"key"` with the selected value.
    pub fn eval(&self, scope: &Scope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
        let _ = (scope, sources);
        unimplemented!()
    }
}
