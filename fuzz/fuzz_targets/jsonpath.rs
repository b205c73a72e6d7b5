//! `stepwise_expr::jsonpath::JsonPath`: parse arbitrary text as a path and, when it
//! parses, evaluate it every way the interpreter does against fixed documents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stepwise_expr::jsonpath::JsonPath;
use stepwise_expr::template::{path_not_found, select_for_field};
use stepwise_expr::Scope;
use stepwise_fuzz::{context_doc, input_doc, vars_doc};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = JsonPath::parse(src) else {
        return;
    };
    let scope = Scope {
        input: input_doc(),
        context: context_doc(),
        vars: vars_doc(),
    };
    let _ = path.is_definite();
    let _ = path.is_root_only();
    let _ = path.normalized();
    let _ = path.no_results_cause();
    let _ = path.select(&scope);
    let _ = path.select_in(input_doc());
    let _ = path.select_ref(context_doc());
    let _ = path.take_in(input_doc().clone());
    let _ = select_for_field(&path, "x.$", &scope);
    let _ = path_not_found(&path, Some("x.$"), &scope);
    // ResultPath: write into a copy of the input, and into a scalar.
    let mut target = input_doc().clone();
    let _ = path.set(&mut target, serde_json::json!({"r": 1}));
    let mut scalar = serde_json::json!(5);
    let _ = path.set(&mut scalar, serde_json::Value::Null);
});
