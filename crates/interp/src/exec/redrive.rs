//! Redriving an execution that failed, timed out or was stopped (a child module of
//! `exec`, for its private frame types).
//!
//! When a frame fails for good, the step function records a [`Point`]: the state it
//! failed in, that state's raw input and the frame's variables, and for a Parallel or
//! Map state that failed because of its children, which children succeeded (their
//! results are kept) and where the others stopped. A stopped or timed-out execution
//! keeps its frames, and the point is taken from them. [`Execution::redrive`] rebuilds
//! the frames from the point: the unsuccessful states are entered again with their
//! original input, and inside a Parallel or Map only the branches and iterations that
//! failed, were aborted or never started run again.

use super::{
    child_start, states_at, Active, Blocked, Counts, Execution, FanKind, Fanout, Frame, FrameId,
    Stage, Status, Step, MAX_HISTORY_EVENTS,
};
use crate::history::{Details, EventType};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use stepwise_asl::State;
use stepwise_expr::Sources;

/// AWS redrives an execution only while its history has fewer events than this (room
/// for `ExecutionRedriven` and at least one more event).
pub const REDRIVE_MAX_EVENTS: u64 = 24_999;
/// The maximum open time of an execution (one year).
const MAX_OPEN_MILLIS: i64 = 365 * 24 * 3600 * 1000;
/// The redrivable period: 14 days from the end of the execution.
const REDRIVABLE_MILLIS: i64 = 14 * 24 * 3600 * 1000;

/// Where a frame stopped when its execution ended unsuccessfully: the state a redrive
/// enters again, with its raw input and the frame's variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Point {
    pub(super) state: usize,
    pub(super) input: Arc<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(super) vars: Map<String, Value>,
    /// Set for a Parallel/Map state that failed because of its children (or was
    /// running them): a redrive keeps the children that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fan: Option<Box<FanPoint>>,
}

/// The children of a Parallel/Map state a redrive resumes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FanPoint {
    pub(super) kind: FanKind,
    pub(super) total: usize,
    /// Results of the children that succeeded (kept, not rerun).
    pub(super) results: Vec<Option<Arc<Value>>>,
    /// Children to run again, by index: failed, aborted or never started.
    pub(super) redo: Vec<(usize, Point)>,
    pub(super) limit: usize,
    pub(super) tolerated_count: Option<u64>,
    pub(super) tolerated_pct: Option<f64>,
    pub(super) run: Option<usize>,
}

/// Why [`Execution::redrive`] refused. The texts are AWS's `redriveStatusReason`s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedriveError {
    #[error("Execution is RUNNING and cannot be redriven")]
    Running,
    #[error("Execution is SUCCEEDED and cannot be redriven")]
    Succeeded,
    /// RedriveExecution is not supported for EXPRESS state machines.
    #[error("Execution is EXPRESS and cannot be redriven")]
    Express,
    #[error("Execution history event limit exceeded")]
    HistoryLimit,
    #[error("Execution has exceeded the max execution time")]
    MaxExecutionTime,
    #[error("Execution redrivable period exceeded")]
    RedrivePeriod,
    /// Nothing was recorded to resume from (not expected for a finished execution).
    #[error("Execution has no unsuccessful state to redrive")]
    NothingToRedrive,
}

/// The cause of the failure that ends an execution at the history limit.
pub(super) fn history_limit_cause() -> String {
    format!("The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS}).")
}

impl Point {
    pub(super) fn new(state: usize, input: Arc<Value>, fan: Option<Box<FanPoint>>) -> Point {
        Point {
            state,
            input,
            vars: Map::new(),
            fan,
        }
    }
}

