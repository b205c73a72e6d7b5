//! JSONata for Amazon States Language (`QueryLanguage: "JSONata"`).
//!
//! [`JsonataExpr`] is one `{% … %}` expression; [`JsonataTemplate`] is a JSON value whose
//! string leaves may be `{% … %}` expressions (`Arguments`, `Output`, `Assign`, `Items`…).
//! Evaluation binds `$states` (`input`, `result`, `errorOutput`, `context`) and the
//! variables in scope, and registers AWS's functions (`$partition`, `$range`, `$hash`,
//! `$random`, `$uuid`, `$parse`). Time and randomness come from [`stepwise_expr::Sources`].
//!
//! Built on `jsonata-core`: expressions are parsed once; evaluation converts and binds
//! only the variables and `$states` fields an expression reads. Errors carry AWS's
//! `States.QueryEvaluationError` cause text without the state prefix ("An error occurred
//! while executing the state …"), which the interpreter adds.

mod analyze;
mod convert;
mod functions;
pub mod limits;

pub use limits::{interrupt_with, interrupted, Interrupt, EVAL_MEMORY_BUDGET};

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::Value;
use stepwise_expr::{Sources, StatesError, Variables};

use analyze::{Needs, StatesUse};
use convert::{from_jvalue, to_jvalue, OutputError};

/// Nesting bound for evaluation (jsonata-core's D1011), about 1,700 nested non-tail calls.
const MAX_EVAL_DEPTH: usize = 5_000;
/// Wall-clock bound for one evaluation (jsonata-core's D1012). The only guard against a
/// non-terminating expression (a tail-recursive lambda loops without growing the stack);
/// it never affects an expression that finishes in time.
const EVAL_TIMEOUT_MS: u64 = if cfg!(test) { 1_000 } else { 10_000 };

/// Longest sequence (`[1..n]`, `$map`, a path's results…) an evaluation may make
/// (jsonata-core's D2015; AWS's payloads hold far fewer items).
const MAX_SEQUENCE: usize = 1_000_000;

/// A parse failure of a JSONata expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonataParseError {
    pub message: String,
}

/// What a JSONata expression sees.
pub struct JsonataScope<'a> {
    /// The `$states` object: `{"input": …, "context": …}` plus `result` / `errorOutput`
    /// where the field allows them.
    pub states: &'a Value,
    pub vars: &'a dyn Variables,
}

/// One compiled expression (the text between `{%` and `%}`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct JsonataExpr {
    inner: Arc<ExprInner>,
}

#[derive(Debug)]
struct ExprInner {
    /// The body, trimmed, as AWS quotes it in error messages.
    src: String,
    ast: AstNode,
    needs: Needs,
}

pub use stepwise_expr::json_type_name;

