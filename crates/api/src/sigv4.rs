//! Optional AWS Signature Version 4 checks (`stepwise serve --sigv4-credentials FILE`):
//! a request must be signed by one of the configured access keys, for this region and the
//! `states` service, within 15 minutes of the server's clock, as AWS requires.
//!
//! Pure: the caller passes the request's parts and the current time.

use crate::error::ApiError;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "states";
/// AWS refuses signatures more than 15 minutes from its clock, either way.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// Access key id → secret access key.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    keys: HashMap<String, String>,
}

/// A credentials file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("profile [{0}] has aws_access_key_id without aws_secret_access_key, or the reverse")]
    Incomplete(String),
    #[error("no access keys (aws_access_key_id / aws_secret_access_key) in the file")]
    Empty,
}

impl Credentials {
    /// One key pair.
    pub fn single(access_key_id: &str, secret: &str) -> Credentials {
        let mut keys = HashMap::new();
        keys.insert(access_key_id.to_string(), secret.to_string());
        Credentials { keys }
    }

    /// Reads the AWS shared credentials format (`~/.aws/credentials`): `[profile]`
    /// sections with `aws_access_key_id` and `aws_secret_access_key`; every profile's key
    /// is accepted. Other keys (`aws_session_token`, `region`…) are ignored.
    pub fn parse_ini(text: &str) -> Result<Credentials, CredentialsError> {
        let mut keys = HashMap::new();
        let mut profile = String::new();
        let mut id: Option<String> = None;
        let mut secret: Option<String> = None;
        let mut close = |profile: &str,
                         id: &mut Option<String>,
                         secret: &mut Option<String>|
         -> Result<(), CredentialsError> {
            match (id.take(), secret.take()) {
                (Some(i), Some(s)) => {
                    keys.insert(i, s);
                    Ok(())
                }
                (None, None) => Ok(()),
                _ => Err(CredentialsError::Incomplete(profile.to_string())),
            }
        };
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(CredentialsError::Line {
                        line: n + 1,
                        message: "a section header must end with ]".into(),
                    });
                };
                close(&profile, &mut id, &mut secret)?;
                profile = name.trim().to_string();
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(CredentialsError::Line {
                    line: n + 1,
                    message: "expected key = value".into(),
                });
            };
            match k.trim() {
                "aws_access_key_id" => id = Some(v.trim().to_string()),
                "aws_secret_access_key" => secret = Some(v.trim().to_string()),
                _ => {}
            }
        }
        close(&profile, &mut id, &mut secret)?;
        if keys.is_empty() {
            return Err(CredentialsError::Empty);
        }
        Ok(Credentials { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `access_key_id` is one of the keys (the console's sessions name one).
    pub fn has_key(&self, access_key_id: &str) -> bool {
        self.keys.contains_key(access_key_id)
    }

    /// Whether `secret` is the secret access key of `access_key_id` (the console's
    /// sign-in). The secrets are compared in constant time, as SHA-256 digests, so
    /// neither their contents nor their lengths show in the time taken.
    pub fn check_secret(&self, access_key_id: &str, secret: &str) -> bool {
        let known = self.keys.get(access_key_id);
        let expected = Sha256::digest(known.map_or("", String::as_str).as_bytes());
        let given = Sha256::digest(secret.as_bytes());
        let diff = expected
            .iter()
            .zip(given.iter())
            .fold(0u8, |d, (a, b)| d | (a ^ b));
        known.is_some() & (std::hint::black_box(diff) == 0)
    }
}

/// The parts of a request a signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as sent (already URI-encoded by the client).
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The access key id and region of a request's SigV4 credential scope
/// (`Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, …`),
/// whether or not signatures are checked; `None` when the request names none.
pub fn credential_scope(headers: &HeaderMap) -> Option<(String, String)> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let params = auth.strip_prefix(ALGORITHM)?;
    let credential = params
        .split(',')
        .filter_map(|p| p.trim().strip_prefix("Credential="))
        .next()?;
    let mut parts = credential.split('/');
    let key_id = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    Some((key_id.to_string(), region.to_string()))
}

/// Whether `region` can be an AWS region's name (`eu-west-1`, `us-gov-west-1`): lowercase
/// letters, digits and dashes, a letter first and a digit last, at most 32 characters.
pub fn is_region_name(region: &str) -> bool {
    region.len() <= 32
        && region.contains('-')
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.ends_with(|c: char| c.is_ascii_digit())
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks a request's `Authorization` header. `now` is seconds since the Unix epoch.
pub fn verify(
    creds: &Credentials,
    region: &str,
    req: &SignedRequest<'_>,
    now: i64,
) -> Result<(), ApiError> {
    let Some(auth) = req.headers.get("authorization") else {
        return Err(missing_token());
    };
    let auth = auth
        .to_str()
        .map_err(|_| incomplete("Authorization header is not ASCII text."))?;
    let Some(params) = auth.strip_prefix(ALGORITHM) else {
        return Err(incomplete(&format!(
            "Authorization header requires the {ALGORITHM} algorithm. Authorization={auth}"
        )));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in params.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        let missing = [
            ("Credential", credential.is_none()),
            ("SignedHeaders", signed_headers.is_none()),
            ("Signature", signature.is_none()),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| format!("Authorization header requires '{n}' parameter."))
        .collect::<Vec<_>>()
        .join(" ");
        return Err(incomplete(&format!("{missing} Authorization={auth}")));
    };
    // AWS requires the host and every `x-amz-*` header sent to be signed: otherwise a
    // captured signature could be replayed against another action or endpoint.
    let listed: Vec<&str> = signed_headers.split(';').collect();
    if !listed.contains(&"host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if let Some(name) = req
        .headers
        .keys()
        .map(|k| k.as_str())
        .find(|k| k.starts_with("x-amz-") && !listed.contains(k))
    {
        return Err(incomplete(&format!(
            "'{}' must be a 'SignedHeader' in the AWS Authorization.",
            aws_header_name(name)
        )));
    }
    // Credential = AKID/yyyymmdd/region/service/aws4_request
    let scope_parts: Vec<&str> = credential.split('/').collect();
    let [key_id, date, scope_region, service, terminator] = scope_parts[..] else {
        return Err(incomplete(&format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    let Some(secret) = creds.keys.get(key_id) else {
        return Err(ApiError::coral(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };
    if terminator != "aws4_request" {
        return Err(invalid_signature(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if scope_region != region {
        return Err(invalid_signature(&format!(
            "Credential should be scoped to a valid region, not '{scope_region}'."
        )));
    }
    if service != SERVICE {
        return Err(invalid_signature(&format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    let amz_date = req
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            incomplete(&format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={auth}"
            ))
        })?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        incomplete(&format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })?;
    if !amz_date.starts_with(date) {
        return Err(invalid_signature(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{}', from '{amz_date}'.",
            &amz_date[..8]
        )));
    }
    if (now - signed_at).abs() > MAX_SKEW_SECONDS {
        let fmt = |t: i64| format_amz_date(t);
        return Err(invalid_signature(&if signed_at < now {
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
                fmt(now - MAX_SKEW_SECONDS),
                fmt(now)
            )
        } else {
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
                fmt(now + MAX_SKEW_SECONDS),
                fmt(now)
            )
        }));
    }
    let payload_hash = hex(&Sha256::digest(req.body));
    if let Some(claimed) = req
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        if claimed != "UNSIGNED-PAYLOAD" && claimed != payload_hash {
            return Err(invalid_signature(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
    }
    let canonical = canonical_request(req, signed_headers, &payload_hash).ok_or_else(|| {
        invalid_signature("A header named in SignedHeaders is missing from the request.")
    })?;
    let scope = format!("{date}/{scope_region}/{service}/{terminator}");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut mac = signing_key(secret, date, scope_region, service);
    mac.update(string_to_sign.as_bytes());
    let provided = unhex(signature).unwrap_or_default();
    mac.verify_slice(&provided).map_err(|_| {
        invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    })
}

/// The canonical request; `None` when a signed header is absent.
fn canonical_request(req: &SignedRequest<'_>, signed: &str, payload_hash: &str) -> Option<String> {
    let mut headers = String::new();
    for name in signed.split(';') {
        let values: Vec<String> = req
            .headers
            .get_all(name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() {
            return None;
        }
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    let path = if req.path.is_empty() { "/" } else { req.path };
    Some(format!(
        "{}\n{path}\n{}\n{headers}\n{signed}\n{payload_hash}",
        req.method,
        canonical_query(req.query)
    ))
}

/// Query parameters sorted by name, then value (clients send them encoded already).
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn collapse_spaces(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> HmacSha256 {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in [date, region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    HmacSha256::new_from_slice(&key).expect("HMAC takes a key of any length")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `yyyymmddThhmmssZ` → seconds since the epoch.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

fn format_amz_date(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `x-amz-target` as AWS writes it in messages: `X-Amz-Target`.
fn aws_header_name(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn missing_token() -> ApiError {
    ApiError::coral(
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
}

fn incomplete(message: &str) -> ApiError {
    ApiError::coral("IncompleteSignatureException", message)
}

fn invalid_signature(message: &str) -> ApiError {
    ApiError::coral("InvalidSignatureException", message)
}

#[cfg(test)]
#[path = "tests/sigv4.rs"]
mod tests;
