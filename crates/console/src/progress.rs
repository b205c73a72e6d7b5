//! Where each state of an execution stands, folded from its history (the wire JSON the
//! API returns) one event at a time, so the page and the live stream share one reading.
//!
//! Every visit of a state (entered … exited) is kept with its input, output, attempts
//! and failure. History links events only through `previousEventId`, so each event is
//! given the state it belongs to (its own name, or the state of the event before it)
//! and its *iteration path*: the Map iterations it runs in, as `(Map state, index)`
//! frames. State names are unique in a definition (AWS validates it), so the definition
//! says which Map or Parallel each state sits in; a Map/Parallel event without a name
//! (`MapStateFailed`, `ParallelStateStarted`, …) belongs to the nearest such container
//! of the state before it.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A state's place in the definition.
#[derive(Debug, Clone)]
struct StateShape {
    state_type: String,
    /// The Map or Parallel state it runs in.
    container: Option<u32>,
}

/// An iteration path: index into [`Progress::paths`]; 0 is the top level.
pub type PathId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    parent: PathId,
    map: u32,
    index: u64,
}

/// One try of a Task (or a retried Parallel/Map): when it began and ended, and how.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub started: f64,
    pub ended: Option<f64>,
    pub error: Option<String>,
}

/// One visit of a state.
#[derive(Debug, Clone, Default)]
pub struct Visit {
    pub state: String,
    pub state_type: String,
    pub path: PathId,
    pub entered_id: u64,
    pub entered: f64,
    pub exited: Option<f64>,
    pub input: Option<String>,
    pub output: Option<String>,
    /// What the Task's call (or activity, or function) returned.
    pub result: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub attempts: Vec<Attempt>,
    /// A failure since its last attempt began: exiting after it means it was caught.
    failed: bool,
    aborted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IterationStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
}

/// An execution's history, read.
#[derive(Debug, Default)]
pub struct Progress {
    names: Vec<String>,
    index: HashMap<String, u32>,
    shapes: Vec<StateShape>,
    /// Per event id: the state it belongs to and its iteration path.
    events: Vec<(Option<u32>, PathId)>,
    paths: Vec<Frame>,
    path_ids: HashMap<Frame, PathId>,
    pub visits: Vec<Visit>,
    /// The latest visit of each state on each path.
    latest: HashMap<(PathId, u32), usize>,
    /// Map iterations by (path of the Map's visit, Map state).
    iterations: HashMap<(PathId, u32), BTreeMap<u64, IterationStatus>>,
    /// Paths whose iteration ended (failed or aborted).
    ended_paths: HashMap<PathId, IterationStatus>,
    /// `SUCCEEDED`, `FAILED`, … once the execution ended (until a redrive).
    pub ended: Option<&'static str>,
    pub last_id: u64,
}

impl Progress {
    /// Ready to read the history of an execution of `definition` (JSON text).
    pub fn new(definition: &str) -> Progress {
        let mut p = Progress {
            paths: vec![Frame {
                parent: 0,
                map: u32::MAX,
                index: 0,
            }],
            events: vec![(None, 0)],
            ..Progress::default()
        };
        if let Ok(def) = serde_json::from_str::<Value>(definition) {
            p.learn(&def, None);
        }
        p
    }

