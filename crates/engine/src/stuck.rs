//! Stuck executions: RUNNING executions sitting in one state longer than a threshold,
//! with what each waits for, read from memory (the console's Stuck view).
//!
//! Every RUNNING execution is in `State::running`; its `Execution` knows the state it
//! sits in and since when ([`Execution::sitting`]: the longest-sitting leaf of a
//! Parallel or Map), and the engine's bookkeeping knows the rest (a timer's due time,
//! an activity's pollers, a `.sync` child's ARN). No history is read. An execution a
//! step has out at that moment (`Running::ex` is `None`) is moving, so it is left out
//! of that page. One call walks the RUNNING executions under the lock (a pass over each
//! one's frames), then describes only the page it returns.
//!
//! [`Execution::sitting`]: stepwise_interp::Execution::sitting

use crate::calls::CHILD;
use crate::Engine;
use std::collections::BinaryHeap;
use std::sync::Arc;
use stepwise_interp::exec::Waiting;

/// A RUNNING execution and the state it sits in.
#[derive(Debug, Clone, PartialEq)]
pub struct StuckExecution {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state: String,
    /// When that state was entered (epoch milliseconds).
    pub entered_millis: i64,
    pub waits_for: WaitsFor,
}

/// What a stuck execution waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitsFor {
    /// A timer: a Wait state's end (`retry` false) or a Retry's backoff, due at this
    /// wall-clock time (after `--time-scale`; `None` if not armed yet).
    Timer {
        retry: bool,
        due_millis: Option<i64>,
    },
    /// An activity task: a worker to take it (`worker` None; `pollers` are the
    /// GetActivityTask calls waiting on the activity now) or the worker that took it
    /// to answer.
    Activity {
        activity_arn: String,
        worker: Option<String>,
        pollers: usize,
    },
    /// Its task token (`.waitForTaskToken`): SendTaskSuccess / SendTaskFailure.
    TaskToken,
    /// A `startExecution.sync` child's end (its ARN once started).
    ChildExecution { execution_arn: Option<String> },
    /// A Distributed Map's run.
    MapRun { map_run_arn: String },
    /// A call in flight (the Task's `Resource`).
    Call { resource: String },
}

impl Engine {
    /// RUNNING executions whose current state was entered at least `min_age_millis`
    /// ago, oldest first, after the position `after` (entered time, execution ARN),
    /// at most `limit`.
    pub fn stuck_executions(
        &self,
        min_age_millis: i64,
        after: Option<(i64, &str)>,
        limit: usize,
    ) -> Vec<StuckExecution> {
        let now = crate::sources::now_millis();
        let until = now.saturating_sub(min_age_millis.max(0));
        let st = self.inner.lock();
        // The `limit` oldest positions past `after`, kept in a max-heap while the
        // RUNNING executions are walked once (no list of them all is made).
        let mut oldest: BinaryHeap<(i64, &Arc<str>)> = BinaryHeap::with_capacity(limit + 1);
        for (arn, r) in &st.running {
            let Some(s) = r.ex.as_ref().and_then(|ex| ex.sitting()) else {
                continue;
            };
            let key = (s.entered_millis, arn);
            if s.entered_millis > until
                || after.is_some_and(|a| (key.0, key.1.as_ref()) <= a)
                || (oldest.len() >= limit && oldest.peek().is_some_and(|top| key >= *top))
            {
                continue;
            }
            oldest.push(key);
            if oldest.len() > limit {
                oldest.pop();
            }
        }
        oldest
            .into_sorted_vec()
            .into_iter()
            .filter_map(|(_, arn)| {
                let r = st.running.get(arn)?;
                Some((arn, r, r.ex.as_ref()?.sitting()?))
            })
            .map(|(arn, r, s)| {
                let token = |task: u64| {
                    r.tasks
                        .get(&task)
                        .and_then(|t| st.tokens.get(t))
                        .map(|e| (e, &e.record))
                };
                let waits_for = match s.waiting {
                    Waiting::Wait { timer } | Waiting::Retry { timer } => WaitsFor::Timer {
                        retry: matches!(s.waiting, Waiting::Retry { .. }),
                        due_millis: r.timers.get(&timer).map(|t| t.0),
                    },
                    Waiting::Activity { task, activity } => {
                        let worker = token(task)
                            .filter(|(e, _)| e.started)
                            .map(|(_, rec)| rec.worker.clone().unwrap_or_default());
                        let pollers = st.queues.get(activity).map_or(0, |q| {
                            q.pollers.iter().filter(|p| !p.tx.is_closed()).count()
                        });
                        WaitsFor::Activity {
                            activity_arn: activity.to_string(),
                            worker,
                            pollers,
                        }
                    }
                    Waiting::TaskToken { .. } => WaitsFor::TaskToken,
                    Waiting::ChildExecution { task } => WaitsFor::ChildExecution {
                        execution_arn: token(task)
                            .and_then(|(_, rec)| rec.worker.as_deref()?.strip_prefix(CHILD))
                            .map(str::to_string),
                    },
                    Waiting::MapRun { map_run_arn } => WaitsFor::MapRun {
                        map_run_arn: map_run_arn.to_string(),
                    },
                    Waiting::Call { resource, .. } => WaitsFor::Call {
                        resource: resource.to_string(),
                    },
                };
                StuckExecution {
                    execution_arn: arn.to_string(),
                    name: r.record.name.clone(),
                    state_machine_arn: r.record.machine_arn.clone(),
                    state: s.state.to_string(),
                    entered_millis: s.entered_millis,
                    waits_for,
                }
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "tests/stuck.rs"]
mod tests;
