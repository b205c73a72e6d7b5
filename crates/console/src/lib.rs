//! The console: HTML pages of `stepwise serve` under `/console/`, rendered on the
//! server (maud escapes every value it writes), reading through the engine's API, never
//! the store. So far it lists state machines and executions (paged, filtered by machine
//! and status), shows one execution with its history, and lists the tasks waiting on a
//! token with Approve / Reject (SendTaskSuccess / SendTaskFailure) for human approval.
//!
//! Every change is a POST carrying the page's CSRF token (drawn when the router is made;
//! another site cannot read it), and a request another site sent (`Sec-Fetch-Site`,
//! `Origin`) is refused. With credentials ([`router_with_sign_in`]) every page needs a
//! signed-in session first ([`auth`]).

mod auth;
mod execution;
mod executions;
mod graph;
mod machines;
mod map_run;
mod page;
/// An execution's history folded into visits and iteration paths (also `stepwise run --progress`).
pub mod progress;
mod step;
mod stream;
mod stuck;
mod tasks;
mod visits;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use stepwise_engine::Engine;

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

/// The console's routes, open to whoever reaches the port; merge them into the API's router.
pub fn router(engine: Engine) -> Router {
    build(engine, None)
}

/// The console's routes behind a sign-in with one of `credentials`' access keys and its
/// secret (the keys `--sigv4-credentials` gives the API): a signed session cookie, 12 hours.
pub fn router_with_sign_in(
    engine: Engine,
    credentials: stepwise_api::sigv4::Credentials,
) -> Router {
    build(engine, Some(credentials))
}

fn build(engine: Engine, credentials: Option<stepwise_api::sigv4::Credentials>) -> Router {
    let csrf: std::sync::Arc<str> = csrf_token().into();
    let gate = auth::Gate {
        auth: credentials.map(|c| std::sync::Arc::new(auth::Auth::new(c))),
        csrf: csrf.clone(),
    };
    let sign_in = Router::new()
        .route(
            "/console/sign-in",
            get(auth::sign_in_page).post(auth::sign_in),
        )
        .route("/console/sign-out", post(auth::sign_out))
        .with_state(gate.clone());
    let pages = Router::new()
        .route("/", get(root))
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(machines::state_machines))
        .route("/console/executions", get(executions::executions))
        .route(
            "/console/state-machines/{*arn}",
            get(machines::state_machine),
        )
        .route("/console/start-execution", post(machines::start_execution))
        .route("/console/executions/{*arn}", get(execution::execution))
        .route("/console/tasks", get(tasks::tasks))
        .route("/console/stuck", get(stuck::stuck))
        .route("/console/tasks/answer", post(tasks::answer))
        .route(
            "/console/execution-action",
            post(executions::execution_action),
        )
        .route("/console/executions/bulk", post(executions::bulk))
        .route("/console/stream", get(stream::history))
        .route("/console/graph.svg", get(execution::graph_svg))
        .route("/console/map-runs/{*arn}", get(map_run::map_run))
        .route("/console/assets/{name}", get(asset))
        .with_state(Console { engine, csrf });
    let app = pages.merge(sign_in);
    if gate.auth.is_some() {
        app.layer(axum::middleware::from_fn_with_state(gate, auth::require))
    } else {
        app
    }
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

/// A form that did not come from this console's page: refused.
pub(crate) fn refuse(headers: &HeaderMap, given: &str, csrf: &str) -> Option<Response> {
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
        page::error_page(
            StatusCode::FORBIDDEN,
            "This form is out of date or came from another site: reload the page and try again.",
        )
    })
}

/// The page scripts, embedded in the binary: progressive enhancement only (every page
/// works without them), no inline handlers.
const ASSETS: [(&str, &str); 3] = [
    ("live.js", include_str!("../assets/live.js")),
    ("bulk.js", include_str!("../assets/bulk.js")),
    ("start.js", include_str!("../assets/start.js")),
];

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *text,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A list's `after` position, `START_MILLIS:ARN` (the last row of the page before).
pub(crate) fn list_position(a: &str) -> Option<(i64, String)> {
    let (t, arn) = a.split_once(':')?;
    Some((t.parse::<i64>().ok()?, arn.to_string()))
}
