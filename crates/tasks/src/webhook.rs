//! One delivery of a status-change event to a webhook: a `POST` of the event's JSON
//! (`Content-Type: application/json`) through the shared HTTP client. Retries, order
//! and the outbox are the engine's (`stepwise_engine` `events`); this only says whether
//! the receiver took the event (a 2xx answer within the webhook's `timeout`).

use crate::config::Webhook;
use crate::http_client::Client;
use bytes::Bytes;
use http_body_util::Full;

/// The most of a receiver's answer that is read (and thrown away).
const MAX_ANSWER: usize = 1024 * 1024;

/// Why a delivery did not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// No (complete) answer: refused, reset, timed out, or a bad URL or header.
    #[error("{0}")]
    Send(String),
    /// An answer that is not 2xx.
    #[error("answered HTTP {0}")]
    Status(u16),
}

/// Sends events; one per engine, its connections pooled.
#[derive(Default)]
pub struct WebhookSender {
    client: Client,
}

impl WebhookSender {
    pub fn new() -> WebhookSender {
        WebhookSender::default()
    }

    /// POST `body` (an event's JSON text) to `hook`.
    pub async fn post(&self, hook: &Webhook, body: &str) -> Result<(), DeliveryError> {
        let mut req = http::Request::post(hook.url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "stepwise");
        for (name, value) in &hook.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let req = req
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(|e| DeliveryError::Send(format!("the request cannot be made: {e}")))?;
        let res = self
            .client
            .send(req, hook.timeout, MAX_ANSWER)
            .await
            .map_err(|e| DeliveryError::Send(e.to_string()))?;
        if res.status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Status(res.status.as_u16()))
        }
    }
}
