//! What an execution's history alone says about it: [`fold`] replays AWS-shaped
//! events into a [`Summary`], and [`crate::Execution::summary`] gives the same
//! [`Summary`] from the execution's frames. A snapshot must always equal the fold of
//! the history it produced.
//!
//! History links events through `previousEventId` only, and not always within one
//! branch (a Map's `MapStateSucceeded` points at its last iteration's last event), so
//! the fold keeps a small tree of frames (the top level, each Parallel branch, each
//! Map iteration) and finds the state an event belongs to by walking up from the
//! frame of its previous event.
//!
//! When a Parallel branch or Map iteration fails, AWS writes `MapIterationAborted` for
//! each other running iteration and `TaskStateAborted` for each Task still in progress,
//! all pointing at the event that failed the child (not at their own frames): the fold
//! finds the iteration by its index and the Task as the first one still open beside
//! it. One thing history cannot show: a child in any other state (a Wait, a Pass
//! between two steps) gets no event, so when the Parallel/Map then retries, the fold
//! counts that child as running until the retry starts (`…StateStarted` again).

use crate::exec::Status;
use crate::history::{Details, EvaluationFailedDetails, EventType, HistoryEvent};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What can be derived from an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub status: Status,
    /// The execution input (from `ExecutionStarted`).
    pub input: Option<Arc<Value>>,
    pub output: Option<Arc<Value>>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The id of the newest event (0 before any).
    pub last_event_id: u64,
    /// States entered and not yet left, by the id of their `…StateEntered` event.
    pub open_states: BTreeMap<u64, OpenState>,
    /// Parallel branches and Map iterations currently inside a state.
    pub open_children: usize,
    /// `…StateEntered` events so far.
    pub transitions: u64,
}

/// A state that was entered and has not exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenState {
    pub name: Arc<str>,
    /// The `…StateEntered` id of the Parallel or Map state this one runs under.
    pub parent: Option<u64>,
}

impl Summary {
    /// The summary of an empty history.
    pub fn empty() -> Summary {
        Summary {
            status: Status::Running,
            input: None,
            output: None,
            error: None,
            cause: None,
            last_event_id: 0,
            open_states: BTreeMap::new(),
            open_children: 0,
            transitions: 0,
        }
    }
}

/// Fold a whole history (Temporal's "apply events" style).
pub fn fold(events: &[HistoryEvent]) -> Summary {
    let mut f = Folder::new();
    for e in events {
        f.apply(e);
    }
    f.summary()
}

/// An incremental [`fold`]: apply events one by one, read the summary at any point.
#[derive(Debug, Clone)]
pub struct Folder {
    summary: Summary,
    frames: Vec<FoldFrame>,
    states: Vec<FoldState>,
    /// The frame each event belongs to (event 0, "before anything", is the top level).
    event_frame: HashMap<u64, usize>,
    /// Events that start children (`ParallelStateStarted`, `MapIterationStarted`): the
    /// Parallel/Map state and the iteration index.
    starts_children: HashMap<u64, (usize, Option<usize>)>,
}

#[derive(Debug, Clone)]
struct FoldFrame {
    /// The Parallel/Map state (index into `states`) this frame runs under.
    parent: Option<usize>,
    /// Map iterations: the item index.
    index: Option<usize>,
    open: Option<usize>,
}

#[derive(Debug, Clone)]
struct FoldState {
    name: Arc<str>,
    entered: EventType,
    entered_id: u64,
    entered_prev: u64,
    frame: usize,
    open: bool,
    children: Vec<usize>,
}

impl Default for Folder {
    fn default() -> Self {
        Folder::new()
    }
}

impl Folder {
    pub fn new() -> Folder {
        Folder {
            summary: Summary::empty(),
            frames: vec![FoldFrame {
                parent: None,
                index: None,
                open: None,
            }],
            states: Vec::new(),
            event_frame: HashMap::new(),
            starts_children: HashMap::new(),
        }
    }

