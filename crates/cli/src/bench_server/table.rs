//! The table: rows of figures with their targets, the Markdown table with ratios and
//! marks, the diagnostics below it, and the column renderer the other benches share.

use crate::bench::thousands;
use serde_json::{json, Value};

use super::measure::{Diag, Measured, Parked, Results, Skip};
use super::Options;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Better {
    Higher,
    Lower,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Target {
    AtLeast(f64),
    AtMost(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Unit {
    PerSec,
    Ms,
    MiB,
    Secs,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Ran(f64, String),
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub(super) workload: &'static str,
    pub(super) metric: String,
    pub(super) unit: Unit,
    pub(super) better: Better,
    pub(super) target: Option<Target>,
    pub(super) stepwise: Cell,
    /// Stepwise with `--durability process`.
    pub(super) process: Cell,
    pub(super) moto: Cell,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        match (&self.stepwise, &self.moto) {
            (Cell::Ran(s, _), Cell::Ran(m, _)) if *s > 0.0 && *m > 0.0 => Some(match self.better {
                Better::Higher => s / m,
                Better::Lower => m / s,
            }),
            _ => None,
        }
    }

    /// Whether Stepwise meets the target; None without a target or a figure.
    fn met(&self) -> Option<bool> {
        let Cell::Ran(s, _) = self.stepwise else {
            return None;
        };
        match self.target? {
            Target::AtLeast(t) => Some(s >= t),
            Target::AtMost(t) => Some(s <= t),
        }
    }

    pub(super) fn to_json(&self) -> Value {
        let cell = |c: &Cell| match c {
            Cell::Ran(v, note) => json!({ "value": v, "note": note }),
            Cell::Failed(e) => json!({ "error": e }),
            Cell::Skipped(why) => json!({ "skipped": why }),
        };
        json!({
            "workload": self.workload, "metric": self.metric,
            "stepwise": cell(&self.stepwise), "stepwise_process": cell(&self.process), "moto": cell(&self.moto),
            "ratio": self.ratio(), "target": self.target.map(|t| target_text(t, self.unit)), "met": self.met(),
        })
    }
}

fn cell_of(m: Option<&Measured>) -> Cell {
    match m {
        Some(Ok(f)) => Cell::Ran(f.value, f.note.clone()),
        Some(Err(Skip(s))) => match s.strip_prefix("FAILED: ") {
            Some(e) => Cell::Failed(e.to_string()),
            None => Cell::Skipped(s.clone()),
        },
        None => Cell::Skipped("not run".into()),
    }
}

pub(super) fn rows(o: &Options, s: &Results, p: &Results, m: &Results, moto_ran: bool) -> Vec<Row> {
    let c = o.clients;
    let pick = |r: &Results, k: &str, ran: bool| {
        if ran {
            cell_of(r.figs.get(k))
        } else {
            Cell::Skipped(String::new())
        }
    };
    let row = |workload, metric: String, key: &str, unit, better, target| Row {
        workload,
        metric,
        unit,
        better,
        target,
        stepwise: pick(s, key, true),
        process: pick(p, key, true),
        moto: pick(m, key, moto_ran),
    };
    use Better::*;
    let mut out = vec![
        row(
            "hello3",
            "StartExecution/s, 1 client".into(),
            "start1",
            Unit::PerSec,
            Higher,
            None,
        ),
        row(
            "hello3",
            format!("StartExecution/s, {c} clients"),
            "startN",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(5000.0)),
        ),
        row(
            "hello3",
            "executions/s, 1 client".into(),
            "exec1",
            Unit::PerSec,
            Higher,
            None,
        ),
        row(
            "hello3",
            format!("executions/s, {c} clients"),
            "execN",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(8000.0)),
        ),
        row(
            "hello3",
            "start-to-finish p50 ms, 1 client".into(),
            "p50_1",
            Unit::Ms,
            Lower,
            Some(Target::AtMost(2.0)),
        ),
        row(
            "hello3",
            "start-to-finish p99 ms, 1 client".into(),
            "p99_1",
            Unit::Ms,
            Lower,
            None,
        ),
        row(
            "hello3",
            format!("start-to-finish p50 ms, {c} clients"),
            "p50_N",
            Unit::Ms,
            Lower,
            None,
        ),
        row(
            "hello3",
            format!("start-to-finish p99 ms, {c} clients"),
            "p99_N",
            Unit::Ms,
            Lower,
            None,
        ),
        row(
            "chain100",
            "durable transitions/s".into(),
            "chain100",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(100_000.0)),
        ),
        row(
            "map1000",
            "durable transitions/s".into(),
            "map1000",
            Unit::PerSec,
            Higher,
            Some(Target::AtLeast(50_000.0)),
        ),
        row(
            "callback",
            format!("round trips/s, {c} clients"),
            "callback",
            Unit::PerSec,
            Higher,
            None,
        ),
        row(
            "callback",
            format!("round trip p50 ms, {c} clients"),
            "callback_p50",
            Unit::Ms,
            Lower,
            None,
        ),
    ];
    let n = o.parked;
    let parked = |f: &dyn Fn(&Parked) -> Option<f64>, note: String| match &s.parked {
        Ok(p) => match f(p) {
            Some(v) => Cell::Ran(v, note),
            None => Cell::Failed("not readable from /proc".into()),
        },
        Err(Skip(e)) => match e.strip_prefix("FAILED: ") {
            Some(e) => Cell::Failed(e.to_string()),
            None => Cell::Skipped(e.clone()),
        },
    };
    let moto_parked = if moto_ran {
        Cell::Skipped("n/a".into())
    } else {
        Cell::Skipped(String::new())
    };
    let kib = |k: Option<u64>| k.map(|k| k as f64 / 1024.0);
    let waitday = |metric: String, unit, better, target, cell| Row {
        workload: "waitday",
        metric,
        unit,
        better,
        target,
        stepwise: cell,
        process: Cell::Skipped(String::new()),
        moto: moto_parked.clone(),
    };
    out.push(waitday(
        format!(
            "StartExecution/s parking {}, {c} clients",
            thousands(n as f64)
        ),
        Unit::PerSec,
        Higher,
        None,
        parked(&|p| Some(p.start_per_sec), String::new()),
    ));
    out.push(waitday(
        format!("RSS MiB, {} parked", thousands(n as f64)),
        Unit::MiB,
        Lower,
        Some(Target::AtMost(500.0)),
        parked(&|p| kib(p.rss_kib), String::new()),
    ));
    out.push(waitday(
        "restart to /health s, after kill -9".into(),
        Unit::Secs,
        Lower,
        Some(Target::AtMost(5.0)),
        parked(&|p| Some(p.restart.as_secs_f64()), String::new()),
    ));
    out.push(waitday(
        "RSS MiB after the restart".into(),
        Unit::MiB,
        Lower,
        None,
        parked(&|p| kib(p.rss_after_restart_kib), String::new()),
    ));
    if let Ok(p) = &s.parked {
        debug_assert_eq!(p.count, n);
    }
    out.push(Row {
        workload: "(all)",
        metric: "server RSS MiB after the runs above".into(),
        unit: Unit::MiB,
        better: Lower,
        target: None,
        stepwise: s
            .rss_after_runs
            .map(|k| Cell::Ran(k as f64 / 1024.0, String::new()))
            .unwrap_or(Cell::Skipped("?".into())),
        process: p
            .rss_after_runs
            .map(|k| Cell::Ran(k as f64 / 1024.0, String::new()))
            .unwrap_or(Cell::Skipped("?".into())),
        moto: if moto_ran {
            m.rss_after_runs
                .map(|k| Cell::Ran(k as f64 / 1024.0, String::new()))
                .unwrap_or(Cell::Skipped("?".into()))
        } else {
            Cell::Skipped(String::new())
        },
    });
    out
}

