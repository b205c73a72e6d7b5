//! One state run alone, as AWS's TestState runs it: the same code as an execution, with
//! the Context object and variables given, a Task's result (or error) given instead of
//! dispatched, a Parallel's or Map's children replaced by their given result, Wait
//! states not waited for, and no next state entered. A Retrier that would retry stops
//! the run (TestState's `RETRIABLE`); the inspector records the rest.

use super::*;

/// What TestState sets for the state it runs.
#[derive(Debug, Default)]
pub(crate) struct SingleState {
    /// The whole Context object (`$$`); a Task's token or a Map item is added to it.
    pub context: Value,
    /// Retries the matching Retrier already made (`stateConfiguration.retrierRetryCount`).
    pub retry_count: u32,
    /// A Parallel's or Map's children, all at once: their result (for a Map with a
    /// ResultWriter, the writer's) or their error.
    pub children: Option<Result<Value, StatesError>>,
    /// Map iterations taken to have failed (`stateConfiguration.mapIterationFailureCount`).
    pub map_failures: Option<u32>,
}

/// Where to find the state and what it starts with.
pub(crate) struct Alone {
    pub machine: Arc<Machine>,
    pub info: ExecutionInfo,
    /// The `States` holding the state: (state index, branch index) pairs from the top.
    pub path: Vec<(u32, u32)>,
    pub state: usize,
    pub input: Value,
    pub vars: Map<String, Value>,
    pub single: SingleState,
    /// A Task's result or error.
    pub task: Option<Result<Value, StatesError>>,
}

/// Makes a Task's call for real when TestState is given no mock (as AWS's TestState
/// calls HTTP endpoints and functions). The edge supplies it: the core stays pure.
pub trait TaskCaller {
    /// Whether it can call `resource`.
    fn calls(&self, resource: &str) -> bool;
    /// The call's result or error.
    fn call(&mut self, req: &TaskRequest) -> Result<Value, StatesError>;
    /// What the call sent and received, for `inspectionData.request` and `.response`.
    fn exchange(&self) -> (Option<Value>, Option<Value>) {
        (None, None)
    }
}

/// How the state ended.
#[derive(Debug)]
pub(crate) enum AloneOutcome {
    /// It went on to the state at this index (of its `States`) with this output.
    Next(usize, Value),
    End(Value),
    /// A Retrier would run it again after its backoff.
    Retrying,
    Failed {
        error: String,
        cause: String,
    },
}

impl Execution {
    /// Run one state alone. The inspection holds everything the state computed, and the
    /// error Retry and Catch saw.
    pub(crate) fn run_alone(
        alone: Alone,
        sources: &mut dyn Sources,
        mut caller: Option<&mut dyn TaskCaller>,
    ) -> (AloneOutcome, StateInspection, Map<String, Value>) {
        let input = Arc::new(alone.input);
        let mut ex = Execution::begin(
            alone.machine,
            Arc::new(alone.info),
            Arc::clone(&input),
            sources,
        );
        ex.single = Some(Box::new(alone.single));
        ex.set_inspection(true);
        let root = ex.alloc(Frame {
            parent: None,
            path: Arc::from(alone.path),
            vars: alone.vars,
            last: 0,
            sink: None,
            stage: Stage::Ready {
                state: alone.state,
                input,
            },
        });
        ex.runnable.push_back(root);
        ex.run(sources);
        let mut task = alone.task;
        let outcome = loop {
            if ex.status != Status::Running {
                break ex.alone_end();
            }
            let blocked = match ex
                .frames
                .get(root)
                .and_then(Option::as_ref)
                .map(|f| &f.stage)
            {
                Some(Stage::Ready { state, input }) => {
                    break AloneOutcome::Next(*state, Value::clone(input))
                }
                Some(Stage::Active(a)) => match &a.wait {
                    Blocked::Task(tw) => Some((tw.task, None)),
                    Blocked::WaitTimer { timer, .. } => Some((0, Some(*timer))),
                    Blocked::RetryTimer { .. } => break AloneOutcome::Retrying,
                    Blocked::Fanout(_) | Blocked::Nothing => None,
                },
                _ => None,
            };
            // No result given: the caller makes the call the state dispatched.
            if let (Some((id, None)), None, Some(c)) = (&blocked, &task, caller.as_mut()) {
                let req = ex.out.commands.iter().find_map(|cmd| match cmd {
                    Command::DispatchTask(r) if r.task == *id => Some(r.clone()),
                    _ => None,
                });
                if let Some(req) = req {
                    task = Some(c.call(&req));
                }
            }
            match (blocked, task.take()) {
                // The Wait's output is already computed: end it now.
                (Some((_, Some(timer))), t) => {
                    task = t;
                    ex.timer_fired(timer, sources);
                }
                (Some((id, None)), Some(result)) => ex.task_result(id, result, sources),
                // Nothing given for what the state waits on (TestState asks for a mock).
                _ => {
                    break AloneOutcome::Failed {
                        error: names::RUNTIME.into(),
                        cause: "The state waits for a result that was not given".into(),
                    }
                }
            }
            ex.run(sources);
        };
        let inspection = ex.take_inspections().into_iter().next().unwrap_or_default();
        let vars = match ex.frames.get_mut(root).and_then(Option::as_mut) {
            Some(f) => std::mem::take(&mut f.vars),
            None => Map::new(),
        };
        (outcome, inspection, vars)
    }

