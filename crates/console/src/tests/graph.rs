use super::*;
use serde_json::json;

fn names(d: &Drawing) -> Vec<String> {
    let mut v: Vec<String> = d
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::State { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_state_is_a_node_and_clusters_nest() {
    let def = json!({"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 3, "Next": "Fan"}], "Default": "Done"},
        "Fan": {"Type": "Parallel", "Next": "Items", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]},
        "Items": {"Type": "Map", "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": true}}}, "Next": "Done"},
        "Done": {"Type": "Succeed"}}});
    let d = layout(&def.to_string()).expect("drawn");
    assert_eq!(
        names(&d),
        ["A", "B", "Check", "Done", "Each", "Fan", "Items"]
    );
    // Fan and Items are boxes, Fan with a box per branch.
    assert_eq!(d.clusters.len(), 4);
    assert!(d.clusters.iter().any(|c| c.state.as_deref() == Some("Fan")));
    // A's node lies inside Fan's box.
    let fan = d
        .clusters
        .iter()
        .find(|c| c.state.as_deref() == Some("Fan"))
        .unwrap();
    let a = d
        .nodes
        .iter()
        .find(|n| matches!(&n.kind, NodeKind::State { name, .. } if name == "A"))
        .unwrap();
    assert!((a.x - fan.x).abs() < fan.width / 2.0 && (a.y - fan.y).abs() < fan.height / 2.0);
    // The Choice edge is labelled with its rule, the Catch edge dashed.
    let labels: Vec<&str> = d
        .edges
        .iter()
        .filter_map(|e| e.label.as_ref().map(|l| l.0.as_str()))
        .collect();
    assert!(labels.contains(&"$.n > 3"), "{labels:?}");
    assert!(labels.contains(&"Default"));
    assert!(d
        .edges
        .iter()
        .any(|e| e.catch && e.label.as_ref().is_some_and(|l| l.0 == "States.ALL")));
    assert!(d.edges.iter().all(|e| e.points.len() >= 2));
    assert!(d.width > 0.0 && d.height > 0.0);
}

#[test]
fn the_svg_escapes_names_and_carries_statuses() {
    let hostile = "<img src=x onerror=alert(1)>";
    let def = json!({"StartAt": hostile, "States": {hostile: {"Type": "Pass", "End": true}}});
    let d = layout(&def.to_string()).unwrap();
    let statuses = Statuses::from([(hostile.to_string(), "running")]);
    let svg = d.svg(&statuses, &|_| None, None).into_string();
    assert!(!svg.contains("<img"), "{svg}");
    assert!(svg.contains("data-status=\"running\""));
    assert!(svg.contains("data-state=\"&lt;img src=x onerror=alert(1)&gt;\""));
}

#[test]
fn loops_and_large_or_broken_definitions() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.again %}", "Next": "A"}], "Default": "C"},
        "C": {"Type": "Succeed"}}});
    let d = layout(&def.to_string()).unwrap();
    assert_eq!(names(&d), ["A", "B", "C"]);
    assert_eq!(layout("not json").unwrap_err(), NotDrawn::NotJson);
    let mut states = serde_json::Map::new();
    for i in 0..=MAX_STATES {
        states.insert(format!("S{i}"), json!({"Type": "Pass", "End": true}));
    }
    let big = json!({"StartAt": "S0", "States": states});
    assert!(matches!(
        layout(&big.to_string()),
        Err(NotDrawn::TooLarge(_))
    ));
}

#[test]
fn choice_rules_in_words() {
    assert_eq!(
        choice_label(&json!({"Variable": "$.a", "StringEquals": "x", "Next": "N"})),
        "$.a == \"x\""
    );
    assert_eq!(
        choice_label(&json!({"Variable": "$.a", "NumericLessThanPath": "$.b"})),
        "$.a < $.b"
    );
    assert_eq!(
        choice_label(&json!({"Variable": "$.a", "IsPresent": true})),
        "$.a IsPresent true"
    );
    assert_eq!(
        choice_label(
            &json!({"And": [{"Variable": "$.a", "BooleanEquals": true}, {"Not": {"Variable": "$.b", "IsNull": true}}]})
        ),
        "($.a == true and not $.b IsNull true)"
    );
}
