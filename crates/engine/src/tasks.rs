//! Activity workers and task tokens: GetActivityTask, SendTaskSuccess/Failure/Heartbeat.

use crate::catalog::activity_not_found;
use crate::error::{Error, ErrorCode, Result};
use crate::stepping::{Delivery, Mail};
use crate::{Engine, State};
use std::sync::Arc;
use std::time::Duration;
use stepwise_interp::Event;
use stepwise_store::{Batch, Write};
use tokio::sync::oneshot;

/// AWS's limit on concurrent GetActivityTask calls per activity.
pub const MAX_POLLERS: usize = 1000;
/// How long GetActivityTask waits for work (AWS: 60 seconds).
pub const POLL_SECONDS: u64 = 60;

/// A task handed to an activity worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityTask {
    pub token: String,
    pub input: String,
}

/// What a GetActivityTask call found.
enum Polled {
    /// A task, handed out by this delivery.
    Now(ActivityTask, Delivery),
    /// Nothing now, and the server is stopping.
    Empty,
    Wait(oneshot::Receiver<(ActivityTask, u64)>),
}

/// A GetActivityTask call waiting for work.
pub(crate) struct Poller {
    pub worker: String,
    pub tx: oneshot::Sender<(ActivityTask, u64)>,
}

/// Our tokens are `AQ` and two UUIDs' worth of hex; anything else was never issued.
fn well_formed(token: &str) -> bool {
    token
        .strip_prefix("AQ")
        .is_some_and(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn unknown_token(token: &str) -> Error {
    if well_formed(token) {
        // Issued once, answered or timed out since.
        Error::new(
            ErrorCode::TaskTimedOut,
            "Task Timed Out: 'Provided task does not exist anymore'",
        )
    } else {
        Error::new(ErrorCode::InvalidToken, "Invalid Token: 'Invalid token'")
    }
}

impl State {
    /// Accept an answer for `token`: the execution it goes to and the mail that carries
    /// it. A task that is over releases its token now, so a second answer is refused.
    fn accept_answer(
        &mut self,
        token: &str,
        event: impl FnOnce(u64) -> Event,
        finishes: bool,
    ) -> Result<(Arc<str>, Mail)> {
        let Some(entry) = self.tokens.get(token) else {
            return Err(unknown_token(token));
        };
        let (arn, task) = (Arc::clone(&entry.execution), entry.task);
        if !self.running.contains_key(&arn) {
            self.tokens.remove(token);
            return Err(unknown_token(token));
        }
        if finishes {
            self.tokens.remove(token);
        }
        let mail = Mail::Task {
            task,
            token: token.to_string(),
            event: event(task),
            finishes,
        };
        Ok((arn, mail))
    }
}

impl Engine {
    /// GetActivityTask: a queued task, or `None` after waiting up to 60 seconds.
    pub async fn get_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<String>,
    ) -> Result<Option<ActivityTask>> {
        self.get_activity_task_within(activity_arn, worker_name, Duration::from_secs(POLL_SECONDS))
            .await
    }

    /// GetActivityTask with a chosen long-poll time (tests).
    pub async fn get_activity_task_within(
        &self,
        activity_arn: &str,
        worker_name: Option<String>,
        wait: Duration,
    ) -> Result<Option<ActivityTask>> {
        let worker = worker_name.unwrap_or_default();
        let arn = activity_arn.to_string();
        let rx = match self.off_api(move |e| e.poll_now(&arn, worker)).await?? {
            Polled::Now(task, d) => {
                self.delivered(d).await?;
                return Ok(Some(task));
            }
            Polled::Empty => return Ok(None),
            Polled::Wait(rx) => rx,
        };
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok((task, seq))) => {
                self.inner
                    .committer
                    .wait(seq)
                    .await
                    .map_err(|_| Error::commit())?;
                Ok(Some(task))
            }
            _ => Ok(None),
        }
    }

    /// GetActivityTask's work, on a blocking thread (handing a task out steps its
    /// execution): a queued task, or a place in the queue of pollers.
    fn poll_now(&self, activity_arn: &str, worker: String) -> Result<Polled> {
        let inner = &self.inner;
        let mut batch = Batch::default();
        let mut st = inner.lock();
        if !st.activities.contains_key(activity_arn) {
            return Err(activity_not_found(activity_arn));
        }
        // A queued task whose token is still open.
        let mut found = None;
        while let Some(token) = st
            .queues
            .get_mut(activity_arn)
            .and_then(|q| q.tasks.pop_front())
        {
            if let Some(e) = st.tokens.get_mut(&token) {
                if !e.started {
                    e.started = true;
                    // Taken for good: a restart must not hand it out again.
                    e.record.worker = Some(worker.clone());
                    if e.durable {
                        batch.push(Write::PutTask(e.record.clone()));
                    }
                    found = Some((token, e.record.input.clone()));
                    break;
                }
            }
        }
        if let Some((token, input)) = found {
            let (arn, mail) = st.accept_answer(
                &token,
                |task| Event::TaskStarted {
                    task,
                    worker_name: worker,
                },
                false,
            )?;
            let d = inner.deliver(st, &arn, mail, batch, true);
            return Ok(Polled::Now(ActivityTask { token, input }, d));
        }
        if inner.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(Polled::Empty);
        }
        let queue = st.queues.entry(activity_arn.to_string()).or_default();
        queue.pollers.retain(|p| !p.tx.is_closed());
        if queue.pollers.len() >= MAX_POLLERS {
            return Err(Error::new(
                ErrorCode::ActivityWorkerLimitExceeded,
                format!("Activity Worker Limit Exceeded: at most {MAX_POLLERS} GetActivityTask calls may wait on '{activity_arn}'"),
            ));
        }
        let (tx, rx) = oneshot::channel();
        queue.pollers.push_back(crate::tasks::Poller { worker, tx });
        Ok(Polled::Wait(rx))
    }

    async fn answer_task(
        &self,
        token: &str,
        event: impl FnOnce(u64) -> Event + Send + 'static,
        finishes: bool,
    ) -> Result<()> {
        if !well_formed(token) {
            // Also the keys of calls without a token: those are never answered here.
            return Err(unknown_token(token));
        }
        let token = token.to_string();
        let d = self
            .off_api(move |e| {
                let mut st = e.inner.lock();
                let (arn, mail) = st.accept_answer(&token, event, finishes)?;
                Ok::<_, Error>(e.inner.deliver(st, &arn, mail, Batch::default(), true))
            })
            .await??;
        self.delivered(d).await?;
        Ok(())
    }

    /// Each activity with the GetActivityTask calls waiting on it now and its tasks no
    /// worker has taken yet (the console's Activities page).
    pub fn activity_queues(&self) -> Vec<(stepwise_store::ActivityRecord, usize, usize)> {
        let st = self.inner.lock();
        st.activities
            .values()
            .map(|a| {
                let (pollers, queued) = st.queues.get(&a.arn).map_or((0, 0), |q| {
                    (
                        q.pollers.iter().filter(|p| !p.tx.is_closed()).count(),
                        q.tasks
                            .iter()
                            .filter(|t| st.tokens.get(*t).is_some_and(|e| !e.started))
                            .count(),
                    )
                });
                (a.clone(), pollers, queued)
            })
            .collect()
    }

    /// Tasks waiting on a token (activity tasks, `.waitForTaskToken` callbacks), oldest
    /// first: for the console's approvals.
    pub fn waiting_tasks(&self) -> Vec<stepwise_store::TaskRecord> {
        let st = self.inner.lock();
        let mut v: Vec<_> = st
            .tokens
            .iter()
            .filter(|(token, _)| well_formed(token))
            .map(|(_, e)| e.record.clone())
            .collect();
        v.sort_by(|a, b| (a.created_millis, &a.token).cmp(&(b.created_millis, &b.token)));
        v
    }

    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<()> {
        let output: serde_json::Value = serde_json::from_str(output)
            .map_err(|e| Error::new(ErrorCode::InvalidOutput, format!("Invalid Output: '{e}'")))?;
        self.answer_task(token, |task| Event::TaskSucceeded { task, output }, true)
            .await
    }

    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<()> {
        self.answer_task(
            token,
            |task| Event::TaskFailed {
                task,
                error: error.unwrap_or_default(),
                cause: cause.unwrap_or_default(),
            },
            true,
        )
        .await
    }

    pub async fn send_task_heartbeat(&self, token: &str) -> Result<()> {
        self.answer_task(token, |task| Event::TaskHeartbeat { task }, false)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_we_never_issued_are_invalid() {
        assert_eq!(unknown_token("nope").code, ErrorCode::InvalidToken);
        assert_eq!(unknown_token(&"a".repeat(64)).code, ErrorCode::InvalidToken);
        let issued = format!("AQ{}", "0f".repeat(32));
        assert_eq!(unknown_token(&issued).code, ErrorCode::TaskTimedOut);
    }
}
