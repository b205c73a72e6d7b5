//! A Distributed Map's `ItemBatcher`: each child execution gets a batch of items
//! (`{"BatchInput": …, "Items": […]}`), the Map's result has one element per batch, and
//! the Map Run counts items and child executions apart. Shapes from AWS's recordings in
//! LocalStack's test_base_scenarios.snapshot.json
//! `test_map_item_batching_base_json_max_per_batch_jsonata` and
//! test_assign_reference_variables.snapshot.json
//! `test_reference_in_map_state_max_items_path[MAP_STATE_REFERENCE_IN_MAX_PER_BATCH_PATH]`
//! (both read their items with an S3 ItemReader; here they come from the input).

#[allow(dead_code)]
mod common;

use serde_json::{json, Value};
use stepwise_interp::run::VirtualClock;
use stepwise_interp::test_state::{test_state, InspectionLevel, TestStateMock, TestStateRequest};
use stepwise_interp::{ChildChange, Counts, Execution, ExecutionInfo, Machine, Status, Step};

fn run(def: Value, input: Value) -> (Execution, Step) {
    let sm = stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("invalid: {d:?}"));
    let mut clock = VirtualClock::new(1_000, 7);
    Execution::start(
        Machine::new(sm),
        ExecutionInfo::local("Parent", "e"),
        input,
        &mut clock,
    )
}

fn distributed(processor: Value, extra: Value) -> Value {
    common::distributed_map("Batches", processor, extra)
}

fn pass() -> Value {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})
}

/// The inputs of the child executions that started, in order.
fn child_inputs(step: &Step) -> Vec<Value> {
    step.children
        .iter()
        .filter_map(|c| match c {
            ChildChange::Started(c) => Some(Value::clone(&c.input)),
            _ => None,
        })
        .collect()
}

fn counts(pending: u64, running: u64, succeeded: u64, failed: u64, total: u64) -> Counts {
    Counts {
        pending,
        running,
        succeeded,
        failed,
        total,
        ..Counts::default()
    }
}

