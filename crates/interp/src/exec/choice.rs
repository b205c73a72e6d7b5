//! Choice: `Choices` (JSONPath rules: `Variable`, the comparison operators and their
//! `…Path` forms, `IsPresent`/`IsNull`/…, `And`/`Or`/`Not`; JSONata `Condition`), `Default`,
//! and a matched rule's `Assign` and `Output`.

use super::*;
use crate::timefmt::parse_timestamp;
use serde_json::Value;
use stepwise_asl::{ChoiceRule, ComparisonOp, Operand};
use stepwise_expr::{Scope, StatesError};

pub(super) fn jsonata_condition(
    rule: &ChoiceRule,
    scope: &JsonataScope,
    src: &mut dyn Sources,
) -> Result<bool, Failure> {
    match rule {
        ChoiceRule::Condition(Dyn::Literal(b)) => Ok(*b),
        ChoiceRule::Condition(Dyn::Jsonata(e)) => {
            let v = e
                .eval_required("Condition", scope, src)
                .map_err(|e| Failure::at(e, "Condition"))?;
            match v {
                Value::Bool(b) => Ok(b),
                other => Err(Failure::at(
                    e.unexpected_type_error("Condition", "boolean", &other),
                    "Condition",
                )),
            }
        }
        _ => Ok(false),
    }
}

pub(super) fn no_choice_matched() -> Failure {
    Failure::eval(StatesError::new(names::NO_CHOICE_MATCHED, "No Matches!"))
}

