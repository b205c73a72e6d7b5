//! The Stuck view: RUNNING executions that sat in one state longer than a threshold,
//! with the state and what each waits for.

use crate::page::{details, execution_href, layout, query_value, when};
use crate::{list_position, Console};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use stepwise_store::{ExecutionQuery, ExecutionRecord};

/// RUNNING executions scanned for one Stuck page.
pub const STUCK_SCAN: usize = 200;

#[derive(Deserialize, Default)]
pub(crate) struct StuckQuery {
    /// In one state at least this long (minutes; default 5).
    minutes: Option<f64>,
    after: Option<String>,
}

/// RUNNING executions that sat in one state longer than a threshold, with the state and
/// what it waits for (read from the end of each one's history).
pub(crate) async fn stuck(
    State(Console { engine, .. }): State<Console>,
    Query(q): Query<StuckQuery>,
) -> Response {
    let minutes = q
        .minutes
        .filter(|m| m.is_finite() && *m >= 0.0)
        .unwrap_or(5.0);
    let after = q.after.as_deref().and_then(list_position);
    let query = ExecutionQuery {
        status: Some("RUNNING".into()),
        after,
        limit: STUCK_SCAN,
        ..ExecutionQuery::default()
    };
    let rows = match engine.list_executions(&query) {
        Ok(r) => r,
        Err(e) => return crate::page::error_page(StatusCode::BAD_REQUEST, &e.message),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut found = Vec::new();
    for r in &rows {
        let Ok(tail) = engine.execution_history(&r.arn, u64::MAX, true, 20).await else {
            continue;
        };
        let events: Vec<serde_json::Value> = tail
            .iter()
            .filter_map(|e| serde_json::from_str(&e.json).ok())
            .collect();
        if let Some(s) = StuckAt::read(&events) {
            if now - s.since >= minutes * 60.0 {
                found.push((r.clone(), s));
            }
        }
    }
    let next = (rows.len() == STUCK_SCAN)
        .then(|| rows.last().map(|l| format!("{}:{}", l.start_millis, l.arn)))
        .flatten();
    Html(stuck_page(&found, minutes, rows.len(), next.as_deref()).into_string()).into_response()
}

/// Where a RUNNING execution sits: its last entered state, since when (epoch seconds),
/// and what it waits for.
pub struct StuckAt {
    pub state: String,
    pub since: f64,
    pub waits_for: String,
}

impl StuckAt {
    /// From the end of a history, newest first.
    pub fn read(newest_first: &[Value]) -> Option<StuckAt> {
        let entered = newest_first.iter().find(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("StateEntered"))
        })?;
        let (_, d) = details(entered)?;
        let last = newest_first.first()?;
        let text = |k: &str| -> String {
            details(last)
                .and_then(|(_, d)| d[k].as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let waits_for = match last["type"].as_str().unwrap_or_default() {
            "WaitStateEntered" => "a timer (Wait)".to_string(),
            "ActivityScheduled" => format!("an activity worker to take it ({})", text("resource")),
            "ActivityStarted" => format!("the activity worker {} to answer", text("workerName")),
            "TaskScheduled" | "TaskStarted" if text("resource").ends_with(".waitForTaskToken") => {
                "its task token (SendTaskSuccess / SendTaskFailure)".to_string()
            }
            "TaskSubmitted" if text("resource").starts_with("startExecution.sync") => {
                "its child execution".to_string()
            }
            "TaskSubmitted" => "its task token (SendTaskSuccess / SendTaskFailure)".to_string(),
            "TaskScheduled" | "TaskStarted" => {
                format!("a call ({}:{})", text("resourceType"), text("resource"))
            }
            "LambdaFunctionScheduled" | "LambdaFunctionStarted" => "a Lambda function".to_string(),
            "MapRunStarted" => "its Map Run".to_string(),
            "TaskFailed" | "LambdaFunctionFailed" | "ActivityFailed" | "TaskTimedOut" => {
                "a retry (backoff)".to_string()
            }
            other => format!("(after {other})"),
        };
        Some(StuckAt {
            state: d["name"].as_str().unwrap_or_default().to_string(),
            since: entered["timestamp"].as_f64().unwrap_or(0.0),
            waits_for,
        })
    }
}

fn stuck_page(
    found: &[(ExecutionRecord, StuckAt)],
    minutes: f64,
    scanned: usize,
    next: Option<&str>,
) -> Markup {
    layout(
        "Stuck",
        html! {
            form.filters method="get" action="/console/stuck" {
                label { "In one state for at least (minutes) " br; input type="number" name="minutes" min="0" step="any" value=(minutes); }
                button type="submit" { "Show" }
            }
            p.muted { "RUNNING executions (" (scanned) " looked at on this page) whose current state was entered at least " (minutes) " minutes ago, and what each waits for." }
            @if found.is_empty() {
                p.muted { "None." }
            } @else {
                div.table { table {
                    thead { tr { th { "Execution" } th { "State machine" } th { "State" } th { "Since" } th { "Waits for" } } }
                    tbody { @for (r, s) in found { tr {
                        td { a href=(execution_href(&r.arn)) { (r.name) } }
                        td { (r.machine_arn.rsplit(':').next().unwrap_or_default()) }
                        td { (s.state) }
                        td { (when((s.since * 1000.0) as i64)) }
                        td { (s.waits_for) }
                    } } }
                } }
            }
            @if let Some(after) = next {
                p { a href={ "/console/stuck?minutes=" (minutes) "&after=" (query_value(after)) } rel="next" { "Next page →" } }
            }
        },
    )
}