impl JsonataExpr {
    /// Parse the body of `{% … %}` (without the delimiters). Surrounding whitespace is
    /// ignored, as AWS does.
    pub fn parse(src: &str) -> Result<JsonataExpr, JsonataParseError> {
        let src = src.trim();
        let mut ast = jsonata_core::parser::parse(src).map_err(|e| JsonataParseError {
            message: e.to_string(),
        })?;
        analyze::rewrite(&mut ast);
        let needs = analyze::analyze(&ast);
        Ok(JsonataExpr {
            inner: Arc::new(ExprInner {
                src: src.to_string(),
                ast,
                needs,
            }),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.inner.src
    }

    /// Names of the variables the expression reads (`$name`), without `$states`.
    /// Lambda parameters and `:=` bindings inside the expression are included.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.inner.needs.vars.iter().map(String::as_str)
    }

    /// Whether the expression may read `$states.<field>` (`"result"`, `"errorOutput"`…).
    /// True for any field when `$states` is used other than as `$states.<name>`.
    pub fn reads_states_field(&self, field: &str) -> bool {
        match &self.inner.needs.states {
            StatesUse::None => false,
            StatesUse::Fields(fields) => fields.contains(field),
            StatesUse::All => true,
        }
    }

    /// Names the expression reads from the context item at its top level, in the order
    /// written, each once: the first step of a path (`phone` in `phone.number`), a bare
    /// name, an object constructor's unquoted key, and `$` itself (as `"$"`). Step
    /// Functions evaluates with no context item, so AWS refuses these at create time
    /// (`UNSUPPORTED_JSONATA_EXPRESSION`). Later path steps, predicates, sort terms,
    /// grouping and transform expressions run against a value the expression produced and
    /// are not looked into; lambda bodies keep the defining context and are (as measured
    /// against AWS in floci-io/floci PR #2699).
    pub fn top_level_references(&self) -> Vec<String> {
        fn add(out: &mut Vec<String>, name: &str) {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
        fn walk(node: &AstNode, out: &mut Vec<String>) {
            jsonata_core::value::with_stack(|| match node {
                AstNode::Name(name) => add(out, name),
                AstNode::Variable(name) if name.is_empty() => add(out, "$"),
                AstNode::Path { steps } => {
                    if let Some(first) = steps.first() {
                        walk(&first.node, out);
                    }
                }
                AstNode::Binary { op, lhs, rhs } => {
                    if *op != jsonata_core::ast::BinaryOp::ColonEqual {
                        walk(lhs, out);
                    }
                    walk(rhs, out);
                }
                AstNode::Unary { operand, .. } => walk(operand, out),
                AstNode::Function { args, .. } => args.iter().for_each(|a| walk(a, out)),
                AstNode::Call { procedure, args } => {
                    walk(procedure, out);
                    args.iter().for_each(|a| walk(a, out));
                }
                AstNode::Lambda { body, .. } => walk(body, out),
                AstNode::Array(items) | AstNode::Block(items) => {
                    items.iter().for_each(|i| walk(i, out))
                }
                AstNode::Object(pairs) => pairs.iter().for_each(|(k, v)| {
                    walk(k, out);
                    walk(v, out);
                }),
                AstNode::Conditional {
                    condition,
                    then_branch,
                    else_branch,
                } => {
                    walk(condition, out);
                    walk(then_branch, out);
                    if let Some(e) = else_branch {
                        walk(e, out);
                    }
                }
                _ => {}
            })
        }
        let mut out = Vec::new();
        walk(&self.inner.ast, &mut out);
        out
    }

    /// Evaluate for the ASL field `field` (e.g. `"Output"`, `"Items"`, `"Output/result"`;
    /// used in error messages). An undefined result is `Ok(None)`; errors are
    /// `States.QueryEvaluationError` with AWS's cause text.
    pub fn eval(
        &self,
        field: &str,
        scope: &JsonataScope,
        sources: &mut dyn Sources,
    ) -> Result<Option<Value>, StatesError> {
        self.eval_in(field, &mut Bindings::new(scope), sources)
    }

    /// Like [`eval`](Self::eval), but an undefined result is AWS's "returned nothing
    /// (undefined)" error.
    pub fn eval_required(
        &self,
        field: &str,
        scope: &JsonataScope,
        sources: &mut dyn Sources,
    ) -> Result<Value, StatesError> {
        self.eval(field, scope, sources)?
            .ok_or_else(|| self.undefined_error(field))
    }

    /// `… returned nothing (undefined).`
    pub fn undefined_error(&self, field: &str) -> StatesError {
        StatesError::query_evaluation(format!(
            "{} returned nothing (undefined).",
            self.subject(field)
        ))
    }

    /// `… returned an unsupported result type.` (a function).
    pub fn unsupported_type_error(&self, field: &str) -> StatesError {
        StatesError::query_evaluation(format!(
            "{} returned an unsupported result type.",
            self.subject(field)
        ))
    }

    /// `… returned an unexpected result type. Expected 'array', but was 'string' for
    /// value: "string"`. `expected` is a JSON type name (see [`json_type_name`]).
    pub fn unexpected_type_error(&self, field: &str, expected: &str, value: &Value) -> StatesError {
        StatesError::query_evaluation(format!(
            "{} returned an unexpected result type. Expected '{expected}', but was '{}' for value: {value}",
            self.subject(field),
            json_type_name(value),
        ))
    }

    fn subject(&self, field: &str) -> String {
        format!(
            "The JSONata expression '{}' specified for the field '{field}'",
            self.inner.src
        )
    }

    fn thrown_error(&self, field: &str, e: &EvaluatorError) -> StatesError {
        let msg = e.message();
        // jsonata-core names the callee after this message; jsonata (and AWS) do not.
        const NON_FUNCTION: &str = "T1006: Attempted to invoke a non-function";
        let msg = if msg.starts_with(NON_FUNCTION) {
            NON_FUNCTION
        } else {
            msg
        };
        StatesError::query_evaluation(format!(
            "{} threw an error during evaluation. {msg}",
            self.subject(field)
        ))
    }

    fn eval_in(
        &self,
        field: &str,
        bindings: &mut Bindings,
        sources: &mut dyn Sources,
    ) -> Result<Option<Value>, StatesError> {
        let needs = &self.inner.needs;
        let mut context = Context::new();
        if let Some(states) = bindings.states(&needs.states) {
            context.bind(analyze::STATES.to_string(), states);
        }
        for name in &needs.vars {
            if let Some(v) = bindings.var(name) {
                context.bind(name.clone(), v);
            }
        }
        let draws = Rc::new(RefCell::new(functions::Draws::take(needs, sources)));
        let limits = limits::Evaluation::begin();
        let options = EvaluatorOptions {
            timeout_ms: Some(EVAL_TIMEOUT_MS),
            cancel: Some(limits.token()),
            max_stack_depth: Some(MAX_EVAL_DEPTH),
            max_sequence_length: Some(MAX_SEQUENCE),
        };
        let mut ev = Evaluator::with_options(context, options);
        functions::register(&mut ev, needs, draws).map_err(|e| self.thrown_error(field, &e))?;
        // AWS evaluates with no input document: `$` is undefined.
        let result = ev.evaluate(&self.inner.ast, &JValue::Undefined);
        if limits.over_budget() {
            return Err(StatesError::query_evaluation(format!(
                "{} used more memory than one evaluation may ({} MiB).",
                self.subject(field),
                EVAL_MEMORY_BUDGET >> 20
            )));
        }
        drop(limits);
        let result = result.map_err(|e| self.thrown_error(field, &e))?;
        match from_jvalue(&result) {
            Ok(v) => Ok(v),
            Err(OutputError::Unsupported) => Err(self.unsupported_type_error(field)),
            Err(OutputError::TooDeep) => Err(StatesError::query_evaluation(format!(
                "{} returned a value nested more than {} levels deep.",
                self.subject(field),
                stepwise_expr::MAX_JSON_DEPTH
            ))),
        }
    }
}

/// Converted bindings, shared by the expressions of one template evaluation so that
/// `$states.input` and each variable are converted at most once.
struct Bindings<'a> {
    scope: &'a JsonataScope<'a>,
    states_fields: HashMap<String, JValue>,
    vars: HashMap<String, Option<JValue>>,
}

impl<'a> Bindings<'a> {
    fn new(scope: &'a JsonataScope<'a>) -> Self {
        Bindings {
            scope,
            states_fields: HashMap::new(),
            vars: HashMap::new(),
        }
    }

