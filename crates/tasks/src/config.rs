//! `stepwise.toml`: what the names in Task states resolve to.
//!
//! ```toml
//! [functions.check-inventory]
//! command = ["python3", "fn/check_inventory.py"]
//!
//! [connections.payments]
//! AuthorizationType = "API_KEY"
//! [connections.payments.AuthParameters.ApiKeyAuthParameters]
//! ApiKeyName = "x-api-key"
//! ApiKeyValue = "${PAYMENTS_API_KEY}"
//!
//! [state_machines.transcode]
//! definition = "transcode.asl.json"
//!
//! [[webhooks]]
//! url = "https://hooks.example.com/stepwise"
//! headers = { Authorization = "Bearer ${HOOK_TOKEN}" }
//! ```
//!
//! Every table refuses keys it does not know, paths are relative to the file's folder,
//! and `${NAME}` in a string value is replaced by the environment variable `NAME` when
//! the file is loaded (a missing one is an error naming the key).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration that cannot be used, with the key or file it is about.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{path}: {key}: {message}")]
    Key {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// The file as loaded: functions, connections and state machines by name.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from (`None`: built in code).
    pub path: Option<PathBuf>,
    pub functions: BTreeMap<String, Function>,
    pub connections: BTreeMap<String, Connection>,
    pub state_machines: BTreeMap<String, StateMachine>,
    /// Where `serve` sends execution status-change events, in file order.
    pub webhooks: Vec<Webhook>,
}

/// A receiver of execution status-change events (`[[webhooks]]`, or `serve --webhook`).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// An `http://` or `https://` URL; each event is POSTed to it as JSON.
    pub url: String,
    /// Added to every request (after `Content-Type: application/json`).
    pub headers: Vec<(String, String)>,
    /// How long one delivery may take before it counts as failed.
    pub timeout: Duration,
    /// The longest wait between two attempts at one event (the back-off's cap).
    pub max_backoff: Duration,
}

/// A webhook's default `timeout`.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// A webhook's default `max_backoff`: retries of one event are at most 5 minutes apart.
pub const WEBHOOK_MAX_BACKOFF: Duration = Duration::from_secs(300);

impl Webhook {
    /// A webhook at `url` with the defaults (`serve --webhook URL`); the error says
    /// what is wrong with the URL.
    pub fn at(url: &str) -> Result<Webhook, String> {
        check_webhook_url(url)?;
        Ok(Webhook {
            url: url.to_string(),
            headers: Vec::new(),
            timeout: WEBHOOK_TIMEOUT,
            max_backoff: WEBHOOK_MAX_BACKOFF,
        })
    }
}

/// An absolute `http://` or `https://` URL with a host.
fn check_webhook_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http") | Some("https"), Some(h)) if !h.is_empty() => Ok(()),
        _ => Err(format!("'{url}' is not an http:// or https:// URL")),
    }
}

/// A Lambda function served locally.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub backend: Backend,
    /// The folder the process starts in.
    pub cwd: PathBuf,
    /// As a Lambda function's timeout (AWS's default: 3 seconds).
    pub timeout: Duration,
    /// At most this many invocations at once (processes for `command` and `bootstrap`).
    pub concurrency: usize,
    /// Added to the process's environment (Lambda's `Environment.Variables`).
    pub environment: BTreeMap<String, String>,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB), as a handler reads it.
    pub memory_size: u32,
}

/// How a function is invoked.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// One process per invocation: the event on stdin, the result on stdout.
    Command(Vec<String>),
    /// A process speaking the Lambda Runtime API, kept warm.
    Bootstrap(Vec<String>),
    /// The Lambda Invoke API at this base URL, under this function name.
    Endpoint { url: String, function_name: String },
}

impl Backend {
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Command(_) => "command",
            Backend::Bootstrap(_) => "bootstrap",
            Backend::Endpoint { .. } => "endpoint",
        }
    }
}

