//! The console: HTML pages of `stepwise serve` under `/console/`, rendered on the
//! server (maud escapes every value it writes), reading through the engine's API, never
//! the store. So far it lists state machines and executions (paged, filtered by machine
//! and status), shows one execution with its history, and lists the tasks waiting on a
//! token with Approve / Reject (SendTaskSuccess / SendTaskFailure) for human approval.
//!
//! Every change is a POST carrying the page's CSRF token (drawn when the router is made;
//! another site cannot read it), and a request another site sent (`Sec-Fetch-Site`,
//! `Origin`) is refused.

mod pages;
mod stream;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use stepwise_engine::Engine;
use stepwise_store::ExecutionQuery;

/// Executions on one page of the list.
pub const PAGE: usize = 50;
/// History events on one page of an execution.
pub const EVENTS_PAGE: usize = 500;

#[derive(Clone)]
pub(crate) struct Console {
    pub(crate) engine: Engine,
    /// What every form carries back.
    csrf: std::sync::Arc<str>,
}

/// The console's routes; merge them into the API's router.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/", get(root))
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(state_machines))
        .route("/console/executions", get(executions))
        .route("/console/state-machines/{*arn}", get(state_machine))
        .route("/console/start-execution", post(start_execution))
        .route("/console/executions/{*arn}", get(execution))
        .route("/console/tasks", get(tasks))
        .route("/console/stuck", get(stuck))
        .route("/console/tasks/answer", post(answer))
        .route("/console/execution-action", post(execution_action))
        .route("/console/stream", get(stream::history))
        .route("/console/assets/live.js", get(live_js))
        .with_state(Console {
            engine,
            csrf: csrf_token().into(),
        })
}

/// 128 random bits as hex, from the OS-seeded hasher keys.
fn csrf_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = |n: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.finish()
    };
    format!("{:016x}{:016x}", word(1), word(2))
}

/// `GET /`: a browser is sent to the console (the API is `POST /`).
async fn root(headers: HeaderMap) -> Response {
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if html {
        Redirect::to("/console/").into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            "POST / is the AWS Step Functions API; the console is at /console/\n",
        )
            .into_response()
    }
}

async fn state_machines(State(Console { engine, .. }): State<Console>) -> Html<String> {
    Html(pages::state_machines(&engine.list_state_machines()).into_string())
}

#[derive(Deserialize, Default)]
struct ListQuery {
    machine: Option<String>,
    status: Option<String>,
    /// The last row of the previous page: `START_MILLIS:ARN`.
    after: Option<String>,
}

async fn executions(
    State(Console { engine, .. }): State<Console>,
    Query(q): Query<ListQuery>,
) -> Response {
    let status = q.status.filter(|s| pages::STATUSES.contains(&s.as_str()));
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
            let filter = pages::Filter {
                machine,
                status,
                more,
            };
            Html(pages::executions(&engine.list_state_machines(), &rows, &filter).into_string())
                .into_response()
        }
        Err(e) => pages::error_page(StatusCode::BAD_REQUEST, &e.message),
    }
}

#[derive(Deserialize, Default)]
struct EventsQuery {
    /// Events after this id.
    from: Option<u64>,
}

async fn execution(
    State(Console { engine, csrf }): State<Console>,
    Path(arn): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Response {
    let record = match engine.describe_execution(&arn).await {
        Ok(r) => r,
        Err(e) => return pages::error_page(StatusCode::NOT_FOUND, &e.message),
    };
    let from = q.from.unwrap_or(0);
    let events = match engine
        .execution_history(&arn, from, false, EVENTS_PAGE + 1)
        .await
    {
        Ok(e) => e,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.message),
    };
    let more = events.len() > EVENTS_PAGE;
    let events: Vec<(u64, serde_json::Value)> = events
        .into_iter()
        .take(EVENTS_PAGE)
        .filter_map(|e| Some((e.id, serde_json::from_str(&e.json).ok()?)))
        .collect();
    Html(pages::execution(&record, &events, more, &csrf).into_string()).into_response()
}

