//! The Wait state: exactly one of `Seconds`, `SecondsPath`, `Timestamp` and
//! `TimestampPath` (the `…Path` forms in JSONPath only).

use super::{Parser, MAX_SECONDS};
use crate::validate;
use crate::{QueryLanguage, Wait};
use serde_json::{Map, Value};

impl Parser {
    pub(super) fn wait(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
    ) -> Option<Wait> {
        let keys: &[&str] = match ql {
            QueryLanguage::JsonPath => &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
            QueryLanguage::Jsonata => &["Seconds", "Timestamp"],
        };
        let present = keys.iter().filter(|k| obj.contains_key(**k)).count();
        if present != 1 {
            self.err(
                p,
                format!(
                    "Exactly one of these fields must be set: [{}]",
                    keys.join(", ")
                ),
            );
            return None;
        }
        if obj.contains_key("Seconds")
            || obj.contains_key("SecondsPath") && ql == QueryLanguage::JsonPath
        {
            return self
                .dyn_uint(obj, p, "Seconds", Some("SecondsPath"), ql, 0, MAX_SECONDS)
                .map(Wait::Seconds);
        }
        self.dyn_field(
            obj,
            p,
            "Timestamp",
            Some("TimestampPath"),
            ql,
            false,
            |this, v, at| match v {
                Value::String(s) if validate::is_rfc3339(s) => Some(s.clone()),
                _ => {
                    this.err(at, "String does not match RFC3339 timestamp");
                    None
                }
            },
        )
        .map(Wait::Timestamp)
    }
}
