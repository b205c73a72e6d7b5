//! One execution's page: the graph coloured by each state's status, the step panel of
//! the state picked on it, the table of visits, its Map Runs and child executions, and
//! its history (paged, filterable), all updated live through the event stream.
//!
//! `?state=NAME` picks a state (the step panel); `?it=[["Map",3],…]` picks Map
//! iterations, so the graph and the table show that iteration alone.

use crate::graph::{self, Drawing};
use crate::page::{details, execution_href, layout, machine_href, pretty, query_value, when};
use crate::progress::{PathId, Progress};
use crate::{Console, EVENTS_PAGE};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use stepwise_engine::Engine;
use stepwise_store::ExecutionRecord;

/// History read to draw an execution (AWS's limit is 25,000 events).
pub const HISTORY_READ: usize = 100_000;

#[derive(Deserialize, Default)]
pub(crate) struct ExecutionQuery {
    /// Events after this id.
    from: Option<u64>,
    /// The state whose step panel is open.
    state: Option<String>,
    /// The Map iterations shown, as JSON `[["Map", index], …]`.
    it: Option<String>,
    /// Only events whose type contains this.
    r#type: Option<String>,
    /// An iteration of the picked Map state, by index.
    iteration: Option<u64>,
}

/// What the page was asked to show.
pub(crate) struct View {
    pub path: PathId,
    /// `it` as given (for links), when it names iterations the history has.
    pub it: Option<String>,
    pub state: Option<String>,
}

impl View {
    /// A link to this page with `state` picked (and the same iterations).
    pub fn state_href(&self, arn: &str, state: &str) -> String {
        let mut h = format!("{}?state={}", execution_href(arn), query_value(state));
        if let Some(it) = &self.it {
            h.push_str(&format!("&it={}", query_value(it)));
        }
        h + "#step"
    }
}

/// `it` read against the history.
pub(crate) fn read_view(p: &Progress, it: Option<&str>) -> (PathId, Option<String>) {
    let frames: Option<Vec<(String, u64)>> = it.and_then(|t| serde_json::from_str(t).ok());
    match frames.and_then(|f| p.find_path(&f)) {
        Some(path) if path != 0 => (path, it.map(str::to_string)),
        _ => (0, None),
    }
}

/// An `it` value for an iteration path.
pub(crate) fn it_value(p: &Progress, path: PathId) -> String {
    serde_json::to_string(&p.describe_path(path)).unwrap_or_default()
}

/// An execution's history, all of it, parsed.
pub(crate) async fn read_history(engine: &Engine, arn: &str) -> Result<Vec<(u64, Value)>, String> {
    let stored = engine
        .execution_history(arn, 0, false, HISTORY_READ)
        .await
        .map_err(|e| e.message)?;
    Ok(stored
        .into_iter()
        .filter_map(|e| Some((e.id, serde_json::from_str(&e.json).ok()?)))
        .collect())
}

