//! Durable snapshots of a running execution (a child module of `exec`, for its
//! private frame types).
//!
//! A snapshot is compact JSON: a format version, a fingerprint of the definition's
//! shape, and every field of the [`Execution`] except its machine (re-attached on
//! restore) and the transient step output. Restoring checks the fingerprint and every
//! state index, frame path and frame reference against the machine, so a snapshot that
//! does not fit fails here instead of panicking in a later step.

use super::{
    Blocked, ChildExecution, Execution, ExecutionInfo, FanKind, FanPoint, Fanout, FrameId, Machine,
    MapRunInfo, Point, Stage, Status, Step, MAX_HISTORY_EVENTS,
};
use crate::fold::{OpenState, Summary};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use stepwise_asl::{State, StateKind, StateMachine, States, Transition};

/// The snapshot format; bump when a field changes meaning.
const VERSION: u32 = 1;

/// JSON nesting allowed in a snapshot: the execution's own structure is about ten
/// levels; the rest is room for deep user values (the parser's usual limit is 128).
const MAX_DEPTH: usize = 512;

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the snapshot cannot be decoded: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("snapshot format version {found} is not supported (expected {expected})")]
    Version { found: u32, expected: u32 },
    #[error("the snapshot nests deeper than {0} levels")]
    TooDeep(usize),
    #[error("the snapshot was taken with a different state machine definition")]
    MachineMismatch,
    #[error("the snapshot does not fit the state machine: {0}")]
    Invalid(String),
}

#[derive(Serialize)]
struct Envelope<'a> {
    v: u32,
    shape: u64,
    ex: &'a Execution,
}

#[derive(Deserialize)]
struct Header {
    v: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeIn {
    v: u32,
    shape: u64,
    ex: Parts,
}

/// Everything [`Execution`] serializes, owned. Unknown fields are refused so that a
/// field added to `Execution` but not here fails loudly instead of being dropped.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Parts {
    info: Arc<ExecutionInfo>,
    input: Arc<Value>,
    start_millis: i64,
    status: Status,
    output: Option<Arc<Value>>,
    error: Option<String>,
    cause: Option<String>,
    frames: Vec<Option<super::Frame>>,
    free: Vec<FrameId>,
    runnable: VecDeque<FrameId>,
    next_event_id: u64,
    next_timer: u64,
    next_task: u64,
    timers: HashMap<u64, FrameId>,
    tasks: HashMap<u64, FrameId>,
    execution_timer: Option<u64>,
    invocations: HashMap<String, u32>,
    map_runs: u32,
    transitions: u64,
    recorded_entered: u64,
    // Added after version 1 first shipped; older snapshots have neither.
    #[serde(default)]
    redrive_point: Option<Box<Point>>,
    #[serde(default)]
    runs: Vec<MapRunInfo>,
    #[serde(default)]
    children: BTreeMap<u32, ChildExecution>,
    #[serde(default)]
    next_child: u32,
    #[serde(default)]
    unsuccessful: BTreeMap<String, ChildExecution>,
    now: i64,
}

impl Execution {
    /// The execution as bytes for [`Execution::restore`] (compact JSON). Take it between
    /// steps; the step being built is not part of it.
    pub fn snapshot(&self) -> Vec<u8> {
        let env = Envelope {
            v: VERSION,
            shape: shape(&self.machine.definition),
            ex: self,
        };
        // Serializing these types cannot fail (string keys, no custom serializers);
        // should it ever, the empty snapshot is refused by `restore`.
        serde_json::to_vec(&env).unwrap_or_default()
    }

