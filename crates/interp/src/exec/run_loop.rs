//! The run loop: starting an execution, applying an event, running frames until each is
//! blocked, entering states (`StartAt`, `Next`, `End`), and ending frames and the
//! execution (machine `TimeoutSeconds` ends it through a timer, see `timers`).

use super::*;

impl Execution {
    /// Start an execution. The returned [`Step`] holds `ExecutionStarted` and everything
    /// that ran before the first block. `info` may be shared (`Arc`) by callers that
    /// start many executions with the same identity, such as the benchmark.
    pub fn start(
        machine: Arc<Machine>,
        info: impl Into<Arc<ExecutionInfo>>,
        input: Value,
        sources: &mut dyn Sources,
    ) -> (Execution, Step) {
        Execution::start_with(machine, info.into(), input, false, sources)
    }

    /// [`Execution::start`] with the data flow of every state recorded from the first one
    /// on (see [`Execution::take_inspections`]).
    pub fn start_inspected(
        machine: Arc<Machine>,
        info: impl Into<Arc<ExecutionInfo>>,
        input: Value,
        sources: &mut dyn Sources,
    ) -> (Execution, Step) {
        Execution::start_with(machine, info.into(), input, true, sources)
    }

    fn start_with(
        machine: Arc<Machine>,
        info: Arc<ExecutionInfo>,
        input: Value,
        inspect: bool,
        sources: &mut dyn Sources,
    ) -> (Execution, Step) {
        let input = Arc::new(input);
        let mut ex = Execution::begin(machine, info, Arc::clone(&input), sources);
        ex.set_inspection(inspect);
        let start = ex.machine.definition.states.start_at;
        let root = ex.alloc(Frame {
            parent: None,
            path: Arc::from(Vec::new()),
            vars: Map::new(),
            last: 0,
            sink: None,
            stage: Stage::Ready {
                state: start,
                input,
            },
        });
        ex.runnable.push_back(root);
        ex.run(sources);
        let step = std::mem::take(&mut ex.out);
        (ex, step)
    }

    /// A new execution with its `ExecutionStarted` event and its time limit, no frame yet.
    pub(super) fn begin(
        machine: Arc<Machine>,
        info: Arc<ExecutionInfo>,
        input: Arc<Value>,
        sources: &mut dyn Sources,
    ) -> Execution {
        let now = sources.now_millis();
        let mut ex = Execution {
            machine,
            info,
            input: Arc::clone(&input),
            start_millis: now,
            status: Status::Running,
            output: None,
            error: None,
            cause: None,
            frames: Vec::new(),
            free: Vec::new(),
            runnable: VecDeque::new(),
            next_event_id: 1,
            next_timer: 1,
            next_task: 1,
            timers: HashMap::new(),
            tasks: HashMap::new(),
            execution_timer: None,
            invocations: HashMap::new(),
            map_runs: 0,
            transitions: 0,
            recorded_entered: 0,
            redrive_point: None,
            runs: Vec::new(),
            children: BTreeMap::new(),
            next_child: 0,
            unsuccessful: BTreeMap::new(),
            out: Step {
                events: Vec::with_capacity(16),
                ..Step::default()
            },
            step_from: 0,
            now,
            single: None,
            inspector: None,
        };
        let role_arn = ex.info.role_arn.clone();
        ex.push_event(
            0,
            EventType::ExecutionStarted,
            Details::ExecutionStarted { input, role_arn },
        );
        let timeout = ex.machine.definition.timeout_seconds;
        // An EXPRESS execution lasts five minutes at most, whatever TimeoutSeconds says.
        let timeout = if ex.info.express {
            Some(timeout.map_or(EXPRESS_MAX_SECONDS, |t| t.min(EXPRESS_MAX_SECONDS)))
        } else {
            timeout
        };
        if let Some(t) = timeout {
            let timer = ex.arm_timer(now + (t as i64) * 1000);
            ex.execution_timer = Some(timer);
        }
        ex
    }