impl Execution {
    /// Continue an execution that FAILED, TIMED_OUT or was ABORTED (AWS
    /// `RedriveExecution`): the unsuccessful states run again with their original input
    /// and the variables as they were; states that succeeded are not rerun, and inside
    /// a Parallel or Map only the failed or aborted branches and iterations run again.
    /// The returned step starts with `ExecutionRedriven`; `$$.Execution.RedriveCount`
    /// counts one more, and the machine's `TimeoutSeconds` starts over.
    pub fn redrive(&mut self, sources: &mut dyn Sources) -> Result<Step, RedriveError> {
        let now = sources.now_millis();
        self.redrivable(now)?;
        let point = match self.redrive_point.take() {
            Some(p) => *p,
            None => self.capture(0).ok_or(RedriveError::NothingToRedrive)?,
        };
        if super::snapshot::check_point(&self.machine.definition.states, &point, self.runs.len())
            .is_err()
        {
            return Err(RedriveError::NothingToRedrive);
        }
        self.now = now;
        self.status = Status::Running;
        self.output = None;
        self.error = None;
        self.cause = None;
        self.frames.clear();
        self.free.clear();
        self.runnable.clear();
        self.timers.clear();
        self.tasks.clear();
        let info = Arc::make_mut(&mut self.info);
        info.redrive_count += 1;
        let redrive_count = info.redrive_count;
        let prev = self.next_event_id.saturating_sub(1);
        let redriven = self.push_event(
            prev,
            EventType::ExecutionRedriven,
            Details::Redriven { redrive_count },
        );
        if let Some(t) = self.machine.definition.timeout_seconds {
            let timer = self.arm_timer(now + (t as i64) * 1000);
            self.execution_timer = Some(timer);
        }
        let root = self.alloc(Frame {
            parent: None,
            path: Arc::from(Vec::new()),
            vars: Map::new(),
            last: redriven,
            sink: None,
            stage: Stage::Finished,
        });
        self.resume(root, point, sources);
        self.run(sources);
        Ok(std::mem::take(&mut self.out))
    }

    /// Whether [`Execution::redrive`] would accept the execution at `now_millis`
    /// (DescribeExecution's `redriveStatus` / `redriveStatusReason`).
    pub fn redrivable(&self, now_millis: i64) -> Result<(), RedriveError> {
        match self.status {
            Status::Running => return Err(RedriveError::Running),
            Status::Succeeded => return Err(RedriveError::Succeeded),
            _ => {}
        }
        if self.info.express {
            return Err(RedriveError::Express);
        }
        let events = self.next_event_id.saturating_sub(1);
        if events >= REDRIVE_MAX_EVENTS
            || self.cause.as_deref() == Some(history_limit_cause().as_str())
        {
            return Err(RedriveError::HistoryLimit);
        }
        if now_millis.saturating_sub(self.start_millis) > MAX_OPEN_MILLIS {
            return Err(RedriveError::MaxExecutionTime);
        }
        // `now` was last set by the step that ended the execution.
        if now_millis.saturating_sub(self.now) > REDRIVABLE_MILLIS {
            return Err(RedriveError::RedrivePeriod);
        }
        Ok(())
    }

