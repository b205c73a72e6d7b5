//! Execution status-change events, as EventBridge's "Step Functions Execution Status
//! Change", delivered at least once to the configured webhooks.
//!
//! - **Made with the change.** Each status change of a Standard execution (its start,
//!   each end, each redrive) adds one [`Write::PutEvent`] to the batch that writes the
//!   change ([`Inner::announce`]), so the event commits in the same transaction: a
//!   change is never without its event, nor an event without its change. The event's
//!   JSON, its `id` (a UUID) and `time` are fixed then; every delivery sends that text.
//!   EXPRESS executions and Distributed Map children send none (AWS sends none for
//!   Express workflows; Map Run children are Express or report through their parent).
//!   Nothing is written while no webhook is configured.
//! - **Delivered from the outbox.** One task per webhook reads the store's outbox in
//!   pages of [`PAGE`] after its position and POSTs each event in order, waiting for a
//!   2xx before it sends the next (so a webhook gets the events of one execution in the
//!   order they happened; one event that keeps failing holds back the ones after it).
//!   A failure (refused, reset, timeout, non-2xx) is retried after a back-off from
//!   [`FIRST_BACKOFF`] doubling up to the webhook's `max_backoff` (5 minutes by
//!   default), each wait drawn between half and all of it (jitter); an event still
//!   failing [`MAX_EVENT_AGE`] after it was made (EventBridge's retry window) is dropped
//!   with an error in the log. When it has nothing to send it looks again every
//!   [`IDLE_POLL`].
//! - **Kept until everyone has it.** Once every webhook is past an event, it is deleted
//!   ([`Write::DeleteEvents`], through the group commit like any write). Positions live
//!   in memory: after a restart every event still in the outbox is sent again, hence at
//!   least once (a receiver drops repeats by `id`).
//!
//! Delivery never holds the engine: reading the outbox uses the store's readers, and
//! the deletes are one small write folded into a group commit per page.

use crate::sources::{now_millis, random_u64, SystemSources};
use crate::Inner;
use serde_json::{json, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use stepwise_expr::Sources;
use stepwise_store::{Batch, ExecutionRecord, MachineType, OutboxEvent, Write};
use stepwise_tasks::config::Webhook;
use stepwise_tasks::webhook::WebhookSender;

/// EventBridge's `detail-type` of these events.
pub const DETAIL_TYPE: &str = "Step Functions Execution Status Change";
/// Events read from the outbox at once, per webhook.
pub const PAGE: usize = 100;
/// The wait before the first retry of an event.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How long an event is retried before it is dropped (EventBridge's default).
pub const MAX_EVENT_AGE: Duration = Duration::from_secs(24 * 3600);
/// How often a webhook with nothing to send looks at the outbox again.
pub const IDLE_POLL: Duration = Duration::from_millis(200);
/// EventBridge leaves the input out when the escaped input and output together exceed
/// 248 KB, and the output when it alone does.
const PAYLOAD_LIMIT: usize = 248 * 1024;

impl Inner {
    /// Add the status-change event of `rec` (as it is now) to `batch`, when webhooks are
    /// configured and AWS would send one (a Standard top-level execution).
    pub(crate) fn announce(&self, batch: &mut Batch, rec: &ExecutionRecord) {
        if self.config.webhooks.is_empty()
            || rec.machine_type != MachineType::Standard
            || rec.map_run_arn.is_some()
        {
            return;
        }
        let id = SystemSources.uuid();
        let at = match rec.status.as_str() {
            "RUNNING" => rec.redrive_millis.unwrap_or(rec.start_millis),
            _ => rec.stop_millis.unwrap_or_else(now_millis),
        };
        // The execution's own region and account (its ARN's), as AWS's event carries.
        let mut parts = rec.arn.split(':').skip(3);
        let region = parts.next().filter(|r| !r.is_empty());
        let account = parts.next().filter(|a| !a.is_empty());
        let body = event_json(
            rec,
            region.unwrap_or(&self.config.region),
            account.unwrap_or(&self.config.account),
            &id,
            at,
        );
        batch.push(Write::PutEvent(OutboxEvent {
            seq: 0,
            id,
            execution_arn: rec.arn.clone(),
            created_millis: now_millis(),
            body: body.to_string(),
        }));
    }
}

/// The event of `rec`'s current status, in EventBridge's envelope.
pub fn event_json(rec: &ExecutionRecord, region: &str, account: &str, id: &str, at: i64) -> Value {
    let escaped = |s: &str| serde_json::to_string(s).map_or(s.len(), |e| e.len());
    let in_len = escaped(&rec.input);
    let out_len = rec.output.as_deref().map_or(0, escaped);
    let input_included = in_len + out_len <= PAYLOAD_LIMIT;
    let output_included = out_len <= PAYLOAD_LIMIT;
    let output = rec.output.as_ref().filter(|_| output_included);
    let (redrive_status, redrive_reason) = crate::redrive_status(rec);
    json!({
        "version": "0",
        "id": id,
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "account": account,
        "time": event_time(at),
        "region": region,
        "resources": [rec.arn],
        "detail": {
            "executionArn": rec.arn,
            "stateMachineArn": rec.machine_arn,
            "name": rec.name,
            "status": rec.status,
            "startDate": rec.start_millis,
            "stopDate": rec.stop_millis,
            "input": if input_included { Value::String(rec.input.clone()) } else { Value::Null },
            "output": output,
            "inputDetails": {"included": input_included},
            "outputDetails": rec.output.as_ref().map(|_| json!({"included": output_included})),
            "error": rec.error,
            "cause": rec.cause,
            "redriveCount": rec.redrive_count,
            "redriveDate": rec.redrive_millis,
            "redriveStatus": redrive_status,
            "redriveStatusReason": redrive_reason,
        }
    })
}

/// EventBridge's `time`: `2019-02-26T19:42:21Z` (whole seconds, UTC).
fn event_time(millis: i64) -> String {
    let full = stepwise_interp::timefmt::format_millis(millis);
    match full.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => full,
    }
}

