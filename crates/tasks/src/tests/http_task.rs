//! The parameters, the request built from them, and real calls to a local HTTP server.

use super::*;
use crate::config::Config;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const STATE: &str = "Call API";

fn config(toml: &str) -> Config {
    Config::parse(toml, Path::new("stepwise.toml"), Path::new("."), &|_| None).unwrap()
}

const API_KEY_CONNECTION: &str = r#"
[connections.api]
AuthorizationType = "API_KEY"
[connections.api.AuthParameters.ApiKeyAuthParameters]
ApiKeyName = "x-api-key"
ApiKeyValue = "key-123"
[connections.api.AuthParameters.InvocationHttpParameters]
HeaderParameters = [{Key = "x-team", Value = "blue"}, {Key = "X-Override", Value = "from-connection"}]
QueryStringParameters = [{Key = "tenant", Value = "t1"}, {Key = "page", Value = "9"}]
BodyParameters = [{Key = "BodyParam", Value = "connection_body_param"}]
"#;

const BASIC_CONNECTION: &str = r#"
[connections.basic]
AuthorizationType = "BASIC"
[connections.basic.AuthParameters.BasicAuthParameters]
Username = "user"
Password = "pass word"
"#;

const ARN: &str = "arn:aws:events:eu-west-1:123456789012:connection/api/6c4d1b2a-0000";

fn err(params: Value) -> TaskError {
    parse_task(&params, STATE).unwrap_err()
}

fn request(params: Value, toml: &str) -> Result<http::Request<Full<Bytes>>, TaskError> {
    let cfg = config(toml);
    let task = parse_task(&params, STATE)?;
    let (conn, cref) = lookup(&cfg, task.connection_arn, STATE)?;
    build_request(
        &task,
        cref.name,
        conn,
        "Amazon|StepFunctions|HttpInvoke|eu-west-1",
        Some("tok"),
        STATE,
    )
}

fn header<'r>(req: &'r http::Request<Full<Bytes>>, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn body_of(req: http::Request<Full<Bytes>>) -> String {
    let b = req.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(b.to_vec()).unwrap()
}

// ---- Parameters ----

#[test]
fn parameters_are_checked() {
    let ok = json!({"ApiEndpoint": "https://example.com/x", "Method": "GET",
                    "Authentication": {"ConnectionArn": ARN}});
    let t = parse_task(&ok, STATE).unwrap();
    assert_eq!(t.method, Method::GET);
    assert_eq!(t.connection_arn, ARN);
    assert!(!t.url_encoded);
    assert_eq!(t.array_format, ArrayFormat::Indices);
    let p = json!({"ApiEndpoint": "http://127.0.0.1:8080", "Method": "HEAD",
                   "InvocationConfig": {"ConnectionArn": ARN},
                   "Transform": {"RequestBodyEncoding": "URL_ENCODED",
                                 "RequestEncodingOptions": {"ArrayFormat": "COMMAS"}}});
    let t = parse_task(&p, STATE).unwrap();
    assert_eq!(t.method, Method::HEAD);
    assert!(t.url_encoded);
    assert_eq!(t.array_format, ArrayFormat::Commas);

    let cases: Vec<(Value, &str)> = vec![
        (json!([1]), "Parameters of state 'Call API' must be an object"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Body": {}}),
         "The field 'Body' of state 'Call API' is not one of http:invoke's fields"),
        (json!({"Method": "GET", "Authentication": {"ConnectionArn": ARN}}),
         "The field 'ApiEndpoint' of state 'Call API' is required and must be a string"),
        (json!({"ApiEndpoint": 5, "Method": "GET", "Authentication": {"ConnectionArn": ARN}}),
         "The field 'ApiEndpoint' of state 'Call API' is required"),
        (json!({"ApiEndpoint": "ftp://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}}),
         "The field 'ApiEndpoint' of state 'Call API' must be an https://"),
        (json!({"ApiEndpoint": "https://", "Method": "GET", "Authentication": {"ConnectionArn": ARN}}),
         "The field 'ApiEndpoint' of state 'Call API' is not a valid URL"),
        (json!({"ApiEndpoint": "https://e.com", "Authentication": {"ConnectionArn": ARN}}),
         "The field 'Method' of state 'Call API' is required"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "get", "Authentication": {"ConnectionArn": ARN}}),
         "The field 'Method' of state 'Call API' must be one of GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD, not 'get'"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET"}),
         "The field 'Authentication.ConnectionArn' of state 'Call API' (or InvocationConfig.ConnectionArn) is required"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": 1}}),
         "The field 'Authentication.ConnectionArn' of state 'Call API' is required and must be a string"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"Arn": ARN}}),
         "The field 'Authentication.Arn' of state 'Call API' is not supported"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN},
                "InvocationConfig": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/other"}}),
         "names another connection"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Headers": ["a"]}),
         "The field 'Headers' of state 'Call API' must be an object of strings"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Headers": {"X-Count": 1}}),
         "The field 'Headers.X-Count' of state 'Call API' must be a string"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Headers": {"Bad Name": "v"}}),
         "The field 'Headers.Bad Name' of state 'Call API' is not a valid HTTP header name"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Headers": {"X-A": "a\nb"}}),
         "The field 'Headers.X-A' of state 'Call API' is not a valid HTTP header value"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "QueryParameters": "a=b"}),
         "The field 'QueryParameters' of state 'Call API' must be an object"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Transform": {"RequestBodyEncoding": "JSON"}}),
         "The field 'Transform.RequestBodyEncoding' of state 'Call API' must be NONE or URL_ENCODED"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Transform": {"RequestEncodingOptions": {"ArrayFormat": "SPACES"}}}),
         "The field 'Transform.RequestEncodingOptions.ArrayFormat' of state 'Call API' must be INDICES, REPEAT, COMMAS or BRACKETS"),
        (json!({"ApiEndpoint": "https://e.com", "Method": "GET", "Authentication": {"ConnectionArn": ARN}, "Transform": {"Encoding": "NONE"}}),
         "The field 'Transform.Encoding' of state 'Call API' is not supported"),
    ];
    for (params, want) in cases {
        let e = err(params.clone());
        assert_eq!(e.error, "States.Runtime", "{params}");
        assert!(
            e.cause.contains(want),
            "{params}\n  got:  {}\n  want: {want}",
            e.cause
        );
    }
}

