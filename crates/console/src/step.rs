//! The step panel: one state's visit as the history recorded it (input, output, the
//! call's result, error and cause, attempts), the difference between its input and
//! output, a Map's iterations (failed ones first), and the advanced data-flow view.
//!
//! The advanced view runs the state again through TestState (the same per-state code an
//! execution runs) with the recorded input, variables and Context object, and the
//! recorded call result as the mock, so it costs nothing until someone opens a panel
//! and never calls anything: a Task without a recorded result is not replayed.

use crate::execution::{it_value, View};
use crate::page::{execution_href, pretty, query_value, when};
use crate::progress::{IterationStatus, Progress, Visit};
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use stepwise_engine::{Engine, InspectionLevel, MockErrorOutput, TestStateMock, TestStateRequest};
use stepwise_store::ExecutionRecord;

/// Iterations listed in the picker (failed ones first); the form reaches any other.
const ITERATIONS_LISTED: usize = 100;

/// States whose data flow is replayed without a call.
const REPLAYED: [&str; 5] = ["Pass", "Choice", "Wait", "Succeed", "Fail"];

pub(crate) async fn panel(
    engine: &Engine,
    record: &ExecutionRecord,
    history: &[(u64, Value)],
    p: &Progress,
    view: &View,
    name: &str,
) -> Markup {
    let Some(state) = p.state(name) else {
        return html! {};
    };
    let state_type = p.state_type(state).to_string();
    let visit = p.visit_in_view(state, view.path);
    let advanced = match visit {
        Some(v) => Some(replay(engine, record, history, p, v).await),
        None => None,
    };
    html! {
        section #step.step {
            h2 { (name) " " span.muted { "(" (state_type) ")" } }
            @match visit {
                None => p.muted { "Not entered on this path yet." },
                Some(v) => {
                    @let status = p.visit_status(v);
                    dl {
                        dt { "Status" } dd { span.step-status.(status) { (status) } }
                        dt { "Entered" } dd { (when((v.entered * 1000.0) as i64)) }
                        @if let Some(x) = v.exited { dt { "Exited" } dd { (when((x * 1000.0) as i64)) } }
                        @if v.attempts.len() > 1 { dt { "Retries" } dd { (v.attempts.len() - 1) } }
                        @if let Some(e) = &v.error { dt { "Error" } dd { code.error { (e) } } }
                        @if let Some(c) = &v.cause { dt { "Cause" } dd { pre { (pretty(c)) } } }
                    }
                    @if state_type == "Map" { (iteration_picker(record, p, view, v, state)) }
                    div.io {
                        div { h3 { "Input" } pre.json { (v.input.as_deref().map(pretty).unwrap_or_default()) } }
                        div { h3 { "Output" } pre.json { @if let Some(o) = &v.output { (pretty(o)) } @else { span.muted { "(none yet)" } } } }
                    }
                    @if let Some(r) = &v.result {
                        details { summary { "The call's result" } pre.json { (pretty(r)) } }
                    }
                    @if v.attempts.len() > 1 {
                        h3 { "Attempts" }
                        ol.attempts { @for a in &v.attempts {
                            li { (when((a.started * 1000.0) as i64))
                                @if let Some(e) = &a.error { " · " code.error { (e) } } @else if a.ended.is_some() { " · succeeded" } @else { " · running" }
                            }
                        } }
                    }
                    @if let (Some(i), Some(o)) = (&v.input, &v.output) {
                        details.diff-box { summary { "Input → output difference" } (diff(i, o)) }
                    }
                    @if let Some(a) = advanced {
                        details.advanced open { summary { "Advanced: the data flow step by step" } (a) }
                    }
                }
            }
        }
    }
}

/// A Map's iterations as links (failed ones first), and a form for any index.
fn iteration_picker(
    record: &ExecutionRecord,
    p: &Progress,
    view: &View,
    v: &Visit,
    state: u32,
) -> Markup {
    let its = p.iterations(v.path, state);
    if its.is_empty() {
        return html! { p.muted { "No inline iterations recorded (a Distributed Map runs them as child executions: see its Map Run below)." } };
    }
    let href = |path| {
        format!(
            "{}?state={}&it={}#graph",
            execution_href(&record.arn),
            query_value(p.name(state)),
            query_value(&it_value(p, path))
        )
    };
    let failed = its
        .iter()
        .filter(|i| i.1 == IterationStatus::Failed)
        .count();
    html! {
        h3 { "Iterations" }
        p.muted { (its.len()) " iterations, " (failed) " failed. Pick one to see its states on the graph." }
        ul.iterations {
            @for (index, status, path) in its.iter().take(ITERATIONS_LISTED) {
                li { a.(format!("it-{status:?}").to_lowercase()) href=(href(*path)) aria-current=[(view.path == *path).then_some("true")] { "#" (index) " " (format!("{status:?}").to_lowercase()) } }
            }
        }
        @if its.len() > ITERATIONS_LISTED {
            form.filters method="get" action=(execution_href(&record.arn)) {
                input type="hidden" name="state" value=(p.name(state));
                @if let Some(it) = &view.it { input type="hidden" name="it" value=(it); }
                label { "Iteration index " br; input type="number" name="iteration" min="0" max=(its.len() - 1); }
                button type="submit" { "Show" }
            }
        }
    }
}

