//! Distributed Map runs: the Map Run record (DescribeMapRun, ListMapRuns), child
//! executions with their own ARN and history (`ProcessorConfig.ExecutionType`), and the
//! history limit of each child.

use super::*;

/// A child execution of a Distributed Map: one per item (or batch of items), with its own ARN
/// (`execution:MACHINE/LABEL:NAME`) and history, listed under its Map Run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildExecution {
    pub arn: Arc<str>,
    pub name: String,
    /// `stateMachine:MACHINE/LABEL`.
    pub state_machine_arn: String,
    pub map_run_arn: String,
    /// `ProcessorConfig.ExecutionType` is EXPRESS.
    pub express: bool,
    pub input: Arc<Value>,
    pub start_millis: i64,
    pub status: Status,
    pub stop_millis: Option<i64>,
    pub output: Option<Arc<Value>>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Events in its history so far (the id of the last one).
    pub history_len: u64,
    /// Its item's (or batch's) index in the Map Run.
    #[serde(default)]
    pub item_index: u64,
    #[serde(default)]
    pub redrive_count: u32,
    #[serde(default)]
    pub redrive_millis: Option<i64>,
}

/// A change to a [`ChildExecution`] (a child that starts and ends in one step gives both).
#[derive(Debug, Clone, PartialEq)]
pub enum ChildChange {
    Started(ChildExecution),
    /// An unsuccessful child runs again in a redriven Map Run (same ARN, RUNNING again).
    Redriven(ChildExecution),
    Finished(ChildExecution),
}

/// A Distributed Map's run, as DescribeMapRun and ListMapRuns show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRunInfo {
    pub arn: String,
    pub state_name: String,
    /// Running, Succeeded, Failed or Aborted.
    pub status: Status,
    pub start_millis: i64,
    pub stop_millis: Option<i64>,
    /// 0 when unlimited.
    pub max_concurrency: u64,
    pub tolerated_failure_count: u64,
    pub tolerated_failure_percentage: f64,
    /// AWS's `itemCounts`; without an `ItemBatcher` each item is one child execution,
    /// so these are its `executionCounts` too.
    pub items: Counts,
    /// With an `ItemBatcher`: `executionCounts`, one per batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executions: Option<Counts>,
    /// With an `ItemBatcher`: the items in each child execution, by its index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_sizes: Vec<u32>,
    pub redrive_count: u32,
    pub redrive_millis: Option<i64>,
}

/// DescribeMapRun's `itemCounts` / `executionCounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
}

pub(super) fn map_run_id(src: &mut dyn Sources) -> String {
    src.uuid()
}

impl Execution {
    /// [`Self::history_full`] for Distributed Map child `c` (its events are its own).
    /// EXPRESS children are held to it too: their history is kept here, and AWS ends a
    /// runaway one at its five minutes, which a child's states never see pass.
    pub(super) fn child_history_full(&self, c: u32) -> bool {
        self.children
            .get(&c)
            .is_some_and(|k| k.history_len + 3 > MAX_HISTORY_EVENTS)
    }

    /// A child execution outgrew AWS's history limit: like a Standard execution it fails
    /// with `States.Runtime` (no Catch applies), and whatever runs inside it is dropped.
    pub(super) fn fail_child_at_history_limit(&mut self, c: u32, src: &mut dyn Sources) {
        let Some(root) = (0..self.frames.len()).find(|&f| self.child_root(f) == Some(c)) else {
            return;
        };
        let fan = match self.frames.get_mut(root) {
            Some(Some(f)) => match &mut f.stage {
                Stage::Active(a) => match std::mem::replace(&mut a.wait, Blocked::Nothing) {
                    Blocked::Fanout(fan) => Some(fan),
                    other => {
                        a.wait = other;
                        None
                    }
                },
                _ => None,
            },
            _ => None,
        };
        if let Some(fan) = fan {
            self.abort_children(root, &fan);
            self.abort_run(fan.run);
        }
        self.drop_pending_work(root);
        let err = StatesError::new(names::RUNTIME, redrive::history_limit_cause());
        self.finish_frame(root, Err((err, None)), src);
    }

