//! Sign-in, when the server was given `--sigv4-credentials`: the console asks once for
//! an access key id and its secret access key (one of the keys the API accepts), and
//! keeps a session cookie, `stepwise_session`, that says which key signed in and until
//! when ([`SESSION_SECONDS`], 12 hours), with an HMAC-SHA256 tag over both keyed by a
//! secret drawn when the router is made (so a restart ends every session).
//!
//! [`require`] is the layer in front of every console route but the sign-in page, the
//! sign-out form and the assets: without a valid, unexpired session whose key is still
//! configured, a GET is sent to `/console/sign-in?next=PATH` and anything else gets 403.
//! The cookie is `HttpOnly; SameSite=Strict; Path=/console` (no `Secure`: the server
//! speaks plain HTTP; put TLS in front of it beyond loopback). Sign-in and sign-out are
//! POST forms with the console's CSRF token, like every change. Sign-out revokes the
//! session on the server too (a copy of the cookie stops working), and failed sign-ins
//! are answered one at a time after [`FAILED_DELAY`], so guesses cannot be run in
//! parallel; beyond [`FAILED_QUEUE`] waiting, more are refused at once (429).

use crate::page::{layout, query_value};
use crate::refuse;
use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use maud::{html, Markup};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use stepwise_api::sigv4::Credentials;

type HmacSha256 = Hmac<Sha256>;

/// The session cookie's name.
pub const COOKIE: &str = "stepwise_session";
/// How long a session lasts after sign-in.
pub const SESSION_SECONDS: i64 = 12 * 60 * 60;
/// A failed sign-in answers after this long, one at a time (at most about three guesses
/// a second, however many clients guess).
const FAILED_DELAY: std::time::Duration = std::time::Duration::from_millis(300);
/// Failed sign-ins that may wait their turn; more are refused at once (429), so a flood
/// of guesses cannot pile up held connections.
const FAILED_QUEUE: usize = 16;

/// The keys that may sign in and the key that tags sessions.
pub(crate) struct Auth {
    credentials: Credentials,
    key: [u8; 32],
    /// Sessions signed out before they expired: their tag (hex) and expiry. Entries are
    /// dropped once expired, so this holds at most the sessions of the last 12 hours.
    revoked: std::sync::Mutex<HashMap<String, i64>>,
    /// Held through a failed sign-in's delay: failures queue instead of running together.
    failing: tokio::sync::Mutex<()>,
    /// Failed sign-ins waiting for `failing`.
    queued: std::sync::atomic::AtomicUsize,
}

