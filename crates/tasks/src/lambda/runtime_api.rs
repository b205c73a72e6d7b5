//! `bootstrap` functions: processes speaking the Lambda Runtime API (as `awslambdaric`,
//! `aws-lambda-ric` and Rust's `lambda_runtime` do), kept warm between invocations.
//!
//! Each process gets its own Runtime API server on a 127.0.0.1 port (its
//! `AWS_LAMBDA_RUNTIME_API`), so a `/next` long poll on that port is that process asking.
//! The pool keeps up to `concurrency` processes: an invocation takes an idle one or starts
//! one. A process that times out, exits, fails to initialise or loses its caller (the
//! invoke future dropped) is killed with its process group and replaced when next needed.

use super::{Invoked, MAX_PAYLOAD};
use crate::config::Function;
use crate::TaskError;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{json, Map, Value};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, oneshot, watch};

/// What a cold start may add to the function's timeout (Lambda's init phase limit).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const PREFIX: &str = "/2018-06-01/runtime";
const ERROR_TYPE: &str = "Lambda-Runtime-Function-Error-Type";
/// Longer output lines are logged in pieces.
const LINE_MAX: u64 = 16 * 1024;

pub(crate) struct Pool {
    function: Function,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    arn: String,
    workers: Mutex<Workers>,
    ids: AtomicU64,
}

#[derive(Default)]
struct Workers {
    idle: Vec<Worker>,
    /// The groups of processes with an invocation, so `shutdown` reaches them too.
    busy: Vec<(u64, Arc<Group>)>,
    closed: bool,
}

impl Pool {
    /// `arn`: the function's ARN, as `Lambda-Runtime-Invoked-Function-Arn` gives it.
    pub(crate) fn new(
        function: Function,
        argv: Vec<String>,
        env: Vec<(String, String)>,
        arn: String,
    ) -> Pool {
        let workers = Mutex::new(Workers::default());
        Pool {
            function,
            argv,
            env,
            arn,
            workers,
            ids: AtomicU64::new(0),
        }
    }

    pub(crate) async fn invoke(
        &self,
        payload: &[u8],
        request_id: &str,
    ) -> Result<Invoked, TaskError> {
        let payload = Bytes::copy_from_slice(payload);
        let start = Instant::now();
        let mut warm = true;
        loop {
            match self.attempt(&payload, request_id, start, warm).await? {
                Some(done) => return Ok(done),
                // The warm process had died before it took the invocation (say, right
                // after its last answer): a new one takes it.
                None => warm = false,
            }
        }
    }

