//! Unit tests of `validate.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn optimised_integrations_aws_does_not_have() {
    for bad in [
        "arn:aws:states:::dynamodb:query",
        "arn:aws:states:::sqs:receiveMessage",
        "arn:aws:states:::lambda:invokeAsync",
        "arn:aws:states:::states:describeExecution",
    ] {
        assert!(is_unknown_integration(bad), "{bad}");
    }
    for good in [
        "arn:aws:states:::dynamodb:putItem",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::ecs:runTask.sync",
        "arn:aws:states:::aws-sdk:dynamodb:query",
        // Services not listed here are taken as written.
        "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:states:us-east-1:123456789012:activity:a",
    ] {
        assert!(!is_unknown_integration(good), "{good}");
    }
}

#[test]
fn rfc3339() {
    for ok in [
        "2016-03-14T01:59:00Z",
        "2016-03-14T01:59:00.123Z",
        "2016-03-14T01:59:00+01:00",
        "2024-02-29T00:00:00-05:30",
        "2016-03-14t01:59:00z",
    ] {
        assert!(is_rfc3339(ok), "{ok}");
    }
    for bad in [
        "2016-13-05T21:29:29Z",
        "05-12-2016T21:29:29Z",
        "2016-12-05T25:29:29Z",
        "2016-12-05 21:29:29Z",
        "2016-12-05T21:29:29",
        "{% '2016-03-14T01:59:00Z' %}",
        "2023-02-29T00:00:00Z",
        "2016-03-14T01:59:00.Z",
        "2016-03-14T01:59:00+0100",
        "",
        "2016-03-14T01:59:00Zx",
        "２016-03-14T01:59:00Z",
    ] {
        assert!(!is_rfc3339(bad), "{bad}");
    }
}

#[test]
fn arns() {
    assert!(is_arn("arn:aws:states:::lambda:invoke"));
    assert!(is_arn("arn:aws:lambda:us-east-1:123456789012:function:f"));
    assert!(is_arn("arn:aws:states:us-east-1:123456789012:activity:a"));
    assert!(!is_arn("lambda:invoke"));
    assert!(!is_arn("arn:aws:states"));
    assert!(!is_arn("arn::states:::x"));
    assert!(!is_arn("arn:aws:states:::"));
    assert!(!is_arn("arn:<partition>:states:::dynamodb:query"));
    assert!(is_arn("arn:aws-us-gov:states:::dynamodb:query"));
}

#[test]
fn duplicate_keys_are_reported_with_their_object() {
    let (v, dups) = read_json(r#"{"States":{"A":1,"B":[{"x":1,"x":2}],"A":3}}"#).unwrap();
    assert_eq!(v["States"]["A"], 3);
    assert_eq!(
        dups,
        vec![
            ("/States/B/0".to_string(), "x".to_string()),
            ("/States".to_string(), "A".to_string())
        ]
    );
    assert!(read_json("{} x").is_err());
    assert!(read_json("[1,").is_err());
}

#[test]
fn aws_locations() {
    let at = |p: &str, code: &str| aws_location(&Diagnostic::new(p, code, "m"));
    assert_eq!(
        at("/States/C/Choices/0/Next", MISSING_TARGET),
        "/States/C/Choices[0]/Next"
    );
    assert_eq!(
        at("/States/T/Catch/0/Next", MISSING_TARGET),
        "/States/T/Catch[0]/Next"
    );
    assert_eq!(
        at("/States/P/Branches/1/States/0/Retry/2/ErrorEquals/0", "X"),
        "/States/P/Branches[1]/States/0/Retry[2]/ErrorEquals[0]"
    );
    assert_eq!(at("/States/Retry/Next", "X"), "/States/Retry/Next");
    assert_eq!(at("", "MISSING_END_STATE"), "null");
    assert_eq!(at("", "SCHEMA_VALIDATION_FAILED"), "/");
    assert_eq!(
        aws_message(&[Diagnostic::new("", "MISSING_END_STATE", "Workflow has no terminal state")]),
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"
    );
}

fn graph(edges: Vec<Vec<usize>>, terminal: Vec<bool>, start: Option<usize>) -> Vec<Diagnostic> {
    let g = BlockGraph {
        pointer: String::new(),
        names: (0..edges.len()).map(|i| format!("S{i}")).collect(),
        edges,
        terminal,
        start,
    };
    let mut d = Vec::new();
    check_block(&g, &mut d);
    d
}

#[test]
fn reachability_is_about_incoming_transitions() {
    // Unknown StartAt: S0 is named by nobody, S1 is S0's target (cfn-lint #4074).
    let d = graph(vec![vec![1], vec![]], vec![false, true], None);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].pointer, "/States/S0");
    // A loop with no terminal state: only MISSING_END_STATE, even with an orphan.
    let d = graph(vec![vec![1], vec![0], vec![0]], vec![false; 3], Some(0));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "MISSING_END_STATE");
    // The same loop plus an unreachable terminal state.
    let d = graph(
        vec![vec![1], vec![0], vec![]],
        vec![false, false, true],
        Some(0),
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "State \"S2\" is not reachable.");
}

#[test]
fn aws_message_format() {
    let d = [
        Diagnostic::new(
            "/States/pass1/Next",
            "MISSING_TRANSITION_TARGET",
            "Missing 'Next' target: pass3",
        ),
        Diagnostic::new(
            "/States/pass2",
            "MISSING_TRANSITION_TARGET",
            "State \"pass2\" is not reachable.",
        ),
    ];
    assert_eq!(
        aws_message(&d),
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"
    );
    assert_eq!(
        aws_message(&[Diagnostic::new("", "SCHEMA_VALIDATION_FAILED", "These fields are required: [States]")]),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"
    );
    let mixed = [
        Diagnostic::new(
            "/States/B",
            "MISSING_TRANSITION_TARGET",
            "State \"B\" is not reachable.",
        ),
        Diagnostic::new("/States/B/Type", "SCHEMA_VALIDATION_FAILED", "bad"),
    ];
    assert_eq!(
        aws_message(&mixed),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: bad at /States/B/Type'"
    );
}
