use super::*;
use serde_json::json;

fn enc(v: Value, f: ArrayFormat) -> String {
    form(v.as_object().unwrap(), f)
}

#[test]
fn the_aws_array_example_in_every_format() {
    let v = json!({"array": ["a", "b", "c", "d"]});
    assert_eq!(
        enc(v.clone(), ArrayFormat::Indices),
        "array%5B0%5D=a&array%5B1%5D=b&array%5B2%5D=c&array%5B3%5D=d"
    );
    assert_eq!(
        enc(v.clone(), ArrayFormat::Repeat),
        "array=a&array=b&array=c&array=d"
    );
    assert_eq!(enc(v.clone(), ArrayFormat::Commas), "array=a,b,c,d");
    assert_eq!(
        enc(v, ArrayFormat::Brackets),
        "array%5B%5D=a&array%5B%5D=b&array%5B%5D=c&array%5B%5D=d"
    );
}

#[test]
fn the_aws_nested_object_example() {
    let v = json!({
        "description": "Monthly subscription",
        "metadata": {"order_details": "monthly report data"},
        "customer": "1234567890"
    });
    assert_eq!(
        enc(v, ArrayFormat::Indices),
        "description=Monthly%20subscription&metadata%5Border_details%5D=monthly%20report%20data&customer=1234567890"
    );
}

#[test]
fn nesting_scalars_and_reserved_characters() {
    let v = json!({
        "a": {"b": {"c": [1, 2]}},
        "n": 1.5, "t": true, "z": null,
        "x&y": "1+1=2 / ok?",
        "e": [], "o": {},
        "u": "é~-._"
    });
    assert_eq!(
        enc(v.clone(), ArrayFormat::Indices),
        "a%5Bb%5D%5Bc%5D%5B0%5D=1&a%5Bb%5D%5Bc%5D%5B1%5D=2&n=1.5&t=true&z=&x%26y=1%2B1%3D2%20%2F%20ok%3F&u=%C3%A9~-._"
    );
    assert_eq!(
        enc(v, ArrayFormat::Brackets),
        "a%5Bb%5D%5Bc%5D%5B%5D=1&a%5Bb%5D%5Bc%5D%5B%5D=2&n=1.5&t=true&z=&x%26y=1%2B1%3D2%20%2F%20ok%3F&u=%C3%A9~-._"
    );
}

#[test]
fn arrays_of_objects() {
    let v = json!({"items": [{"id": 1}, {"id": 2}]});
    assert_eq!(
        enc(v.clone(), ArrayFormat::Indices),
        "items%5B0%5D%5Bid%5D=1&items%5B1%5D%5Bid%5D=2"
    );
    assert_eq!(
        enc(v.clone(), ArrayFormat::Repeat),
        "items%5Bid%5D=1&items%5Bid%5D=2"
    );
    assert_eq!(
        enc(v.clone(), ArrayFormat::Brackets),
        "items%5B%5D%5Bid%5D=1&items%5B%5D%5Bid%5D=2"
    );
    // Commas cannot join objects: indices instead.
    assert_eq!(
        enc(v, ArrayFormat::Commas),
        "items%5B0%5D%5Bid%5D=1&items%5B1%5D%5Bid%5D=2"
    );
    // A comma inside a value is encoded, the separators are not.
    assert_eq!(
        enc(json!({"a": ["x,y", 2]}), ArrayFormat::Commas),
        "a=x%2Cy,2"
    );
}

#[test]
fn array_formats_parse() {
    assert_eq!(ArrayFormat::parse("INDICES"), Some(ArrayFormat::Indices));
    assert_eq!(ArrayFormat::parse("REPEAT"), Some(ArrayFormat::Repeat));
    assert_eq!(ArrayFormat::parse("COMMAS"), Some(ArrayFormat::Commas));
    assert_eq!(ArrayFormat::parse("BRACKETS"), Some(ArrayFormat::Brackets));
    assert_eq!(ArrayFormat::parse("indices"), None);
}