    fn states_field(&mut self, key: &str, value: &Value) -> JValue {
        self.states_fields
            .entry(key.to_string())
            .or_insert_with(|| to_jvalue(value))
            .clone()
    }

    /// The `$states` value for an expression with the given use of it.
    fn states(&mut self, use_: &StatesUse) -> Option<JValue> {
        let states = self.scope.states;
        let Value::Object(map) = states else {
            return match use_ {
                StatesUse::None => None,
                _ => Some(to_jvalue(states)),
            };
        };
        let mut out = indexmap::IndexMap::new();
        match use_ {
            StatesUse::None => return None,
            StatesUse::Fields(fields) => {
                for key in fields {
                    if let Some(v) = map.get(key) {
                        out.insert(key.clone(), self.states_field(key, v));
                    }
                }
            }
            StatesUse::All => {
                for (key, v) in map {
                    out.insert(key.clone(), self.states_field(key, v));
                }
            }
        }
        Some(JValue::object(out))
    }

    fn var(&mut self, name: &str) -> Option<JValue> {
        let vars = self.scope.vars;
        self.vars
            .entry(name.to_string())
            .or_insert_with(|| vars.get(name).map(to_jvalue))
            .clone()
    }
}

/// A JSON value with `{% … %}` strings anywhere inside it.
#[derive(Debug, Clone)]
pub struct JsonataTemplate {
    raw: Value,
    node: Node,
}

#[derive(Debug, Clone)]
enum Node {
    /// A subtree without expressions.
    Literal(Value),
    Expr(JsonataExpr),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

/// A problem in a template, located by a JSON pointer relative to the template root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct JsonataTemplateError {
    pub pointer: String,
    pub message: String,
}

/// A template evaluation failure and where it happened: `location` is the field path
/// AWS reports in `evaluationFailedEventDetails.location` (`"Output/result"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct JsonataEvalError {
    pub location: String,
    pub error: StatesError,
}

