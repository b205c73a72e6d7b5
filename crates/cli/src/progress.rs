//! `stepwise run`'s live view on stderr: each state as it is entered and left, retries
//! (`retry 2/3`: the retrier's count and its `MaxAttempts`), caught errors (`↪`, not
//! `✓`), waits, Parallel branches and Map iterations, task calls — read from history
//! events in AWS's JSON shape, so the in-process and the engine-backed runs print alike.
//!
//! Which Map iteration an event runs in comes from the console's history fold
//! (`stepwise_console::progress`, which follows `previousEventId`): a state inside an
//! iteration is labelled with its path, `Map[3] > State`, and the lines about it carry
//! that label, since iterations interleave.

use serde_json::Value;
use std::collections::HashMap;
use stepwise_console::progress::{PathId, Progress as Fold};

/// A state's retriers: `(ErrorEquals, MaxAttempts)` in order.
type Retriers = Vec<(Vec<String>, u64)>;

pub struct Progress {
    pub on: bool,
    fold: Fold,
    /// Each state's retriers, from the definition.
    retriers: HashMap<String, Retriers>,
    /// The `Error` of each Fail state that names one, from the definition: what fails a
    /// Parallel branch or Map iteration (their failure events name no error).
    fail_errors: HashMap<String, String>,
    /// Map iterations per Map visit (its path and name): (total, succeeded, failed).
    maps: HashMap<(PathId, String), (u64, u64, u64)>,
    /// The last error seen, for a caught Map or Parallel (its own event names none).
    last_error: Option<String>,
}

impl Progress {
    /// A view of an execution of `definition` (ASL JSON text); prints only when `on`.
    pub fn new(on: bool, definition: &str) -> Progress {
        let mut retriers = HashMap::new();
        let mut fail_errors = HashMap::new();
        if on {
            if let Ok(def) = serde_json::from_str::<Value>(definition) {
                learn(&def, &mut retriers, &mut fail_errors);
            }
        }
        Progress {
            on,
            fold: Fold::new(if on { definition } else { "" }),
            retriers,
            fail_errors,
            maps: HashMap::new(),
            last_error: None,
        }
    }

    /// Print what `events` (GetExecutionHistory's shape) show.
    pub fn events(&mut self, events: &[Value]) {
        if !self.on {
            return;
        }
        for e in events {
            self.fold.apply(e);
            self.event(e);
        }
    }

    /// `Map[3] > Inner[0] > ` for an event in those iterations; empty at the top level.
    fn label(&self, path: PathId) -> String {
        self.fold
            .describe_path(path)
            .iter()
            .map(|(map, index)| format!("{map}[{index}] > "))
            .collect()
    }

    fn event(&mut self, e: &Value) {
        let ty = e["type"].as_str().unwrap_or_default();
        let details = e
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
            .map(|(_, v)| v)
            .unwrap_or(&Value::Null);
        let text = |k: &str| details[k].as_str().unwrap_or_default().to_string();
        let path = e["id"].as_u64().map_or(0, |id| self.fold.event_path(id));
        let label = self.label(path);
        if let Some(kind) = ty.strip_suffix("StateEntered") {
            let name = text("name");
            eprintln!("→ {label}{name} ({kind})");
            if let Some(error) = self.fail_errors.get(&name).filter(|_| kind == "Fail") {
                self.last_error = Some(error.clone());
            }
            return;
        }
        if ty.ends_with("StateExited") {
            let name = text("name");
            let visit = self
                .fold
                .state(&name)
                .and_then(|s| self.fold.visit_in_view(s, path));
            // How long it took, when it took long enough to matter.
            let took = match visit.and_then(|v| Some(v.exited? - v.entered)) {
                Some(t) if t >= 0.1 => format!(" ({t:.1} s)"),
                _ => String::new(),
            };
            match visit {
                Some(v) if self.fold.visit_status(v) == "caught" => {
                    let error = v.error.clone().or_else(|| self.last_error.clone());
                    match error {
                        Some(error) => eprintln!("↪ {label}{name} (caught {error}){took}"),
                        None => eprintln!("↪ {label}{name} (caught){took}"),
                    }
                }
                _ => eprintln!("✓ {label}{name}{took}"),
            }
            return;
        }
        // Lines about the state an event belongs to: labelled inside iterations, where
        // iterations interleave (`  Map[3] > State: calling …`).
        let owner = self.visit_name(e).unwrap_or_default();
        let sub = |what: &str| {
            if label.is_empty() {
                eprintln!("  {what}");
            } else {
                eprintln!("  {label}{owner}: {what}");
            }
        };
        match ty {
            "MapStateStarted" => {
                let length = details["length"].as_u64().unwrap_or(0);
                if let Some(retry) = self.retry_of(path, e) {
                    sub(&retry);
                }
                sub(&format!("map over {length} items"));
                if let Some(name) = self.visit_name(e) {
                    self.maps.insert((path, name), (length, 0, 0));
                }
            }
            "MapIterationSucceeded" | "MapIterationFailed" => {
                let name = text("name");
                let c = self.maps.entry((path, name.clone())).or_default();
                let index = details["index"].as_u64().unwrap_or(0);
                if ty == "MapIterationSucceeded" {
                    c.1 += 1;
                } else {
                    c.2 += 1;
                }
                let (total, ok, failed) = *c;
                if ty == "MapIterationFailed" {
                    sub(&format!("{name}[{index}] failed"));
                }
                // Every tenth of the way, and at the end.
                let step = (total / 10).max(1);
                if (ok + failed) % step == 0 || ok + failed == total {
                    sub(&format!(
                        "{name}: {}/{total} iterations done ({failed} failed)",
                        ok + failed
                    ));
                }
            }
            "ParallelStateStarted" => {
                if let Some(retry) = self.retry_of(path, e) {
                    sub(&retry);
                }
                sub("parallel branches started")
            }
            "TaskScheduled" | "LambdaFunctionScheduled" | "ActivityScheduled" => {
                let what = if ty == "TaskScheduled" {
                    // What it calls: the function, or the endpoint.
                    let params: Value =
                        serde_json::from_str(&text("parameters")).unwrap_or(Value::Null);
                    let target = match (
                        &params["FunctionName"],
                        &params["ApiEndpoint"],
                        &params["StateMachineArn"],
                    ) {
                        (Value::String(f), _, _) => format!(" {f}"),
                        (_, Value::String(u), _) => {
                            format!(" {} {u}", params["Method"].as_str().unwrap_or_default())
                        }
                        (_, _, Value::String(m)) => format!(" {m}"),
                        _ => String::new(),
                    };
                    format!(
                        "calling {}:{}{target}",
                        text("resourceType"),
                        text("resource")
                    )
                } else if ty == "ActivityScheduled" {
                    format!("waiting for an activity worker ({})", text("resource"))
                } else {
                    format!("calling {}", text("resource"))
                };
                // A Retry schedules the task again without entering the state again.
                match self.retry_of(path, e) {
                    Some(retry) => sub(&format!("{retry}: {what}")),
                    None => sub(&what),
                }
            }
            "TaskSubmitted" => sub(&format!(
                "{}:{} submitted; waiting for its answer",
                text("resourceType"),
                text("resource")
            )),
            "TaskFailed"
            | "TaskTimedOut"
            | "LambdaFunctionFailed"
            | "LambdaFunctionTimedOut"
            | "LambdaFunctionScheduleFailed"
            | "LambdaFunctionStartFailed"
            | "ActivityFailed"
            | "ActivityTimedOut"
            | "ActivityScheduleFailed"
            | "TaskStartFailed"
            | "TaskSubmitFailed" => {
                let mut error = text("error");
                if error.is_empty() && ty.ends_with("TimedOut") {
                    error = "States.Timeout".into();
                }
                let cause: String = text("cause").chars().take(200).collect();
                sub(&format!(
                    "✗ {error}{}",
                    if cause.is_empty() {
                        String::new()
                    } else {
                        format!(": {cause}")
                    }
                ));
                self.last_error = Some(error);
            }
            "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted" => {
                eprintln!(
                    "✗ execution {}: {}",
                    ty.trim_start_matches("Execution").to_lowercase(),
                    text("error")
                )
            }
            _ => {}
        }
    }

