//! The value forms many fields share, compiled once at parse time: JSONPath strings
//! (every `…Path` field, a Choice rule's `Variable`), `{% … %}` JSONata expressions with
//! the `$states` fields in scope (`$states.result`, `$states.errorOutput`), and fields
//! given literally, by a `…Path` twin or as an expression: `Seconds`/`SecondsPath`,
//! `TimeoutSeconds`/`TimeoutSecondsPath`, `HeartbeatSeconds`/`HeartbeatSecondsPath`,
//! `MaxConcurrency`/`MaxConcurrencyPath`, `ToleratedFailureCount`/`…Path`,
//! `ToleratedFailurePercentage`/`…Path`, `Timestamp`/`TimestampPath` and the Fail
//! state's `Error`/`ErrorPath` and `Cause`/`CausePath` (string-valued intrinsics only).

use super::{join, jsonata_body, Parser, StatesScope, UNSUPPORTED_JSONATA};
use crate::{Diagnostic, Dyn, QueryLanguage};
use serde_json::{Map, Value};
use stepwise_expr::intrinsics::Intrinsic;
use stepwise_expr::jsonpath::{JsonPath, Root};
use stepwise_jsonata::JsonataExpr;

impl Parser {
    pub(super) fn path(&mut self, src: &str, at: &str, field: &str) -> Option<JsonPath> {
        match JsonPath::parse(src) {
            Ok(path) => Some(path),
            Err(e) => {
                self.err(
                    at,
                    format!("The value for the field '{field}' must be a valid JSONPath: {e}"),
                );
                None
            }
        }
    }

    pub(super) fn path_field(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
    ) -> Option<JsonPath> {
        match obj.get(field)? {
            Value::String(s) => self.path(s, &join(p, field), field),
            _ => {
                self.wrong(p, field, "a STRING that contains a JSONPath");
                None
            }
        }
    }

    /// A reference path: definite and rooted at the input (what `ResultPath` writes into).
    pub(super) fn reference_path(&mut self, src: &str, at: &str, field: &str) -> Option<JsonPath> {
        let path = self.path(src, at, field)?;
        if *path.root() != Root::Input || !path.is_definite() {
            self.err(
                at,
                format!("The value for the field '{field}' must be a valid reference path"),
            );
            return None;
        }
        Some(path)
    }

    pub(super) fn jsonata(&mut self, body: &str, at: &str) -> Option<JsonataExpr> {
        match JsonataExpr::parse(body) {
            Ok(e) => {
                self.check_expression(&e, at);
                Some(e)
            }
            Err(e) => {
                self.bad_jsonata(at, &e.message);
                None
            }
        }
    }

    /// What AWS refuses in an expression that parses (`UNSUPPORTED_JSONATA_EXPRESSION`):
    /// names read from the (absent) context item, and `$states` fields the field lacks.
    /// `$states.result` and `$states.errorOutput` exist only in some fields; AWS refuses the
    /// definition when an expression names one elsewhere, e.g. `UNSUPPORTED_JSONATA_EXPRESSION:
    /// Field '$states.errorOutput' does not exist.` for a Task's `Arguments` (anomalyco/sst
    /// issue #6110). Only explicit `$states.<field>` paths are judged: an expression that
    /// uses `$states` whole (`$keys($states)`) is left alone.
    pub(super) fn check_expression(&mut self, e: &JsonataExpr, at: &str) {
        // There is no context item: a name read at the top level reads nothing, and AWS
        // refuses it, once per distinct name, at the field: `Reference to 'phone' at the
        // top level is not supported.` (floci-io/floci issue #2670, PR #2699).
        for name in e.top_level_references() {
            self.diags.push(Diagnostic::new(
                at,
                UNSUPPORTED_JSONATA,
                format!("Reference to '{name}' at the top level is not supported."),
            ));
        }
        // `reads_states_field` answers true for every name when `$states` is used whole;
        // a name no field can have tells that case apart.
        if e.reads_states_field("\u{0}") {
            return;
        }
        let scope = self.scope;
        for (field, ok) in [
            ("result", scope.result),
            ("errorOutput", scope.error_output),
        ] {
            if !ok && e.reads_states_field(field) {
                self.diags.push(Diagnostic::new(
                    at,
                    UNSUPPORTED_JSONATA,
                    format!("Field '$states.{field}' does not exist."),
                ));
            }
        }
    }

