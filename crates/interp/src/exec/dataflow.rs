//! A state's data flow: `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`,
//! `OutputPath` (JSONPath); `Arguments`, `Output` (JSONata); `Assign`; the Context
//! object (`$$`, `$states.context`) and the variables a state sees; the payload size
//! limit on a state's output; numeric fields given literally, by a `…Path` or by JSONata.

use super::*;
use serde_json::{Map, Value};
use std::sync::Arc;
use stepwise_asl::{FilterPath, ResultPath};
use stepwise_expr::jsonpath::Root;
use stepwise_expr::template::PayloadTemplate;
use stepwise_expr::{Scope, Sources, StatesError, Variables};

pub(super) fn as_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i)
            } else {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            }
        }
        _ => None,
    }
}

/// An integer field's value as AWS takes it: a number, or numeric text ("1").
pub(super) fn integer_or_numeric_text(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        other => as_long(other),
    }
}

impl Execution {
    /// The Context object. `retry_count` is `State.RetryCount`, which AWS shows only for
    /// states that can retry (Task, Parallel, Map).
    /// The Context object of a state of frame `fid`: a Distributed Map child's frames
    /// see their child execution (its ARN, name, input, start, `NAME/LABEL` machine).
    pub(super) fn context_value(
        &self,
        fid: FrameId,
        state_name: &str,
        entered_millis: i64,
        retry_count: Option<u32>,
        extra: Option<(&str, Value)>,
    ) -> Value {
        if self.single.is_some() {
            return self.single_context(extra).unwrap_or_default();
        }
        let child = self
            .frames
            .get(fid)
            .and_then(|f| f.as_ref()?.sink)
            .and_then(|c| self.children.get(&c));
        let (id, input, start, name, sm_id, sm_name, redrives) = match child {
            Some(c) => (
                &*c.arn,
                &c.input,
                c.start_millis,
                c.name.as_str(),
                c.state_machine_arn.as_str(),
                c.state_machine_arn
                    .split_once(":stateMachine:")
                    .map_or("", |(_, m)| m),
                c.redrive_count,
            ),
            None => (
                self.info.execution_arn.as_str(),
                &self.input,
                self.start_millis,
                self.info.name.as_str(),
                self.info.state_machine_arn.as_str(),
                self.info.state_machine_name.as_str(),
                self.info.redrive_count,
            ),
        };
        let mut exec = Map::new();
        exec.insert("Id".into(), Value::String(id.to_string()));
        exec.insert("Input".into(), Value::clone(input));
        exec.insert(
            "StartTime".into(),
            Value::String(timefmt::format_millis(start)),
        );
        exec.insert("Name".into(), Value::String(name.to_string()));
        exec.insert("RoleArn".into(), Value::String(self.info.role_arn.clone()));
        if !self.info.express {
            exec.insert("RedriveCount".into(), Value::from(redrives));
        }
        let mut sm = Map::new();
        sm.insert("Id".into(), Value::String(sm_id.to_string()));
        sm.insert("Name".into(), Value::String(sm_name.to_string()));
        let mut st = Map::new();
        st.insert("Name".into(), Value::String(state_name.to_string()));
        st.insert(
            "EnteredTime".into(),
            Value::String(timefmt::format_millis(entered_millis)),
        );
        if let Some(n) = retry_count {
            st.insert("RetryCount".into(), Value::from(n));
        }
        let mut c = Map::new();
        c.insert("Execution".into(), Value::Object(exec));
        c.insert("StateMachine".into(), Value::Object(sm));
        c.insert("State".into(), Value::Object(st));
        if let Some((k, v)) = extra {
            c.insert(k.into(), v);
        }
        Value::Object(c)
    }

    /// The Context object for the state frame `fid` is in (Null when no expression of
    /// the state reads it).
    pub(super) fn context_for(&self, fid: FrameId, state: &State) -> Value {
        if self.machine.needs_context(state) {
            let (entered, retries) = self.entered_and_retries(fid, state);
            self.context_value(fid, &state.name, entered, retries, None)
        } else {
            Value::Null
        }
    }

    pub(super) fn entered_and_retries(&self, fid: FrameId, state: &State) -> (i64, Option<u32>) {
        let can_retry = matches!(
            state.kind,
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
        );
        match self
            .frames
            .get(fid)
            .and_then(|f| f.as_ref())
            .map(|f| &f.stage)
        {
            Some(Stage::Active(a)) => (a.entered_millis, can_retry.then(|| a.retries.iter().sum())),
            _ => (self.now, can_retry.then_some(0)),
        }
    }