fn number(v: f64, unit: Unit) -> String {
    match unit {
        Unit::PerSec if v < 100.0 => format!("{v:.1}"),
        Unit::PerSec => thousands(v),
        Unit::Ms if v < 10.0 => format!("{v:.2}"),
        Unit::Ms if v < 1000.0 => format!("{v:.1}"),
        Unit::Ms => thousands(v),
        Unit::MiB => format!("{v:.1}"),
        Unit::Secs => format!("{v:.2}"),
    }
}

fn target_text(t: Target, unit: Unit) -> String {
    match t {
        Target::AtLeast(x) => format!("≥ {}", number(x, unit)),
        Target::AtMost(x) => format!("≤ {}", number(x, unit)),
    }
}

fn cell_text(c: &Cell, unit: Unit) -> String {
    match c {
        Cell::Ran(v, note) if note.is_empty() => number(*v, unit),
        Cell::Ran(v, note) => format!("{} ({note})", number(*v, unit)),
        Cell::Failed(_) => "FAILED (below)".into(),
        Cell::Skipped(why) => why.clone(),
    }
}

/// Markdown with padded columns: workload | metric | Stepwise (fsync) | Stepwise
/// (process) | moto | ratio (fsync ÷ moto) | target (fsync).
pub(super) fn format_table(rows: &[Row]) -> String {
    let mut table: Vec<[String; 7]> = vec![[
        "workload",
        "metric",
        "Stepwise (fsync)",
        "Stepwise (process)",
        "moto",
        "ratio",
        "target (fsync)",
    ]
    .map(String::from)];
    for r in rows {
        let ratio = r
            .ratio()
            .map(|x| {
                if x >= 100.0 {
                    format!("{x:.0}×")
                } else {
                    format!("{x:.1}×")
                }
            })
            .unwrap_or_default();
        let target = match (r.target, r.met()) {
            (Some(t), Some(met)) => {
                format!("{} {}", target_text(t, r.unit), if met { "✓" } else { "✗" })
            }
            (Some(t), None) => target_text(t, r.unit),
            (None, _) => String::new(),
        };
        table.push([
            r.workload.to_string(),
            r.metric.clone(),
            cell_text(&r.stepwise, r.unit),
            cell_text(&r.process, r.unit),
            cell_text(&r.moto, r.unit),
            ratio,
            target,
        ]);
    }
    render(&table, &[false, false, true, true, true, true, false])
}