    fn alone_end(&mut self) -> AloneOutcome {
        match self.status {
            Status::Succeeded => {
                AloneOutcome::End(self.output.as_deref().cloned().unwrap_or(Value::Null))
            }
            _ => AloneOutcome::Failed {
                error: self.error.clone().unwrap_or_default(),
                cause: self.cause.clone().unwrap_or_default(),
            },
        }
    }

    /// The Context object of a state run alone (`None` in an execution).
    pub(super) fn single_context(&self, extra: Option<(&str, Value)>) -> Option<Value> {
        let single = self.single.as_deref()?;
        let mut c = single.context.clone();
        if let (Value::Object(m), Some((k, v))) = (&mut c, extra) {
            m.entry(k).or_insert(v);
        }
        Some(c)
    }

    /// A Parallel's or Map's children given at once: the Map's failed iterations count
    /// against its tolerance (only where the state sets one, as TestState does), then the
    /// result goes through the state's result processing.
    pub(super) fn given_children(
        &mut self,
        fid: FrameId,
        st: &State,
        fan: &Fanout,
        given: Result<Value, StatesError>,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let result = given.map_err(Failure::plain)?;
        if fan.kind != FanKind::Parallel {
            let failed = u64::from(
                self.single
                    .as_deref()
                    .and_then(|s| s.map_failures)
                    .unwrap_or(0),
            );
            let iterations = result.as_array().map_or(fan.total, Vec::len) as u64;
            let over_count = fan.tolerated_count.is_some_and(|n| failed > n);
            let over_pct = fan
                .tolerated_pct
                .is_some_and(|p| iterations > 0 && failed as f64 * 100.0 / iterations as f64 > p);
            if over_count || over_pct {
                return Err(Failure::plain(StatesError::new(
                    names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                    "The specified tolerated failure threshold was exceeded",
                )));
            }
        }
        let input = match &self.frame(fid).stage {
            Stage::Active(a) => Arc::clone(&a.input),
            _ => Arc::new(Value::Null),
        };
        self.inspect(fid, |r| r.data.result = Some(result.clone()));
        let ctx = self.context_for(fid, st);
        let out = self.complete(fid, st, input, Arc::new(result), &ctx, true, None, src)?;
        Ok(Self::transition(st, out))
    }

    /// TestState's words for a JSONPath Map whose items are not an array (an execution
    /// says "Map state input must be an array"); AWS shows a `$$…` path with one `$`.
    pub(super) fn alone_items_not_array(items_path: Option<&str>) -> Failure {
        let path = items_path.unwrap_or("$");
        let shown = path
            .strip_prefix('$')
            .filter(|p| p.starts_with('$'))
            .unwrap_or(path);
        Failure::plain(StatesError::runtime(format!(
            "Reference path \"{shown}\" must point to array."
        )))
    }
}