    /// Rebuild an execution from [`Execution::snapshot`] bytes and the machine it ran.
    pub fn restore(machine: Arc<Machine>, bytes: &[u8]) -> Result<Execution, SnapshotError> {
        let depth = nesting_depth(bytes);
        if depth > MAX_DEPTH {
            return Err(SnapshotError::TooDeep(MAX_DEPTH));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        // Depth was bounded above; serde_json's own limit (128) is too low for user values
        // nested inside the execution's structure.
        de.disable_recursion_limit();
        let env = match EnvelopeIn::deserialize(&mut de).and_then(|e| de.end().map(|()| e)) {
            Ok(env) => env,
            Err(e) => {
                return Err(match serde_json::from_slice::<Header>(bytes) {
                    Ok(h) if h.v != VERSION => SnapshotError::Version {
                        found: h.v,
                        expected: VERSION,
                    },
                    _ => SnapshotError::Decode(e),
                })
            }
        };
        if env.v != VERSION {
            return Err(SnapshotError::Version {
                found: env.v,
                expected: VERSION,
            });
        }
        if env.shape != shape(&machine.definition) {
            return Err(SnapshotError::MachineMismatch);
        }
        let p = env.ex;
        let ex = Execution {
            machine,
            info: p.info,
            input: p.input,
            start_millis: p.start_millis,
            status: p.status,
            output: p.output,
            error: p.error,
            cause: p.cause,
            frames: p.frames,
            free: p.free,
            runnable: p.runnable,
            next_event_id: p.next_event_id,
            next_timer: p.next_timer,
            next_task: p.next_task,
            timers: p.timers,
            tasks: p.tasks,
            execution_timer: p.execution_timer,
            invocations: p.invocations,
            map_runs: p.map_runs,
            transitions: p.transitions,
            recorded_entered: p.recorded_entered,
            redrive_point: p.redrive_point,
            runs: p.runs,
            children: p.children,
            next_child: p.next_child,
            unsuccessful: p.unsuccessful,
            out: Step::default(),
            step_from: p.transitions,
            now: p.now,
            single: None,
            inspector: None,
        };
        validate(&ex).map_err(SnapshotError::Invalid)?;
        Ok(ex)
    }

    /// Timers the edges must still honour (fire as `Event::TimerFired`), ascending.
    pub fn open_timers(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.timers.keys().copied().collect();
        v.extend(self.execution_timer);
        v.sort_unstable();
        v
    }

    /// Tasks whose answer the execution still waits for, ascending.
    pub fn open_tasks(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.tasks.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// What the execution's history shows about it; always equal to
    /// [`crate::fold::fold`] of the history this execution produced.
    pub fn summary(&self) -> Summary {
        let mut open_states = BTreeMap::new();
        let mut open_children = 0;
        if self.status == Status::Running {
            for f in self.frames.iter().flatten().filter(|f| f.sink.is_none()) {
                let Stage::Active(a) = &f.stage else {
                    continue;
                };
                let name = try_states_at(&self.machine.definition, &f.path)
                    .and_then(|s| s.states.get(a.state))
                    .map_or_else(|| Arc::from(""), |s| Arc::clone(&s.name));
                let parent = f.parent.and_then(|(pid, _)| {
                    match self
                        .frames
                        .get(pid)
                        .and_then(|p| p.as_ref())
                        .map(|p| &p.stage)
                    {
                        Some(Stage::Active(pa)) => Some(pa.entered_id),
                        _ => None,
                    }
                });
                if f.parent.is_some() {
                    open_children += 1;
                }
                open_states.insert(a.entered_id, OpenState { name, parent });
            }
        }
        Summary {
            status: self.status,
            input: Some(Arc::clone(&self.input)),
            output: self.output.clone(),
            error: self.error.clone(),
            cause: self.cause.clone(),
            last_event_id: self.next_event_id.saturating_sub(1),
            open_states,
            open_children,
            transitions: self.recorded_entered,
        }
    }
}

/// `states_at` without panicking: `None` when the path leaves the definition.
fn try_states_at<'a>(def: &'a StateMachine, path: &[(u32, u32)]) -> Option<&'a States> {
    let mut states = &def.states;
    for &(si, bi) in path {
        states = match &states.states.get(si as usize)?.kind {
            StateKind::Parallel(p) => p.branches.get(bi as usize)?,
            StateKind::Map(m) if bi == 0 => &m.processor,
            _ => return None,
        };
    }
    Some(states)
}

