//! One HTTP/1.1 client for every outgoing call (`http:invoke`, the Lambda Invoke API of
//! `endpoint` functions): `http://` and `https://` (rustls with the `ring` provider,
//! the system's trusted roots), pooled connections, a deadline for the whole exchange
//! and a cap on the response body.
//!
//! Redirects are not followed: a 3xx comes back as it is.

use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

type Inner = hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept per host.
const POOL_MAX_IDLE_PER_HOST: usize = 16;

/// The shared client. Building it touches no runtime: the connector, its TLS roots and
/// the pool are made on the first request.
pub(crate) struct Client {
    inner: OnceLock<Result<Inner, String>>,
}

/// A response, its body read in full.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: StatusCode,
    /// The reason phrase as received (the canonical one when the server sent that).
    pub reason: String,
    /// In received order; names lowercase, repeated names repeated.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Response {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// Why a request got no (complete) response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendError {
    /// No connection was made: DNS, refused, unreachable, TLS handshake.
    Connect(String),
    /// The connection failed during the exchange: reset, closed early, not HTTP.
    Exchange(String),
    /// No complete response within the deadline.
    TimedOut(Duration),
    /// The response body is longer than the cap.
    BodyTooLarge { limit: usize },
    /// The request cannot be sent (a URL that is not `http://` or `https://`, TLS that
    /// could not be set up).
    Unsupported(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Connect(m) => write!(f, "could not connect: {m}"),
            SendError::Exchange(m) => write!(f, "the connection failed: {m}"),
            SendError::TimedOut(d) => write!(f, "timed out after {}", seconds(*d)),
            SendError::BodyTooLarge { limit } => {
                write!(f, "the response body is larger than {limit} bytes")
            }
            SendError::Unsupported(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SendError {}

/// "60 seconds", "1 second", "0.25 seconds".
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s == 1.0 {
        "1 second".into()
    } else if s.fract() == 0.0 {
        format!("{} seconds", d.as_secs())
    } else {
        format!("{s} seconds")
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    pub(crate) fn new() -> Client {
        Client {
            inner: OnceLock::new(),
        }
    }

    fn inner(&self) -> Result<&Inner, SendError> {
        self.inner
            .get_or_init(build)
            .as_ref()
            .map_err(|m| SendError::Unsupported(m.clone()))
    }

    /// Send `req` (its URI absolute) and read the whole response within `timeout`, the
    /// body at most `max_body` bytes.
    pub(crate) async fn send(
        &self,
        req: http::Request<Full<Bytes>>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Response, SendError> {
        match req.uri().scheme_str() {
            Some("http") | Some("https") => {}
            // Not the whole URI: its query may hold a secret.
            other => {
                return Err(SendError::Unsupported(format!(
                    "the scheme '{}' is not http or https",
                    other.unwrap_or("")
                )))
            }
        }
        let inner = self.inner()?;
        let exchange = async {
            let res = inner.request(req).await.map_err(|e| {
                let m = error_chain(&e);
                if e.is_connect() {
                    SendError::Connect(m)
                } else {
                    SendError::Exchange(m)
                }
            })?;
            let (parts, mut body) = res.into_parts();
            if let Some(len) = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                if len > max_body as u64 {
                    return Err(SendError::BodyTooLarge { limit: max_body });
                }
            }
            let mut buf = BytesMut::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| SendError::Exchange(error_chain(&e)))?;
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > max_body {
                        return Err(SendError::BodyTooLarge { limit: max_body });
                    }
                    buf.extend_from_slice(&data);
                }
            }
            let reason = match parts.extensions.get::<hyper::ext::ReasonPhrase>() {
                Some(r) => String::from_utf8_lossy(r.as_bytes()).into_owned(),
                None => parts.status.canonical_reason().unwrap_or("").to_string(),
            };
            let mut headers = Vec::with_capacity(parts.headers.len());
            let mut name: Option<HeaderName> = None;
            for (n, v) in parts.headers {
                // `None`: another value of the previous name.
                if let Some(n) = n {
                    name = Some(n);
                }
                if let Some(n) = &name {
                    headers.push((n.clone(), v));
                }
            }
            Ok(Response {
                status: parts.status,
                reason,
                headers,
                body: buf.freeze(),
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(SendError::TimedOut(timeout)),
        }
    }
}

fn build() -> Result<Inner, String> {
    // ring: a light build (aws-lc-rs, rustls' default, needs cmake and a long C build).
    // rustls 0.23.48 deprecates it only for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match builder.with_provider_and_native_roots(Arc::clone(&provider)) {
        Ok(b) => b,
        Err(e) => {
            // No usable system roots: plain http:// still works, https:// fails with an
            // unknown-issuer error that says what is wrong.
            tracing::warn!(error = %e, "no trusted TLS roots found; https:// calls will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS could not be set up: {e}"))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let connector = builder.https_or_http().enable_http1().wrap_connector(http);
    Ok(
        hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .build(connector),
    )
}

/// "tcp connect error: Connection refused (os error 111)": the error's sources, or the
/// error itself when it has none.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let m = s.to_string();
        if !m.is_empty() && !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
#[path = "tests/http_client.rs"]
mod tests;
