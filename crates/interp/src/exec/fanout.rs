//! Parallel branches and Map iterations as child frames: starting them up to the
//! concurrency limit, collecting their results in order, tolerated failures
//! (`ToleratedFailureCount`, `ToleratedFailurePercentage`), and aborting the others
//! when one fails.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum FanKind {
    Parallel,
    Map,
    MapRun,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Fanout {
    pub(super) kind: FanKind,
    /// Inputs of children not started yet (taken as they start).
    pub(super) pending: VecDeque<Arc<Value>>,
    pub(super) next_index: usize,
    pub(super) total: usize,
    pub(super) results: Vec<Option<Arc<Value>>>,
    pub(super) running: usize,
    pub(super) limit: usize,
    pub(super) succeeded: usize,
    pub(super) failed: usize,
    pub(super) tolerated_count: Option<u64>,
    pub(super) tolerated_pct: Option<f64>,
    /// The Map's effective input (Parallel: the branch input).
    pub(super) children: Vec<FrameId>,
    /// Children a redrive runs again, started (by index) before `pending`.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub(super) redo: VecDeque<(usize, Point)>,
    /// Where tolerated failures stopped (a redrive of the whole Map reruns them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) tolerated_points: Vec<(usize, Point)>,
    /// Items in the failed children (a Map Run's batch counts each of its items).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) failed_items: u64,
    /// Distributed Map: the index of its run in `Execution::runs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) run: Option<usize>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The state a Parallel branch or Map iteration starts at.
pub(super) fn child_start(st: &State, index: usize) -> usize {
    match &st.kind {
        StateKind::Parallel(p) => p.branches.get(index).map_or(0, |b| b.start_at),
        StateKind::Map(m) => m.processor.start_at,
        _ => 0,
    }
}

/// Whether `failed` of `total` is within the fanout's tolerance. A Map Run counts items
/// (AWS: "the total number of failed or timed out items divided by the total number of
/// items"), which with an `ItemBatcher` are every item of each failed batch.
pub(super) fn within_tolerance(fan: &Fanout, failed: u64, total: u64) -> bool {
    let mut ok = false;
    if let Some(c) = fan.tolerated_count {
        ok |= failed <= c;
    }
    if let Some(p) = fan.tolerated_pct {
        if total > 0 {
            ok |= (failed as f64) * 100.0 / (total as f64) <= p;
        }
    }
    ok
}

impl Execution {
    pub(super) fn start_fanout(
        &mut self,
        fid: FrameId,
        st: &State,
        mut fan: Fanout,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        // TestState gives the children's result instead of running them.
        if let Some(given) = self.single.as_mut().and_then(|s| s.children.take()) {
            return self.given_children(fid, st, &fan, given, src);
        }
        if fan.total == 0 {
            return self
                .fanout_succeeded(fid, st, fan, src)
                .map(|out| Self::transition(st, out));
        }
        self.fill(fid, st, &mut fan, src);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::Fanout(Box::new(fan));
        }
        Ok(Flow::Blocked)
    }

    /// Start children up to the concurrency limit: those a redrive runs again first,
    /// then the ones not started yet.
    pub(super) fn fill(
        &mut self,
        fid: FrameId,
        st: &State,
        fan: &mut Fanout,
        src: &mut dyn Sources,
    ) {
        let state_idx = match &self.frame(fid).stage {
            Stage::Active(a) => a.state as u32,
            _ => return,
        };
        let parent_path = Arc::clone(&self.frame(fid).path);
        let parent_sink = self.frame(fid).sink;
        while fan.running < fan.limit {
            // An unlimited Map starts its iterations at once: stop at the history limit
            // (the run loop then fails the execution, or the child execution).
            let full = match parent_sink {
                None => self.history_full(),
                Some(c) => self.child_history_full(c),
            };
            if full && fan.kind != FanKind::MapRun {
                if parent_sink.is_some() {
                    // Run again, the frame meets the child execution's limit check.
                    self.runnable.push_back(fid);
                }
                break;
            }
            let (index, point) = if let Some((index, point)) = fan.redo.pop_front() {
                (index, point)
            } else if let Some(input) = fan.pending.pop_front() {
                let index = fan.next_index;
                fan.next_index += 1;
                (index, Point::new(child_start(st, index), input, None))
            } else {
                break;
            };
            fan.running += 1;
            self.count_run(fan.run, index, |c| {
                c.pending = c.pending.saturating_sub(1);
                c.running += 1;
            });
            let branch = match &st.kind {
                StateKind::Parallel(_) => index as u32,
                _ => 0,
            };
            let mut path: Vec<(u32, u32)> = parent_path.to_vec();
            path.push((state_idx, branch));
            let (sink, last) = match fan.kind {
                FanKind::Map => {
                    // AWS points each MapIterationStarted at the Map's chain without
                    // moving it: MapStateStarted for the iterations started with the
                    // Map, the last event of the iteration that made room for a later
                    // one (test_timeouts.snapshot.json, test_service_lambda_map_timeout:
                    // four iterations, each started after event 3, MapStateStarted).
                    let prev = self.frame(fid).last;
                    let id = self.emit_with_prev(
                        fid,
                        prev,
                        EventType::MapIterationStarted,
                        Details::MapIteration {
                            name: st.name.clone(),
                            index,
                        },
                    );
                    (parent_sink, id)
                }
                FanKind::Parallel => (parent_sink, self.frame(fid).last),
                // A child execution of its own: its first state points at 0, as a root's.
                FanKind::MapRun => self.open_child(fan.run, st, index, &point.input, src),
            };
            let child = self.alloc(Frame {
                parent: Some((fid, index)),
                path: Arc::from(path),
                vars: Map::new(),
                last,
                sink,
                stage: Stage::Finished,
            });
            fan.children.push(child);
            self.resume(child, point, src);
        }
    }

    pub(super) fn child_done(
        &mut self,
        pid: FrameId,
        index: usize,
        child_last: u64,
        result: Outcome,
        src: &mut dyn Sources,
    ) {
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(pid).path);
        let states = states_at(&machine.definition, &path);
        let Some(mut a) = self.take_active(pid) else {
            return;
        };
        let mut fan = match std::mem::replace(&mut a.wait, Blocked::Nothing) {
            Blocked::Fanout(f) => f,
            other => {
                a.wait = other;
                self.frame(pid).stage = Stage::Active(a);
                return;
            }
        };
        let st = states.get(a.state);
        self.frame(pid).stage = Stage::Active(a);
        fan.running = fan.running.saturating_sub(1);
        let is_map = fan.kind == FanKind::Map;
        match result {
            Ok(v) => {
                fan.succeeded += 1;
                self.count_run(fan.run, index, |c| {
                    c.running = c.running.saturating_sub(1);
                    c.succeeded += 1;
                });
                if let Some(slot) = fan.results.get_mut(index) {
                    *slot = Some(v);
                }
                let succ = if is_map {
                    Some(self.emit_with_prev(
                        pid,
                        child_last,
                        EventType::MapIterationSucceeded,
                        Details::MapIteration {
                            name: st.name.clone(),
                            index,
                        },
                    ))
                } else {
                    None
                };
                if fan.succeeded + fan.failed == fan.total {
                    if let Some(id) = succ {
                        self.frame(pid).last = id;
                    } else if fan.kind == FanKind::Parallel {
                        self.frame(pid).last = child_last.max(self.frame(pid).last);
                    }
                    self.fanout_finish(pid, st, *fan, src);
                    return;
                }
                if is_map {
                    self.frame(pid).last = child_last;
                }
            }
            Err((err, point)) => {
                fan.failed += 1;
                fan.failed_items += self.batch_size(fan.run, index);
                self.count_run(fan.run, index, |c| {
                    c.running = c.running.saturating_sub(1);
                    c.failed += 1;
                });
                if is_map {
                    self.emit_with_prev(
                        pid,
                        child_last,
                        EventType::MapIterationFailed,
                        Details::MapIteration {
                            name: st.name.clone(),
                            index,
                        },
                    );
                    self.frame(pid).last = child_last;
                }
                let tolerated = match fan.kind {
                    FanKind::Parallel => false,
                    _ => {
                        let total = fan
                            .run
                            .and_then(|i| self.runs.get(i))
                            .map_or(fan.total as u64, |r| r.items.total);
                        within_tolerance(&fan, fan.failed_items, total)
                    }
                };
                if tolerated {
                    if let Some(slot) = fan.results.get_mut(index) {
                        *slot = Some(Arc::new(error_output(&err)));
                    }
                    if let Some(p) = point {
                        fan.tolerated_points.push((index, p));
                    }
                    if fan.succeeded + fan.failed == fan.total {
                        self.fanout_finish(pid, st, *fan, src);
                        return;
                    }
                } else {
                    let err = if fan.kind == FanKind::MapRun
                        && (fan.tolerated_count.is_some() || fan.tolerated_pct.is_some())
                    {
                        StatesError::new(
                            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        )
                    } else {
                        err
                    };
                    if fan.kind == FanKind::Parallel {
                        // ParallelStateFailed, or the retry's ParallelStateStarted,
                        // follows the event that failed the branch (as a Map's does).
                        self.frame(pid).last = child_last;
                    }
                    if fan.kind != FanKind::MapRun {
                        self.record_aborts(pid, st, &fan, child_last);
                    }
                    // Where every child stopped, before the others are discarded.
                    let fan_point = self.fan_point(pid, st, &fan, point.map(|p| (index, p)));
                    self.abort_children(pid, &fan);
                    if fan.kind == FanKind::MapRun {
                        self.emit(
                            pid,
                            EventType::MapRunFailed,
                            Details::Failure {
                                error: Some(err.error.clone()),
                                cause: Some(err.cause.clone()),
                            },
                        );
                        let now = self.now;
                        if let Some(r) = fan.run.and_then(|i| self.runs.get_mut(i)) {
                            r.status = Status::Failed;
                            r.stop_millis = Some(now);
                        }
                    }
                    let mut failure = Failure::plain(err);
                    failure.fan = Some(Box::new(fan_point));
                    let flow = Flow::Failed(failure);
                    if self.after_flow(pid, states, flow, src) {
                        self.runnable.push_back(pid);
                    }
                    return;
                }
            }
        }
        self.fill(pid, st, &mut fan, src);
        if let Stage::Active(a) = &mut self.frame(pid).stage {
            a.wait = Blocked::Fanout(fan);
        }
    }

    /// The events AWS writes when a Parallel branch or Map iteration fails the state,
    /// all pointing at `failed_at`, the event that failed it: `TaskStateAborted` for the
    /// failing child's Task when the task itself failed, then, child by child in order,
    /// `MapIterationAborted` for each running Map iteration and `TaskStateAborted` for
    /// each Task state still in progress (under nested Parallel and Map states too).
    /// Evidence: test_timeouts.snapshot.json `test_service_lambda_map_timeout` (…,
    /// `MapIterationFailed` 0, `TaskStateAborted`, then `MapIterationAborted` i and
    /// `TaskStateAborted` for i = 1..3, `MapStateFailed`, all after event 20) and
    /// test_callback.snapshot.json `test_sqs_failure_in_wait_for_task_tok_no_error_field
    /// [SQS_PARALLEL_WAIT_FOR_TASK_TOKEN]` (`TaskFailed` 8, `TaskStateAborted` 9 → 8,
    /// `ParallelStateFailed` 10 → 8).
    pub(super) fn record_aborts(&mut self, pid: FrameId, st: &State, fan: &Fanout, failed_at: u64) {
        let by_task = self
            .out
            .events
            .iter()
            .rev()
            .find(|e| e.id == failed_at)
            .is_some_and(|e| is_task_failure_event(e.event_type));
        if by_task {
            self.emit_with_prev(pid, failed_at, EventType::TaskStateAborted, Details::None);
        }
        let name = Arc::clone(&st.name);
        self.abort_events_under(pid, pid, fan.kind, &name, &fan.children, failed_at);
    }

    fn abort_events_under(
        &mut self,
        emitter: FrameId,
        pid: FrameId,
        kind: FanKind,
        name: &Arc<str>,
        children: &[FrameId],
        at: u64,
    ) {
        let machine = Arc::clone(&self.machine);
        for &c in children {
            // Ids are reused: only frames still under this fanout are its children.
            let (index, path, stage_state, inner) = match self.frames.get(c) {
                Some(Some(f)) if f.parent.map(|p| p.0) == Some(pid) => match &f.stage {
                    Stage::Active(a) => {
                        let inner = match &a.wait {
                            Blocked::Fanout(n) if n.kind != FanKind::MapRun => {
                                Some((n.kind, n.children.clone()))
                            }
                            _ => None,
                        };
                        let index = f.parent.map_or(0, |p| p.1);
                        (index, Arc::clone(&f.path), Some(a.state), inner)
                    }
                    Stage::Ready { .. } => {
                        (f.parent.map_or(0, |p| p.1), Arc::clone(&f.path), None, None)
                    }
                    Stage::Finished => continue,
                },
                _ => continue,
            };
            if kind == FanKind::Map {
                self.emit_with_prev(
                    emitter,
                    at,
                    EventType::MapIterationAborted,
                    Details::MapIteration {
                        name: Arc::clone(name),
                        index,
                    },
                );
            }
            let Some(state) = stage_state else { continue };
            let st = states_at(&machine.definition, &path).get(state);
            match (&st.kind, inner) {
                (StateKind::Task(_), _) => {
                    self.emit_with_prev(emitter, at, EventType::TaskStateAborted, Details::None);
                }
                (_, Some((inner_kind, inner_children))) => {
                    let inner_name = Arc::clone(&st.name);
                    self.abort_events_under(
                        emitter,
                        c,
                        inner_kind,
                        &inner_name,
                        &inner_children,
                        at,
                    );
                }
                _ => {}
            }
        }
    }

    /// Discard a fanout's running children and everything under them.
    pub(super) fn abort_children(&mut self, pid: FrameId, fan: &Fanout) {
        for &c in &fan.children {
            // Ids are reused: only frames still under this fanout are its children.
            let child_fan = match self.frames.get_mut(c) {
                Some(Some(f))
                    if f.parent.map(|p| p.0) == Some(pid)
                        && !matches!(f.stage, Stage::Finished) =>
                {
                    match std::mem::replace(&mut f.stage, Stage::Finished) {
                        Stage::Active(a) => match a.wait {
                            Blocked::Fanout(inner) => Some(inner),
                            _ => None,
                        },
                        _ => None,
                    }
                }
                _ => continue,
            };
            if let Some(inner) = child_fan {
                self.abort_children(c, &inner);
                self.abort_run(inner.run);
            }
            if let Some(k) = self.child_root(c) {
                let last = self.frames[c].as_ref().map_or(0, |f| f.last);
                self.close_child(k, last, Status::Aborted, End::default());
            }
            let index = self.frames[c]
                .as_ref()
                .and_then(|f| f.parent)
                .map_or(0, |p| p.1);
            self.count_run(fan.run, index, |k| {
                k.running = k.running.saturating_sub(1);
                k.aborted += 1;
            });
            // The child is discarded with its timers and tasks.
            self.drop_pending_work(c);
            self.frames[c] = None;
            self.free.push(c);
        }
    }

    /// Forget frame `f`'s timers and tasks (cancelling the tasks) and its place in the
    /// run queue.
    pub(super) fn drop_pending_work(&mut self, f: FrameId) {
        self.timers.retain(|_, g| *g != f);
        let tasks: Vec<u64> = self
            .tasks
            .iter()
            .filter(|(_, g)| **g == f)
            .map(|(t, _)| *t)
            .collect();
        for t in tasks {
            self.tasks.remove(&t);
            self.out.commands.push(Command::CancelTask { task: t });
        }
        self.runnable.retain(|g| *g != f);
    }

    pub(super) fn fanout_finish(
        &mut self,
        pid: FrameId,
        st: &State,
        fan: Fanout,
        src: &mut dyn Sources,
    ) {
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(pid).path);
        let states = states_at(&machine.definition, &path);
        let flow = match self.fanout_succeeded(pid, st, fan, src) {
            Ok(out) => Self::transition(st, out),
            Err(f) => Flow::Failed(f),
        };
        if self.after_flow(pid, states, flow, src) {
            self.runnable.push_back(pid);
        }
    }

    pub(super) fn fanout_succeeded(
        &mut self,
        pid: FrameId,
        st: &State,
        fan: Fanout,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        // MapStateExited follows the state's last event before the Map Run ended:
        // MapRunStarted after a Map Run (AWS since November 2024), else the last child's.
        let exited_prev = self.frame(pid).last;
        if fan.kind == FanKind::MapRun {
            self.emit(pid, EventType::MapRunSucceeded, Details::None);
            let now = self.now;
            if let Some(r) = fan.run.and_then(|i| self.runs.get_mut(i)) {
                r.status = Status::Succeeded;
                r.stop_millis = Some(now);
            }
        }
        let t = if fan.kind == FanKind::Parallel {
            EventType::ParallelStateSucceeded
        } else {
            EventType::MapStateSucceeded
        };
        let prev = self.frame(pid).last;
        self.emit_with_prev(pid, prev, t, Details::None);
        let results: Vec<Value> = fan
            .results
            .into_iter()
            .map(|r| r.map(Arc::unwrap_or_clone).unwrap_or(Value::Null))
            .collect();
        if self.inspector.is_some() {
            let shown = Value::Array(results.clone());
            self.inspect(pid, |r| r.data.result = Some(shown));
        }
        let input = match &self.frame(pid).stage {
            Stage::Active(a) => Arc::clone(&a.input),
            _ => Arc::new(Value::Null),
        };
        let ctx = self.context_for(pid, st);
        self.complete(
            pid,
            st,
            input,
            Arc::new(Value::Array(results)),
            &ctx,
            true,
            Some(exited_prev),
            src,
        )
    }
}

/// An event by which a Task's resource failed (its call, activity or function).
fn is_task_failure_event(t: EventType) -> bool {
    matches!(
        t,
        EventType::TaskFailed
            | EventType::TaskTimedOut
            | EventType::TaskStartFailed
            | EventType::TaskSubmitFailed
            | EventType::ActivityFailed
            | EventType::ActivityTimedOut
            | EventType::ActivityScheduleFailed
            | EventType::LambdaFunctionFailed
            | EventType::LambdaFunctionTimedOut
            | EventType::LambdaFunctionScheduleFailed
            | EventType::LambdaFunctionStartFailed
    )
}