/// Where each webhook is in the outbox, and what is deleted.
struct Positions {
    /// The last `seq` each webhook has (delivered or dropped).
    done: Mutex<Vec<u64>>,
}

impl Positions {
    /// Webhook `i` is past `seq`: what every webhook is past can go.
    fn advance(&self, inner: &Inner, i: usize, seq: u64) {
        let through = {
            let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
            let before = done.iter().copied().min().unwrap_or(0);
            if let Some(d) = done.get_mut(i) {
                *d = seq;
            }
            let after = done.iter().copied().min().unwrap_or(0);
            (after > before).then_some(after)
        };
        if let Some(through) = through {
            let mut batch = Batch::default();
            batch.push(Write::DeleteEvents { through });
            inner.committer.submit(batch);
        }
    }
}

impl crate::Engine {
    /// Status-change events not yet delivered to every webhook (at most `limit` counted):
    /// what is still in the outbox.
    pub async fn undelivered_events(&self, limit: usize) -> crate::Result<usize> {
        let store = Arc::clone(&self.inner.store);
        tokio::task::spawn_blocking(move || store.events(0, limit))
            .await
            .map_err(|_| crate::Error::commit())?
            .map(|page| page.len())
            .map_err(crate::Error::store)
    }
}

/// Start one delivery task per configured webhook (none without webhooks).
pub(crate) fn start(inner: &Arc<Inner>) {
    let hooks = &inner.config.webhooks;
    if hooks.is_empty() {
        return;
    }
    let sender = Arc::new(WebhookSender::new());
    let positions = Arc::new(Positions {
        done: Mutex::new(vec![0; hooks.len()]),
    });
    for (i, hook) in hooks.iter().enumerate() {
        tokio::spawn(deliver(
            Arc::downgrade(inner),
            i,
            hook.clone(),
            Arc::clone(&sender),
            Arc::clone(&positions),
        ));
    }
}

/// The engine, unless it is gone or shutting down.
fn live(weak: &Weak<Inner>) -> Option<Arc<Inner>> {
    weak.upgrade().filter(|i| !i.stopping.load(Relaxed))
}

/// The wait before attempt `attempt` (1 = the first retry): doubling from
/// [`FIRST_BACKOFF`] up to `cap`, drawn between half and all of it.
pub(crate) fn backoff(attempt: u32, cap: Duration) -> Duration {
    let full = FIRST_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(cap);
    let fraction = 0.5 + 0.5 * ((random_u64() >> 11) as f64 / (1u64 << 53) as f64);
    full.mul_f64(fraction)
}

async fn deliver(
    weak: Weak<Inner>,
    i: usize,
    hook: Webhook,
    sender: Arc<WebhookSender>,
    positions: Arc<Positions>,
) {
    let mut after = 0u64;
    loop {
        let page = {
            let Some(inner) = live(&weak) else { return };
            let store = Arc::clone(&inner.store);
            drop(inner);
            tokio::task::spawn_blocking(move || store.events(after, PAGE)).await
        };
        let page = match page {
            Ok(Ok(page)) => page,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reading the event outbox failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(_) => return,
        };
        if page.is_empty() {
            tokio::time::sleep(IDLE_POLL).await;
            continue;
        }
        for ev in page {
            if !send_until_taken(&weak, &hook, &sender, &ev).await {
                return;
            }
            after = ev.seq;
        }
        let Some(inner) = live(&weak) else { return };
        positions.advance(&inner, i, after);
    }
}

/// Send `ev` until `hook` takes it or it is too old; `false` when the engine stops.
async fn send_until_taken(
    weak: &Weak<Inner>,
    hook: &Webhook,
    sender: &WebhookSender,
    ev: &OutboxEvent,
) -> bool {
    let mut attempt = 0u32;
    loop {
        match sender.post(hook, &ev.body).await {
            Ok(()) => {
                if attempt > 0 {
                    tracing::info!(webhook = %hook.url, event = %ev.id, attempts = attempt + 1, "event delivered after retries");
                }
                return true;
            }
            Err(e) => {
                let age = now_millis().saturating_sub(ev.created_millis);
                if age > MAX_EVENT_AGE.as_millis() as i64 {
                    tracing::error!(webhook = %hook.url, event = %ev.id, execution = %ev.execution_arn, error = %e, "dropping an event undelivered for 24 hours");
                    return true;
                }
                attempt += 1;
                if attempt == 1 || attempt.is_multiple_of(20) {
                    tracing::warn!(webhook = %hook.url, event = %ev.id, attempt, error = %e, "event not delivered; retrying");
                }
                tokio::time::sleep(backoff(attempt, hook.max_backoff)).await;
                if live(weak).is_none() {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/events.rs"]
mod tests;
