//! The executions list (filtered by machine, status, name and start time, paged over
//! the store), the actions on an execution (Stop, Redrive, Start again) and the same
//! Stop / Redrive on the rows selected in the list.

use crate::page::{execution_href, layout, query_value, when, STATUSES};
use crate::{list_position, refuse, Console, PAGE};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use futures_util::stream::{self, StreamExt};
use maud::{html, Markup};
use serde::Deserialize;
use stepwise_engine::MachineView;
use stepwise_store::{ExecutionQuery, ExecutionRecord};

/// Executions one bulk request may stop or redrive.
pub const BULK_MAX: usize = 500;
/// Of those, how many are stopped or redriven at once.
const BULK_CONCURRENCY: usize = 16;

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    machine: Option<String>,
    status: Option<String>,
    /// Text the name contains.
    name: Option<String>,
    /// Started at or after, `datetime-local` (UTC): `YYYY-MM-DDTHH:MM[:SS[.mmm]]`.
    from: Option<String>,
    /// Started before, the same.
    to: Option<String>,
    /// The last row of the previous page: `START_MILLIS:ARN`.
    after: Option<String>,
}

pub(crate) async fn executions(
    State(Console { engine, csrf }): State<Console>,
    Query(q): Query<ListQuery>,
) -> Response {
    let status = q.status.filter(|s| STATUSES.contains(&s.as_str()));
    let machine = q.machine.filter(|m| !m.is_empty());
    let name = q.name.filter(|n| !n.is_empty());
    let time = |given: Option<String>, what: &str| -> Result<Option<(String, i64)>, String> {
        match given.filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => match local_millis(&t) {
                Some(ms) => Ok(Some((t, ms))),
                None => Err(format!(
                    "'{t}' is not a date and time for {what} (YYYY-MM-DDTHH:MM, UTC)."
                )),
            },
        }
    };
    let (from, to) = match (
        time(q.from, "Started at or after"),
        time(q.to, "Started before"),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(e), _) | (_, Err(e)) => return crate::page::error_page(StatusCode::BAD_REQUEST, &e),
    };
    let after = q.after.as_deref().and_then(list_position);
    let query = ExecutionQuery {
        machine_arn: machine.clone(),
        status: status.clone(),
        name_contains: name.clone(),
        started_from: from.as_ref().map(|t| t.1),
        started_before: to.as_ref().map(|t| t.1),
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
                name,
                from: from.map(|t| t.0),
                to: to.map(|t| t.0),
                more,
            };
            let page = executions_page(&engine.list_state_machines(), &rows, &filter, &csrf);
            Html(page.into_string()).into_response()
        }
        Err(e) => crate::page::error_page(StatusCode::BAD_REQUEST, &e.message),
    }
}

/// A `datetime-local` value read as UTC: epoch milliseconds.
fn local_millis(t: &str) -> Option<i64> {
    let (date, time) = t.split_once('T')?;
    // HH:MM, HH:MM:SS or HH:MM:SS.fff; RFC 3339 wants the seconds and an offset.
    let time = if time.len() == 5 {
        format!("{time}:00")
    } else {
        time.to_string()
    };
    let nanos = stepwise_interp::timefmt::parse_timestamp(&format!("{date}T{time}Z"))?;
    i64::try_from(nanos.div_euclid(1_000_000)).ok()
}