    /// One try, on an idle process (if `warm`) or a new one; `None`: the idle process
    /// exited before taking the invocation.
    async fn attempt(
        &self,
        payload: &Bytes,
        request_id: &str,
        start: Instant,
        warm: bool,
    ) -> Result<Option<Invoked>, TaskError> {
        let idle = self.take_idle(warm)?;
        let cold = idle.is_none();
        let latest =
            start + self.function.timeout + if cold { INIT_TIMEOUT } else { Duration::ZERO };
        let worker = match idle {
            Some(w) => w,
            None => self.serve().await?,
        };
        let (reply, mut replied) = oneshot::channel();
        let (handed, handed_rx) = oneshot::channel();
        // The invocation is the process's before it starts, so an init error has one to fail.
        *lock(&worker.api.current) = Some(Current {
            request_id: request_id.to_string(),
            reply,
        });
        let dispatch = Dispatch {
            request_id: request_id.to_string(),
            payload: payload.clone(),
            latest,
            handed,
        };
        if worker.dispatch.try_send(dispatch).is_err() {
            return Ok(None); // not expected: an idle process has nothing queued
        }
        let worker = if cold { self.spawn(worker)? } else { worker };
        let mut exited = worker.exited.clone();
        let mut busy = Busy::new(self, worker)?;
        let mut deadline = latest;
        let mut handed = Some(handed_rx);
        let outcome = loop {
            tokio::select! {
                biased;
                r = &mut replied => break r.ok(),
                d = async {
                    match handed.as_mut() {
                        Some(h) => h.await,
                        None => std::future::pending().await,
                    }
                } => {
                    handed = None;
                    deadline = d.unwrap_or(deadline);
                }
                how = async { exited.wait_for(Option::is_some).await.ok().and_then(|h| h.clone()) } => {
                    // An answer posted just before it exited still counts.
                    if let Ok(o) = replied.try_recv() {
                        break Some(o);
                    }
                    if !cold && handed.is_some() {
                        return Ok(None);
                    }
                    let how = how.unwrap_or_else(|| "Runtime exited".into());
                    let message = format!("RequestId: {request_id} Error: {how}");
                    return Ok(Some(Invoked::function_error("Runtime.ExitError", &message, request_id)));
                }
                _ = tokio::time::sleep_until(deadline.into()) => {
                    return Ok(Some(Invoked::timed_out(&self.function, request_id)));
                }
            }
        };
        // After an answer the process asks for its next invocation; not after an init error.
        busy.keep = matches!(
            outcome,
            Some(Outcome::Response(_) | Outcome::Error(_) | Outcome::TooLarge)
        );
        let request_id = request_id.to_string();
        Ok(Some(match outcome {
            Some(Outcome::Response(payload)) => Invoked::Returned { payload: payload.to_vec(), request_id },
            Some(Outcome::Error(payload) | Outcome::InitError(payload)) => {
                Invoked::FunctionError { payload, request_id }
            }
            Some(Outcome::TooLarge) => Invoked::function_error(
                "Function.ResponseSizeTooLarge",
                &format!("Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."),
                &request_id,
            ),
            None => return Err(self.service_error(format!("its process lost invocation {request_id}"))),
        }))
    }

    pub(crate) async fn shutdown(&self) {
        let (idle, busy) = {
            let mut ws = lock(&self.workers);
            ws.closed = true;
            (std::mem::take(&mut ws.idle), ws.busy.clone())
        };
        for (_, g) in busy {
            g.kill();
        }
        drop(idle); // each kills its group
    }

    /// An idle process, if `warm` and there is one; those that died while idle are dropped.
    fn take_idle(&self, warm: bool) -> Result<Option<Worker>, TaskError> {
        let mut ws = lock(&self.workers);
        if ws.closed {
            return Err(self.service_error("Stepwise is stopping".into()));
        }
        while let Some(w) = if warm { ws.idle.pop() } else { None } {
            if w.exited.borrow().is_none() {
                return Ok(Some(w));
            }
        }
        Ok(None)
    }

    fn service_error(&self, what: String) -> TaskError {
        TaskError::new(
            "Lambda.ServiceException",
            format!("Function '{}': {what}", self.function.name),
        )
    }

    /// A Runtime API server on its own port, for a process not started yet.
    async fn serve(&self) -> Result<Worker, TaskError> {
        let bound = async {
            let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            let port = l.local_addr()?.port();
            Ok::<_, std::io::Error>((l, port))
        };
        let (listener, port) = bound
            .await
            .map_err(|e| self.service_error(format!("no port for its Runtime API: {e}")))?;
        let (dispatch, next) = mpsc::channel(1);
        let api = Arc::new(Api {
            arn: self.arn.clone(),
            timeout: self.function.timeout,
            next: tokio::sync::Mutex::new(next),
            current: Mutex::new(None),
        });
        let server = tokio::spawn(accept(listener, Arc::clone(&api))).abort_handle();
        Ok(Worker {
            id: self.ids.fetch_add(1, Ordering::Relaxed),
            port,
            api,
            dispatch,
            group: None,
            exited: watch::channel(None).1,
            server,
        })
    }

