//! Unit tests of `intrinsics.rs` (a child module of it: `super::*` is that file).

use super::*;
use crate::NoVariables;
use serde_json::json;

struct Fixed(f64);
impl Sources for Fixed {
    fn now_millis(&mut self) -> i64 {
        0
    }
    fn uuid(&mut self) -> String {
        "11111111-2222-4333-8444-555555555555".into()
    }
    fn random(&mut self) -> f64 {
        self.0
    }
}

fn ev_in(src: &str, input: Value) -> Result<Value, StatesError> {
    let ctx = json!({"StateMachine": {"Name": "my-state-machine"}, "Execution": {"Input": input.clone()}});
    let mut vars = Map::new();
    vars.insert("v".into(), json!(41));
    let scope = Scope {
        input: &input,
        context: &ctx,
        vars: &vars,
    };
    Intrinsic::parse(src).unwrap().eval(&scope, &mut Fixed(0.5))
}
fn ev(src: &str) -> Result<Value, StatesError> {
    ev_in(src, json!({}))
}
fn ok(src: &str) -> Value {
    ev(src).unwrap()
}
/// What went wrong, after AWS's `The function '…' had the following error: `.
fn intrinsic_err(src: &str) -> String {
    let e = ev(src).unwrap_err();
    assert_eq!(e.error, "States.Runtime", "{src}: {e:?}");
    let prefix = format!("The function '{src}' had the following error: ");
    match e.cause.strip_prefix(&prefix) {
        Some(rest) => rest.to_string(),
        None => panic!("{src}: cause without the function prefix: {}", e.cause),
    }
}

#[test]
fn parsing() {
    assert!(Intrinsic::looks_like("  States.UUID()"));
    assert!(!Intrinsic::looks_like("$.a"));
    for bad in [
        "States.Nope()",
        "States.Format(",
        "States.Format('x)",
        "States.Array(1,)",
        "States.Array(1 2)",
        "States.UUID(1)",
        "States.MathAdd(1)",
        "States.Array(foo)",
        "States.Array($.a[)",
        "States.Array() extra",
        "States.Array(--1)",
    ] {
        assert!(Intrinsic::parse(bad).is_err(), "{bad} should not parse");
    }
    let i = Intrinsic::parse("States.Array( 1 , 'a' , true,false ,null, $.x , States.UUID() )")
        .unwrap();
    assert_eq!(i.function(), Function::Array);
    assert_eq!(
        i.as_str(),
        "States.Array( 1 , 'a' , true,false ,null, $.x , States.UUID() )"
    );
}

