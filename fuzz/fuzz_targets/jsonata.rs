//! `stepwise_jsonata`: compile arbitrary text as a JSONata expression (the body of
//! `{% … %}`) and evaluate it with a fixed `$states` and variables, alone and inside a
//! template.
//!
//! One evaluation may run up to the crate's 10 s wall-clock guard by design (a
//! non-terminating expression). Inputs are capped at 512 bytes to keep executions fast;
//! the template is evaluated only when the expression alone finished quickly, and an
//! input slower than a second is kept out of the corpus so that mutations of a
//! runaway loop do not eat the fuzzing time. scripts/fuzz gives this target a timeout
//! above the guard: only an evaluation the guard fails to stop is a hang.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};
use serde_json::json;
use std::time::{Duration, Instant};
use stepwise_fuzz::{states_doc, vars_doc, Fixed};
use stepwise_jsonata::{is_expression, JsonataExpr, JsonataScope, JsonataTemplate};

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > 512 {
        return Corpus::Reject;
    }
    let Ok(src) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let scope = JsonataScope {
        states: states_doc(),
        vars: vars_doc(),
    };
    let started = Instant::now();
    let _ = is_expression(src);
    if let Ok(expr) = JsonataExpr::parse(src) {
        let _ = expr.variables().count();
        let _ = expr.reads_states_field("result");
        let _ = expr.top_level_references();
        let _ = expr.eval("Output", &scope, &mut Fixed::new());
    }
    let quick = started.elapsed() < Duration::from_millis(100);
    // The same text inside a template: compiled leaves, object keys, nested arrays.
    let raw = json!({"f": format!("{{%{src}%}}"), "g": [src, {"h": "{% $states.input.a %}"}]});
    if let Ok(template) = JsonataTemplate::compile(&raw) {
        let _ = template.expressions();
        if quick {
            let _ = template.eval("Arguments", &scope, &mut Fixed::new());
        }
    }
    if started.elapsed() > Duration::from_secs(1) {
        Corpus::Reject
    } else {
        Corpus::Keep
    }
});
