//! The inspector: the value after each step of a state's data flow (`InputPath`,
//! `Parameters` / `Arguments`, the result, `ResultSelector`, `ResultPath`, `ItemsPath`,
//! `ItemSelector`, `ItemBatcher`, `MaxConcurrency` and the tolerance), the variables after the state, and
//! the Retry / Catch decision. TestState shows these as `inspectionData`; an execution
//! records them only when asked ([`Execution::set_inspection`]), for an "advanced view"
//! of each of its states. Off, every recording point is one test of an `Option`.

use super::*;

/// `inspectionData.errorDetails`: which Retrier or Catcher acted on the state's error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InspectionErrorDetails {
    pub catch_index: Option<u32>,
    pub retry_index: Option<u32>,
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// The values a state's data flow produced, named as AWS's `inspectionData` names them.
/// Each is present only where the state evaluated that step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectionData {
    /// The raw state input.
    pub input: Option<Value>,
    /// JSONata `Arguments` (or the input a Task passes on without them).
    pub after_arguments: Option<Value>,
    pub after_input_path: Option<Value>,
    /// The effective input: after `Parameters`, or after `InputPath` without them.
    pub after_parameters: Option<Value>,
    /// The raw result: a Task's, a Pass state's `Result`, a Parallel's or Map's children's.
    pub result: Option<Value>,
    /// After `ResultSelector` (the result itself without one).
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    /// Every variable visible after the state (absent when there are none).
    pub variables: Option<Value>,
    pub error_details: Option<InspectionErrorDetails>,
    /// Map states: the items (JSONPath `ItemsPath`), each item after `ItemSelector`,
    /// `MaxConcurrency` (0 when unlimited) and the tolerated failure count or percentage.
    pub after_items_path: Option<Value>,
    pub after_item_selector: Option<Value>,
    /// A Distributed Map's `ItemBatcher`: each child execution's input (a batch).
    pub after_item_batcher: Option<Value>,
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    /// A Task called for real: the HTTP request it sent and the response it got
    /// (TestState's `inspectionData.request` and `.response`).
    pub request: Option<Value>,
    pub response: Option<Value>,
}

/// What the inspector recorded for one state entered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateInspection {
    /// The Distributed Map child execution the state ran in (`None`: the execution itself).
    pub child_execution_arn: Option<Arc<str>>,
    /// The id of the state's `…StateEntered` event in that history.
    pub entered_event_id: u64,
    pub state_name: String,
    pub data: InspectionData,
    /// The error Retry and Catch acted on, its cause as the history shows it.
    pub error: Option<StatesError>,
}

/// The records of an execution with inspection on, oldest first.
#[derive(Debug, Default)]
pub(super) struct Inspector {
    records: Vec<StateInspection>,
}

impl Execution {
    /// Record what each state's data flow produces from now on ([`Self::take_inspections`]),
    /// or stop recording.
    pub fn set_inspection(&mut self, on: bool) {
        match (on, self.inspector.is_some()) {
            (true, false) => self.inspector = Some(Box::default()),
            (false, true) => self.inspector = None,
            _ => {}
        }
    }

    /// The records made since the last call. A state still running when they are taken
    /// goes on in a new record with the same child and event id: merge them with
    /// [`StateInspection::merge`].
    pub fn take_inspections(&mut self) -> Vec<StateInspection> {
        match self.inspector.as_deref_mut() {
            Some(i) => std::mem::take(&mut i.records),
            None => Vec::new(),
        }
    }

    /// Record into the inspection of the state frame `fid` is in.
    #[inline]
    pub(super) fn inspect(&mut self, fid: FrameId, f: impl FnOnce(&mut StateInspection)) {
        if self.inspector.is_some() {
            let slot = self.inspection_slot(fid);
            record(&mut self.inspector, slot, f);
        }
    }

    /// The record of the state frame `fid` is in (made on first use), for [`record`]
    /// while other fields are borrowed; `None` when inspection is off.
    #[inline]
    pub(super) fn inspection_slot(&mut self, fid: FrameId) -> Option<usize> {
        match self.inspector {
            None => None,
            Some(_) => self.active_slot(fid),
        }
    }

