//! `parse` never panics: not on arbitrary text, not on arbitrary JSON, and not on JSON
//! shaped like a definition (random states with random, often plausible, fields).

use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const NAMES: [&str; 5] = ["A", "B", "C", "D", ""];

const FIELDS: &[&str] = &[
    "Type",
    "Next",
    "End",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultPath",
    "ResultSelector",
    "Result",
    "Assign",
    "Output",
    "Arguments",
    "Resource",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Retry",
    "Catch",
    "Choices",
    "Default",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "Error",
    "ErrorPath",
    "Cause",
    "CausePath",
    "Branches",
    "ItemProcessor",
    "Iterator",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "Label",
    "Variable",
    "StringEquals",
    "NumericLessThanPath",
    "And",
    "Or",
    "Not",
    "Condition",
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "JitterStrategy",
    "StartAt",
    "States",
    "ProcessorConfig",
    "Mode",
    "ExecutionType",
];

/// Values a field of a definition plausibly holds, plus some that are just wrong.
fn field_value(nested: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(
            &["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"][..]
        )
        .prop_map(Value::from),
        prop::sample::select(&NAMES[..]).prop_map(Value::from),
        prop::sample::select(
            &[
                "$",
                "$.a",
                "$.a[0].b",
                "$$.Execution.Id",
                "$x",
                "$.a[*]",
                "$.",
                "$[",
                "a.b",
                "States.Format('{}', $.a)",
                "States.Array(",
                "{% $states.input %}",
                "{% 1 + %}",
                "{% %}",
                "2016-03-14T01:59:00Z",
                "JSONata",
                "JSONPath",
                "DISTRIBUTED",
                "INLINE",
                "STANDARD",
                "FULL",
                "States.ALL",
                "arn:aws:states:::lambda:invoke",
            ][..]
        )
        .prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..200).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!({"a.$": "$.b", "c": 1})),
        Just(json!({"a": "{% $states.input %}"})),
        Just(json!([{"ErrorEquals": ["States.ALL"], "Next": "A"}])),
        Just(
            json!([{"Variable": "$.x", "NumericEquals": 1, "Next": "B"}, {"Condition": "{% true %}", "Next": "C"}])
        ),
        prop::collection::vec(nested.clone(), 0..3).prop_map(Value::Array),
        nested,
    ]
}

fn state_object(nested: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(FIELDS), field_value(nested)), 0..8).prop_map(
        |fields| {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert(k.to_string(), v);
            }
            Value::Object(m)
        },
    )
}

/// A `StartAt` + `States` block whose states may contain further blocks.
fn block() -> impl Strategy<Value = Value> {
    let leaf = Just(json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})).boxed();
    leaf.prop_recursive(3, 24, 4, |inner| {
        let states = prop::collection::vec(
            (
                prop::sample::select(&NAMES[..]),
                state_object(inner.clone()),
            ),
            0..5,
        );
        (
            prop::sample::select(&NAMES[..]),
            states,
            prop::option::of(prop::sample::select(&["JSONata", "JSONPath"][..])),
        )
            .prop_map(|(start, states, ql)| {
                let mut m = Map::new();
                for (n, s) in states {
                    m.insert(n.to_string(), s);
                }
                let mut b = json!({"StartAt": start, "States": m});
                if let Some(ql) = ql {
                    b["QueryLanguage"] = json!(ql);
                }
                b
            })
            .boxed()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text(s in ".{0,200}") {
        let _ = stepwise_asl::parse(&s);
    }

    #[test]
    fn json_like_text(s in r#"[{}\[\]":,a-zA-Z0-9 .$%]{0,120}"#) {
        let _ = stepwise_asl::parse(&s);
    }

    #[test]
    fn arbitrary_json(v in any_json()) {
        let _ = stepwise_asl::parse_value(&v);
        let _ = stepwise_asl::parse(&v.to_string());
    }

    #[test]
    fn definition_shaped(v in block()) {
        // Either a machine or diagnostics, never an empty error list.
        if let Err(d) = stepwise_asl::parse_value(&v) {
            prop_assert!(!d.is_empty());
        }
        let _ = stepwise_asl::parse(&v.to_string());
    }
}
