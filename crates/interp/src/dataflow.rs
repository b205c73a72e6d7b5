//! Input and output processing (JSONPath): InputPath → Parameters → ResultSelector →
//! ResultPath → OutputPath. JSONata's `Arguments`/`Output` are evaluated in `exec`.

use serde_json::{Map, Value};
use std::sync::Arc;
use stepwise_asl::{FilterPath, ResultPath};
use stepwise_expr::jsonpath::Root;
use stepwise_expr::template::PayloadTemplate;
use stepwise_expr::{Scope, Sources, StatesError, Variables};

/// The Context object and the variables a state sees.
pub struct Env<'a> {
    pub context: &'a Value,
    pub vars: &'a dyn Variables,
}

impl Env<'_> {
    pub fn scope<'b>(&'b self, input: &'b Value) -> Scope<'b> {
        Scope {
            input,
            context: self.context,
            vars: self.vars,
        }
    }
}

/// The number a `…Path` field (`TimeoutSecondsPath`, `MaxConcurrencyPath`…) selected
/// (`selected`), with AWS's causes: a path that selects nothing fails as any unmatched
/// path does; a value that `parse` refuses is named with the `kind` expected.
pub fn path_number<T>(
    path: &stepwise_expr::jsonpath::JsonPath,
    selected: Option<Value>,
    field: &str,
    kind: &str,
    parse: impl Fn(&Value) -> Option<T>,
) -> Result<T, StatesError> {
    let Some(v) = selected else {
        return Err(StatesError::runtime(path.no_results_cause()));
    };
    parse(&v).ok_or_else(|| {
        let shown = match &v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        StatesError::runtime(format!(
            "The {field}Path field refers to value \"{shown}\" which is not a valid {kind}: {}",
            path.as_str()
        ))
    })
}

/// `InputPath`/`OutputPath`: `$` by default, `{}` when null. A path that matches
/// nothing fails with `States.Runtime` ("Invalid path … : No results for path: …").
/// A value nobody else holds is taken apart rather than copied.
pub fn filter(path: &FilterPath, value: Arc<Value>, env: &Env) -> Result<Arc<Value>, StatesError> {
    match path {
        FilterPath::Default => Ok(value),
        FilterPath::Null => Ok(Arc::new(Value::Object(Map::new()))),
        FilterPath::Path(p) => {
            if p.is_root_only() && *p.root() == Root::Input {
                return Ok(value);
            }
            let selected = match p.root() {
                Root::Input => match Arc::try_unwrap(value) {
                    Ok(v) => p.take_in(v),
                    Err(shared) => p.select_in(&shared),
                },
                _ => p.select(&env.scope(&value)),
            };
            selected
                .map(Arc::new)
                .ok_or_else(|| StatesError::runtime(p.no_results_cause()))
        }
    }
}

/// Evaluate a payload template with `$` bound to `input`.
pub fn template(
    t: &PayloadTemplate,
    input: &Value,
    env: &Env,
    src: &mut dyn Sources,
) -> Result<Value, StatesError> {
    t.eval(&env.scope(input), src)
}

/// `ResultPath`: put `result` into the raw state input.
pub fn result_path(
    rp: &ResultPath,
    raw_input: Arc<Value>,
    result: Arc<Value>,
) -> Result<Arc<Value>, StatesError> {
    match rp {
        ResultPath::Default => Ok(result),
        ResultPath::Discard => Ok(raw_input),
        ResultPath::Path(p) => {
            if p.is_root_only() {
                return Ok(result);
            }
            let mut target = Arc::unwrap_or_clone(raw_input);
            p.set(&mut target, Arc::unwrap_or_clone(result))?;
            Ok(Arc::new(target))
        }
    }
}

/// The error output a Catcher passes on: `{"Error": …, "Cause": …}`.
pub fn error_output(err: &StatesError) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::String(err.error.clone()));
    m.insert("Cause".into(), Value::String(err.cause.clone()));
    Value::Object(m)
}

/// Whether `v` as compact JSON is larger than `limit` bytes. A cheap upper bound
/// settles almost every case; only values near the limit are measured exactly.
pub fn exceeds(v: &Value, limit: usize) -> bool {
    fn bound(v: &Value) -> usize {
        match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 24,
            // Each byte escapes to at most six (\u00XX).
            Value::String(s) => s.len() * 6 + 2,
            Value::Array(a) => 2 + a.iter().map(|x| bound(x) + 1).sum::<usize>(),
            Value::Object(m) => {
                2 + m
                    .iter()
                    .map(|(k, x)| k.len() * 6 + 4 + bound(x))
                    .sum::<usize>()
            }
        }
    }
    bound(v) > limit && json_size(v) > limit
}

/// Size of `v` as compact JSON, in bytes, without building the text.
pub fn json_size(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// AWS's payload limit: 256 KiB of UTF-8.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn size_limit_is_exact_near_the_limit() {
        let v = json!({"a": "x".repeat(100)});
        let exact = json_size(&v);
        assert_eq!(
            exact,
            serde_json::to_string(&v).map(|s| s.len()).unwrap_or(0)
        );
        assert!(!exceeds(&v, exact));
        assert!(exceeds(&v, exact - 1));
        let escaped = json!("\"\"\"");
        assert_eq!(json_size(&escaped), 8);
        assert!(exceeds(&escaped, 7) && !exceeds(&escaped, 8));
    }
}