pub(super) fn format_diags(diags: &[Diag]) -> String {
    let mut table: Vec<[String; 9]> = vec![[
        "measurement",
        "executions started/s",
        "finished/s",
        "transitions/s (counter)",
        "commits/s",
        "batches/commit",
        "ms/commit",
        "server CPU",
        "bench client CPU",
    ]
    .map(String::from)];
    for d in diags {
        let w = d.wall.max(1e-9);
        let per_commit = |x: f64| if d.commits > 0.0 { x / d.commits } else { 0.0 };
        table.push([
            d.name.clone(),
            thousands(d.started / w),
            thousands(d.finished / w),
            thousands(d.transitions / w),
            thousands(d.commits / w),
            format!("{:.1}", per_commit(d.batches)),
            format!("{:.2}", per_commit(d.commit_secs) * 1000.0),
            format!("{:.0}%", d.server_cpu / w * 100.0),
            format!("{:.0}%", d.client_cpu / w * 100.0),
        ]);
    }
    render(
        &table,
        &[false, true, true, true, true, true, true, true, true],
    )
}

pub(crate) fn render<const N: usize>(table: &[[String; N]], right: &[bool; N]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, r) in table.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let fill = " ".repeat(widths[i].saturating_sub(s.chars().count()));
                if n > 0 && right[i] {
                    format!("{fill}{s}")
                } else {
                    format!("{s}{fill}")
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
        if n == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if right[i] {
                        format!("{}:", "-".repeat(w.saturating_sub(1)))
                    } else {
                        "-".repeat(*w)
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", rule.join(" | ")));
        }
    }
    out
}

#[cfg(test)]
#[path = "../tests/bench_server/table.rs"]
mod tests;
