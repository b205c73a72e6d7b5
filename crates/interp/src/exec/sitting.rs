//! Where a running execution sits and what it waits for, read from its frames (the
//! console's Stuck view, through the engine): no history is read.
//!
//! An execution in several states at once (Parallel branches, inline Map iterations)
//! is reported by its longest-sitting *leaf*: a state blocked on a timer, a task or a
//! Distributed Map's run, never a Parallel or inline Map waiting on its children. A
//! Distributed Map is a leaf itself (its Map Run); its child executions' states are not
//! looked at. Frames ready to run (a step that yielded) are moving, so not leaves.

use super::*;

/// What a state waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting<'a> {
    /// A Wait state's timer.
    Wait { timer: u64 },
    /// A Retry's backoff before the next attempt.
    Retry { timer: u64 },
    /// An activity task (the activity's ARN).
    Activity { task: u64, activity: &'a str },
    /// A `.waitForTaskToken` callback (SendTaskSuccess / SendTaskFailure).
    TaskToken { task: u64 },
    /// A `states:startExecution.sync` child execution's end.
    ChildExecution { task: u64 },
    /// A call in flight (Lambda, HTTP, another integration; the Task's `Resource`).
    Call { task: u64, resource: &'a str },
    /// A Distributed Map's run (its ARN).
    MapRun { map_run_arn: &'a str },
}

/// A state an execution sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sitting<'a> {
    pub state: &'a str,
    /// When it was entered (the clock the engine gave the step, epoch milliseconds).
    pub entered_millis: i64,
    pub waiting: Waiting<'a>,
}

impl Execution {
    /// The longest-sitting leaf state (see the module's text), or `None` when the
    /// execution is not running or no state waits (it has frames ready to run).
    pub fn sitting(&self) -> Option<Sitting<'_>> {
        if self.status != Status::Running || !self.runnable.is_empty() {
            return None;
        }
        let mut best: Option<Sitting<'_>> = None;
        for f in self.frames.iter().flatten() {
            if f.sink.is_some() {
                continue;
            }
            let Stage::Active(a) = &f.stage else {
                continue;
            };
            if best.is_some_and(|b| b.entered_millis <= a.entered_millis) {
                continue;
            }
            let st = states_at(&self.machine.definition, &f.path).get(a.state);
            let waiting = match &a.wait {
                Blocked::Nothing => continue,
                Blocked::WaitTimer { timer, .. } => Waiting::Wait { timer: *timer },
                Blocked::RetryTimer { timer } => Waiting::Retry { timer: *timer },
                Blocked::Task(tw) => {
                    let resource = match &st.kind {
                        StateKind::Task(t) => t.resource.as_str(),
                        _ => tw.resource.as_str(),
                    };
                    let task = tw.task;
                    if tw.kind == task::ResourceKind::Activity {
                        Waiting::Activity {
                            task,
                            activity: resource,
                        }
                    } else if resource.ends_with(".waitForTaskToken") {
                        Waiting::TaskToken { task }
                    } else if resource.contains(":states:::states:startExecution.sync") {
                        Waiting::ChildExecution { task }
                    } else {
                        Waiting::Call { task, resource }
                    }
                }
                Blocked::Fanout(fan) => match fan.run.and_then(|r| self.runs.get(r)) {
                    Some(run) => Waiting::MapRun {
                        map_run_arn: run.arn.as_str(),
                    },
                    // Parallel and inline Map: their children are the leaves.
                    None => continue,
                },
            };
            best = Some(Sitting {
                state: &st.name,
                entered_millis: a.entered_millis,
                waiting,
            });
        }
        best
    }
}
