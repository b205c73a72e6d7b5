//! Stepping an execution: taking it out of the engine's state, running the pure step
//! function off the lock and off the API's threads, applying what the step asks for
//! (timers, tasks, mocked answers), and putting it back with one batch for the writer.
//!
//! An execution being stepped keeps its [`Running`] entry (record, timers, tasks) with
//! its [`Execution`] value taken out (`ex: None`). Whatever arrives for it meanwhile (a
//! fired timer, a task's answer, a stop) is left in its mailbox and applied by the same
//! step before the execution is put back, so one execution is only ever stepped by one
//! thread, and its batches reach the writer in order. A stop also stops the step's
//! [`Interrupt`]: a long JSONata evaluation ends at once, and the state it was in is
//! left as entered (the stop ends it).

use crate::executions::status_str;
use crate::sources::{now_millis, SystemSources};
use crate::tasks::Poller;
use crate::{ActivityTask, Inner, Running, State, TokenEntry};
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, MutexGuard, Weak};
use stepwise_interp::{ChildChange, Command, Event, Execution, Status, Step, TaskRequest};
use stepwise_jsonata::Interrupt;
use stepwise_mock::{Lookup, MockResult};
use stepwise_store::{
    Batch, ExecutionRecord, ExecutionUpdate, MachineType, StoredEvent, TaskRecord, TimerRecord,
    Write,
};
use tokio::sync::oneshot;

/// Work that must wait for the batch's sequence number before it is handed out.
#[derive(Default)]
pub(crate) struct Effects {
    pub(crate) finished: Vec<(oneshot::Sender<(ExecutionRecord, u64)>, ExecutionRecord)>,
    pub(crate) handed: Vec<(oneshot::Sender<(ActivityTask, u64)>, ActivityTask)>,
    /// Calls waiting for the batch that stores their task.
    pub(crate) durable: Vec<oneshot::Sender<u64>>,
    /// Callers whose mail this step applied.
    acks: Vec<oneshot::Sender<u64>>,
    pub(crate) wake_timers: bool,
}

impl Effects {
    pub(crate) fn complete(self, inner: &Inner, seq: u64) {
        for (tx, rec) in self.finished {
            let _ = tx.send((rec, seq));
        }
        for (tx, task) in self.handed {
            let _ = tx.send((task, seq));
        }
        for tx in self.acks {
            let _ = tx.send(seq);
        }
        for tx in self.durable {
            let _ = tx.send(seq);
        }
        if self.wake_timers {
            inner.timer_wake.notify_one();
        }
    }
}

/// Something for one execution, applied by its next step.
#[derive(Debug)]
pub(crate) enum Mail {
    /// A timer came due (it fires only if still armed with that due time).
    Timer {
        timer: u64,
        due: i64,
        virtual_due: i64,
    },
    /// The execution yielded with more to run.
    Continue,
    /// A task's answer; `finishes`: the task is over (its token was already released).
    Task {
        task: u64,
        token: String,
        event: Event,
        finishes: bool,
    },
    /// Applied as it is (stop, terminate, a worker taking a task).
    Event(Event),
    /// Nothing to apply: the sender waits for the batch of the step that has it out.
    Ack,
}

/// What became of a [`Mail`].
pub(crate) enum Delivery {
    /// Applied by a step on this thread; durable once this batch is.
    Stepped(u64),
    /// Left for the step that has the execution out; it sends its batch's number.
    Queued(oneshot::Receiver<u64>),
    /// No such running execution.
    Gone,
}

/// An execution taken out of its [`Running`] entry for a step.
pub(crate) struct CheckedOut {
    pub(crate) arn: Arc<str>,
    pub(crate) ex: Execution,
    interrupt: Arc<Interrupt>,
    standard: bool,
    definition: Arc<str>,
    test_case: Option<String>,
}

/// An entry taken for a step whose execution is still to be made (a start, a redrive).
pub(crate) struct Reserved {
    pub(crate) arn: Arc<str>,
    pub(crate) interrupt: Arc<Interrupt>,
    standard: bool,
    definition: Arc<str>,
    test_case: Option<String>,
}

