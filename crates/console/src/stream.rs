//! `GET /console/stream?arn=…&from=N`: an execution's new history events as
//! Server-Sent Events (`event: history`, the event id as the SSE id, so a reconnect
//! with `Last-Event-ID` resumes after it), then `event: end` with its final status.

use crate::Console;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use stepwise_engine::Engine;

/// How often a waiting stream looks for new events.
const POLL: Duration = Duration::from_millis(100);
/// Events read at a time.
const BATCH: usize = 200;

#[derive(Deserialize)]
pub(crate) struct StreamQuery {
    arn: String,
    from: Option<u64>,
}

struct Cursor {
    engine: Engine,
    arn: String,
    from: u64,
    ready: VecDeque<Event>,
    done: bool,
}

pub(crate) async fn history(
    State(Console { engine, .. }): State<Console>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Response {
    // A reconnecting browser says where it stopped.
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let cursor = Cursor {
        engine,
        arn: q.arn,
        from: resume.or(q.from).unwrap_or(0),
        ready: VecDeque::new(),
        done: false,
    };
    let events = stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(e) = c.ready.pop_front() {
                return Some((Ok::<_, Infallible>(e), c));
            }
            if c.done {
                return None;
            }
            let new = c
                .engine
                .execution_history(&c.arn, c.from, false, BATCH)
                .await
                .ok()?;
            if new.is_empty() {
                let status = c.engine.describe_execution(&c.arn).await.ok()?.status;
                if status != "RUNNING" {
                    c.done = true;
                    c.ready
                        .push_back(Event::default().event("end").data(status));
                } else {
                    tokio::time::sleep(POLL).await;
                }
                continue;
            }
            for e in new {
                c.from = e.id;
                let v: Value = serde_json::from_str(&e.json).unwrap_or(Value::Null);
                c.ready.push_back(
                    Event::default()
                        .id(e.id.to_string())
                        .event("history")
                        .data(row(e.id, &v).to_string()),
                );
            }
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// What the page shows of an event: id, type, state name, details.
fn row(id: u64, e: &Value) -> Value {
    let details = e
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")));
    json!({
        "id": id,
        "type": e["type"],
        "name": details.and_then(|(_, d)| d["name"].as_str()),
        "key": details.map(|(k, _)| k),
        "details": details.map(|(_, d)| serde_json::to_string_pretty(d).unwrap_or_default()),
    })
}