pub(crate) async fn execution(
    State(console): State<Console>,
    Path(arn): Path<String>,
    Query(q): Query<ExecutionQuery>,
) -> Response {
    let engine = &console.engine;
    let record = match engine.describe_execution(&arn).await {
        Ok(r) => r,
        Err(e) => return crate::page::error_page(StatusCode::NOT_FOUND, &e.message),
    };
    let history = match read_history(engine, &arn).await {
        Ok(h) => h,
        Err(e) => return crate::page::error_page(StatusCode::BAD_REQUEST, &e),
    };
    let mut progress = Progress::new(&record.definition);
    for (_, e) in &history {
        progress.apply(e);
    }
    let (mut path, mut it) = read_view(&progress, q.it.as_deref());
    // `iteration=N` with a Map state picked: that iteration of its visit on this path.
    if let (Some(index), Some(map)) = (
        q.iteration,
        q.state.as_deref().and_then(|s| progress.state(s)),
    ) {
        let on = progress.visit_in_view(map, path).map_or(path, |v| v.path);
        if let Some((_, _, p)) = progress
            .iterations(on, map)
            .into_iter()
            .find(|i| i.0 == index)
        {
            path = p;
            it = Some(it_value(&progress, p));
        }
    }
    let view = View {
        path,
        it,
        state: q.state.filter(|s| progress.state(s).is_some()),
    };
    let drawing = graph::drawing(&record.definition).await;
    let step = match &view.state {
        Some(s) => Some(crate::step::panel(engine, &record, &history, &progress, &view, s).await),
        None => None,
    };
    let map_runs = engine.list_map_runs(&arn).unwrap_or_default();
    let page = Page {
        record: &record,
        history: &history,
        progress: &progress,
        view: &view,
        drawing: drawing.as_ref().as_ref().map_err(|e| e.to_string()),
        step,
        map_runs: &map_runs,
        from: q.from.unwrap_or(0),
        type_filter: q.r#type.filter(|t| !t.trim().is_empty()),
        csrf: &console.csrf,
    };
    Html(page.render().into_string()).into_response()
}

struct Page<'a> {
    record: &'a ExecutionRecord,
    history: &'a [(u64, Value)],
    progress: &'a Progress,
    view: &'a View,
    drawing: Result<&'a Drawing, String>,
    step: Option<Markup>,
    map_runs: &'a [stepwise_engine::MapRunInfo],
    from: u64,
    type_filter: Option<String>,
    csrf: &'a str,
}