impl Reserved {
    pub(crate) fn with(self, ex: Execution) -> CheckedOut {
        CheckedOut {
            arn: self.arn,
            ex,
            interrupt: self.interrupt,
            standard: self.standard,
            definition: self.definition,
            test_case: self.test_case,
        }
    }
}

impl State {
    /// Put entry `r` in place marked busy (its execution out for a step).
    pub(crate) fn reserve(&mut self, arn: &Arc<str>, mut r: Box<Running>) -> Reserved {
        let interrupt = Interrupt::new();
        r.interrupt = Some(Arc::clone(&interrupt));
        r.ex = None;
        let reserved = Reserved {
            arn: Arc::clone(arn),
            interrupt,
            standard: r.record.machine_type == MachineType::Standard,
            definition: Arc::clone(&r.definition),
            test_case: r.record.test_case.clone(),
        };
        self.running.insert(Arc::clone(arn), r);
        reserved
    }

    /// Take `r`'s execution out for a step and put the entry back (marked busy).
    pub(crate) fn check_out(
        &mut self,
        arn: &Arc<str>,
        mut r: Box<Running>,
        ex: Execution,
    ) -> CheckedOut {
        if ex.has_map_runs() {
            r.map_runs = ex.map_runs();
        }
        self.reserve(arn, r).with(ex)
    }

    /// The event a mail becomes for `r` (`None`: nothing to do), with the store changes
    /// accepting it makes.
    fn event_of(&self, r: &mut Running, mail: Mail, batch: &mut Batch) -> Option<Event> {
        let standard = r.record.machine_type == MachineType::Standard;
        match mail {
            Mail::Timer {
                timer,
                due,
                virtual_due,
            } => {
                if r.timers.get(&timer) != Some(&(due, virtual_due)) {
                    return None;
                }
                r.timers.remove(&timer);
                if standard {
                    batch.push(Write::DeleteTimer {
                        execution_arn: r.record.arn.clone(),
                        timer,
                    });
                }
                Some(self.deleted_check(r, Event::TimerFired { timer }))
            }
            Mail::Continue => Some(self.deleted_check(r, Event::Continue)),
            Mail::Task {
                task,
                token,
                event,
                finishes,
            } => {
                if finishes {
                    r.tasks.remove(&task);
                    batch.push(Write::DeleteTask { token });
                }
                Some(self.deleted_check(r, event))
            }
            Mail::Event(e) => Some(e),
            Mail::Ack => None,
        }
    }
}

impl Inner {
    /// Give `mail` to execution `arn`: when nothing steps it, step it now on this thread
    /// (the lock `st` is released while the step runs); otherwise leave it in its mailbox
    /// (a stop also interrupts that step). `batch` holds changes that go with the mail.
    pub(crate) fn deliver(
        &self,
        mut st: MutexGuard<'_, State>,
        arn: &Arc<str>,
        mail: Mail,
        mut batch: Batch,
        ack: bool,
    ) -> Delivery {
        let Some(r) = st.running.get_mut(arn) else {
            return Delivery::Gone;
        };
        if r.ex.is_none() {
            if let (Mail::Event(Event::Stop { .. }), Some(t)) = (&mail, &r.interrupt) {
                t.stop();
            }
            let (tx, rx) = oneshot::channel();
            r.mail.push((mail, ack.then_some(tx)));
            if !batch.is_empty() {
                st.submit(self, batch);
            }
            return Delivery::Queued(rx);
        }
        let Some(mut r) = st.running.remove(arn) else {
            return Delivery::Gone;
        };
        let event = st.event_of(&mut r, mail, &mut batch);
        let (Some(event), Some(ex)) = (event, r.ex.take()) else {
            st.running.insert(Arc::clone(arn), r);
            let seq = st.submit(self, batch);
            return Delivery::Stepped(seq);
        };
        let mut c = st.check_out(arn, r, ex);
        drop(st);
        let step = self.off_lock(&mut c, |ex| ex.handle(event, &mut SystemSources));
        Delivery::Stepped(self.drive(c, step, batch, Effects::default()))
    }

