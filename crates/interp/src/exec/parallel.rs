//! Parallel: `Branches`, each run as a child frame on the state's effective input
//! (`InputPath` and `Parameters`, or JSONata `Arguments`); the results are an array in
//! branch order, then `ResultSelector`, `ResultPath`, `OutputPath` / `Output` and `Assign`.

use super::*;

impl Execution {
    pub(super) fn run_parallel(
        &mut self,
        fid: FrameId,
        st: &State,
        p: &stepwise_asl::Parallel,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let branch_input = match st.query_language {
            QueryLanguage::JsonPath => self.effective_input(fid, &st.io, &input, ctx, src)?,
            QueryLanguage::Jsonata => {
                let args = self.jsonata_arguments(fid, st, &input, ctx, src)?;
                self.inspect(fid, |r| r.data.after_arguments = Some(Value::clone(&args)));
                args
            }
        };
        self.emit(fid, EventType::ParallelStateStarted, Details::None);
        let n = p.branches.len();
        let fan = Fanout {
            kind: FanKind::Parallel,
            pending: std::iter::repeat_n(branch_input, n).collect(),
            next_index: 0,
            total: n,
            results: vec![None; n],
            running: 0,
            limit: usize::MAX,
            succeeded: 0,
            failed: 0,
            tolerated_count: None,
            tolerated_pct: None,
            children: Vec::new(),
            redo: VecDeque::new(),
            tolerated_points: Vec::new(),
            failed_items: 0,
            run: None,
        };
        self.start_fanout(fid, st, fan, src)
    }
}
