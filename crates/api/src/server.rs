//! The HTTP surface: `POST /` dispatched on `X-Amz-Target`, plus `/health` and `/metrics`.

use crate::actions;
use crate::error::ApiError;
use crate::shapes;
use crate::sigv4;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use stepwise_engine::{Engine, Scope};

/// The JSON 1.0 content type AWS's clients send and expect.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const TARGET_PREFIX: &str = "AWSStepFunctions.";
/// Bodies beyond this are refused, in AWS's JSON shape, without reading the rest
/// (AWS's largest field is 256 KiB).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How much of an oversized body is read (and dropped) before the answer.
const DRAIN_BYTES: usize = 64 * 1024 * 1024;

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
    body: Body,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = match tokio::time::timeout(crate::listen::BODY_TIMEOUT, read_body(body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return json_response(Err(e), target),
        Err(_) => {
            let e = ApiError::coral(
                "RequestTimeoutException",
                "The request body was not received in time",
            );
            return json_response(Err(e), target);
        }
    };
    let scope = request_scope(&api.engine, &headers);
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
            // Signed for the request's own region, which its resources live in.
            sigv4::verify(creds, &scope.region, &req, now)
        }
        None => Ok(()),
    };
    let result = match signed {
        Ok(()) => call(&api.engine, &scope, target, &body).await,
        Err(e) => Err(e),
    };
    json_response(result, target)
}

/// The request body, up to [`MAX_BODY_BYTES`]. A longer one is refused in AWS's JSON
/// shape; the rest of it is read and dropped (up to [`DRAIN_BYTES`]) so the client, still
/// sending, gets that answer instead of a reset connection. Nothing beyond the limit is kept.
async fn read_body(mut body: Body) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(ApiError::serialization(
                "the request body could not be read",
            ));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total <= MAX_BODY_BYTES {
            kept.extend_from_slice(&data);
        } else if total > DRAIN_BYTES {
            break;
        } else if !kept.is_empty() {
            kept = Vec::new();
        }
    }
    if total > MAX_BODY_BYTES {
        return Err(ApiError::too_large(MAX_BODY_BYTES));
    }
    Ok(kept)
}

/// An API answer as AWS's JSON 1.0 protocol sends it.
fn json_response(result: Result<Value, ApiError>, target: &str) -> Response {
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

/// The region and account a request works in, as AWS would have them: the region of its
/// SigV4 credential scope, and the access key id as the account when that is 12 digits
/// (as LocalStack reads it); the server's `--region`/`--account` for what it leaves out
/// (an unsigned request, a key like `AKIA…`, a scope whose region is no region name).
pub fn request_scope(engine: &Engine, headers: &HeaderMap) -> Scope {
    let mut scope = engine.default_scope();
    if let Some((key_id, region)) = sigv4::credential_scope(headers) {
        if sigv4::is_region_name(&region) {
            scope.region = region;
        }
        if key_id.len() == 12 && key_id.bytes().all(|b| b.is_ascii_digit()) {
            scope.account = key_id;
        }
    }
    scope
}

async fn call(
    engine: &Engine,
    scope: &Scope,
    target: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
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
    actions::call(engine, scope, action, &req).await
}
