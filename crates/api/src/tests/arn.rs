//! Unit tests of `arn.rs` (a child module of it: `super::*` is that file).

use super::*;

const P: &str = "arn:aws:states:us-east-1:123456789012";

fn ok(s: &str) -> Arn {
    let arn = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(arn.to_string(), s, "round trip");
    arn
}

#[test]
fn state_machines_versions_aliases() {
    let a = ok(&format!("{P}:stateMachine:my-machine"));
    assert_eq!(
        a.resource,
        Resource::StateMachine {
            name: "my-machine".into()
        }
    );
    assert_eq!(
        (a.partition(), a.region(), a.account()),
        ("aws", "us-east-1", "123456789012")
    );
    assert_eq!(a.resource_type(), ResourceType::StateMachine);

    let v = ok(&format!("{P}:stateMachine:m:12"));
    assert_eq!(v.version(), Some(12));
    assert_eq!(
        v.state_machine_arn().unwrap().to_string(),
        format!("{P}:stateMachine:m")
    );

    let al = ok(&format!("{P}:stateMachine:m:PROD"));
    assert_eq!(al.alias(), Some("PROD"));
    assert_eq!(al.version(), None);

    let label = ok(&format!("{P}:stateMachine:m/MapLabel"));
    assert_eq!(
        label.resource,
        Resource::MapStateMachine {
            name: "m".into(),
            label: "MapLabel".into()
        }
    );
}

#[test]
fn executions_express_activities_map_runs() {
    let e = ok(&format!("{P}:execution:m:run-1"));
    assert_eq!(e.execution_name(), Some("run-1"));
    assert_eq!(e.state_machine_name(), Some("m"));
    assert_eq!(
        e.state_machine_arn().unwrap().to_string(),
        format!("{P}:stateMachine:m")
    );

    let child = ok(&format!("{P}:execution:m/Map:0b5c-1"));
    assert_eq!(
        child.resource,
        Resource::Execution {
            state_machine: "m".into(),
            map_label: Some("Map".into()),
            name: "0b5c-1".into()
        }
    );

    let x = ok(&format!("{P}:express:m:e1:9f2e"));
    assert_eq!(x.resource_type(), ResourceType::Express);
    assert_eq!(x.execution_name(), Some("e1"));

    let act = ok(&format!("{P}:activity:worker"));
    assert_eq!(
        act.resource,
        Resource::Activity {
            name: "worker".into()
        }
    );
    assert_eq!(act.state_machine_arn(), None);

    // The corpus form: mapRun:MACHINE/LABEL:ID.
    let mr = ok(&format!("{P}:mapRun:m/Map:6f1d-33"));
    assert_eq!(
        mr.resource,
        Resource::MapRun {
            state_machine: "m".into(),
            label: "Map".into(),
            id: "6f1d-33".into()
        }
    );
}

#[test]
fn partitions() {
    ok("arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m");
    ok("arn:aws-us-gov:states:us-gov-west-1:123456789012:activity:a");
    assert_eq!(
        parse("arn:azure:states:us-east-1:123456789012:stateMachine:m"),
        Err(ArnError::Malformed(
            "arn:azure:states:us-east-1:123456789012:stateMachine:m".into()
        ))
    );
}

#[test]
fn recorded_messages() {
    assert_eq!(
        parse("not_a_valid_arn").unwrap_err().to_string(),
        "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"
    );
    assert_eq!(
        parse("arn%3Aaws%3Astates").unwrap_err().to_string(),
        "Invalid Arn: 'Invalid ARN prefix: arn%3Aaws%3Astates'"
    );
    let exec = format!("{P}:execution:m:e");
    assert_eq!(
        parse_for(&exec, &[ResourceType::StateMachine])
            .unwrap_err()
            .to_string(),
        "Invalid Arn: 'Resource type not valid in this context: execution'"
    );
    let express = format!("{P}:express:m:e:1");
    assert_eq!(
        parse_for(&express, &[ResourceType::Execution])
            .unwrap_err()
            .to_string(),
        "Invalid Arn: 'Resource type not valid in this context: express'"
    );
    assert_eq!(parse("x").unwrap_err().code(), "InvalidArn");
    assert!(parse_for(&exec, &[ResourceType::Execution, ResourceType::Express]).is_ok());
}

#[test]
fn guessed_messages() {
    for bad in [
        "arn:",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:states:us-east-1:1234:stateMachine:m",
        "arn:aws:states::123456789012:stateMachine:m",
        "arn:aws:states:us-east-1:123456789012:stateMachine:",
        "arn:aws:states:us-east-1:123456789012:stateMachine:m:1:2",
        "arn:aws:states:us-east-1:123456789012:execution:m",
        "arn:aws:states:us-east-1:123456789012:express:m:e",
        "arn:aws:states:us-east-1:123456789012:mapRun:m:1",
        "arn:aws:states:us-east-1:123456789012:activity:a b",
        "arn:aws:states:us-east-1:123456789012:stateMachine:m:99999999999999999999999",
        "arn:aws:states:us-east-1:123456789012:stateMachine:m:01",
    ] {
        assert_eq!(parse(bad), Err(ArnError::Malformed(bad.into())), "{bad}");
        assert_eq!(
            parse(bad).unwrap_err().to_string(),
            format!("Invalid Arn: '{bad}'")
        );
    }
    assert_eq!(
        parse(&format!("{P}:thing:x")).unwrap_err().to_string(),
        "Invalid Arn: 'Resource type not valid in this context: thing'"
    );
}

#[test]
fn names() {
    // Every name LocalStack's recording against AWS shows rejected.
    let mut bad: Vec<String> = " <>{}[]?*\"#%\\^|~`$&,;:/"
        .chars()
        .map(|c| format!("activity{c}name"))
        .collect();
    bad.extend([
        "\u{0}activity".to_string(),
        "activity\u{1f}".into(),
        "activity\u{7f}".into(),
        "a\u{85}".into(),
    ]);
    for name in &bad {
        assert_eq!(check_name(name), Err(format!("Invalid Name: '{name}'")));
    }
    assert_eq!(
        check_name("activity name"),
        Err("Invalid Name: 'activity name'".to_string())
    );
    assert_eq!(check_name(""), Err("Invalid Name: ''".to_string()));
    assert!(check_name(&"a".repeat(81)).is_err());
    for good in ["a", "my-machine_1.2", "名前", "a(b)!@=+'", &"é".repeat(80)] {
        assert_eq!(check_name(good), Ok(()), "{good}");
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
            let _ = check_name(&s);
        }

        #[test]
        fn arn_shaped_text_never_panics_and_round_trips(
            partition in prop::sample::select(vec!["aws", "aws-cn", "aws-us-gov", "x", ""]),
            kind in prop::sample::select(vec!["stateMachine", "execution", "express", "activity", "mapRun", "other", ""]),
            parts in prop::collection::vec("[a-zA-Z0-9/:_ -]{0,6}", 0..5),
        ) {
            let s = format!("arn:{partition}:states:us-east-1:123456789012:{kind}:{}", parts.join(":"));
            if let Ok(arn) = parse(&s) {
                prop_assert_eq!(arn.to_string(), s);
            }
        }
    }
}