    fn learn(&mut self, scope: &Value, container: Option<u32>) {
        let Some(states) = scope["States"].as_object() else {
            return;
        };
        for (name, s) in states {
            let id = self.state_id(name);
            self.shapes[id as usize] = StateShape {
                state_type: s["Type"].as_str().unwrap_or_default().to_string(),
                container,
            };
            for b in s["Branches"].as_array().into_iter().flatten() {
                self.learn(b, Some(id));
            }
            if let Some(p) = s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
                self.learn(p, Some(id));
            }
        }
    }

    fn state_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), id);
        self.shapes.push(StateShape {
            state_type: String::new(),
            container: None,
        });
        id
    }

    /// The state named, if the definition or the history has it.
    pub fn state(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn state_type(&self, state: u32) -> &str {
        &self.shapes[state as usize].state_type
    }

    /// The Map and Parallel states around `state`, innermost first.
    fn containers(&self, state: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(self.shapes[state as usize].container, move |c| {
            self.shapes[*c as usize].container
        })
    }

    /// `path` cut to the frames of Maps that `state` runs inside.
    fn path_for(&self, path: PathId, state: u32) -> PathId {
        let maps: Vec<u32> = self.containers(state).collect();
        let frames = self.frames(path);
        let mut at = 0;
        for f in frames {
            if !maps.contains(&f.map) {
                break;
            }
            at = self.path_ids.get(&f).copied().unwrap_or(at);
        }
        at
    }

    /// A path's frames, outermost first.
    pub fn frames(&self, mut path: PathId) -> Vec<Frame> {
        let mut v = Vec::new();
        while path != 0 {
            let f = self.paths[path as usize];
            v.push(f);
            path = f.parent;
        }
        v.reverse();
        v
    }

    fn intern(&mut self, f: Frame) -> PathId {
        if let Some(id) = self.path_ids.get(&f) {
            return *id;
        }
        let id = self.paths.len() as PathId;
        self.paths.push(f);
        self.path_ids.insert(f, id);
        id
    }

    /// The path of iterations `[(Map state, index), …]` names, if the history has it.
    pub fn find_path(&self, frames: &[(String, u64)]) -> Option<PathId> {
        let mut at = 0;
        for (map, index) in frames {
            let f = Frame {
                parent: at,
                map: self.state(map)?,
                index: *index,
            };
            at = *self.path_ids.get(&f)?;
        }
        Some(at)
    }

    /// A path as `[(Map state, index), …]`.
    pub fn describe_path(&self, path: PathId) -> Vec<(String, u64)> {
        self.frames(path)
            .into_iter()
            .map(|f| (self.names[f.map as usize].clone(), f.index))
            .collect()
    }

    /// Reads one event (in id order). Returns the states whose status may have changed.
    pub fn apply(&mut self, e: &Value) -> Vec<u32> {
        let id = e["id"].as_u64().unwrap_or(self.last_id + 1);
        self.last_id = id;
        let prev = e["previousEventId"].as_u64().unwrap_or(0) as usize;
        let (prev_state, prev_path) = self.events.get(prev).copied().unwrap_or((None, 0));
        let event_type = e["type"].as_str().unwrap_or_default();
        let details = e
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
            .map(|(_, d)| d)
            .unwrap_or(&Value::Null);
        let time = e["timestamp"].as_f64().unwrap_or(0.0);
        let text = |k: &str| details[k].as_str().map(str::to_string);
        let named = details["name"].as_str().map(|n| self.state(n));
        let mut owner = match named {
            Some(Some(s)) => Some(s),
            _ => prev_state,
        };
        if named.is_none() {
            let want = if event_type.starts_with("MapState") || event_type.starts_with("MapRun") {
                Some("Map")
            } else if event_type.starts_with("ParallelState") {
                Some("Parallel")
            } else {
                None
            };
            if let (Some(want), Some(o)) = (want, owner) {
                owner = std::iter::once(o)
                    .chain(self.containers(o))
                    .find(|c| self.shapes[*c as usize].state_type == want);
            }
        }
        let mut path = match owner {
            Some(o) => self.path_for(prev_path, o),
            None => 0,
        };
        let mut changed = Vec::new();
        let iteration = event_type.starts_with("MapIteration");
        if let (true, Some(map), Some(index)) = (iteration, owner, details["index"].as_u64()) {
            let at = path;
            let it = self.intern(Frame {
                parent: at,
                map,
                index,
            });
            let status = match event_type {
                "MapIterationStarted" => IterationStatus::Running,
                "MapIterationSucceeded" => IterationStatus::Succeeded,
                "MapIterationFailed" => IterationStatus::Failed,
                _ => IterationStatus::Aborted,
            };
            self.iterations
                .entry((at, map))
                .or_default()
                .insert(index, status);
            if status == IterationStatus::Running {
                path = it;
            } else {
                if status != IterationStatus::Succeeded {
                    self.ended_paths.insert(it, status);
                }
                changed.extend(self.states_under(it));
            }
        }
        if self.events.len() <= id as usize {
            self.events.resize(id as usize + 1, (None, 0));
        }
        self.events[id as usize] = (owner, path);

        match event_type {
            "ExecutionSucceeded" => self.ended = Some("SUCCEEDED"),
            "ExecutionFailed" => self.ended = Some("FAILED"),
            "ExecutionAborted" => self.ended = Some("ABORTED"),
            "ExecutionTimedOut" => self.ended = Some("TIMED_OUT"),
            "ExecutionRedriven" => {
                self.ended = None;
                self.ended_paths.clear();
            }
            _ => {}
        }
        if event_type.starts_with("Execution") && event_type != "ExecutionStarted" {
            // The failing state, if the event names its cause; every open visit changes.
            if event_type == "ExecutionFailed" {
                if let Some(v) = owner.and_then(|o| self.open_visit(path, o)) {
                    let v = &mut self.visits[v];
                    v.failed = true;
                    v.error = v.error.take().or(text("error"));
                    v.cause = v.cause.take().or(text("cause"));
                }
            }
            changed.extend(0..self.names.len() as u32);
            return changed;
        }
        let Some(state) = owner else {
            return changed;
        };
        changed.push(state);
        if event_type.ends_with("StateEntered") {
            let v = Visit {
                state: self.names[state as usize].clone(),
                state_type: self.shapes[state as usize].state_type.clone(),
                path,
                entered_id: id,
                entered: time,
                input: text("input"),
                ..Visit::default()
            };
            self.visits.push(v);
            self.latest.insert((path, state), self.visits.len() - 1);
            return changed;
        }
        let Some(v) = self.open_visit(path, state) else {
            return changed;
        };
        let v = &mut self.visits[v];
        match event_type {
            t if t.ends_with("StateExited") => {
                v.exited = Some(time);
                v.output = text("output");
            }
            t if t.ends_with("StateAborted") => v.aborted = true,
            "TaskScheduled"
            | "ActivityScheduled"
            | "LambdaFunctionScheduled"
            | "MapStateStarted"
            | "ParallelStateStarted" => {
                v.failed = false;
                v.attempts.push(Attempt {
                    started: time,
                    ..Attempt::default()
                });
            }
            "TaskSucceeded"
            | "ActivitySucceeded"
            | "LambdaFunctionSucceeded"
            | "MapStateSucceeded"
            | "ParallelStateSucceeded" => {
                if let Some(a) = v.attempts.last_mut() {
                    a.ended = Some(time);
                }
                if !event_type.ends_with("StateSucceeded") {
                    v.result = text("output");
                }
            }
            t if t.ends_with("Failed") || t.ends_with("TimedOut") => {
                v.failed = true;
                let error = text("error")
                    .or_else(|| t.ends_with("TimedOut").then(|| "States.Timeout".into()));
                if let Some(a) = v.attempts.last_mut() {
                    a.ended = Some(time);
                    a.error = error.clone();
                }
                v.error = error;
                v.cause = text("cause");
            }
            _ => {}
        }
        changed
    }

    fn open_visit(&self, path: PathId, state: u32) -> Option<usize> {
        let v = *self.latest.get(&(path, state))?;
        (self.visits[v].exited.is_none()).then_some(v)
    }

    /// States with a visit under `path` (it, or deeper).
    fn states_under(&self, path: PathId) -> Vec<u32> {
        self.latest
            .keys()
            .filter(|(p, _)| self.starts_with(*p, path))
            .map(|(_, s)| *s)
            .collect()
    }

    /// Whether `path` is `prefix` or runs inside it.
    fn starts_with(&self, mut path: PathId, prefix: PathId) -> bool {
        loop {
            if path == prefix {
                return true;
            }
            if path == 0 {
                return false;
            }
            path = self.paths[path as usize].parent;
        }
    }

    /// What a visit's status is: `running`, `succeeded`, `failed`, `caught`, `cancelled`.
    pub fn visit_status(&self, v: &Visit) -> &'static str {
        if v.exited.is_some() {
            return if v.failed { "caught" } else { "succeeded" };
        }
        if v.state_type == "Fail" {
            return "failed";
        }
        // AWS also aborts the Task whose failure failed its branch (`TaskStateAborted`).
        let ended =
            v.aborted || self.ended.is_some() || self.path_ended(v.path) || self.enclosing_over(v);
        match (ended, v.failed) {
            (false, _) => "running",
            (true, true) => "failed",
            (true, false) => "cancelled",
        }
    }

    fn path_ended(&self, mut path: PathId) -> bool {
        while path != 0 {
            if self.ended_paths.contains_key(&path) || self.map_done(path) {
                return true;
            }
            path = self.paths[path as usize].parent;
        }
        false
    }

    /// Whether a Parallel or Map around the visit is over (exited, or failed): its
    /// branches' visits still open were abandoned (AWS's `…StateAborted` events carry no
    /// state name, so they cannot say which).
    fn enclosing_over(&self, v: &Visit) -> bool {
        let Some(state) = self.state(&v.state) else {
            return false;
        };
        let mut path = v.path;
        for c in self.containers(state) {
            if self.shapes[c as usize].state_type == "Map"
                && path != 0
                && self.paths[path as usize].map == c
            {
                // A Map's own visit is on the path its iterations run inside.
                path = self.paths[path as usize].parent;
            }
            if let Some(i) = self.latest.get(&(path, c)) {
                let outer = &self.visits[*i];
                if outer.entered_id < v.entered_id && (outer.exited.is_some() || outer.failed) {
                    return true;
                }
            }
        }
        false
    }

    /// Whether the Map visit an iteration path belongs to is over (it exited, or
    /// failed): an iteration still "running" then was abandoned without an event.
    fn map_done(&self, path: PathId) -> bool {
        let f = self.paths[path as usize];
        self.latest
            .get(&(f.parent, f.map))
            .is_some_and(|v| self.visits[*v].exited.is_some() || self.visits[*v].failed)
    }

    /// Whether a visit on `path` shows when `view` is selected: one path runs inside the
    /// other (visits in other iterations of a selected Map do not).
    pub fn in_view(&self, path: PathId, view: PathId) -> bool {
        self.starts_with(path, view) || self.starts_with(view, path)
    }

    /// Each state's status as seen from `view`: the latest visit on each path, the most
    /// telling across iterations (running, failed, caught, cancelled, succeeded).
    pub fn statuses(&self, view: PathId) -> HashMap<String, &'static str> {
        let rank = |s: &str| match s {
            "running" => 5,
            "failed" => 4,
            "caught" => 3,
            "cancelled" => 2,
            "succeeded" => 1,
            _ => 0,
        };
        let mut out: HashMap<String, &'static str> = HashMap::new();
        for ((path, state), v) in &self.latest {
            if !self.in_view(*path, view) {
                continue;
            }
            let s = self.visit_status(&self.visits[*v]);
            let name = &self.names[*state as usize];
            let entry = out.entry(name.clone()).or_insert(s);
            if rank(s) > rank(entry) {
                *entry = s;
            }
        }
        out
    }

    /// The latest visit of `state` seen from `view` (on the view's path or above it).
    pub fn visit_in_view(&self, state: u32, view: PathId) -> Option<&Visit> {
        let mut path = view;
        loop {
            if let Some(v) = self.latest.get(&(path, state)) {
                return Some(&self.visits[*v]);
            }
            if path == 0 {
                return None;
            }
            path = self.paths[path as usize].parent;
        }
    }

    /// The iterations of the Map `state` whose visit is on `path`: (index, status, the
    /// iteration's own path), failed ones first, then by index.
    pub fn iterations(&self, path: PathId, state: u32) -> Vec<(u64, IterationStatus, PathId)> {
        let mut v: Vec<_> = self
            .iterations
            .get(&(path, state))
            .into_iter()
            .flatten()
            .filter_map(|(i, s)| {
                let f = Frame {
                    parent: path,
                    map: state,
                    index: *i,
                };
                let path = *self.path_ids.get(&f)?;
                let over = self.ended.is_some() || self.path_ended(path);
                let s = match s {
                    IterationStatus::Running if over => IterationStatus::Aborted,
                    s => *s,
                };
                Some((*i, s, path))
            })
            .collect();
        v.sort_by_key(|(i, s, _)| (*s != IterationStatus::Failed, *i));
        v
    }

    /// The iteration path of event `id`.
    pub fn event_path(&self, id: u64) -> PathId {
        self.events.get(id as usize).map_or(0, |e| e.1)
    }

    /// The state event `id` belongs to (its own name, or the state of the event before it).
    pub fn event_state(&self, id: u64) -> Option<u32> {
        self.events.get(id as usize).and_then(|e| e.0)
    }

    /// The path a path runs inside (0 for the top level).
    pub fn parent(&self, path: PathId) -> PathId {
        if path == 0 {
            0
        } else {
            self.paths[path as usize].parent
        }
    }

    /// The name of a state id.
    pub fn name(&self, state: u32) -> &str {
        &self.names[state as usize]
    }
}

#[cfg(test)]
#[path = "tests/progress.rs"]
mod tests;
