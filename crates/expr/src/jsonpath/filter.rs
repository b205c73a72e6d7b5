//! Filter expressions `[?(…)]`: their compiled form, operands and Jayway's comparisons.

use super::eval::eval_path;
use super::{Func, Segment};
use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub(super) enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Cmp(Operand, CmpOp, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Contains,
    Size,
    Empty,
}

#[derive(Debug, Clone)]
pub(super) enum Operand {
    /// `@…` (current item) or `$…` (document root).
    Path {
        current: bool,
        segments: Vec<Segment>,
        func: Option<Func>,
        definite: bool,
    },
    Literal(Value),
    Regex(regex::Regex),
}

impl Operand {
    fn eval<'a>(&self, cur: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
        match self {
            Operand::Path {
                current,
                segments,
                func,
                definite,
            } => {
                let base = if *current { cur } else { root };
                eval_path(segments, *func, *definite, base, root)
            }
            Operand::Literal(v) => Some(Cow::Owned(v.clone())),
            Operand::Regex(_) => None,
        }
    }
}

impl Filter {
    pub(super) fn test(&self, cur: &Value, root: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.test(cur, root) || b.test(cur, root),
            Filter::And(a, b) => a.test(cur, root) && b.test(cur, root),
            Filter::Not(a) => !a.test(cur, root),
            Filter::Exists(op) => match op {
                Operand::Path { definite, .. } => match op.eval(cur, root) {
                    None => false,
                    Some(v) => *definite || v.as_array().is_some_and(|a| !a.is_empty()),
                },
                Operand::Literal(Value::Bool(b)) => *b,
                Operand::Literal(_) => true,
                Operand::Regex(_) => false,
            },
            Filter::Cmp(l, op, r) => compare(l, *op, r, cur, root),
        }
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        // Jayway compares a number with a numeric string by value.
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x)) => {
            s.trim().parse::<f64>().ok() == x.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_eq(p, q))
        }
        _ => a == b,
    }
}

fn contains(list: &[Value], v: &Value) -> bool {
    list.iter().any(|x| loose_eq(x, v))
}

fn compare(l: &Operand, op: CmpOp, r: &Operand, cur: &Value, root: &Value) -> bool {
    if op == CmpOp::Regex {
        let Operand::Regex(re) = r else { return false };
        return match l.eval(cur, root).as_deref() {
            Some(Value::String(s)) => re.is_match(s),
            _ => false,
        };
    }
    let lv = l.eval(cur, root);
    let rv = r.eval(cur, root);
    let (lv, rv) = match (lv.as_deref(), rv.as_deref()) {
        (Some(a), Some(b)) => (a, b),
        // An absent side makes every comparison false except `!=` and `nin`.
        _ => return matches!(op, CmpOp::Ne | CmpOp::Nin),
    };
    match op {
        CmpOp::Eq => loose_eq(lv, rv),
        CmpOp::Ne => !loose_eq(lv, rv),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = match (lv, rv) {
                (Value::Number(a), Value::Number(b)) => a
                    .as_f64()
                    .zip(b.as_f64())
                    .and_then(|(a, b)| a.partial_cmp(&b)),
                (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                _ => None,
            };
            let Some(ord) = ord else { return false };
            match op {
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
        CmpOp::In => rv.as_array().is_some_and(|a| contains(a, lv)),
        CmpOp::Nin => !rv.as_array().is_some_and(|a| contains(a, lv)),
        CmpOp::SubsetOf => match (lv.as_array(), rv.as_array()) {
            (Some(a), Some(b)) => a.iter().all(|x| contains(b, x)),
            _ => false,
        },
        CmpOp::AnyOf => match (lv.as_array(), rv.as_array()) {
            (Some(a), Some(b)) => a.iter().any(|x| contains(b, x)),
            _ => false,
        },
        CmpOp::NoneOf => match (lv.as_array(), rv.as_array()) {
            (Some(a), Some(b)) => !a.iter().any(|x| contains(b, x)),
            _ => false,
        },
        CmpOp::Contains => match (lv, rv) {
            (Value::Array(a), v) => contains(a, v),
            (Value::String(a), Value::String(b)) => a.contains(b.as_str()),
            _ => false,
        },
        CmpOp::Size => {
            let n = match lv {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                _ => return false,
            };
            rv.as_f64() == Some(n as f64)
        }
        CmpOp::Empty => {
            let empty = match lv {
                Value::Array(a) => a.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => return false,
            };
            rv.as_bool() == Some(empty)
        }
        CmpOp::Regex => false,
    }
}
