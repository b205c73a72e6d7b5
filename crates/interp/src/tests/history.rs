//! Unit tests of `history.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn sixty_two_event_types() {
    assert_eq!(EventType::ALL.len(), 62);
}

#[test]
fn state_entered_shape() {
    let e = HistoryEvent {
        id: 2,
        previous_event_id: 0,
        timestamp_millis: 1_500,
        event_type: EventType::PassStateEntered,
        details: Details::StateEntered {
            name: Arc::from("A"),
            input: Arc::new(json!({"a": 1})),
        },
    };
    let j = e.to_aws_json(true);
    assert_eq!(j["type"], "PassStateEntered");
    assert_eq!(j["timestamp"], 1.5);
    assert_eq!(j["stateEnteredEventDetails"]["input"], "{\"a\":1}");
    assert_eq!(
        j["stateEnteredEventDetails"]["inputDetails"]["truncated"],
        false
    );
    let j = e.to_aws_json(false);
    assert!(j["stateEnteredEventDetails"].get("input").is_none());
}

#[test]
fn json_text_is_the_json_value_written() {
    let mut vars = Map::new();
    vars.insert("x".into(), json!({"q": "\"quoted\"\n"}));
    let all = [
        Details::None,
        Details::ExecutionStarted {
            input: Arc::new(json!({"a": [1, 2.5, "é"]})),
            role_arn: "r".into(),
        },
        Details::Output {
            output: Arc::new(json!(null)),
        },
        // Quotes, backslashes, control characters and non-ASCII inside a value: the
        // text is escaped twice (once as JSON, once as a JSON string).
        Details::Output {
            output: Arc::new(json!({"q\"k": "a\"b\\c\n\t\u{1f}\u{7f}é\u{2028}😀", "e": "\\\""})),
        },
        Details::Failure {
            error: Some("E".into()),
            cause: None,
        },
        Details::StateExited {
            name: Arc::from("S"),
            output: Arc::new(json!("o")),
            assigned_variables: Some(Box::new(vars)),
        },
        Details::MapStateStarted { length: 3 },
        Details::MapIteration {
            name: Arc::from("M"),
            index: 1,
        },
        Details::MapRunStarted {
            map_run_arn: "arn".into(),
        },
        Details::TaskScheduled(Box::new(TaskScheduledDetails {
            resource_type: "lambda".into(),
            resource: "invoke".into(),
            region: "us-east-1".into(),
            parameters: json!({"p": 1}),
            timeout_in_seconds: Some(5),
            heartbeat_in_seconds: None,
        })),
        Details::TaskStarted {
            resource_type: "t".into(),
            resource: "r".into(),
        },
        Details::TaskOutput(Box::new(TaskOutputDetails {
            resource_type: "t".into(),
            resource: "r".into(),
            output: json!([true]),
        })),
        Details::TaskFailure(Box::new(TaskFailureDetails {
            resource_type: "t".into(),
            resource: "r".into(),
            error: None,
            cause: Some("c\u{1}".into()),
        })),
        Details::ActivityScheduled(Box::new(ActivityScheduledDetails {
            resource: "a".into(),
            input: json!({}),
            timeout_in_seconds: None,
            heartbeat_in_seconds: Some(9),
        })),
        Details::ActivityStarted {
            worker_name: "w".into(),
        },
        Details::LambdaFunctionScheduled(Box::new(LambdaFunctionScheduledDetails {
            resource: "l".into(),
            input: json!(1),
            timeout_in_seconds: Some(1),
        })),
        Details::EvaluationFailed(Box::new(EvaluationFailedDetails {
            error: "E".into(),
            cause: "C".into(),
            location: Some("L".into()),
            state: "S".into(),
        })),
        Details::Redriven { redrive_count: 2 },
        Details::MapRunRedriven {
            map_run_arn: "m".into(),
            redrive_count: 1,
        },
    ];
    for (i, details) in all.into_iter().enumerate() {
        for &event_type in EventType::ALL {
            let e = HistoryEvent {
                id: i as u64 + 1,
                previous_event_id: i as u64,
                timestamp_millis: 1_700_000_000_123,
                event_type,
                details: details.clone(),
            };
            for data in [true, false] {
                assert_eq!(e.aws_json_text(data), e.to_aws_json(data).to_string());
            }
        }
    }
}

fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[\"\\\\\u{0}-\u{1f}\u{7f}a/é]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((any::<String>(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// The one-walk escaper writes exactly what serializing then escaping writes.
    #[test]
    fn escaped_json_is_the_string_of_the_text(v in any_json()) {
        let mut out = Vec::new();
        write_escaped_json(&mut out, &v);
        let want = Value::String(v.to_string()).to_string();
        proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), &want[1..want.len() - 1]);
    }
}

#[test]
fn events_without_details() {
    let e = HistoryEvent {
        id: 9,
        previous_event_id: 8,
        timestamp_millis: 0,
        event_type: EventType::MapStateSucceeded,
        details: Details::None,
    };
    let j = e.to_aws_json(true);
    assert_eq!(j.as_object().map(|m| m.len()), Some(4));
}

// test_activities::test_activity_task_no_worker_name: AWS shows empty details.
#[test]
fn activity_started_without_a_worker_name() {
    let event = |worker: &str| HistoryEvent {
        id: 4,
        previous_event_id: 3,
        timestamp_millis: 0,
        event_type: EventType::ActivityStarted,
        details: Details::ActivityStarted {
            worker_name: worker.into(),
        },
    };
    assert_eq!(
        event("").to_aws_json(true)["activityStartedEventDetails"],
        json!({})
    );
    assert_eq!(
        event("w").to_aws_json(true)["activityStartedEventDetails"],
        json!({"workerName": "w"})
    );
    let text: Value = serde_json::from_str(&event("").aws_json_text(true)).unwrap();
    assert_eq!(text["activityStartedEventDetails"], json!({}));
}