    /// Run `f` on a checked-out execution with the step's time budget, its crash marker
    /// and its interrupt set for this thread.
    pub(crate) fn off_lock<T>(&self, c: &mut CheckedOut, f: impl FnOnce(&mut Execution) -> T) -> T {
        let _stepping = self.stepping(&c.arn, Some(Arc::clone(&c.interrupt)));
        f(&mut c.ex)
    }

    /// Apply `step` of checked-out `c` and everything it leads to without waiting
    /// (mocked answers, activity hand-offs, its mail), then put it back and submit
    /// `batch`. Only the bookkeeping takes the lock; steps and snapshots run without it.
    /// Returns the batch's sequence number.
    pub(crate) fn drive(
        &self,
        mut c: CheckedOut,
        mut step: Step,
        mut batch: Batch,
        mut fx: Effects,
    ) -> u64 {
        let mut pending: VecDeque<Event> = VecDeque::new();
        let mut snapshot: Option<Vec<u8>> = None;
        loop {
            let last_event = record_step(&c, &mut step, &mut batch);
            let mut st = self.lock();
            let Some(mut r) = st.running.remove(&c.arn) else {
                // Only its own step removes a checked-out entry: never expected.
                tracing::error!(execution = %c.arn, "a stepped execution lost its entry");
                return 0;
            };
            if let Some(id) = last_event {
                r.record.history_len = id;
            }
            for cmd in std::mem::take(&mut step.commands) {
                st.command(self, &c, &mut r, cmd, &mut batch, &mut pending, &mut fx);
            }
            for (mail, ack) in std::mem::take(&mut r.mail) {
                if let Some(ev) = st.event_of(&mut r, mail, &mut batch) {
                    pending.push_back(ev);
                }
                fx.acks.extend(ack);
            }
            let running = c.ex.status() == Status::Running;
            if running {
                if let Some(ev) = pending.pop_front() {
                    st.running.insert(Arc::clone(&c.arn), r);
                    drop(st);
                    snapshot = None;
                    step = self.off_lock(&mut c, |ex| ex.handle(ev, &mut SystemSources));
                    continue;
                }
            }
            // Kept for RedriveExecution and Map Run queries; a plain success needs none.
            let wants_snapshot = c.standard
                && (running || c.ex.status() != Status::Succeeded || c.ex.has_map_runs());
            if wants_snapshot && snapshot.is_none() {
                // Serialized without the lock; mail that comes meanwhile is applied next.
                st.running.insert(Arc::clone(&c.arn), r);
                drop(st);
                snapshot = Some(c.ex.snapshot());
                step = Step::default();
                continue;
            }
            st.settle(self, c, r, snapshot, &mut batch, &mut fx);
            let seq = st.submit(self, batch);
            drop(st);
            fx.complete(self, seq);
            return seq;
        }
    }
}

/// A step's history events and Distributed Map changes as store writes (no lock needed).
/// Returns the id of its last event.
fn record_step(c: &CheckedOut, step: &mut Step, batch: &mut Batch) -> Option<u64> {
    for e in &step.events {
        if let stepwise_interp::Details::MapRunStarted { map_run_arn } = &e.details {
            batch.push(Write::PutMapRun {
                arn: map_run_arn.clone(),
                execution_arn: c.arn.to_string(),
            });
        }
    }
    if c.standard {
        child_writes(c, step, batch);
    }
    let last = step.events.last()?.id;
    if c.standard {
        let events = step
            .events
            .iter()
            .map(|e| StoredEvent {
                id: e.id,
                json: e.aws_json_text(true),
            })
            .collect();
        batch.push(Write::AppendHistory {
            execution_arn: c.arn.to_string(),
            events,
        });
    }
    step.events.clear();
    Some(last)
}

