//! `endpoint` functions: the Lambda Invoke REST API (`POST
//! /2015-03-31/functions/{name}/invocations`) of `sam local start-lambda`, the Lambda
//! Runtime Interface Emulator, or AWS itself — signed with SigV4 when AWS credentials
//! are found (environment, then the shared credentials file), as the AWS SDKs would.

use super::{Invoked, MAX_PAYLOAD};
use crate::http_client::{self, SendError};
use crate::TaskError;
use bytes::Bytes;
use http_body_util::Full;
use std::time::{Duration, SystemTime};

/// Beyond the function's own timeout, how long the Invoke call may take (a cold start,
/// the network).
const GRACE: Duration = Duration::from_secs(10);

pub(crate) struct Client {
    url: String,
    function_name: String,
    region: String,
    http: http_client::Client,
}

impl Client {
    pub(crate) fn new(url: &str, function_name: &str, region: &str) -> Client {
        // `https://lambda.eu-west-1.amazonaws.com` signs for eu-west-1.
        let region = url
            .split("://")
            .nth(1)
            .and_then(|h| h.strip_prefix("lambda."))
            .and_then(|h| h.split('.').next())
            .filter(|r| url.contains(".amazonaws.com") && !r.is_empty())
            .unwrap_or(region);
        Client {
            url: url.to_string(),
            function_name: function_name.to_string(),
            region: region.to_string(),
            http: http_client::Client::new(),
        }
    }

    pub(crate) async fn invoke(
        &self,
        payload: &[u8],
        request_id: &str,
        timeout: Duration,
    ) -> Result<Invoked, TaskError> {
        let uri = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.url,
            percent_encoding::utf8_percent_encode(
                &self.function_name,
                percent_encoding::NON_ALPHANUMERIC
            )
        );
        let mut req = http::Request::post(&uri)
            .header("content-type", "application/json")
            .header("x-amz-invocation-type", "RequestResponse")
            .body(Full::new(Bytes::copy_from_slice(payload)))
            .map_err(|e| sdk_error(&format!("bad request to {uri}: {e}")))?;
        if let Some(creds) = credentials() {
            sign(&mut req, payload, &creds, &self.region).map_err(|e| sdk_error(&e))?;
        }
        let res = match self.http.send(req, timeout + GRACE, MAX_PAYLOAD).await {
            Ok(r) => r,
            Err(SendError::TimedOut(d)) => {
                return Err(TaskError::new(
                    "Lambda.ClientExecutionTimeoutException",
                    format!(
                        "Client execution did not complete before the specified timeout configuration: {} (function '{}' at {})",
                        http_client::seconds(d),
                        self.function_name,
                        self.url
                    ),
                ))
            }
            Err(SendError::BodyTooLarge { .. }) => {
                return Ok(Invoked::function_error(
                    "Function.ResponseSizeTooLarge",
                    &format!("Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."),
                    request_id,
                ))
            }
            Err(e) => {
                return Err(sdk_error(&format!(
                    "Unable to execute HTTP request to {}: {e}",
                    self.url
                )))
            }
        };
        let header = |n: &str| {
            res.header(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let rid = header("x-amzn-requestid").unwrap_or_else(|| request_id.to_string());
        let status = res.status.as_u16();
        if status == 200 {
            let payload = res.body.to_vec();
            return Ok(if header("x-amz-function-error").is_some() {
                Invoked::FunctionError {
                    payload,
                    request_id: rid,
                }
            } else {
                Invoked::Returned {
                    payload,
                    request_id: rid,
                }
            });
        }
        // An error of the Lambda service: its type from the header or the body.
        let body: serde_json::Value = serde_json::from_slice(&res.body).unwrap_or_default();
        let code = header("x-amzn-errortype")
            .map(|t| t.split(':').next().unwrap_or_default().to_string())
            .or_else(|| {
                body.get("Type")
                    .or_else(|| body.get("__type"))
                    .and_then(|v| v.as_str())
                    .filter(|t| *t != "User")
                    .map(str::to_string)
            })
            .unwrap_or_else(|| match status {
                404 => "ResourceNotFoundException".into(),
                429 => "TooManyRequestsException".into(),
                _ => "AWSLambdaException".into(),
            });
        let message = body
            .get("Message")
            .or_else(|| body.get("message"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&res.body).trim().to_string());
        Err(TaskError::new(
            format!("Lambda.{code}"),
            format!(
                "{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; Request ID: {rid}; Proxy: null)"
            ),
        ))
    }
}

fn sdk_error(message: &str) -> TaskError {
    TaskError::new("Lambda.SdkClientException", message)
}

/// AWS credentials, as the SDKs find them first: the environment, then the profile
/// (`AWS_PROFILE`, else `default`) of the shared credentials file.
struct Creds {
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
}

fn credentials() -> Option<Creds> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(a), Some(s)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Some(Creds {
            access_key: a,
            secret_key: s,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(std::path::PathBuf::from)
        .or_else(|| env("HOME").map(|h| std::path::Path::new(&h).join(".aws/credentials")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    profile_keys(&text, &profile)
}

/// The keys of `[profile]` in an INI credentials file.
fn profile_keys(text: &str, profile: &str) -> Option<Creds> {
    let (mut access, mut secret, mut token) = (None, None, None);
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == profile;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().to_string();
            match k.trim() {
                "aws_access_key_id" => access = Some(v),
                "aws_secret_access_key" => secret = Some(v),
                "aws_session_token" => token = Some(v),
                _ => {}
            }
        }
    }
    Some(Creds {
        access_key: access?,
        secret_key: secret?,
        session_token: token,
    })
}

fn sign(
    req: &mut http::Request<Full<Bytes>>,
    body: &[u8],
    creds: &Creds,
    region: &str,
) -> Result<(), String> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let identity = aws_credential_types::Credentials::new(
        &creds.access_key,
        &creds.secret_key,
        creds.session_token.clone(),
        None,
        "stepwise",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing: {e}"))?
        .into();
    let uri = req.uri().to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let signable = SignableRequest::new(
        req.method().as_str(),
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("signing: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("signing: {e}"))?
        .into_parts();
    instructions.apply_to_request_http1x(req);
    Ok(())
}

#[cfg(test)]
#[path = "../tests/endpoint.rs"]
mod tests;
