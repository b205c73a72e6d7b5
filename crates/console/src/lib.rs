//! The console: HTML pages of `stepwise serve` under `/console/`, rendered on the
//! server (maud escapes every value it writes), reading through the engine's API, never
//! the store. This first step lists state machines and executions (paged, filtered by
//! machine and status) and shows one execution with its history.

mod pages;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use stepwise_engine::Engine;
use stepwise_store::ExecutionQuery;

/// Executions on one page of the list.
pub const PAGE: usize = 50;
/// History events on one page of an execution.
pub const EVENTS_PAGE: usize = 500;

/// The console's routes; merge them into the API's router.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(state_machines))
        .route("/console/executions", get(executions))
        .route("/console/executions/{*arn}", get(execution))
        .with_state(engine)
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
        (StatusCode::NOT_FOUND, "POST / is the AWS Step Functions API; the console is at /console/\n").into_response()
    }
}

async fn state_machines(State(engine): State<Engine>) -> Html<String> {
    Html(pages::state_machines(&engine.list_state_machines()).into_string())
}

#[derive(Deserialize, Default)]
struct ListQuery {
    machine: Option<String>,
    status: Option<String>,
    /// The last row of the previous page: `START_MILLIS:ARN`.
    after: Option<String>,
}

async fn executions(State(engine): State<Engine>, Query(q): Query<ListQuery>) -> Response {
    let status = q
        .status
        .filter(|s| pages::STATUSES.contains(&s.as_str()));
    let machine = q.machine.filter(|m| !m.is_empty());
    let after = q.after.as_deref().and_then(|a| {
        let (t, arn) = a.split_once(':')?;
        Some((t.parse::<i64>().ok()?, arn.to_string()))
    });
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
    State(engine): State<Engine>,
    Path(arn): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Response {
    let record = match engine.describe_execution(&arn).await {
        Ok(r) => r,
        Err(e) => return pages::error_page(StatusCode::NOT_FOUND, &e.message),
    };
    let from = q.from.unwrap_or(0);
    let events = match engine.execution_history(&arn, from, false, EVENTS_PAGE + 1).await {
        Ok(e) => e,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.message),
    };
    let more = events.len() > EVENTS_PAGE;
    let events: Vec<(u64, serde_json::Value)> = events
        .into_iter()
        .take(EVENTS_PAGE)
        .filter_map(|e| Some((e.id, serde_json::from_str(&e.json).ok()?)))
        .collect();
    Html(pages::execution(&record, &events, more).into_string()).into_response()
}