/// Check every index the step function will use without bounds checks.
fn validate(ex: &Execution) -> Result<(), String> {
    let def = &ex.machine.definition;
    let live = |id: FrameId| matches!(ex.frames.get(id), Some(Some(_)));
    for (id, f) in ex.frames.iter().enumerate() {
        let Some(f) = f else { continue };
        let states = try_states_at(def, &f.path)
            .ok_or_else(|| format!("frame {id}: path {:?} is not in the definition", f.path))?;
        match f.parent {
            None if id != 0 => return Err(format!("frame {id} has no parent")),
            None => {}
            Some((pid, _)) => {
                let parent = ex
                    .frames
                    .get(pid)
                    .and_then(|p| p.as_ref())
                    .filter(|_| pid != id)
                    .ok_or_else(|| format!("frame {id}: parent {pid} does not exist"))?;
                if parent.path.len() + 1 != f.path.len() {
                    return Err(format!("frame {id}: path does not extend its parent's"));
                }
            }
        }
        if f.sink.is_some_and(|c| c >= ex.next_child) {
            return Err(format!(
                "frame {id}: child execution {:?} was never started",
                f.sink
            ));
        }
        let state = match &f.stage {
            Stage::Ready { state, .. } => *state,
            Stage::Active(a) => a.state,
            Stage::Finished => continue,
        };
        let st = states
            .states
            .get(state)
            .ok_or_else(|| format!("frame {id}: state index {state} is out of range"))?;
        let Stage::Active(a) = &f.stage else { continue };
        if a.retries.len() != st.retry.len() {
            return Err(format!("frame {id}: state '{}' has another Retry", st.name));
        }
        let fits = match (&a.wait, &st.kind) {
            (Blocked::Nothing | Blocked::RetryTimer { .. }, _) => true,
            (Blocked::WaitTimer { .. }, StateKind::Wait(_)) => true,
            (Blocked::Task(_), StateKind::Task(_)) => true,
            (Blocked::Fanout(fan), StateKind::Parallel(_) | StateKind::Map(_)) => {
                check_fanout(st, fan, ex.runs.len()).is_ok()
            }
            _ => false,
        };
        if !fits {
            return Err(format!(
                "frame {id}: state '{}' is not waiting the way the snapshot says",
                st.name
            ));
        }
    }
    if ex.frames.iter().any(Option::is_some) && !live(0) {
        return Err("the top-level frame is missing".into());
    }
    let mut seen = HashSet::new();
    for &id in &ex.free {
        if id >= ex.frames.len() || live(id) || !seen.insert(id) {
            return Err(format!("free frame {id} is not free"));
        }
    }
    for (what, id) in ex
        .runnable
        .iter()
        .map(|id| ("runnable frame", *id))
        .chain(ex.timers.values().map(|id| ("timer frame", *id)))
        .chain(ex.tasks.values().map(|id| ("task frame", *id)))
    {
        if !live(id) {
            return Err(format!("{what} {id} does not exist"));
        }
    }
    if let Some(p) = &ex.redrive_point {
        check_point(&def.states, p, ex.runs.len())
            .map_err(|e| format!("the redrive point does not fit: {e}"))?;
    }
    if ex.next_event_id == 0 || ex.next_event_id > MAX_HISTORY_EVENTS + 16 {
        return Err(format!(
            "next event id {} is out of range",
            ex.next_event_id
        ));
    }
    Ok(())
}

/// The states a Parallel branch or Map iteration of `st` runs.
fn child_states(st: &State, index: usize) -> Option<&States> {
    match &st.kind {
        StateKind::Parallel(p) => p.branches.get(index),
        StateKind::Map(m) => Some(&m.processor),
        _ => None,
    }
}

fn kind_fits(st: &State, kind: FanKind, total: usize) -> bool {
    match (&st.kind, kind) {
        (StateKind::Parallel(p), FanKind::Parallel) => total == p.branches.len(),
        (StateKind::Map(_), FanKind::Map | FanKind::MapRun) => true,
        _ => false,
    }
}

/// A live fanout: its size, its Map Run and the children a redrive still starts.
fn check_fanout(st: &State, fan: &Fanout, runs: usize) -> Result<(), String> {
    if !kind_fits(st, fan.kind, fan.total) || fan.results.len() != fan.total {
        return Err(format!("state '{}' has other children", st.name));
    }
    if fan.run.is_some_and(|r| r >= runs) {
        return Err(format!("state '{}': no such Map Run", st.name));
    }
    for (i, p) in fan.redo.iter().chain(&fan.tolerated_points) {
        let states = child_states(st, *i)
            .filter(|_| *i < fan.total)
            .ok_or_else(|| format!("state '{}' has no child {i}", st.name))?;
        check_point(states, p, runs)?;
    }
    Ok(())
}

/// A redrive point fits the definition (`states` is where its frame runs). Recursion
/// follows the definition's nesting, so it is bounded by it.
pub(super) fn check_point(states: &States, p: &Point, runs: usize) -> Result<(), String> {
    let st = states
        .states
        .get(p.state)
        .ok_or_else(|| format!("state index {} is out of range", p.state))?;
    let Some(fan) = &p.fan else { return Ok(()) };
    let FanPoint {
        kind,
        total,
        results,
        redo,
        run,
        ..
    } = &**fan;
    if !kind_fits(st, *kind, *total) || results.len() != *total {
        return Err(format!("state '{}' has other children", st.name));
    }
    if run.is_some_and(|r| r >= runs) {
        return Err(format!("state '{}': no such Map Run", st.name));
    }
    for (i, child) in redo {
        let states = child_states(st, *i)
            .filter(|_| i < total)
            .ok_or_else(|| format!("state '{}' has no child {i}", st.name))?;
        check_point(states, child, runs)?;
    }
    Ok(())
}

