//! Pass: `Result` (JSONPath), then the common data flow.

use super::*;

impl Execution {
    pub(super) fn run_pass(
        &mut self,
        fid: FrameId,
        st: &State,
        result: Option<&Value>,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let out = match st.query_language {
            QueryLanguage::JsonPath => {
                let r = match result {
                    Some(r) => Arc::new(r.clone()),
                    None => self.effective_input(fid, &st.io, &input, ctx, src)?,
                };
                if result.is_some() {
                    // InputPath still has to resolve even when Result replaces it.
                    let vars = self.vars(fid);
                    let env = Env {
                        context: ctx,
                        vars: &vars,
                    };
                    dataflow::filter(&st.io.input_path, Arc::clone(&input), &env)
                        .map_err(Failure::eval)?;
                    self.inspect(fid, |rec| rec.data.result = Some(Value::clone(&r)));
                }
                self.complete(fid, st, input, r, ctx, true, None, src)?
            }
            QueryLanguage::Jsonata => {
                let r = Arc::clone(&input);
                self.complete(fid, st, input, r, ctx, false, None, src)?
            }
        };
        Ok(Self::transition(st, out))
    }
}