    /// Apply one event and run until every frame is blocked again.
    pub fn handle(&mut self, event: Event, sources: &mut dyn Sources) -> Step {
        if self.status != Status::Running {
            return Step::default();
        }
        self.now = sources.now_millis();
        match event {
            Event::Continue => {}
            Event::TimerFired { timer } => self.timer_fired(timer, sources),
            Event::TaskStarted { task, worker_name } => {
                if let Some(&fid) = self.tasks.get(&task) {
                    self.emit(
                        fid,
                        EventType::ActivityStarted,
                        Details::ActivityStarted { worker_name },
                    );
                }
            }
            Event::TaskSucceeded { task, output } => self.task_result(task, Ok(output), sources),
            Event::TaskFailed { task, error, cause } => {
                self.task_result(task, Err(StatesError::from_task(error, cause)), sources)
            }
            Event::TaskHeartbeat { task } => self.task_heartbeat(task),
            Event::TaskSubmitted { task, output } => self.task_submitted(task, output),
            Event::Stop { error, cause } => self.stop(error, cause),
            Event::Terminate { error, cause } => {
                self.finish_execution(Status::Failed, None, Some(error), Some(cause))
            }
        }
        self.run(sources);
        std::mem::take(&mut self.out)
    }

    pub(super) fn alloc(&mut self, f: Frame) -> FrameId {
        if let Some(id) = self.free.pop() {
            self.frames[id] = Some(f);
            id
        } else {
            self.frames.push(Some(f));
            self.frames.len() - 1
        }
    }

    pub(super) fn frame(&mut self, id: FrameId) -> &mut Frame {
        match self.frames.get_mut(id).and_then(|f| f.as_mut()) {
            Some(f) => f,
            None => unreachable_frame(id),
        }
    }