impl Execution {
    pub(super) fn run_choice(
        &mut self,
        fid: FrameId,
        st: &State,
        c: &stepwise_asl::Choice,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        match st.query_language {
            QueryLanguage::JsonPath => {
                let eff = self.input_path(fid, &st.io, input, ctx)?;
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let scope = env.scope(&eff);
                let mut chosen = None;
                for b in &c.choices {
                    if choice::eval_rule(&b.rule, &scope).map_err(Failure::eval)? {
                        chosen = Some(b);
                        break;
                    }
                }
                let (next, assign) = match chosen {
                    Some(b) => (b.next, b.assign.as_ref().or(st.assign.as_ref())),
                    None => match c.default {
                        Some(d) => (d, st.assign.as_ref()),
                        None => return Err(no_choice_matched()),
                    },
                };
                let assigned = match assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                let out = dataflow::filter(&st.io.output_path, eff, &env).map_err(Failure::eval)?;
                let out = self.finish_state(fid, st, out, assigned, None)?;
                Ok(Flow::Next(next, out))
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = Self::states_value(&input, ctx, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let mut chosen = None;
                for b in &c.choices {
                    if jsonata_condition(&b.rule, &scope, src)? {
                        chosen = Some(b);
                        break;
                    }
                }
                let (next, assign, output) = match chosen {
                    Some(b) => (
                        b.next,
                        b.assign.as_ref().or(st.assign.as_ref()),
                        b.output.as_ref().or(st.io.output.as_ref()),
                    ),
                    None => match c.default {
                        Some(d) => (d, st.assign.as_ref(), st.io.output.as_ref()),
                        None => return Err(no_choice_matched()),
                    },
                };
                let assigned = match assign {
                    Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
                    _ => None,
                };
                let out = match output {
                    Some(t) => Arc::new(t.eval("Output", &scope, src)?),
                    None => Arc::clone(&input),
                };
                let out = self.finish_state(fid, st, out, assigned, None)?;
                Ok(Flow::Next(next, out))
            }
        }
    }
}

/// Evaluate a JSONPath-language rule against `scope` (`$` is the effective input).
pub fn eval_rule(rule: &ChoiceRule, scope: &Scope) -> Result<bool, StatesError> {
    match rule {
        ChoiceRule::And(rules) => {
            for r in rules {
                if !eval_rule(r, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        ChoiceRule::Or(rules) => {
            for r in rules {
                if eval_rule(r, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        ChoiceRule::Not(r) => Ok(!eval_rule(r, scope)?),
        ChoiceRule::Compare {
            variable,
            op,
            operand,
        } => {
            let value = variable.select(scope);
            if *op == ComparisonOp::IsPresent {
                let want = operand_bool(operand, scope)?;
                return Ok(value.is_some() == want);
            }
            let Some(value) = value else {
                return Err(StatesError::runtime(format!(
                    "Invalid path '{}': The choice state's condition path references an invalid value.",
                    variable.as_str()
                )));
            };
            let rhs = match operand {
                Operand::Literal(v) => std::borrow::Cow::Borrowed(v),
                Operand::Path(p) => match p.select(scope) {
                    Some(v) => std::borrow::Cow::Owned(v),
                    None => {
                        return Err(StatesError::runtime(format!(
                            "Invalid path '{}': The choice state's condition path references an invalid value.",
                            p.as_str()
                        )))
                    }
                },
            };
            Ok(compare(*op, &value, &rhs))
        }
        // JSONata conditions are evaluated by the caller, which has the JSONata scope.
        ChoiceRule::Condition(_) => Ok(false),
    }
}

fn operand_bool(operand: &Operand, scope: &Scope) -> Result<bool, StatesError> {
    match operand {
        Operand::Literal(v) => Ok(v.as_bool().unwrap_or(false)),
        Operand::Path(p) => Ok(p.select(scope).and_then(|v| v.as_bool()).unwrap_or(false)),
    }
}

/// Apply one comparison operator. Type mismatches are `false`, as on AWS.
pub fn compare(op: ComparisonOp, value: &Value, rhs: &Value) -> bool {
    use ComparisonOp::*;
    match op {
        IsPresent => true,
        IsNull => value.is_null() == rhs.as_bool().unwrap_or(false),
        IsBoolean => value.is_boolean() == rhs.as_bool().unwrap_or(false),
        IsNumeric => value.is_number() == rhs.as_bool().unwrap_or(false),
        IsString => value.is_string() == rhs.as_bool().unwrap_or(false),
        IsTimestamp => {
            let is_ts = value
                .as_str()
                .map(|s| parse_timestamp(s).is_some())
                .unwrap_or(false);
            is_ts == rhs.as_bool().unwrap_or(false)
        }
        BooleanEquals => match (value.as_bool(), rhs.as_bool()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        NumericEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals
        | NumericLessThan
        | NumericLessThanEquals => {
            let (Some(a), Some(b)) = (value.as_f64(), rhs.as_f64()) else {
                return false;
            };
            if !value.is_number() || !rhs.is_number() {
                return false;
            }
            match op {
                NumericEquals => a == b,
                NumericGreaterThan => a > b,
                NumericGreaterThanEquals => a >= b,
                NumericLessThan => a < b,
                _ => a <= b,
            }
        }
        StringEquals
        | StringGreaterThan
        | StringGreaterThanEquals
        | StringLessThan
        | StringLessThanEquals => {
            let (Some(a), Some(b)) = (value.as_str(), rhs.as_str()) else {
                return false;
            };
            match op {
                StringEquals => a == b,
                StringGreaterThan => a > b,
                StringGreaterThanEquals => a >= b,
                StringLessThan => a < b,
                _ => a <= b,
            }
        }
        StringMatches => match (value.as_str(), rhs.as_str()) {
            (Some(a), Some(p)) => string_matches(a, p),
            _ => false,
        },
        TimestampEquals
        | TimestampGreaterThan
        | TimestampGreaterThanEquals
        | TimestampLessThan
        | TimestampLessThanEquals => {
            let a = value.as_str().and_then(parse_timestamp);
            let b = rhs.as_str().and_then(parse_timestamp);
            let (Some(a), Some(b)) = (a, b) else {
                return false;
            };
            match op {
                TimestampEquals => a == b,
                TimestampGreaterThan => a > b,
                TimestampGreaterThanEquals => a >= b,
                TimestampLessThan => a < b,
                _ => a <= b,
            }
        }
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literal.
pub fn string_matches(s: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Star,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Ch(n)),
                None => toks.push(Tok::Ch('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Ch(c)),
        }
    }
    let chars: Vec<char> = s.chars().collect();
    // Iterative wildcard matching with backtracking to the last star.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < chars.len() {
        if j < toks.len() && toks[j] == Tok::Ch(chars[i]) {
            i += 1;
            j += 1;
        } else if j < toks.len() && toks[j] == Tok::Star {
            star = Some((j, i));
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    while j < toks.len() && toks[j] == Tok::Star {
        j += 1;
    }
    j == toks.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards() {
        assert!(string_matches("log-2024.txt", "log-*.txt"));
        assert!(string_matches("abc", "*"));
        assert!(string_matches("", "*"));
        assert!(!string_matches("abc", "ab"));
        assert!(string_matches("a*c", "a\\*c"));
        assert!(!string_matches("abc", "a\\*c"));
        assert!(string_matches("aXbYc", "a*b*c"));
    }

    #[test]
    fn type_mismatch_is_false() {
        assert!(!compare(
            ComparisonOp::NumericEquals,
            &json!("1"),
            &json!(1)
        ));
        assert!(!compare(ComparisonOp::StringEquals, &json!(1), &json!("1")));
        assert!(!compare(
            ComparisonOp::BooleanEquals,
            &json!(null),
            &json!(true)
        ));
        assert!(compare(ComparisonOp::NumericEquals, &json!(1.0), &json!(1)));
        assert!(compare(ComparisonOp::IsNull, &json!(null), &json!(true)));
        assert!(compare(ComparisonOp::IsNull, &json!(1), &json!(false)));
    }

    #[test]
    fn timestamps_compare_by_instant() {
        assert!(compare(
            ComparisonOp::TimestampEquals,
            &json!("2016-03-14T01:59:00Z"),
            &json!("2016-03-14T02:59:00+01:00")
        ));
        assert!(compare(
            ComparisonOp::TimestampLessThan,
            &json!("2016-03-14T01:59:00Z"),
            &json!("2016-03-14T01:59:01Z")
        ));
        assert!(!compare(
            ComparisonOp::TimestampLessThan,
            &json!("nope"),
            &json!("2016-03-14T01:59:01Z")
        ));
    }
}