    /// Parse with `scope` as the `$states` fields in reach, then restore the previous one.
    pub(super) fn in_scope<T>(&mut self, scope: StatesScope, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::replace(&mut self.scope, scope);
        let out = f(self);
        self.scope = saved;
        out
    }

    /// AWS reports an expression that does not parse with its own code and the parser's
    /// message, minus the JSONata error code, at the field: `INVALID_JSONATA_EXPRESSION:
    /// Unexpected end of expression at /States/Main/Output` (floci-io/floci issue #2745).
    pub(super) fn bad_jsonata(&mut self, at: &str, message: &str) {
        let b = message.as_bytes();
        let coded = b.len() > 6
            && b[0].is_ascii_uppercase()
            && b[1..5].iter().all(u8::is_ascii_digit)
            && &b[5..7] == b": ";
        let text = if coded { &message[7..] } else { message };
        self.diags
            .push(Diagnostic::new(at, "INVALID_JSONATA_EXPRESSION", text));
    }

    /// A field given literally, by its `…Path` twin (JSONPath) or as `{% %}` (JSONata).
    /// `lit` checks and converts a literal (and records why when it cannot).
    #[allow(clippy::too_many_arguments)] // one call shape for every literal/path/expression pair
    pub(super) fn dyn_field<T>(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        path_field: Option<&str>,
        ql: QueryLanguage,
        intrinsic: bool,
        lit: impl FnOnce(&mut Self, &Value, &str) -> Option<T>,
    ) -> Option<Dyn<T>> {
        let literal = obj.get(field);
        let by_path = match (ql, path_field) {
            (QueryLanguage::JsonPath, Some(pf)) => obj.get(pf).map(|v| (pf, v)),
            _ => None,
        };
        if let (Some(_), Some((pf, _))) = (literal, by_path) {
            self.err(
                p,
                format!("Only one of the fields '{field}' and '{pf}' may be set"),
            );
            return None;
        }
        if let Some(v) = literal {
            let at = join(p, field);
            if ql == QueryLanguage::Jsonata {
                if let Some(body) = v.as_str().and_then(jsonata_body) {
                    return self.jsonata(body, &at).map(Dyn::Jsonata);
                }
            }
            return lit(self, v, &at).map(Dyn::Literal);
        }
        let (pf, v) = by_path?;
        let at = join(p, pf);
        let Value::String(s) = v else {
            self.wrong(p, pf, "a STRING that contains a JSONPath");
            return None;
        };
        if intrinsic && Intrinsic::looks_like(s) {
            // ErrorPath/CausePath take only the intrinsics that return a string (AWS's
            // Fail state documentation lists them).
            use stepwise_expr::intrinsics::Function as F;
            let string_valued = |i: &Intrinsic| {
                matches!(
                    i.function(),
                    F::Format
                        | F::JsonToString
                        | F::ArrayGetItem
                        | F::Base64Encode
                        | F::Base64Decode
                        | F::Hash
                        | F::Uuid
                )
            };
            return match Intrinsic::parse(s) {
                Ok(i) if !string_valued(&i) => {
                    self.err(at, format!("The value for the field '{pf}' must be a valid JSONPath or a valid intrinsic function call: {} does not return a string", i.function().name()));
                    None
                }
                Ok(i) => Some(Dyn::Intrinsic(i)),
                Err(e) => {
                    self.err(at, format!("The value for the field '{pf}' must be a valid JSONPath or a valid intrinsic function call: {e}"));
                    None
                }
            };
        }
        self.path(s, &at, pf).map(Dyn::Path)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn dyn_uint(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        path_field: Option<&str>,
        ql: QueryLanguage,
        min: u64,
        max: u64,
    ) -> Option<Dyn<u64>> {
        self.dyn_field(
            obj,
            p,
            field,
            path_field,
            ql,
            false,
            |this, v, at| match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    let expr = if ql == QueryLanguage::Jsonata {
                        ", or a JSONata expression"
                    } else {
                        ""
                    };
                    this.err(
                        at,
                        format!(
                            "The field '{field}' must be an INTEGER between {min} and {max}{expr}"
                        ),
                    );
                    None
                }
            },
        )
    }

    pub(super) fn dyn_string(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        path_field: &str,
        ql: QueryLanguage,
    ) -> Option<Dyn<String>> {
        self.dyn_field(
            obj,
            p,
            field,
            Some(path_field),
            ql,
            true,
            |this, v, at| match v {
                Value::String(s) => Some(s.clone()),
                _ => {
                    this.err(at, format!("The field '{field}' must be a STRING"));
                    None
                }
            },
        )
    }
}