    /// Start a Distributed Map child execution for item `index`: its record and its
    /// `ExecutionStarted` (or, in a redriven Map Run, the unsuccessful child of that item
    /// again, with `ExecutionRedriven`). Returns its number (the frames' sink) and the
    /// event its first state chains from.
    pub(super) fn open_child(
        &mut self,
        run: Option<usize>,
        st: &State,
        index: usize,
        input: &Arc<Value>,
        src: &mut dyn Sources,
    ) -> (Option<u32>, u64) {
        let c = self.next_child;
        self.next_child += 1;
        let map_run_arn = run
            .and_then(|i| self.runs.get(i))
            .map(|r| r.arn.clone())
            .unwrap_or_default();
        if let Some(mut child) = self.unsuccessful.remove(&format!("{index}:{map_run_arn}")) {
            child.status = Status::Running;
            child.stop_millis = None;
            child.output = None;
            child.error = None;
            child.cause = None;
            child.redrive_count += 1;
            child.redrive_millis = Some(self.now);
            let (prev, redrive_count) = (child.history_len, child.redrive_count);
            self.out.children.push(ChildChange::Redriven(child.clone()));
            self.children.insert(c, child);
            let id = self.push_in(
                Some(c),
                prev,
                EventType::ExecutionRedriven,
                Details::Redriven { redrive_count },
            );
            return (Some(c), id);
        }
        // `…:mapRun:MACHINE/LABEL:ID` → `MACHINE/LABEL`.
        let machine_label = map_run_arn
            .split_once(":mapRun:")
            .and_then(|(_, rest)| rest.rsplit_once(':'))
            .map(|(m, _)| m.to_string())
            .unwrap_or_else(|| format!("{}/{}", self.info.state_machine_name, st.name));
        let (region, account) = (&self.info.region, &self.info.account);
        let partition = stepwise_asl::partition_of(region);
        let name = src.uuid();
        let express = matches!(&st.kind, StateKind::Map(m)
            if m.execution_type.as_deref() == Some("EXPRESS"));
        let child = ChildExecution {
            arn: Arc::from(format!(
                "arn:{partition}:states:{region}:{account}:execution:{machine_label}:{name}"
            )),
            state_machine_arn: format!(
                "arn:{partition}:states:{region}:{account}:stateMachine:{machine_label}"
            ),
            name,
            map_run_arn,
            express,
            input: Arc::clone(input),
            start_millis: self.now,
            status: Status::Running,
            stop_millis: None,
            output: None,
            error: None,
            cause: None,
            history_len: 0,
            item_index: index as u64,
            redrive_count: 0,
            redrive_millis: None,
        };
        self.out.children.push(ChildChange::Started(child.clone()));
        self.children.insert(c, child);
        let role_arn = self.info.role_arn.clone();
        self.push_in(
            Some(c),
            0,
            EventType::ExecutionStarted,
            Details::ExecutionStarted {
                input: Arc::clone(input),
                role_arn,
            },
        );
        (Some(c), 0)
    }

    /// End child execution `c` with its last event (`prev`) and outcome.
    pub(super) fn close_child(&mut self, c: u32, prev: u64, status: Status, end: End) {
        let (t, d) = end.event(status);
        self.push_in(Some(c), prev, t, d);
        if let Some(mut child) = self.children.remove(&c) {
            child.status = status;
            child.stop_millis = Some(self.now);
            child.output = end.output;
            child.error = end.error;
            child.cause = end.cause;
            if status != Status::Succeeded && !child.express {
                let key = format!("{}:{}", child.item_index, child.map_run_arn);
                self.unsuccessful.insert(key, child.clone());
            }
            self.out.children.push(ChildChange::Finished(child));
        }
    }

    /// The child execution frame `fid` is the first frame of, if any.
    pub(super) fn child_root(&self, fid: FrameId) -> Option<u32> {
        let f = self.frames.get(fid)?.as_ref()?;
        let c = f.sink?;
        let parent_sink = f
            .parent
            .and_then(|(p, _)| self.frames.get(p)?.as_ref())
            .and_then(|p| p.sink);
        (parent_sink != Some(c)).then_some(c)
    }

    /// Update the counts of a Map Run (when the fanout is one) for a change of child
    /// execution `index`: its execution counts once, its item counts once per item it
    /// holds (its batch's size).
    pub(super) fn count_run(&mut self, run: Option<usize>, index: usize, f: impl Fn(&mut Counts)) {
        if let Some(r) = run.and_then(|i| self.runs.get_mut(i)) {
            match &mut r.executions {
                None => f(&mut r.items),
                Some(e) => {
                    f(e);
                    for _ in 0..r.batch_sizes.get(index).copied().unwrap_or(1) {
                        f(&mut r.items);
                    }
                }
            }
        }
    }

    /// The items in child execution `index` of a Map Run (1 without an `ItemBatcher`).
    pub(super) fn batch_size(&self, run: Option<usize>, index: usize) -> u64 {
        run.and_then(|i| self.runs.get(i))
            .and_then(|r| r.batch_sizes.get(index))
            .map_or(1, |&n| u64::from(n))
    }

    /// A Map Run still running ends as ABORTED (its execution or an enclosing state
    /// stopped).
    pub(super) fn abort_run(&mut self, run: Option<usize>) {
        let now = self.now;
        if let Some(r) = run.and_then(|i| self.runs.get_mut(i)) {
            if r.status == Status::Running {
                r.status = Status::Aborted;
                r.stop_millis = Some(now);
                for c in std::iter::once(&mut r.items).chain(r.executions.as_mut()) {
                    c.aborted += c.running;
                    c.running = 0;
                }
            }
        }
    }
}