    fn active_slot(&mut self, fid: FrameId) -> Option<usize> {
        let f = self.frames.get(fid)?.as_ref()?;
        let Stage::Active(a) = &f.stage else {
            return None;
        };
        let (sink, entered_id) = (f.sink, a.entered_id);
        self.inspection_slot_entered(fid, sink, entered_id)
    }

    /// [`Self::inspection_slot`] for the state entered at `entered_id` in the history of
    /// `sink` (while frame `fid`'s stage is taken out, as in Retry and Catch).
    pub(super) fn inspection_slot_entered(
        &mut self,
        fid: FrameId,
        sink: Option<u32>,
        entered_id: u64,
    ) -> Option<usize> {
        let inspector = self.inspector.as_deref_mut()?;
        let child = sink.and_then(|c| self.children.get(&c)).map(|c| &c.arn);
        let found = inspector.records.iter().rposition(|r| {
            r.entered_event_id == entered_id && r.child_execution_arn.as_ref() == child
        });
        if found.is_some() {
            return found;
        }
        let state_name = self
            .frames
            .get(fid)
            .and_then(Option::as_ref)
            .and_then(|f| {
                let index = match &f.stage {
                    Stage::Active(a) => a.state,
                    Stage::Ready { state, .. } => *state,
                    Stage::Finished => return None,
                };
                let states = states_at(&self.machine.definition, &f.path);
                Some(states.get(index).name.to_string())
            })
            .unwrap_or_default();
        inspector.records.push(StateInspection {
            child_execution_arn: child.cloned(),
            entered_event_id: entered_id,
            state_name,
            ..StateInspection::default()
        });
        Some(inspector.records.len() - 1)
    }

    /// Every variable frame `fid` sees (inner scopes hide outer ones), for the inspector.
    pub(super) fn visible_vars(&self, fid: FrameId) -> Map<String, Value> {
        let mut chain = Vec::new();
        let mut id = Some(fid);
        while let Some(f) = id.and_then(|i| self.frames.get(i)).and_then(Option::as_ref) {
            chain.push(&f.vars);
            id = f.parent.map(|p| p.0);
        }
        let mut all = Map::new();
        for vars in chain.into_iter().rev() {
            for (k, v) in vars {
                all.insert(k.clone(), v.clone());
            }
        }
        all
    }
}

/// Record into `slot` (from [`Execution::inspection_slot`]) if inspection is on.
#[inline]
pub(super) fn record(
    inspector: &mut Option<Box<Inspector>>,
    slot: Option<usize>,
    f: impl FnOnce(&mut StateInspection),
) {
    if let (Some(i), Some(slot)) = (inspector.as_deref_mut(), slot) {
        if let Some(r) = i.records.get_mut(slot) {
            f(r);
        }
    }
}

impl StateInspection {
    /// Fold a later record of the same state into this one (its values win).
    pub fn merge(&mut self, later: StateInspection) {
        let (d, l) = (&mut self.data, later.data);
        let pairs = [
            (&mut d.input, l.input),
            (&mut d.after_arguments, l.after_arguments),
            (&mut d.after_input_path, l.after_input_path),
            (&mut d.after_parameters, l.after_parameters),
            (&mut d.result, l.result),
            (&mut d.after_result_selector, l.after_result_selector),
            (&mut d.after_result_path, l.after_result_path),
            (&mut d.variables, l.variables),
            (&mut d.after_items_path, l.after_items_path),
            (&mut d.after_item_selector, l.after_item_selector),
            (&mut d.after_item_batcher, l.after_item_batcher),
        ];
        for (slot, v) in pairs {
            if v.is_some() {
                *slot = v;
            }
        }
        if l.error_details.is_some() {
            d.error_details = l.error_details;
        }
        if l.max_concurrency.is_some() {
            d.max_concurrency = l.max_concurrency;
        }
        if l.tolerated_failure_count.is_some() {
            d.tolerated_failure_count = l.tolerated_failure_count;
        }
        if l.tolerated_failure_percentage.is_some() {
            d.tolerated_failure_percentage = l.tolerated_failure_percentage;
        }
        if later.error.is_some() {
            self.error = later.error;
        }
    }
}
