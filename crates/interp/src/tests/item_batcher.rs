use super::*;
use serde_json::json;

fn items(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({"n": i})).collect()
}

#[test]
fn by_count_the_last_batch_holds_the_rest() {
    let b = split(items(5), None, 2, MAX_BATCH_BYTES).unwrap();
    assert_eq!(b.sizes, vec![2, 2, 1]);
    assert_eq!(b.inputs[0], json!({"Items": [{"n": 0}, {"n": 1}]}));
    assert_eq!(b.inputs[2], json!({"Items": [{"n": 4}]}));
}

#[test]
fn no_items_make_no_batch() {
    let b = split(Vec::new(), None, 2, MAX_BATCH_BYTES).unwrap();
    assert!(b.inputs.is_empty() && b.sizes.is_empty());
}

#[test]
fn by_bytes_a_batch_is_at_most_the_limit_as_compact_json() {
    // `{"Items":[]}` is 12 bytes; `{"n":0}` 7, and 1 for each comma after the first.
    assert_eq!(
        json_size(&json!({"Items": [{"n": 0}, {"n": 1}]})),
        12 + 7 + 1 + 7
    );
    let b = split(items(5), None, u64::MAX, 27).unwrap();
    assert_eq!(b.sizes, vec![2, 2, 1]);
    for input in &b.inputs {
        assert!(json_size(input) <= 27);
    }
    let b = split(items(5), None, u64::MAX, 26).unwrap();
    assert_eq!(b.sizes, vec![1, 1, 1, 1, 1]);
}

#[test]
fn both_limits_the_first_reached_closes_the_batch() {
    let b = split(items(7), None, 3, 12 + 2 * 7 + 1).unwrap();
    assert_eq!(b.sizes, vec![2, 2, 2, 1]);
    let b = split(items(7), None, 3, 1_000).unwrap();
    assert_eq!(b.sizes, vec![3, 3, 1]);
}

#[test]
fn batch_input_goes_first_in_every_batch_and_counts_in_its_bytes() {
    let bi = json!({"k": "v"});
    let b = split(items(3), Some(&bi), 2, MAX_BATCH_BYTES).unwrap();
    assert_eq!(b.sizes, vec![2, 1]);
    assert_eq!(
        serde_json::to_string(&b.inputs[1]).unwrap(),
        r#"{"BatchInput":{"k":"v"},"Items":[{"n":2}]}"#
    );
    // 42 bytes with one item, 50 with two.
    let b = split(items(3), Some(&bi), u64::MAX, 49).unwrap();
    assert_eq!(b.sizes, vec![1, 1, 1]);
    let b = split(items(3), Some(&bi), u64::MAX, 50).unwrap();
    assert_eq!(b.sizes, vec![2, 1]);
}

#[test]
fn an_item_too_large_for_a_batch_of_its_own_fails() {
    let e = split(items(3), None, 10, 18).unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    assert!(e.cause.contains("index 0"), "{}", e.cause);
    assert!(
        e.cause.contains("MaxInputBytesPerBatch of 18"),
        "{}",
        e.cause
    );
}

#[test]
fn bytes_count_utf8() {
    let b = split(vec![json!("é"), json!("é")], None, u64::MAX, 12 + 4 + 1 + 4).unwrap();
    assert_eq!(b.sizes, vec![2]);
    let b = split(vec![json!("é"), json!("é")], None, u64::MAX, 12 + 4 + 4).unwrap();
    assert_eq!(b.sizes, vec![1, 1]);
}
