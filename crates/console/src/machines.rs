//! The state machines: the list, one machine's page, and Start execution from it.

use crate::page::{execution_href, layout, machine_href, pretty, query_value, when};
use crate::{refuse, Console};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;
use stepwise_engine::MachineView;
use stepwise_store::{ExecutionQuery, ExecutionRecord};

pub(crate) async fn state_machines(State(Console { engine, .. }): State<Console>) -> Html<String> {
    let counts = engine.execution_counts().unwrap_or_default();
    Html(state_machines_page(&engine.list_state_machines(), &counts).into_string())
}

/// Executions of each machine by status.
type Counts = std::collections::HashMap<String, std::collections::BTreeMap<String, u64>>;

pub(crate) async fn state_machine(
    State(Console { engine, csrf }): State<Console>,
    Path(arn): Path<String>,
) -> Response {
    let machine = match engine.describe_state_machine(&arn) {
        Ok(m) => m,
        Err(e) => return crate::page::error_page(StatusCode::NOT_FOUND, &e.message),
    };
    let versions = engine.list_state_machine_versions(&arn).unwrap_or_default();
    let aliases = engine.list_state_machine_aliases(&arn).unwrap_or_default();
    let recent = if machine.machine_type == stepwise_store::MachineType::Standard {
        let q = ExecutionQuery {
            machine_arn: Some(arn.clone()),
            limit: 10,
            ..ExecutionQuery::default()
        };
        engine.list_executions(&q).unwrap_or_default()
    } else {
        Vec::new()
    };
    let tags = engine.list_tags(&arn).unwrap_or_default();
    let drawing = crate::graph::drawing(&machine.definition).await;
    let graph = match drawing.as_ref() {
        Ok(d) => d.svg(&Default::default(), &|_| None, None),
        Err(why) => html! { p.muted { "No graph: " (why) "." } },
    };
    Html(
        state_machine_page(&machine, &versions, &aliases, &recent, &tags, &graph, &csrf)
            .into_string(),
    )
    .into_response()
}

/// Start an execution from the machine's page.
#[derive(Deserialize)]
pub(crate) struct StartForm {
    csrf: String,
    arn: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    input: String,
}

pub(crate) async fn start_execution(
    State(Console { engine, csrf }): State<Console>,
    headers: HeaderMap,
    Form(f): Form<StartForm>,
) -> Response {
    if let Some(refused) = refuse(&headers, &f.csrf, &csrf) {
        return refused;
    }
    let req = stepwise_engine::StartRequest {
        state_machine_arn: f.arn,
        name: Some(f.name.trim().to_string()).filter(|n| !n.is_empty()),
        input: Some(if f.input.trim().is_empty() {
            "{}".into()
        } else {
            f.input
        }),
        trace_header: None,
    };
    match engine.start_execution(req, false).await {
        Ok((started, _)) => {
            Redirect::to(&crate::page::execution_href(&started.arn)).into_response()
        }
        Err(e) => crate::page::error_page(
            StatusCode::BAD_REQUEST,
            &format!("{}: {}", e.code.as_str(), e.message),
        ),
    }
}

/// `REGION · ACCOUNT` of an ARN.
fn scope_label(arn: &str) -> String {
    stepwise_engine::Scope::of_arn(arn)
        .map(|s| format!("{} · {}", s.region, s.account))
        .unwrap_or_default()
}

fn state_machines_page(machines: &[MachineView], counts: &Counts) -> Markup {
    // The console shows every region and account together: say which is which once
    // there is more than one.
    let scopes: std::collections::BTreeSet<String> =
        machines.iter().map(|m| scope_label(&m.arn)).collect();
    let many = scopes.len() > 1;
    layout(
        "State machines",
        html! {
            @if machines.is_empty() {
                p.muted { "No state machines yet. Create one with the AWS CLI or SDK (CreateStateMachine)." }
            } @else {
                div.table { table {
                    thead { tr { th { "Name" } @if many { th { "Region · account" } } th { "Type" } th { "Status" } th { "Created" } th { "Executions" } } }
                    tbody {
                        @for m in machines {
                            tr {
                                td { a href=(machine_href(&m.arn)) { (m.name) } }
                                @if many { td { (scope_label(&m.arn)) } }
                                td { (m.machine_type.as_str()) }
                                td { (m.status) }
                                td { (when(m.created_millis)) }
                                td {
                                    @match counts.get(&m.arn) {
                                        None => span.muted { "none" },
                                        Some(by) => {
                                            @for (i, (status, n)) in by.iter().enumerate() {
                                                @if i > 0 { " · " }
                                                a.(status) href={ "/console/executions?machine=" (query_value(&m.arn)) "&status=" (query_value(status)) } { (n) " " (status.to_lowercase().replace('_', " ")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        },
    )
}

fn state_machine_page(
    m: &MachineView,
    versions: &[stepwise_engine::VersionView],
    aliases: &[stepwise_engine::AliasView],
    recent: &[ExecutionRecord],
    tags: &[(String, String)],
    graph: &Markup,
    csrf: &str,
) -> Markup {
    layout(
        &m.name,
        html! {
            dl {
                dt { "ARN" } dd { code { (m.arn) } }
                dt { "Type" } dd { (m.machine_type.as_str()) }
                dt { "Status" } dd { (m.status) }
                dt { "Created" } dd { (when(m.created_millis)) }
                dt { "Role" } dd { code { (m.role_arn) } }
            }
            h2 { "Graph" }
            div.graph-box { (graph) }
            p { a href={ "/console/graph.svg?machine=" (query_value(&m.arn)) } download="graph.svg" { "Export the graph as SVG" } }
            h2 { "Start execution" }
            form.filters method="post" action="/console/start-execution" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="arn" value=(m.arn);
                label { "Name (optional)" br; input type="text" name="name"; }
                label { "Input (JSON)" br; textarea name="input" rows="4" cols="50" { "{}" } }
                button type="submit" { "Start" }
                span.input-error.error role="status" {}
            }
            script src="/console/assets/start.js" defer {}
            h2 { "Recent executions" }
            @if recent.is_empty() {
                p.muted { "None." }
            } @else {
                div.table { table {
                    thead { tr { th { "Name" } th { "Status" } th { "Started" } } }
                    tbody { @for r in recent { tr {
                        td { a href=(execution_href(&r.arn)) { (r.name) } }
                        td { span.status.(r.status) { (r.status) } }
                        td { (when(r.start_millis)) }
                    } } }
                } }
                p { a href={ "/console/executions?machine=" (query_value(&m.arn)) } { "All executions →" } }
            }
            @if !versions.is_empty() {
                h2 { "Versions" }
                ul { @for v in versions { li { code { (v.arn) } " · " (when(v.created_millis)) } } }
            }
            @if !aliases.is_empty() {
                h2 { "Aliases" }
                ul { @for a in aliases {
                    li { (a.name) ": "
                        @for (i, (version, weight)) in a.routing.iter().enumerate() {
                            @if i > 0 { ", " }
                            code { (version) } " " (weight) "%"
                        }
                    }
                } }
            }
            @if !tags.is_empty() {
                h2 { "Tags" }
                dl { @for (k, v) in tags { dt { (k) } dd { (v) } } }
            }
            h2 { "Definition" }
            pre { (pretty(&m.definition)) }
        },
    )
}