#[test]
fn forbidden_headers_are_refused_by_name() {
    for name in [
        "Authorization",
        "authorization",
        "Host",
        "Cache-Control",
        "Transfer-Encoding",
        "TE",
        "X-Amz-Date",
        "x-amzn-trace-id",
        "X-Forwarded-For",
        "Accept-Encoding",
        "Proxy-Authorization",
        "Referer",
        "Origin",
        "Content-MD5",
    ] {
        let e = err(json!({"ApiEndpoint": "https://e.com", "Method": "GET",
                           "Authentication": {"ConnectionArn": ARN},
                           "Headers": {"X-Fine": "1", name: "v"}}));
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            format!(
                "The 'Headers' field of state 'Call API' contains unsupported values: [{}] (Step Functions sets these headers or does not allow them)",
                name.to_ascii_lowercase()
            )
        );
    }
    for name in [
        "Content-Type",
        "Accept",
        "X-Request-Id",
        "X-Amazing",
        "User-Agent",
        "X-Forwarded",
    ] {
        assert!(!forbidden_header(name), "{name}");
    }
}

// ---- Connections ----

#[test]
fn connection_arns_name_a_connection() {
    assert_eq!(
        connection_ref(ARN),
        Some(ConnectionRef {
            region: "eu-west-1",
            name: "api"
        })
    );
    assert_eq!(
        connection_ref("arn:aws:events:us-east-2:123456789012:connection/Stripe"),
        Some(ConnectionRef {
            region: "us-east-2",
            name: "Stripe"
        })
    );
    assert_eq!(
        connection_ref("arn:aws-cn:events:cn-north-1:1:connection/x/anything/else"),
        Some(ConnectionRef {
            region: "cn-north-1",
            name: "x"
        })
    );
    for bad in [
        "api",
        "arn:aws:events:us-east-1:1:rule/x",
        "arn:aws:lambda:us-east-1:1:connection/x",
        "arn:aws:events:us-east-1:1:connection/",
        "arn:aws:events:us-east-1:connection/x",
    ] {
        assert_eq!(connection_ref(bad), None, "{bad}");
    }
}

