//! `GET /console/stream?arn=…&from=N`: an execution's new history events as
//! Server-Sent Events (`event: history`, the event id as the SSE id, so a reconnect
//! with `Last-Event-ID` resumes after it), `event: status` with the states whose status
//! changed (`{"State": "running", …}`, read by the same [`Progress`] as the page, for the
//! iterations `it` picks), `event: visits` with the rows of the table of visits that
//! changed (`{"rows": [[index, row], …]}`, see [`crate::visits`]), then `event: end` with
//! its final status.

use crate::execution::View;
use crate::progress::{PathId, Progress};
use crate::visits::{self, VisitRow};
use crate::Console;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
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
    /// The Map iterations the page shows (see the execution page).
    it: Option<String>,
}

struct Cursor {
    engine: Engine,
    arn: String,
    from: u64,
    ready: VecDeque<Event>,
    done: bool,
    /// The history read so far (from the first event), and what was last sent of it.
    progress: Option<Progress>,
    it: Option<String>,
    view: PathId,
    sent: HashMap<String, &'static str>,
    /// The table's rows as last sent.
    rows: Vec<VisitRow>,
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
        progress: None,
        it: q.it,
        view: 0,
        sent: HashMap::new(),
        rows: Vec::new(),
    };
    let events = stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(e) = c.ready.pop_front() {
                return Some((Ok::<_, Infallible>(e), c));
            }
            if c.done {
                return None;
            }
            if c.progress.is_none() {
                c.start().await?;
                continue;
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
                if let Some(p) = c.progress.as_mut() {
                    p.apply(&v);
                }
                c.ready.push_back(
                    Event::default()
                        .id(e.id.to_string())
                        .event("history")
                        .data(row(e.id, &v).to_string()),
                );
            }
            c.push_statuses();
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

impl Cursor {
    /// Reads the history up to where the page stopped, so statuses start from there.
    async fn start(&mut self) -> Option<()> {
        let record = self.engine.describe_execution(&self.arn).await.ok()?;
        let mut p = Progress::new(&record.definition);
        let mut at = 0;
        while at < self.from {
            let batch = self
                .engine
                .execution_history(&self.arn, at, false, HISTORY_BATCH)
                .await
                .ok()?;
            if batch.is_empty() {
                break;
            }
            for e in batch.iter().take_while(|e| e.id <= self.from) {
                if let Ok(v) = serde_json::from_str::<Value>(&e.json) {
                    p.apply(&v);
                }
            }
            at = batch.last().map_or(self.from, |e| e.id);
        }
        self.view = crate::execution::read_view(&p, self.it.as_deref()).0;
        self.sent = p.statuses(self.view);
        self.rows = visits::rows(&p, &self.table_view(), &self.arn);
        self.progress = Some(p);
        Some(())
    }

    /// The view the page's table shows (its links keep the iterations picked).
    fn table_view(&self) -> View {
        View {
            path: self.view,
            it: (self.view != 0).then(|| self.it.clone()).flatten(),
            state: None,
        }
    }

    /// Sends the states whose status changed since the last time.
    fn push_statuses(&mut self) {
        let Some(p) = &self.progress else { return };
        if self.view == 0 && self.it.is_some() {
            // The iterations the page shows may have started since it was drawn.
            self.view = crate::execution::read_view(p, self.it.as_deref()).0;
        }
        let now = p.statuses(self.view);
        let changed: serde_json::Map<String, Value> = now
            .iter()
            .filter(|(k, v)| self.sent.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), Value::from(*v)))
            .collect();
        if !changed.is_empty() {
            self.ready.push_back(
                Event::default()
                    .event("status")
                    .data(Value::Object(changed).to_string()),
            );
        }
        self.sent = now;
        let rows = visits::rows(p, &self.table_view(), &self.arn);
        let changed = visits::changed(&self.rows, &rows);
        if !changed.is_empty() {
            self.ready.push_back(
                Event::default()
                    .event("visits")
                    .data(json!({ "rows": changed }).to_string()),
            );
        }
        self.rows = rows;
    }
}

/// Events read at a time while catching up.
const HISTORY_BATCH: usize = 5_000;

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
