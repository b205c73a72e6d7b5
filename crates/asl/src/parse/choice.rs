//! The Choice state: `Choices` and `Default`. A JSONPath rule is `And`/`Or`/`Not` or
//! `Variable` with one comparison operator (`StringEquals`, `NumericLessThanPath`,
//! `IsPresent`…); a JSONata rule is a `Condition`. Each branch has `Next` and may have
//! `Assign` and (JSONata) `Output`.

use super::{join, json_type, jsonata_body, Block, Lang, Parser};
use crate::validate;
use crate::{Choice, ChoiceBranch, ChoiceRule, ComparisonOp, Dyn, Operand, QueryLanguage};
use serde_json::{Map, Value};
use stepwise_jsonata::is_expression;

impl Parser {
    pub(super) fn choice(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
        block: &Block,
    ) -> Option<Choice> {
        let cp = join(p, "Choices");
        let items = match obj.get("Choices") {
            None => {
                self.required(p, "Choices");
                None
            }
            Some(Value::Array(a)) if a.is_empty() => {
                self.err(cp.clone(), "Value cannot be empty");
                None
            }
            Some(Value::Array(a)) => Some(a),
            Some(_) => {
                self.wrong(p, "Choices", "an ARRAY");
                None
            }
        };
        let mut choices = Vec::new();
        let mut complete = items.is_some();
        for (i, item) in items.into_iter().flatten().enumerate() {
            match self.choice_branch(item, &join(&cp, &i.to_string()), ql, block) {
                Some(b) => choices.push(b),
                None => complete = false,
            }
        }
        let default = match obj.get("Default") {
            None => None,
            Some(v) => {
                let d = self.target(v, &join(p, "Default"), "Default", block);
                complete &= d.is_some();
                d
            }
        };
        complete.then_some(Choice { choices, default })
    }

    fn choice_branch(
        &mut self,
        v: &Value,
        p: &str,
        ql: QueryLanguage,
        block: &Block,
    ) -> Option<ChoiceBranch> {
        let Value::Object(obj) = v else {
            self.err(p, "A choice rule must be an OBJECT");
            return None;
        };
        let next = match obj.get("Next") {
            Some(n) => self.target(n, &join(p, "Next"), "Next", block),
            None => {
                self.required(p, "Next");
                None
            }
        };
        let assign = self.assign(obj, p, ql);
        let (rule, output) = match ql {
            QueryLanguage::JsonPath => (self.rule(obj, p, true, 0), None),
            QueryLanguage::Jsonata => {
                self.check_fields(
                    obj,
                    p,
                    &[
                        ("Condition", Lang::Any),
                        ("Next", Lang::Any),
                        ("Assign", Lang::Any),
                        ("Output", Lang::Any),
                        ("Comment", Lang::Any),
                    ],
                    ql,
                );
                let cond = match obj.get("Condition") {
                    None => {
                        self.required(p, "Condition");
                        None
                    }
                    Some(Value::Bool(b)) => Some(Dyn::Literal(*b)),
                    Some(Value::String(s)) if is_expression(s) => jsonata_body(s)
                        .and_then(|b| self.jsonata(b, &join(p, "Condition")))
                        .map(Dyn::Jsonata),
                    Some(_) => {
                        self.wrong(p, "Condition", "a BOOLEAN or a JSONata expression");
                        None
                    }
                };
                (
                    cond.map(ChoiceRule::Condition),
                    self.jsonata_template(obj, p, "Output", false),
                )
            }
        };
        Some(ChoiceBranch {
            rule: rule?,
            next: next?,
            assign,
            output,
        })
    }

