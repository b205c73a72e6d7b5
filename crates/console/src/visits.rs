//! The table of visits on an execution's page: each state entered on the shown path (the
//! top level and the Map iterations picked), with its status, start, duration and retries
//! on a timeline. The page draws the rows; the event stream sends the rows that changed
//! (`event: visits`) so the table grows and updates live, from the same [`VisitRow`]s.

use crate::execution::View;
use crate::page::when;
use crate::progress::{PathId, Progress};
use maud::{html, Markup};
use serde::Serialize;

/// One row of the table, as drawn and as streamed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct VisitRow {
    pub state: String,
    #[serde(rename = "type")]
    pub state_type: String,
    pub status: &'static str,
    /// Seconds since the epoch.
    pub entered: f64,
    pub exited: Option<f64>,
    pub started: String,
    pub duration: Option<String>,
    /// When each retry began (seconds since the epoch).
    pub retries: Vec<f64>,
    pub href: String,
}

/// Whether visits on `path` belong in the table when `shown` is shown: the shown path and
/// those above it.
fn on_path(p: &Progress, shown: PathId, path: PathId) -> bool {
    if !p.in_view(shown, path) {
        return false;
    }
    let mut at = shown;
    loop {
        if at == path {
            return true;
        }
        if at == 0 {
            return false;
        }
        at = p.parent(at);
    }
}

/// The rows of the table for `view`, in the order the states were entered.
pub(crate) fn rows(p: &Progress, view: &View, arn: &str) -> Vec<VisitRow> {
    p.visits
        .iter()
        .filter(|v| on_path(p, view.path, v.path))
        .map(|v| VisitRow {
            state: v.state.clone(),
            state_type: v.state_type.clone(),
            status: p.visit_status(v),
            entered: v.entered,
            exited: v.exited,
            started: when((v.entered * 1000.0) as i64),
            duration: v.exited.map(|x| duration(x - v.entered)),
            retries: v.attempts.iter().skip(1).map(|a| a.started).collect(),
            href: view.state_href(arn, &v.state),
        })
        .collect()
}

/// The rows of `now` that differ from `before` (or are new), with their index.
pub(crate) fn changed<'a>(before: &[VisitRow], now: &'a [VisitRow]) -> Vec<(usize, &'a VisitRow)> {
    now.iter()
        .enumerate()
        .filter(|(i, r)| before.get(*i) != Some(*r))
        .collect()
}

/// The table section. `start` and `stop` (seconds) bound the timeline; a running
/// execution's ends at the latest visit (the page's script moves it as rows arrive).
pub(crate) fn table(rows: &[VisitRow], start: f64, stop: Option<f64>) -> Markup {
    let end = stop
        .or_else(|| {
            rows.iter()
                .map(|r| r.exited.unwrap_or(r.entered))
                .reduce(f64::max)
        })
        .unwrap_or(start);
    let span = (end - start).max(0.001);
    let pct = |t: f64| ((t - start) / span * 100.0).clamp(0.0, 100.0);
    html! {
        section #visits {
            h2 { "Table" }
            p.muted #no-visits hidden[!rows.is_empty()] { "No state entered yet." }
            div.table hidden[rows.is_empty()] {
                table.visits data-start=(start) data-stop=[stop] {
                    thead { tr { th { "State" } th { "Type" } th { "Status" } th { "Started" } th { "Duration" } th { "Retries" } th.timeline-head { "Timeline" } } }
                    tbody {
                        @for (i, r) in rows.iter().enumerate() {
                            tr data-visit-state=(r.state) data-visit-index=(i) data-entered=(r.entered) data-exited=[r.exited] {
                                td { a href=(r.href) { (r.state) } }
                                td { (r.state_type) }
                                td { span.step-status.(r.status) { (r.status) } }
                                td { (r.started) }
                                td { @if let Some(d) = &r.duration { (d) } }
                                td { (r.retries.len()) }
                                td.timeline {
                                    @let left = pct(r.entered);
                                    @let right = pct(r.exited.unwrap_or(end));
                                    span.bar.(r.status) style={ "left:" (format!("{left:.2}")) "%;width:" (format!("{:.2}", (right - left).max(0.4))) "%" } {}
                                    @for at in &r.retries {
                                        span.retry data-at=(at) style={ "left:" (format!("{:.2}", pct(*at))) "%" } title="retry" {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A duration as a person reads it.
pub(crate) fn duration(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}
