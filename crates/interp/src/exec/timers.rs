//! Timers: arming and cancelling them, and what a fired one means (a Wait's end, a
//! Retry's backoff, a Task's `TimeoutSeconds` or `HeartbeatSeconds`, the machine's
//! `TimeoutSeconds`).

use super::*;

impl Execution {
    pub(super) fn arm_timer(&mut self, due_millis: i64) -> u64 {
        let timer = self.next_timer;
        self.next_timer += 1;
        self.out
            .commands
            .push(Command::ArmTimer { timer, due_millis });
        timer
    }

    pub(super) fn cancel_timer(&mut self, timer: u64) {
        self.timers.remove(&timer);
        self.out.commands.push(Command::CancelTimer { timer });
    }

    pub(super) fn timer_fired(&mut self, timer: u64, src: &mut dyn Sources) {
        if Some(timer) == self.execution_timer {
            self.finish_execution(
                Status::TimedOut,
                None,
                Some(names::TIMEOUT.into()),
                Some("The execution timed out.".into()),
            );
            return;
        }
        let Some(fid) = self.timers.remove(&timer) else {
            return;
        };
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(fid).path);
        let states = states_at(&machine.definition, &path);
        let Some(mut a) = self.take_active(fid) else {
            return;
        };
        let st = states.get(a.state);
        let flow = match std::mem::replace(&mut a.wait, Blocked::Nothing) {
            Blocked::WaitTimer {
                timer: t,
                output,
                assigned,
            } if t == timer => {
                self.frame(fid).stage = Stage::Active(a);
                match self.finish_state(fid, st, output, assigned, None) {
                    Ok(out) => Self::transition(st, out),
                    Err(f) => Flow::Failed(f),
                }
            }
            Blocked::RetryTimer { timer: t } if t == timer => {
                self.frame(fid).stage = Stage::Active(a);
                self.execute(fid, st, src)
            }
            Blocked::Task(tw) => {
                // AWS records a missed heartbeat as `States.Timeout` too (TaskTimedOut /
                // ActivityTimedOut); `States.HeartbeatTimeout` only names it in ErrorEquals.
                let err = StatesError::new(names::TIMEOUT, "");
                for t in [tw.timeout_timer, tw.heartbeat_timer].into_iter().flatten() {
                    if t != timer {
                        self.cancel_timer(t);
                    }
                }
                self.tasks.remove(&tw.task);
                self.out
                    .commands
                    .push(Command::CancelTask { task: tw.task });
                self.frame(fid).stage = Stage::Active(a);
                self.emit_task_failure(fid, &tw, true, &err);
                Flow::Failed(Failure::plain(err))
            }
            other => {
                a.wait = other;
                self.frame(fid).stage = Stage::Active(a);
                return;
            }
        };
        if self.after_flow(fid, states, flow, src) {
            self.runnable.push_back(fid);
        }
    }
}
