//! One execution's page: its status, input and output, and its history (paged), updated
//! live through the event stream.

use crate::page::{details, execution_href, layout, machine_href, pretty, when};
use crate::{Console, EVENTS_PAGE};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use stepwise_store::ExecutionRecord;

#[derive(Deserialize, Default)]
pub(crate) struct EventsQuery {
    /// Events after this id.
    from: Option<u64>,
}

pub(crate) async fn execution(
    State(Console { engine, csrf }): State<Console>,
    Path(arn): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Response {
    let record = match engine.describe_execution(&arn).await {
        Ok(r) => r,
        Err(e) => return crate::page::error_page(StatusCode::NOT_FOUND, &e.message),
    };
    let from = q.from.unwrap_or(0);
    let events = match engine
        .execution_history(&arn, from, false, EVENTS_PAGE + 1)
        .await
    {
        Ok(e) => e,
        Err(e) => return crate::page::error_page(StatusCode::BAD_REQUEST, &e.message),
    };
    let more = events.len() > EVENTS_PAGE;
    let events: Vec<(u64, serde_json::Value)> = events
        .into_iter()
        .take(EVENTS_PAGE)
        .filter_map(|e| Some((e.id, serde_json::from_str(&e.json).ok()?)))
        .collect();
    Html(execution_page(&record, &events, more, &csrf).into_string()).into_response()
}

fn execution_page(r: &ExecutionRecord, events: &[(u64, Value)], more: bool, csrf: &str) -> Markup {
    let action = |name: &str, label: &str| {
        html! {
            form.inline method="post" action="/console/execution-action" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="arn" value=(r.arn);
                input type="hidden" name="action" value=(name);
                button type="submit" { (label) }
            }
        }
    };
    layout(
        &r.name,
        html! {
            div.actions {
                @if r.status == "RUNNING" { (action("stop", "Stop")) }
                @if matches!(r.status.as_str(), "FAILED" | "TIMED_OUT" | "ABORTED") { (action("redrive", "Redrive")) }
                (action("start-again", "Start again with the same input"))
            }
            dl {
                dt { "Status" } dd { span.status.(r.status) id="status" { (r.status) } }
                dt { "Execution ARN" } dd { code { (r.arn) } }
                dt { "State machine" } dd { a href=(machine_href(&r.machine_arn)) { (r.machine_arn) } }
                dt { "Started" } dd { (when(r.start_millis)) }
                @if let Some(t) = r.stop_millis { dt { "Stopped" } dd { (when(t)) } }
                @if let Some(e) = &r.error { dt { "Error" } dd { code { (e) } } }
                @if let Some(c) = &r.cause { dt { "Cause" } dd { pre { (c) } } }
            }
            details { summary { "Input" } pre { (pretty(&r.input)) } }
            @if let Some(o) = &r.output { details open id="output" { summary { "Output" } pre { (pretty(o)) } } }
            h2 { "Events" }
            @let live = r.status == "RUNNING" && !more;
            @let last = events.last().map_or(0, |(id, _)| *id);
            div.table { table data-live[live] data-arn=(r.arn) data-last=(last) {
                thead { tr { th { "ID" } th { "Type" } th { "State" } th { "Details" } } }
                tbody {
                    @for (id, e) in events {
                        tr id={ "event-" (id) } {
                            td { (id) }
                            td { (e["type"].as_str().unwrap_or_default()) }
                            td { @if let Some((_, d)) = details(e) { (d["name"].as_str().unwrap_or_default()) } }
                            td {
                                @if let Some((key, d)) = details(e) {
                                    details { summary { (key) } pre { (serde_json::to_string_pretty(d).unwrap_or_default()) } }
                                }
                            }
                        }
                    }
                }
            } }
            @if live { script src="/console/assets/live.js" defer {} }
            @if more {
                @if let Some((last, _)) = events.last() {
                    p { a href={ (execution_href(&r.arn)) "?from=" (last) } rel="next" { "Later events →" } }
                }
            }
        },
    )
}
