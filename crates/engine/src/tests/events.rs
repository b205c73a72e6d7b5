//! Unit tests of `events.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn backoff_doubles_to_the_cap_with_jitter() {
    let cap = Duration::from_secs(300);
    for attempt in 1..40 {
        let full = FIRST_BACKOFF
            .saturating_mul(1 << (attempt - 1).min(20))
            .min(cap);
        let d = backoff(attempt, cap);
        assert!(d >= full / 2 && d <= full, "{attempt}: {d:?} of {full:?}");
    }
    assert!(backoff(30, cap) >= Duration::from_secs(150));
    assert!(backoff(1, Duration::from_millis(10)) <= Duration::from_millis(10));
}

#[test]
fn time_is_whole_seconds() {
    assert_eq!(event_time(1_551_225_741_984), "2019-02-27T00:02:21Z");
}

#[test]
fn large_payloads_are_left_out_as_eventbridge_does() {
    let rec = ExecutionRecord {
        arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".into(),
        machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
        version_arn: None,
        alias_arn: None,
        name: "e".into(),
        machine_type: MachineType::Standard,
        status: "SUCCEEDED".into(),
        input: "{}".into(),
        output: Some(format!("\"{}\"", "x".repeat(200 * 1024))),
        error: None,
        cause: None,
        start_millis: 1,
        stop_millis: Some(2),
        redrive_count: 0,
        redrive_millis: None,
        definition: String::new(),
        test_case: None,
        trace_header: None,
        snapshot: None,
        history_len: 0,
        transitions: 0,
        map_run_arn: None,
    };
    let v = event_json(&rec, "us-east-1", "123456789012", "id", 2);
    assert_eq!(v["detail"]["inputDetails"]["included"], true);
    assert_eq!(v["detail"]["outputDetails"]["included"], true);
    let big = ExecutionRecord {
        input: format!("\"{}\"", "y".repeat(60 * 1024)),
        ..rec.clone()
    };
    let v = event_json(&big, "us-east-1", "123456789012", "id", 2);
    assert_eq!(v["detail"]["input"], Value::Null);
    assert_eq!(v["detail"]["inputDetails"]["included"], false);
    assert_eq!(v["detail"]["outputDetails"]["included"], true);
    let huge = ExecutionRecord {
        output: Some(format!("\"{}\"", "z".repeat(250 * 1024))),
        ..rec
    };
    let v = event_json(&huge, "us-east-1", "123456789012", "id", 2);
    assert_eq!(v["detail"]["output"], Value::Null);
    assert_eq!(v["detail"]["outputDetails"]["included"], false);
    assert_eq!(v["detail"]["inputDetails"]["included"], false);
}
