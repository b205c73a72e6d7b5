//! `stepwise run`'s live view on stderr: each state as it is entered and left, retries,
//! caught errors, waits, Parallel branches and Map iterations, task calls — read from
//! history events in AWS's JSON shape, so the in-process and the engine-backed runs
//! print alike.

use serde_json::Value;
use std::collections::HashMap;

pub struct Progress {
    pub on: bool,
    /// Map iterations per Map state name: (total, succeeded, failed).
    maps: HashMap<String, (u64, u64, u64)>,
    /// The Map whose `MapStateStarted` comes next.
    last_map: Option<String>,
    /// The state a failure was last seen in (a Retry or Catch follows).
    failing: Option<(String, String)>,
    /// The state entered last, per nesting: what a failure belongs to.
    current: Option<String>,
    /// Attempts per state name seen failing (for "retry n").
    attempts: HashMap<String, u32>,
    /// When each state was entered (event timestamps, seconds).
    entered: HashMap<String, f64>,
}

impl Progress {
    pub fn new(on: bool) -> Progress {
        Progress {
            on,
            maps: HashMap::new(),
            last_map: None,
            failing: None,
            current: None,
            attempts: HashMap::new(),
            entered: HashMap::new(),
        }
    }

    /// Print what `events` (GetExecutionHistory's shape) show.
    pub fn events(&mut self, events: &[Value]) {
        if !self.on {
            return;
        }
        for e in events {
            self.event(e);
        }
    }

    fn event(&mut self, e: &Value) {
        let ty = e["type"].as_str().unwrap_or_default();
        let details = e
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
            .map(|(_, v)| v)
            .unwrap_or(&Value::Null);
        let text = |k: &str| details[k].as_str().unwrap_or_default().to_string();
        let at = e["timestamp"].as_f64();
        if let Some(kind) = ty.strip_suffix("StateEntered") {
            let name = text("name");
            eprintln!("→ {name} ({kind})");
            if let Some(t) = at {
                self.entered.insert(name.clone(), t);
            }
            if kind == "Map" {
                self.last_map = Some(name.clone());
            }
            self.current = Some(name);
            return;
        }
        if ty.ends_with("StateExited") {
            let name = text("name");
            // How long it took, when it took long enough to matter.
            let took = match (self.entered.remove(&name), at) {
                (Some(a), Some(b)) if b - a >= 0.1 => format!(" ({:.1} s)", b - a),
                _ => String::new(),
            };
            match self.failing.take() {
                Some((failed, error)) if failed == name => {
                    eprintln!("↪ {name} (caught {error}){took}")
                }
                _ => eprintln!("✓ {name}{took}"),
            }
            self.attempts.remove(&name);
            return;
        }
        match ty {
            "MapStateStarted" => {
                let length = details["length"].as_u64().unwrap_or(0);
                eprintln!("  map over {length} items");
                if let Some(name) = self.last_map.take() {
                    self.maps.insert(name, (length, 0, 0));
                }
            }
            "MapIterationSucceeded" | "MapIterationFailed" => {
                let name = text("name");
                let c = self.maps.entry(name.clone()).or_default();
                if ty == "MapIterationSucceeded" {
                    c.1 += 1;
                } else {
                    c.2 += 1;
                    eprintln!(
                        "  {name}: iteration {} failed",
                        details["index"].as_u64().unwrap_or(0)
                    );
                }
                let (total, ok, failed) = *c;
                // Every tenth of the way, and at the end.
                let step = (total / 10).max(1);
                if (ok + failed) % step == 0 || ok + failed == total {
                    eprintln!(
                        "  {name}: {}/{total} iterations done ({failed} failed)",
                        ok + failed
                    );
                }
            }
            "ParallelStateStarted" => eprintln!("  parallel branches started"),
            "TaskScheduled" | "LambdaFunctionScheduled" => {
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
                    format!("{}:{}{target}", text("resourceType"), text("resource"))
                } else {
                    text("resource")
                };
                // A Retry schedules the task again without entering the state again.
                let retry = self
                    .current
                    .as_ref()
                    .and_then(|s| self.attempts.get(s))
                    .copied()
                    .unwrap_or(0);
                self.failing = None;
                if retry > 0 {
                    eprintln!("  retry {retry}: calling {what}");
                } else {
                    eprintln!("  calling {what}");
                }
            }
            "ActivityScheduled" => {
                eprintln!("  waiting for an activity worker ({})", text("resource"))
            }
            "TaskSubmitted" => eprintln!(
                "  {}:{} submitted; waiting for its answer",
                text("resourceType"),
                text("resource")
            ),
            "TaskFailed"
            | "TaskTimedOut"
            | "LambdaFunctionFailed"
            | "LambdaFunctionTimedOut"
            | "ActivityFailed"
            | "ActivityTimedOut" => {
                let error = text("error");
                let cause = text("cause");
                let cause: String = cause.chars().take(200).collect();
                eprintln!(
                    "  ✗ {error}{}",
                    if cause.is_empty() {
                        String::new()
                    } else {
                        format!(": {cause}")
                    }
                );
                if let Some(state) = self.current.clone() {
                    *self.attempts.entry(state.clone()).or_default() += 1;
                    self.failing = Some((state, error));
                }
            }
            "WaitStateEntered" => {}
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

    /// About to wait until `due` (text).
    pub fn waiting(&self, due: &str) {
        if self.on {
            eprintln!("  waiting until {due}");
        }
    }
}