    /// The summary of the events applied so far.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        let mut frames: Vec<usize> = s
            .open_states
            .keys()
            .filter_map(|id| self.open_state_by_id(*id))
            .map(|i| self.states[i].frame)
            .filter(|f| *f != 0)
            .collect();
        frames.sort_unstable();
        frames.dedup();
        s.open_children = frames.len();
        s
    }

    fn open_state_by_id(&self, id: u64) -> Option<usize> {
        // Open states are few; entered ids are increasing, so search by id.
        self.states
            .binary_search_by_key(&id, |s| s.entered_id)
            .ok()
            .filter(|i| self.states[*i].open)
    }

    /// Apply one event.
    pub fn apply(&mut self, e: &HistoryEvent) {
        use EventType::*;
        let s = &mut self.summary;
        s.last_event_id = s.last_event_id.max(e.id);
        let prev_frame = self
            .event_frame
            .get(&e.previous_event_id)
            .copied()
            .unwrap_or(0);
        let frame = match e.event_type {
            ExecutionStarted => {
                if let Details::ExecutionStarted { input, .. } = &e.details {
                    s.input = Some(Arc::clone(input));
                }
                0
            }
            ExecutionSucceeded | ExecutionFailed | ExecutionAborted | ExecutionTimedOut => {
                s.status = match e.event_type {
                    ExecutionSucceeded => Status::Succeeded,
                    ExecutionFailed => Status::Failed,
                    ExecutionTimedOut => Status::TimedOut,
                    _ => Status::Aborted,
                };
                match &e.details {
                    Details::Output { output } => s.output = Some(Arc::clone(output)),
                    Details::Failure { error, cause } => {
                        s.error = error.clone();
                        s.cause = cause.clone();
                    }
                    _ => {}
                }
                self.close_everything();
                0
            }
            ExecutionRedriven => {
                s.status = Status::Running;
                s.output = None;
                s.error = None;
                s.cause = None;
                0
            }
            ChoiceStateEntered | FailStateEntered | MapStateEntered | ParallelStateEntered
            | PassStateEntered | SucceedStateEntered | TaskStateEntered | WaitStateEntered => {
                s.transitions += 1;
                let frame = match self.starts_children.get(&e.previous_event_id).copied() {
                    Some((fan, index)) => self.new_child_frame(fan, index),
                    None => prev_frame,
                };
                let name = match &e.details {
                    Details::StateEntered { name, .. } => Arc::clone(name),
                    _ => Arc::from(""),
                };
                // A Fail state ends its branch at once; it is never "in" a state.
                if e.event_type != FailStateEntered {
                    self.open(frame, name, e);
                }
                frame
            }
            ChoiceStateExited | MapStateExited | ParallelStateExited | PassStateExited
            | SucceedStateExited | TaskStateExited | WaitStateExited => {
                let entered = entered_for_exited(e.event_type);
                let owner = match &e.details {
                    Details::StateExited { name, .. } => {
                        self.find_up(prev_frame, |s| s.entered == entered && s.name == *name)
                    }
                    _ => self.find_up(prev_frame, |s| s.entered == entered),
                };
                self.close_owned(owner, prev_frame)
            }
            TaskStateAborted | WaitStateAborted | MapStateAborted | ParallelStateAborted => {
                let entered = match e.event_type {
                    TaskStateAborted => TaskStateEntered,
                    WaitStateAborted => WaitStateEntered,
                    MapStateAborted => MapStateEntered,
                    _ => ParallelStateEntered,
                };
                let owner = self
                    .find_up(prev_frame, |s| s.entered == entered)
                    .or_else(|| {
                        // The other children's aborted Tasks point at the event that failed
                        // one child, in another frame: the first Task still open under the
                        // same Parallel/Map is the one (they come in child order).
                        (e.event_type == TaskStateAborted)
                            .then(|| self.first_open_task_beside(prev_frame))
                            .flatten()
                    });
                self.close_owned(owner, prev_frame)
            }
            MapStateStarted | ParallelStateStarted => {
                let entered = if e.event_type == MapStateStarted {
                    MapStateEntered
                } else {
                    ParallelStateEntered
                };
                let owner = self.find_up(prev_frame, |s| s.entered == entered);
                match owner {
                    Some(st) => {
                        // Started again after a retry: the previous attempt's children are gone.
                        self.close_children(st);
                        if e.event_type == ParallelStateStarted {
                            self.starts_children.insert(e.id, (st, None));
                        }
                        self.states[st].frame
                    }
                    None => prev_frame,
                }
            }
            MapStateFailed | ParallelStateFailed => {
                let entered = if e.event_type == MapStateFailed {
                    MapStateEntered
                } else {
                    ParallelStateEntered
                };
                match self.find_up(prev_frame, |s| s.entered == entered) {
                    Some(st) => {
                        self.close_children(st);
                        self.states[st].frame
                    }
                    None => prev_frame,
                }
            }
            MapStateSucceeded | MapRunStarted | MapRunSucceeded | MapRunFailed | MapRunAborted
            | MapRunRedriven => self
                .find_up(prev_frame, |s| s.entered == MapStateEntered)
                .map_or(prev_frame, |st| self.states[st].frame),
            ParallelStateSucceeded => self
                .find_up(prev_frame, |s| s.entered == ParallelStateEntered)
                .map_or(prev_frame, |st| self.states[st].frame),
            MapIterationStarted => match &e.details {
                Details::MapIteration { name, index } => {
                    match self.find_up(prev_frame, |s| {
                        s.entered == MapStateEntered && s.name == *name
                    }) {
                        Some(st) => {
                            self.starts_children.insert(e.id, (st, Some(*index)));
                            self.states[st].frame
                        }
                        None => prev_frame,
                    }
                }
                _ => prev_frame,
            },
            MapIterationSucceeded | MapIterationFailed | MapIterationAborted => match &e.details {
                Details::MapIteration { name, index } => {
                    let found = self.find_iteration(prev_frame, name, *index).or_else(|| {
                        // An aborted iteration points at the event that failed another.
                        (e.event_type == MapIterationAborted)
                            .then(|| self.sibling_iteration(prev_frame, name, *index))
                            .flatten()
                    });
                    match found {
                        Some((iteration, map)) => {
                            self.close_frame(iteration);
                            self.states[map].frame
                        }
                        None => prev_frame,
                    }
                }
                _ => prev_frame,
            },
            EvaluationFailed => {
                let owner = match &e.details {
                    Details::EvaluationFailed(d) => {
                        let EvaluationFailedDetails { state, .. } = &**d;
                        self.evaluation_owner(prev_frame, e.previous_event_id, state)
                    }
                    _ => None,
                };
                owner.map_or(prev_frame, |st| self.states[st].frame)
            }
            ActivityFailed
            | ActivityScheduled
            | ActivityScheduleFailed
            | ActivityStarted
            | ActivitySucceeded
            | ActivityTimedOut
            | LambdaFunctionFailed
            | LambdaFunctionScheduled
            | LambdaFunctionScheduleFailed
            | LambdaFunctionStarted
            | LambdaFunctionStartFailed
            | LambdaFunctionSucceeded
            | LambdaFunctionTimedOut
            | TaskFailed
            | TaskScheduled
            | TaskStarted
            | TaskStartFailed
            | TaskSubmitFailed
            | TaskSubmitted
            | TaskSucceeded
            | TaskTimedOut => self
                .find_up(prev_frame, |s| s.entered == TaskStateEntered)
                .map_or(prev_frame, |st| self.states[st].frame),
        };
        self.event_frame.insert(e.id, frame);
    }

    fn new_child_frame(&mut self, fan: usize, index: Option<usize>) -> usize {
        let id = self.frames.len();
        self.frames.push(FoldFrame {
            parent: Some(fan),
            index,
            open: None,
        });
        if let Some(s) = self.states.get_mut(fan) {
            s.children.push(id);
        }
        id
    }

    fn open(&mut self, frame: usize, name: Arc<str>, e: &HistoryEvent) {
        // Keep `states` sorted by entered id (ids only grow; a malformed history may not).
        if self.states.last().is_some_and(|s| s.entered_id >= e.id) {
            return;
        }
        if let Some(stale) = self.frames.get(frame).and_then(|f| f.open) {
            self.close_state(stale);
        }
        let idx = self.states.len();
        let parent = self
            .frames
            .get(frame)
            .and_then(|f| f.parent)
            .map(|p| self.states[p].entered_id);
        self.states.push(FoldState {
            name: Arc::clone(&name),
            entered: e.event_type,
            entered_id: e.id,
            entered_prev: e.previous_event_id,
            frame,
            open: true,
            children: Vec::new(),
        });
        if let Some(f) = self.frames.get_mut(frame) {
            f.open = Some(idx);
        }
        self.summary
            .open_states
            .insert(e.id, OpenState { name, parent });
    }

    /// Close the state an exit-like event belongs to; the event's frame is the state's.
    fn close_owned(&mut self, owner: Option<usize>, fallback: usize) -> usize {
        match owner {
            Some(st) => {
                self.close_state(st);
                self.states[st].frame
            }
            None => fallback,
        }
    }

    /// The nearest open state, from `frame` up through the Parallel/Map states above it.
    fn find_up(&self, mut frame: usize, pred: impl Fn(&FoldState) -> bool) -> Option<usize> {
        loop {
            let f = self.frames.get(frame)?;
            if let Some(s) = f.open.filter(|s| pred(&self.states[*s])) {
                return Some(s);
            }
            // Parents are always older frames, so this walk ends.
            frame = self.states[f.parent?].frame;
        }
    }

    /// The iteration frame (and its Map state) that `frame` is in or under.
    fn find_iteration(&self, mut frame: usize, name: &str, index: usize) -> Option<(usize, usize)> {
        loop {
            let f = self.frames.get(frame)?;
            let parent = f.parent?;
            let p = &self.states[parent];
            if p.entered == EventType::MapStateEntered && &*p.name == name && f.index == Some(index)
            {
                return Some((frame, parent));
            }
            frame = p.frame;
        }
    }

    /// The first Task state still open, depth first in child order, under the nearest
    /// Parallel/Map state that `frame` runs under.
    fn first_open_task_beside(&self, frame: usize) -> Option<usize> {
        let fan = self.frames.get(frame)?.parent?;
        self.first_open_task_in(fan)
    }

    fn first_open_task_in(&self, st: usize) -> Option<usize> {
        for &c in &self.states.get(st)?.children {
            let Some(open) = self.frames.get(c).and_then(|f| f.open) else {
                continue;
            };
            if self.states[open].entered == EventType::TaskStateEntered {
                return Some(open);
            }
            if let Some(t) = self.first_open_task_in(open) {
                return Some(t);
            }
        }
        None
    }

    /// Iteration `index` of the Map state `name` that `frame` runs under (directly or
    /// further up), and that Map state.
    fn sibling_iteration(
        &self,
        mut frame: usize,
        name: &str,
        index: usize,
    ) -> Option<(usize, usize)> {
        loop {
            let parent = self.frames.get(frame)?.parent?;
            let p = &self.states[parent];
            if p.entered == EventType::MapStateEntered && &*p.name == name {
                let it = p
                    .children
                    .iter()
                    .copied()
                    .find(|c| self.frames.get(*c).is_some_and(|f| f.index == Some(index)))?;
                return Some((it, parent));
            }
            frame = p.frame;
        }
    }

    /// `EvaluationFailed` points at the event before its state's `…StateEntered` (or at
    /// the state's last event for Wait); its details name the state.
    fn evaluation_owner(&self, prev_frame: usize, prev: u64, name: &str) -> Option<usize> {
        self.summary
            .open_states
            .keys()
            .filter_map(|id| self.open_state_by_id(*id))
            .find(|i| self.states[*i].entered_prev == prev && &*self.states[*i].name == name)
            .or_else(|| self.find_up(prev_frame, |s| &*s.name == name))
    }

    fn close_state(&mut self, st: usize) {
        let Some(s) = self.states.get_mut(st) else {
            return;
        };
        if !s.open {
            return;
        }
        s.open = false;
        let (id, frame) = (s.entered_id, s.frame);
        self.summary.open_states.remove(&id);
        if let Some(f) = self.frames.get_mut(frame) {
            if f.open == Some(st) {
                f.open = None;
            }
        }
        self.close_children(st);
    }

    fn close_children(&mut self, st: usize) {
        let children = std::mem::take(&mut self.states[st].children);
        for c in children {
            self.close_frame(c);
        }
    }

    fn close_frame(&mut self, frame: usize) {
        if let Some(s) = self.frames.get(frame).and_then(|f| f.open) {
            self.close_state(s);
        }
    }

    fn close_everything(&mut self) {
        for s in &mut self.states {
            s.open = false;
            s.children.clear();
        }
        for f in &mut self.frames {
            f.open = None;
        }
        self.summary.open_states.clear();
    }
}

