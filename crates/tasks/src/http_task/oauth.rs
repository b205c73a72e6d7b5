//! OAUTH_CLIENT_CREDENTIALS connections: the access token, fetched from the
//! connection's AuthorizationEndpoint and kept until it expires (or until the API
//! answers 401 or 407, as EventBridge refreshes it then).
//!
//! The token request (EventBridge's exact request is unconfirmed; this is RFC 6749's
//! client credentials grant): the connection's `HttpMethod`, the client ID and secret
//! as `Authorization: Basic`, `grant_type=client_credentials` plus `OAuthHttpParameters`'
//! body parameters as an `application/x-www-form-urlencoded` body (as JSON when the
//! connection's header parameters set a JSON Content-Type; in the query for GET), its
//! query and header parameters added as given.

use super::encode;
use crate::config::{OAuth, Parameter};
use crate::http_client::{self, SendError};
use crate::TaskError;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use http_body_util::Full;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(super) const INVALID_CONNECTION_STATE: &str =
    "Events.ConnectionResource.InvalidConnectionState";
/// A token this close to its expiry is fetched again.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);
/// The most of a token response read.
const MAX_TOKEN_RESPONSE: usize = 1 << 20;

/// The tokens of the OAuth connections, by connection name.
#[derive(Default)]
pub(super) struct Tokens {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

struct Cached {
    token: String,
    /// `None`: the token server gave no `expires_in`; kept until a 401 or 407.
    expires: Option<Instant>,
    /// The parameters it was fetched with (another configuration fetches again).
    oauth: OAuth,
}

impl Cached {
    fn usable(&self, oauth: &OAuth) -> bool {
        self.oauth == *oauth
            && self
                .expires
                .is_none_or(|e| Instant::now() + EXPIRY_MARGIN < e)
    }
}

impl Tokens {
    fn slot(&self, name: &str) -> Arc<tokio::sync::Mutex<Option<Cached>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(slots.entry(name.to_string()).or_default())
    }

    /// The connection's access token: the cached one, or a new one (one fetch at a
    /// time per connection; the calls waiting for it share it).
    pub(super) async fn bearer(
        &self,
        http: &http_client::Client,
        timeout: Duration,
        name: &str,
        oauth: &OAuth,
        user_agent: &str,
    ) -> Result<String, TaskError> {
        let slot = self.slot(name);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.usable(oauth)) {
            return Ok(c.token.clone());
        }
        let (token, expires_in) = fetch(http, timeout, name, oauth, user_agent).await?;
        *cached = Some(Cached {
            token: token.clone(),
            expires: expires_in.map(|d| Instant::now() + d),
            oauth: oauth.clone(),
        });
        Ok(token)
    }

    /// Drop the connection's token (the API refused it).
    pub(super) fn forget(&self, name: &str) {
        let slot = self.slot(name);
        // A fetch under way brings a new token anyway.
        if let Ok(mut cached) = slot.try_lock() {
            *cached = None;
        };
    }
}

fn failed(name: &str, oauth: &OAuth, why: impl std::fmt::Display) -> TaskError {
    TaskError::new(
        INVALID_CONNECTION_STATE,
        format!(
            "The connection '{name}' could not get an OAuth access token from {}: {why}",
            oauth.authorization_endpoint
        ),
    )
}

/// Fetch a token: the token and how long it lasts.
async fn fetch(
    http: &http_client::Client,
    timeout: Duration,
    name: &str,
    oauth: &OAuth,
    user_agent: &str,
) -> Result<(String, Option<Duration>), TaskError> {
    let p = &oauth.http_parameters;
    let method = match oauth.http_method.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        other => {
            return Err(failed(
                name,
                oauth,
                format_args!("HttpMethod '{other}' is not GET, POST or PUT"),
            ))
        }
    };
    let mut fields = Map::new();
    fields.insert(
        "grant_type".into(),
        Value::String("client_credentials".into()),
    );
    for Parameter { key, value, .. } in &p.body {
        fields.insert(key.clone(), Value::String(value.clone()));
    }
    let mut query = Map::new();
    for Parameter { key, value, .. } in &p.query {
        query.insert(key.clone(), Value::String(value.clone()));
    }
    let mut headers = http::HeaderMap::new();
    let basic = format!(
        "Basic {}",
        super::base64(
            format!("{}:{}", oauth.client.client_id, oauth.client.client_secret).as_bytes()
        )
    );
    let mut auth = HeaderValue::from_bytes(basic.as_bytes()).map_err(|_| {
        failed(
            name,
            oauth,
            "the client ID or secret cannot be sent in a header",
        )
    })?;
    auth.set_sensitive(true);
    headers.insert(http::header::AUTHORIZATION, auth);
    headers.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(ua) = HeaderValue::from_str(user_agent) {
        headers.insert(http::header::USER_AGENT, ua);
    }
    for Parameter { key, value, .. } in &p.headers {
        let (Ok(n), Ok(mut v)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) else {
            return Err(failed(
                name,
                oauth,
                format_args!(
                    "its OAuthHttpParameters header parameter '{key}' is not a valid HTTP header"
                ),
            ));
        };
        v.set_sensitive(true);
        headers.insert(n, v);
    }
    let body = if method == Method::GET {
        for (k, v) in fields {
            query.insert(k, v);
        }
        Bytes::new()
    } else {
        let json = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        if json {
            Bytes::from(Value::Object(fields).to_string())
        } else {
            headers
                .entry(http::header::CONTENT_TYPE)
                .or_insert(HeaderValue::from_static(
                    "application/x-www-form-urlencoded",
                ));
            Bytes::from(encode::form(&fields, encode::ArrayFormat::Indices))
        }
    };
    let url = super::with_query(
        &oauth.authorization_endpoint,
        &encode::form(&query, encode::ArrayFormat::Indices),
    );
    let uri: http::Uri = url
        .parse()
        .map_err(|_| failed(name, oauth, "the AuthorizationEndpoint is not a valid URL"))?;
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(body))
        .map_err(|e| failed(name, oauth, e))?;
    *req.headers_mut() = headers;
    let res = http
        .send(req, timeout, MAX_TOKEN_RESPONSE)
        .await
        .map_err(|e| match e {
            SendError::BodyTooLarge { .. } => {
                failed(name, oauth, "the token response is larger than 1 MiB")
            }
            e => failed(name, oauth, e),
        })?;
    let parsed: Option<Value> = serde_json::from_slice(&res.body).ok();
    if !res.status.is_success() {
        // The token server's OAuth error, when it says one (never a secret).
        let mut why = format!("it answered {} {}", res.status.as_u16(), res.reason);
        if let Some(o) = parsed.as_ref().and_then(Value::as_object) {
            for k in ["error", "error_description"] {
                if let Some(s) = o.get(k).and_then(Value::as_str) {
                    why.push_str(&format!("; {k}: {s}"));
                }
            }
        }
        return Err(failed(name, oauth, why));
    }
    let Some(o) = parsed.as_ref().and_then(Value::as_object) else {
        return Err(failed(name, oauth, "its answer is not a JSON object"));
    };
    let Some(token) = o
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return Err(failed(name, oauth, "its answer has no access_token"));
    };
    let expires_in = match o.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite() && *s >= 0.0)
    .map(|s| Duration::from_secs_f64(s.min(1e9)));
    Ok((token.to_string(), expires_in))
}
