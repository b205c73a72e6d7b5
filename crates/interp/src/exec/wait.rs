//! Wait: `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath` (and JSONata `Seconds`,
//! `Timestamp`). The output is computed on entry; a timer ends the wait.

use super::*;

/// Builds the failure for an unparsable Wait timestamp (wording depends on the field).
pub(super) type TimestampError = Box<dyn Fn(&str) -> Failure>;

impl Execution {
    pub(super) fn run_wait(
        &mut self,
        fid: FrameId,
        st: &State,
        w: &WaitDef,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let eff = match st.query_language {
            QueryLanguage::JsonPath => self.input_path(fid, &st.io, Arc::clone(&input), ctx)?,
            QueryLanguage::Jsonata => Arc::clone(&input),
        };
        let due = {
            let vars = self.vars(fid);
            let env = Env {
                context: ctx,
                vars: &vars,
            };
            let states = match st.query_language {
                QueryLanguage::Jsonata => Self::states_value(&input, ctx, &[]),
                QueryLanguage::JsonPath => Value::Null,
            };
            let jscope = JsonataScope {
                states: &states,
                vars: &vars,
            };
            match w {
                WaitDef::Seconds(d) => {
                    let secs = match d {
                        Dyn::Literal(s) => i64::try_from(*s).unwrap_or(i64::MAX),
                        Dyn::Path(p) => {
                            let v = p.select(&env.scope(&eff));
                            match v.as_ref().and_then(as_long) {
                                Some(s) if s >= 0 => s,
                                Some(_) => {
                                    return Err(Failure::eval(StatesError::runtime(format!(
                                        "The SecondsPath parameter references a negative value: {} == {}",
                                        p.as_str(),
                                        v.map(|v| v.to_string()).unwrap_or_else(|| "null".into())
                                    ))))
                                }
                                None => {
                                    return Err(Failure::eval(StatesError::runtime(format!(
                                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                                        p.as_str(),
                                        v.map(|v| v.to_string()).unwrap_or_else(|| "null".into())
                                    ))))
                                }
                            }
                        }
                        Dyn::Jsonata(e) => {
                            let v = e
                                .eval_required("Seconds", &jscope, src)
                                .map_err(|e| Failure::at(e, "Seconds"))?;
                            match as_long(&v) {
                                Some(s) if s >= 0 => s,
                                _ => {
                                    return Err(Failure::at(
                                        StatesError::query_evaluation(format!(
                                            "The JSONata expression '{}' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}",
                                            e.as_str(),
                                            stepwise_jsonata::json_type_name(&v),
                                            v
                                        )),
                                        "Seconds",
                                    ))
                                }
                            }
                        }
                        Dyn::Intrinsic(_) => 0,
                    };
                    self.now.saturating_add(secs.saturating_mul(1000))
                }
                WaitDef::Timestamp(d) => {
                    let (text, field_err): (String, TimestampError) = match d {
                        Dyn::Literal(s) => (
                            s.clone(),
                            Box::new(|s: &str| {
                                Failure::eval(StatesError::runtime(format!(
                                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                                )))
                            }),
                        ),
                        Dyn::Path(p) => {
                            let v = p.select(&env.scope(&eff));
                            let ps = p.as_str().to_string();
                            match v {
                                Some(Value::String(s)) => (
                                    s,
                                    Box::new(move |s: &str| {
                                        Failure::eval(StatesError::runtime(format!(
                                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {ps} == {s}"
                                        )))
                                    }),
                                ),
                                other => {
                                    let shown = other
                                        .map(|v| v.to_string())
                                        .unwrap_or_else(|| "null".into());
                                    return Err(Failure::eval(StatesError::runtime(format!(
                                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                                        p.as_str(),
                                        shown
                                    ))));
                                }
                            }
                        }
                        Dyn::Jsonata(e) => {
                            let v = e
                                .eval_required("Timestamp", &jscope, src)
                                .map_err(|e| Failure::at(e, "Timestamp"))?;
                            match v {
                                Value::String(s) => (
                                    s,
                                    Box::new(|s: &str| {
                                        Failure::at(
                                            StatesError::query_evaluation(format!(
                                                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                                            )),
                                            "Timestamp",
                                        )
                                    }),
                                ),
                                other => {
                                    return Err(Failure::at(
                                        e.unexpected_type_error("Timestamp", "string", &other),
                                        "Timestamp",
                                    ))
                                }
                            }
                        }
                        Dyn::Intrinsic(_) => (
                            String::new(),
                            Box::new(|_: &str| Failure::eval(StatesError::runtime(""))),
                        ),
                    };
                    match timefmt::parse_timestamp(&text) {
                        Some(ns) => (ns / 1_000_000) as i64,
                        None => return Err(field_err(&text)),
                    }
                }
            }
        };
        // AWS refuses delays beyond what a signed 32-bit number of seconds can hold.
        if due.saturating_sub(self.now) > i64::from(i32::MAX) * 1000 {
            return Err(Failure::eval(StatesError::runtime(
                "Wait state delay is too long.",
            )));
        }
        let (output, assigned) = self.wait_output(fid, st, input, eff, ctx, src)?;
        if due <= self.now {
            let out = self.finish_state(fid, st, output, assigned, None)?;
            return Ok(Self::transition(st, out));
        }
        let timer = self.arm_timer(due);
        self.timers.insert(timer, fid);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::WaitTimer {
                timer,
                output,
                assigned,
            };
        }
        Ok(Flow::Blocked)
    }

    /// A Wait state's output and variables, computed when it is entered (AWS evaluates
    /// them before the wait, with the variables as they were then).
    pub(super) fn wait_output(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        eff: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<(Arc<Value>, Option<Value>), Failure> {
        let vars = self.vars(fid);
        let env = Env {
            context: ctx,
            vars: &vars,
        };
        match st.query_language {
            QueryLanguage::JsonPath => {
                let assigned = match &st.assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                Ok((
                    dataflow::filter(&st.io.output_path, eff, &env).map_err(Failure::eval)?,
                    assigned,
                ))
            }
            QueryLanguage::Jsonata => {
                let states = Self::states_value(&input, ctx, &[]);
                let (out, assigned) =
                    Self::jsonata_output_and_assign(st, &states, &vars, input, src)?;
                Ok((out, assigned))
            }
        }
    }
}
