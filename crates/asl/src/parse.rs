//! STUB: text/value → typed [`StateMachine`], collecting every diagnostic.

use crate::{Diagnostic, StateMachine};
use serde_json::Value;

pub(crate) fn parse_text(text: &str) -> Result<StateMachine, Vec<Diagnostic>> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => parse_value(&v),
        Err(e) => Err(vec![Diagnostic::new("", "INVALID_JSON_DESCRIPTION", e.to_string())]),
    }
}

pub(crate) fn parse_value(value: &Value) -> Result<StateMachine, Vec<Diagnostic>> {
    let _ = value;
    unimplemented!()
}
