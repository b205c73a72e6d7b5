//! The executions list (filtered, paged over the store) and the actions on an
//! execution: Stop, Redrive, Start again.

use crate::page::{execution_href, layout, query_value, when, STATUSES};
use crate::{list_position, refuse, Console, PAGE};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;
use stepwise_engine::MachineView;
use stepwise_store::{ExecutionQuery, ExecutionRecord};

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    machine: Option<String>,
    status: Option<String>,
    /// The last row of the previous page: `START_MILLIS:ARN`.
    after: Option<String>,
}

pub(crate) async fn executions(
    State(Console { engine, .. }): State<Console>,
    Query(q): Query<ListQuery>,
) -> Response {
    let status = q.status.filter(|s| STATUSES.contains(&s.as_str()));
    let machine = q.machine.filter(|m| !m.is_empty());
    let after = q.after.as_deref().and_then(list_position);
    let query = ExecutionQuery {
        machine_arn: machine.clone(),
        status: status.clone(),
        after,
        limit: PAGE + 1,
        ..ExecutionQuery::default()
    };
    match engine.list_executions(&query) {
        Ok(mut rows) => {
            let more = rows.len() > PAGE;
            rows.truncate(PAGE);
            let filter = Filter {
                machine,
                status,
                more,
            };
            Html(executions_page(&engine.list_state_machines(), &rows, &filter).into_string())
                .into_response()
        }
        Err(e) => crate::page::error_page(StatusCode::BAD_REQUEST, &e.message),
    }
}

/// Stop, Redrive or Start again (a new execution with the same input).
#[derive(Deserialize)]
pub(crate) struct ExecutionAction {
    csrf: String,
    arn: String,
    action: String,
}

pub(crate) async fn execution_action(
    State(Console { engine, csrf }): State<Console>,
    headers: HeaderMap,
    Form(a): Form<ExecutionAction>,
) -> Response {
    if let Some(refused) = refuse(&headers, &a.csrf, &csrf) {
        return refused;
    }
    let failed = |e: stepwise_engine::Error| {
        crate::page::error_page(
            StatusCode::BAD_REQUEST,
            &format!("{}: {}", e.code.as_str(), e.message),
        )
    };
    let target = match a.action.as_str() {
        "stop" => engine
            .stop_execution(&a.arn, None, None)
            .await
            .map(|_| a.arn.clone()),
        "redrive" => engine
            .redrive_execution(&a.arn)
            .await
            .map(|_| a.arn.clone()),
        "start-again" => match engine.describe_execution(&a.arn).await {
            Err(e) => Err(e),
            Ok(r) => {
                let machine = r.version_arn.or(r.alias_arn).unwrap_or(r.machine_arn);
                let req = stepwise_engine::StartRequest {
                    state_machine_arn: machine,
                    name: None,
                    input: Some(r.input),
                    trace_header: None,
                };
                engine.start_execution(req, false).await.map(|(s, _)| s.arn)
            }
        },
        other => {
            return crate::page::error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown action '{other}'."),
            )
        }
    };
    match target {
        Ok(arn) => Redirect::to(&crate::page::execution_href(&arn)).into_response(),
        Err(e) => failed(e),
    }
}

/// The list's filter and whether a next page exists.
struct Filter {
    machine: Option<String>,
    status: Option<String>,
    more: bool,
}

fn executions_page(machines: &[MachineView], rows: &[ExecutionRecord], f: &Filter) -> Markup {
    let next = rows.last().filter(|_| f.more).map(|last| {
        let mut q = format!(
            "after={}",
            query_value(&format!("{}:{}", last.start_millis, last.arn))
        );
        if let Some(m) = &f.machine {
            q.push_str(&format!("&machine={}", query_value(m)));
        }
        if let Some(s) = &f.status {
            q.push_str(&format!("&status={}", query_value(s)));
        }
        format!("/console/executions?{q}")
    });
    layout(
        "Executions",
        html! {
            form.filters method="get" action="/console/executions" {
                label { "State machine " br;
                    select name="machine" {
                        option value="" { "(all)" }
                        @for m in machines {
                            option value=(m.arn) selected[f.machine.as_deref() == Some(m.arn.as_str())] { (m.name) }
                        }
                    }
                }
                label { "Status " br;
                    select name="status" {
                        option value="" { "(all)" }
                        @for s in STATUSES {
                            option value=(s) selected[f.status.as_deref() == Some(s)] { (s) }
                        }
                    }
                }
                button type="submit" { "Filter" }
            }
            @if rows.is_empty() {
                p.muted { "No executions." }
            } @else {
                div.table { table {
                    thead { tr { th { "Name" } th { "State machine" } th { "Status" } th { "Started" } th { "Stopped" } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { a href=(execution_href(&r.arn)) { (r.name) } }
                                td { (r.machine_arn.rsplit(':').next().unwrap_or_default()) }
                                td { span.status.(r.status) { (r.status) } }
                                td { (when(r.start_millis)) }
                                td { @if let Some(t) = r.stop_millis { (when(t)) } }
                            }
                        }
                    }
                } }
            }
            @if let Some(href) = next { p { a href=(href) rel="next" { "Next page →" } } }
        },
    )
}
