use super::*;
use serde_json::json;
use stepwise_expr::NoVariables;

/// Fixed sources that count what was drawn.
#[derive(Default)]
struct Fixed {
    uuids: usize,
    randoms: usize,
    clocks: usize,
}

impl Sources for Fixed {
    fn now_millis(&mut self) -> i64 {
        self.clocks += 1;
        1_700_000_000_123
    }
    fn uuid(&mut self) -> String {
        self.uuids += 1;
        format!("00000000-0000-4000-8000-{:012}", self.uuids)
    }
    fn random(&mut self) -> f64 {
        self.randoms += 1;
        0.25
    }
}

fn states() -> Value {
    json!({
        "input": {"a": 1, "items": [1, 2, 3], "s": "x"},
        "context": {"Execution": {"Id": "arn:exec"}, "State": {"Name": "S"}},
        "result": {"r": true},
        "errorOutput": {"Error": "E", "Cause": "C"}
    })
}

fn eval_with(src: &str, vars: &dyn Variables) -> Result<Option<Value>, StatesError> {
    let st = states();
    let scope = JsonataScope { states: &st, vars };
    JsonataExpr::parse(src)
        .unwrap()
        .eval("Output", &scope, &mut Fixed::default())
}

fn eval(src: &str) -> Result<Option<Value>, StatesError> {
    eval_with(src, &NoVariables)
}

fn ok(src: &str) -> Value {
    match eval(src) {
        Ok(Some(v)) => v,
        other => panic!("{src}: {other:?}"),
    }
}

fn cause(src: &str) -> String {
    match eval(src) {
        Err(e) => {
            assert_eq!(e.error, "States.QueryEvaluationError");
            e.cause
        }
        other => panic!("{src}: expected an error, got {other:?}"),
    }
}

#[test]
fn states_bindings() {
    assert_eq!(ok("$states.input.a + 1"), json!(2));
    assert_eq!(ok("$states.input.items[1]"), json!(2));
    assert_eq!(ok("$states.context.Execution.Id"), json!("arn:exec"));
    assert_eq!(ok("$states.result.r"), json!(true));
    assert_eq!(ok("$states.errorOutput.Cause"), json!("C"));
    assert_eq!(
        ok("$keys($states)"),
        json!(["input", "context", "result", "errorOutput"])
    );
    assert_eq!(
        ok("$states.input"),
        json!({"a": 1, "items": [1, 2, 3], "s": "x"})
    );
}

#[test]
fn states_fields_absent_when_not_allowed() {
    let st = json!({"input": {"a": 1}, "context": {}});
    let scope = JsonataScope {
        states: &st,
        vars: &NoVariables,
    };
    let e = JsonataExpr::parse("$states.result").unwrap();
    assert_eq!(e.eval("Output", &scope, &mut Fixed::default()), Ok(None));
    assert!(e.reads_states_field("result"));
    assert!(!e.reads_states_field("input"));
}

#[test]
fn variables_are_bound() {
    let mut vars = serde_json::Map::new();
    vars.insert("x".into(), json!({"y": [10, 20]}));
    vars.insert("name".into(), json!("n"));
    // A variable named like a built-in shadows it as a value, as in jsonata.
    vars.insert("sum".into(), json!(5));
    assert_eq!(eval_with("$x.y[0] + $sum", &vars).unwrap(), Some(json!(15)));
    assert_eq!(
        eval_with("$name & $states.input.s", &vars).unwrap(),
        Some(json!("nx"))
    );
    assert_eq!(eval_with("$missing", &vars).unwrap(), None);
    let e = JsonataExpr::parse("$x.y ~> $map(function($v){$v * 2})").unwrap();
    assert_eq!(e.variables().collect::<Vec<_>>(), ["v", "x"]);
}