#[test]
fn a_missing_connection_says_how_to_add_it() {
    let cfg = config(API_KEY_CONNECTION);
    let (c, r) = lookup(&cfg, ARN, STATE).unwrap();
    assert_eq!(r.name, "api");
    assert_eq!(c.authorization_type, AuthorizationType::ApiKey);

    let arn = "arn:aws:events:us-east-1:123456789012:connection/payments/abc";
    let e = lookup(&cfg, arn, STATE).unwrap_err();
    assert_eq!(e.error, "Events.ConnectionResource.ResourceNotFound");
    assert_eq!(
        e.cause,
        format!("The connection {arn} does not exist. State 'Call API' uses it; add it as [connections.payments] to stepwise.toml (--config), now stepwise.toml")
    );
    let e = lookup(&cfg, "payments", STATE).unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    assert!(
        e.cause.contains("is not an EventBridge connection ARN"),
        "{}",
        e.cause
    );
}

// ---- The request ----

#[tokio::test]
async fn the_request_merges_the_connection_over_the_task() {
    let req = request(
        json!({"ApiEndpoint": "https://api.example.com/v1/items?existing=1#frag", "Method": "POST",
               "Authentication": {"ConnectionArn": ARN},
               "Headers": {"x-override": "from-task", "X-Request-Id": "r-1", "Content-Length": "999", "X-Name": "Zoë"},
               "QueryParameters": {"page": 1, "tags": ["a b", "c"], "f": {"status": "open"}},
               "RequestBody": {"Job": "Software Engineer", "BodyParam": "from-task"}}),
        API_KEY_CONNECTION,
    )
    .unwrap();
    assert_eq!(req.method(), Method::POST);
    assert_eq!(
        req.uri().to_string(),
        "https://api.example.com/v1/items?existing=1&page=9&tags%5B0%5D=a%20b&tags%5B1%5D=c&f%5Bstatus%5D=open&tenant=t1"
    );
    assert_eq!(header(&req, "x-api-key"), Some("key-123"));
    assert!(req.headers()["x-api-key"].is_sensitive());
    assert_eq!(header(&req, "x-team"), Some("blue"));
    assert_eq!(req.headers().get_all("x-override").iter().count(), 1);
    assert_eq!(header(&req, "x-override"), Some("from-connection"));
    assert_eq!(header(&req, "x-request-id"), Some("r-1"));
    assert_eq!(header(&req, "content-length"), None);
    assert_eq!(req.headers()["x-name"].as_bytes(), "Zoë".as_bytes());
    assert_eq!(
        header(&req, "content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(
        header(&req, "user-agent"),
        Some("Amazon|StepFunctions|HttpInvoke|eu-west-1")
    );
    assert_eq!(header(&req, "range"), Some("bytes=0-262144"));
    assert_eq!(
        body_of(req).await,
        r#"{"Job":"Software Engineer","BodyParam":"connection_body_param"}"#
    );
}

#[tokio::test]
async fn bodies_by_kind() {
    // No body: no Content-Type; the connection's body parameters are not sent with GET.
    let req = request(
        json!({"ApiEndpoint": "https://e.com/", "Method": "GET", "Authentication": {"ConnectionArn": ARN}}),
        API_KEY_CONNECTION,
    )
    .unwrap();
    assert_eq!(header(&req, "content-type"), None);
    assert_eq!(body_of(req).await, "");
    // A POST without a body: the body parameters are the body.
    let req = request(
        json!({"ApiEndpoint": "https://e.com/", "Method": "POST", "Authentication": {"ConnectionArn": ARN}}),
        API_KEY_CONNECTION,
    )
    .unwrap();
    assert_eq!(
        body_of(req).await,
        r#"{"BodyParam":"connection_body_param"}"#
    );
    // A string is sent as it is, with the task's Content-Type.
    let req = request(
        json!({"ApiEndpoint": "https://e.com/", "Method": "PUT", "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/basic"},
               "Headers": {"Content-Type": "text/csv"}, "RequestBody": "a,b\n1,2"}),
        BASIC_CONNECTION,
    )
    .unwrap();
    assert_eq!(header(&req, "content-type"), Some("text/csv"));
    assert_eq!(
        header(&req, "authorization"),
        Some("Basic dXNlcjpwYXNzIHdvcmQ=")
    );
    assert_eq!(body_of(req).await, "a,b\n1,2");
    // A string body cannot take the connection's body parameters.
    let e = request(
        json!({"ApiEndpoint": "https://e.com/", "Method": "POST", "Authentication": {"ConnectionArn": ARN},
               "RequestBody": "text"}),
        API_KEY_CONNECTION,
    )
    .unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    assert!(
        e.cause
            .contains("The connection 'api' adds body parameters"),
        "{}",
        e.cause
    );
    assert!(!e.cause.contains("connection_body_param"));
    // URL_ENCODED, with the connection's body parameter.
    let req = request(
        json!({"ApiEndpoint": "https://e.com/", "Method": "POST", "Authentication": {"ConnectionArn": ARN},
               "Headers": {"Content-Type": "application/x-www-form-urlencoded"},
               "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "REPEAT"}},
               "RequestBody": {"array": ["a", "b"], "n": {"k": "v w"}}}),
        API_KEY_CONNECTION,
    )
    .unwrap();
    assert_eq!(
        header(&req, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        body_of(req).await,
        "array=a&array=b&n%5Bk%5D=v%20w&BodyParam=connection_body_param"
    );
    // URL_ENCODED needs an object.
    let e = request(
        json!({"ApiEndpoint": "https://e.com/", "Method": "POST", "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/basic"},
               "Transform": {"RequestBodyEncoding": "URL_ENCODED"}, "RequestBody": [1, 2]}),
        BASIC_CONNECTION,
    )
    .unwrap_err();
    assert!(
        e.cause
            .contains("The field 'RequestBody' of state 'Call API' must be a JSON object"),
        "{}",
        e.cause
    );
    // JSON scalars and arrays go as JSON.
    let req = request(
        json!({"ApiEndpoint": "https://e.com/", "Method": "PATCH", "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/basic"},
               "RequestBody": [1, {"a": null}]}),
        BASIC_CONNECTION,
    )
    .unwrap();
    assert_eq!(body_of(req).await, r#"[1,{"a":null}]"#);
}

