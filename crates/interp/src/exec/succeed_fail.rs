//! Succeed, and Fail: `Error`/`ErrorPath`, `Cause`/`CausePath` (JSONata `Error`/`Cause`).

use super::*;

impl Execution {
    /// Succeed (and the shape Wait uses after its timer): InputPath → OutputPath.
    pub(super) fn run_passthrough(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let out = self.passthrough_output(fid, st, input, ctx, src)?;
        Ok(Self::transition(st, out))
    }

    pub(super) fn passthrough_output(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        match st.query_language {
            QueryLanguage::JsonPath => {
                let eff = self.input_path(fid, &st.io, input, ctx)?;
                self.complete(fid, st, Arc::new(Value::Null), eff, ctx, false, None, src)
            }
            QueryLanguage::Jsonata => {
                let r = Arc::clone(&input);
                self.complete(fid, st, input, r, ctx, false, None, src)
            }
        }
    }

    pub(super) fn run_fail(
        &mut self,
        fid: FrameId,
        _st: &State,
        f: &stepwise_asl::Fail,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Flow {
        let res = (|| -> Result<(Option<String>, Option<String>), Failure> {
            let vars = self.vars(fid);
            let env = Env {
                context: ctx,
                vars: &vars,
            };
            let states = Self::states_value(&input, ctx, &[]);
            let jscope = JsonataScope {
                states: &states,
                vars: &vars,
            };
            let mut field = |d: &Option<Dyn<String>>,
                             name: &str,
                             path_name: &str|
             -> Result<Option<String>, Failure> {
                Ok(match d {
                    None => None,
                    Some(Dyn::Literal(s)) => Some(s.clone()),
                    Some(Dyn::Path(p)) => match p.select(&env.scope(&input)) {
                        Some(Value::String(s)) => Some(s),
                        Some(other) => Some(other.to_string()),
                        None => {
                            return Err(Failure::eval(StatesError::runtime(format!(
                                "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                                p.as_str(),
                                path_name,
                                input
                            ))))
                        }
                    },
                    Some(Dyn::Intrinsic(i)) => match i.eval(&env.scope(&input), src).map_err(Failure::eval)? {
                        Value::String(s) => Some(s),
                        other => Some(other.to_string()),
                    },
                    Some(Dyn::Jsonata(e)) => match e.eval_required(name, &jscope, src).map_err(|e| Failure::at(e, name))? {
                        Value::String(s) => Some(s),
                        other => Some(other.to_string()),
                    },
                })
            };
            let error = field(&f.error, "Error", "ErrorPath")?;
            let cause = field(&f.cause, "Cause", "CausePath")?;
            Ok((error, cause))
        })();
        match res {
            Ok((error, cause)) => {
                // A redrive enters the Fail state again (and fails again).
                let point = match &self.frame(fid).stage {
                    Stage::Active(a) => Some(Point::new(a.state, Arc::clone(&a.input), None)),
                    _ => None,
                };
                let err = StatesError::new(error.unwrap_or_default(), cause.unwrap_or_default());
                self.finish_frame(fid, Err((err, point)), src);
                Flow::Done
            }
            Err(f) => Flow::Failed(f),
        }
    }
}