async fn tasks(State(Console { engine, csrf }): State<Console>) -> Html<String> {
    Html(pages::tasks(&engine.activity_queues(), &engine.waiting_tasks(), &csrf).into_string())
}

/// Approve (SendTaskSuccess with `output`) or reject (SendTaskFailure with `error` and
/// `cause`) a task waiting on its token.
#[derive(Deserialize)]
struct Answer {
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

async fn answer(
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
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown action '{other}'."),
            )
        }
    };
    match result {
        Ok(()) if !a.execution.is_empty() => {
            Redirect::to(&pages::execution_href(&a.execution)).into_response()
        }
        Ok(()) => Redirect::to("/console/tasks").into_response(),
        Err(e) => pages::error_page(
            StatusCode::BAD_REQUEST,
            &format!("{}: {}", e.code.as_str(), e.message),
        ),
    }
}

/// A form that did not come from this console's page: refused.
fn refuse(headers: &HeaderMap, given: &str, csrf: &str) -> Option<Response> {
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let foreign_origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| host.is_none_or(|h| o.split("://").nth(1) != Some(h)));
    (given != csrf || cross_site || foreign_origin).then(|| {
        pages::error_page(
            StatusCode::FORBIDDEN,
            "This form is out of date or came from another site: reload the page and try again.",
        )
    })
}

/// Stop, Redrive or Start again (a new execution with the same input).
#[derive(Deserialize)]
struct ExecutionAction {
    csrf: String,
    arn: String,
    action: String,
}

async fn execution_action(
    State(Console { engine, csrf }): State<Console>,
    headers: HeaderMap,
    Form(a): Form<ExecutionAction>,
) -> Response {
    if let Some(refused) = refuse(&headers, &a.csrf, &csrf) {
        return refused;
    }
    let failed = |e: stepwise_engine::Error| {
        pages::error_page(
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
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown action '{other}'."),
            )
        }
    };
    match target {
        Ok(arn) => Redirect::to(&pages::execution_href(&arn)).into_response(),
        Err(e) => failed(e),
    }
}

/// The page script, embedded in the binary.
async fn live_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../assets/live.js"),
    )
        .into_response()
}

async fn state_machine(
    State(Console { engine, csrf }): State<Console>,
    Path(arn): Path<String>,
) -> Response {
    let machine = match engine.describe_state_machine(&arn) {
        Ok(m) => m,
        Err(e) => return pages::error_page(StatusCode::NOT_FOUND, &e.message),
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
    Html(pages::state_machine(&machine, &versions, &aliases, &recent, &csrf).into_string())
        .into_response()
}

/// Start an execution from the machine's page.
#[derive(Deserialize)]
struct StartForm {
    csrf: String,
    arn: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    input: String,
}

async fn start_execution(
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
        Ok((started, _)) => Redirect::to(&pages::execution_href(&started.arn)).into_response(),
        Err(e) => pages::error_page(
            StatusCode::BAD_REQUEST,
            &format!("{}: {}", e.code.as_str(), e.message),
        ),
    }
}

/// RUNNING executions scanned for one Stuck page.
pub const STUCK_SCAN: usize = 200;

#[derive(Deserialize, Default)]
struct StuckQuery {
    /// In one state at least this long (minutes; default 5).
    minutes: Option<f64>,
    after: Option<String>,
}

/// RUNNING executions that sat in one state longer than a threshold, with the state and
/// what it waits for (read from the end of each one's history).
async fn stuck(
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
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.message),
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
        if let Some(s) = pages::StuckAt::read(&events) {
            if now - s.since >= minutes * 60.0 {
                found.push((r.clone(), s));
            }
        }
    }
    let next = (rows.len() == STUCK_SCAN)
        .then(|| rows.last().map(|l| format!("{}:{}", l.start_millis, l.arn)))
        .flatten();
    Html(pages::stuck(&found, minutes, rows.len(), next.as_deref()).into_string()).into_response()
}

/// A list's `after` position, `START_MILLIS:ARN` (the last row of the page before).
fn list_position(a: &str) -> Option<(i64, String)> {
    let (t, arn) = a.split_once(':')?;
    Some((t.parse::<i64>().ok()?, arn.to_string()))
}
