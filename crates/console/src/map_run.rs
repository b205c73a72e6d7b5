//! A Map Run's page: its counts, settings, and its child executions (paged over the
//! store, failed ones findable by the status filter).

use crate::execution::map_run_href;
use crate::page::{execution_href, layout, query_value, when, STATUSES};
use crate::{list_position, Console, PAGE};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use stepwise_store::ExecutionQuery;

#[derive(Deserialize, Default)]
pub(crate) struct ChildQuery {
    status: Option<String>,
    after: Option<String>,
}

pub(crate) async fn map_run(
    State(Console { engine, .. }): State<Console>,
    Path(arn): Path<String>,
    Query(q): Query<ChildQuery>,
) -> Response {
    let (run, parent) = match engine.describe_map_run(&arn) {
        Ok(r) => r,
        Err(e) => return crate::page::error_page(StatusCode::NOT_FOUND, &e.message),
    };
    let status = q.status.filter(|s| STATUSES.contains(&s.as_str()));
    let query = ExecutionQuery {
        map_run_arn: Some(arn.clone()),
        status: status.clone(),
        after: q.after.as_deref().and_then(list_position),
        limit: PAGE + 1,
        ..ExecutionQuery::default()
    };
    let mut children = match engine.list_executions(&query) {
        Ok(c) => c,
        Err(e) => return crate::page::error_page(StatusCode::BAD_REQUEST, &e.message),
    };
    let more = children.len() > PAGE;
    children.truncate(PAGE);
    let next = children.last().filter(|_| more).map(|l| {
        let mut h = format!(
            "{}?after={}",
            map_run_href(&arn),
            query_value(&format!("{}:{}", l.start_millis, l.arn))
        );
        if let Some(s) = &status {
            h.push_str(&format!("&status={s}"));
        }
        h
    });
    let c = &run.items;
    let page = layout(
        &format!("Map Run of {}", run.state_name),
        html! {
            dl {
                dt { "Map Run ARN" } dd { code { (run.arn) } }
                dt { "Execution" } dd { a href=(execution_href(&parent)) { (parent) } }
                dt { "Status" } dd { span.status.(format!("{:?}", run.status).to_uppercase()) { (format!("{:?}", run.status)) } }
                dt { "Started" } dd { (when(run.start_millis)) }
                @if let Some(t) = run.stop_millis { dt { "Stopped" } dd { (when(t)) } }
                dt { "Max concurrency" } dd { @if run.max_concurrency == 0 { "unlimited" } @else { (run.max_concurrency) } }
                dt { "Tolerated failures" } dd { (run.tolerated_failure_count) " items or " (run.tolerated_failure_percentage) "%" }
                @if run.redrive_count > 0 { dt { "Redriven" } dd { (run.redrive_count) " time(s)" } }
            }
            h2 { "Items" }
            div.table { table.counts {
                thead { tr { th { "Total" } th { "Pending" } th { "Running" } th { "Succeeded" } th { "Failed" } th { "Timed out" } th { "Aborted" } } }
                tbody { tr { td { (c.total) } td { (c.pending) } td { (c.running) } td { (c.succeeded) } td { (c.failed) } td { (c.timed_out) } td { (c.aborted) } } }
            } }
            h2 { "Child executions" }
            form.filters method="get" action=(map_run_href(&arn)) {
                label { "Status " br;
                    select name="status" {
                        option value="" { "(all)" }
                        @for s in STATUSES { option value=(s) selected[status.as_deref() == Some(s)] { (s) } }
                    }
                }
                button type="submit" { "Filter" }
            }
            @if children.is_empty() { p.muted { "None." } }
            @else {
                div.table { table {
                    thead { tr { th { "Name" } th { "Status" } th { "Started" } th { "Stopped" } } }
                    tbody { @for r in &children { tr {
                        td { a href=(execution_href(&r.arn)) { (r.name) } }
                        td { span.status.(r.status) { (r.status) } }
                        td { (when(r.start_millis)) }
                        td { @if let Some(t) = r.stop_millis { (when(t)) } }
                    } } }
                } }
            }
            @if let Some(h) = next { p { a href=(h) rel="next" { "Next page →" } } }
        },
    );
    Html(page.into_string()).into_response()
}