    /// Starts the process for `worker`'s server.
    fn spawn(&self, mut worker: Worker) -> Result<Worker, TaskError> {
        let f = &self.function;
        let program = self.argv.first().map_or("", String::as_str);
        let mut cmd = super::function_process(f, &self.argv, &self.env);
        cmd.env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("127.0.0.1:{}", worker.port),
        )
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", f.name),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name())
        .stdin(Stdio::null());
        let mut child = cmd.spawn().map_err(|e| {
            let (name, cwd) = (&f.name, f.cwd.display());
            let why = format!(
                "Function '{name}' could not start its bootstrap {program:?} in {cwd}: {e}"
            );
            TaskError::new("Lambda.Unknown", why)
        })?;
        let name: Arc<str> = Arc::from(f.name.as_str());
        if let Some(out) = child.stdout.take() {
            tokio::spawn(forward(out, Arc::clone(&name), "stdout"));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(forward(err, Arc::clone(&name), "stderr"));
        }
        let group = Arc::new(Group {
            pgid: child.id(),
            gone: AtomicBool::new(false),
        });
        let (exit, exited) = watch::channel(None);
        let g = Arc::clone(&group);
        tokio::spawn(async move {
            let how = match child.wait().await {
                Ok(status) => exit_reason(status),
                Err(e) => format!("Runtime exited with error: {e}"),
            };
            g.kill(); // what it left running goes with it
            tracing::debug!(function = %name, "bootstrap process ended: {how}");
            let _ = exit.send(Some(how));
        });
        worker.group = Some(group);
        worker.exited = exited;
        Ok(worker)
    }
}

/// One process (before `spawn`, just its server). Dropping it kills the process.
struct Worker {
    id: u64,
    port: u16,
    api: Arc<Api>,
    dispatch: mpsc::Sender<Dispatch>,
    group: Option<Arc<Group>>,
    /// `Some(how)` once the process has exited.
    exited: watch::Receiver<Option<String>>,
    server: tokio::task::AbortHandle,
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(g) = &self.group {
            g.kill();
        }
        self.server.abort();
    }
}

/// A process group, signalled at most once: after its leader is reaped, its id may be
/// someone else's.
struct Group {
    pgid: Option<u32>,
    gone: AtomicBool,
}

impl Group {
    fn kill(&self) {
        if self.gone.swap(true, Ordering::AcqRel) {
            return;
        }
        #[cfg(unix)]
        if let Some(pgid) = self.pgid {
            // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH.
            unsafe {
                libc::killpg(pgid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

/// A worker with an invocation. Dropping it kills the process unless the invocation
/// ended with it fit for another (`keep`): also when the invoke future is dropped
/// half-way, so no stale answer reaches a later invocation.
struct Busy<'a> {
    pool: &'a Pool,
    worker: Option<Worker>,
    keep: bool,
}

impl<'a> Busy<'a> {
    fn new(pool: &'a Pool, worker: Worker) -> Result<Busy<'a>, TaskError> {
        let mut ws = lock(&pool.workers);
        if ws.closed {
            return Err(pool.service_error("Stepwise is stopping".into()));
        }
        if let Some(g) = &worker.group {
            ws.busy.push((worker.id, Arc::clone(g)));
        }
        Ok(Busy {
            pool,
            worker: Some(worker),
            keep: false,
        })
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let Some(w) = self.worker.take() else { return };
        let mut ws = lock(&self.pool.workers);
        ws.busy.retain(|(id, _)| *id != w.id);
        if self.keep && !ws.closed && w.exited.borrow().is_none() {
            ws.idle.push(w);
        }
    }
}

/// An invocation on its way to a process's `/next`.
struct Dispatch {
    request_id: String,
    payload: Bytes,
    /// Its deadline: `timeout` after the process takes it, but no later than this.
    latest: Instant,
    handed: oneshot::Sender<Instant>,
}

/// What a process posted about its invocation.
enum Outcome {
    Response(Bytes),
    Error(Vec<u8>),
    InitError(Vec<u8>),
    TooLarge,
}

/// The invocation a process has: where its answer goes.
struct Current {
    request_id: String,
    reply: oneshot::Sender<Outcome>,
}

/// What one process's Runtime API server knows.
struct Api {
    arn: String,
    timeout: Duration,
    next: tokio::sync::Mutex<mpsc::Receiver<Dispatch>>,
    current: Mutex<Option<Current>>,
}

impl Api {
    fn is_current(&self, id: &str) -> bool {
        lock(&self.current)
            .as_ref()
            .is_some_and(|c| c.request_id == id)
    }

    /// Hands `outcome` to invocation `id` (to any, for `None`); false if it is not current.
    fn finish(&self, id: Option<&str>, outcome: Outcome) -> bool {
        let mut current = lock(&self.current);
        match current.take() {
            Some(c) if id.is_none_or(|i| i == c.request_id) => {
                let _ = c.reply.send(outcome);
                true
            }
            other => {
                *current = other;
                false
            }
        }
    }
}

async fn accept(listener: tokio::net::TcpListener, api: Arc<Api>) {
    // Aborted with its worker; dropping the set ends the connections too.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let api = Arc::clone(&api);
                    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&api), req));
                    let conn = hyper::server::conn::http1::Builder::new()
                        .title_case_headers(true)
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                    conns.spawn(conn);
                }
                // Out of file descriptors, say: try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(api: Arc<Api>, req: Request<Incoming>) -> Result<Reply, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let route = path.strip_prefix(PREFIX).unwrap_or("");
    let post = req.method() == Method::POST;
    Ok(match route {
        "/invocation/next" if req.method() == Method::GET => next(&api).await,
        "/init/error" if post => {
            let kind = error_type(&req).unwrap_or_else(|| "Runtime.Unknown".into());
            let body = read_body(req).await.unwrap_or_default();
            api.finish(None, Outcome::InitError(error_payload(&body, Some(&kind))));
            reply(StatusCode::ACCEPTED, json!({"status": "OK"}))
        }
        _ if post => {
            let rest = route.strip_prefix("/invocation/").unwrap_or("");
            match (rest.strip_suffix("/response"), rest.strip_suffix("/error")) {
                (Some(id), _) => answer(&api, id, req, false).await,
                (_, Some(id)) => answer(&api, id, req, true).await,
                _ => failure(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("No such endpoint: {path}"),
                ),
            }
        }
        _ => failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No such endpoint: {path}"),
        ),
    })
}

