//! The Stuck view: RUNNING executions that sat in one state longer than a threshold,
//! with the state and what each waits for.
//!
//! Read from the engine's memory (`Engine::stuck_executions`), oldest first and paged
//! by the (entered time, execution ARN) position: no history is read, so a page costs
//! the same with a hundred or a hundred thousand RUNNING executions. An execution in
//! several states (Parallel, Map) shows its longest-sitting one; one being stepped at
//! that moment is moving, so it is not listed.

use crate::page::{execution_href, layout, query_value, when};
use crate::{list_position, Console};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use stepwise_engine::{StuckExecution, WaitsFor};

/// Executions on one Stuck page.
pub const STUCK_PAGE: usize = 100;

#[derive(Deserialize, Default)]
pub(crate) struct StuckQuery {
    /// In one state at least this long (minutes; default 5).
    minutes: Option<f64>,
    /// The last row's position on the previous page: `ENTERED_MILLIS:ARN`.
    after: Option<String>,
}

/// RUNNING executions that sat in one state longer than a threshold, with the state and
/// what it waits for.
pub(crate) async fn stuck(
    State(Console { engine, .. }): State<Console>,
    Query(q): Query<StuckQuery>,
) -> Response {
    let minutes = q
        .minutes
        .filter(|m| m.is_finite() && (0.0..=1e9).contains(m))
        .unwrap_or(5.0);
    let after = q.after.as_deref().and_then(list_position);
    let min_age = (minutes * 60_000.0) as i64;
    let found = engine.stuck_executions(
        min_age,
        after.as_ref().map(|(t, a)| (*t, a.as_str())),
        STUCK_PAGE,
    );
    let next = (found.len() == STUCK_PAGE)
        .then(|| found.last())
        .flatten()
        .map(|l| format!("{}:{}", l.entered_millis, l.execution_arn));
    Html(stuck_page(&found, minutes, next.as_deref()).into_string()).into_response()
}

/// What a stuck execution waits for, in words.
pub fn waits_for_text(w: &WaitsFor) -> String {
    match w {
        WaitsFor::Timer { retry, due_millis } => {
            let what = if *retry {
                "a retry (backoff)"
            } else {
                "a timer (Wait)"
            };
            match due_millis {
                Some(t) => format!("{what} until {}", when(*t)),
                None => what.to_string(),
            }
        }
        WaitsFor::Activity {
            activity_arn,
            worker: None,
            pollers,
        } => {
            let name = activity_arn.rsplit(':').next().unwrap_or_default();
            let polling = match pollers {
                0 => "no worker polling".to_string(),
                1 => "1 worker polling".to_string(),
                n => format!("{n} workers polling"),
            };
            format!("an activity worker to take it ({name}; {polling})")
        }
        WaitsFor::Activity {
            worker: Some(w), ..
        } => format!("the activity worker {w} to answer"),
        WaitsFor::TaskToken => "its task token (SendTaskSuccess / SendTaskFailure)".to_string(),
        WaitsFor::ChildExecution {
            execution_arn: Some(a),
        } => format!(
            "its child execution {}",
            a.rsplit(':').next().unwrap_or_default()
        ),
        WaitsFor::ChildExecution {
            execution_arn: None,
        } => "its child execution".to_string(),
        WaitsFor::MapRun { map_run_arn } => format!(
            "its Map Run {}",
            map_run_arn.rsplit(':').next().unwrap_or_default()
        ),
        WaitsFor::Call { resource } => format!("a call ({resource})"),
    }
}

fn stuck_page(found: &[StuckExecution], minutes: f64, next: Option<&str>) -> Markup {
    layout(
        "Stuck",
        html! {
            form.filters method="get" action="/console/stuck" {
                label { "In one state for at least (minutes) " br; input type="number" name="minutes" min="0" step="any" value=(minutes); }
                button type="submit" { "Show" }
            }
            p.muted { "RUNNING executions whose current state was entered at least " (minutes) " minutes ago, longest first, and what each waits for (a Parallel or Map shows its longest-sitting state)." }
            @if found.is_empty() {
                p.muted { "None." }
            } @else {
                div.table { table {
                    thead { tr { th { "Execution" } th { "State machine" } th { "State" } th { "Since" } th { "Waits for" } } }
                    tbody { @for s in found { tr {
                        td { a href=(execution_href(&s.execution_arn)) { (s.name) } }
                        td { (s.state_machine_arn.rsplit(':').next().unwrap_or_default()) }
                        td { (s.state) }
                        td { (when(s.entered_millis)) }
                        td { (waits_for_text(&s.waits_for)) }
                    } } }
                } }
            }
            @if let Some(after) = next {
                p { a href={ "/console/stuck?minutes=" (minutes) "&after=" (query_value(after)) } rel="next" { "Next page →" } }
            }
        },
    )
}
