//! Activities and the tasks waiting on a token, with Approve / Reject: human approval
//! from the browser.

use crate::page::{execution_href, layout, pretty, when};
use crate::{refuse, Console};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

pub(crate) async fn tasks(State(Console { engine, csrf }): State<Console>) -> Html<String> {
    Html(tasks_page(&engine.activity_queues(), &engine.waiting_tasks(), &csrf).into_string())
}

/// Approve (SendTaskSuccess with `output`) or reject (SendTaskFailure with `error` and
/// `cause`) a task waiting on its token.
#[derive(Deserialize)]
pub(crate) struct Answer {
    csrf: String,
    token: String,
    action: String,
    #[serde(default)]
    output: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    cause: String,
    /// Where to go after.
    #[serde(default)]
    execution: String,
}

pub(crate) async fn answer(
    State(Console { engine, csrf }): State<Console>,
    headers: HeaderMap,
    Form(a): Form<Answer>,
) -> Response {
    if let Some(refused) = refuse(&headers, &a.csrf, &csrf) {
        return refused;
    }
    let result = match a.action.as_str() {
        "approve" => {
            let output = if a.output.trim().is_empty() {
                "{}"
            } else {
                a.output.as_str()
            };
            engine.send_task_success(&a.token, output).await
        }
        "reject" => {
            let some = |s: String| (!s.is_empty()).then_some(s);
            engine
                .send_task_failure(&a.token, some(a.error), some(a.cause))
                .await
        }
        other => {
            return crate::page::error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown action '{other}'."),
            )
        }
    };
    match result {
        Ok(()) if !a.execution.is_empty() => {
            Redirect::to(&crate::page::execution_href(&a.execution)).into_response()
        }
        Ok(()) => Redirect::to("/console/tasks").into_response(),
        Err(e) => crate::page::error_page(
            StatusCode::BAD_REQUEST,
            &format!("{}: {}", e.code.as_str(), e.message),
        ),
    }
}

fn tasks_page(
    activities: &[(stepwise_store::ActivityRecord, usize, usize)],
    tasks: &[stepwise_store::TaskRecord],
    csrf: &str,
) -> Markup {
    layout(
        "Waiting tasks",
        html! {
            h2 { "Activities" }
            @if activities.is_empty() {
                p.muted { "No activities." }
            } @else {
                div.table { table {
                    thead { tr { th { "Activity" } th { "Workers polling now" } th { "Tasks no worker took yet" } th { "Created" } } }
                    tbody { @for (a, pollers, queued) in activities { tr {
                        td { (a.name) br; code.muted { (a.arn) } }
                        td { (pollers) }
                        td { (queued) }
                        td { (when(a.created_millis)) }
                    } } }
                } }
            }
            h2 { "Tasks waiting on a token" }
            p.muted { "Activity tasks and .waitForTaskToken callbacks waiting for their answer. Approve sends SendTaskSuccess with the output; Reject sends SendTaskFailure." }
            @if tasks.is_empty() {
                p.muted { "No task is waiting." }
            }
            @for t in tasks {
                section.task {
                    h3 { (t.state_name) }
                    dl {
                        dt { "Execution" } dd { a href=(execution_href(&t.execution_arn)) { (t.execution_arn) } }
                        dt { "Resource" } dd { code { (t.resource) } }
                        dt { "Waiting since" } dd { (when(t.created_millis)) }
                        @if let Some(w) = &t.worker { dt { "Worker" } dd { (w) } }
                    }
                    details { summary { "Input" } pre { (pretty(&t.input)) } }
                    form.filters method="post" action="/console/tasks/answer" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="token" value=(t.token);
                        input type="hidden" name="execution" value=(t.execution_arn);
                        input type="hidden" name="action" value="approve";
                        label { "Output (JSON)" br; textarea name="output" rows="3" cols="40" { "{}" } }
                        button type="submit" { "Approve" }
                    }
                    form.filters method="post" action="/console/tasks/answer" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="token" value=(t.token);
                        input type="hidden" name="execution" value=(t.execution_arn);
                        input type="hidden" name="action" value="reject";
                        label { "Error" br; input type="text" name="error" value="Rejected"; }
                        label { "Cause" br; input type="text" name="cause"; }
                        button type="submit" { "Reject" }
                    }
                }
            }
        },
    )
}