#[test]
fn endpoints_are_escaped_and_queries_appended() {
    assert_eq!(with_query("https://e.com/a", ""), "https://e.com/a");
    assert_eq!(with_query("https://e.com/a", "x=1"), "https://e.com/a?x=1");
    assert_eq!(with_query("https://e.com/a?", "x=1"), "https://e.com/a?x=1");
    assert_eq!(
        with_query("https://e.com/a?y=2", "x=1"),
        "https://e.com/a?y=2&x=1"
    );
    assert_eq!(
        with_query("https://e.com/a?y=2#f", "x=1"),
        "https://e.com/a?y=2&x=1"
    );
    assert_eq!(
        endpoint_uri("https://e.com/a b/é?q=%20", "")
            .unwrap()
            .to_string(),
        "https://e.com/a%20b/%C3%A9?q=%20"
    );
}

// ---- The response ----

fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> http_client::Response {
    let status = http::StatusCode::from_u16(status).unwrap();
    http_client::Response {
        status,
        reason: status.canonical_reason().unwrap_or("").to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect(),
        body: Bytes::copy_from_slice(body),
    }
}

#[test]
fn results_and_failures_from_responses() {
    let params = json!({"ApiEndpoint": "https://e.com/x", "Method": "GET", "Authentication": {"ConnectionArn": ARN}});
    let task = parse_task(&params, STATE).unwrap();
    let r = outcome(
        &response(
            200,
            &[
                ("content-type", "application/json"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
            ],
            br#"{"a":[1]}"#,
        ),
        &task,
        STATE,
    )
    .unwrap();
    assert_eq!(
        r.to_string(),
        r#"{"Headers":{"content-type":["application/json"],"set-cookie":["a=1","b=2"]},"ResponseBody":{"a":[1]},"StatusCode":200,"StatusText":"OK"}"#
    );
    let r = outcome(
        &response(200, &[("content-type", "text/plain")], b"hello"),
        &task,
        STATE,
    )
    .unwrap();
    assert_eq!(r["ResponseBody"], json!("hello"));
    let r = outcome(&response(204, &[], b""), &task, STATE).unwrap();
    assert_eq!(r["ResponseBody"], json!(""));
    assert_eq!(r["StatusText"], json!("No Content"));
    for ct in [
        "application/octet-stream",
        "image/png",
        "Audio/mpeg",
        "video/mp4; codecs=x",
    ] {
        let e = outcome(&response(200, &[("content-type", ct)], b"x"), &task, STATE).unwrap_err();
        assert_eq!(e.error, "States.Runtime", "{ct}");
        assert!(
            e.cause.contains("an HTTP Task takes only text responses"),
            "{}",
            e.cause
        );
        assert!(
            e.cause
                .contains(&ct.split(';').next().unwrap().to_ascii_lowercase()),
            "{}",
            e.cause
        );
    }
    let e = outcome(&response(200, &[], &[0xff, 0xfe]), &task, STATE).unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    assert!(e.cause.contains("is not UTF-8 text"), "{}", e.cause);
    let e = outcome(
        &response(500, &[("content-type", "text/plain")], b"boom"),
        &task,
        STATE,
    )
    .unwrap_err();
    assert_eq!(e.error, "States.Http.StatusCode.500");
    assert_eq!(
        e.cause,
        r#"{"Headers":{"content-type":["text/plain"]},"ResponseBody":"boom","StatusCode":500,"StatusText":"Internal Server Error"}"#
    );
}

// ---- Real calls to a local server ----

/// One request as the server got it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct ServerState {
    seen: Mutex<Vec<Seen>>,
    /// Tokens issued (the n-th is `tok-n`).
    issued: AtomicUsize,
    /// The API takes `tok-n` for n at least this.
    oldest_valid: AtomicUsize,
}

