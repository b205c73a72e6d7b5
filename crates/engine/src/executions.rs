//! Executions: start, step, finish, stop, recover; the timer loop.

use crate::catalog::not_found;
use crate::error::{Error, ErrorCode, Result};
use crate::sources::{now_millis, random_u64, SystemSources};
use crate::tasks::Poller;
use crate::{ActivityTask, Engine, Inner, Running, State, TokenEntry};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use stepwise_expr::Sources;
use stepwise_interp::{
    ChildChange, Command, Event, Execution, ExecutionInfo, Machine, MapRunInfo, Status, Step,
};
use stepwise_mock::{Lookup, MockResult};
use stepwise_store::{
    Batch, ExecutionQuery, ExecutionRecord, ExecutionUpdate, MachineType, StoredEvent, TaskRecord,
    TimerRecord, Write,
};
use tokio::sync::oneshot;

/// StartExecution's arguments.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    /// A machine, version or alias ARN, optionally with `#TestCase` for mocks.
    pub state_machine_arn: String,
    pub name: Option<String>,
    pub input: Option<String>,
    pub trace_header: Option<String>,
}

/// StartExecution's answer.
#[derive(Debug, Clone)]
pub struct StartedExecution {
    pub arn: String,
    pub start_millis: i64,
}

/// How a finished execution ended (StartSyncExecution).
#[derive(Debug, Clone)]
pub struct ExecutionOutcome {
    pub record: ExecutionRecord,
}

/// Work that must wait for the batch's sequence number before it is handed out.
#[derive(Default)]
pub(crate) struct Effects {
    finished: Vec<(oneshot::Sender<(ExecutionRecord, u64)>, ExecutionRecord)>,
    pub(crate) handed: Vec<(oneshot::Sender<(ActivityTask, u64)>, ActivityTask)>,
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
        if self.wake_timers {
            inner.timer_wake.notify_one();
        }
    }
}

/// A resolved start target.
struct Target {
    machine_arn: String,
    version_arn: Option<String>,
    alias_arn: Option<String>,
    machine_name: String,
    machine_type: MachineType,
    role_arn: String,
    definition: Arc<str>,
    machine: Arc<Machine>,
}

fn does_not_exist(arn: &str) -> Error {
    Error::new(
        ErrorCode::ExecutionDoesNotExist,
        format!("Execution Does Not Exist: '{arn}'"),
    )
}

fn status_str(s: Status) -> &'static str {
    s.as_str()
}

impl State {
    /// Whether any RUNNING execution belongs to the machine `arn`.
    pub(crate) fn runs_executions_of(&self, arn: &str) -> bool {
        self.running.values().any(|r| r.record.machine_arn == arn)
    }

    /// What an event becomes for an execution whose machine was deleted: AWS fails it
    /// at its next transition ("State machine NAME has been deleted.").
    pub(crate) fn deleted_check(&self, r: &Running, event: Event) -> Event {
        // A worker taking a task or a heartbeat is not a transition; a stop stays a stop.
        let transition = matches!(
            event,
            Event::TimerFired { .. }
                | Event::TaskSucceeded { .. }
                | Event::TaskFailed { .. }
                | Event::Continue
        );
        if !transition || !self.deleting.contains_key(&r.record.machine_arn) {
            return event;
        }
        Event::Terminate {
            error: "States.Runtime".into(),
            cause: format!(
                "State machine {} has been deleted.",
                r.ex.info().state_machine_name
            ),
        }
    }

    fn resolve(&self, arn: &str) -> Result<Target> {
        if self.deleting.contains_key(arn) {
            return Err(crate::catalog::deleting(arn));
        }
        if let Some(m) = self.machines.get(arn) {
            return Ok(Target {
                machine_arn: m.rec.arn.clone(),
                version_arn: None,
                alias_arn: None,
                machine_name: m.rec.name.clone(),
                machine_type: m.rec.machine_type,
                role_arn: m.rec.role_arn.clone(),
                definition: self.shared_definition(&m.rec.definition),
                machine: Arc::clone(&m.machine),
            });
        }
        let (version_arn, alias_arn) = if self.versions.contains_key(arn) {
            (arn.to_string(), None)
        } else if let Some(a) = self.aliases.get(arn) {
            // Weighted routing between one or two versions.
            let pick = (random_u64() % 100) as u32;
            let mut acc = 0;
            let mut chosen = a.routing.first().map(|r| r.0.clone()).unwrap_or_default();
            for (v, w) in &a.routing {
                acc += w;
                if pick < acc {
                    chosen = v.clone();
                    break;
                }
            }
            (chosen, Some(arn.to_string()))
        } else {
            return Err(not_found(arn));
        };
        let v = self
            .versions
            .get(&version_arn)
            .ok_or_else(|| not_found(arn))?;
        let m = self
            .machines
            .get(&v.rec.machine_arn)
            .ok_or_else(|| not_found(arn))?;
        Ok(Target {
            machine_arn: m.rec.arn.clone(),
            version_arn: Some(version_arn),
            alias_arn,
            machine_name: m.rec.name.clone(),
            machine_type: m.rec.machine_type,
            role_arn: v.rec.role_arn.clone(),
            definition: self.shared_definition(&v.rec.definition),
            machine: Arc::clone(&v.machine),
        })
    }

