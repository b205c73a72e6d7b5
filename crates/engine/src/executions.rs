//! Executions: start, describe, stop, redrive, recover, Map Runs (the steps themselves
//! are in `stepping`).

use crate::catalog::not_found;
use crate::error::{Error, ErrorCode, Result};
use crate::sources::{now_millis, random_u64, SystemSources};
use crate::stepping::{update_of, Delivery, Effects, Mail};
use crate::{Engine, Inner, Running, State, TokenEntry};
use serde_json::Value;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use stepwise_expr::Sources;
use stepwise_interp::{Event, Execution, ExecutionInfo, Machine, MapRunInfo, Status};
use stepwise_store::{Batch, ExecutionQuery, ExecutionRecord, MachineType, StoredEvent, Write};
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

pub(crate) fn status_str(s: Status) -> &'static str {
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
        let deleted = match self.deleting.get(&r.record.machine_arn) {
            Some(m) if transition => m,
            _ => return event,
        };
        Event::Terminate {
            error: "States.Runtime".into(),
            cause: format!("State machine {} has been deleted.", deleted.rec.name),
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
        let mut unstarted = Vec::new();
        for record in rec.running {
            if record.snapshot.is_none() {
                // Stored by StartExecution while its first step ran; that step never
                // committed.
                unstarted.push(record);
                continue;
            }
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
                    let has_runnable = ex.has_runnable();
                    let mut r = Running::new(Some(ex), record, definition);
                    r.stored_work = true;
                    st.running.insert(Arc::clone(&arn), r);
                    if has_runnable {
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
                    call: None,
                },
            );
        }
        let resume = st.calls_to_resume(&self.inner);
        if !resume.is_empty() {
            tracing::info!(calls = resume.len(), "calling again what had not answered");
        }
        for (job, how) in resume {
            let key = job.key.clone();
            let handle = self.inner.start_call(job, how, None);
            if let Some(e) = st.tokens.get_mut(&key) {
                e.call = handle;
            }
        }
        if resumed + broken > 0 {
            tracing::info!(resumed, broken, "recovered running executions");
        }
        // Executions the previous process crashed while stepping fail instead of
        // crashing this one too.
        for (arn, cause) in &self.inner.config.poisoned {
            let key: Arc<str> = Arc::from(arn.as_str());
            st.continues.retain(|a| *a != key);
            if !st.running.contains_key(&key) {
                continue;
            }
            tracing::error!(execution = %arn, %cause, "failing an execution that crashed the server");
            let terminate = Event::Terminate {
                error: stepwise_expr::error::names::RUNTIME.into(),
                cause: cause.clone(),
            };
            self.inner
                .deliver(st, &key, Mail::Event(terminate), Batch::default(), false);
            st = self.inner.lock();
        }
        for record in unstarted {
            st = self.start_again(st, record);
        }
        Ok(())
    }

    /// Recovery of an execution stored before its first step committed: it starts again
    /// from its input (or fails, when that step crashed the previous process).
    fn start_again<'a>(
        &'a self,
        mut st: std::sync::MutexGuard<'a, State>,
        mut record: ExecutionRecord,
    ) -> std::sync::MutexGuard<'a, State> {
        let inner = &self.inner;
        let arn: Arc<str> = Arc::from(record.arn.as_str());
        let machine = match st.machine_for(&record.definition) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(execution = %arn, error = %e, "cannot resume execution");
                return st;
            }
        };
        let input: Value = serde_json::from_str(&record.input).unwrap_or(Value::Null);
        if let Some((_, cause)) = inner.config.poisoned.iter().find(|(a, _)| **a == *arn) {
            tracing::error!(execution = %arn, %cause, "failing an execution that crashed the server");
            record.status = status_str(Status::Failed).to_string();
            record.error = Some(stepwise_expr::error::names::RUNTIME.into());
            record.cause = Some(cause.clone());
            record.stop_millis = Some(now_millis());
            let mut batch = Batch::default();
            batch.push(Write::UpdateExecution(update_of(&record, None)));
            inner.announce(&mut batch, &record);
            st.submit(inner, batch);
            return st;
        }
        let machine_name = machine_name_of(&record.machine_arn).unwrap_or_default();
        let role_arn = record
            .version_arn
            .as_ref()
            .and_then(|v| st.versions.get(v).map(|v| v.rec.role_arn.clone()))
            .or_else(|| {
                st.machines
                    .get(&record.machine_arn)
                    .map(|m| m.rec.role_arn.clone())
            })
            .unwrap_or_default();
        // The region and account its machine's ARN names.
        let scope = crate::Scope::of_arn(&record.machine_arn)
            .unwrap_or_else(|| crate::Scope::new(&inner.config.region, &inner.config.account));
        let info = ExecutionInfo {
            execution_arn: record.arn.clone(),
            state_machine_arn: record.machine_arn.clone(),
            role_arn,
            region: scope.region,
            account: scope.account,
            ..ExecutionInfo::local(machine_name, &record.name)
        };
        let definition = st.shared_definition(&record.definition);
        record.definition = String::new();
        let reserved = st.reserve(&arn, Running::new(None, record, definition));
        drop(st);
        let (ex, step) = {
            let _stepping = inner.stepping(&arn, Some(Arc::clone(&reserved.interrupt)));
            Execution::start(machine, info, input, &mut SystemSources)
        };
        inner.drive(
            reserved.with(ex),
            step,
            Batch::default(),
            Effects::default(),
        );
        inner.lock()
    }

    /// StartExecution (`sync: false`) and StartSyncExecution (`sync: true`, EXPRESS only;
    /// waits for the end).
    pub async fn start_execution(
        &self,
        req: StartRequest,
        sync: bool,
    ) -> Result<(StartedExecution, Option<ExecutionOutcome>)> {
        let (tx, mut reserved) = oneshot::channel();
        let engine = self.clone();
        let mut first = tokio::task::spawn_blocking(move || engine.start_now(req, sync, tx));
        let inner = &self.inner;
        let done = match tokio::time::timeout(EARLY_ACK, &mut first).await {
            Ok(done) => done,
            Err(_) => {
                // The first step is slow: store the execution now and answer; the step
                // goes on and writes the rest.
                let early = match reserved.try_recv() {
                    Ok(started) if !sync => self.store_started(&started.arn).map(|s| (started, s)),
                    _ => None,
                };
                if let Some((started, seq)) = early {
                    inner
                        .committer
                        .wait(seq)
                        .await
                        .map_err(|_| Error::commit())?;
                    return Ok((started, None));
                }
                first.await
            }
        };
        let (started, rx, d) = done.map_err(|_| {
            Error::new(ErrorCode::ServiceException, "Internal error while stepping")
        })??;
        self.delivered(d).await?;
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

    /// Store a new execution whose first step is still running (see [`EARLY_ACK`]);
    /// `None` when its step already stored it.
    fn store_started(&self, arn: &str) -> Option<u64> {
        let mut st = self.inner.lock();
        let r = st.running.get_mut(arn)?;
        if r.record.machine_type == MachineType::Express {
            return Some(0); // never stored
        }
        if !std::mem::take(&mut r.unstored) {
            return None;
        }
        let record = r.full_record();
        let mut batch = Batch::default();
        self.inner.announce(&mut batch, &record);
        batch.push(Write::InsertExecution(record));
        Some(st.submit(&self.inner, batch))
    }

    /// StartExecution's work, on a blocking thread: checks, the first step, the batch.
    /// `reserved` learns the execution once it is taken, before its first step.
    #[allow(clippy::type_complexity)]
    fn start_now(
        &self,
        req: StartRequest,
        sync: bool,
        reserved_tx: oneshot::Sender<StartedExecution>,
    ) -> Result<(
        StartedExecution,
        Option<oneshot::Receiver<(ExecutionRecord, u64)>>,
        Delivery,
    )> {
        let inner = &self.inner;
        let (machine_arn, test_case) = stepwise_mock::split_test_case(&req.state_machine_arn);
        let input_text = req.input.clone().unwrap_or_else(|| "{}".into());
        let input: Value =
            serde_json::from_str(&input_text).map_err(|e| invalid_input(&input_text, e))?;
        let mut src = SystemSources;
        let now = src.now_millis();
        // A named execution may exist already: look in the store before taking the lock
        // (names finished since are in `finished`, kept longer than this lookup takes).
        let stored = match (&req.name, machine_name_of(machine_arn)) {
            (Some(name), Some(machine)) => {
                let arn = format!("{}execution:{machine}:{name}", self.prefix_for(machine_arn));
                if inner.names().may_contain(&arn) {
                    inner.store.execution(&arn).map_err(Error::store)?
                } else {
                    None
                }
            }
            _ => None,
        };
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
        // An execution lives where its machine does (the region and account of its ARN).
        let prefix = self.prefix_for(&target.machine_arn);
        let scope = self.scope_of(&target.machine_arn);
        let info = if express {
            let mut i = ExecutionInfo::local_express(&target.machine_name, &name, &src.uuid());
            i.execution_arn = format!(
                "{}express:{}:{}:{}",
                prefix,
                target.machine_name,
                name,
                i.execution_arn.rsplit(':').next().unwrap_or_default()
            );
            i
        } else {
            let mut i = ExecutionInfo::local(&target.machine_name, &name);
            i.execution_arn = format!("{}execution:{}:{}", prefix, target.machine_name, name);
            i
        };
        let info = ExecutionInfo {
            state_machine_arn: target.machine_arn.clone(),
            role_arn: target.role_arn.clone(),
            region: scope.region,
            account: scope.account,
            ..info
        };
        let arn: Arc<str> = Arc::from(info.execution_arn.as_str());
        if !express {
            inner.names().insert(&arn);
            if let Some(r) = st.running.get_mut(&arn) {
                if r.record.input != input_text {
                    return Err(already_exists(&arn));
                }
                // Idempotent: same name and input while running; answered once the
                // execution is durable (after the step that has it out, if one does).
                let started = StartedExecution {
                    arn: arn.to_string(),
                    start_millis: r.record.start_millis,
                };
                let d = if r.ex.is_none() {
                    let (tx, rx) = oneshot::channel();
                    r.mail.push((Mail::Ack, Some(tx)));
                    Delivery::Queued(rx)
                } else {
                    Delivery::Stepped(inner.committer.last_submitted())
                };
                return Ok((started, None, d));
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
                        Delivery::Stepped(0),
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
        inner.metrics.executions_started.fetch_add(1, Relaxed);
        let (sync_tx, rx) = if sync {
            let (tx, rx) = oneshot::channel();
            (vec![tx], Some(rx))
        } else {
            (Vec::new(), None)
        };
        let mut r = Running::new(None, record, Arc::clone(&target.definition));
        r.sync = sync_tx;
        r.unstored = !express;
        let started = StartedExecution {
            arn: arn.to_string(),
            start_millis: now,
        };
        let reserved = st.reserve(&arn, r);
        drop(st);
        let _ = reserved_tx.send(started.clone());
        let (ex, step) = {
            let _stepping = inner.stepping(&arn, Some(Arc::clone(&reserved.interrupt)));
            Execution::start(Arc::clone(&target.machine), info, input, &mut src)
        };
        let seq = inner.drive(
            reserved.with(ex),
            step,
            Batch::default(),
            Effects::default(),
        );
        Ok((started, rx, Delivery::Stepped(seq)))
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

    /// How many executions each state machine has in each status (the console's list).
    pub fn execution_counts(
        &self,
    ) -> Result<std::collections::HashMap<String, std::collections::BTreeMap<String, u64>>> {
        let mut out: std::collections::HashMap<String, std::collections::BTreeMap<String, u64>> =
            std::collections::HashMap::new();
        for (machine, status, n) in self.inner.store.execution_counts().map_err(Error::store)? {
            out.entry(machine).or_default().insert(status, n);
        }
        Ok(out)
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
        let key: Arc<str> = Arc::from(arn);
        let stop = Mail::Event(Event::Stop { error, cause });
        let d = self
            .off_api(move |e| {
                e.inner
                    .deliver(e.inner.lock(), &key, stop, Batch::default(), true)
            })
            .await?;
        if !self.delivered(d).await? {
            // Not running (any more): stopping it changes nothing.
            let rec = self.describe_execution(arn).await?;
            return Ok(rec.stop_millis.unwrap_or_else(now_millis));
        }
        Ok(now_millis())
    }
}

impl Engine {
    /// Step running execution `arn` with `f` once no other step has it out. `None` when
    /// it is not running or `f` has nothing to do (then nothing is written); otherwise
    /// the batch's number. Runs on a blocking thread (it may wait there).
    fn step_when_idle(
        &self,
        arn: &Arc<str>,
        f: impl FnOnce(&mut Execution) -> Option<stepwise_interp::Step>,
    ) -> Option<u64> {
        let inner = &self.inner;
        let mut c = loop {
            let mut st = inner.lock();
            let r = st.running.get_mut(arn)?;
            if r.ex.is_none() {
                drop(st);
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
            let mut r = st.running.remove(arn)?;
            let ex = r.ex.take()?;
            break st.check_out(arn, r, ex);
        };
        let step = inner.off_lock(&mut c, f);
        let applied = step.is_some();
        // Even with nothing to do it goes back through `drive`, which applies its mail.
        let seq = inner.drive(
            c,
            step.unwrap_or_default(),
            Batch::default(),
            Effects::default(),
        );
        applied.then_some(seq)
    }
}

/// How long StartExecution waits for a Standard execution's first step before it stores
/// the execution without it and answers (the step goes on).
const EARLY_ACK: std::time::Duration = std::time::Duration::from_millis(200);

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
    /// Keep a finished Standard execution's name taken (and its record at hand for
    /// DescribeExecution) until the store has it.
    pub(crate) fn remember_finished(&mut self, arn: &Arc<str>, r: &Running) {
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
    }

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

impl Engine {
    /// RedriveExecution: resume a FAILED, TIMED_OUT or ABORTED Standard execution from
    /// its unsuccessful states. Returns the redrive time.
    pub async fn redrive_execution(&self, arn: &str) -> Result<i64> {
        // No retention sweep deletes it between this read and the durable redrive.
        let _gate = self.inner.sweep_gate.read().await;
        let record = self.describe_execution_full(arn)?;
        let key: Arc<str> = Arc::from(arn);
        let seq = self.off_api(move |e| e.redrive_now(key, record)).await??;
        self.inner
            .committer
            .wait(seq)
            .await
            .map_err(|_| Error::commit())?;
        Ok(now_millis())
    }

    /// RedriveExecution's work, on a blocking thread.
    fn redrive_now(&self, key: Arc<str>, record: ExecutionRecord) -> Result<u64> {
        let arn = &*key;
        let inner = &self.inner;
        let now = now_millis();
        let not_redrivable = |m: String| Error::new(ErrorCode::ExecutionNotRedrivable, m);
        let running = || {
            not_redrivable(format!(
                "Execution {arn} cannot be redriven: Execution is RUNNING and cannot be redriven"
            ))
        };
        let machine = {
            let mut st = inner.lock();
            if st.running.contains_key(&key) {
                return Err(running());
            }
            st.machine_for(&record.definition)
                .map_err(|e| Error::new(ErrorCode::ServiceException, e))?
        };
        let Some(snapshot) = &record.snapshot else {
            return Err(not_redrivable(format!(
                "Execution {arn} cannot be redriven: Execution is {} and cannot be redriven",
                record.status
            )));
        };
        let mut ex = Execution::restore(machine, snapshot).map_err(|e| {
            tracing::error!(execution = arn, error = %e, "stored snapshot does not restore");
            Error::new(
                ErrorCode::ServiceException,
                "The execution's stored state is unreadable",
            )
        })?;
        let step = {
            let _stepping = inner.stepping(arn, None);
            ex.redrive(&mut SystemSources)
                .map_err(|e| not_redrivable(format!("Execution {arn} cannot be redriven: {e}")))?
        };
        let mut st = inner.lock();
        if st.running.contains_key(&key) {
            // Redriven by another call meanwhile.
            return Err(running());
        }
        let mut rec = record;
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
        // The redrive's status-change event (RUNNING again) goes with its first write.
        let mut batch = Batch::default();
        inner.announce(&mut batch, &rec);
        // A redriven execution's old timers and tasks were cleared at its end.
        let c = st
            .reserve(&key, Running::new(None, rec, definition))
            .with(ex);
        drop(st);
        Ok(inner.drive(c, step, batch, Effects::default()))
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
                // While a step has it out: the Map Runs as that step began.
                return Ok(match &r.ex {
                    Some(ex) => ex.map_runs(),
                    None => r.map_runs.clone(),
                });
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
        let key: Arc<str> = Arc::from(exec.as_str());
        let arn = map_run_arn.to_string();
        let seq = self
            .off_api(move |e| {
                e.step_when_idle(&key, |ex| {
                    ex.update_map_run(
                        &arn,
                        max_concurrency,
                        tolerated_count,
                        tolerated_percentage,
                        &mut SystemSources,
                    )
                })
            })
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::ValidationException,
                    format!(
                        "Map Run {map_run_arn} is {} and cannot be updated",
                        run.status.as_str()
                    ),
                )
            })?;
        self.inner
            .committer
            .wait(seq)
            .await
            .map_err(|_| Error::commit())
    }
}
