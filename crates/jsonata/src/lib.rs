//! JSONata for Amazon States Language (`QueryLanguage: "JSONata"`).
//!
//! [`JsonataExpr`] is one `{% … %}` expression; [`JsonataTemplate`] is a JSON value whose
//! string leaves may be `{% … %}` expressions (`Arguments`, `Output`, `Assign`, `Items`…).
//! Evaluation binds `$states` (`input`, `result`, `errorOutput`, `context`) and the
//! variables in scope, and registers AWS's functions (`$partition`, `$range`, `$hash`,
//! `$random`, `$uuid`, `$parse`). Time and randomness come from [`stepwise_expr::Sources`].
//!
//! STUB: the API below is the contract; bodies are being written.

use serde_json::Value;
use stepwise_expr::{Sources, StatesError, Variables};

/// A parse failure of a JSONata expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonataParseError {
    pub message: String,
}

/// What a JSONata expression sees.
pub struct JsonataScope<'a> {
    /// The `$states` object: `{"input": …, "context": …}` plus `result` / `errorOutput`
    /// where the field allows them.
    pub states: &'a Value,
    pub vars: &'a dyn Variables,
}

/// One compiled expression (the text between `{%` and `%}`).
#[derive(Debug, Clone)]
pub struct JsonataExpr {
    src: String,
}

impl JsonataExpr {
    /// Parse the body of `{% … %}` (without the delimiters).
    pub fn parse(src: &str) -> Result<JsonataExpr, JsonataParseError> {
        let _ = src;
        unimplemented!()
    }
    pub fn as_str(&self) -> &str {
        &self.src
    }
    /// Evaluate. An undefined result is `Ok(None)`; errors are `States.QueryEvaluationError`
    /// with AWS's cause text.
    pub fn eval(&self, scope: &JsonataScope, sources: &mut dyn Sources) -> Result<Option<Value>, StatesError> {
        let _ = (scope, sources);
        unimplemented!()
    }
}

/// A JSON value with `{% … %}` strings anywhere inside it.
#[derive(Debug, Clone)]
pub struct JsonataTemplate {
    raw: Value,
}

/// A problem in a template, located by a JSON pointer relative to the template root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct JsonataTemplateError {
    pub pointer: String,
    pub message: String,
}

impl JsonataTemplate {
    pub fn compile(raw: &Value) -> Result<JsonataTemplate, Vec<JsonataTemplateError>> {
        let _ = raw;
        unimplemented!()
    }
    pub fn raw(&self) -> &Value {
        &self.raw
    }
    /// If the whole template is one `{% … %}` string, that expression.
    pub fn as_expr(&self) -> Option<&JsonataExpr> {
        unimplemented!()
    }
    /// Evaluate every expression inside; object fields whose expression is undefined are
    /// dropped, as AWS does.
    pub fn eval(&self, scope: &JsonataScope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
        let _ = (scope, sources);
        unimplemented!()
    }
}

/// True when `s` is a `{% … %}` expression string.
pub fn is_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{%") && t.ends_with("%}") && t.len() >= 4
}