#[test]
fn undefined_and_errors_have_aws_wording() {
    assert_eq!(eval("$doesNotExist"), Ok(None));
    let st = states();
    let scope = JsonataScope {
        states: &st,
        vars: &NoVariables,
    };
    let e = JsonataExpr::parse(" $doesNotExist ").unwrap();
    assert_eq!(
        e.eval_required("Output", &scope, &mut Fixed::default()).unwrap_err().cause,
        "The JSONata expression '$doesNotExist' specified for the field 'Output' returned nothing (undefined)."
    );
    assert_eq!(
        cause("$randomSeeded(1)"),
        "The JSONata expression '$randomSeeded(1)' specified for the field 'Output' threw an error during evaluation. T1006: Attempted to invoke a non-function"
    );
    assert_eq!(
        cause("$fn := function($x){$x}"),
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Output' returned an unsupported result type."
    );
    assert!(cause("'a' + 1").contains("threw an error during evaluation. T2001:"));
    let e = JsonataExpr::parse("{'foo': 'bar'}").unwrap();
    assert_eq!(
        e.unexpected_type_error("Items", "array", &json!({"foo": "bar"})).cause,
        "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}"
    );
    assert_eq!(
        e.unexpected_type_error("Items", "array", &json!("string")).cause,
        "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'string' for value: \"string\""
    );
}

#[test]
fn eval_is_not_available() {
    assert!(cause("$eval('1')").ends_with("T1006: Attempted to invoke a non-function"));
}

#[test]
fn numbers_are_normalised() {
    assert_eq!(ok("1.5 * 2").to_string(), "3");
    assert_eq!(ok("10 / 4").to_string(), "2.5");
    assert_eq!(ok("[1, 2.0, -0]").to_string(), "[1,2,0]");
    assert_eq!(ok("$parse('-0')").to_string(), "0");
}

#[test]
fn partition() {
    assert_eq!(
        ok("$partition([1,2,3,4,5], 2)"),
        json!([[1, 2], [3, 4], [5]])
    );
    assert_eq!(ok("$partition([0], 5)"), json!([[0]]));
    assert_eq!(ok("$partition([0, 1], 1)"), json!([[0], [1]]));
    assert_eq!(ok("$partition([0, 1, 2, 3], 4)"), json!([[0, 1, 2, 3]]));
    assert_eq!(ok("$partition([], 2)"), json!([]));
    assert!(cause("$partition([1], 0)").contains("threw an error"));
    assert!(cause("$partition([1], 1.5)").contains("threw an error"));
}