impl State {
    /// Put a stepped execution back (or record its end), with `snapshot` as the
    /// store's copy of it when it needs one.
    fn settle(
        &mut self,
        inner: &Inner,
        c: CheckedOut,
        mut r: Box<Running>,
        snapshot: Option<Vec<u8>>,
        batch: &mut Batch,
        fx: &mut Effects,
    ) {
        let CheckedOut {
            arn, ex, standard, ..
        } = c;
        inner
            .metrics
            .transitions
            .fetch_add(ex.transitions() - r.record.transitions, Relaxed);
        r.record.transitions = ex.transitions();
        r.interrupt = None;
        r.map_runs = Vec::new();
        if ex.status() == Status::Running {
            if standard {
                if r.unstored {
                    // Its first write: the start's status-change event goes with it.
                    inner.announce(batch, &r.record);
                }
                write_record(batch, &mut r, snapshot);
            }
            r.ex = Some(ex);
            self.running.insert(arn, r);
            return;
        }
        // Finished.
        if standard && r.unstored {
            // Started and ended in one step: RUNNING first, then the end.
            inner.announce(batch, &r.record);
        }
        if self.deleting.contains_key(&r.record.machine_arn)
            && !self.runs_executions_of(&r.record.machine_arn)
        {
            // Its last execution ended: the deletion completes.
            self.deleting.remove(&r.record.machine_arn);
        }
        let status = status_str(ex.status());
        r.record.status = status.to_string();
        r.record.output = ex.output().map(|v| v.to_string());
        r.record.error = ex.error().map(str::to_string);
        r.record.cause = ex.cause().map(str::to_string);
        r.record.stop_millis = Some(now_millis());
        inner.metrics.finished(status);
        for (timer, (due, virtual_due)) in r.timers.drain() {
            self.wheel
                .remove(&(due, virtual_due, Arc::clone(&arn), timer));
        }
        for (_, token) in r.tasks.drain() {
            self.tokens.remove(&token);
        }
        if standard {
            write_record(batch, &mut r, snapshot);
            inner.announce(batch, &r.record);
            if r.stored_work {
                batch.push(Write::ClearExecutionWork {
                    execution_arn: arn.to_string(),
                });
            }
            self.remember_finished(&arn, &r);
        } else {
            batch.push(Write::InsertExecution(r.full_record()));
        }
        for tx in r.sync.drain(..) {
            fx.finished.push((tx, r.record.clone()));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn command(
        &mut self,
        inner: &Inner,
        c: &CheckedOut,
        r: &mut Running,
        cmd: Command,
        batch: &mut Batch,
        pending: &mut VecDeque<Event>,
        fx: &mut Effects,
    ) {
        let (arn, standard) = (&c.arn, c.standard);
        match cmd {
            Command::ArmTimer { timer, due_millis } => {
                let now = now_millis();
                // `--time-scale 0` makes waits instant; an EXPRESS execution's time limit
                // then stays real, or every one that waits on a task would time out at once.
                // …and a call's timeout stays real too, or every call with a
                // TimeoutSeconds would time out before it could answer.
                let scale = if inner.config.time_scale == 0.0
                    && (!standard && c.ex.is_execution_timer(timer)
                        || c.ex
                            .task_timer_resource(timer)
                            .is_some_and(|r| inner.call_kind(r).is_some()))
                {
                    1.0
                } else {
                    inner.config.time_scale
                };
                let wait = (due_millis - now).max(0) as f64 * scale;
                let due = now + wait as i64;
                r.timers.insert(timer, (due, due_millis));
                self.wheel.insert((due, due_millis, Arc::clone(arn), timer));
                if standard {
                    r.stored_work = true;
                    batch.push(Write::PutTimer(TimerRecord {
                        execution_arn: arn.to_string(),
                        timer,
                        due_millis: due,
                    }));
                }
                fx.wake_timers = true;
            }
            Command::Continue => {
                self.continues.push_back(Arc::clone(arn));
                fx.wake_timers = true;
            }
            Command::CancelTimer { timer } => {
                if let Some((due, virtual_due)) = r.timers.remove(&timer) {
                    self.wheel
                        .remove(&(due, virtual_due, Arc::clone(arn), timer));
                    if standard {
                        batch.push(Write::DeleteTimer {
                            execution_arn: arn.to_string(),
                            timer,
                        });
                    }
                }
            }
            Command::CancelTask { task } => {
                if let Some(token) = r.tasks.remove(&task) {
                    self.tokens.remove(&token);
                    if standard {
                        batch.push(Write::DeleteTask { token });
                    }
                }
            }
            Command::DispatchTask(req) => {
                // Mocks first, as Step Functions Local does.
                if let (Some(tc), Some(mocks)) = (&r.record.test_case, &inner.config.mocks) {
                    let machine_name = c.ex.info().state_machine_name.clone();
                    let answer = match mocks.test_case(&machine_name, tc) {
                        Err(e) => Some(Event::TaskFailed {
                            task: req.task,
                            error: "States.Runtime".into(),
                            cause: e.to_string(),
                        }),
                        Ok(case) => match case.lookup(&req.state_name, req.invocation) {
                            Lookup::NotMocked => None,
                            Lookup::Response(MockResult::Return(v)) => Some(Event::TaskSucceeded {
                                task: req.task,
                                output: v.clone(),
                            }),
                            Lookup::Response(MockResult::Throw { error, cause }) => {
                                Some(Event::TaskFailed {
                                    task: req.task,
                                    error: error.clone(),
                                    cause: cause.clone(),
                                })
                            }
                            Lookup::Exhausted { response, defined } => Some(Event::TaskFailed {
                                task: req.task,
                                error: "States.Runtime".into(),
                                cause: format!(
                                    "No mocked response for invocation {} of state '{}': mocked response '{}' defines {} invocation(s)",
                                    req.invocation, req.state_name, response, defined
                                ),
                            }),
                        },
                    };
                    if let Some(ev) = answer {
                        pending.push_back(ev);
                        return;
                    }
                }
                if let Some(kind) = inner.call_kind(&req.resource) {
                    self.call(inner, kind, c, r, req, batch, fx);
                    return;
                }
                let activity = is_activity(&req.resource).then(|| req.resource.clone());
                let Some(token) = req.token.clone() else {
                    pending.push_back(Event::TaskFailed {
                        task: req.task,
                        error: "States.Runtime".into(),
                        cause: format!(
                            "Stepwise has no local integration for resource '{}' (state '{}'): {}",
                            req.resource,
                            req.state_name,
                            stepwise_tasks::resource::config_hint(&req.resource, &req.input)
                        ),
                    });
                    return;
                };
                r.tasks.insert(req.task, token.clone());
                let mut entry = TokenEntry {
                    execution: Arc::clone(arn),
                    task: req.task,
                    started: false,
                    record: TaskRecord {
                        token: token.clone(),
                        execution_arn: arn.to_string(),
                        task: req.task,
                        state_name: req.state_name.clone(),
                        resource: req.resource.clone(),
                        activity_arn: activity.clone(),
                        input: req.input.to_string(),
                        created_millis: now_millis(),
                        worker: None,
                    },
                    durable: standard,
                    call: None,
                };
                if let Some(act) = activity {
                    let queue = self.queues.entry(act).or_default();
                    match take_poller(&mut queue.pollers) {
                        Some(Poller { worker, tx }) => {
                            entry.started = true;
                            entry.record.worker = Some(worker.clone());
                            pending.push_back(Event::TaskStarted {
                                task: req.task,
                                worker_name: worker,
                            });
                            fx.handed.push((
                                tx,
                                ActivityTask {
                                    token: token.clone(),
                                    input: entry.record.input.clone(),
                                },
                            ));
                        }
                        None => queue.tasks.push_back(token.clone()),
                    }
                }
                if standard {
                    r.stored_work = true;
                    batch.push(Write::PutTask(entry.record.clone()));
                }
                self.tokens.insert(token, entry);
            }
        }
    }
}

impl State {
    /// A Task that calls a configured function or endpoint: its entry is stored with
    /// this batch, and the call goes out once the batch is durable.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        inner: &Inner,
        kind: crate::calls::CallKind,
        c: &CheckedOut,
        r: &mut Running,
        req: TaskRequest,
        batch: &mut Batch,
        fx: &mut Effects,
    ) {
        let arn = &c.arn;
        let key = req
            .token
            .clone()
            .unwrap_or_else(|| crate::calls::call_key(arn, req.task));
        let record = TaskRecord {
            token: key.clone(),
            execution_arn: arn.to_string(),
            task: req.task,
            state_name: req.state_name.clone(),
            resource: req.resource.clone(),
            activity_arn: None,
            input: req.input.to_string(),
            created_millis: now_millis(),
            worker: None,
        };
        if c.standard {
            r.stored_work = true;
            batch.push(Write::PutTask(record.clone()));
        }
        r.tasks.insert(req.task, key.clone());
        let (tx, rx) = oneshot::channel();
        fx.durable.push(tx);
        let job = crate::calls::CallJob {
            execution: Arc::clone(arn),
            task: req.task,
            key: key.clone(),
            submits: req.token.is_some(),
            state_name: req.state_name,
            resource: req.resource,
            parameters: req.input,
            kind,
        };
        let resume = crate::calls::Resume::Send { again: false };
        let handle = inner.start_call(job, resume, Some(rx));
        self.tokens.insert(
            key,
            TokenEntry {
                execution: Arc::clone(arn),
                task: req.task,
                started: true,
                record,
                durable: c.standard,
                call: handle,
            },
        );
    }
}

/// The first poller still waiting.
pub(crate) fn take_poller(pollers: &mut VecDeque<Poller>) -> Option<Poller> {
    while let Some(p) = pollers.pop_front() {
        if !p.tx.is_closed() {
            return Some(p);
        }
    }
    None
}

pub(crate) fn is_activity(resource: &str) -> bool {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    parts.len() == 6 && parts[2] == "states" && parts[5].starts_with("activity:")
}

/// The execution's record as the store gets it: inserted first in the batch when the
/// store does not have it yet, updated otherwise.
fn write_record(batch: &mut Batch, r: &mut Running, snapshot: Option<Vec<u8>>) {
    if std::mem::take(&mut r.unstored) {
        let mut rec = r.full_record();
        rec.snapshot = snapshot;
        batch.writes.insert(0, Write::InsertExecution(rec));
    } else {
        batch.push(Write::UpdateExecution(update_of(&r.record, snapshot)));
    }
}

/// Distributed Map child executions of a step: a record for each one that started
/// (before its events), their history events, and the new status of each one that was
/// redriven or ended.
fn child_writes(parent: &CheckedOut, step: &mut Step, batch: &mut Batch) {
    let (started, ended): (Vec<ChildChange>, Vec<ChildChange>) = step
        .children
        .drain(..)
        .partition(|c| matches!(c, ChildChange::Started(_)));
    for c in started {
        if let ChildChange::Started(c) = c {
            batch.push(Write::InsertExecution(ExecutionRecord {
                arn: c.arn.to_string(),
                machine_arn: c.state_machine_arn,
                version_arn: None,
                alias_arn: None,
                name: c.name,
                machine_type: if c.express {
                    MachineType::Express
                } else {
                    MachineType::Standard
                },
                status: status_str(c.status).to_string(),
                input: c.input.to_string(),
                output: None,
                error: None,
                cause: None,
                start_millis: c.start_millis,
                stop_millis: None,
                redrive_count: 0,
                redrive_millis: None,
                definition: parent.definition.to_string(),
                test_case: parent.test_case.clone(),
                trace_header: None,
                snapshot: None,
                history_len: c.history_len,
                transitions: 0,
                map_run_arn: Some(c.map_run_arn),
            }));
        }
    }
    let events = std::mem::take(&mut step.child_events);
    let mut rest = events.as_slice();
    while let Some((arn, _)) = rest.first() {
        let n = rest.iter().take_while(|(a, _)| a == arn).count();
        let (run, tail) = rest.split_at(n);
        batch.push(Write::AppendHistory {
            execution_arn: arn.to_string(),
            events: run
                .iter()
                .map(|(_, e)| StoredEvent {
                    id: e.id,
                    json: e.aws_json_text(true),
                })
                .collect(),
        });
        rest = tail;
    }
    // Redriven (RUNNING again) and finished, in the order they happened.
    for c in ended {
        let (ChildChange::Redriven(c) | ChildChange::Finished(c) | ChildChange::Started(c)) = c;
        batch.push(Write::UpdateExecution(ExecutionUpdate {
            arn: c.arn.to_string(),
            status: status_str(c.status).to_string(),
            output: c.output.map(|v| v.to_string()),
            error: c.error,
            cause: c.cause,
            stop_millis: c.stop_millis,
            redrive_count: c.redrive_count,
            redrive_millis: c.redrive_millis,
            snapshot: None,
            history_len: c.history_len,
            transitions: 0,
        }));
    }
}

pub(crate) fn update_of(rec: &ExecutionRecord, snapshot: Option<Vec<u8>>) -> ExecutionUpdate {
    ExecutionUpdate {
        arn: rec.arn.clone(),
        status: rec.status.clone(),
        output: rec.output.clone(),
        error: rec.error.clone(),
        cause: rec.cause.clone(),
        stop_millis: rec.stop_millis,
        redrive_count: rec.redrive_count,
        redrive_millis: rec.redrive_millis,
        snapshot,
        history_len: rec.history_len,
        transitions: rec.transitions,
    }
}

/// How many batches of due timers and yielded executions may be stepping at once (one
/// slow step holds one blocking thread, not the timer loop).
const TIMER_JOBS: usize = 64;

/// Fires due timers and resumes yielded executions; sleeps until the next timer or
/// until an earlier one is armed. The steps run on the blocking pool, each turn's in
/// the order of their unscaled due times, so at `--time-scale 0` a 1 s wait still ends
/// before a 2 s one armed earlier.
pub(crate) async fn timer_loop(weak: Weak<Inner>) {
    let jobs = Arc::new(tokio::sync::Semaphore::new(TIMER_JOBS));
    loop {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        if inner.stopping.load(Relaxed) {
            return;
        }
        let (mail, next) = {
            let mut st = inner.lock();
            let now = now_millis();
            let mut due_now = Vec::new();
            while due_now.len() < 2048 {
                match st.wheel.first() {
                    Some(key) if key.0 <= now => {}
                    _ => break,
                }
                due_now.extend(st.wheel.pop_first());
            }
            due_now.sort_by(|a, b| (a.1, &a.2, a.3).cmp(&(b.1, &b.2, b.3)));
            let fired = due_now.len();
            let mut mail: Vec<(Arc<str>, Mail)> = due_now
                .into_iter()
                .map(|(due, virtual_due, arn, timer)| {
                    (
                        arn,
                        Mail::Timer {
                            timer,
                            due,
                            virtual_due,
                        },
                    )
                })
                .collect();
            // Executions that yielded go on, each once this turn (one that yields again
            // waits for the next turn).
            mail.extend(st.continues.drain(..).map(|arn| (arn, Mail::Continue)));
            let next = if fired >= 2048 {
                Some(0)
            } else {
                st.wheel.first().map(|(due, ..)| (due - now).max(0))
            };
            (mail, next)
        };
        if !mail.is_empty() {
            let Ok(permit) = Arc::clone(&jobs).acquire_owned().await else {
                return;
            };
            let job = Arc::clone(&inner);
            tokio::task::spawn_blocking(move || {
                for (arn, m) in mail {
                    job.deliver(job.lock(), &arn, m, Batch::default(), false);
                }
                drop(permit);
            });
        }
        let timer_wake = Arc::clone(&inner);
        drop(inner);
        let wake = timer_wake.timer_wake.notified();
        match next {
            Some(0) => tokio::task::yield_now().await,
            Some(ms) => {
                let _ =
                    tokio::time::timeout(std::time::Duration::from_millis(ms as u64), wake).await;
            }
            None => {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), wake).await;
            }
        }
    }
}
