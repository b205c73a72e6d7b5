//! The HTTP surface: `POST /` dispatched on `X-Amz-Target`, plus `/health` and `/metrics`.

use crate::actions;
use crate::error::ApiError;
use crate::shapes;
use crate::sigv4;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use stepwise_engine::Engine;

/// The JSON 1.0 content type AWS's clients send and expect.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const TARGET_PREFIX: &str = "AWSStepFunctions.";
/// Bodies beyond this are refused before parsing (AWS's largest field is 256 KiB).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The transport limit axum enforces; above ours so we can answer in AWS's shape.
const TRANSPORT_LIMIT: usize = 2 * MAX_BODY_BYTES;

/// The whole API as an axum router; requests need no signature.
pub fn router(engine: Engine) -> Router {
    build(Api {
        engine,
        sigv4: None,
    })
}

/// The API with every `POST /` checked against `credentials` (AWS Signature Version 4,
/// scoped to the engine's region). `/health` and `/metrics` stay open.
pub fn router_with_sigv4(engine: Engine, credentials: sigv4::Credentials) -> Router {
    build(Api {
        engine,
        sigv4: Some(Arc::new(credentials)),
    })
}

#[derive(Clone)]
struct Api {
    engine: Engine,
    sigv4: Option<Arc<sigv4::Credentials>>,
}

fn build(api: Api) -> Router {
    Router::new()
        .route("/", post(dispatch))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(TRANSPORT_LIMIT))
        .with_state(api)
}

async fn health(State(Api { engine, .. }): State<Api>) -> Response {
    if engine.healthy() {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "store failed\n").into_response()
    }
}

async fn metrics(State(Api { engine, .. }): State<Api>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        engine.metrics_text(),
    )
        .into_response()
}

async fn dispatch(
    State(api): State<Api>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let signed = match &api.sigv4 {
        Some(creds) => {
            let req = sigv4::SignedRequest {
                method: method.as_str(),
                path: uri.path(),
                query: uri.query().unwrap_or_default(),
                headers: &headers,
                body: &body,
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            sigv4::verify(creds, api.engine.region(), &req, now)
        }
        None => Ok(()),
    };
    let result = match signed {
        Ok(()) => call(&api.engine, target, &body).await,
        Err(e) => Err(e),
    };
    let mut resp = match result {
        Ok(v) => (StatusCode::OK, v.to_string()).into_response(),
        Err(e) => {
            if e.status.is_server_error() {
                tracing::error!(target, code = %e.code, message = %e.message, "request failed");
            } else {
                tracing::debug!(target, code = %e.code, message = %e.message, "request rejected");
            }
            e.into_response()
        }
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    resp
}

async fn call(engine: &Engine, target: &str, body: &[u8]) -> Result<Value, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::too_large(body.len(), MAX_BODY_BYTES));
    }
    let action = target.strip_prefix(TARGET_PREFIX).unwrap_or("");
    let Some(op) = shapes::operation(action) else {
        return Err(ApiError::unknown_operation(target));
    };
    let req: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::serialization(e.to_string()))?
    };
    shapes::validate_input(op, &req).map_err(ApiError::from)?;
    actions::call(engine, action, &req).await
}
