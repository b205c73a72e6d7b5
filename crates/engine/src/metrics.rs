//! Counters for `GET /metrics`, rendered as Prometheus text.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the commit-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 8] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1.0];
/// Upper bounds of the batches-per-commit histogram buckets.
const SIZE_BUCKETS: [f64; 7] = [1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0];

#[derive(Default)]
pub struct Metrics {
    pub executions_started: AtomicU64,
    /// SUCCEEDED, FAILED, TIMED_OUT, ABORTED.
    pub executions_finished: [AtomicU64; 4],
    pub transitions: AtomicU64,
    commits: AtomicU64,
    commit_batches: AtomicU64,
    commit_micros: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    size_buckets: [AtomicU64; SIZE_BUCKETS.len()],
}

/// Gauges read from the engine at render time.
pub struct Gauges {
    pub open_executions: usize,
    pub timers: usize,
    pub activity_pollers: usize,
    pub queued_batches: u64,
}

impl Metrics {
    pub fn finished(&self, status: &str) {
        let i = match status {
            "SUCCEEDED" => 0,
            "FAILED" => 1,
            "TIMED_OUT" => 2,
            _ => 3,
        };
        self.executions_finished[i].fetch_add(1, Relaxed);
    }

    pub fn observe_commit(&self, batches: usize, took: Duration) {
        self.commits.fetch_add(1, Relaxed);
        self.commit_batches.fetch_add(batches as u64, Relaxed);
        self.commit_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
        let secs = took.as_secs_f64();
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.latency_buckets[i].fetch_add(1, Relaxed);
            }
        }
        for (i, b) in SIZE_BUCKETS.iter().enumerate() {
            if batches as f64 <= *b {
                self.size_buckets[i].fetch_add(1, Relaxed);
            }
        }
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut s = String::new();
        let c = |s: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        c(
            &mut s,
            "stepwise_executions_started_total",
            "Executions started.",
            self.executions_started.load(Relaxed),
        );
        let _ = writeln!(s, "# HELP stepwise_executions_finished_total Executions finished, by status.\n# TYPE stepwise_executions_finished_total counter");
        for (i, st) in ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
            .iter()
            .enumerate()
        {
            let _ = writeln!(
                s,
                "stepwise_executions_finished_total{{status=\"{st}\"}} {}",
                self.executions_finished[i].load(Relaxed)
            );
        }
        c(
            &mut s,
            "stepwise_state_transitions_total",
            "States entered.",
            self.transitions.load(Relaxed),
        );
        let commits = self.commits.load(Relaxed);
        histogram(
            &mut s,
            "stepwise_commit_batches",
            "Batches folded into one store transaction.",
            &SIZE_BUCKETS,
            &self.size_buckets,
            self.commit_batches.load(Relaxed) as f64,
            commits,
        );
        histogram(
            &mut s,
            "stepwise_commit_seconds",
            "Store transaction latency.",
            &LATENCY_BUCKETS,
            &self.latency_buckets,
            self.commit_micros.load(Relaxed) as f64 / 1e6,
            commits,
        );
        let gauge = |s: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            &mut s,
            "stepwise_open_executions",
            "RUNNING executions held by this node.",
            g.open_executions as u64,
        );
        gauge(
            &mut s,
            "stepwise_timers",
            "Armed durable timers.",
            g.timers as u64,
        );
        gauge(
            &mut s,
            "stepwise_activity_pollers",
            "GetActivityTask calls waiting.",
            g.activity_pollers as u64,
        );
        gauge(
            &mut s,
            "stepwise_commit_queue",
            "Batches waiting for the writer.",
            g.queued_batches,
        );
        s
    }
}

fn histogram(
    s: &mut String,
    name: &str,
    help: &str,
    bounds: &[f64],
    counts: &[AtomicU64],
    sum: f64,
    count: u64,
) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (b, c) in bounds.iter().zip(counts) {
        let _ = writeln!(s, "{name}_bucket{{le=\"{b}\"}} {}", c.load(Relaxed));
    }
    let _ = writeln!(
        s,
        "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
    );
}