#[test]
fn format() {
    assert_eq!(
        ok("States.Format('Hello {}!', 'World')"),
        json!("Hello World!")
    );
    assert_eq!(
        ev_in(
            "States.Format('a={} b={} c={} d={}', $.a, $.b, $.c, $.d)",
            json!({"a": null, "b": 1.1, "c": 1, "d": true})
        )
        .unwrap(),
        json!("a=null b=1.1 c=1 d=true")
    );
    assert_eq!(
        ev_in(
            "States.Format('{} {}', $.o, $.l)",
            json!({"o": {"Arg1": 1, "Arg2": []}, "l": ["x", 2]})
        )
        .unwrap(),
        json!("{Arg1=1, Arg2=[]} [x, 2]")
    );
    assert_eq!(
        ok(r"States.Format('\{\} {} \'q\' \\', 1)"),
        json!("{} 1 'q' \\")
    );
    // AWS refuses `\"` inside a literal; a bare `"` is an ordinary character.
    assert!(Intrinsic::parse(r#"States.Format('He said, \"Hi\"', 1)"#).is_err());
    assert!(Intrinsic::parse(r#"States.StringToJson('{"t":"An \"x\" y"}')"#).is_err());
    assert_eq!(ok(r#"States.Format('say "{}"', 1)"#), json!("say \"1\""));
    assert_eq!(ok("States.Format('{}', 1e20)"), json!("1.0E20"));
    assert_eq!(
        ev_in("States.Format($.t, 3)", json!({"t": "n={}"})).unwrap(),
        json!("n=3")
    );
    assert_eq!(ok("States.Format('v={}', $v)"), json!("v=41"));
    assert!(intrinsic_err("States.Format('{} {}', 1)").contains("placeholder"));
    assert!(intrinsic_err("States.Format('x', 1)").contains("placeholder"));
    assert!(intrinsic_err("States.Format(1)").contains("string"));
}

#[test]
fn json_functions() {
    assert_eq!(
        ev_in(
            "States.StringToJson($.s)",
            json!({"s": "{\"a\": [1, 2.5]}"})
        )
        .unwrap(),
        json!({"a": [1, 2.5]})
    );
    assert_eq!(
        ev_in("States.StringToJson($.s)", json!({"s": " "})).unwrap(),
        Value::Null
    );
    assert_eq!(
        ev_in("States.StringToJson($.s)", json!({"s": "-0"})).unwrap(),
        json!(0)
    );
    assert_eq!(
        ok("States.StringToJson('\"HelloWorld\"')"),
        json!("HelloWorld")
    );
    assert!(intrinsic_err("States.StringToJson('{bad')").contains("not valid JSON"));
    assert!(intrinsic_err("States.StringToJson(1)").contains("string"));
    assert_eq!(
        ev_in(
            "States.JsonToString($)",
            json!({"Arg1": 1, "Arg2": [], "f": 1.0})
        )
        .unwrap(),
        json!("{\"Arg1\":1,\"Arg2\":[],\"f\":1.0}")
    );
    assert_eq!(
        ok("States.JsonToString('HelloWorld')"),
        json!("\"HelloWorld\"")
    );
    assert_eq!(
        ev_in(
            "States.JsonMerge($.a, $.b, false)",
            json!({"a": {"x": {"p": 1}, "y": 2}, "b": {"x": {"q": 1}, "z": 3}})
        )
        .unwrap(),
        json!({"x": {"q": 1}, "y": 2, "z": 3})
    );
    assert_eq!(
        ok("States.JsonMerge(States.StringToJson('{\"c\": \"false\"}'), States.StringToJson('{\"d\": 1}'), false)"),
        json!({"c": "false", "d": 1})
    );
    assert!(intrinsic_err(
        "States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)"
    )
    .contains("deep"));
    assert!(
        intrinsic_err("States.JsonMerge(1, States.StringToJson('{}'), false)").contains("object")
    );
    assert!(intrinsic_err(
        "States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), 'no')"
    )
    .contains("boolean"));
}

#[test]
fn arrays() {
    assert_eq!(ok("States.Array()"), json!([]));
    assert_eq!(
        ok("States.Array(1, 'a', null, States.Array(true))"),
        json!([1, "a", null, [true]])
    );
    assert_eq!(
        ev_in("States.ArrayPartition($.a, 2)", json!({"a": [0, 1, 2]})).unwrap(),
        json!([[0, 1], [2]])
    );
    assert_eq!(
        ev_in("States.ArrayPartition($.a, 5)", json!({"a": []})).unwrap(),
        json!([])
    );
    assert!(intrinsic_err("States.ArrayPartition(States.Array(1), 0)").contains("greater than 0"));
    assert!(intrinsic_err("States.ArrayPartition(1, 1)").contains("array"));
    assert_eq!(
        ev_in(
            "States.ArrayContains($.a, $.b)",
            json!({"a": [[1, 2, 3], 2], "b": [1, 2, 3]})
        )
        .unwrap(),
        json!(true)
    );
    assert_eq!(
        ev_in(
            "States.ArrayContains($.a, $.b)",
            json!({"a": [1], "b": null})
        )
        .unwrap(),
        json!(false)
    );
    assert_eq!(ok("States.ArrayRange(0, 9, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(ok("States.ArrayRange(0, 10, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(ok("States.ArrayRange(1, 9, 9)"), json!([1]));
    assert_eq!(ok("States.ArrayRange(5, 1, -2)"), json!([5, 3, 1]));
    assert_eq!(ok("States.ArrayRange(5, 1, 2)"), json!([]));
    assert!(intrinsic_err("States.ArrayRange(1, 9, 0)").contains("step"));
    assert!(intrinsic_err("States.ArrayRange(0, 1000, 1)").contains("1000"));
    assert_eq!(
        ok("States.ArrayRange(1, 1000, 1)").as_array().map(Vec::len),
        Some(1000)
    );
    assert!(intrinsic_err("States.ArrayRange('a', 1, 1)").contains("number"));
    assert_eq!(
        ev_in(
            "States.ArrayGetItem($.a, 5)",
            json!({"a": [1, 2, 3, 4, 5, 6]})
        )
        .unwrap(),
        json!(6)
    );
    assert!(intrinsic_err("States.ArrayGetItem(States.Array(1), 1)").contains("out of bounds"));
    assert!(intrinsic_err("States.ArrayGetItem(States.Array(1), -1)").contains("out of bounds"));
    assert!(intrinsic_err("States.ArrayGetItem(States.Array(1), 0.5)").contains("integer"));
    assert_eq!(ok("States.ArrayLength(States.Array(1, 2))"), json!(2));
    assert!(intrinsic_err("States.ArrayLength('x')").contains("array"));
    assert_eq!(
        ev_in(
            "States.ArrayUnique($.a)",
            json!({"a": [1, 2, 1, {"a": 1}, {"a": 1}, 1.0]})
        )
        .unwrap(),
        json!([1, 2, {"a": 1}, 1.0])
    );
    // Objects equal whatever their key order, as `==` says; a long array in one pass.
    assert_eq!(
        ev_in(
            "States.ArrayUnique($.a)",
            json!({"a": [{"x": 1, "y": [2]}, {"y": [2], "x": 1}, 0.0, -0.0, "s", "s"]})
        )
        .unwrap(),
        json!([{"x": 1, "y": [2]}, 0.0, "s"])
    );
    let many: Vec<Value> = (0..100_000).map(|i| json!(i % 50_000)).collect();
    let unique = ev_in("States.ArrayUnique($.a)", json!({ "a": many })).unwrap();
    assert_eq!(unique.as_array().map(Vec::len), Some(50_000));
}

#[test]
fn encoding_and_hash() {
    assert_eq!(
        ok("States.Base64Encode('Data to encode')"),
        json!("RGF0YSB0byBlbmNvZGU=")
    );
    assert_eq!(
        ok("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')"),
        json!("Data to encode")
    );
    assert_eq!(ok("States.Base64Decode('')"), json!(""));
    assert!(intrinsic_err("States.Base64Decode('%%%')").contains("base64"));
    let long = "a".repeat(10_001);
    assert!(ev_in("States.Base64Encode($.s)", json!({"s": long}))
        .unwrap_err()
        .cause
        .contains("10000"));
    assert_eq!(
        ok("States.Hash('input data', 'MD5')"),
        json!("812f45842bc6d66ee14572ce20db8e86")
    );
    assert_eq!(
        ok("States.Hash('input data', 'SHA-1')"),
        json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
    );
    assert!(intrinsic_err("States.Hash('x', 'SHA-3')").contains("not supported"));
    assert!(intrinsic_err("States.Hash(1, 'MD5')").contains("string"));
}

#[test]
fn math() {
    for (a, b, sum) in [
        (-9.0, 3.0, -6),
        (-1.49, -1.5, -2),
        (-1.5, -1.51, -3),
        (1.5, 0.0, 2),
        (-1.5, 0.0, -1),
        (2.5, 0.0, 3),
        (-2.5, 0.0, -2),
        (-0.5, 0.0, 0),
        (0.5, 0.0, 1),
    ] {
        assert_eq!(
            ev_in("States.MathAdd($.a, $.b)", json!({"a": a, "b": b})).unwrap(),
            json!(sum),
            "{a}+{b}"
        );
    }
    assert_eq!(ok("States.MathAdd($v, -1)"), json!(40));
    assert!(intrinsic_err("States.MathAdd('1', 1)").contains("number"));
    let r = ok("States.MathRandom(1, 11)").as_i64().unwrap();
    assert_eq!(r, 6, "0.5 of [1, 11)");
    let s1 = ok("States.MathRandom(1, 1000, 7)");
    assert_eq!(s1, ok("States.MathRandom(1, 1000, 7)"));
    let v = s1.as_i64().unwrap();
    assert!((1..1000).contains(&v));
    assert!(intrinsic_err("States.MathRandom(5, 5)").contains("greater"));
    // Values checked against a JVM: new java.util.Random(seed).nextInt(bound).
    assert_eq!(java_random_below(42, 10), 0);
    assert_eq!(java_random_below(0, 100), 60);
    assert_eq!(java_random_below(1, 16), 11);
    assert_eq!(java_random_below(7, 999), 970);
    assert_eq!(java_random_below(-5, 1_000_000_007), 578_319_411);
}

#[test]
fn strings_and_uuid() {
    assert_eq!(
        ok("States.StringSplit('1,2,3', ',')"),
        json!(["1", "2", "3"])
    );
    assert_eq!(ok("States.StringSplit(', , ,', ',')"), json!([" ", " "]));
    assert_eq!(ok("States.StringSplit(',,,,', ',')"), json!([]));
    assert_eq!(
        ok("States.StringSplit('split on T and \nnew line', 'T\n')"),
        json!(["split on ", " and ", "new line"])
    );
    assert_eq!(ok(r"States.StringSplit('a\nb', '\n')"), json!(["a", "b"]));
    assert!(intrinsic_err("States.StringSplit(1, ',')").contains("string"));
    assert_eq!(
        ok("States.UUID()"),
        json!("11111111-2222-4333-8444-555555555555")
    );
    assert_eq!(
        ok("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))"),
        json!("machine")
    );
}

#[test]
fn missing_path_argument_is_runtime_error() {
    let input = json!({"a": 1});
    let scope = Scope {
        input: &input,
        context: &json!({}),
        vars: &NoVariables,
    };
    let i = Intrinsic::parse("States.Format('{}', $.nope)").unwrap();
    let e = i
        .eval_for_field(&scope, &mut Fixed(0.0), Some("x.$"))
        .unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    // As AWS words it (a real execution's cause, quoted in the README of the public CDK
    // construct HandleOptionalParameters; ARCHITECTURE.md, "Intrinsic failures"): the
    // whole expression, then the path.
    assert_eq!(
        e.cause,
        "The function 'States.Format('{}', $.nope)' had the following error: \
         The JsonPath argument for the field '$.nope' could not be found in the input '{\"a\":1}'"
    );
    // Nested: the cause names the whole expression, as written.
    let i = Intrinsic::parse("States.Array(States.MathAdd($.nope, 1))").unwrap();
    assert_eq!(
        i.eval(&scope, &mut Fixed(0.0)).unwrap_err().cause,
        "The function 'States.Array(States.MathAdd($.nope, 1))' had the following error: \
         The JsonPath argument for the field '$.nope' could not be found in the input '{\"a\":1}'"
    );
    // Indefinite paths give arrays, even empty ones.
    let i = Intrinsic::parse("States.ArrayLength($.l[*])").unwrap();
    assert_eq!(i.eval(&scope, &mut Fixed(0.0)).unwrap(), json!(0));
    let i = Intrinsic::parse("States.Array($['a'], $.l[?(@.x == 'a,b')])").unwrap();
    assert_eq!(i.eval(&scope, &mut Fixed(0.0)).unwrap(), json!([1, []]));
}