#[test]
fn range() {
    assert_eq!(ok("$range(0, 9, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(ok("$range(0, 10, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(ok("$range(1, 9, 2)"), json!([1, 3, 5, 7, 9]));
    // A single item comes out unwrapped, as on AWS.
    assert_eq!(ok("$range(1, 9, 9)"), json!(1));
    assert_eq!(ok("$range(5, 1, -2)"), json!([5, 3, 1]));
    assert_eq!(eval("$range(5, 1, 1)"), Ok(None));
    assert!(cause("$range(0, 1, 0)").contains("threw an error"));
    assert!(cause("$range(0, 1e12, 1)").contains("D2014"));
}

#[test]
fn hash() {
    assert_eq!(
        ok("$hash('abc', 'SHA-256')"),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        ok("$hash('', 'MD5')"),
        json!("d41d8cd98f00b204e9800998ecf8427e")
    );
    assert!(cause("$hash('a', 'SHA-3')").contains("not supported"));
    assert!(cause("$hash(1, 'MD5')").contains("T0410"));
}

#[test]
fn parse() {
    assert_eq!(
        ok("$parse('{\"Arg1\": 1, \"Arg2\": []}')"),
        json!({"Arg1": 1, "Arg2": []})
    );
    assert_eq!(ok("$parse('\"HelloWorld\"')"), json!("HelloWorld"));
    assert_eq!(ok("$parse('true')"), json!(true));
    assert_eq!(ok("$parse('1.1')"), json!(1.1));
    assert_eq!(ok("$parse('[1, 2, \"a\"]')"), json!([1, 2, "a"]));
    assert!(cause("$parse('{')").contains("threw an error"));
}

#[test]
fn random_and_uuid_come_from_sources() {
    let st = states();
    let scope = JsonataScope {
        states: &st,
        vars: &NoVariables,
    };
    let mut src = Fixed::default();
    let e = JsonataExpr::parse("[$uuid(), $random(), $random(42), $random(42)]").unwrap();
    let v = e.eval("Output", &scope, &mut src).unwrap().unwrap();
    assert_eq!(
        v,
        json!([
            "00000000-0000-4000-8000-000000000001",
            0.25,
            0.7275636800328681,
            0.7275636800328681
        ])
    );
    assert_eq!((src.uuids, src.randoms, src.clocks), (1, 1, 0));

    // Calls in a loop go beyond the values drawn up front; they stay distinct and valid.
    let e = JsonataExpr::parse("$map([1,2,3], function($i){ $uuid() })").unwrap();
    let v = e.eval("Output", &scope, &mut src).unwrap().unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "00000000-0000-4000-8000-000000000002");
    assert_eq!(ids.len(), 3);
    assert!(ids[1] != ids[2] && ids[1].len() == 36);

    // Deterministic: the same sources give the same result.
    let e = JsonataExpr::parse("$shuffle([1,2,3,4,5,6,7,8])").unwrap();
    let a = e.eval("Output", &scope, &mut Fixed::default()).unwrap();
    let b = e.eval("Output", &scope, &mut Fixed::default()).unwrap();
    assert_eq!(a, b);
    let mut sorted = a.unwrap().as_array().unwrap().clone();
    sorted.sort_by_key(|v| v.as_i64());
    assert_eq!(
        sorted,
        json!([1, 2, 3, 4, 5, 6, 7, 8]).as_array().unwrap().clone()
    );
}

#[test]
fn clock_comes_from_sources() {
    let st = states();
    let scope = JsonataScope {
        states: &st,
        vars: &NoVariables,
    };
    let mut src = Fixed::default();
    let e = JsonataExpr::parse("[$millis(), $now(), $now('[Y0001]'), $millis()]").unwrap();
    let v = e.eval("Output", &scope, &mut src).unwrap().unwrap();
    assert_eq!(
        v,
        json!([
            1_700_000_000_123i64,
            "2023-11-14T22:13:20.123Z",
            "2023",
            1_700_000_000_123i64
        ])
    );
    assert_eq!(src.clocks, 1);
    let e = JsonataExpr::parse("($n := $now; $n())").unwrap();
    assert_eq!(
        e.eval("Output", &scope, &mut src).unwrap(),
        Some(json!("2023-11-14T22:13:20.123Z"))
    );
    // Nothing drawn when the expression does not need it.
    let mut src = Fixed::default();
    JsonataExpr::parse("1")
        .unwrap()
        .eval("Output", &scope, &mut src)
        .unwrap();
    assert_eq!((src.uuids, src.randoms, src.clocks), (0, 0, 0));
}

#[test]
fn parse_errors() {
    assert!(JsonataExpr::parse("1 +")
        .unwrap_err()
        .message
        .contains("S0207"));
    assert!(JsonataExpr::parse("").is_err());
    assert!(JsonataExpr::parse("'unterminated").is_err());
}

#[test]
fn runaway_recursion_is_stopped() {
    let c = cause("($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))");
    assert!(c.contains("threw an error during evaluation"), "{c}");
    eprintln!("deep recursion: {c}");
    // A tail-recursive loop never deepens the stack; the time bound stops it.
    let c = cause("($f := function($n){ $f($n + 1) }; $f(0))");
    eprintln!("endless loop: {c}");
    assert!(c.contains("threw an error during evaluation"), "{c}");
    // Reasonable recursion still works.
    assert_eq!(
        ok("($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(200))"),
        json!(200)
    );
}

#[test]
fn is_expression_is_strict() {
    assert!(is_expression("{% 1 %}"));
    assert!(is_expression("{%1%}"));
    assert!(!is_expression(" {% 1 %}"));
    assert!(!is_expression("{% 1 %} "));
    assert!(!is_expression("{%}"));
    assert!(!is_expression("$.a"));
}

#[test]
fn template_evaluates_leaves() {
    let raw = json!({
        "lit": "plain $.text",
        "n": 1,
        "sum": "{% $states.input.a + 1 %}",
        "nested": {"list": ["{% $states.input.s %}", 2, {"deep": "{% $states.context.State.Name %}"}]},
        "bad": " {% not an expression %}"
    });
    let t = JsonataTemplate::compile(&raw).unwrap();
    assert!(t.as_expr().is_none());
    assert!(t.has_expressions());
    let ptrs: Vec<String> = t.expressions().into_iter().map(|(p, _)| p).collect();
    assert_eq!(ptrs, ["/sum", "/nested/list/0", "/nested/list/2/deep"]);
    let st = states();
    let scope = JsonataScope {
        states: &st,
        vars: &NoVariables,
    };
    let v = t.eval("Output", &scope, &mut Fixed::default()).unwrap();
    assert_eq!(
        v,
        json!({
            "lit": "plain $.text",
            "n": 1,
            "sum": 2,
            "nested": {"list": ["x", 2, {"deep": "S"}]},
            "bad": " {% not an expression %}"
        })
    );
    // Key order is kept.
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["lit", "n", "sum", "nested", "bad"]
    );
}

#[test]
fn template_undefined_is_located() {
    let st = states();
    let scope = JsonataScope {
        states: &st,
        vars: &NoVariables,
    };
    let t = JsonataTemplate::compile(&json!({"result": "{% $doesNotExist %}"})).unwrap();
    let e = t.eval("Output", &scope, &mut Fixed::default()).unwrap_err();
    assert_eq!(e.location, "Output/result");
    assert_eq!(
        e.error.cause,
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
    );
    let t = JsonataTemplate::compile(&json!("{% $doesNotExist %}")).unwrap();
    assert!(t.as_expr().is_some());
    let e = t.eval("Assign", &scope, &mut Fixed::default()).unwrap_err();
    assert_eq!(e.location, "Assign");
    let as_states: StatesError = e.into();
    assert_eq!(as_states.error, "States.QueryEvaluationError");
    let t = JsonataTemplate::compile(&json!({"a": {"b": ["{% $nope %}"]}})).unwrap();
    assert_eq!(
        t.eval("Arguments", &scope, &mut Fixed::default())
            .unwrap_err()
            .location,
        "Arguments/a/b"
    );
}

#[test]
fn template_literal_is_returned_as_is() {
    let raw = json!({"a": [1, {"b": "$.x"}], "c": null});
    let t = JsonataTemplate::compile(&raw).unwrap();
    assert!(!t.has_expressions());
    let st = states();
    let scope = JsonataScope {
        states: &st,
        vars: &NoVariables,
    };
    assert_eq!(
        t.eval("Output", &scope, &mut Fixed::default()).unwrap(),
        raw
    );
    assert_eq!(t.raw(), &raw);
}

#[test]
fn template_compile_reports_every_parse_error() {
    let raw = json!({"a": "{% 1 + %}", "b/c": ["ok", "{% ( %}"], "d": "{% 1 %}"});
    let errs = JsonataTemplate::compile(&raw).unwrap_err();
    let ptrs: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(ptrs, ["/a", "/b~1c/1"]);
    assert!(errs.iter().all(|e| !e.message.is_empty()));
}

#[test]
fn expressions_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JsonataExpr>();
    assert_send_sync::<JsonataTemplate>();
}