    /// Put frame `fid` back where `point` says: ready to enter the state again, or (for
    /// a Parallel/Map with kept children) inside it with the other children restarted.
    pub(super) fn resume(&mut self, fid: FrameId, point: Point, src: &mut dyn Sources) {
        let Point {
            state,
            input,
            vars,
            fan,
        } = point;
        self.frame(fid).vars = vars;
        let fp = match fan {
            Some(fp) if !fp.redo.is_empty() => fp,
            // Nothing kept (or nothing left to run): the state runs again whole.
            _ => {
                self.frame(fid).stage = Stage::Ready { state, input };
                self.runnable.push_back(fid);
                return;
            }
        };
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(fid).path);
        let st = states_at(&machine.definition, &path).get(state);
        let (entered_prev, entered_id) = self.record_entered(fid, st, &input);
        match fp.kind {
            FanKind::Parallel => self.emit(fid, EventType::ParallelStateStarted, Details::None),
            _ => self.emit(
                fid,
                EventType::MapStateStarted,
                Details::MapStateStarted { length: fp.total },
            ),
        };
        let FanPoint {
            kind,
            total,
            results,
            redo,
            limit,
            tolerated_count,
            tolerated_pct,
            run,
        } = *fp;
        let succeeded = results.iter().filter(|r| r.is_some()).count();
        if kind == FanKind::MapRun {
            let done: Vec<usize> = (0..results.len())
                .filter(|&i| results[i].is_some())
                .collect();
            let again: Vec<usize> = redo.iter().map(|(i, _)| *i).collect();
            self.redrive_run(fid, run, &done, &again);
        }
        self.frame(fid).stage = Stage::Active(Box::new(Active {
            state,
            input,
            entered_id,
            entered_prev,
            entered_millis: self.now,
            retries: vec![0; st.retry.len()],
            wait: Blocked::Nothing,
        }));
        let mut fan = Fanout {
            kind,
            pending: VecDeque::new(),
            next_index: total,
            total,
            results,
            running: 0,
            limit,
            succeeded,
            failed: 0,
            tolerated_count,
            tolerated_pct,
            children: Vec::new(),
            redo: VecDeque::from(redo),
            tolerated_points: Vec::new(),
            failed_items: 0,
            run,
        };
        self.fill(fid, st, &mut fan, src);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::Fanout(Box::new(fan));
        }
    }

    /// A Map Run runs again: `MapRunRedriven`, and its counts start over from what is kept.
    /// `succeeded` and `redo` are the indexes of the children kept and run again.
    fn redrive_run(
        &mut self,
        fid: FrameId,
        run: Option<usize>,
        succeeded: &[usize],
        redo: &[usize],
    ) {
        let now = self.now;
        let Some(r) = run.and_then(|i| self.runs.get_mut(i)) else {
            return;
        };
        r.status = Status::Running;
        r.stop_millis = None;
        r.redrive_count += 1;
        r.redrive_millis = Some(now);
        let sizes = &r.batch_sizes;
        let items = |idx: &[usize]| -> u64 {
            if sizes.is_empty() {
                idx.len() as u64
            } else {
                idx.iter()
                    .map(|&i| sizes.get(i).map_or(1, |&n| u64::from(n)))
                    .sum()
            }
        };
        let (pending, done) = (items(redo), items(succeeded));
        if let Some(e) = &mut r.executions {
            *e = Counts {
                pending: redo.len() as u64,
                succeeded: succeeded.len() as u64,
                total: e.total,
                ..Counts::default()
            };
        }
        r.items = Counts {
            pending,
            succeeded: done,
            total: r.items.total,
            ..Counts::default()
        };
        let details = Details::MapRunRedriven {
            map_run_arn: r.arn.clone(),
            redrive_count: r.redrive_count,
        };
        self.emit(fid, EventType::MapRunRedriven, details);
    }

    /// Where a live frame is: the state it is in (or about to enter) and, for a running
    /// Parallel/Map, where its children are.
    pub(super) fn capture(&self, fid: FrameId) -> Option<Point> {
        let f = self.frames.get(fid)?.as_ref()?;
        match &f.stage {
            Stage::Ready { state, input } => Some(Point {
                state: *state,
                input: Arc::clone(input),
                vars: f.vars.clone(),
                fan: None,
            }),
            Stage::Active(a) => {
                let fan = match &a.wait {
                    Blocked::Fanout(fan) => {
                        let st = states_at(&self.machine.definition, &f.path).get(a.state);
                        Some(Box::new(self.fan_point(fid, st, fan, None)))
                    }
                    _ => None,
                };
                Some(Point {
                    state: a.state,
                    input: Arc::clone(&a.input),
                    vars: f.vars.clone(),
                    fan,
                })
            }
            Stage::Finished => None,
        }
    }

    /// What a redrive of the fanout of frame `pid` (state `st`) keeps and reruns;
    /// `failed` is the child whose failure ends the fanout (its frame is gone).
    pub(super) fn fan_point(
        &self,
        pid: FrameId,
        st: &State,
        fan: &Fanout,
        failed: Option<(usize, Point)>,
    ) -> FanPoint {
        let mut results = fan.results.clone();
        let mut redo: Vec<(usize, Point)> = Vec::new();
        // Tolerated failures are failures too: they run again.
        for (i, p) in &fan.tolerated_points {
            if let Some(r) = results.get_mut(*i) {
                *r = None;
            }
            redo.push((*i, p.clone()));
        }
        for &c in &fan.children {
            let Some(Some(f)) = self.frames.get(c) else {
                continue;
            };
            match f.parent {
                Some((p, index)) if p == pid => {
                    if let Some(point) = self.capture(c) {
                        redo.push((index, point));
                    }
                }
                _ => {}
            }
        }
        redo.extend(fan.redo.iter().cloned());
        for (k, input) in fan.pending.iter().enumerate() {
            let i = fan.next_index + k;
            redo.push((i, Point::new(child_start(st, i), Arc::clone(input), None)));
        }
        redo.extend(failed);
        // `children` may name a frame twice (ids are reused as children finish).
        redo.sort_by_key(|(i, _)| *i);
        redo.dedup_by_key(|(i, _)| *i);
        FanPoint {
            kind: fan.kind,
            total: fan.total,
            results,
            redo,
            limit: fan.limit,
            tolerated_count: fan.tolerated_count,
            tolerated_pct: fan.tolerated_pct,
            run: fan.run,
        }
    }

    /// Every Distributed Map run started in this execution, finished ones included, in
    /// the order they started.
    pub fn map_runs(&self) -> Vec<super::MapRunInfo> {
        self.runs.clone()
    }

    /// Whether any Distributed Map run started in this execution.
    pub fn has_map_runs(&self) -> bool {
        !self.runs.is_empty()
    }

    /// AWS `UpdateMapRun`: change a running Map Run's `MaxConcurrency` (0 = no limit) and
    /// failure tolerance. A higher concurrency starts waiting items at once (the returned
    /// step); `None` leaves a setting as it is. `false` when no running Map Run has `arn`.
    pub fn update_map_run(
        &mut self,
        arn: &str,
        max_concurrency: Option<u64>,
        tolerated_count: Option<u64>,
        tolerated_percentage: Option<f64>,
        sources: &mut dyn Sources,
    ) -> Option<Step> {
        let run = self
            .runs
            .iter()
            .position(|r| r.arn == arn && r.status == Status::Running)?;
        let fid = (0..self.frames.len()).find(|&i| {
            matches!(
                self.frames.get(i).and_then(|f| f.as_ref()).map(|f| &f.stage),
                Some(Stage::Active(a)) if matches!(&a.wait, Blocked::Fanout(f) if f.run == Some(run))
            )
        })?;
        self.now = sources.now_millis();
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(fid).path);
        let states = states_at(&machine.definition, &path);
        let Stage::Active(a) = &mut self.frame(fid).stage else {
            return None;
        };
        let state = a.state;
        let Blocked::Fanout(mut fan) = std::mem::replace(&mut a.wait, Blocked::Nothing) else {
            return None;
        };
        let info = &mut self.runs[run];
        if let Some(m) = max_concurrency {
            info.max_concurrency = m;
            fan.limit = if m == 0 { usize::MAX } else { m as usize };
        }
        if let Some(c) = tolerated_count {
            info.tolerated_failure_count = c;
            fan.tolerated_count = Some(c);
        }
        if let Some(p) = tolerated_percentage {
            info.tolerated_failure_percentage = p;
            fan.tolerated_pct = Some(p);
        }
        self.fill(fid, states.get(state), &mut fan, sources);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::Fanout(fan);
        }
        self.run(sources);
        Some(std::mem::take(&mut self.out))
    }
}

#[cfg(test)]
#[path = "../tests/redrive.rs"]
mod tests;
