//! TestState's `mock.fieldValidationMode`: a mocked Task result checked against the
//! output shape of the API the Task's resource calls, as AWS checks it.
//!
//! The shapes are in `model/mock-shapes.json`, cut down from botocore's service models
//! by `scripts/gen-mock-shapes.py` (which lists the services and the optimized
//! integrations' actions it covers, and the format). A resource whose integration or
//! action is not in that file is not checked: Lambda function and activity ARNs,
//! `.waitForTaskToken` (the result is what `SendTaskSuccess` sends), `.sync` other than
//! `states:startExecution.sync[:2]` (checked against DescribeExecution's output),
//! `http:invoke`, `apigateway:invoke` and services not in the file.
//!
//! The rules, from AWS's answers recorded in LocalStack's snapshots
//! (`test_state/test_field_validation_mode*.snapshot.json`):
//! - only the members of the shape are checked: other fields are accepted, and member
//!   names are as Step Functions returns them (`ExecutionArn`, not the API's
//!   `executionArn`, which is an unknown field);
//! - `STRICT` (the default) also wants a structure's required members ("Required field
//!   'ExecutionArn' is missing"), checked before its fields; `PRESENT` checks only the
//!   fields present; `NONE` nothing;
//! - types: "Field 'X' must be a string" (strings, timestamps and blobs), "… must be a
//!   number" (integer, long, float, double), "… must be an array"; enums "… is not an
//!   expected value"; lengths "… is smaller than the minimum length"; values "… is less
//!   than the minimum value", "… exceeds the maximum value";
//! - the field named is the innermost member (`EventId` for `Entries[1].EventId`; an
//!   element of a list, or a value of a map, is named by the list's or map's member).
//!
//! Not recorded, so Stepwise's own choice: "must be a boolean", "must be an object" (a
//! nested structure or a map), "exceeds the maximum length"; a result that is not a JSON
//! object, `null` values and lists' and maps' lengths are not checked; fields are checked
//! in the mock's order.

use serde_json::{Map, Value};
use std::sync::OnceLock;

static SHAPES_JSON: &str = include_str!("../model/mock-shapes.json");

/// How strictly a mocked result is checked (`mock.fieldValidationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidationMode {
    /// Required members must be present and present ones must fit.
    Strict,
    /// Present members must fit.
    Present,
    /// Nothing is checked.
    None,
}

impl FieldValidationMode {
    /// `STRICT`, `PRESENT` or `NONE`; absent is `STRICT`.
    pub fn parse(s: Option<&str>) -> Option<FieldValidationMode> {
        match s {
            None | Some("STRICT") => Some(FieldValidationMode::Strict),
            Some("PRESENT") => Some(FieldValidationMode::Present),
            Some("NONE") => Some(FieldValidationMode::None),
            Some(_) => None,
        }
    }
}

/// The shapes file, parsed on first use.
fn model() -> Option<&'static Value> {
    static MODEL: OnceLock<Option<Value>> = OnceLock::new();
    MODEL
        .get_or_init(|| serde_json::from_str(SHAPES_JSON).ok())
        .as_ref()
}

/// The output shape of the API a Task resource calls: the service's shapes and the
/// shape's name. `None` when the resource is not validated.
fn output_shape(resource: &str) -> Option<(&'static Map<String, Value>, &'static str)> {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    if parts.len() != 6
        || parts[0] != "arn"
        || parts[2] != "states"
        || !parts[3].is_empty()
        || !parts[4].is_empty()
    {
        return None;
    }
    let rest = parts[5];
    let (key, action) = match rest.strip_prefix("aws-sdk:") {
        Some(sdk) => {
            let (svc, action) = sdk.split_once(':')?;
            (format!("aws-sdk:{svc}"), action)
        }
        None => {
            let (svc, action) = rest.split_once(':')?;
            (svc.to_string(), action)
        }
    };
    let model = model()?;
    let integration = model.get("integrations")?.get(&key)?;
    let shape = integration.get("ops")?.get(action)?.as_str()?;
    let service = integration.get("service")?.as_str()?;
    let shapes = model.get("services")?.get(service)?.as_object()?;
    Some((shapes, shape))
}

