//! Parse-time analysis and rewriting of a JSONata AST.
//!
//! - Which variables an expression reads, so evaluation converts and binds only those
//!   (not every variable in scope), and which `$states` fields it reads.
//! - How many values it may draw from [`stepwise_expr::Sources`] (`$uuid()`, `$random()`,
//!   `$now()`), so they can be drawn before evaluation starts.
//! - `$now(…)` is rewritten to `$fromMillis($millis(), …)` so that both read the injected
//!   clock through the overridden `$millis`.

use std::collections::BTreeSet;

use jsonata_core::ast::{AstNode, PathStep, Stage};
use jsonata_core::value::with_stack;

/// Which parts of `$states` an expression reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum StatesUse {
    #[default]
    None,
    /// Only `$states.<field>…` paths, for these fields.
    Fields(BTreeSet<String>),
    /// `$states` used whole (or in a way not analysed).
    All,
}

impl StatesUse {
    fn add_field(&mut self, field: &str) {
        match self {
            StatesUse::None => *self = StatesUse::Fields(BTreeSet::from([field.to_string()])),
            StatesUse::Fields(set) => {
                set.insert(field.to_string());
            }
            StatesUse::All => {}
        }
    }
}

/// What an expression needs from its environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Needs {
    /// Variables read (`$name`), except `$states` and the context `$`.
    pub vars: BTreeSet<String>,
    pub states: StatesUse,
    /// Call sites of `$uuid` (each draws one UUID up front).
    pub uuids: usize,
    /// Call sites of `$random()` and `$shuffle` (each draws one number up front).
    pub randoms: usize,
    /// Reads the clock (`$millis`, and `$now` through the rewrite).
    pub now: bool,
    /// Names called as functions or read as variables: only these host functions need
    /// registering.
    pub names: BTreeSet<String>,
}

pub(crate) const STATES: &str = "states";