    /// A JSONPath Boolean expression: `And`/`Or`/`Not`, or `Variable` + one comparison.
    fn rule(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        top: bool,
        depth: usize,
    ) -> Option<ChoiceRule> {
        // Choice rules nest only through JSON, which serde already bounds; this guards
        // values built by hand.
        if depth > 100 {
            self.err(p, "Choice rule is nested too deeply");
            return None;
        }
        for key in obj.keys() {
            let known = matches!(key.as_str(), "Comment" | "Variable" | "And" | "Or" | "Not")
                || (top && matches!(key.as_str(), "Next" | "Assign"))
                || operator(key).is_some();
            if !known {
                self.err(p, format!("Field '{key}' is not supported"));
            }
        }
        let present: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| matches!(*k, "And" | "Or" | "Not") || operator(k).is_some())
            .collect();
        let [key] = present.as_slice() else {
            if present.is_empty() {
                self.err(p, "A choice rule must have exactly one comparison operator or one of 'And', 'Or', 'Not'");
            } else {
                self.err(
                    p,
                    format!(
                        "A choice rule must have exactly one comparison operator, found: [{}]",
                        present.join(", ")
                    ),
                );
            }
            return None;
        };
        let key = *key;
        let kp = join(p, key);
        match key {
            "And" | "Or" => {
                if obj.contains_key("Variable") {
                    self.err(
                        join(p, "Variable"),
                        format!("The field 'Variable' cannot be combined with '{key}'"),
                    );
                }
                let items = match obj.get(key) {
                    Some(Value::Array(a)) if !a.is_empty() => a,
                    Some(Value::Array(_)) => {
                        self.err(kp, "Value cannot be empty");
                        return None;
                    }
                    _ => {
                        self.wrong(p, key, "a non-empty ARRAY of choice rules");
                        return None;
                    }
                };
                let mut rules = Vec::with_capacity(items.len());
                let mut complete = true;
                for (i, item) in items.iter().enumerate() {
                    let ip = join(&kp, &i.to_string());
                    match item {
                        Value::Object(o) => match self.rule(o, &ip, false, depth + 1) {
                            Some(r) => rules.push(r),
                            None => complete = false,
                        },
                        _ => {
                            self.err(ip, "A choice rule must be an OBJECT");
                            complete = false;
                        }
                    }
                }
                if !complete {
                    return None;
                }
                Some(if key == "And" {
                    ChoiceRule::And(rules)
                } else {
                    ChoiceRule::Or(rules)
                })
            }
            "Not" => {
                if obj.contains_key("Variable") {
                    self.err(
                        join(p, "Variable"),
                        "The field 'Variable' cannot be combined with 'Not'",
                    );
                }
                match obj.get("Not") {
                    Some(Value::Object(o)) => self
                        .rule(o, &kp, false, depth + 1)
                        .map(|r| ChoiceRule::Not(Box::new(r))),
                    _ => {
                        self.wrong(p, "Not", "a choice rule OBJECT");
                        None
                    }
                }
            }
            _ => {
                let variable = match obj.get("Variable") {
                    None => {
                        self.required(p, "Variable");
                        None
                    }
                    Some(_) => self.path_field(obj, p, "Variable"),
                };
                let (op, kind, is_path) = operator(key)?;
                let v = obj.get(key)?;
                let operand = if is_path {
                    match v {
                        Value::String(s) => self.path(s, &kp, key).map(Operand::Path),
                        _ => {
                            self.wrong(p, key, "a STRING that contains a JSONPath");
                            None
                        }
                    }
                } else {
                    let ok = match kind {
                        Operand_::Str => v.is_string(),
                        Operand_::Num => v.is_number(),
                        Operand_::Bool | Operand_::Check => v.is_boolean(),
                        Operand_::Ts => v.as_str().is_some_and(validate::is_rfc3339),
                    };
                    if ok {
                        Some(Operand::Literal(v.clone()))
                    } else {
                        let what = match kind {
                            Operand_::Str => "a STRING",
                            Operand_::Num => "a NUMBER",
                            Operand_::Bool | Operand_::Check => "a BOOLEAN",
                            Operand_::Ts => "a STRING that matches an RFC3339 timestamp",
                        };
                        self.err(
                            kp,
                            format!("The field '{key}' must be {what}, got {}", json_type(v)),
                        );
                        None
                    }
                };
                Some(ChoiceRule::Compare {
                    variable: variable?,
                    op,
                    operand: operand?,
                })
            }
        }
    }
}

/// A comparison operator key: its operator, operand kind and whether it is the
/// `…Path` form. `Is…` tests and `StringMatches` have no `…Path` form.
fn operator(key: &str) -> Option<(ComparisonOp, Operand_, bool)> {
    let find = |name: &str| OPERATORS.iter().find(|o| o.0 == name);
    if let Some((_, op, kind)) = find(key) {
        return Some((*op, *kind, false));
    }
    let (name, op, kind) = find(key.strip_suffix("Path")?)?;
    (*kind != Operand_::Check && *name != "StringMatches").then_some((*op, *kind, true))
}

/// What a comparison operator compares against.
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub(super) enum Operand_ {
    Str,
    Num,
    Bool,
    Ts,
    /// `Is…` type tests: literal `true`/`false`, no `…Path` form.
    Check,
}

// `pub(super)` (and `Operand_` with it): the unit tests walk this table.
pub(super) const OPERATORS: [(&str, ComparisonOp, Operand_); 23] = [
    ("BooleanEquals", ComparisonOp::BooleanEquals, Operand_::Bool),
    ("IsBoolean", ComparisonOp::IsBoolean, Operand_::Check),
    ("IsNull", ComparisonOp::IsNull, Operand_::Check),
    ("IsNumeric", ComparisonOp::IsNumeric, Operand_::Check),
    ("IsPresent", ComparisonOp::IsPresent, Operand_::Check),
    ("IsString", ComparisonOp::IsString, Operand_::Check),
    ("IsTimestamp", ComparisonOp::IsTimestamp, Operand_::Check),
    ("NumericEquals", ComparisonOp::NumericEquals, Operand_::Num),
    (
        "NumericGreaterThan",
        ComparisonOp::NumericGreaterThan,
        Operand_::Num,
    ),
    (
        "NumericGreaterThanEquals",
        ComparisonOp::NumericGreaterThanEquals,
        Operand_::Num,
    ),
    (
        "NumericLessThan",
        ComparisonOp::NumericLessThan,
        Operand_::Num,
    ),
    (
        "NumericLessThanEquals",
        ComparisonOp::NumericLessThanEquals,
        Operand_::Num,
    ),
    ("StringEquals", ComparisonOp::StringEquals, Operand_::Str),
    (
        "StringGreaterThan",
        ComparisonOp::StringGreaterThan,
        Operand_::Str,
    ),
    (
        "StringGreaterThanEquals",
        ComparisonOp::StringGreaterThanEquals,
        Operand_::Str,
    ),
    (
        "StringLessThan",
        ComparisonOp::StringLessThan,
        Operand_::Str,
    ),
    (
        "StringLessThanEquals",
        ComparisonOp::StringLessThanEquals,
        Operand_::Str,
    ),
    ("StringMatches", ComparisonOp::StringMatches, Operand_::Str),
    (
        "TimestampEquals",
        ComparisonOp::TimestampEquals,
        Operand_::Ts,
    ),
    (
        "TimestampGreaterThan",
        ComparisonOp::TimestampGreaterThan,
        Operand_::Ts,
    ),
    (
        "TimestampGreaterThanEquals",
        ComparisonOp::TimestampGreaterThanEquals,
        Operand_::Ts,
    ),
    (
        "TimestampLessThan",
        ComparisonOp::TimestampLessThan,
        Operand_::Ts,
    ),
    (
        "TimestampLessThanEquals",
        ComparisonOp::TimestampLessThanEquals,
        Operand_::Ts,
    ),
];
