//! Parsing and evaluating arbitrary text never panics: every failure is an error value.

use proptest::prelude::*;
use serde_json::{json, Value};
use stepwise_expr::Sources;
use stepwise_jsonata::{is_expression, JsonataExpr, JsonataScope, JsonataTemplate};

struct Fixed(u64);

impl Sources for Fixed {
    fn now_millis(&mut self) -> i64 {
        1_700_000_000_000
    }
    fn uuid(&mut self) -> String {
        self.0 += 1;
        format!("00000000-0000-4000-8000-{:012}", self.0)
    }
    fn random(&mut self) -> f64 {
        0.5
    }
}

fn scope_values() -> (Value, serde_json::Map<String, Value>) {
    let states = json!({
        "input": {"a": 1, "b": [1, 2, {"c": "x"}], "s": "str", "n": null},
        "context": {"Execution": {"Id": "id"}}
    });
    let mut vars = serde_json::Map::new();
    vars.insert("v".into(), json!([3, 1, 2]));
    vars.insert("o".into(), json!({"k": "v"}));
    (states, vars)
}

fn check(src: &str) {
    let (states, vars) = scope_values();
    let scope = JsonataScope {
        states: &states,
        vars: &vars,
    };
    if let Ok(expr) = JsonataExpr::parse(src) {
        let _ = expr.eval("Output", &scope, &mut Fixed(0));
    }
    let raw = json!({"f": format!("{{%{src}%}}"), "g": [src]});
    if let Ok(t) = JsonataTemplate::compile(&raw) {
        let _ = t.eval("Output", &scope, &mut Fixed(0));
    }
    let _ = is_expression(src);
}

/// Fragments of JSONata, so that many generated strings parse and get evaluated.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "$states",
        ".input",
        ".a",
        ".b",
        "[0]",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "'x'",
        "\"y\"",
        "1",
        "2.5",
        "-",
        "+",
        "*",
        "/",
        "%",
        "&",
        "=",
        "!=",
        "<",
        ">",
        "and",
        "or",
        "?",
        ":",
        ";",
        ",",
        ":=",
        "$v",
        "$o",
        "$x",
        "$partition(",
        "$range(",
        "$hash(",
        "$parse(",
        "$uuid()",
        "$random(",
        "$now(",
        "$millis()",
        "$shuffle(",
        "$eval(",
        "$map(",
        "$sum(",
        "$string(",
        "$keys(",
        "function($p){",
        "$p",
        "~>",
        "..",
        "**",
        "*",
        "^(",
        "#$i",
        "@$e",
        "|",
        "null",
        "true",
        " ",
        "/re/",
        "$$",
        "$",
        "`q`",
        "in",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,40}") {
        check(&src);
    }

    #[test]
    fn jsonata_like_text_never_panics(tokens in prop::collection::vec(token(), 0..16)) {
        check(&tokens.concat());
    }
}

#[test]
fn known_tricky_inputs() {
    for src in [
        "",
        "{%",
        "%}",
        "$",
        "$$",
        "(((((",
        "$states.input.b[-1]",
        "$partition($v, 1e300)",
        "$range(0, 1, 1e-300)",
        "$range(-1e308, 1e308, 1)",
        "$hash($o, 'MD5')",
        "$parse($o)",
        "$random(1e300)",
        "$random(-1)",
        "$shuffle($o)",
        "$now('[Y]', '+0100')",
        "$fromMillis(1e300)",
        "$string(1/0)",
        "[1..10000001]",
        "$uuid(1)",
        "$partition()",
        "$range()",
        "$hash()",
        // Found by fuzzing: jsonata-core computes the range's size with an i64 overflow
        // (a panic only where overflow checks are on; our profiles give D2014).
        "6666-66666666666666666666666666666666666666665..98",
        "$pad('', 1e300)",
        "$pad('', -1e300, 'x')",
        "$join([], $pad('', 1e9))",
        "$join(['a', 'b'], 1e300)",
        "$replace('aaa', /a/, 'b', 1e300)",
        "$replace('aaa', 'a', '$0$0', -1)",
        "$replace($pad('', 1000, 'a'), /a*/, $pad('', 100000, '$'))",
    ] {
        check(src);
    }
    let deep = format!("{}1{}", "(".repeat(5_000), ")".repeat(5_000));
    check(&deep);
    let deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    check(&deep);
}