#[test]
fn items_selected_then_batched_with_batch_input() {
    let def = distributed(
        pass(),
        json!({"ItemsPath": "$.xs",
            "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "k.$": "$.key"},
            "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"key.$": "$.key", "name.$": "$$.Execution.Name"}}}),
    );
    let (ex, step) = run(def, json!({"key": "K", "xs": ["a", "b", "c", "d", "e"]}));
    assert_eq!(ex.status(), Status::Succeeded, "{:?}", ex.cause());
    let bi = json!({"key": "K", "name": "e"});
    let item = |i: usize, v: &str| json!({"v": v, "i": i, "k": "K"});
    let expected = vec![
        json!({"BatchInput": bi, "Items": [item(0, "a"), item(1, "b")]}),
        json!({"BatchInput": bi, "Items": [item(2, "c"), item(3, "d")]}),
        json!({"BatchInput": bi, "Items": [item(4, "e")]}),
    ];
    assert_eq!(child_inputs(&step), expected);
    // BatchInput comes first, as AWS writes it.
    assert!(serde_json::to_string(&expected[0])
        .unwrap()
        .starts_with(r#"{"BatchInput""#));
    assert_eq!(ex.output(), Some(&Value::Array(expected)));
    let r = &ex.map_runs()[0];
    assert_eq!(r.items, counts(0, 0, 5, 0, 5));
    assert_eq!(r.executions, Some(counts(0, 0, 3, 0, 3)));
    assert_eq!(r.batch_sizes, vec![2, 2, 1]);
    // MapStateStarted reports the items.
    let started = step
        .events
        .iter()
        .find(|e| e.event_type.as_str() == "MapStateStarted")
        .map(|e| e.to_aws_json(true));
    assert_eq!(started.unwrap()["mapStateStartedEventDetails"]["length"], 5);
}

// MAP_STATE_REFERENCE_IN_MAX_PER_BATCH_PATH: variables holding numeric text ("2",
// "15000") as MaxItemsPerBatchPath / MaxInputBytesPerBatchPath; four items, two batches
// of two, no BatchInput (the recorded output).
#[test]
fn limits_by_path_from_variables_holding_numeric_text() {
    let items = json!([
        {"verdict": "true", "statement_date": "6/11/2008", "statement_source": "speech"},
        {"verdict": "false", "statement_date": "6/7/2022", "statement_source": "television"},
        {"verdict": "mostly-true", "statement_date": "5/18/2016", "statement_source": "news"},
        {"verdict": "false", "statement_date": "5/18/2024", "statement_source": "x"}
    ]);
    let mut def = distributed(
        pass(),
        json!({"MaxConcurrency": 1, "ItemBatcher": {
            "MaxItemsPerBatchPath": "$maxItemsPerBatch",
            "MaxInputBytesPerBatchPath": "$maxBytesPerBatch"}}),
    );
    def["States"]["Start"] = json!({"Type": "Pass", "Next": "M",
        "Assign": {"maxItemsPerBatch": "2", "maxBytesPerBatch": "15000"}});
    def["StartAt"] = json!("Start");
    let (ex, _) = run(def, items.clone());
    assert_eq!(ex.status(), Status::Succeeded, "{:?}", ex.cause());
    let out = ex.output().unwrap().to_string();
    assert_eq!(
        out,
        r#"[{"Items":[{"verdict":"true","statement_date":"6/11/2008","statement_source":"speech"},{"verdict":"false","statement_date":"6/7/2022","statement_source":"television"}]},{"Items":[{"verdict":"mostly-true","statement_date":"5/18/2016","statement_source":"news"},{"verdict":"false","statement_date":"5/18/2024","statement_source":"x"}]}]"#
    );
}

// test_map_item_batching_base_json_max_per_batch_jsonata: JSONata limits and a JSONata
// BatchInput that reads the Context object.
#[test]
fn jsonata_limits_and_batch_input() {
    let mut def = distributed(
        pass(),
        json!({"Items": "{% $states.input.xs %}", "ItemBatcher": {
            "MaxItemsPerBatch": "{% $states.input.MaxItemsPerBatch %}",
            "MaxInputBytesPerBatch": "{% $states.input.MaxInputBytesPerBatch %}",
            "BatchInput": {"BatchTimestamp": "{% $states.context.State.EnteredTime %}"}}}),
    );
    def["QueryLanguage"] = json!("JSONata");
    let (ex, step) = run(
        def,
        json!({"xs": [1, 2, 3], "MaxItemsPerBatch": 2, "MaxInputBytesPerBatch": 150000}),
    );
    assert_eq!(ex.status(), Status::Succeeded, "{:?}", ex.cause());
    let inputs = child_inputs(&step);
    assert_eq!(inputs.len(), 2);
    let ts = inputs[0]["BatchInput"]["BatchTimestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z'), "{ts}");
    assert_eq!(inputs[0]["Items"], json!([1, 2]));
    assert_eq!(
        inputs[1],
        json!({"BatchInput": {"BatchTimestamp": ts}, "Items": [3]})
    );
}

#[test]
fn bytes_alone_fill_each_batch_and_items_alone_cap_it_at_256_kib() {
    let big = "x".repeat(100_000);
    let small =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "ok", "End": true}}});
    let def = distributed(small, json!({"ItemBatcher": {"MaxItemsPerBatch": 10}}));
    let (ex, step) = run(def, json!([big, big, big, big]));
    assert_eq!(ex.status(), Status::Succeeded, "{:?}", ex.cause());
    let sizes: Vec<usize> = child_inputs(&step)
        .iter()
        .map(|i| i["Items"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![2, 2]);
    let def = distributed(
        pass(),
        json!({"ItemBatcher": {"MaxInputBytesPerBatch": 30}}),
    );
    let (ex, step) = run(def, json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    assert_eq!(ex.status(), Status::Succeeded, "{:?}", ex.cause());
    // `{"Items":[1,2,…]}`: 12 bytes and two per item after the first.
    let sizes: Vec<usize> = child_inputs(&step)
        .iter()
        .map(|i| i["Items"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![9, 1]);
}

fn failure(batcher: Value, input: Value) -> (String, String) {
    let mut def = distributed(pass(), json!({"ItemsPath": "$.xs", "ItemBatcher": batcher}));
    if batcher.to_string().contains("{%") {
        def["QueryLanguage"] = json!("JSONata");
        def["States"]["M"]
            .as_object_mut()
            .unwrap()
            .remove("ItemsPath");
        def["States"]["M"]["Items"] = json!("{% $states.input.xs %}");
    }
    let (ex, step) = run(def, input);
    assert_eq!(ex.status(), Status::Failed);
    assert!(child_inputs(&step).is_empty());
    (
        ex.error().unwrap_or_default().to_string(),
        ex.cause().unwrap_or_default().to_string(),
    )
}

#[test]
fn bad_limits_fail_the_map_with_states_runtime() {
    let xs = json!({"xs": [1, 2], "n": 0, "t": "many", "big": 300000});
    let rt = |cause: &str| {
        (
            "States.Runtime".to_string(),
            format!(
                "An error occurred while executing the state 'M' (entered at the event id #2). {cause}"
            ),
        )
    };
    assert_eq!(
        failure(json!({"MaxItemsPerBatch": 0}), xs.clone()),
        rt("MaxItemsPerBatch must be greater than 0, but was: 0")
    );
    assert_eq!(
        failure(json!({"MaxItemsPerBatchPath": "$.n"}), xs.clone()),
        rt("MaxItemsPerBatch must be greater than 0, but was: 0")
    );
    assert_eq!(
        failure(json!({"MaxItemsPerBatchPath": "$.t"}), xs.clone()),
        rt(
            r#"The MaxItemsPerBatchPath field refers to value "many" which is not a valid integer: $.t"#
        )
    );
    assert_eq!(
        failure(json!({"MaxInputBytesPerBatchPath": "$.big"}), xs.clone()),
        rt("MaxInputBytesPerBatch must be between 1 and 262144, but was: 300000")
    );
    assert_eq!(
        failure(json!({"MaxInputBytesPerBatch": 262145}), xs.clone()),
        rt("MaxInputBytesPerBatch must be between 1 and 262144, but was: 262145")
    );
    assert_eq!(
        failure(json!({"MaxItemsPerBatch": "2"}), xs.clone()),
        rt(r#"The MaxItemsPerBatch field must be a positive integer, but was: "2""#)
    );
    let (error, cause) = failure(json!({"MaxInputBytesPerBatch": 10}), xs.clone());
    assert_eq!(error, "States.Runtime");
    assert!(
        cause.contains(". The item at index 0 is too large for a batch"),
        "{cause}"
    );
    let (error, _) = failure(
        json!({"MaxItemsPerBatch": "{% $states.input.t %}"}),
        xs.clone(),
    );
    assert_eq!(error, "States.QueryEvaluationError");
    let (error, cause) = failure(json!({"MaxItemsPerBatch": "{% -1 %}"}), xs);
    assert_eq!(error, "States.Runtime");
    assert!(
        cause.ends_with("MaxItemsPerBatch must be greater than 0, but was: -1"),
        "{cause}"
    );
}

/// A child fails when its batch starts with 1: the batch [1, 2] of [1..6] in threes of
/// two; AWS counts tolerated failures in items (2 of 6).
fn tolerance(extra: Value) -> Execution {
    let processor = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.Items[0]", "NumericEquals": 1, "Next": "F"}], "Default": "P"},
        "F": {"Type": "Fail", "Error": "Bad", "Cause": "first batch"},
        "P": {"Type": "Pass", "End": true}}});
    let mut m = json!({"ItemBatcher": {"MaxItemsPerBatch": 2}});
    for (k, v) in extra.as_object().into_iter().flatten() {
        m[k] = v.clone();
    }
    run(distributed(processor, m), json!([1, 2, 3, 4, 5, 6])).0
}

#[test]
fn tolerated_failures_count_the_items_of_failed_batches() {
    for ok in [
        json!({"ToleratedFailureCount": 2}),
        json!({"ToleratedFailurePercentage": 34}),
    ] {
        let ex = tolerance(ok.clone());
        assert_eq!(ex.status(), Status::Succeeded, "{ok}: {:?}", ex.cause());
        let out = ex.output().unwrap();
        assert_eq!(out[0]["Error"], "Bad");
        assert_eq!(out[1], json!({"Items": [3, 4]}));
        let r = &ex.map_runs()[0];
        assert_eq!(r.items, counts(0, 0, 4, 2, 6));
        assert_eq!(r.executions, Some(counts(0, 0, 2, 1, 3)));
    }
    for over in [
        json!({"ToleratedFailureCount": 1}),
        json!({"ToleratedFailurePercentage": 33}),
    ] {
        let ex = tolerance(over.clone());
        assert_eq!(ex.status(), Status::Failed, "{over}");
        assert_eq!(ex.error(), Some("States.ExceedToleratedFailureThreshold"));
        let r = &ex.map_runs()[0];
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.items.failed, 2);
        assert_eq!(r.executions.as_ref().map(|e| e.failed), Some(1));
    }
}

#[test]
fn inline_maps_and_maps_without_a_batcher_are_unchanged() {
    let (ex, step) = run(distributed(pass(), json!({})), json!([1, 2]));
    assert_eq!(ex.output(), Some(&json!([1, 2])));
    assert_eq!(child_inputs(&step), vec![json!(1), json!(2)]);
    let r = &ex.map_runs()[0];
    assert_eq!((r.executions.as_ref(), r.batch_sizes.len()), (None, 0));
}

// TestState of a Map state: AWS's InspectionData has `afterItemBatcher` (the batches);
// no recording covers it.
#[test]
fn test_state_shows_the_batches() {
    let def = json!({"Type": "Map", "ItemsPath": "$.xs",
        "ItemSelector": {"v.$": "$$.Map.Item.Value"},
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"b": 1}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true});
    let r = TestStateRequest {
        definition: def.to_string(),
        input: Some(r#"{"xs": [1, 2, 3]}"#.into()),
        inspection_level: InspectionLevel::Debug,
        mock: Some(TestStateMock {
            result: Some("[10, 20]".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let resp = test_state(&r, &mut VirtualClock::new(1_700_000_000_000, 7))
        .unwrap_or_else(|e| panic!("refused: {e}"));
    let v = resp.to_aws_json();
    let shown: Value =
        serde_json::from_str(v["inspectionData"]["afterItemBatcher"].as_str().unwrap()).unwrap();
    assert_eq!(
        shown,
        json!([{"BatchInput": {"b": 1}, "Items": [{"v": 1}, {"v": 2}]},
            {"BatchInput": {"b": 1}, "Items": [{"v": 3}]}])
    );
}

#[test]
fn a_redriven_map_run_counts_the_items_of_the_batches_it_runs_again() {
    let mut ex = tolerance(json!({"ToleratedFailureCount": 1, "MaxConcurrency": 1}));
    assert_eq!(ex.status(), Status::Failed);
    let r = &ex.map_runs()[0];
    // One batch at a time: the first fails, the other two never start.
    assert_eq!(r.items, counts(4, 0, 0, 2, 6));
    assert_eq!(r.executions, Some(counts(2, 0, 0, 1, 3)));
    // The redrive runs the failed batch again (it fails again); the others stay pending.
    let mut clock = VirtualClock::new(10_000, 7);
    let step = ex.redrive(&mut clock).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ex.status(), Status::Failed);
    let redriven: Vec<Value> = step
        .children
        .iter()
        .filter_map(|c| match c {
            ChildChange::Redriven(c) => Some(Value::clone(&c.input)),
            _ => None,
        })
        .collect();
    assert_eq!(redriven, vec![json!({"Items": [1, 2]})]);
    let r = &ex.map_runs()[0];
    assert_eq!(r.redrive_count, 1);
    assert_eq!(r.items, counts(4, 0, 0, 2, 6));
    assert_eq!(r.executions, Some(counts(2, 0, 0, 1, 3)));
}