struct Server {
    addr: SocketAddr,
    state: Arc<ServerState>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn last(&self) -> Seen {
        self.seen()
            .last()
            .cloned()
            .expect("the server got no request")
    }
}

async fn server() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(ServerState::default());
    let st = Arc::clone(&state);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let st = Arc::clone(&st);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(req, Arc::clone(&st)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Server { addr, state }
}

fn reply(
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::builder().status(status);
    for (n, v) in headers {
        r = r.header(*n, *v);
    }
    r.body(Full::new(body.into())).unwrap()
}

const CLIENT_BASIC: &str = "Basic Y2xpZW50LTE6c2VjcmV0LTE="; // client-1:secret-1

async fn handle(
    req: hyper::Request<Incoming>,
    st: Arc<ServerState>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let auth = seen.header("authorization").unwrap_or("").to_string();
    st.seen.lock().unwrap().push(seen.clone());
    let json = [("content-type", "application/json")];
    Ok(match parts.uri.path() {
        "/api/items" => reply(
            200,
            &[
                ("content-type", "application/json"),
                ("x-custom", "a"),
                ("x-custom", "b"),
            ],
            r#"{"items":[1,2],"note":"ok"}"#,
        ),
        "/created" => {
            let mut r = reply(201, &[("content-type", "text/plain")], "done");
            r.extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(b"Made It"));
            r
        }
        "/missing" => reply(404, &json, r#"{"message":"no such item"}"#),
        "/redirect" => reply(302, &[("location", "/api/items")], ""),
        "/binary" => reply(
            200,
            &[("content-type", "application/octet-stream")],
            vec![0u8, 1, 2],
        ),
        "/large" => reply(
            200,
            &[("content-type", "text/plain")],
            "a".repeat(MAX_RESPONSE_BODY + 1),
        ),
        "/at-limit" => reply(
            200,
            &[("content-type", "text/plain")],
            "a".repeat(MAX_RESPONSE_BODY),
        ),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            reply(200, &[], "late")
        }
        "/token" => {
            let form_ok = seen.header("content-type") == Some("application/x-www-form-urlencoded")
                && seen.body == "grant_type=client_credentials&scope=api%3Aread";
            if auth == CLIENT_BASIC && form_ok && seen.method == "POST" {
                let n = st.issued.fetch_add(1, Ordering::SeqCst) + 1;
                reply(200, &json, json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": 3600}).to_string())
            } else {
                reply(
                    401,
                    &json,
                    r#"{"error":"invalid_client","error_description":"bad client credentials"}"#,
                )
            }
        }
        "/oauth-api" => {
            let n: usize = auth
                .strip_prefix("Bearer tok-")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if n >= 1
                && n >= st.oldest_valid.load(Ordering::SeqCst)
                && n <= st.issued.load(Ordering::SeqCst)
            {
                reply(200, &json, json!({"token": n}).to_string())
            } else {
                reply(401, &json, r#"{"message":"Unauthorized"}"#)
            }
        }
        _ => reply(404, &[], ""),
    })
}

fn oauth_config(server: &Server, secret: &str) -> Config {
    config(&format!(
        r#"
[connections.auth]
AuthorizationType = "OAUTH_CLIENT_CREDENTIALS"
[connections.auth.AuthParameters.OAuthParameters]
AuthorizationEndpoint = "{}"
HttpMethod = "POST"
[connections.auth.AuthParameters.OAuthParameters.ClientParameters]
ClientID = "client-1"
ClientSecret = "{secret}"
[connections.auth.AuthParameters.OAuthParameters.OAuthHttpParameters]
BodyParameters = [{{Key = "scope", Value = "api:read"}}]
"#,
        server.url("/token")
    ))
}

async fn call(client: &Client, config: &Config, params: Value) -> Result<Value, TaskError> {
    call_traced(client, config, params, None).await
}

async fn call_traced(
    client: &Client,
    config: &Config,
    params: Value,
    trace: Option<&mut Exchange>,
) -> Result<Value, TaskError> {
    let c = Call {
        state_name: STATE,
        resource: "arn:aws:states:::http:invoke",
        parameters: &params,
        request_id: "req-1".into(),
    };
    client.invoke_traced(config, &c, trace).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_reaches_the_server_with_query_headers_and_api_key() {
    let s = server().await;
    let client = Client::new();
    let cfg = config(API_KEY_CONNECTION);
    let out = call(
        &client,
        &cfg,
        json!({"ApiEndpoint": s.url("/api/items?existing=yes"), "Method": "GET",
               "InvocationConfig": {"ConnectionArn": ARN},
               "Headers": {"X-Request-Id": "r-42"},
               "QueryParameters": {"ids": [1, 2], "filter": {"status": "open now"}}}),
    )
    .await
    .unwrap();
    let seen = s.last();
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.uri,
        "/api/items?existing=yes&ids%5B0%5D=1&ids%5B1%5D=2&filter%5Bstatus%5D=open%20now&tenant=t1&page=9"
    );
    assert_eq!(
        seen.header("user-agent"),
        Some("Amazon|StepFunctions|HttpInvoke|eu-west-1")
    );
    assert_eq!(seen.header("x-api-key"), Some("key-123"));
    assert_eq!(seen.header("x-team"), Some("blue"));
    assert_eq!(seen.header("x-request-id"), Some("r-42"));
    assert_eq!(seen.header("range"), Some("bytes=0-262144"));
    assert_eq!(seen.header("host"), Some(s.addr.to_string().as_str()));
    assert_eq!(seen.header("content-type"), None);
    assert_eq!(seen.body, "");
    // The result, keys in AWS's order.
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["Headers", "ResponseBody", "StatusCode", "StatusText"]
    );
    assert_eq!(out["ResponseBody"], json!({"items": [1, 2], "note": "ok"}));
    assert_eq!(out["StatusCode"], json!(200));
    assert_eq!(out["StatusText"], json!("OK"));
    assert_eq!(out["Headers"]["x-custom"], json!(["a", "b"]));
    assert_eq!(out["Headers"]["content-type"], json!(["application/json"]));
    assert!(out["Headers"]["content-length"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_url_encoded_bodies_reach_the_server() {
    let s = server().await;
    let client = Client::new();
    let cfg = config(API_KEY_CONNECTION);
    let out = call(
        &client,
        &cfg,
        json!({"ApiEndpoint": s.url("/created"), "Method": "POST",
               "Authentication": {"ConnectionArn": ARN},
               "RequestBody": {"Job": "Software Engineer", "Company": "AnyCompany"}}),
    )
    .await
    .unwrap();
    let seen = s.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.uri, "/created?tenant=t1&page=9");
    assert_eq!(
        seen.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    let body =
        r#"{"Job":"Software Engineer","Company":"AnyCompany","BodyParam":"connection_body_param"}"#;
    assert_eq!(seen.body, body);
    assert_eq!(
        seen.header("content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(out["StatusCode"], json!(201));
    assert_eq!(out["StatusText"], json!("Made It"));
    assert_eq!(out["ResponseBody"], json!("done"));

    call(
        &client,
        &cfg,
        json!({"ApiEndpoint": s.url("/created"), "Method": "PUT",
               "Authentication": {"ConnectionArn": ARN},
               "Headers": {"Content-Type": "application/x-www-form-urlencoded"},
               "Transform": {"RequestBodyEncoding": "URL_ENCODED",
                             "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}},
               "RequestBody": {"array": ["a", "b"], "description": "Monthly subscription",
                               "metadata": {"order_details": "monthly report data"}}}),
    )
    .await
    .unwrap();
    let seen = s.last();
    assert_eq!(seen.method, "PUT");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        seen.body,
        "array%5B%5D=a&array%5B%5D=b&description=Monthly%20subscription&metadata%5Border_details%5D=monthly%20report%20data&BodyParam=connection_body_param"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_errors_socket_errors_and_limits() {
    let s = server().await;
    let client = Client::with_timeout(Duration::from_millis(500));
    let cfg = config(API_KEY_CONNECTION);
    let get = |path: &str| json!({"ApiEndpoint": s.url(path), "Method": "GET", "Authentication": {"ConnectionArn": ARN}});

    let e = call(&client, &cfg, get("/missing")).await.unwrap_err();
    assert_eq!(e.error, "States.Http.StatusCode.404");
    let cause: Value = serde_json::from_str(&e.cause).unwrap();
    assert_eq!(cause["ResponseBody"], json!({"message": "no such item"}));
    assert_eq!(cause["StatusCode"], json!(404));
    assert_eq!(cause["StatusText"], json!("Not Found"));
    assert!(!e.cause.contains("key-123"));

    // A redirect is not followed.
    let e = call(&client, &cfg, get("/redirect")).await.unwrap_err();
    assert_eq!(e.error, "States.Http.StatusCode.302");
    assert_eq!(
        s.seen()
            .iter()
            .filter(|r| r.uri.starts_with("/api/items"))
            .count(),
        0
    );

    let e = call(&client, &cfg, get("/binary")).await.unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    assert!(e.cause.contains("application/octet-stream"), "{}", e.cause);

    let e = call(&client, &cfg, get("/large")).await.unwrap_err();
    assert_eq!(e.error, "States.DataLimitExceeded");
    assert!(e.cause.contains("larger than 262144 bytes"), "{}", e.cause);
    let ok = call(&client, &cfg, get("/at-limit")).await.unwrap();
    assert_eq!(
        ok["ResponseBody"].as_str().map(str::len),
        Some(MAX_RESPONSE_BODY)
    );

    let e = call(&client, &cfg, get("/slow")).await.unwrap_err();
    assert_eq!(e.error, "States.Http.Socket");
    assert!(
        e.cause.contains("timed out after 0.5 seconds"),
        "{}",
        e.cause
    );
    assert!(e.cause.contains("/slow (state 'Call API')"), "{}", e.cause);

    // A port nobody listens on.
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = socket_error(&client, &cfg, &format!("http://{refused}/x")).await;
    assert!(e.cause.contains("refused"), "{}", e.cause);
    assert!(
        !e.cause.contains("key-123") && !e.cause.contains("tenant"),
        "{}",
        e.cause
    );

    // https:// to a server that speaks plain HTTP: the TLS handshake fails.
    socket_error(&client, &cfg, &format!("https://{}/api/items", s.addr)).await;

    // An unknown connection.
    let e = call(
        &client,
        &cfg,
        json!({"ApiEndpoint": s.url("/api/items"), "Method": "GET",
               "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/nope/x"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error, "Events.ConnectionResource.ResourceNotFound");
    assert!(e.cause.contains("[connections.nope]"), "{}", e.cause);
}

#[test]
fn the_default_timeout_is_60_seconds() {
    assert_eq!(TIMEOUT, Duration::from_secs(60));
    assert_eq!(Client::new().timeout, TIMEOUT);
    assert_eq!(
        http_client::SendError::TimedOut(TIMEOUT).to_string(),
        "timed out after 60 seconds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_client_credentials_fetch_cache_and_refresh_the_token() {
    let s = server().await;
    let client = Client::new();
    let cfg = oauth_config(&s, "secret-1");
    let arn = "arn:aws:events:ap-south-1:123456789012:connection/auth/x";
    let params = json!({"ApiEndpoint": s.url("/oauth-api"), "Method": "GET",
                        "Authentication": {"ConnectionArn": arn}});

    let out = call(&client, &cfg, params.clone()).await.unwrap();
    assert_eq!(out["ResponseBody"], json!({"token": 1}));
    let seen = s.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].uri, "/token");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].header("authorization"), Some(CLIENT_BASIC));
    assert_eq!(
        seen[0].body,
        "grant_type=client_credentials&scope=api%3Aread"
    );
    assert_eq!(seen[1].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(
        seen[1].header("user-agent"),
        Some("Amazon|StepFunctions|HttpInvoke|ap-south-1")
    );

    // Cached: no second token request.
    call(&client, &cfg, params.clone()).await.unwrap();
    assert_eq!(s.state.issued.load(Ordering::SeqCst), 1);
    assert_eq!(s.seen().iter().filter(|r| r.uri == "/token").count(), 1);

    // The API stops taking tok-1: that call fails with the 401, the next gets tok-2.
    s.state.oldest_valid.store(2, Ordering::SeqCst);
    let e = call(&client, &cfg, params.clone()).await.unwrap_err();
    assert_eq!(e.error, "States.Http.StatusCode.401");
    let out = call(&client, &cfg, params.clone()).await.unwrap();
    assert_eq!(out["ResponseBody"], json!({"token": 2}));
    assert_eq!(s.state.issued.load(Ordering::SeqCst), 2);

    // Wrong client credentials: the connection is in no state to call, and the cause
    // says why without the secret.
    let bad = oauth_config(&s, "wrong-secret");
    let client = Client::new();
    let e = call(&client, &bad, params).await.unwrap_err();
    assert_eq!(e.error, "Events.ConnectionResource.InvalidConnectionState");
    assert!(
        e.cause
            .contains("The connection 'auth' could not get an OAuth access token from http://"),
        "{}",
        e.cause
    );
    assert!(
        e.cause.contains("401 Unauthorized; error: invalid_client"),
        "{}",
        e.cause
    );
    assert!(e.cause.ends_with("(state 'Call API')"), "{}", e.cause);
    assert!(
        !e.cause.contains("wrong-secret") && !e.cause.contains("client-1"),
        "{}",
        e.cause
    );
    assert_eq!(s.last().uri, "/token");
}

/// A GET of `endpoint` that cannot connect: `States.Http.Socket`, naming the call.
async fn socket_error(client: &Client, cfg: &Config, endpoint: &str) -> TaskError {
    let e = call(
        client,
        cfg,
        json!({"ApiEndpoint": endpoint, "Method": "GET", "Authentication": {"ConnectionArn": ARN}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error, "States.Http.Socket");
    assert!(
        e.cause.starts_with(&format!(
            "GET {endpoint} (state 'Call API'): could not connect: "
        )),
        "{}",
        e.cause
    );
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testing_a_state_shows_what_the_connection_adds_only_when_revealed() {
    let s = server().await;
    let client = Client::new();
    let cfg = config(API_KEY_CONNECTION);
    let params = json!({"ApiEndpoint": s.url("/api/items"), "Method": "POST",
        "Authentication": {"ConnectionArn": ARN},
        "QueryParameters": {"q": "1"}, "RequestBody": {"Job": "x"}});
    for reveal in [false, true] {
        let mut trace = Exchange {
            reveal,
            ..Exchange::default()
        };
        call_traced(&client, &cfg, params.clone(), Some(&mut trace))
            .await
            .unwrap();
        // The server gets everything either way.
        let seen = s.last();
        assert_eq!(seen.uri, "/api/items?q=1&tenant=t1&page=9");
        assert_eq!(
            seen.body,
            r#"{"Job":"x","BodyParam":"connection_body_param"}"#
        );
        assert_eq!(seen.header("x-api-key"), Some("key-123"));
        let shown = trace.request.expect("the request");
        let url = shown["url"].as_str().unwrap();
        let body = shown["body"].as_str().unwrap();
        let headers = shown["headers"].as_str().unwrap();
        assert!(
            url.ends_with("/api/items?q=1&tenant=t1&page=9") == reveal,
            "{url}"
        );
        assert!(url.contains("q=1"), "{url}");
        assert_eq!(body.contains("connection_body_param"), reveal, "{body}");
        assert!(body.contains("\"Job\":\"x\""), "{body}");
        for secret in ["key-123", "x-team"] {
            assert_eq!(headers.contains(secret), reveal, "{headers}");
        }
    }
}