/// An EventBridge connection: how HTTP Tasks naming it authenticate.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    #[serde(rename = "AuthorizationType")]
    pub authorization_type: AuthorizationType,
    #[serde(rename = "AuthParameters")]
    pub auth_parameters: AuthParameters,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthorizationType {
    #[serde(rename = "API_KEY")]
    ApiKey,
    #[serde(rename = "BASIC")]
    Basic,
    #[serde(rename = "OAUTH_CLIENT_CREDENTIALS")]
    OAuthClientCredentials,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthParameters {
    #[serde(rename = "ApiKeyAuthParameters")]
    pub api_key: Option<ApiKeyAuth>,
    #[serde(rename = "BasicAuthParameters")]
    pub basic: Option<BasicAuth>,
    #[serde(rename = "OAuthParameters")]
    pub oauth: Option<OAuth>,
    #[serde(rename = "InvocationHttpParameters", default)]
    pub invocation: InvocationHttpParameters,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuth {
    #[serde(rename = "ApiKeyName")]
    pub name: String,
    #[serde(rename = "ApiKeyValue")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(rename = "Username")]
    pub username: String,
    #[serde(rename = "Password")]
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth {
    #[serde(rename = "AuthorizationEndpoint")]
    pub authorization_endpoint: String,
    #[serde(rename = "HttpMethod")]
    pub http_method: String,
    #[serde(rename = "ClientParameters")]
    pub client: OAuthClient,
    #[serde(rename = "OAuthHttpParameters", default)]
    pub http_parameters: InvocationHttpParameters,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    #[serde(rename = "ClientID")]
    pub client_id: String,
    #[serde(rename = "ClientSecret")]
    pub client_secret: String,
}

/// Headers, query parameters and body fields a connection adds to every request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvocationHttpParameters {
    #[serde(rename = "HeaderParameters", default)]
    pub headers: Vec<Parameter>,
    #[serde(rename = "QueryStringParameters", default)]
    pub query: Vec<Parameter>,
    #[serde(rename = "BodyParameters", default)]
    pub body: Vec<Parameter>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
    #[serde(rename = "IsValueSecret", default)]
    pub is_value_secret: bool,
}

/// A state machine `stepwise run` knows by name (for nested executions).
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    pub name: String,
    pub definition: PathBuf,
}

// The file as written.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    functions: BTreeMap<String, RawFunction>,
    #[serde(default)]
    connections: BTreeMap<String, Connection>,
    #[serde(default)]
    state_machines: BTreeMap<String, RawStateMachine>,
    #[serde(default)]
    webhooks: Vec<RawWebhook>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// Seconds.
    timeout: Option<f64>,
    /// Seconds.
    max_backoff: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    command: Option<Vec<String>>,
    bootstrap: Option<Vec<String>>,
    endpoint: Option<String>,
    /// The function's name at the endpoint (default: the table's name).
    function_name: Option<String>,
    cwd: Option<PathBuf>,
    timeout: Option<f64>,
    concurrency: Option<i64>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    memory_size: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStateMachine {
    definition: PathBuf,
}

/// Lambda's default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Lambda's longest timeout (15 minutes).
pub const MAX_TIMEOUT_SECONDS: f64 = 900.0;
pub const DEFAULT_CONCURRENCY: usize = 4;
pub const MAX_CONCURRENCY: i64 = 1000;

impl Config {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        // `stepwise.toml` alone has an empty parent: the current folder.
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Config::parse(&text, path, &base, &|k| std::env::var(k).ok())
    }

    /// Check `text` as the file `path`, with relative paths under `base` and `${NAME}`
    /// looked up with `env`.
    pub fn parse(
        text: &str,
        path: &Path,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let key_error = |key: String, message: String| ConfigError::Key {
            path: path.to_path_buf(),
            key,
            message,
        };
        let mut value: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Toml {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        expand_env(&mut value, &mut String::new(), env).map_err(|(k, m)| key_error(k, m))?;
        let raw: RawFile = value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Toml {
                path: path.to_path_buf(),
                message: e.to_string().trim_end().to_string(),
            })?;
        let mut config = Config {
            path: Some(path.to_path_buf()),
            ..Config::default()
        };
        for (name, f) in raw.functions {
            let key = format!("functions.{name}");
            check_function_name(&name).map_err(|m| key_error(key.clone(), m))?;
            let backend = match (f.command, f.bootstrap, f.endpoint) {
                (Some(c), None, None) => Backend::Command(
                    non_empty(c).map_err(|m| key_error(format!("{key}.command"), m))?,
                ),
                (None, Some(b), None) => Backend::Bootstrap(
                    non_empty(b).map_err(|m| key_error(format!("{key}.bootstrap"), m))?,
                ),
                (None, None, Some(url)) => {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(key_error(
                            format!("{key}.endpoint"),
                            format!("'{url}' is not an http:// or https:// URL"),
                        ));
                    }
                    Backend::Endpoint {
                        url: url.trim_end_matches('/').to_string(),
                        function_name: f.function_name.clone().unwrap_or_else(|| name.clone()),
                    }
                }
                (None, None, None) => {
                    return Err(key_error(
                        key,
                        "give one of command, bootstrap or endpoint".into(),
                    ))
                }
                _ => {
                    return Err(key_error(
                        key,
                        "give only one of command, bootstrap or endpoint".into(),
                    ))
                }
            };
            let cwd = match f.cwd {
                None => base.to_path_buf(),
                Some(c) => {
                    let c = base.join(c);
                    if !c.is_dir() {
                        return Err(key_error(
                            format!("{key}.cwd"),
                            format!("{} is not a folder", c.display()),
                        ));
                    }
                    c
                }
            };
            if let Backend::Command(argv) | Backend::Bootstrap(argv) = &backend {
                let field = if matches!(backend, Backend::Command(_)) {
                    "command"
                } else {
                    "bootstrap"
                };
                if !program_exists(&argv[0], &cwd) {
                    return Err(key_error(
                        format!("{key}.{field}"),
                        format!(
                            "the program '{}' is not a file under {} nor on PATH",
                            argv[0],
                            cwd.display()
                        ),
                    ));
                }
            }
            if f.function_name.is_some() && !matches!(backend, Backend::Endpoint { .. }) {
                return Err(key_error(
                    format!("{key}.function_name"),
                    "only an endpoint function has a remote name".into(),
                ));
            }
            let timeout = match f.timeout {
                None => DEFAULT_TIMEOUT,
                Some(t) if t > 0.0 && t <= MAX_TIMEOUT_SECONDS => Duration::from_secs_f64(t),
                Some(t) => {
                    return Err(key_error(
                        format!("{key}.timeout"),
                        format!("{t} is not a number of seconds from 1 to 900 (Lambda's limits)"),
                    ))
                }
            };
            let concurrency = match f.concurrency {
                None => DEFAULT_CONCURRENCY,
                Some(n) if (1..=MAX_CONCURRENCY).contains(&n) => n as usize,
                Some(n) => {
                    return Err(key_error(
                        format!("{key}.concurrency"),
                        format!("{n} is not from 1 to {MAX_CONCURRENCY}"),
                    ))
                }
            };
            config.functions.insert(
                name.clone(),
                Function {
                    name,
                    backend,
                    cwd,
                    timeout,
                    concurrency,
                    environment: f.environment,
                    memory_size: f.memory_size.unwrap_or(128),
                },
            );
        }
        for (name, c) in raw.connections {
            check_connection(&c)
                .map_err(|(k, m)| key_error(format!("connections.{name}{k}"), m))?;
            config.connections.insert(name, c);
        }
        for (name, m) in raw.state_machines {
            let definition = base.join(&m.definition);
            if !definition.is_file() {
                return Err(key_error(
                    format!("state_machines.{name}.definition"),
                    format!("{} is not a file", definition.display()),
                ));
            }
            config
                .state_machines
                .insert(name.clone(), StateMachine { name, definition });
        }
        for (n, w) in raw.webhooks.into_iter().enumerate() {
            let key = format!("webhooks[{n}]");
            let mut hook = Webhook::at(&w.url).map_err(|m| key_error(format!("{key}.url"), m))?;
            for (name, value) in w.headers {
                if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(key_error(
                        format!("{key}.headers"),
                        format!("'{name}' is not a header name"),
                    ));
                }
                if http::HeaderValue::from_str(&value).is_err() {
                    return Err(key_error(
                        format!("{key}.headers.{name}"),
                        "is not a valid header value".into(),
                    ));
                }
                hook.headers.push((name, value));
            }
            let seconds = |v: Option<f64>, field: &str, max: f64, default: Duration| match v {
                None => Ok(default),
                Some(t) if t > 0.0 && t <= max => Ok(Duration::from_secs_f64(t)),
                Some(t) => Err(key_error(
                    format!("{key}.{field}"),
                    format!("{t} is not a number of seconds above 0 and at most {max}"),
                )),
            };
            hook.timeout = seconds(w.timeout, "timeout", 300.0, WEBHOOK_TIMEOUT)?;
            hook.max_backoff =
                seconds(w.max_backoff, "max_backoff", 86_400.0, WEBHOOK_MAX_BACKOFF)?;
            config.webhooks.push(hook);
        }
        Ok(config)
    }

    /// The function a Task's `FunctionName` (a name, an ARN or a partial ARN, with or
    /// without a version or alias) names.
    pub fn function(&self, function_name: &str) -> Option<&Function> {
        self.functions.get(function_name_of(function_name))
    }
}