    /// Step `arn` with `step` and everything it leads to without waiting (mocked task
    /// answers, activity hand-offs), collecting durable changes into `batch`.
    pub(crate) fn drive(
        &mut self,
        inner: &Inner,
        arn: &Arc<str>,
        mut step: Step,
        batch: &mut Batch,
        fx: &mut Effects,
    ) {
        let Some(mut r) = self.running.remove(arn) else {
            return;
        };
        let standard = r.record.machine_type == MachineType::Standard;
        // The record holds the count of the last commit (0 for a new execution, whose
        // first step ran inside `Execution::start`).
        let before = r.record.transitions;
        let mut pending: VecDeque<Event> = VecDeque::new();
        loop {
            for e in &step.events {
                if let stepwise_interp::Details::MapRunStarted { map_run_arn } = &e.details {
                    batch.push(Write::PutMapRun {
                        arn: map_run_arn.clone(),
                        execution_arn: arn.to_string(),
                    });
                }
            }
            if standard {
                child_writes(&r, &mut step, batch);
            }
            if let Some(last) = step.events.last() {
                r.record.history_len = last.id;
                if standard {
                    let events = step
                        .events
                        .iter()
                        .map(|e| StoredEvent {
                            id: e.id,
                            json: e.aws_json_text(true),
                        })
                        .collect();
                    batch.push(Write::AppendHistory {
                        execution_arn: arn.to_string(),
                        events,
                    });
                }
            }
            for cmd in std::mem::take(&mut step.commands) {
                self.command(inner, arn, &mut r, cmd, batch, &mut pending, fx);
            }
            match pending.pop_front() {
                Some(ev) if r.ex.status() == Status::Running => {
                    step = r.ex.handle(ev, &mut SystemSources);
                }
                _ => break,
            }
        }
        inner
            .metrics
            .transitions
            .fetch_add(r.ex.transitions() - before, Relaxed);
        r.record.transitions = r.ex.transitions();
        if r.ex.status() == Status::Running {
            if standard {
                let snapshot = r.ex.snapshot();
                match r.insert_at.take() {
                    Some(i) => {
                        let mut rec = r.full_record();
                        rec.snapshot = Some(snapshot);
                        put_insert(batch, i, rec);
                    }
                    None => {
                        batch.push(Write::UpdateExecution(update_of(&r.record, Some(snapshot))))
                    }
                }
            }
            self.running.insert(Arc::clone(arn), r);
            return;
        }
        // Finished.
        if self.deleting.contains_key(&r.record.machine_arn)
            && !self.runs_executions_of(&r.record.machine_arn)
        {
            // Its last execution ended: the deletion completes.
            self.deleting.remove(&r.record.machine_arn);
        }
        let status = status_str(r.ex.status());
        r.record.status = status.to_string();
        r.record.output = r.ex.output().map(|v| v.to_string());
        r.record.error = r.ex.error().map(str::to_string);
        r.record.cause = r.ex.cause().map(str::to_string);
        r.record.stop_millis = Some(now_millis());
        inner.metrics.finished(status);
        for (timer, (due, virtual_due)) in r.timers.drain() {
            self.wheel
                .remove(&(due, virtual_due, Arc::clone(arn), timer));
        }
        for (_, token) in r.tasks.drain() {
            self.tokens.remove(&token);
        }
        if standard {
            // Kept for RedriveExecution and Map Run queries; a plain success needs none.
            let keep = r.ex.status() != Status::Succeeded || !r.ex.map_runs().is_empty();
            let snapshot = keep.then(|| r.ex.snapshot());
            match r.insert_at.take() {
                Some(i) => {
                    let mut rec = r.full_record();
                    rec.snapshot = snapshot;
                    put_insert(batch, i, rec);
                }
                None => batch.push(Write::UpdateExecution(update_of(&r.record, snapshot))),
            }
            if r.stored_work {
                batch.push(Write::ClearExecutionWork {
                    execution_arn: arn.to_string(),
                });
            }
            self.finished.insert(
                Arc::clone(arn),
                crate::Finished {
                    record: (payload_bytes(&r.record) <= FINISHED_PAYLOAD_LIMIT)
                        .then(|| Arc::new(r.record.clone())),
                    definition: Arc::clone(&r.definition),
                    seq: u64::MAX,
                    at: std::time::Instant::now(),
                },
            );
            self.finished_order.push_back(Arc::clone(arn));
            self.unstamped.push(Arc::clone(arn));
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
        arn: &Arc<str>,
        r: &mut Running,
        cmd: Command,
        batch: &mut Batch,
        pending: &mut VecDeque<Event>,
        fx: &mut Effects,
    ) {
        let standard = r.record.machine_type == MachineType::Standard;
        match cmd {
            Command::ArmTimer { timer, due_millis } => {
                let now = now_millis();
                // `--time-scale 0` makes waits instant; an EXPRESS execution's time limit
                // then stays real, or every one that waits on a task would time out at once.
                let scale = if inner.config.time_scale == 0.0
                    && !standard
                    && r.ex.is_execution_timer(timer)
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
                    let machine_name = r.ex.info().state_machine_name.clone();
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
                let activity = is_activity(&req.resource).then(|| req.resource.clone());
                let Some(token) = req.token.clone().filter(|_| true) else {
                    pending.push_back(Event::TaskFailed {
                        task: req.task,
                        error: "States.Runtime".into(),
                        cause: format!(
                            "Stepwise has no local integration for resource '{}' (state '{}'): answer it with a mock test case (start the execution with stateMachineArn#TestCase and --mock-config), use an activity, or the .waitForTaskToken pattern",
                            req.resource, req.state_name
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

/// Rewrite the placeholder `InsertExecution` at `i` with the record after the first step.
fn put_insert(batch: &mut Batch, i: usize, rec: ExecutionRecord) {
    match batch.writes.get_mut(i) {
        Some(w @ Write::InsertExecution(_)) => *w = Write::InsertExecution(rec),
        // Not where it was put: never expected, but an update keeps the store right.
        _ => batch.push(Write::UpdateExecution(update_of(
            &rec,
            rec.snapshot.clone(),
        ))),
    }
}

/// Distributed Map child executions of a step: a record for each one that started
/// (before its events), their history events, and the new status of each one that was
/// redriven or ended.
fn child_writes(parent: &Running, step: &mut Step, batch: &mut Batch) {
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
                test_case: parent.record.test_case.clone(),
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

fn update_of(rec: &ExecutionRecord, snapshot: Option<Vec<u8>>) -> ExecutionUpdate {
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

fn invalid_input(text: &str, e: serde_json::Error) -> Error {
    Error::new(
        ErrorCode::InvalidExecutionInput,
        format!(
            "Invalid State Machine Execution Input: '{}'",
            json_error_text(text, &e)
        ),
    )
}

/// AWS's parser (Jackson) words the commonest mistake, a bare word, its own way; other
/// errors keep serde_json's text with line and column.
fn json_error_text(text: &str, e: &serde_json::Error) -> String {
    let t = text.trim_start();
    if t.is_empty() {
        return "Invalid execution input.".into();
    }
    let word: String = t
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let starts_bare = t.chars().next().is_some_and(|c| c.is_alphabetic());
    if starts_bare && !matches!(word.as_str(), "true" | "false" | "null") {
        return format!(
            "Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        );
    }
    if e.to_string().starts_with("key must be a string") {
        // serde_json's column points at the offending character (1-based).
        let c = text
            .lines()
            .nth(e.line().saturating_sub(1))
            .and_then(|l| l.chars().nth(e.column().saturating_sub(1)));
        if let Some(c) = c {
            return format!(
                "Unexpected character ('{c}' (code {})): was expecting double-quote to start field name",
                c as u32
            );
        }
    }
    e.to_string()
}

impl Engine {
    pub(crate) fn recover(&self) -> Result<()> {
        self.recover_catalog()?;
        let rec = self.inner.store.load_recovery().map_err(Error::store)?;
        let mut st = self.inner.lock();
        let (mut resumed, mut broken) = (0usize, 0usize);
        st.running.reserve(rec.running.len());
        for record in rec.running {
            let arn: Arc<str> = Arc::from(record.arn.as_str());
            let restored = st
                .machine_for(&record.definition)
                .map_err(|e| e.to_string())
                .and_then(|m| match &record.snapshot {
                    Some(s) => Execution::restore(m, s).map_err(|e| e.to_string()),
                    None => Err("no snapshot".to_string()),
                });
            match restored {
                Ok(ex) => {
                    let mut record = record;
                    record.snapshot = None;
                    let definition = st.shared_definition(&record.definition);
                    record.definition = String::new();
                    st.running.insert(
                        Arc::clone(&arn),
                        Box::new(Running {
                            ex,
                            record,
                            definition,
                            timers: Default::default(),
                            tasks: Default::default(),
                            sync: Vec::new(),
                            stored_work: true,
                            insert_at: None,
                        }),
                    );
                    if st.running.get(&arn).is_some_and(|r| r.ex.has_runnable()) {
                        // It yielded before the crash: it goes on from its snapshot.
                        st.continues.push_back(Arc::clone(&arn));
                    }
                    resumed += 1;
                }
                Err(e) => {
                    broken += 1;
                    tracing::error!(execution = %record.arn, error = %e, "cannot resume execution");
                }
            }
        }
        for t in rec.timers {
            let arn: Arc<str> = Arc::from(t.execution_arn.as_str());
            if let Some(r) = st.running.get_mut(&arn) {
                // The unscaled due time is not stored; after a restart it is the due time.
                r.timers.insert(t.timer, (t.due_millis, t.due_millis));
                st.wheel.insert((t.due_millis, t.due_millis, arn, t.timer));
            }
        }
        let mut tasks = rec.tasks;
        tasks.sort_by_key(|t| t.created_millis);
        for t in tasks {
            let arn: Arc<str> = Arc::from(t.execution_arn.as_str());
            let Some(r) = st.running.get_mut(&arn) else {
                continue;
            };
            r.tasks.insert(t.task, t.token.clone());
            if let (Some(act), None) = (&t.activity_arn, &t.worker) {
                st.queues
                    .entry(act.clone())
                    .or_default()
                    .tasks
                    .push_back(t.token.clone());
            }
            st.tokens.insert(
                t.token.clone(),
                TokenEntry {
                    execution: arn,
                    task: t.task,
                    started: t.worker.is_some(),
                    record: t,
                    durable: true,
                },
            );
        }
        if resumed + broken > 0 {
            tracing::info!(resumed, broken, "recovered running executions");
        }
        // Executions the previous process crashed while stepping fail instead of
        // crashing this one too.
        for (arn, cause) in &self.inner.config.poisoned {
            let key: Arc<str> = Arc::from(arn.as_str());
            st.continues.retain(|a| *a != key);
            let Some(r) = st.running.get_mut(&key) else {
                continue;
            };
            tracing::error!(execution = %arn, %cause, "failing an execution that crashed the server");
            let step = r.ex.handle(
                Event::Terminate {
                    error: stepwise_expr::error::names::RUNTIME.into(),
                    cause: cause.clone(),
                },
                &mut SystemSources,
            );
            let (mut batch, mut fx) = (Batch::default(), Effects::default());
            st.drive(&self.inner, &key, step, &mut batch, &mut fx);
            let seq = st.submit(&self.inner, batch);
            fx.complete(&self.inner, seq);
        }
        Ok(())
    }

    /// StartExecution (`sync: false`) and StartSyncExecution (`sync: true`, EXPRESS only;
    /// waits for the end).
    pub async fn start_execution(
        &self,
        req: StartRequest,
        sync: bool,
    ) -> Result<(StartedExecution, Option<ExecutionOutcome>)> {
        let inner = &self.inner;
        let (machine_arn, test_case) = stepwise_mock::split_test_case(&req.state_machine_arn);
        let input_text = req.input.clone().unwrap_or_else(|| "{}".into());
        let input: Value =
            serde_json::from_str(&input_text).map_err(|e| invalid_input(&input_text, e))?;
        let mut src = SystemSources;
        let now = src.now_millis();
        let mut batch = Batch::default();
        let mut fx = Effects::default();
        // A named execution may exist already: look in the store before taking the lock
        // (names finished since are in `finished`, kept longer than this lookup takes).
        let stored = match (&req.name, machine_name_of(machine_arn)) {
            (Some(name), Some(machine)) => {
                let arn = format!("{}execution:{machine}:{name}", self.arn_prefix());
                if inner.names().may_contain(&arn) {
                    inner.store.execution(&arn).map_err(Error::store)?
                } else {
                    None
                }
            }
            _ => None,
        };
        let (started, rx, seq) = {
            let mut st = inner.lock();
            let target = st.resolve(machine_arn)?;
            if let Some(tc) = test_case {
                let Some(mocks) = &inner.config.mocks else {
                    return Err(Error::new(
                        ErrorCode::ValidationException,
                        format!("Test case '{tc}' requested, but the server has no mock configuration (start it with --mock-config FILE)"),
                    ));
                };
                if let Err(e) = mocks.test_case(&target.machine_name, tc) {
                    return Err(Error::new(ErrorCode::ValidationException, e.to_string()));
                }
            }
            if sync && target.machine_type != MachineType::Express {
                return Err(Error::new(
                    ErrorCode::StateMachineTypeNotSupported,
                    "This operation is not supported by this type of state machine",
                ));
            }
            let name = req.name.clone().unwrap_or_else(|| src.uuid());
            let express = target.machine_type == MachineType::Express;
            let info = if express {
                let mut i = ExecutionInfo::local_express(&target.machine_name, &name, &src.uuid());
                i.execution_arn = format!(
                    "{}express:{}:{}:{}",
                    self.arn_prefix(),
                    target.machine_name,
                    name,
                    i.execution_arn.rsplit(':').next().unwrap_or_default()
                );
                i
            } else {
                let mut i = ExecutionInfo::local(&target.machine_name, &name);
                i.execution_arn = format!(
                    "{}execution:{}:{}",
                    self.arn_prefix(),
                    target.machine_name,
                    name
                );
                i
            };
            let info = ExecutionInfo {
                state_machine_arn: target.machine_arn.clone(),
                role_arn: target.role_arn.clone(),
                region: inner.config.region.clone(),
                account: inner.config.account.clone(),
                ..info
            };
            let arn: Arc<str> = Arc::from(info.execution_arn.as_str());
            if !express {
                inner.names().insert(&arn);
                if let Some(r) = st.running.get(&arn) {
                    if r.record.input == input_text {
                        // Idempotent: same name and input while running.
                        return Ok((
                            StartedExecution {
                                arn: arn.to_string(),
                                start_millis: r.record.start_millis,
                            },
                            None,
                        ));
                    }
                    return Err(already_exists(&arn));
                }
                if st.finished.contains_key(&arn) {
                    return Err(already_exists(&arn));
                }
                if let Some(old) = stored.as_ref() {
                    if old.status == "RUNNING" && old.input == input_text {
                        return Ok((
                            StartedExecution {
                                arn: arn.to_string(),
                                start_millis: old.start_millis,
                            },
                            None,
                        ));
                    }
                    return Err(already_exists(&arn));
                }
            }
            let record = ExecutionRecord {
                arn: arn.to_string(),
                machine_arn: target.machine_arn.clone(),
                version_arn: target.version_arn.clone(),
                alias_arn: target.alias_arn.clone(),
                name: name.clone(),
                machine_type: target.machine_type,
                status: "RUNNING".into(),
                input: input_text.clone(),
                output: None,
                error: None,
                cause: None,
                start_millis: now,
                stop_millis: None,
                redrive_count: 0,
                redrive_millis: None,
                definition: String::new(),
                test_case: test_case.map(str::to_string),
                trace_header: req.trace_header.clone(),
                snapshot: None,
                history_len: 0,
                transitions: 0,
                map_run_arn: None,
            };
            // A placeholder, rewritten with the record as it stands after the first step.
            let insert_at = batch.writes.len();
            if !express {
                batch.push(Write::InsertExecution(record.clone()));
            }
            inner.metrics.executions_started.fetch_add(1, Relaxed);
            let _stepping = inner.stepping(&arn);
            let (ex, step) = Execution::start(Arc::clone(&target.machine), info, input, &mut src);
            let (tx, rx) = if sync {
                let (tx, rx) = oneshot::channel();
                (vec![tx], Some(rx))
            } else {
                (Vec::new(), None)
            };
            st.running.insert(
                Arc::clone(&arn),
                Box::new(Running {
                    ex,
                    record,
                    definition: Arc::clone(&target.definition),
                    timers: Default::default(),
                    tasks: Default::default(),
                    sync: tx,
                    stored_work: false,
                    insert_at: (!express).then_some(insert_at),
                }),
            );
            st.drive(inner, &arn, step, &mut batch, &mut fx);
            let seq = st.submit(inner, batch);
            (
                StartedExecution {
                    arn: arn.to_string(),
                    start_millis: now,
                },
                rx,
                seq,
            )
        };
        fx.complete(inner, seq);
        inner
            .committer
            .wait(seq)
            .await
            .map_err(|_| Error::commit())?;
        let outcome = match rx {
            Some(rx) => {
                let (record, seq) = rx.await.map_err(|_| Error::commit())?;
                inner
                    .committer
                    .wait(seq)
                    .await
                    .map_err(|_| Error::commit())?;
                Some(ExecutionOutcome { record })
            }
            None => None,
        };
        Ok((started, outcome))
    }

    /// DescribeExecution: running and recently finished ones from memory (once durable),
    /// the rest from the store.
    pub async fn describe_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        let cached = {
            let st = self.inner.lock();
            if let Some(r) = st.running.get(arn) {
                return Ok(r.full_record());
            }
            st.finished
                .get(arn)
                .map(|f| (f.record.clone(), Arc::clone(&f.definition), f.seq))
        };
        if let Some((record, definition, seq)) = cached {
            self.inner
                .committer
                .wait(seq)
                .await
                .map_err(|_| Error::commit())?;
            if let Some(record) = record {
                let mut rec = ExecutionRecord::clone(&record);
                rec.definition = definition.to_string();
                return Ok(rec);
            }
        }
        self.stored_execution(arn)
    }

    fn stored_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        self.inner
            .store
            .execution(arn)
            .map_err(Error::store)?
            .map(|mut r| {
                r.snapshot = None;
                r
            })
            .ok_or_else(|| does_not_exist(arn))
    }

    /// ListExecutions, newest first.
    pub fn list_executions(&self, query: &ExecutionQuery) -> Result<Vec<ExecutionRecord>> {
        let named = [&query.machine_arn, &query.version_arn, &query.alias_arn];
        if let Some(m) = named.into_iter().flatten().next() {
            let st = self.inner.lock();
            let target = st.resolve(m)?;
            if target.machine_type == MachineType::Express {
                return Err(Error::new(
                    ErrorCode::StateMachineTypeNotSupported,
                    "This operation is not supported by this type of state machine",
                ));
            }
        }
        let mut v = self.inner.store.executions(query).map_err(Error::store)?;
        for r in &mut v {
            r.snapshot = None;
        }
        Ok(v)
    }

    /// GetExecutionHistory: stored events (AWS JSON with data).
    pub async fn execution_history(
        &self,
        arn: &str,
        from: u64,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        // Also waits until a just-finished execution's last events are durable.
        self.describe_execution(arn).await?;
        self.inner
            .store
            .history(arn, from, reverse, limit)
            .map_err(Error::store)
    }

    /// StopExecution: returns the stop time.
    pub async fn stop_execution(
        &self,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64> {
        let running = self.inner.lock().running.contains_key(arn);
        if !running {
            let rec = self.stored_execution(arn)?;
            return Ok(rec.stop_millis.unwrap_or_else(now_millis));
        }
        self.step_durably(arn, |st| match st.running.get_mut(arn) {
            Some(r) => {
                Ok(r.ex.handle(Event::Stop { error, cause }, &mut SystemSources))
            }
            // Finished in between: stopping it is a no-op.
            None => Ok(Step::default()),
        })
        .await?;
        Ok(now_millis())
    }
}

impl Engine {
    /// Under the lock, let `step_of` produce a step of execution `arn` (after its own
    /// checks), drive it, and wait until the batch holding it is durable.
    pub(crate) async fn step_durably(
        &self,
        arn: &str,
        step_of: impl FnOnce(&mut State) -> Result<Step>,
    ) -> Result<()> {
        let inner = &self.inner;
        let key: Arc<str> = Arc::from(arn);
        let mut batch = Batch::default();
        let mut fx = Effects::default();
        let seq = {
            let mut st = inner.lock();
            let _stepping = inner.stepping(arn);
            let step = step_of(&mut st)?;
            st.drive(inner, &key, step, &mut batch, &mut fx);
            st.submit(inner, batch)
        };
        fx.complete(inner, seq);
        inner.committer.wait(seq).await.map_err(|_| Error::commit())
    }
}

/// `NAME` of `arn:…:stateMachine:NAME[:qualifier]`.
fn machine_name_of(arn: &str) -> Option<&str> {
    arn.split_once(":stateMachine:")
        .map(|(_, rest)| rest.split(':').next().unwrap_or(rest))
}

/// Finished executions whose input, output, error and cause together exceed this keep
/// only their name reservation in memory (payloads reach 256 KiB each).
const FINISHED_PAYLOAD_LIMIT: usize = 2048;

fn payload_bytes(r: &ExecutionRecord) -> usize {
    r.input.len()
        + r.output.as_ref().map_or(0, String::len)
        + r.error.as_ref().map_or(0, String::len)
        + r.cause.as_ref().map_or(0, String::len)
}

/// How many finished executions stay in memory.
const FINISHED_CACHE: usize = 16_384;
/// How long a finished execution stays in memory at least.
const FINISHED_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

fn already_exists(arn: &str) -> Error {
    Error::new(
        ErrorCode::ExecutionAlreadyExists,
        format!("Execution Already Exists: '{arn}'"),
    )
}

impl State {
    /// Queue a batch for the writer and stamp the executions it finishes with its
    /// sequence number. Every batch built under the lock goes through here.
    pub(crate) fn submit(&mut self, inner: &Inner, batch: Batch) -> u64 {
        let seq = inner.committer.submit(batch);
        for arn in self.unstamped.drain(..) {
            if let Some(f) = self.finished.get_mut(&arn) {
                f.seq = seq;
            }
        }
        self.evict_finished(inner.committer.committed());
        seq
    }

    /// Keep the finished cache bounded: drop the oldest entries that are durable and old
    /// enough that no StartExecution can still be between its store lookup and the lock.
    fn evict_finished(&mut self, committed: u64) {
        while self.finished_order.len() > FINISHED_CACHE {
            let Some(arn) = self.finished_order.front() else {
                break;
            };
            match self.finished.get(arn) {
                Some(f) if f.seq > committed || f.at.elapsed() < FINISHED_GRACE => break,
                _ => {
                    if let Some(arn) = self.finished_order.pop_front() {
                        self.finished.remove(&arn);
                    }
                }
            }
        }
    }
}

/// Fires due timers; sleeps until the next one or until an earlier one is armed.
pub(crate) async fn timer_loop(weak: Weak<Inner>) {
    loop {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        if inner.stopping.load(Relaxed) {
            return;
        }
        let next = {
            let mut batch = Batch::default();
            let mut fx = Effects::default();
            let mut st = inner.lock();
            let now = now_millis();
            // Every timer due now fires in the order of its unscaled due time, so at
            // `--time-scale 0` a 1 s wait still ends before a 2 s one armed earlier.
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
            for (due, virtual_due, arn, timer) in due_now {
                let Some(r) = st.running.get_mut(&arn) else {
                    continue;
                };
                if r.timers.get(&timer) != Some(&(due, virtual_due)) {
                    continue;
                }
                r.timers.remove(&timer);
                if r.record.machine_type == MachineType::Standard {
                    batch.push(Write::DeleteTimer {
                        execution_arn: arn.to_string(),
                        timer,
                    });
                }
                let Some(r) = st.running.get(&arn) else {
                    continue;
                };
                let event = st.deleted_check(r, Event::TimerFired { timer });
                let Some(r) = st.running.get_mut(&arn) else {
                    continue;
                };
                let _stepping = inner.stepping(&arn);
                let step = r.ex.handle(event, &mut SystemSources);
                st.drive(&inner, &arn, step, &mut batch, &mut fx);
            }
            // Executions that yielded go on, each once this turn (one that yields again
            // waits for the next turn, after whatever else is waiting for the lock).
            let continues = std::mem::take(&mut st.continues);
            let continued = !continues.is_empty();
            for arn in continues {
                let Some(r) = st.running.get(&arn) else {
                    continue;
                };
                let event = st.deleted_check(r, Event::Continue);
                let Some(r) = st.running.get_mut(&arn) else {
                    continue;
                };
                let _stepping = inner.stepping(&arn);
                let step = r.ex.handle(event, &mut SystemSources);
                st.drive(&inner, &arn, step, &mut batch, &mut fx);
            }
            let seq = st.submit(&inner, batch);
            fx.wake_timers = false;
            fx.complete(&inner, seq);
            if fired >= 2048 || continued || !st.continues.is_empty() {
                Some(0)
            } else {
                st.wheel.first().map(|(due, ..)| (due - now).max(0))
            }
        };
        let wake = inner.timer_wake.notified();
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

impl Engine {
    /// RedriveExecution: resume a FAILED, TIMED_OUT or ABORTED Standard execution from
    /// its unsuccessful states. Returns the redrive time.
    pub async fn redrive_execution(&self, arn: &str) -> Result<i64> {
        let not_redrivable = |m: String| Error::new(ErrorCode::ExecutionNotRedrivable, m);
        let record = self.describe_execution_full(arn)?;
        let now = now_millis();
        self.step_durably(arn, |st| {
            let key: Arc<str> = Arc::from(arn);
            if st.running.contains_key(&key) {
                return Err(not_redrivable(format!(
                    "Execution {arn} cannot be redriven: Execution is RUNNING and cannot be redriven"
                )));
            }
            let Some(snapshot) = &record.snapshot else {
                return Err(not_redrivable(format!(
                    "Execution {arn} cannot be redriven: Execution is {} and cannot be redriven",
                    record.status
                )));
            };
            let machine = st
                .machine_for(&record.definition)
                .map_err(|e| Error::new(ErrorCode::ServiceException, e))?;
            let mut ex = Execution::restore(machine, snapshot).map_err(|e| {
                tracing::error!(execution = arn, error = %e, "stored snapshot does not restore");
                Error::new(
                    ErrorCode::ServiceException,
                    "The execution's stored state is unreadable",
                )
            })?;
            let _stepping = self.inner.stepping(arn);
            let step = ex
                .redrive(&mut SystemSources)
                .map_err(|e| not_redrivable(format!("Execution {arn} cannot be redriven: {e}")))?;
            let mut rec = record.clone();
            let definition = st.shared_definition(&rec.definition);
            rec.definition = String::new();
            rec.snapshot = None;
            rec.status = "RUNNING".into();
            rec.output = None;
            rec.error = None;
            rec.cause = None;
            rec.stop_millis = None;
            rec.redrive_count += 1;
            rec.redrive_millis = Some(now);
            st.finished.remove(&key);
            st.running.insert(
                Arc::clone(&key),
                Box::new(Running {
                    ex,
                    record: rec,
                    definition,
                    timers: Default::default(),
                    tasks: Default::default(),
                    sync: Vec::new(),
                    // A redriven execution's old timers and tasks were cleared at its end.
                    stored_work: false,
                    insert_at: None,
                }),
            );
            Ok(step)
        })
        .await?;
        Ok(now)
    }

    /// The stored record with its snapshot (running executions: from memory, no snapshot).
    fn describe_execution_full(&self, arn: &str) -> Result<ExecutionRecord> {
        {
            let st = self.inner.lock();
            if let Some(r) = st.running.get(arn) {
                return Ok(r.full_record());
            }
        }
        self.inner
            .store
            .execution(arn)
            .map_err(Error::store)?
            .ok_or_else(|| does_not_exist(arn))
    }

    /// Map Runs of an execution, in start order.
    pub fn list_map_runs(&self, execution_arn: &str) -> Result<Vec<MapRunInfo>> {
        {
            let st = self.inner.lock();
            if let Some(r) = st.running.get(execution_arn) {
                return Ok(r.ex.map_runs());
            }
        }
        let record = self.describe_execution_full(execution_arn)?;
        let Some(snapshot) = &record.snapshot else {
            return Ok(Vec::new());
        };
        let machine = self
            .inner
            .lock()
            .machine_for(&record.definition)
            .map_err(|e| Error::new(ErrorCode::ServiceException, e))?;
        let ex = Execution::restore(machine, snapshot).map_err(|_| {
            Error::new(
                ErrorCode::ServiceException,
                "The execution's stored state is unreadable",
            )
        })?;
        Ok(ex.map_runs())
    }

    /// DescribeMapRun: the Map Run and the execution it belongs to.
    pub fn describe_map_run(&self, map_run_arn: &str) -> Result<(MapRunInfo, String)> {
        let missing = || {
            Error::new(
                ErrorCode::ResourceNotFound,
                format!("Resource not found: '{map_run_arn}'"),
            )
        };
        let exec = self
            .inner
            .store
            .map_run_execution(map_run_arn)
            .map_err(Error::store)?
            .ok_or_else(missing)?;
        let run = self
            .list_map_runs(&exec)?
            .into_iter()
            .find(|r| r.arn == map_run_arn)
            .ok_or_else(missing)?;
        Ok((run, exec))
    }

    /// UpdateMapRun: new concurrency and failure tolerance for a running Map Run.
    pub async fn update_map_run(
        &self,
        map_run_arn: &str,
        max_concurrency: Option<u64>,
        tolerated_count: Option<u64>,
        tolerated_percentage: Option<f64>,
    ) -> Result<()> {
        let (run, exec) = self.describe_map_run(map_run_arn)?;
        self.step_durably(&exec, |st| {
            st.running
                .get_mut(exec.as_str())
                .and_then(|r| {
                    r.ex.update_map_run(
                        map_run_arn,
                        max_concurrency,
                        tolerated_count,
                        tolerated_percentage,
                        &mut SystemSources,
                    )
                })
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::ValidationException,
                        format!(
                            "Map Run {map_run_arn} is {} and cannot be updated",
                            run.status.as_str()
                        ),
                    )
                })
        })
        .await
    }
}