    pub(super) fn vars(&self, fid: FrameId) -> VarChain<'_> {
        VarChain {
            frames: &self.frames,
            start: fid,
        }
    }

    pub(super) fn states_value(input: &Value, ctx: &Value, extra: &[(&str, &Value)]) -> Value {
        let mut m = Map::new();
        m.insert("input".into(), input.clone());
        m.insert("context".into(), ctx.clone());
        for (k, v) in extra {
            m.insert((*k).into(), (*v).clone());
        }
        Value::Object(m)
    }

    /// JSONPath `InputPath` (recorded as `afterInputPath`).
    #[inline(always)]
    pub(super) fn input_path(
        &mut self,
        fid: FrameId,
        io: &InputOutput,
        input: Arc<Value>,
        ctx: &Value,
    ) -> Result<Arc<Value>, Failure> {
        let v = {
            let vars = self.vars(fid);
            let env = Env {
                context: ctx,
                vars: &vars,
            };
            dataflow::filter(&io.input_path, input, &env).map_err(Failure::eval)?
        };
        self.inspect(fid, |r| r.data.after_input_path = Some(Value::clone(&v)));
        Ok(v)
    }

    /// The JSONPath effective input: `InputPath`, then `Parameters` (recorded as
    /// `afterParameters`).
    pub(super) fn effective_input(
        &mut self,
        fid: FrameId,
        io: &InputOutput,
        input: &Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        let v = self.input_path(fid, io, Arc::clone(input), ctx)?;
        let v = match &io.parameters {
            Some(t) => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                Arc::new(dataflow::template(t, &v, &env, src).map_err(Failure::eval)?)
            }
            None => v,
        };
        self.inspect(fid, |r| r.data.after_parameters = Some(Value::clone(&v)));
        Ok(v)
    }

    /// JSONata `Arguments` (Task, Parallel), or the raw input without them.
    pub(super) fn jsonata_arguments(
        &self,
        fid: FrameId,
        st: &State,
        input: &Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        let vars = self.vars(fid);
        let states = Self::states_value(input, ctx, &[]);
        let scope = JsonataScope {
            states: &states,
            vars: &vars,
        };
        match &st.io.arguments {
            Some(a) => Ok(Arc::new(a.eval("Arguments", &scope, src)?)),
            None => Ok(Arc::clone(input)),
        }
    }

    /// Finish a successful state: ResultSelector/ResultPath/OutputPath (JSONPath) or
    /// Output (JSONata), then Assign; emits the Exited event and returns its output.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn complete(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        result: Arc<Value>,
        ctx: &Value,
        apply_result: bool,
        exit_prev: Option<u64>,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        let (output, assigned) = match st.query_language {
            QueryLanguage::JsonPath => {
                // Without a result (Succeed, Wait, JSONata-less passes) there is no
                // ResultSelector or ResultPath step to show.
                let slot = match apply_result {
                    true => self.inspection_slot(fid),
                    false => None,
                };
                let vars = VarChain {
                    frames: &self.frames,
                    start: fid,
                };
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let result = match (&st.io.result_selector, apply_result) {
                    (Some(t), true) => {
                        Arc::new(dataflow::template(t, &result, &env, src).map_err(Failure::eval)?)
                    }
                    _ => result,
                };
                record(&mut self.inspector, slot, |r| {
                    r.data.after_result_selector = Some(Value::clone(&result))
                });
                let assigned = match &st.assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &result, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                let combined = if apply_result {
                    dataflow::result_path(&st.io.result_path, input, result)
                        .map_err(Failure::eval)?
                } else {
                    result
                };
                record(&mut self.inspector, slot, |r| {
                    r.data.after_result_path = Some(Value::clone(&combined))
                });
                let out =
                    dataflow::filter(&st.io.output_path, combined, &env).map_err(Failure::eval)?;
                (out, assigned)
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = if apply_result {
                    Self::states_value(&input, ctx, &[("result", &result)])
                } else {
                    Self::states_value(&input, ctx, &[])
                };
                Self::jsonata_output_and_assign(st, &states, &vars, result, src)?
            }
        };
        self.finish_state(fid, st, output, assigned, exit_prev)
    }

    /// JSONata `Output` (or `default` without one) and `Assign`, both evaluated against the
    /// same `$states` and the variables as they were before the state.
    pub(super) fn jsonata_output_and_assign(
        st: &State,
        states: &Value,
        vars: &dyn Variables,
        default: Arc<Value>,
        src: &mut dyn Sources,
    ) -> Result<(Arc<Value>, Option<Value>), Failure> {
        let scope = JsonataScope { states, vars };
        let assigned = match &st.assign {
            Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
            _ => None,
        };
        let out = match &st.io.output {
            Some(t) => Arc::new(t.eval("Output", &scope, src)?),
            None => default,
        };
        Ok((out, assigned))
    }

    /// Check size, apply variables, emit `…StateExited`.
    pub(super) fn finish_state(
        &mut self,
        fid: FrameId,
        st: &State,
        output: Arc<Value>,
        assigned: Option<Value>,
        exit_prev: Option<u64>,
    ) -> Result<Arc<Value>, Failure> {
        match dataflow::check_payload(&output, MAX_PAYLOAD_BYTES) {
            Ok(()) => {}
            Err(Payload::TooLarge) => {
                return Err(Failure::plain(StatesError::new(
                    names::DATA_LIMIT_EXCEEDED,
                    format!(
                        "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                        st.name
                    ),
                )))
            }
            Err(Payload::TooDeep) => return Err(too_deep(st, "result")),
        }
        if let Some(a) = &assigned {
            if dataflow::check_payload(a, usize::MAX) == Err(Payload::TooDeep) {
                return Err(too_deep(st, "variables"));
            }
        }
        let assigned = match assigned {
            Some(Value::Object(m)) if !m.is_empty() => {
                let f = self.frame(fid);
                for (k, v) in &m {
                    f.vars.insert(k.clone(), v.clone());
                }
                Some(m)
            }
            _ => None,
        };
        if self.inspector.is_some() {
            let vars = self.visible_vars(fid);
            self.inspect(fid, |r| {
                r.data.variables = (!vars.is_empty()).then_some(Value::Object(vars))
            });
        }
        let details = Details::StateExited {
            name: st.name.clone(),
            output: Arc::clone(&output),
            assigned_variables: assigned.map(Box::new),
        };
        let t = EventType::exited(st.kind.type_name());
        match exit_prev {
            Some(prev) => {
                let id = self.emit_with_prev(fid, prev, t, details);
                self.frame(fid).last = id;
            }
            None => {
                self.emit(fid, t, details);
            }
        }
        Ok(output)
    }

    pub(super) fn transition(st: &State, output: Arc<Value>) -> Flow {
        match st.transition {
            Transition::Next(n) => Flow::Next(n, output),
            Transition::End => Flow::End(output),
        }
    }

    /// `MaxConcurrency(Path)`, `ToleratedFailureCount(Path)`…: a non-negative integer.
    pub(super) fn dyn_u64(
        &self,
        fid: FrameId,
        d: Option<&Dyn<u64>>,
        field: &str,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<u64>, Failure> {
        let literal = |v: &u64| i64::try_from(*v).unwrap_or(i64::MAX);
        match self.dyn_number(
            fid,
            d,
            literal,
            field,
            "integer",
            "integer",
            integer_or_numeric_text,
            input,
            ctx,
            src,
        )? {
            Some(n) if n < 0 => Err(Failure::eval(StatesError::runtime(format!(
                "{field} cannot be negative."
            )))),
            other => Ok(other.map(|n| n as u64)),
        }
    }

    /// Read a numeric field given literally, by a `…Path` or by JSONata, with AWS's
    /// messages for values that are not numbers of the right `kind`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dyn_number<L, T: Copy>(
        &self,
        fid: FrameId,
        d: Option<&Dyn<L>>,
        literal: impl Fn(&L) -> T,
        field: &str,
        kind: &str,
        jsonata_kind: &str,
        parse: impl Fn(&Value) -> Option<T>,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<T>, Failure> {
        let Some(d) = d else { return Ok(None) };
        let vars = self.vars(fid);
        let env = Env {
            context: ctx,
            vars: &vars,
        };
        Ok(Some(match d {
            Dyn::Literal(v) => literal(v),
            Dyn::Path(p) => {
                dataflow::path_number(p, p.select(&env.scope(input)), field, kind, parse)
                    .map_err(Failure::eval)?
            }
            Dyn::Jsonata(e) => {
                let states = Self::states_value(input, ctx, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let v = e
                    .eval_required(field, &scope, src)
                    .map_err(|e| Failure::at(e, field))?;
                match v.is_number().then(|| parse(&v)).flatten() {
                    Some(n) => n,
                    None => {
                        return Err(Failure::at(
                            e.unexpected_type_error(field, jsonata_kind, &v),
                            field,
                        ))
                    }
                }
            }
            Dyn::Intrinsic(_) => return Ok(None),
        }))
    }
}

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
    // A field the task's failure left out is null (test_callback.snapshot.json,
    // `test_sqs_failure_in_wait_for_task_tok_no_error_field`: `SendTaskFailure` with
    // neither gives `{"Error": null, "Cause": null}`).
    let text = |s: &str| {
        if s.is_empty() && err.absent_if_empty {
            Value::Null
        } else {
            Value::String(s.to_string())
        }
    };
    let mut m = Map::new();
    m.insert("Error".into(), text(&err.error));
    m.insert("Cause".into(), text(&err.cause));
    Value::Object(m)
}