    /// The name of the state event `e` belongs to.
    fn visit_name(&self, e: &Value) -> Option<String> {
        let state = self.fold.event_state(e["id"].as_u64()?)?;
        Some(self.fold.name(state).to_string())
    }

    /// `retry N/MAX` when the task (or Map, or Parallel) that event `e` starts has
    /// failed before in this visit: N counts the failures its retrier matched.
    fn retry_of(&self, path: PathId, e: &Value) -> Option<String> {
        let name = self.visit_name(e)?;
        let state = self.fold.state(&name)?;
        let visit = self.fold.visit_in_view(state, path)?;
        let n = visit.attempts.len();
        if n < 2 {
            return None;
        }
        let retriers = self.retriers.get(&name);
        let matched = |error: &str| -> Option<usize> {
            retriers?
                .iter()
                .position(|(errors, _)| errors.iter().any(|e| matches(e, error)))
        };
        // A Parallel's or Map's failure event names no error: the last one seen inside.
        let failures: Vec<&str> = visit.attempts[..n - 1]
            .iter()
            .map(|a| {
                a.error
                    .as_deref()
                    .or(self.last_error.as_deref())
                    .unwrap_or_default()
            })
            .collect();
        let last = failures.last().copied().unwrap_or_default();
        match matched(last) {
            Some(r) => {
                let count = failures.iter().filter(|f| matched(f) == Some(r)).count();
                let max = retriers.and_then(|rs| rs.get(r)).map_or(3, |(_, m)| *m);
                Some(format!("retry {count}/{max}"))
            }
            None => Some(format!("retry {}", n - 1)),
        }
    }
}

/// Whether a retrier's `ErrorEquals` entry matches `error` (as AWS: `States.ALL` any,
/// `States.TaskFailed` any but `States.Timeout`).
fn matches(pattern: &str, error: &str) -> bool {
    pattern == error
        || pattern == "States.ALL"
        || (pattern == "States.TaskFailed" && error != "States.Timeout")
}

/// Every state's `Retry` and every Fail state's `Error` in a definition, nested ones
/// included.
fn learn(scope: &Value, out: &mut HashMap<String, Retriers>, fails: &mut HashMap<String, String>) {
    let Some(states) = scope["States"].as_object() else {
        return;
    };
    for (name, s) in states {
        if let (Some("Fail"), Some(error)) = (s["Type"].as_str(), s["Error"].as_str()) {
            fails.insert(name.clone(), error.to_string());
        }
        if let Some(retry) = s["Retry"].as_array() {
            let rs = retry
                .iter()
                .map(|r| {
                    let errors = r["ErrorEquals"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.as_str().map(String::from))
                        .collect();
                    (errors, r["MaxAttempts"].as_u64().unwrap_or(3))
                })
                .collect();
            out.insert(name.clone(), rs);
        }
        for b in s["Branches"].as_array().into_iter().flatten() {
            learn(b, out, fails);
        }
        if let Some(p) = s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
            learn(p, out, fails);
        }
    }
}

impl Progress {
    /// About to wait until `due` (text).
    pub fn waiting(&self, due: &str) {
        if self.on {
            eprintln!("  waiting until {due}");
        }
    }
}