fn entered_for_exited(t: EventType) -> EventType {
    use EventType::*;
    match t {
        ChoiceStateExited => ChoiceStateEntered,
        MapStateExited => MapStateEntered,
        ParallelStateExited => ParallelStateEntered,
        SucceedStateExited => SucceedStateEntered,
        TaskStateExited => TaskStateEntered,
        WaitStateExited => WaitStateEntered,
        _ => PassStateEntered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: u64, prev: u64, t: EventType, details: Details) -> HistoryEvent {
        HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp_millis: 0,
            event_type: t,
            details,
        }
    }
    fn entered(id: u64, prev: u64, t: EventType, name: &str) -> HistoryEvent {
        ev(
            id,
            prev,
            t,
            Details::StateEntered {
                name: Arc::from(name),
                input: Arc::new(json!({})),
            },
        )
    }
    fn exited(id: u64, prev: u64, t: EventType, name: &str) -> HistoryEvent {
        ev(
            id,
            prev,
            t,
            Details::StateExited {
                name: Arc::from(name),
                output: Arc::new(json!({})),
                assigned_variables: None,
            },
        )
    }
    fn iteration(id: u64, prev: u64, t: EventType, index: usize) -> HistoryEvent {
        ev(
            id,
            prev,
            t,
            Details::MapIteration {
                name: Arc::from("M"),
                index,
            },
        )
    }

    #[test]
    fn empty_history_is_running_with_nothing_open() {
        assert_eq!(fold(&[]), Summary::empty());
    }

    #[test]
    fn map_iterations_are_told_apart_by_their_chains() {
        use EventType::*;
        let started = ev(
            1,
            0,
            ExecutionStarted,
            Details::ExecutionStarted {
                input: Arc::new(json!([1, 2])),
                role_arn: String::new(),
            },
        );
        let mut h = vec![
            started,
            entered(2, 0, MapStateEntered, "M"),
            ev(
                3,
                2,
                MapStateStarted,
                Details::MapStateStarted { length: 2 },
            ),
            iteration(4, 3, MapIterationStarted, 0),
            iteration(5, 4, MapIterationStarted, 1),
            entered(6, 4, WaitStateEntered, "W"),
            entered(7, 5, WaitStateEntered, "W"),
        ];
        let s = fold(&h);
        assert_eq!(s.open_states.len(), 3);
        assert_eq!(s.open_children, 2);
        assert_eq!(s.open_states[&7].parent, Some(2));
        assert_eq!(s.transitions, 3);
        // The second iteration's Wait ends first.
        h.push(exited(8, 7, WaitStateExited, "W"));
        h.push(iteration(9, 8, MapIterationSucceeded, 1));
        let s = fold(&h);
        assert!(s.open_states.contains_key(&6) && !s.open_states.contains_key(&7));
        assert_eq!(s.open_children, 1);
        h.push(exited(10, 6, WaitStateExited, "W"));
        h.push(iteration(11, 10, MapIterationSucceeded, 0));
        h.push(ev(12, 10, MapStateSucceeded, Details::None));
        h.push(exited(13, 10, MapStateExited, "M"));
        let s = fold(&h);
        assert!(s.open_states.is_empty());
        h.push(ev(
            14,
            13,
            ExecutionSucceeded,
            Details::Output {
                output: Arc::new(json!([1, 2])),
            },
        ));
        let s = fold(&h);
        assert_eq!(s.status, Status::Succeeded);
        assert_eq!(s.output.as_deref(), Some(&json!([1, 2])));
        assert_eq!(s.last_event_id, 14);
    }

    #[test]
    fn a_failed_iteration_closes_what_it_left_open() {
        use EventType::*;
        let h = vec![
            entered(2, 0, MapStateEntered, "M"),
            ev(
                3,
                2,
                MapStateStarted,
                Details::MapStateStarted { length: 1 },
            ),
            iteration(4, 3, MapIterationStarted, 0),
            entered(5, 4, TaskStateEntered, "T"),
            ev(6, 5, TaskFailed, Details::None),
            iteration(7, 6, MapIterationFailed, 0),
        ];
        let s = fold(&h);
        assert_eq!(s.open_states.keys().copied().collect::<Vec<_>>(), vec![2]);
        assert_eq!(s.open_children, 0);
    }

    #[test]
    fn fail_states_are_never_open_and_malformed_links_do_not_panic() {
        use EventType::*;
        let h = vec![
            entered(2, 0, FailStateEntered, "F"),
            exited(3, 99, PassStateExited, "nope"),
            iteration(4, 77, MapIterationSucceeded, 5),
            entered(5, 0, PassStateEntered, "P"),
            entered(1, 77, PassStateEntered, "old id"),
        ];
        let s = fold(&h);
        assert_eq!(s.open_states.keys().copied().collect::<Vec<_>>(), vec![5]);
        assert_eq!(s.transitions, 3);
        assert_eq!(s.last_event_id, 5);
    }

    #[test]
    fn a_redrive_reopens_the_execution_and_its_states() {
        use EventType::*;
        let mut h = vec![
            entered(2, 0, TaskStateEntered, "T"),
            ev(3, 2, TaskFailed, Details::None),
            ev(
                4,
                3,
                ExecutionFailed,
                Details::Failure {
                    error: Some("Boom".into()),
                    cause: None,
                },
            ),
        ];
        let s = fold(&h);
        assert_eq!(s.status, Status::Failed);
        assert!(s.open_states.is_empty());
        h.push(ev(
            5,
            4,
            ExecutionRedriven,
            Details::Redriven { redrive_count: 1 },
        ));
        h.push(entered(6, 5, TaskStateEntered, "T"));
        let s = fold(&h);
        assert_eq!(s.status, Status::Running);
        assert_eq!(s.error, None);
        assert_eq!(s.open_states.keys().copied().collect::<Vec<_>>(), vec![6]);
        assert_eq!(s.transitions, 2);
    }
}
