//! Task calls made for real: configured functions and HTTP endpoints (`stepwise-tasks`)
//! and nested executions (`states:startExecution`, see `nested`).
//!
//! A call is a task entry like a callback's, keyed by its token (`.waitForTaskToken`) or
//! by a key of its own, and stored with the batch of its `TaskScheduled`. It goes out
//! only once that batch is durable, runs on the runtime off the engine lock, and comes
//! back as mail for its execution. Removing the entry (the task timed out, the execution
//! stopped or ended) aborts the call, which ends any process it started. After a crash,
//! recovery sends again every call that had not answered: at least once, as AWS's
//! integrations are.

use crate::stepping::Mail;
use crate::{Inner, State};
use serde_json::Value;
use std::sync::{Arc, Weak};
use stepwise_interp::Event;
use stepwise_store::{Batch, Write};
use stepwise_tasks::resource::{self, Pattern, Resource};
use stepwise_tasks::{Call, Integrations, TaskError};
use tokio::sync::oneshot;

/// `TaskRecord::worker` of a call that went out and now waits for its token: recovery
/// does not send it again.
pub(crate) const SUBMITTED: &str = "(stepwise: call submitted)";
/// `TaskRecord::worker` prefix of a `.sync` nested execution that started: the child's
/// ARN follows; recovery watches it again.
pub(crate) const CHILD: &str = "child:";

/// The key of a call's task entry when it has no token.
pub(crate) fn call_key(execution_arn: &str, task: u64) -> String {
    format!("call/{task}/{execution_arn}")
}

/// What carries a call out.
#[derive(Clone)]
pub(crate) enum CallKind {
    Integration(Arc<Integrations>),
    Nested(Pattern),
}

impl Inner {
    /// How `resource` is called for real, if it is.
    pub(crate) fn call_kind(&self, resource: &str) -> Option<CallKind> {
        if let Some((Resource::StartExecution, pattern)) = resource::classify(resource) {
            return Some(CallKind::Nested(pattern));
        }
        self.config
            .integrations
            .as_ref()
            .filter(|i| i.calls(resource))
            .map(|i| CallKind::Integration(Arc::clone(i)))
    }
}

/// A call on its way; dropping it aborts the call.
pub(crate) struct CallHandle(tokio::task::AbortHandle);

impl Drop for CallHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One call to make.
#[derive(Clone)]
pub(crate) struct CallJob {
    pub execution: Arc<str>,
    pub task: u64,
    /// The task entry's key (its token for `.waitForTaskToken`).
    pub key: String,
    pub state_name: String,
    pub resource: String,
    pub parameters: Value,
    /// `.waitForTaskToken`: the call's result is `TaskSubmitted`; the token finishes it.
    pub submits: bool,
    pub kind: CallKind,
}

impl CallJob {
    /// A request id fixed per task, so a call sent again after a restart carries the
    /// same one (functions can drop duplicates by it; nested executions are named by it).
    pub(crate) fn request_id(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut a = std::collections::hash_map::DefaultHasher::new();
        self.execution.hash(&mut a);
        self.task.hash(&mut a);
        let x = a.finish();
        let mut b = std::collections::hash_map::DefaultHasher::new();
        x.hash(&mut b);
        self.key.hash(&mut b);
        stepwise_interp::run::format_uuid(x, b.finish())
    }
}

/// How a call goes on after a restart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Resume {
    /// Send it (the first time, or again).
    Send { again: bool },
    /// A `.sync` nested execution started: wait for this child.
    Watch(String),
}

/// What a call answers.
pub(crate) enum Answer {
    /// It went out and gave this; the task waits on (its token, or the child recorded
    /// in `worker`).
    Submitted {
        output: Value,
        worker: String,
    },
    Done(Result<Value, TaskError>),
}

impl Inner {
    /// Start `job` on the runtime: it waits for `durable` (the number of the batch that
    /// stores its task; dropped: the batch never went out) before calling.
    pub(crate) fn start_call(
        &self,
        job: CallJob,
        resume: Resume,
        durable: Option<oneshot::Receiver<u64>>,
    ) -> Option<CallHandle> {
        let weak = self.me.get()?.clone();
        let runtime = self.runtime.as_ref()?;
        let handle = runtime.spawn(async move {
            if let Some(rx) = durable {
                let Ok(seq) = rx.await else { return };
                let Some(inner) = weak.upgrade() else { return };
                let committer = Arc::clone(&inner.committer);
                drop(inner);
                if committer.wait(seq).await.is_err() {
                    return;
                }
            }
            match job.kind.clone() {
                CallKind::Integration(integrations) => {
                    let result = integrations
                        .call(Call {
                            state_name: &job.state_name,
                            resource: &job.resource,
                            parameters: &job.parameters,
                            request_id: job.request_id(),
                        })
                        .await;
                    let answer = match result {
                        Ok(output) if job.submits => Answer::Submitted {
                            output,
                            worker: SUBMITTED.into(),
                        },
                        other => Answer::Done(other),
                    };
                    answer_call(&weak, &job, answer).await;
                }
                CallKind::Nested(pattern) => {
                    crate::nested::run(weak, job, pattern, resume).await;
                }
            }
        });
        Some(CallHandle(handle.abort_handle()))
    }
}