/// `NAME` out of `NAME`, `NAME:QUALIFIER`, `ACCOUNT:function:NAME[:QUALIFIER]` or
/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
pub fn function_name_of(s: &str) -> &str {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.iter().position(|p| *p == "function") {
        Some(i) if i + 1 < parts.len() => parts[i + 1],
        _ => parts[0],
    }
}

/// Whether `program` would start: a path (with a `/`) to a file under `cwd`, or a name
/// found on `PATH`.
fn program_exists(program: &str, cwd: &Path) -> bool {
    if program.contains('/') {
        return cwd.join(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Lambda's function names: letters, digits, hyphens and underscores, 1 to 64.
fn check_function_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("a function name has 1 to 64 letters, digits, hyphens or underscores".into());
    }
    Ok(())
}

fn non_empty(argv: Vec<String>) -> Result<Vec<String>, String> {
    if argv.first().is_none_or(|p| p.is_empty()) {
        return Err(
            "give the program and its arguments, e.g. [\"python3\", \"handler.py\"]".into(),
        );
    }
    Ok(argv)
}

/// The parameters each authorization type needs are there (as CreateConnection checks).
fn check_connection(c: &Connection) -> Result<(), (String, String)> {
    let p = &c.auth_parameters;
    let (needed, given) = match c.authorization_type {
        AuthorizationType::ApiKey => ("ApiKeyAuthParameters", p.api_key.is_some()),
        AuthorizationType::Basic => ("BasicAuthParameters", p.basic.is_some()),
        AuthorizationType::OAuthClientCredentials => ("OAuthParameters", p.oauth.is_some()),
    };
    if !given {
        return Err((
            format!(".AuthParameters.{needed}"),
            "required by this AuthorizationType".into(),
        ));
    }
    let others = [
        ("ApiKeyAuthParameters", p.api_key.is_some()),
        ("BasicAuthParameters", p.basic.is_some()),
        ("OAuthParameters", p.oauth.is_some()),
    ];
    if let Some((other, _)) = others.iter().find(|(n, g)| *g && *n != needed) {
        return Err((
            format!(".AuthParameters.{other}"),
            "does not go with this AuthorizationType".into(),
        ));
    }
    if let Some(o) = &p.oauth {
        let m = o.http_method.to_ascii_uppercase();
        if !matches!(m.as_str(), "GET" | "POST" | "PUT") {
            return Err((
                ".AuthParameters.OAuthParameters.HttpMethod".into(),
                format!("'{}' is not GET, POST or PUT", o.http_method),
            ));
        }
        if !(o.authorization_endpoint.starts_with("http://")
            || o.authorization_endpoint.starts_with("https://"))
        {
            return Err((
                ".AuthParameters.OAuthParameters.AuthorizationEndpoint".into(),
                "is not an http:// or https:// URL".into(),
            ));
        }
    }
    Ok(())
}

/// Replace `${NAME}` in every string with the variable's value; `$${` stays `${`.
fn expand_env(
    v: &mut toml::Value,
    key: &mut String,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (String, String)> {
    match v {
        toml::Value::String(s) if s.contains("${") => {
            *s = expand(s, env).map_err(|m| (key.clone(), m))?;
        }
        toml::Value::Array(a) => {
            for (i, item) in a.iter_mut().enumerate() {
                let len = key.len();
                key.push_str(&format!("[{i}]"));
                expand_env(item, key, env)?;
                key.truncate(len);
            }
        }
        toml::Value::Table(t) => {
            for (k, item) in t.iter_mut() {
                let len = key.len();
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
                expand_env(item, key, env)?;
                key.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

fn expand(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                return Err("'${' without a closing '}'".into());
            };
            let name = &tail[..end];
            let value =
                env(name).ok_or_else(|| format!("the environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