/// Why a value cannot be a state's output or variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Larger than the limit as compact JSON.
    TooLarge,
    /// Nested deeper than [`MAX_JSON_DEPTH`].
    TooDeep,
}

/// Whether `v` fits: nested at most [`MAX_JSON_DEPTH`] deep and at most `limit` bytes
/// as compact JSON. One walk finds the depth and a cheap upper bound of the size, which
/// settles almost every case; only values near the limit are measured exactly. The walk
/// recurses, but never below [`MAX_JSON_DEPTH`] (where it stops with `TooDeep`), so a
/// value of any depth is safe to check.
pub fn check_payload(v: &Value, limit: usize) -> Result<(), Payload> {
    // The bound cannot overflow: it is at most six times the bytes the value occupies.
    fn walk(v: &Value, depth: usize, bound: &mut usize) -> Result<(), Payload> {
        match v {
            Value::Null | Value::Bool(_) => *bound += 5,
            Value::Number(_) => *bound += 24,
            // Each byte escapes to at most six (\u00XX).
            Value::String(s) => *bound += s.len() * 6 + 2,
            Value::Array(a) => {
                if depth > MAX_JSON_DEPTH {
                    return Err(Payload::TooDeep);
                }
                *bound += 2 + a.len();
                for x in a {
                    walk(x, depth + 1, bound)?;
                }
            }
            Value::Object(m) => {
                if depth > MAX_JSON_DEPTH {
                    return Err(Payload::TooDeep);
                }
                *bound += 2;
                for (k, x) in m {
                    *bound += k.len() * 6 + 4;
                    walk(x, depth + 1, bound)?;
                }
            }
        }
        Ok(())
    }
    let mut bound = 0usize;
    walk(v, 1, &mut bound)?;
    if bound > limit && json_size(v) > limit {
        return Err(Payload::TooLarge);
    }
    Ok(())
}

