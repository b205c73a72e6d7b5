use super::*;

#[test]
fn profiles_are_read_from_the_credentials_file() {
    let text = "[default]\naws_access_key_id = A\naws_secret_access_key = S\n[other]\naws_access_key_id=B\naws_secret_access_key=T\naws_session_token=X\n";
    let c = profile_keys(text, "other").unwrap();
    assert_eq!((c.access_key.as_str(), c.secret_key.as_str()), ("B", "T"));
    assert_eq!(c.session_token.as_deref(), Some("X"));
    assert_eq!(profile_keys(text, "default").unwrap().access_key, "A");
    assert!(profile_keys(text, "missing").is_none());
}

#[test]
fn the_region_of_an_aws_endpoint_is_signed_for() {
    let c = Client::new("https://lambda.eu-west-1.amazonaws.com", "f", "us-east-1");
    assert_eq!(c.region, "eu-west-1");
    let c = Client::new("http://127.0.0.1:3001", "f", "us-east-1");
    assert_eq!(c.region, "us-east-1");
}

#[test]
fn requests_are_signed() {
    let mut req = http::Request::post("http://127.0.0.1:3001/2015-03-31/functions/f/invocations")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let creds = Creds {
        access_key: "AKIDEXAMPLE".into(),
        secret_key: "secret".into(),
        session_token: None,
    };
    sign(&mut req, b"{}", &creds, "us-east-1").unwrap();
    let auth = req.headers()["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{auth}"
    );
    assert!(auth.contains("/us-east-1/lambda/aws4_request"));
    assert!(req.headers().contains_key("x-amz-date"));
}
