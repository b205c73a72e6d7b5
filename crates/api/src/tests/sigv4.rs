//! Unit tests of `sigv4.rs` (a child module of it: `super::*` is that file).

use super::*;
use axum::http::HeaderValue;

const BODY: &str = r#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:hello","input":"{}"}"#;
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2026-12-03T17:00:00Z, when botocore signed the request below.
const SIGNED_AT: i64 = 1_796_317_200;

/// Headers of a StartExecution request as botocore's SigV4Auth signed it.
fn botocore_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "AWSStepFunctions.StartExecution"),
        ("x-amz-date", "20261203T170000Z"),
        ("host", "localhost:8083"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/states/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=28a1de7e65b1c80c3c9694c34440ff546e9d830763dde747494737b0da1e9350"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    h
}

fn check(creds: &Credentials, headers: &HeaderMap, body: &str, now: i64) -> Result<(), String> {
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: body.as_bytes(),
    };
    verify(creds, "us-east-1", &req, now).map_err(|e| format!("{}: {}", e.code, e.message))
}

fn example() -> Credentials {
    Credentials::single("AKIDEXAMPLE", SECRET)
}

#[test]
fn accepts_what_botocore_signed() {
    assert_eq!(
        check(&example(), &botocore_headers(), BODY, SIGNED_AT),
        Ok(())
    );
    // Within the 15 minutes of skew either way.
    assert_eq!(
        check(&example(), &botocore_headers(), BODY, SIGNED_AT + 900),
        Ok(())
    );
    assert_eq!(
        check(&example(), &botocore_headers(), BODY, SIGNED_AT - 900),
        Ok(())
    );
}

#[test]
fn refuses_a_changed_body_header_or_secret() {
    let err = check(
        &example(),
        &botocore_headers(),
        &BODY.replace("hello", "hellx"),
        SIGNED_AT,
    )
    .unwrap_err();
    assert!(
        err.starts_with(
            "InvalidSignatureException: The request signature we calculated does not match"
        ),
        "{err}"
    );
    let mut h = botocore_headers();
    h.insert(
        "x-amz-target",
        HeaderValue::from_static("AWSStepFunctions.StopExecution"),
    );
    assert!(check(&example(), &h, BODY, SIGNED_AT)
        .unwrap_err()
        .starts_with("InvalidSignatureException"));
    let other = Credentials::single("AKIDEXAMPLE", "another-secret");
    assert!(check(&other, &botocore_headers(), BODY, SIGNED_AT)
        .unwrap_err()
        .starts_with("InvalidSignatureException"));
}

#[test]
fn unknown_keys_missing_and_incomplete_headers() {
    let other = Credentials::single("AKIDOTHER", SECRET);
    assert_eq!(
        check(&other, &botocore_headers(), BODY, SIGNED_AT).unwrap_err(),
        "UnrecognizedClientException: The security token included in the request is invalid."
    );
    let mut h = botocore_headers();
    h.remove("authorization");
    assert_eq!(
        check(&example(), &h, BODY, SIGNED_AT).unwrap_err(),
        "MissingAuthenticationTokenException: Missing Authentication Token"
    );
    h.insert(
        "authorization",
        HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/states/aws4_request",
        ),
    );
    let err = check(&example(), &h, BODY, SIGNED_AT).unwrap_err();
    assert!(err.starts_with("IncompleteSignatureException: Authorization header requires 'SignedHeaders' parameter. Authorization header requires 'Signature' parameter."), "{err}");
    let mut h = botocore_headers();
    h.remove("host");
    assert!(check(&example(), &h, BODY, SIGNED_AT)
        .unwrap_err()
        .contains("missing from the request"));
}

#[test]
fn clock_skew_and_scope() {
    assert_eq!(
        check(&example(), &botocore_headers(), BODY, SIGNED_AT + 901).unwrap_err(),
        "InvalidSignatureException: Signature expired: 20261203T170000Z is now earlier than 20261203T170001Z (20261203T171501Z - 15 min.)"
    );
    assert!(
        check(&example(), &botocore_headers(), BODY, SIGNED_AT - 901)
            .unwrap_err()
            .starts_with("InvalidSignatureException: Signature not yet current")
    );
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &botocore_headers(),
        body: BODY.as_bytes(),
    };
    let e = verify(&example(), "eu-west-1", &req, SIGNED_AT).unwrap_err();
    assert_eq!(
        e.message,
        "Credential should be scoped to a valid region, not 'us-east-1'."
    );
}