/// A line diff of the two values pretty-printed.
fn diff(before: &str, after: &str) -> Markup {
    let (a, b) = (pretty(before), pretty(after));
    let d = similar::TextDiff::from_lines(&a, &b);
    html! {
        pre.diff {
            @for change in d.iter_all_changes() {
                @match change.tag() {
                    similar::ChangeTag::Delete => span.del { "- " (change.value()) },
                    similar::ChangeTag::Insert => span.ins { "+ " (change.value()) },
                    similar::ChangeTag::Equal => span { "  " (change.value()) },
                }
            }
        }
    }
}

/// The order AWS lists `inspectionData` in.
const INSPECTION_ORDER: [&str; 12] = [
    "input",
    "afterInputPath",
    "afterItemsPath",
    "afterItemSelector",
    "afterItemBatcher",
    "afterParameters",
    "afterArguments",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "variables",
    "errorDetails",
];

async fn replay(
    engine: &Engine,
    record: &ExecutionRecord,
    history: &[(u64, Value)],
    p: &Progress,
    v: &Visit,
) -> Markup {
    let mock = if v.state_type == "Task" {
        match (&v.result, &v.error, v.exited) {
            // What the call really returned: not checked against the API's shape.
            (Some(r), _, _) => Some(TestStateMock {
                result: Some(r.clone()),
                field_validation_mode: Some("NONE".into()),
                ..TestStateMock::default()
            }),
            (None, Some(e), _) => Some(TestStateMock {
                error_output: Some(MockErrorOutput {
                    error: Some(e.clone()),
                    cause: v.cause.clone(),
                }),
                ..TestStateMock::default()
            }),
            _ => None,
        }
    } else {
        None
    };
    if mock.is_none() && !REPLAYED.contains(&v.state_type.as_str()) {
        return html! { p.muted { "Shown for Pass, Choice, Wait, Succeed and Fail states, and for Tasks once their call has answered." } };
    }
    let req = TestStateRequest {
        definition: record.definition.clone(),
        state_name: Some(v.state.clone()),
        input: v.input.clone(),
        inspection_level: InspectionLevel::Debug,
        variables: Some(variables_before(history, p, v).to_string()),
        context: Some(context(record, history, v).to_string()),
        mock,
        ..TestStateRequest::default()
    };
    // Replayed in the execution's own region and account.
    let scope =
        stepwise_engine::Scope::of_arn(&record.arn).unwrap_or_else(|| engine.default_scope());
    match engine.test_state_in(&scope, req).await {
        Ok(resp) => {
            let data = resp.to_aws_json()["inspectionData"].clone();
            let obj = data.as_object().cloned().unwrap_or_default();
            let rest = obj
                .keys()
                .filter(|k| !INSPECTION_ORDER.contains(&k.as_str()));
            let keys: Vec<&str> = INSPECTION_ORDER
                .iter()
                .copied()
                .filter(|k| obj.contains_key(*k))
                .chain(rest.map(String::as_str))
                .collect();
            html! {
                dl.inspection {
                    @if let Some(e) = &resp.error { dt { "error" } dd { code.error { (e) } } }
                    @if let Some(c) = &resp.cause { dt { "cause" } dd { pre { (c) } } }
                    @for k in keys {
                        dt { code { (k) } }
                        dd { pre.json { (obj[k].as_str().map(pretty).unwrap_or_else(|| serde_json::to_string_pretty(&obj[k]).unwrap_or_default())) } }
                    }
                }
            }
        }
        Err(e) => html! { p.muted { "Not replayed: " (e.message) } },
    }
}

/// The variables assigned before the visit, on its path and the paths around it.
fn variables_before(history: &[(u64, Value)], p: &Progress, v: &Visit) -> Value {
    let mut vars = Map::new();
    for (id, e) in history {
        if *id >= v.entered_id {
            break;
        }
        let Some(assigned) = e
            .as_object()
            .and_then(|o| o.get("stateExitedEventDetails"))
            .and_then(|d| d["assignedVariables"].as_object())
        else {
            continue;
        };
        if !p.in_view(p.event_path(*id), v.path) {
            continue;
        }
        for (k, text) in assigned {
            let value = text
                .as_str()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null);
            vars.insert(k.clone(), value);
        }
    }
    Value::Object(vars)
}

/// The Context object (`$$`) as the execution had it at this visit: `RoleArn` from its
/// `ExecutionStarted` event, and `State.RetryCount` only where AWS shows it (states that
/// can retry).
fn context(record: &ExecutionRecord, history: &[(u64, Value)], v: &Visit) -> Value {
    let input: Value = serde_json::from_str(&record.input).unwrap_or(Value::Null);
    let machine_name = record.machine_arn.rsplit(':').next().unwrap_or_default();
    let role = history
        .first()
        .and_then(|(_, e)| e["executionStartedEventDetails"]["roleArn"].as_str());
    let mut execution = json!({
        "Id": record.arn,
        "Input": input,
        "Name": record.name,
        "StartTime": when(record.start_millis),
        "RedriveCount": record.redrive_count,
    });
    if let Some(role) = role {
        execution["RoleArn"] = json!(role);
    }
    let mut state = json!({
        "EnteredTime": when((v.entered * 1000.0) as i64),
        "Name": v.state,
    });
    if matches!(v.state_type.as_str(), "Task" | "Parallel" | "Map") {
        state["RetryCount"] = json!(v.attempts.len().saturating_sub(1));
    }
    json!({
        "Execution": execution,
        "State": state,
        "StateMachine": {"Id": record.machine_arn, "Name": machine_name},
    })
}
