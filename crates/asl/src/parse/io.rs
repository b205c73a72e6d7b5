//! Input and output processing fields: `InputPath`, `OutputPath` and `ResultPath`
//! (JSONPath), the payload templates `Parameters`, `ResultSelector` and `ItemSelector`
//! (JSONPath), the JSONata templates `Arguments`, `Output`, `Items` and `ItemSelector`,
//! and `Assign` in either language. Which state has which of them is decided in
//! [`state`](super::state).

use super::{join, Parser};
use crate::{Assign, FilterPath, QueryLanguage, ResultPath};
use serde_json::{Map, Value};
use stepwise_expr::template::PayloadTemplate;
use stepwise_jsonata::{is_expression, JsonataTemplate};

impl Parser {
    pub(super) fn filter_path(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
    ) -> FilterPath {
        match obj.get(field) {
            None => FilterPath::Default,
            Some(Value::Null) => FilterPath::Null,
            Some(_) => self
                .path_field(obj, p, field)
                .map(FilterPath::Path)
                .unwrap_or_default(),
        }
    }

    pub(super) fn result_path(&mut self, obj: &Map<String, Value>, p: &str) -> ResultPath {
        match obj.get("ResultPath") {
            None => ResultPath::Default,
            Some(Value::Null) => ResultPath::Discard,
            Some(Value::String(s)) => self
                .reference_path(s, &join(p, "ResultPath"), "ResultPath")
                .map(ResultPath::Path)
                .unwrap_or_default(),
            Some(_) => {
                self.wrong(
                    p,
                    "ResultPath",
                    "a STRING that contains a JSONPath, or null",
                );
                ResultPath::Default
            }
        }
    }

    /// A JSONPath payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`).
    pub(super) fn payload(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
    ) -> Option<PayloadTemplate> {
        let raw = obj.get(field)?;
        let at = join(p, field);
        // AWS's schema takes `Parameters` of any JSON type (an array of templates, a
        // string…); `ResultSelector` and `Assign` must be objects.
        if !raw.is_object() && field != "Parameters" {
            self.wrong(p, field, "an OBJECT");
            return None;
        }
        match PayloadTemplate::compile(raw) {
            Ok(t) => Some(t),
            Err(errors) => {
                // AWS locates template problems at the field, names the key in the text and
                // stops at its sentence; the parser's detail would break the exact wording.
                const AWS: &str = " must be a valid JSONPath or a valid intrinsic function call";
                for e in errors {
                    let message = match e.message.find(AWS) {
                        Some(i) => e.message[..i + AWS.len()].to_string(),
                        None => e.message,
                    };
                    self.err(at.clone(), message);
                }
                None
            }
        }
    }

    /// A JSONata template (`Arguments`, `Output`, `Assign`, `Items`, `ItemSelector`).
    pub(super) fn jsonata_template(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        object_only: bool,
    ) -> Option<JsonataTemplate> {
        let raw = obj.get(field)?;
        let at = join(p, field);
        if object_only && !raw.is_object() && !matches!(raw, Value::String(s) if is_expression(s)) {
            self.wrong(p, field, "an OBJECT or a JSONata expression");
            return None;
        }
        match JsonataTemplate::compile(raw) {
            Ok(t) => {
                for (pointer, e) in t.expressions() {
                    self.check_expression(e, &format!("{at}{pointer}"));
                }
                Some(t)
            }
            Err(errors) => {
                for e in errors {
                    self.bad_jsonata(&format!("{at}{}", e.pointer), &e.message);
                }
                None
            }
        }
    }

    pub(super) fn assign(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
    ) -> Option<Assign> {
        let raw = obj.get("Assign")?;
        if !raw.is_object() {
            self.wrong(p, "Assign", "an OBJECT");
            return None;
        }
        match ql {
            QueryLanguage::JsonPath => self.payload(obj, p, "Assign").map(Assign::JsonPath),
            QueryLanguage::Jsonata => self
                .jsonata_template(obj, p, "Assign", true)
                .map(Assign::Jsonata),
        }
    }
}