/// Stop or Redrive every execution selected in the list (`arn` repeated).
pub(crate) async fn bulk(
    State(Console { engine, csrf }): State<Console>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    if let Some(refused) = refuse(&headers, field("csrf"), &csrf) {
        return refused;
    }
    let action = field("action");
    if action != "stop" && action != "redrive" {
        return crate::page::error_page(
            StatusCode::BAD_REQUEST,
            &format!("Unknown action '{action}'."),
        );
    }
    let selected = fields.iter().filter(|(k, _)| k == "arn").count();
    if selected > BULK_MAX {
        return crate::page::error_page(
            StatusCode::BAD_REQUEST,
            &format!(
                "{selected} executions were selected; one request acts on at most {BULK_MAX}."
            ),
        );
    }
    let mut seen = std::collections::HashSet::new();
    let arns: Vec<String> = fields
        .iter()
        .filter(|(k, v)| k == "arn" && seen.insert(v.as_str()))
        .map(|(_, v)| v.clone())
        .collect();
    if arns.is_empty() {
        return crate::page::error_page(
            StatusCode::BAD_REQUEST,
            "No execution was selected: tick the ones to act on first.",
        );
    }
    // A few at a time (their commits share the writer's group commits), reported in
    // the order selected; a failure does not stop the rest.
    let stop = action == "stop";
    let results: Vec<(String, Result<(), String>)> =
        stream::iter(arns.into_iter().map(|arn| (arn, engine.clone())))
            .map(|(arn, engine)| async move {
                let outcome = if stop {
                    engine.stop_execution(&arn, None, None).await.map(|_| ())
                } else {
                    engine.redrive_execution(&arn).await.map(|_| ())
                };
                let outcome = outcome.map_err(|e| format!("{}: {}", e.code.as_str(), e.message));
                (arn, outcome)
            })
            .buffered(BULK_CONCURRENCY)
            .collect()
            .await;
    Html(bulk_page(action, &results).into_string()).into_response()
}

fn bulk_page(action: &str, results: &[(String, Result<(), String>)]) -> Markup {
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    let verb = if action == "stop" { "Stop" } else { "Redrive" };
    layout(
        &format!("{verb} selected"),
        html! {
            p { (results.len() - failed) " done, " (failed) " failed." }
            div.table { table {
                thead { tr { th { "Execution" } th { "Result" } } }
                tbody {
                    @for (arn, r) in results {
                        tr {
                            td { a href=(execution_href(arn)) { (arn) } }
                            @match r {
                                Ok(()) => td.bulk-done { "done" },
                                Err(e) => td.bulk-failed { (e) },
                            }
                        }
                    }
                }
            } }
            p { a href="/console/executions" { "Back to the executions" } }
        },
    )
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

/// The list's filter (as given) and whether a next page exists.
struct Filter {
    machine: Option<String>,
    status: Option<String>,
    name: Option<String>,
    from: Option<String>,
    to: Option<String>,
    more: bool,
}

fn executions_page(
    machines: &[MachineView],
    rows: &[ExecutionRecord],
    f: &Filter,
    csrf: &str,
) -> Markup {
    let next = rows.last().filter(|_| f.more).map(|last| {
        let mut q = format!(
            "after={}",
            query_value(&format!("{}:{}", last.start_millis, last.arn))
        );
        for (key, value) in [
            ("machine", &f.machine),
            ("status", &f.status),
            ("name", &f.name),
            ("from", &f.from),
            ("to", &f.to),
        ] {
            if let Some(v) = value {
                q.push_str(&format!("&{key}={}", query_value(v)));
            }
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
                label { "Name contains " br;
                    input type="search" name="name" value=(f.name.as_deref().unwrap_or_default()) placeholder="case-sensitive";
                }
                label { "Started at or after (UTC) " br;
                    input type="datetime-local" name="from" value=(f.from.as_deref().unwrap_or_default());
                }
                label { "Started before (UTC) " br;
                    input type="datetime-local" name="to" value=(f.to.as_deref().unwrap_or_default());
                }
                button type="submit" { "Filter" }
            }
            @if rows.is_empty() {
                p.muted { "No executions." }
            } @else {
                form #bulk method="post" action="/console/executions/bulk" {
                input type="hidden" name="csrf" value=(csrf);
                div.actions {
                    button type="submit" name="action" value="stop" { "Stop selected" }
                    button type="submit" name="action" value="redrive" { "Redrive selected" }
                }
                div.table { table {
                    thead { tr {
                        th { input #select-all type="checkbox" hidden aria-label="Select every row"; }
                        th { "Name" } th { "State machine" } th { "Status" } th { "Started" } th { "Stopped" }
                    } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { input type="checkbox" name="arn" value=(r.arn) aria-label=(format!("Select {}", r.name)); }
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
                script src="/console/assets/bulk.js" defer {}
            }
            @if let Some(href) = next { p { a href=(href) rel="next" { "Next page →" } } }
        },
    )
}