impl From<JsonataEvalError> for StatesError {
    fn from(e: JsonataEvalError) -> StatesError {
        e.error
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl JsonataTemplate {
    pub fn compile(raw: &Value) -> Result<JsonataTemplate, Vec<JsonataTemplateError>> {
        let mut errors = Vec::new();
        let node = compile_node(raw, &mut String::new(), &mut errors);
        if errors.is_empty() {
            Ok(JsonataTemplate {
                raw: raw.clone(),
                node,
            })
        } else {
            Err(errors)
        }
    }

    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// If the whole template is one `{% … %}` string, that expression.
    pub fn as_expr(&self) -> Option<&JsonataExpr> {
        match &self.node {
            Node::Expr(e) => Some(e),
            _ => None,
        }
    }

    /// Whether any `{% … %}` expression is inside.
    pub fn has_expressions(&self) -> bool {
        !matches!(self.node, Node::Literal(_))
    }

    /// Every expression inside, with its JSON pointer (for validation).
    pub fn expressions(&self) -> Vec<(String, &JsonataExpr)> {
        fn walk<'n>(
            node: &'n Node,
            pointer: &mut String,
            out: &mut Vec<(String, &'n JsonataExpr)>,
        ) {
            match node {
                Node::Literal(_) => {}
                Node::Expr(e) => out.push((pointer.clone(), e)),
                Node::Object(fields) => {
                    for (k, v) in fields {
                        let len = pointer.len();
                        pointer.push('/');
                        pointer.push_str(&escape_pointer(k));
                        walk(v, pointer, out);
                        pointer.truncate(len);
                    }
                }
                Node::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        let len = pointer.len();
                        pointer.push_str(&format!("/{i}"));
                        walk(v, pointer, out);
                        pointer.truncate(len);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.node, &mut String::new(), &mut out);
        out
    }

    /// Evaluate every expression inside, for the ASL field `field` (`"Output"`,
    /// `"Arguments"`, `"Assign"`…). Object keys extend the field in error messages
    /// (`Output/result`). As on AWS, an expression that is undefined anywhere in the
    /// template is an error ("returned nothing (undefined)").
    pub fn eval(
        &self,
        field: &str,
        scope: &JsonataScope,
        sources: &mut dyn Sources,
    ) -> Result<Value, JsonataEvalError> {
        let mut bindings = Bindings::new(scope);
        let mut location = field.to_string();
        eval_node(&self.node, &mut location, &mut bindings, sources)
    }
}

fn compile_node(raw: &Value, pointer: &mut String, errors: &mut Vec<JsonataTemplateError>) -> Node {
    match raw {
        Value::String(s) if is_expression(s) => match JsonataExpr::parse(&s[2..s.len() - 2]) {
            Ok(e) => Node::Expr(e),
            Err(e) => {
                errors.push(JsonataTemplateError {
                    pointer: pointer.clone(),
                    message: e.message,
                });
                Node::Literal(Value::Null)
            }
        },
        Value::Object(map) => {
            let mut fields = Vec::with_capacity(map.len());
            let mut any = false;
            for (k, v) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer(k));
                let node = compile_node(v, pointer, errors);
                pointer.truncate(len);
                any |= !matches!(node, Node::Literal(_));
                fields.push((k.clone(), node));
            }
            if any {
                Node::Object(fields)
            } else {
                Node::Literal(raw.clone())
            }
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                nodes.push(compile_node(v, pointer, errors));
                pointer.truncate(len);
            }
            if nodes.iter().any(|n| !matches!(n, Node::Literal(_))) {
                Node::Array(nodes)
            } else {
                Node::Literal(raw.clone())
            }
        }
        other => Node::Literal(other.clone()),
    }
}

fn eval_node(
    node: &Node,
    location: &mut String,
    bindings: &mut Bindings,
    sources: &mut dyn Sources,
) -> Result<Value, JsonataEvalError> {
    match node {
        Node::Literal(v) => Ok(v.clone()),
        Node::Expr(e) => match e.eval_in(location, bindings, sources) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(JsonataEvalError {
                location: location.clone(),
                error: e.undefined_error(location),
            }),
            Err(error) => Err(JsonataEvalError {
                location: location.clone(),
                error,
            }),
        },
        Node::Object(fields) => {
            let mut out = serde_json::Map::with_capacity(fields.len());
            for (k, v) in fields {
                let len = location.len();
                location.push('/');
                location.push_str(k);
                let value = eval_node(v, location, bindings, sources);
                location.truncate(len);
                out.insert(k.clone(), value?);
            }
            Ok(Value::Object(out))
        }
        // Array items are reported at the enclosing field, as AWS names only object keys.
        Node::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(eval_node(item, location, bindings, sources)?);
            }
            Ok(Value::Array(out))
        }
    }
}

/// True when `s` is a `{% … %}` expression string. As on AWS, the delimiters must be the
/// very first and last characters: `" {% 1 %}"` is a literal string.
pub fn is_expression(s: &str) -> bool {
    s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}")
}

#[cfg(test)]
mod tests;
