//! `stepwise_expr::intrinsics::Intrinsic`: parse arbitrary text as a `States.*` call and,
//! when it parses, evaluate it against a fixed input, Context object and variables with
//! deterministic sources; also as the value of a `"key.$"` field of a payload template.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use stepwise_expr::intrinsics::Intrinsic;
use stepwise_expr::template::PayloadTemplate;
use stepwise_expr::Scope;
use stepwise_fuzz::{context_doc, input_doc, vars_doc, Fixed};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let scope = Scope {
        input: input_doc(),
        context: context_doc(),
        vars: vars_doc(),
    };
    let _ = Intrinsic::looks_like(src);
    if let Ok(call) = Intrinsic::parse(src) {
        let _ = call.paths();
        let _ = call.function().name();
        let _ = call.eval(&scope, &mut Fixed::new());
        let _ = call.eval_for_field(&scope, &mut Fixed::new(), Some("x.$"));
    }
    let raw = json!({"x.$": src, "nested": {"y.$": src, "list": [{"z.$": src}]}});
    if let Ok(template) = PayloadTemplate::compile(&raw) {
        let _ = template.eval(&scope, &mut Fixed::new());
    }
});