#[test]
fn amz_dates_round_trip() {
    assert_eq!(parse_amz_date("20261203T170000Z"), Some(SIGNED_AT));
    assert_eq!(format_amz_date(SIGNED_AT), "20261203T170000Z");
    assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
    for bad in [
        "",
        "20261203170000Z",
        "2026120xT170000Z",
        "20261303T170000Z",
        "20261203T250000Z",
    ] {
        assert_eq!(parse_amz_date(bad), None, "{bad}");
    }
}

#[test]
fn credentials_files() {
    let c = Credentials::parse_ini(
        "# local\n[default]\naws_access_key_id = AKIDA\naws_secret_access_key=sa\nregion = eu-west-1\n\n[ci]\naws_access_key_id=AKIDB\naws_secret_access_key = sb\naws_session_token = t\n",
    )
    .unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c.keys.get("AKIDB").map(String::as_str), Some("sb"));
    assert_eq!(
        Credentials::parse_ini("[a]\naws_access_key_id = X\n[b]\n").unwrap_err(),
        CredentialsError::Incomplete("a".into())
    );
    assert_eq!(
        Credentials::parse_ini("[a]\n").unwrap_err(),
        CredentialsError::Empty
    );
    assert!(matches!(
        Credentials::parse_ini("[a\n").unwrap_err(),
        CredentialsError::Line { line: 1, .. }
    ));
}

#[test]
fn host_and_every_amz_header_must_be_signed() {
    // A captured signature that leaves out X-Amz-Target could be replayed as any action.
    for (signed, named) in [
        (
            "content-type;x-amz-date;x-amz-target",
            "'Host' or ':authority'",
        ),
        ("content-type;host;x-amz-date", "'X-Amz-Target'"),
        ("content-type;host;x-amz-target", "'X-Amz-Date'"),
    ] {
        let mut h = botocore_headers();
        let auth = format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/states/aws4_request, SignedHeaders={signed}, Signature=28a1de7e65b1c80c3c9694c34440ff546e9d830763dde747494737b0da1e9350");
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        assert_eq!(
            check(&example(), &h, BODY, SIGNED_AT).unwrap_err(),
            format!("IncompleteSignatureException: {named} must be a 'SignedHeader' in the AWS Authorization.")
        );
    }
}

#[test]
fn the_console_checks_a_key_and_its_secret() {
    let c = Credentials::single("AKID", "s3cret");
    assert!(c.check_secret("AKID", "s3cret"));
    assert!(!c.check_secret("AKID", "s3cre"));
    assert!(!c.check_secret("AKID", ""));
    assert!(!c.check_secret("OTHER", "s3cret"));
    assert!(!c.check_secret("OTHER", ""));
    assert!(c.has_key("AKID") && !c.has_key("akid"));
}

#[test]
fn the_credential_scope_names_the_key_and_region_signed_or_not() {
    assert_eq!(
        credential_scope(&botocore_headers()),
        Some(("AKIDEXAMPLE".to_string(), "us-east-1".to_string()))
    );
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=111122223333/20261203/eu-west-1/states/aws4_request, SignedHeaders=host, Signature=00",
        ),
    );
    assert_eq!(
        credential_scope(&h),
        Some(("111122223333".to_string(), "eu-west-1".to_string()))
    );
    assert_eq!(credential_scope(&HeaderMap::new()), None);
    h.insert(
        "authorization",
        HeaderValue::from_static("Basic dXNlcjpwdw=="),
    );
    assert_eq!(credential_scope(&h), None);
    h.insert(
        "authorization",
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKID"),
    );
    assert_eq!(credential_scope(&h), None);
}

#[test]
fn region_names() {
    for ok in [
        "us-east-1",
        "eu-west-1",
        "us-gov-west-1",
        "ap-southeast-2",
        "eusc-de-east-1",
    ] {
        assert!(is_region_name(ok), "{ok}");
    }
    for bad in [
        "",
        "us-east",
        "US-EAST-1",
        "eu_west_1",
        "1-east-1",
        "a-1/../x",
        &"a-".repeat(20),
    ] {
        assert!(!is_region_name(bad), "{bad}");
    }
}