/// The long poll: waits for this process's next invocation.
async fn next(api: &Api) -> Reply {
    let Some(d) = api.next.lock().await.recv().await else {
        return failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "Closing".into(),
        );
    };
    let deadline = d.latest.min(Instant::now() + api.timeout);
    let _ = d.handed.send(deadline);
    let deadline_ms = (SystemTime::now() + deadline.saturating_duration_since(Instant::now()))
        .duration_since(UNIX_EPOCH)
        .map_or(0, |t| t.as_millis());
    let mut reply = Response::new(Full::new(d.payload));
    let headers = [
        ("Lambda-Runtime-Aws-Request-Id", d.request_id),
        ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
        ("Lambda-Runtime-Invoked-Function-Arn", api.arn.clone()),
        ("Lambda-Runtime-Trace-Id", trace_id()),
        ("Content-Type", "application/json".into()),
    ];
    for (name, value) in headers {
        match HeaderValue::from_str(&value) {
            Ok(v) => {
                reply.headers_mut().insert(name, v);
            }
            Err(_) => tracing::warn!("{name} {value:?} is not a valid header value"),
        }
    }
    reply
}

/// `/invocation/{id}/response` and `/invocation/{id}/error`.
async fn answer(api: &Api, id: &str, req: Request<Incoming>, error: bool) -> Reply {
    let id = percent_encoding::percent_decode_str(id)
        .decode_utf8_lossy()
        .into_owned();
    let invalid = || {
        let message = format!("Invalid request ID: {id:?} is not the invocation in progress");
        failure(StatusCode::BAD_REQUEST, "InvalidRequestID", message)
    };
    if !api.is_current(&id) {
        return invalid();
    }
    let kind = error_type(&req);
    let outcome = match read_body(req).await {
        Ok(body) if error => Outcome::Error(error_payload(&body, kind.as_deref())),
        Ok(body) => Outcome::Response(body),
        Err(Some(TooLarge)) => {
            api.finish(Some(&id), Outcome::TooLarge);
            let message = format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes).");
            return failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                message,
            );
        }
        Err(None) => {
            return failure(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "Unreadable body".into(),
            )
        }
    };
    if api.finish(Some(&id), outcome) {
        reply(StatusCode::ACCEPTED, json!({"status": "OK"}))
    } else {
        invalid()
    }
}