/// Deliver a call's answer to its execution, on a blocking thread (it steps it); back
/// once it is applied or queued.
pub(crate) async fn answer_call(weak: &Weak<Inner>, job: &CallJob, answer: Answer) {
    let weak = weak.clone();
    let (key, task, execution) = (job.key.clone(), job.task, Arc::clone(&job.execution));
    let _ = tokio::task::spawn_blocking(move || {
        let Some(inner) = weak.upgrade() else { return };
        let mut st = inner.lock();
        let mut batch = Batch::default();
        let Some(entry) = st.tokens.get_mut(&key) else {
            // Cancelled or answered meanwhile.
            return;
        };
        let (event, finishes) = match answer {
            Answer::Submitted { output, worker } => {
                entry.record.worker = Some(worker);
                if entry.durable {
                    batch.push(Write::PutTask(entry.record.clone()));
                }
                (Event::TaskSubmitted { task, output }, false)
            }
            Answer::Done(Ok(output)) => (Event::TaskSucceeded { task, output }, true),
            Answer::Done(Err(e)) => (
                Event::TaskFailed {
                    task,
                    error: e.error,
                    cause: e.cause,
                },
                true,
            ),
        };
        if finishes {
            // Done: dropping its handle now aborts nothing that still matters.
            st.tokens.remove(&key);
        }
        let mail = Mail::Task {
            task,
            token: key,
            event,
            finishes,
        };
        inner.deliver(st, &execution, mail, batch, false);
    })
    .await;
}

impl State {
    /// Recovery: the calls that had not answered before the crash, and the `.sync`
    /// children to watch again.
    pub(crate) fn calls_to_resume(&self, inner: &Inner) -> Vec<(CallJob, Resume)> {
        self.tokens
            .iter()
            .filter(|(_, e)| e.record.activity_arn.is_none())
            .filter_map(|(key, e)| {
                let kind = inner.call_kind(&e.record.resource)?;
                let resume = match e.record.worker.as_deref() {
                    None => Resume::Send { again: true },
                    Some(w) => Resume::Watch(w.strip_prefix(CHILD)?.to_string()),
                };
                let parameters = serde_json::from_str(&e.record.input).ok()?;
                Some((
                    CallJob {
                        execution: Arc::clone(&e.execution),
                        task: e.task,
                        key: key.clone(),
                        state_name: e.record.state_name.clone(),
                        resource: e.record.resource.clone(),
                        parameters,
                        submits: key.starts_with("AQ"),
                        kind,
                    },
                    resume,
                ))
            })
            .collect()
    }
}

/// TestState's calls for real: a Task given no mock calls what `stepwise.toml`
/// configures, on the blocking thread TestState runs on.
pub(crate) struct TestStateCalls {
    integrations: Arc<Integrations>,
    runtime: tokio::runtime::Handle,
    exchange: stepwise_tasks::Exchange,
}

impl TestStateCalls {
    pub(crate) fn new(
        integrations: Arc<Integrations>,
        runtime: tokio::runtime::Handle,
        reveal_secrets: bool,
    ) -> TestStateCalls {
        TestStateCalls {
            integrations,
            runtime,
            exchange: stepwise_tasks::Exchange {
                reveal: reveal_secrets,
                ..Default::default()
            },
        }
    }
}

impl stepwise_interp::TaskCaller for TestStateCalls {
    fn calls(&self, resource: &str) -> bool {
        self.integrations.calls(resource)
    }

    fn call(
        &mut self,
        req: &stepwise_interp::TaskRequest,
    ) -> Result<Value, stepwise_expr::error::StatesError> {
        let call = Call {
            state_name: &req.state_name,
            resource: &req.resource,
            parameters: &req.input,
            request_id: stepwise_interp::run::format_uuid(
                req.task ^ 0x7e57_57a7e,
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
            ),
        };
        let fut = self.integrations.call_traced(call, &mut self.exchange);
        self.runtime
            .block_on(fut)
            .map_err(|e| stepwise_expr::error::StatesError::new(e.error, e.cause))
    }

    fn exchange(&self) -> (Option<Value>, Option<Value>) {
        (
            self.exchange.request.clone(),
            self.exchange.response.clone(),
        )
    }
}