impl Auth {
    pub(crate) fn new(credentials: Credentials) -> Auth {
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&stepwise_engine::sources::random_u64().to_le_bytes());
        }
        Auth {
            credentials,
            key,
            revoked: std::sync::Mutex::new(HashMap::new()),
            failing: tokio::sync::Mutex::new(()),
            queued: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn is_revoked(&self, tag: &str) -> bool {
        self.revoked
            .lock()
            .map_or(true, |revoked| revoked.contains_key(tag))
    }

    /// Ends a session before its expiry: a valid cookie value stops verifying.
    pub(crate) fn revoke(&self, value: &str, now: i64) {
        if self.verify(value, now).is_none() {
            return;
        }
        let Some((payload, tag)) = value.rsplit_once('.') else {
            return;
        };
        let Some(expires) = payload.rsplit_once('.').and_then(|(_, e)| e.parse().ok()) else {
            return;
        };
        if let Ok(mut revoked) = self.revoked.lock() {
            revoked.retain(|_, until| *until > now);
            revoked.insert(tag.to_ascii_lowercase(), expires);
        }
    }

    /// The cookie value of a session for `access_key_id` ending at `expires` (Unix seconds):
    /// `KEY.EXPIRES.TAG`, the key percent-encoded, the tag hex.
    pub(crate) fn session(&self, access_key_id: &str, expires: i64) -> String {
        let payload = format!("{}.{expires}", query_value(access_key_id));
        let tag = hex(&self.tag(&payload));
        format!("{payload}.{tag}")
    }

    fn tag(&self, payload: &str) -> Vec<u8> {
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else {
            return Vec::new();
        };
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The access key a cookie value names, if its tag is ours (checked in constant
    /// time), it has not expired at `now` nor been signed out, and the key is still
    /// configured.
    pub(crate) fn verify(&self, value: &str, now: i64) -> Option<String> {
        let (payload, tag_hex) = value.rsplit_once('.')?;
        let tag = unhex(tag_hex)?;
        let mut mac = HmacSha256::new_from_slice(&self.key).ok()?;
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).ok()?;
        if self.is_revoked(&tag_hex.to_ascii_lowercase()) {
            return None;
        }
        let (id, expires) = payload.rsplit_once('.')?;
        let expires: i64 = expires.parse().ok()?;
        let id = percent_encoding::percent_decode_str(id)
            .decode_utf8()
            .ok()?
            .into_owned();
        (now < expires && self.credentials.has_key(&id)).then_some(id)
    }

    /// The session a request's cookies carry, if one is valid.
    fn signed_in(&self, headers: &HeaderMap, now: i64) -> Option<String> {
        session_cookies(headers).find_map(|value| self.verify(value, now))
    }
}

/// The values of the request's session cookies.
fn session_cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Where a sign-in may send the browser: a path on this console, nothing else (no
/// scheme, no `//host`, no backslash a browser would read as a slash, only visible ASCII).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let fallback = "/console/".to_string();
    let Some(n) = next else {
        return fallback;
    };
    let on_console = n == "/console" || n.starts_with("/console/") || n.starts_with("/console?");
    let plain = n.bytes().all(|b| b.is_ascii_graphic()) && !n.contains('\\');
    let no_dots = !n.split(['/', '?', '#']).any(|seg| seg == "..");
    if on_console && plain && no_dots && !n.starts_with("//") {
        n.to_string()
    } else {
        fallback
    }
}

/// A place among the failed sign-ins waiting their turn, given back when dropped (also
/// when the client goes away and the request is dropped mid-wait).
struct Queued<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Queued<'a> {
    fn join(queued: &'a std::sync::atomic::AtomicUsize) -> Option<Queued<'a>> {
        use std::sync::atomic::Ordering;
        let place = Queued(queued);
        // Counted first, so a refused request gives its count back too (on drop).
        (queued.fetch_add(1, Ordering::SeqCst) < FAILED_QUEUE).then_some(place)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Who is signed in (and the CSRF token for the sign-out form), while a request runs.
#[derive(Clone)]
struct SignedIn {
    access_key_id: String,
    csrf: Arc<str>,
}

tokio::task_local! {
    static SIGNED_IN: SignedIn;
}

/// The sign-out form for the page header, when someone is signed in.
pub(crate) fn sign_out_form() -> Markup {
    let Ok(s) = SIGNED_IN.try_with(SignedIn::clone) else {
        return html! {};
    };
    html! {
        form.inline.signout method="post" action="/console/sign-out" {
            input type="hidden" name="csrf" value=(s.csrf);
            span.muted { (s.access_key_id) } " "
            button type="submit" { "Sign out" }
        }
    }
}

/// The state of the layer and the sign-in pages.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) auth: Option<Arc<Auth>>,
    pub(crate) csrf: Arc<str>,
}

/// Paths open without a session.
fn open_path(path: &str) -> bool {
    path == "/"
        || path == "/console/sign-in"
        || path == "/console/sign-out"
        || path.starts_with("/console/assets/")
}

/// The layer: a request without a valid session is sent to sign in (GET) or refused.
pub(crate) async fn require(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    let Some(auth) = &gate.auth else {
        return next.run(req).await;
    };
    if open_path(req.uri().path()) {
        return next.run(req).await;
    }
    match auth.signed_in(req.headers(), now_secs()) {
        Some(access_key_id) => {
            let s = SignedIn {
                access_key_id,
                csrf: gate.csrf.clone(),
            };
            SIGNED_IN.scope(s, next.run(req)).await
        }
        None => {
            let page = req.method() == Method::GET || req.method() == Method::HEAD;
            if page && req.uri().path() != "/console/stream" {
                let here = req
                    .uri()
                    .path_and_query()
                    .map_or("/console/", |p| p.as_str());
                Redirect::to(&format!(
                    "/console/sign-in?next={}",
                    query_value(&safe_next(Some(here)))
                ))
                .into_response()
            } else {
                crate::page::error_page(StatusCode::FORBIDDEN, "Sign in to the console first.")
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct SignInQuery {
    next: Option<String>,
}

/// `GET /console/sign-in`.
pub(crate) async fn sign_in_page(
    State(gate): State<Gate>,
    Query(q): Query<SignInQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if gate.auth.is_none() {
        return Redirect::to(&next).into_response();
    }
    Html(sign_in_form(&gate.csrf, &next, "", None).into_string()).into_response()
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    secret_access_key: String,
    next: Option<String>,
}

/// `POST /console/sign-in`: the pair checked, a session cookie on success.
pub(crate) async fn sign_in(
    State(gate): State<Gate>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    if let Some(refused) = refuse(&headers, &f.csrf, &gate.csrf) {
        return refused;
    }
    let next = safe_next(f.next.as_deref());
    let Some(auth) = &gate.auth else {
        return Redirect::to(&next).into_response();
    };
    let id = f.access_key_id.trim();
    if !auth.credentials.check_secret(id, &f.secret_access_key) {
        let Some(_place) = Queued::join(&auth.queued) else {
            return crate::page::error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins at once; try again in a few seconds.",
            );
        };
        let _one_at_a_time = auth.failing.lock().await;
        tokio::time::sleep(FAILED_DELAY).await;
        let message =
            "That access key ID and secret access key are not a key pair this server accepts.";
        let page = sign_in_form(&gate.csrf, &next, id, Some(message));
        return (StatusCode::UNAUTHORIZED, Html(page.into_string())).into_response();
    }
    let value = auth.session(id, now_secs() + SESSION_SECONDS);
    let cookie = format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}"
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/sign-out`: the session revoked and the cookie cleared.
pub(crate) async fn sign_out(
    State(gate): State<Gate>,
    headers: HeaderMap,
    Form(f): Form<SignOutForm>,
) -> Response {
    if let Some(refused) = refuse(&headers, &f.csrf, &gate.csrf) {
        return refused;
    }
    if let Some(auth) = &gate.auth {
        let now = now_secs();
        for value in session_cookies(&headers) {
            auth.revoke(value, now);
        }
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "stepwise_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

fn sign_in_form(csrf: &str, next: &str, access_key_id: &str, error: Option<&str>) -> Markup {
    layout(
        "Sign in",
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            p.muted { "This server requires AWS Signature Version 4 on its API. Sign in with one of its access keys." }
            form.signin method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                p { label { "Access key ID" br;
                    input type="text" name="access_key_id" value=(access_key_id) autocomplete="username" required autofocus[error.is_none()];
                } }
                p { label { "Secret access key" br;
                    input type="password" name="secret_access_key" autocomplete="current-password" required autofocus[error.is_some()];
                } }
                button type="submit" { "Sign in" }
            }
        },
    )
}

#[cfg(test)]
#[path = "tests/auth.rs"]
mod tests;