/// A fingerprint of the definition's shape: state names, types, transitions, retriers
/// and catchers, branch by branch. Stable across builds (FNV-1a, not `Hash`), so
/// snapshots survive a restart with a newer binary.
fn shape(def: &StateMachine) -> u64 {
    struct Fnv(u64);
    impl Fnv {
        fn bytes(&mut self, b: &[u8]) {
            for x in b {
                self.0 ^= u64::from(*x);
                self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
            }
            // Separator, so ("ab","c") and ("a","bc") differ.
            self.0 ^= 0xff;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        fn num(&mut self, n: usize) {
            self.bytes(&(n as u64).to_le_bytes());
        }
    }
    fn walk(h: &mut Fnv, states: &States) {
        h.num(states.start_at);
        h.num(states.states.len());
        for s in &states.states {
            h.bytes(s.name.as_bytes());
            h.bytes(s.kind.type_name().as_bytes());
            match s.transition {
                Transition::Next(n) => h.num(n),
                Transition::End => h.bytes(b"end"),
            }
            h.num(s.retry.len());
            h.num(s.catch.len());
            match &s.kind {
                StateKind::Parallel(p) => {
                    h.num(p.branches.len());
                    p.branches.iter().for_each(|b| walk(h, b));
                }
                StateKind::Map(m) => walk(h, &m.processor),
                _ => {}
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    walk(&mut h, &def.states);
    h.0
}

/// The deepest `[`/`{` nesting in JSON text (strings skipped); cheap, and bounds the
/// recursion of the decoder.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::VirtualClock;
    use serde_json::json;

    fn machine(def: Value) -> Arc<Machine> {
        match stepwise_asl::parse_value(&def) {
            Ok(sm) => Machine::new(sm),
            Err(d) => panic!("invalid definition: {d:?}"),
        }
    }

    fn waiting() -> (Arc<Machine>, Execution) {
        let m = machine(json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
            "P": {"Type": "Pass", "End": true}}}));
        let mut clock = VirtualClock::new(1_000, 1);
        let (ex, _) = Execution::start(
            Arc::clone(&m),
            ExecutionInfo::local("M", "e"),
            json!({"a": 1}),
            &mut clock,
        );
        (m, ex)
    }

    #[test]
    fn nesting_depth_skips_strings() {
        assert_eq!(nesting_depth(br#"{"a":[1,{"b":"[[[{"}]}"#), 3);
        assert_eq!(nesting_depth(br#"["\"[", []]"#), 2);
    }

    #[test]
    fn round_trip_keeps_everything_but_the_step() {
        let (m, ex) = waiting();
        let bytes = ex.snapshot();
        let back = Execution::restore(Arc::clone(&m), &bytes).map_err(|e| e.to_string());
        let back = back.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.snapshot(), bytes);
        assert_eq!(back.summary(), ex.summary());
        assert_eq!(back.open_timers(), vec![1]);
        assert!(back.open_tasks().is_empty());
    }

    #[test]
    fn deep_values_survive() {
        let (m, mut ex) = waiting();
        let mut v = json!(1);
        for _ in 0..200 {
            v = json!([v]);
        }
        ex.input = Arc::new(v);
        let back = Execution::restore(m, &ex.snapshot()).map_err(|e| e.to_string());
        assert_eq!(back.map(|b| b.input), Ok(Arc::clone(&ex.input)));
    }

    #[test]
    fn too_deep_is_refused() {
        let (m, _) = waiting();
        let bytes = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            Execution::restore(m, bytes.as_bytes()),
            Err(SnapshotError::TooDeep(_))
        ));
    }

    #[test]
    fn other_versions_are_named() {
        let (m, ex) = waiting();
        let mut v: Value = serde_json::from_slice(&ex.snapshot()).unwrap_or_default();
        v["v"] = json!(99);
        v["ex"]["new_field"] = json!(1);
        let bytes = serde_json::to_vec(&v).unwrap_or_default();
        assert!(matches!(
            Execution::restore(m, &bytes),
            Err(SnapshotError::Version { found: 99, .. })
        ));
    }

    #[test]
    fn dangling_references_are_refused() {
        let (m, ex) = waiting();
        let good: Value = serde_json::from_slice(&ex.snapshot()).unwrap_or_default();
        let edits: [(&str, Value); 4] = [
            ("/ex/timers", json!({"1": 7})),
            ("/ex/free", json!([0])),
            ("/ex/runnable", json!([3])),
            ("/ex/frames/0/stage/Active/state", json!(9)),
        ];
        for (path, value) in edits {
            let mut v = good.clone();
            match v.pointer_mut(path) {
                Some(slot) => *slot = value,
                None => panic!("no {path} in {good}"),
            }
            let bytes = serde_json::to_vec(&v).unwrap_or_default();
            let r = Execution::restore(Arc::clone(&m), &bytes);
            assert!(
                matches!(r, Err(SnapshotError::Invalid(_))),
                "{path}: {:?}",
                r.map(|_| ())
            );
        }
    }
}