/// A state made a value nested too deep (its result or its variables).
fn too_deep(st: &State, what: &str) -> Failure {
    Failure::plain(StatesError::runtime(format!(
        "The state '{}' made {what} nested more than {MAX_JSON_DEPTH} levels deep.",
        st.name
    )))
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
        assert_eq!(check_payload(&v, exact), Ok(()));
        assert_eq!(check_payload(&v, exact - 1), Err(Payload::TooLarge));
        let escaped = json!("\"\"\"");
        assert_eq!(json_size(&escaped), 8);
        assert_eq!(check_payload(&escaped, 7), Err(Payload::TooLarge));
        assert_eq!(check_payload(&escaped, 8), Ok(()));
    }

    #[test]
    fn depth_is_checked_without_recursion() {
        let nest = |n: usize| {
            let mut v = json!(1);
            for _ in 0..n {
                v = Value::Array(vec![v]);
            }
            v
        };
        assert_eq!(check_payload(&nest(MAX_JSON_DEPTH), usize::MAX), Ok(()));
        assert_eq!(
            check_payload(&nest(MAX_JSON_DEPTH + 1), usize::MAX),
            Err(Payload::TooDeep)
        );
        // Far deeper than a recursive walk could go on a small stack.
        let mut deep = nest(100_000);
        assert_eq!(check_payload(&deep, usize::MAX), Err(Payload::TooDeep));
        // Taken apart level by level: dropping it whole would recurse.
        while let Value::Array(mut a) = deep {
            deep = a.pop().unwrap_or(Value::Null);
        }
    }
}