struct TooLarge;

/// The body, up to `MAX_PAYLOAD`; `Err(None)` when it could not be read.
async fn read_body(req: Request<Incoming>) -> Result<Bytes, Option<TooLarge>> {
    let length = req.headers().get(http::header::CONTENT_LENGTH);
    if length
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_PAYLOAD as u64)
    {
        return Err(Some(TooLarge));
    }
    match Limited::new(req.into_body(), MAX_PAYLOAD).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Some(TooLarge)),
        Err(_) => Err(None),
    }
}

fn error_type(req: &Request<Incoming>) -> Option<String> {
    let v = req.headers().get(ERROR_TYPE)?.to_str().ok()?.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// An error body as sent when it names its `errorType`; else with `kind` as its type and
/// the body as its `errorMessage` unless it is a JSON object.
fn error_payload(body: &[u8], kind: Option<&str>) -> Vec<u8> {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let named = parsed
        .as_ref()
        .and_then(|v| v.get("errorType"))
        .is_some_and(Value::is_string);
    let Some(kind) = kind.filter(|_| !named) else {
        return body.to_vec();
    };
    let mut out = Map::new();
    out.insert("errorType".into(), json!(kind));
    match parsed {
        Some(Value::Object(fields)) => {
            out.extend(fields.into_iter().filter(|(k, _)| k != "errorType"))
        }
        _ => {
            out.insert("errorMessage".into(), json!(String::from_utf8_lossy(body)));
        }
    }
    Value::Object(out).to_string().into_bytes()
}

fn reply(status: StatusCode, body: Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body.to_string())));
    *reply.status_mut() = status;
    let json = HeaderValue::from_static("application/json");
    reply.headers_mut().insert(http::header::CONTENT_TYPE, json);
    reply
}

fn failure(status: StatusCode, error_type: &str, message: String) -> Reply {
    reply(
        status,
        json!({"errorMessage": message, "errorType": error_type}),
    )
}

/// Logs a process's output by line, so its pipes never fill.
async fn forward(r: impl AsyncRead + Unpin, function: Arc<str>, stream: &'static str) {
    let mut r = tokio::io::BufReader::new(r);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut r).take(LINE_MAX).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                tracing::info!(function = %function, stream, "{}", text.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

/// As Lambda words a runtime's exit.
fn exit_reason(status: ExitStatus) -> String {
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    // Signal numbers POSIX fixes, as Go (Lambda's runtime API) names them.
    match (status.code(), signal) {
        (Some(0), _) => "Runtime exited without providing a reason".into(),
        (Some(c), _) => format!("Runtime exited with error: exit status {c}"),
        (None, Some(9)) => "Runtime exited with error: signal: killed".into(),
        (None, Some(15)) => "Runtime exited with error: signal: terminated".into(),
        (None, Some(6)) => "Runtime exited with error: signal: aborted".into(),
        (None, Some(11)) => "Runtime exited with error: signal: segmentation fault".into(),
        (None, Some(s)) => format!("Runtime exited with error: signal: {s}"),
        (None, None) => "Runtime exited with error".into(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Random enough for log stream and trace ids.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// As Lambda names them: `2024/01/31/[$LATEST]` and 32 hex digits.
fn log_stream_name() -> String {
    format!(
        "{}/[$LATEST]{:016x}{:016x}",
        super::log_date(),
        random(),
        random()
    )
}

/// An X-Ray trace header, as Lambda gives every invocation one.
fn trace_id() -> String {
    let (time, a, b, parent) = (epoch_secs() as u32, random() as u32, random(), random());
    format!("Root=1-{time:08x}-{a:08x}{b:016x};Parent={parent:016x};Sampled=0")
}

#[cfg(all(test, target_os = "linux"))]
#[path = "../tests/runtime_api.rs"]
mod tests;
