use super::*;

#[test]
fn http_dates() {
    let t = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    assert_eq!(httpdate(t), "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_eq!(
        httpdate(time::OffsetDateTime::UNIX_EPOCH),
        "Thu, 01 Jan 1970 00:00:00 GMT"
    );
}

#[test]
fn function_errors_name_their_type() {
    let raw = br#"{"errorType": "CardDeclined", "errorMessage": "no"}"#;
    let e = function_failure(raw, true);
    assert_eq!(e.error, "CardDeclined");
    assert_eq!(
        e.cause,
        r#"{"errorType":"CardDeclined","errorMessage":"no"}"#
    );
    assert_eq!(
        function_failure(raw, false).cause,
        String::from_utf8_lossy(raw)
    );
    let e = function_failure(b"oops", true);
    assert_eq!(e.error, "Lambda.Unknown");
    assert!(e.cause.ends_with("Returned payload: oops"));
}

#[test]
fn invoke_results_have_aws_metadata() {
    let r = invoke_result(200, b"{\"a\":1}", "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab");
    assert_eq!(r["Payload"], json!({"a": 1}));
    assert_eq!(r["StatusCode"], json!(200));
    let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ExecutedVersion",
            "Payload",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StatusCode"
        ]
    );
    let h = &r["SdkHttpMetadata"];
    assert_eq!(h["AllHttpHeaders"]["Content-Length"], json!(["7"]));
    assert_eq!(h["HttpHeaders"]["Content-Length"], json!("7"));
    let sorted: Vec<&String> = h["HttpHeaders"].as_object().unwrap().keys().collect();
    assert_eq!(sorted[0], "Connection");
    assert_eq!(sorted[sorted.len() - 1], "X-Amzn-Trace-Id");
    let e = invoke_result(202, b"", "id");
    assert_eq!(e["Payload"], json!(""));
    assert!(e.get("ExecutedVersion").is_none());
}

#[test]
fn payloads_parse_when_json() {
    assert_eq!(payload_value(b"{\"a\":1}"), json!({"a": 1}));
    assert_eq!(payload_value(b"hello"), json!("hello"));
}