/// Both child visitors (shared and mutable) from one list of the AST's shapes.
macro_rules! child_visitor {
    ($(#[$doc:meta])* $name:ident, $iter:ident $(, $m:tt)?) => {
        $(#[$doc])*
        fn $name(node: &$($m)? AstNode, f: &mut dyn FnMut(&$($m)? AstNode)) {
    fn step(s: &$($m)? PathStep, f: &mut dyn FnMut(&$($m)? AstNode)) {
        f(&$($m)? s.node);
        for stage in &$($m)? s.stages {
            if let Stage::Filter(e) = stage {
                f(e);
            }
        }
    }
    match node {
        AstNode::String(_)
        | AstNode::Name(_)
        | AstNode::Number(_)
        | AstNode::Boolean(_)
        | AstNode::Null
        | AstNode::Undefined
        | AstNode::Placeholder
        | AstNode::Regex { .. }
        | AstNode::Variable(_)
        | AstNode::ParentVariable(_)
        | AstNode::Wildcard
        | AstNode::Descendant
        | AstNode::Parent(_) => {}
        AstNode::Path { steps } => steps.$iter().for_each(|s| step(s, f)),
        AstNode::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        AstNode::Unary { operand, .. } => f(operand),
        AstNode::Function { args, .. } => args.$iter().for_each(f),
        AstNode::Call { procedure, args } => {
            f(procedure);
            args.$iter().for_each(f);
        }
        AstNode::Lambda { body, .. } => f(body),
        AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
            items.$iter().for_each(f)
        }
        AstNode::Object(pairs) => pairs.$iter().for_each(|(k, v)| {
            f(k);
            f(v);
        }),
        AstNode::ObjectTransform { input, pattern } => {
            f(input);
            pattern.$iter().for_each(|(k, v)| {
                f(k);
                f(v);
            });
        }
        AstNode::Conditional {
            condition,
            then_branch,
            else_branch,
        } => {
            f(condition);
            f(then_branch);
            if let Some(e) = else_branch {
                f(e);
            }
        }
        AstNode::FunctionApplication(inner) => f(inner),
        AstNode::Sort { input, terms } => {
            f(input);
            terms.$iter().for_each(|(t, _)| f(t));
        }
        AstNode::Transform {
            location,
            update,
            delete,
        } => {
            f(location);
            f(update);
            if let Some(d) = delete {
                f(d);
            }
        }
    }
}
    };
}

child_visitor!(
    /// Visit the direct children of `node`.
    for_each_child, iter
);
child_visitor!(
    /// Visit the direct children of `node`, mutably.
    for_each_child_mut, iter_mut, mut
);

fn call(name: &str, args: Vec<AstNode>) -> AstNode {
    AstNode::Function {
        name: name.to_string(),
        args,
        is_builtin: true,
    }
}

/// `$now(p, t)` → `$fromMillis($millis(), p, t)`; `$now` as a value → an equivalent
/// lambda (jsonata-core's own `$now` reads the system clock and takes no arguments).
/// `$join(…)` → the bounded `$join` (`functions::BOUNDED_JOIN`), unless the expression
/// defines a `$join` of its own.
pub(crate) fn rewrite(node: &mut AstNode) {
    let bound_join = !defines(node, "join");
    rewrite_in(node, bound_join);
}

/// Whether `node` binds `$name` (`$name := …` or a lambda parameter).
fn defines(node: &AstNode, name: &str) -> bool {
    with_stack(|| {
        let here = match node {
            AstNode::Binary { op, lhs, .. } => {
                matches!(op, jsonata_core::ast::BinaryOp::ColonEqual)
                    && matches!(&**lhs, AstNode::Variable(v) if v == name)
            }
            AstNode::Lambda { params, .. } => params.iter().any(|p| p == name),
            _ => false,
        };
        let mut found = here;
        for_each_child(node, &mut |child| found = found || defines(child, name));
        found
    })
}

fn rewrite_in(node: &mut AstNode, bound_join: bool) {
    with_stack(|| {
        for_each_child_mut(node, &mut |child| rewrite_in(child, bound_join));
        if let AstNode::Function { name, .. } = node {
            if bound_join && name == "join" {
                *name = crate::functions::BOUNDED_JOIN.to_string();
                return;
            }
        }
        match node {
            AstNode::Function { name, args, .. } if name == "now" => {
                let mut new_args = Vec::with_capacity(args.len() + 1);
                new_args.push(call("millis", Vec::new()));
                new_args.append(args);
                *node = call("fromMillis", new_args);
            }
            AstNode::Variable(name) if name == "now" => {
                let body = call(
                    "fromMillis",
                    vec![
                        call("millis", Vec::new()),
                        AstNode::Variable("picture".into()),
                        AstNode::Variable("timezone".into()),
                    ],
                );
                *node = AstNode::Lambda {
                    params: vec!["picture".into(), "timezone".into()],
                    body: Box::new(body),
                    signature: None,
                    thunk: false,
                };
            }
            _ => {}
        }
    })
}

/// Collect what `node` needs.
pub(crate) fn analyze(node: &AstNode) -> Needs {
    let mut needs = Needs::default();
    visit(node, &mut needs);
    needs
}

fn visit(node: &AstNode, needs: &mut Needs) {
    with_stack(|| {
        match node {
            AstNode::Variable(name) => match name.as_str() {
                "" => {}
                STATES => needs.states = StatesUse::All,
                other => {
                    // A function passed as a value may be called any number of times.
                    match other {
                        "uuid" => needs.uuids += 1,
                        "random" | "shuffle" => needs.randoms += 1,
                        "millis" => needs.now = true,
                        _ => {}
                    }
                    needs.vars.insert(other.to_string());
                    needs.names.insert(other.to_string());
                }
            },
            AstNode::Function { name, args, .. } => {
                needs.names.insert(name.clone());
                match name.as_str() {
                    "uuid" => needs.uuids += 1,
                    "random" if args.is_empty() => needs.randoms += 1,
                    "shuffle" => needs.randoms += 1,
                    "millis" => needs.now = true,
                    _ => {}
                }
            }
            AstNode::Path { steps } => {
                if let [first, second, ..] = steps.as_slice() {
                    if let (AstNode::Variable(v), AstNode::Name(field)) =
                        (&first.node, &second.node)
                    {
                        if v == STATES
                            && first.stages.is_empty()
                            && first.focus.is_none()
                            && first.index_var.is_none()
                        {
                            needs.states.add_field(field);
                            for s in &steps[1..] {
                                visit(&s.node, needs);
                                for stage in &s.stages {
                                    if let Stage::Filter(e) = stage {
                                        visit(e, needs);
                                    }
                                }
                            }
                            return;
                        }
                    }
                }
            }
            _ => {}
        }
        for_each_child(node, &mut |child| visit(child, needs));
    })
}

#[cfg(test)]
#[path = "tests/analyze.rs"]
mod tests;