impl Page<'_> {
    fn render(&self) -> Markup {
        let r = self.record;
        let action = |name: &str, label: &str| {
            html! {
                form.inline method="post" action="/console/execution-action" {
                    input type="hidden" name="csrf" value=(self.csrf);
                    input type="hidden" name="arn" value=(r.arn);
                    input type="hidden" name="action" value=(name);
                    button type="submit" { (label) }
                }
            }
        };
        let mut export = format!("/console/graph.svg?execution={}", query_value(&r.arn));
        if let Some(it) = &self.view.it {
            export.push_str(&format!("&it={}", query_value(it)));
        }
        let running = r.status == "RUNNING";
        layout(
            &r.name,
            html! {
                div.actions {
                    @if running { (action("stop", "Stop")) }
                    @if matches!(r.status.as_str(), "FAILED" | "TIMED_OUT" | "ABORTED") { (action("redrive", "Redrive")) }
                    (action("start-again", "Start again with the same input"))
                    a.button href=(export) download="graph.svg" { "Export the graph as SVG" }
                }
                (self.summary())
                nav.tabs aria-label="Sections" {
                    a href="#graph" { "Graph" } a href="#visits" { "Table" }
                    @if self.step.is_some() { a href="#step" { "Step" } }
                    a href="#events" { "Events" }
                }
                section #graph {
                    h2 { "Graph" }
                    (self.iteration_banner())
                    @match &self.drawing {
                        Ok(d) => {
                            div.graph-box data-live-graph[running] data-arn=(r.arn) data-last=(self.progress.last_id) data-it=[self.view.it.as_deref()] {
                                (d.svg(&self.progress.statuses(self.view.path), &|s| Some(self.view.state_href(&r.arn, s)), self.view.state.as_deref()))
                            }
                            p.legend.muted {
                                span.key.notstarted { "not started" } span.key.running { "running" } span.key.succeeded { "succeeded" }
                                span.key.failed { "failed" } span.key.caught { "caught" } span.key.cancelled { "cancelled" }
                                " · Pick a state for its input, output and data flow."
                            }
                        }
                        Err(why) => p.muted { "No graph: " (why) "." }
                    }
                }
                details { summary { "Execution input" } pre.json { (pretty(&r.input)) } }
                @if let Some(o) = &r.output { details id="output" { summary { "Execution output" } pre.json { (pretty(o)) } } }
                @if let Some(step) = &self.step { (step) }
                (crate::visits::table(
                    &crate::visits::rows(self.progress, self.view, &r.arn),
                    r.start_millis as f64 / 1000.0,
                    r.stop_millis.map(|t| t as f64 / 1000.0),
                ))
                (self.links())
                (self.events())
                @if running { script src="/console/assets/live.js" defer {} }
            },
        )
    }

    fn summary(&self) -> Markup {
        let r = self.record;
        let parent = serde_json::from_str::<Value>(&r.input).ok().and_then(|v| {
            v["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"]
                .as_str()
                .map(str::to_string)
        });
        html! {
            dl {
                dt { "Status" } dd { span.status.(r.status) id="status" { (r.status) } }
                dt { "Execution ARN" } dd { code { (r.arn) } }
                dt { "State machine" } dd { a href=(machine_href(&r.machine_arn)) { (r.machine_arn) } }
                @if let Some(m) = &r.map_run_arn {
                    dt { "Map Run" } dd { a href=(map_run_href(m)) { (m) } }
                }
                @if let Some(p) = parent {
                    dt { "Started by" } dd { a href=(execution_href(&p)) { (p) } }
                }
                dt { "Started" } dd { (when(r.start_millis)) }
                @if let Some(t) = r.stop_millis { dt { "Stopped" } dd { (when(t)) } }
                @if r.redrive_count > 0 { dt { "Redriven" } dd { (r.redrive_count) " time(s)" } }
                @if let Some(e) = &r.error { dt { "Error" } dd { code { (e) } } }
                @if let Some(c) = &r.cause { dt { "Cause" } dd { pre { (c) } } }
            }
        }
    }

    /// Which iterations the graph shows, and the way back to all of them.
    fn iteration_banner(&self) -> Markup {
        if self.view.path == 0 {
            return html! {};
        }
        let frames = self.progress.describe_path(self.view.path);
        let mut all = execution_href(&self.record.arn);
        if let Some(s) = &self.view.state {
            all.push_str(&format!("?state={}", query_value(s)));
        }
        html! {
            p.banner {
                "Showing "
                @for (i, (map, index)) in frames.iter().enumerate() {
                    @if i > 0 { " › " }
                    "iteration " strong { (index) } " of " code { (map) }
                }
                " · " a href=(all) { "show every iteration" }
            }
        }
    }

    /// Map Runs and the executions this one started.
    fn links(&self) -> Markup {
        let children = child_executions(self.history);
        if self.map_runs.is_empty() && children.is_empty() {
            return html! {};
        }
        html! {
            section #children {
                @if !self.map_runs.is_empty() {
                    h2 { "Map Runs" }
                    ul { @for m in self.map_runs {
                        li { a href=(map_run_href(&m.arn)) { (m.state_name) } " · " (format!("{:?}", m.status)) " · "
                            (m.items.succeeded) " succeeded, " (m.items.failed) " failed, " (m.items.running) " running of " (m.items.total) }
                    } }
                }
                @if !children.is_empty() {
                    h2 { "Child executions" }
                    ul { @for (state, arn) in &children {
                        li { a href=(execution_href(arn)) { (arn.rsplit(':').next().unwrap_or_default()) } " from " code { (state) } }
                    } }
                }
            }
        }
    }

    fn events(&self) -> Markup {
        let r = self.record;
        let filter = self.type_filter.as_deref().map(str::to_lowercase);
        let shown: Vec<&(u64, Value)> = self
            .history
            .iter()
            .filter(|(id, _)| *id > self.from)
            .filter(|(_, e)| {
                filter.as_ref().is_none_or(|f| {
                    e["type"]
                        .as_str()
                        .is_some_and(|t| t.to_lowercase().contains(f.as_str()))
                })
            })
            .take(EVENTS_PAGE + 1)
            .collect();
        let more = shown.len() > EVENTS_PAGE;
        let shown = &shown[..shown.len().min(EVENTS_PAGE)];
        let live = r.status == "RUNNING" && !more && filter.is_none();
        let last = shown.last().map_or(self.from, |(id, _)| *id);
        let mut next = format!("{}?from={last}", execution_href(&r.arn));
        if let Some(t) = &self.type_filter {
            next.push_str(&format!("&type={}", query_value(t)));
        }
        html! {
            section #events {
                h2 { "Events" }
                form.filters method="get" action=(execution_href(&r.arn)) {
                    label { "Event type contains " br; input type="search" name="type" value=[self.type_filter.as_deref()]; }
                    button type="submit" { "Filter" }
                }
                div.table { table data-live[live] data-arn=(r.arn) data-last=(last) {
                    thead { tr { th { "ID" } th { "Type" } th { "State" } th { "Details" } } }
                    tbody {
                        @for (id, e) in shown {
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
                @if more {
                    p { a href={ (next) "#events" } rel="next" { "Later events →" } }
                }
            }
        }
    }
}

/// Seconds as a person reads them.
/// A link to a Map Run's page.
pub fn map_run_href(arn: &str) -> String {
    format!("/console/map-runs/{}", query_value(arn))
}

/// Executions started by this one's Tasks (`states:startExecution`): (state, ARN).
fn child_executions(history: &[(u64, Value)]) -> Vec<(String, String)> {
    let mut entered = String::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for (_, e) in history {
        let Some((_, d)) = details(e) else { continue };
        let t = e["type"].as_str().unwrap_or_default();
        if t == "TaskStateEntered" {
            entered = d["name"].as_str().unwrap_or_default().to_string();
        }
        if !matches!(t, "TaskSubmitted" | "TaskSucceeded") || d["resourceType"] != "states" {
            continue;
        }
        let output: Value = d["output"]
            .as_str()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default();
        if let Some(arn) = output["ExecutionArn"].as_str() {
            if !out.iter().any(|(_, a)| a == arn) {
                out.push((entered.clone(), arn.to_string()));
            }
        }
    }
    out
}

#[derive(Deserialize, Default)]
pub(crate) struct GraphQuery {
    execution: Option<String>,
    machine: Option<String>,
    it: Option<String>,
}

/// `GET /console/graph.svg?execution=ARN[&it=…]` or `?machine=ARN`: the graph as a file,
/// coloured as the execution stands.
pub(crate) async fn graph_svg(
    State(Console { engine, .. }): State<Console>,
    Query(q): Query<GraphQuery>,
) -> Response {
    let (definition, statuses) = match (&q.execution, &q.machine) {
        (Some(arn), _) => {
            let record = match engine.describe_execution(arn).await {
                Ok(r) => r,
                Err(e) => return crate::page::error_page(StatusCode::NOT_FOUND, &e.message),
            };
            let history = match read_history(&engine, arn).await {
                Ok(h) => h,
                Err(e) => return crate::page::error_page(StatusCode::BAD_REQUEST, &e),
            };
            let mut p = Progress::new(&record.definition);
            for (_, e) in &history {
                p.apply(e);
            }
            let (path, _) = read_view(&p, q.it.as_deref());
            (record.definition, p.statuses(path))
        }
        (None, Some(arn)) => match engine.describe_state_machine(arn) {
            Ok(m) => (m.definition, Default::default()),
            Err(e) => return crate::page::error_page(StatusCode::NOT_FOUND, &e.message),
        },
        (None, None) => {
            return crate::page::error_page(
                StatusCode::BAD_REQUEST,
                "Say which graph: ?execution=ARN or ?machine=ARN.",
            )
        }
    };
    match graph::drawing(&definition).await.as_ref() {
        Ok(d) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "image/svg+xml; charset=utf-8",
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"graph.svg\"",
                ),
            ],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
                d.svg(&statuses, &|_| None, None).into_string()
            ),
        )
            .into_response(),
        Err(why) => crate::page::error_page(StatusCode::NOT_FOUND, &format!("No graph: {why}.")),
    }
}