    pub(super) fn push_event(&mut self, prev: u64, event_type: EventType, details: Details) -> u64 {
        let id = self.next_event_id;
        self.next_event_id += 1;
        self.out.events.push(HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp_millis: self.now,
            event_type,
            details,
        });
        id
    }

    /// Append an event to the history of `sink`: the execution's own (`None`) or a
    /// Distributed Map child's. Returns its id (`prev` if the child already ended).
    pub(super) fn push_in(
        &mut self,
        sink: Option<u32>,
        prev: u64,
        t: EventType,
        d: Details,
    ) -> u64 {
        let Some(c) = sink else {
            return self.push_event(prev, t, d);
        };
        let Some(child) = self.children.get_mut(&c) else {
            return prev;
        };
        child.history_len += 1;
        let id = child.history_len;
        self.out.child_events.push((
            Arc::clone(&child.arn),
            HistoryEvent {
                id,
                previous_event_id: prev,
                timestamp_millis: self.now,
                event_type: t,
                details: d,
            },
        ));
        id
    }

    /// Emit in frame `fid`, chaining from its last event.
    pub(super) fn emit(&mut self, fid: FrameId, t: EventType, d: Details) -> u64 {
        let f = self.frame(fid);
        let (sink, prev) = (f.sink, f.last);
        let id = self.push_in(sink, prev, t, d);
        self.frame(fid).last = id;
        id
    }

    /// Emit with an explicit previous event id, leaving the frame's chain alone.
    pub(super) fn emit_with_prev(
        &mut self,
        fid: FrameId,
        prev: u64,
        t: EventType,
        d: Details,
    ) -> u64 {
        let sink = self.frame(fid).sink;
        self.push_in(sink, prev, t, d)
    }

    /// True when entering another state could take the history past AWS's limit
    /// (a state adds at most two events before the next check; one more ends it).
    pub(super) fn history_full(&self) -> bool {
        !self.info.express && self.next_event_id + 3 > MAX_HISTORY_EVENTS
    }

    /// The current step entered [`MAX_TRANSITIONS_PER_STEP`] states, or (once it made
    /// progress) used up its time: it yields. The time is asked every eighth state.
    #[inline]
    pub(super) fn step_spent(&self, src: &mut dyn Sources) -> bool {
        let entered = self.transitions - self.step_from;
        entered >= MAX_TRANSITIONS_PER_STEP
            || (entered > 0 && entered.is_multiple_of(8) && src.out_of_time())
    }

    pub(super) fn run(&mut self, src: &mut dyn Sources) {
        self.step_from = self.transitions;
        while let Some(fid) = self.runnable.pop_front() {
            if self.status != Status::Running {
                self.runnable.clear();
                break;
            }
            if self.step_spent(src) && !self.history_full() {
                // Yield: the frame goes on in the next step, where it was.
                self.runnable.push_front(fid);
                self.out.commands.push(Command::Continue);
                return;
            }
            self.run_frame(fid, src);
        }
        // AWS stops a Standard execution whose history outgrows its limit; this also
        // ends runaway loops of Pass and Choice states.
        if self.status == Status::Running && self.history_full() {
            self.finish_execution(
                Status::Failed,
                None,
                Some(names::RUNTIME.into()),
                Some(redrive::history_limit_cause()),
            );
        }
    }

    pub(super) fn run_frame(&mut self, fid: FrameId, src: &mut dyn Sources) {
        let machine = Arc::clone(&self.machine);
        loop {
            if self.status != Status::Running || self.history_full() {
                return;
            }
            if matches!(self.frame(fid).stage, Stage::Ready { .. }) && self.step_spent(src) {
                // Back in the queue at its place; `run` yields before running it.
                self.runnable.push_front(fid);
                return;
            }
            if let Some(c) = self.frame(fid).sink {
                if self.child_history_full(c) {
                    self.fail_child_at_history_limit(c, src);
                    return;
                }
            }
            let (path, stage) = {
                let f = self.frame(fid);
                (
                    Arc::clone(&f.path),
                    std::mem::replace(&mut f.stage, Stage::Finished),
                )
            };
            let states = states_at(&machine.definition, &path);
            let flow = match stage {
                Stage::Ready { state, input } => {
                    let st = states.get(state);
                    self.enter_state(fid, st, state, input, src)
                }
                // Active frames are resumed through events, never by being runnable.
                Stage::Active(a) => {
                    self.frame(fid).stage = Stage::Active(a);
                    return;
                }
                Stage::Finished => return,
            };
            if !self.after_flow(fid, states, flow, src) {
                return;
            }
        }
    }

    /// Act on a state's outcome; true when the frame should keep running.
    pub(super) fn after_flow(
        &mut self,
        fid: FrameId,
        states: &States,
        flow: Flow,
        src: &mut dyn Sources,
    ) -> bool {
        match flow {
            Flow::Next(next, output) => {
                self.frame(fid).stage = Stage::Ready {
                    state: next,
                    input: output,
                };
                // A state run alone (TestState) stops before its next state.
                self.single.is_none()
            }
            Flow::End(output) => {
                self.finish_frame(fid, Ok(output), src);
                false
            }
            Flow::Blocked | Flow::Done => false,
            Flow::Failed(failure) => {
                let a = match std::mem::replace(&mut self.frame(fid).stage, Stage::Finished) {
                    // Failed because its evaluation was cut short for a stop: the state
                    // stays as it was entered, and the stop that follows ends it.
                    Stage::Active(a) if src.interrupted() => {
                        self.frame(fid).stage = Stage::Active(a);
                        return false;
                    }
                    Stage::Active(a) => a,
                    _ => {
                        self.finish_frame(fid, Err((failure.err, None)), src);
                        return false;
                    }
                };
                let flow = self.handle_failure(fid, states, a, failure, src);
                self.after_flow(fid, states, flow, src)
            }
        }
    }

    /// Take frame `fid`'s state out while it is worked on (the stage is `Finished`
    /// meanwhile); `None`, with nothing changed, when the frame is not in a state.
    pub(super) fn take_active(&mut self, fid: FrameId) -> Option<Box<Active>> {
        match std::mem::replace(&mut self.frame(fid).stage, Stage::Finished) {
            Stage::Active(a) => Some(a),
            other => {
                self.frame(fid).stage = other;
                None
            }
        }
    }

    /// Count a state entered in frame `fid` and emit its `…StateEntered` event; returns
    /// the frame's previous event and the new event's id.
    pub(super) fn record_entered(
        &mut self,
        fid: FrameId,
        st: &State,
        input: &Arc<Value>,
    ) -> (u64, u64) {
        self.transitions += 1;
        if self.frame(fid).sink.is_none() {
            self.recorded_entered += 1;
        }
        let entered_prev = self.frame(fid).last;
        let entered_id = self.emit(
            fid,
            EventType::entered(st.kind.type_name()),
            Details::StateEntered {
                name: st.name.clone(),
                input: Arc::clone(input),
            },
        );
        (entered_prev, entered_id)
    }

    pub(super) fn enter_state(
        &mut self,
        fid: FrameId,
        st: &State,
        idx: usize,
        input: Arc<Value>,
        src: &mut dyn Sources,
    ) -> Flow {
        let (entered_prev, entered_id) = self.record_entered(fid, st, &input);
        let retried = self.single.as_deref().map_or(0, |s| s.retry_count);
        let recorded = self.inspector.is_some().then(|| Value::clone(&input));
        let a = Box::new(Active {
            state: idx,
            input,
            entered_id,
            entered_prev,
            entered_millis: self.now,
            retries: vec![retried; st.retry.len()],
            wait: Blocked::Nothing,
        });
        self.frame(fid).stage = Stage::Active(a);
        if let Some(v) = recorded {
            self.inspect(fid, |r| r.data.input = Some(v));
        }
        self.execute(fid, st, src)
    }

    /// Run (or re-run, after a retry) the body of the current state.
    pub(super) fn execute(&mut self, fid: FrameId, st: &State, src: &mut dyn Sources) -> Flow {
        // Task, Parallel and Map need their raw input again (Retry re-runs them; Catch
        // merges into it); Wait and Fail keep it for a redrive. The others give up their
        // share while they run and take it back only if they fail.
        let keeps_input = matches!(
            st.kind,
            StateKind::Task(_)
                | StateKind::Parallel(_)
                | StateKind::Map(_)
                | StateKind::Wait(_)
                | StateKind::Fail(_)
        );
        let input = match &mut self.frame(fid).stage {
            Stage::Active(a) if keeps_input => Arc::clone(&a.input),
            Stage::Active(a) => std::mem::replace(&mut a.input, Arc::new(Value::Null)),
            _ => return Flow::Done,
        };
        // Shared with the StateEntered event anyway, so this costs nothing.
        let kept = (!keeps_input).then(|| Arc::clone(&input));
        let ctx = self.context_for(fid, st);
        let result = match &st.kind {
            StateKind::Pass(p) => self.run_pass(fid, st, p.result.as_ref(), input, &ctx, src),
            StateKind::Succeed => self.run_passthrough(fid, st, input, &ctx, src),
            StateKind::Choice(c) => self.run_choice(fid, st, c, input, &ctx, src),
            StateKind::Wait(w) => self.run_wait(fid, st, w, input, &ctx, src),
            StateKind::Fail(f) => return self.run_fail(fid, st, f, input, &ctx, src),
            StateKind::Task(t) => self.run_task(fid, st, t, input, &ctx, src),
            StateKind::Parallel(p) => self.run_parallel(fid, st, p, input, &ctx, src),
            StateKind::Map(m) => self.run_map(fid, st, m, input, &ctx, src),
        };
        match result {
            Ok(flow) => flow,
            Err(f) => {
                if let (Some(input), Stage::Active(a)) = (kept, &mut self.frame(fid).stage) {
                    a.input = input;
                }
                Flow::Failed(f)
            }
        }
    }

    /// A frame ended: the root ends the execution; a child reports to its parent.
    pub(super) fn finish_frame(&mut self, fid: FrameId, result: Outcome, src: &mut dyn Sources) {
        let (parent, last) = {
            let f = self.frame(fid);
            f.stage = Stage::Finished;
            (f.parent, f.last)
        };
        // A failed frame's point carries its variables (the frame itself goes away).
        let result = result.map_err(|(e, point)| {
            let point = point.map(|mut p| {
                p.vars = std::mem::take(&mut self.frame(fid).vars);
                p
            });
            (e, point)
        });
        match parent {
            None => match result {
                Ok(out) => self.finish_execution(Status::Succeeded, Some(out), None, None),
                Err((e, point)) => {
                    self.redrive_point = point.map(Box::new);
                    let end = End::failure(e);
                    self.finish_execution(Status::Failed, None, end.error, end.cause)
                }
            },
            Some((pid, index)) => {
                if let Some(c) = self.child_root(fid) {
                    let end = match &result {
                        Ok(out) => End {
                            output: Some(Arc::clone(out)),
                            ..End::default()
                        },
                        Err((e, _)) => End::failure(e.clone()),
                    };
                    let status = if result.is_ok() {
                        Status::Succeeded
                    } else {
                        Status::Failed
                    };
                    self.close_child(c, last, status, end);
                }
                self.frames[fid] = None;
                self.free.push(fid);
                self.child_done(pid, index, last, result, src);
            }
        }
    }

    pub(super) fn finish_execution(
        &mut self,
        status: Status,
        output: Option<Arc<Value>>,
        error: Option<String>,
        cause: Option<String>,
    ) {
        let prev = self
            .frames
            .first()
            .and_then(|f| f.as_ref())
            .map(|f| f.last)
            .unwrap_or(0);
        self.finish_execution_after(prev, status, output, error, cause);
    }

    /// [`Self::finish_execution`] with the end event pointing at `prev`.
    pub(super) fn finish_execution_after(
        &mut self,
        prev: u64,
        status: Status,
        output: Option<Arc<Value>>,
        error: Option<String>,
        cause: Option<String>,
    ) {
        if self.status != Status::Running {
            return;
        }
        let end = End {
            output,
            error,
            cause,
        };
        let (t, d) = end.event(status);
        self.push_event(prev, t, d);
        self.status = status;
        if status == Status::Succeeded {
            // Nothing is redriven after a success.
            self.unsuccessful.clear();
        }
        self.output = end.output;
        self.error = end.error;
        self.cause = end.cause;
        // Distributed Map children still running end with it.
        let open: Vec<(u32, u64)> = (0..self.frames.len())
            .filter_map(|f| Some((self.child_root(f)?, self.frames[f].as_ref()?.last)))
            .collect();
        for (c, last) in open {
            self.close_child(c, last, Status::Aborted, End::default());
        }
        // Everything still pending is dropped.
        let timers: Vec<u64> = self.timers.keys().copied().collect();
        for t in timers {
            self.out.commands.push(Command::CancelTimer { timer: t });
        }
        self.timers.clear();
        if let Some(t) = self.execution_timer.take() {
            if status != Status::TimedOut {
                self.out.commands.push(Command::CancelTimer { timer: t });
            }
        }
        let tasks: Vec<u64> = self.tasks.keys().copied().collect();
        for t in tasks {
            self.out.commands.push(Command::CancelTask { task: t });
        }
        self.tasks.clear();
        self.runnable.clear();
        for i in 0..self.runs.len() {
            self.abort_run(Some(i));
        }
    }

    /// StopExecution: AWS's `ExecutionAborted` follows no event (`previousEventId` 0).
    pub(super) fn stop(&mut self, error: Option<String>, cause: Option<String>) {
        self.finish_execution_after(0, Status::Aborted, None, error, cause);
    }
}