/// Whether a mocked result for this resource is checked at all.
pub fn is_validated(resource: &str) -> bool {
    output_shape(resource).is_some()
}

/// Checks a mocked Task result against the output shape of the API `resource` calls.
/// `Err` is AWS's whole message ("Mock result schema validation error: …").
pub fn check_mock_result(
    resource: &str,
    mode: FieldValidationMode,
    result: &Value,
) -> Result<(), String> {
    if mode == FieldValidationMode::None {
        return Ok(());
    }
    let Some((shapes, shape)) = output_shape(resource) else {
        return Ok(());
    };
    // Only an object is checked: what AWS says of other results is not recorded.
    if !result.is_object() {
        return Ok(());
    }
    let checker = Checker {
        shapes,
        strict: mode == FieldValidationMode::Strict,
    };
    checker
        .check(shape, result, "")
        .map_err(|m| format!("Mock result schema validation error: {m}"))
}

struct Checker {
    shapes: &'static Map<String, Value>,
    strict: bool,
}

impl Checker {
    /// `v` against the shape `r` (a shape name or `#s`/`#n`/`#b`/`#a`); `field` names
    /// it in messages.
    fn check(&self, r: &str, v: &Value, field: &str) -> Result<(), String> {
        let must = |kind: &str| Err(format!("Field '{field}' must be {kind}"));
        match r {
            "#a" => return Ok(()),
            "#s" => {
                return if v.is_string() {
                    Ok(())
                } else {
                    must("a string")
                }
            }
            "#n" => {
                return if v.is_number() {
                    Ok(())
                } else {
                    must("a number")
                }
            }
            "#b" => {
                return if v.is_boolean() {
                    Ok(())
                } else {
                    must("a boolean")
                }
            }
            _ => {}
        }
        let Some(Value::Array(def)) = self.shapes.get(r) else {
            // A shape the file does not have: nothing to check it against.
            return Ok(());
        };
        let kind = def.first().and_then(Value::as_str).unwrap_or("");
        let arg = def.get(1).unwrap_or(&Value::Null);
        let limit = |k: &str| arg.get(k).and_then(Value::as_f64);
        match kind {
            "o" => {
                let Value::Object(obj) = v else {
                    return must("an object");
                };
                if self.strict {
                    if let Some(Value::Array(required)) = def.get(2) {
                        for name in required.iter().filter_map(Value::as_str) {
                            if !obj.contains_key(name) {
                                return Err(format!("Required field '{name}' is missing"));
                            }
                        }
                    }
                }
                for (k, fv) in obj {
                    if let Some(mr) = arg.get(k).and_then(Value::as_str) {
                        self.check(mr, fv, k)?;
                    }
                }
                Ok(())
            }
            "l" => {
                let Value::Array(items) = v else {
                    return must("an array");
                };
                let er = arg.as_str().unwrap_or("#a");
                items.iter().try_for_each(|i| self.check(er, i, field))
            }
            "m" => {
                let Value::Object(obj) = v else {
                    return must("an object");
                };
                let vr = arg.as_str().unwrap_or("#a");
                obj.values().try_for_each(|i| self.check(vr, i, field))
            }
            "s" => {
                let Value::String(s) = v else {
                    return must("a string");
                };
                if let Some(Value::Array(allowed)) = arg.get("enum") {
                    if !allowed.iter().any(|a| a.as_str() == Some(s)) {
                        return Err(format!("Field '{field}' is not an expected value"));
                    }
                }
                let len = s.chars().count() as f64;
                if limit("min").is_some_and(|m| len < m) {
                    return Err(format!(
                        "Field '{field}' is smaller than the minimum length"
                    ));
                }
                if limit("max").is_some_and(|m| len > m) {
                    return Err(format!("Field '{field}' exceeds the maximum length"));
                }
                Ok(())
            }
            "n" => {
                let Some(n) = v.as_f64() else {
                    return must("a number");
                };
                if limit("min").is_some_and(|m| n < m) {
                    return Err(format!("Field '{field}' is less than the minimum value"));
                }
                if limit("max").is_some_and(|m| n > m) {
                    return Err(format!("Field '{field}' exceeds the maximum value"));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "tests/mock_shapes.rs"]
mod tests;
