//! `Retry` (`ErrorEquals`, `IntervalSeconds`, `MaxAttempts`, `BackoffRate`,
//! `MaxDelaySeconds`, `JitterStrategy`) and `Catch` (`ErrorEquals`, `Next`, `ResultPath`,
//! `Output`, `Assign`), with AWS's `States.ALL` rules, and the cause prefix of errors
//! raised while evaluating a state's fields.

use super::*;

/// AWS's cause for an error raised while evaluating a state's fields.
pub(super) fn state_error_cause(state: &str, entered_id: u64, cause: &str) -> String {
    format!("An error occurred while executing the state '{state}' (entered at the event id #{entered_id}). {cause}")
}

/// `ErrorEquals` matching for Retry: `States.ALL` matches everything but
/// `States.Runtime` and `States.DataLimitExceeded` (handled by the caller).
pub(super) fn error_matches(list: &[String], error: &str) -> bool {
    list.iter().any(|e| {
        e == error
            || e == names::ALL
            || (e == names::TASK_FAILED && is_task_failure(error))
            || is_heartbeat_timeout(e, error)
    })
}

/// A missed heartbeat fails with `States.Timeout`; `States.HeartbeatTimeout` in
/// ErrorEquals matches it (and, since the history cannot tell them apart, any timeout).
pub(super) fn is_heartbeat_timeout(listed: &str, error: &str) -> bool {
    listed == names::HEARTBEAT_TIMEOUT && error == names::TIMEOUT
}

/// Catch: `States.ALL` does not catch `States.Runtime` nor `States.DataLimitExceeded`.
pub(super) fn catch_matches(list: &[String], error: &str) -> bool {
    list.iter().any(|e| {
        e == error
            || (e == names::ALL && error != names::RUNTIME && error != names::DATA_LIMIT_EXCEEDED)
            || (e == names::TASK_FAILED && is_task_failure(error))
            || is_heartbeat_timeout(e, error)
    })
}

pub(super) fn is_task_failure(error: &str) -> bool {
    !error.starts_with("States.") || error == names::TASK_FAILED
}

impl Execution {
    pub(super) fn handle_failure(
        &mut self,
        fid: FrameId,
        states: &States,
        mut a: Box<Active>,
        f: Failure,
        src: &mut dyn Sources,
    ) -> Flow {
        let st = states.get(a.state);
        let mut err = f.err;
        if f.prefixed {
            err.cause = state_error_cause(&st.name, a.entered_id, &err.cause);
        }
        if err.error == names::QUERY_EVALUATION_ERROR || f.location.is_some() {
            let prev = if matches!(st.kind, StateKind::Wait(_)) {
                self.frame(fid).last
            } else {
                a.entered_prev
            };
            let id = self.emit_with_prev(
                fid,
                prev,
                EventType::EvaluationFailed,
                Details::EvaluationFailed(Box::new(EvaluationFailedDetails {
                    error: err.error.clone(),
                    cause: err.cause.clone(),
                    location: f.location.clone(),
                    state: st.name.to_string(),
                })),
            );
            self.frame(fid).last = id;
        }
        let slot = {
            let sink = self.frame(fid).sink;
            self.inspection_slot_entered(fid, sink, a.entered_id)
        };
        record(&mut self.inspector, slot, |r| r.error = Some(err.clone()));
        // Retry.
        let retriable = err.error != names::RUNTIME && err.error != names::DATA_LIMIT_EXCEEDED;
        for (i, r) in st.retry.iter().enumerate() {
            if !error_matches(&r.error_equals, &err.error) {
                continue;
            }
            if !retriable && !r.error_equals.contains(&err.error) {
                continue;
            }
            record(&mut self.inspector, slot, |r| {
                let d = r.data.error_details.get_or_insert_with(Default::default);
                d.retry_index = u32::try_from(i).ok();
            });
            let attempt = a.retries.get(i).copied().unwrap_or(0);
            if (attempt as u64) < r.max_attempts {
                if let Some(c) = a.retries.get_mut(i) {
                    *c += 1;
                }
                let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(attempt as i32);
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max as f64);
                }
                if r.jitter_strategy == JitterStrategy::Full {
                    delay *= src.random();
                }
                record(&mut self.inspector, slot, |r| {
                    let d = r.data.error_details.get_or_insert_with(Default::default);
                    d.retry_backoff_interval_seconds = Some(delay as u64);
                });
                let due = self.now + (delay * 1000.0) as i64;
                let timer = self.arm_timer(due);
                self.timers.insert(timer, fid);
                a.wait = Blocked::RetryTimer { timer };
                self.frame(fid).stage = Stage::Active(a);
                return Flow::Blocked;
            }
            break;
        }
        // The state failed for good.
        let failed_event = match st.kind {
            StateKind::Map(_) => Some(EventType::MapStateFailed),
            StateKind::Parallel(_) => Some(EventType::ParallelStateFailed),
            _ => None,
        };
        // A runtime error in the state's own fields fails the execution without a
        // `…StateFailed` event (as AWS records it).
        if let Some(t) = failed_event.filter(|_| err.error != names::RUNTIME) {
            self.emit(fid, t, Details::None);
        }
        if let Some((index, c)) = st
            .catch
            .iter()
            .enumerate()
            .find(|(_, c)| catch_matches(&c.error_equals, &err.error))
        {
            record(&mut self.inspector, slot, |r| {
                let d = r.data.error_details.get_or_insert_with(Default::default);
                d.catch_index = u32::try_from(index).ok();
            });
            let input = std::mem::replace(&mut a.input, Arc::new(Value::Null));
            // Kept for a redrive should the catcher itself fail.
            let point = Point::new(a.state, Arc::clone(&input), None);
            let entered_id = a.entered_id;
            self.frame(fid).stage = Stage::Active(a);
            let ctx = self.context_for(fid, st);
            return match self.caught(fid, st, c, input, &err, &ctx, src) {
                Ok(out) => Flow::Next(c.next, out),
                Err(f2) => {
                    let mut e2 = f2.err;
                    if f2.prefixed {
                        e2.cause = state_error_cause(&st.name, entered_id, &e2.cause);
                    }
                    self.finish_frame(fid, Err((e2, Some(point))), src);
                    Flow::Done
                }
            };
        }
        let point = Point::new(a.state, std::mem::take(&mut a.input), f.fan);
        self.finish_frame(fid, Err((err, Some(point))), src);
        Flow::Done
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn caught(
        &mut self,
        fid: FrameId,
        st: &State,
        c: &Catcher,
        input: Arc<Value>,
        err: &StatesError,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        let eo = error_output(err);
        let (out, assigned) = match st.query_language {
            QueryLanguage::JsonPath => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let assigned = match &c.assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &eo, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                let out = dataflow::result_path(&c.result_path, input, Arc::new(eo))
                    .map_err(Failure::eval)?;
                (out, assigned)
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = Self::states_value(&input, ctx, &[("errorOutput", &eo)]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let assigned = match &c.assign {
                    Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
                    _ => None,
                };
                let out = match &c.output {
                    Some(t) => Arc::new(t.eval("Output", &scope, src)?),
                    None => Arc::new(eo),
                };
                (out, assigned)
            }
        };
        self.finish_state(fid, st, out, assigned, None)
    }
}

#[cfg(test)]
#[path = "../tests/retry_catch.rs"]
mod tests;
