//! Task calls made for real (Lambda functions, HTTP endpoints; see `stepwise-tasks`).
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
use stepwise_tasks::{Call, Integrations, TaskError};
use tokio::sync::oneshot;

/// `TaskRecord::worker` of a `.waitForTaskToken` call that went out: the token now waits
/// for its answer, and recovery does not call again.
pub(crate) const SUBMITTED: &str = "(stepwise: call submitted)";

/// The key of a call's task entry when it has no token.
pub(crate) fn call_key(execution_arn: &str, task: u64) -> String {
    format!("call/{task}/{execution_arn}")
}

/// A call on its way; dropping it aborts the call.
pub(crate) struct CallHandle(tokio::task::AbortHandle);

impl Drop for CallHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One call to make.
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
}

impl Inner {
    /// Start `job` on the runtime: it waits for `durable` (the number of the batch that
    /// stores its task; dropped: the batch never went out) before calling.
    pub(crate) fn start_call(
        &self,
        integrations: &Arc<Integrations>,
        job: CallJob,
        durable: Option<oneshot::Receiver<u64>>,
    ) -> Option<CallHandle> {
        let weak = self.me.get()?.clone();
        let runtime = self.runtime.as_ref()?;
        let integrations = Arc::clone(integrations);
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
            let request_id = uuid_like(&job);
            let result = integrations
                .call(Call {
                    state_name: &job.state_name,
                    resource: &job.resource,
                    parameters: &job.parameters,
                    request_id,
                })
                .await;
            answered(weak, job, result);
        });
        Some(CallHandle(handle.abort_handle()))
    }
}

/// Deliver a call's result to its execution (on a blocking thread: it steps it).
fn answered(weak: Weak<Inner>, job: CallJob, result: Result<Value, TaskError>) {
    tokio::task::spawn_blocking(move || {
        let Some(inner) = weak.upgrade() else { return };
        let mut st = inner.lock();
        let mut batch = Batch::default();
        let Some(entry) = st.tokens.get_mut(&job.key) else {
            // Cancelled or answered meanwhile.
            return;
        };
        // Done: dropping its handle now aborts nothing.
        entry.call = None;
        let (event, finishes) = match result {
            Ok(output) if job.submits => {
                entry.record.worker = Some(SUBMITTED.to_string());
                if entry.durable {
                    batch.push(Write::PutTask(entry.record.clone()));
                }
                (
                    Event::TaskSubmitted {
                        task: job.task,
                        output,
                    },
                    false,
                )
            }
            Ok(output) => (
                Event::TaskSucceeded {
                    task: job.task,
                    output,
                },
                true,
            ),
            Err(e) => (
                Event::TaskFailed {
                    task: job.task,
                    error: e.error,
                    cause: e.cause,
                },
                true,
            ),
        };
        if finishes {
            st.tokens.remove(&job.key);
        }
        let mail = Mail::Task {
            task: job.task,
            token: job.key.clone(),
            event,
            finishes,
        };
        let arn = Arc::clone(&job.execution);
        inner.deliver(st, &arn, mail, batch, false);
    });
}

/// A request id for the call: fixed per task, so a call sent again after a restart
/// carries the same id (functions can use it to drop duplicates).
fn uuid_like(job: &CallJob) -> String {
    use std::hash::{Hash, Hasher};
    let mut a = std::collections::hash_map::DefaultHasher::new();
    job.execution.hash(&mut a);
    job.task.hash(&mut a);
    let x = a.finish();
    let mut b = std::collections::hash_map::DefaultHasher::new();
    x.hash(&mut b);
    job.key.hash(&mut b);
    let y = b.finish();
    stepwise_interp::run::format_uuid(x, y)
}

impl State {
    /// Recovery: the calls that had not answered before the crash go out again.
    pub(crate) fn calls_to_resend(&self, integrations: &Integrations) -> Vec<(String, CallJob)> {
        self.tokens
            .iter()
            .filter(|(_, e)| {
                e.record.activity_arn.is_none()
                    && e.record.worker.is_none()
                    && integrations.calls(&e.record.resource)
            })
            .filter_map(|(key, e)| {
                let parameters = serde_json::from_str(&e.record.input).ok()?;
                Some((
                    key.clone(),
                    CallJob {
                        execution: Arc::clone(&e.execution),
                        task: e.task,
                        key: key.clone(),
                        state_name: e.record.state_name.clone(),
                        resource: e.record.resource.clone(),
                        parameters,
                        submits: key.starts_with("AQ"),
                    },
                ))
            })
            .collect()
    }
}
