//! The pages, as maud templates: every value is escaped as it is written; the only
//! script is none (no inline handlers), the only style a fixed sheet.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What is escaped in a path segment or query value: all but letters, digits and `-_.`.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
use serde_json::Value;
use stepwise_engine::MachineView;
use stepwise_store::ExecutionRecord;

pub const STATUSES: [&str; 6] = [
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "TIMED_OUT",
    "ABORTED",
    "PENDING_REDRIVE",
];

/// Light and dark, readable from phone width up.
const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #16191f; --bg: #fff; --muted: #5f6b7a; --line: #d5dbdb;
  --ok: #037f0c; --bad: #d91515; --run: #0972d3; --warn: #8d6605; }
@media (prefers-color-scheme: dark) { :root { --fg: #e9ebed; --bg: #0f1b2a; --muted: #9ba7b6;
  --line: #414d5c; --ok: #29ad32; --bad: #ff5d64; --run: #539fe5; --warn: #e0ca57; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { display: flex; gap: 1.2em; align-items: baseline; padding: .8em 1.2em; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header strong { font-size: 1.1em; }
main { padding: 1em 1.2em; max-width: 80em; }
a { color: var(--run); }
a:focus, button:focus, select:focus, input:focus, summary:focus { outline: 2px solid var(--run); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
.table { overflow-x: auto; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { white-space: pre-wrap; word-break: break-word; margin: .3em 0; }
.status { font-weight: 600; }
.SUCCEEDED { color: var(--ok); } .FAILED, .TIMED_OUT, .ABORTED { color: var(--bad); }
.RUNNING { color: var(--run); } .PENDING_REDRIVE { color: var(--warn); }
.muted { color: var(--muted); }
form.filters { display: flex; gap: .6em; flex-wrap: wrap; align-items: end; margin-bottom: 1em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
.actions { display: flex; gap: .6em; flex-wrap: wrap; margin-bottom: 1em; }
form.inline { display: inline; }
"#;

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Stepwise" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "Stepwise" }
                    nav {
                        a href="/console/" { "State machines" } " · "
                        a href="/console/executions" { "Executions" } " · "
                        a href="/console/tasks" { "Waiting tasks" } " · "
                        a href="/console/stuck" { "Stuck" }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A link to one execution's page.
pub fn execution_href(arn: &str) -> String {
    format!("/console/executions/{}", utf8_percent_encode(arn, ESCAPED))
}

/// A link to one state machine's page.
pub fn machine_href(arn: &str) -> String {
    format!(
        "/console/state-machines/{}",
        utf8_percent_encode(arn, ESCAPED)
    )
}

fn query_value(v: &str) -> String {
    utf8_percent_encode(v, ESCAPED).to_string()
}

/// Epoch milliseconds as the history shows them (ISO 8601, UTC).
fn when(millis: i64) -> String {
    stepwise_interp::timefmt::format_millis(millis)
}

pub fn state_machines(machines: &[MachineView]) -> Markup {
    layout(
        "State machines",
        html! {
            @if machines.is_empty() {
                p.muted { "No state machines yet. Create one with the AWS CLI or SDK (CreateStateMachine)." }
            } @else {
                div.table { table {
                    thead { tr { th { "Name" } th { "Type" } th { "Status" } th { "Created" } th { "Executions" } } }
                    tbody {
                        @for m in machines {
                            tr {
                                td { a href=(machine_href(&m.arn)) { (m.name) } }
                                td { (m.machine_type.as_str()) }
                                td { (m.status) }
                                td { (when(m.created_millis)) }
                                td { a href={ "/console/executions?machine=" (query_value(&m.arn)) } { "executions" } }
                            }
                        }
                    }
                } }
            }
        },
    )
}

/// The list's filter and whether a next page exists.
pub struct Filter {
    pub machine: Option<String>,
    pub status: Option<String>,
    pub more: bool,
}

pub fn executions(machines: &[MachineView], rows: &[ExecutionRecord], f: &Filter) -> Markup {
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

/// The event's details object (`…EventDetails`), if it has one.
fn details(e: &Value) -> Option<(&str, &Value)> {
    e.as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .map(|(k, v)| (k.as_str(), v))
}

pub fn execution(r: &ExecutionRecord, events: &[(u64, Value)], more: bool, csrf: &str) -> Markup {
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

pub fn state_machine(
    m: &MachineView,
    versions: &[stepwise_engine::VersionView],
    aliases: &[stepwise_engine::AliasView],
    recent: &[ExecutionRecord],
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
            h2 { "Start execution" }
            form.filters method="post" action="/console/start-execution" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="arn" value=(m.arn);
                label { "Name (optional)" br; input type="text" name="name"; }
                label { "Input (JSON)" br; textarea name="input" rows="4" cols="50" { "{}" } }
                button type="submit" { "Start" }
            }
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
            h2 { "Definition" }
            pre { (pretty(&m.definition)) }
        },
    )
}

pub fn tasks(
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

/// JSON text pretty-printed, or as it is when it is not JSON.
fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
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

pub fn stuck(
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

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Refused",
        _ => "Not done",
    };
    let page = layout(
        title,
        html! { p { (message) } p { a href="/console/" { "Back to the state machines" } } },
    );
    (status, Html(page.into_string())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc() {
        assert_eq!(when(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(when(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn execution_links_encode_the_arn() {
        assert_eq!(
            execution_href("arn:aws:states:us-east-1:1:execution:m:e"),
            "/console/executions/arn%3Aaws%3Astates%3Aus-east-1%3A1%3Aexecution%3Am%3Ae"
        );
    }
}
