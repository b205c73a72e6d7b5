//! `stepwise_api::shapes`: an AWS request body checked against the service model, as
//! the server does before any handler runs. The first byte picks the action (an index
//! into the model's operations), the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use stepwise_api::shapes;

fn operations() -> &'static [&'static str] {
    static OPS: OnceLock<Vec<&'static str>> = OnceLock::new();
    OPS.get_or_init(|| shapes::operation_names().collect())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let ops = operations();
    let name = ops[pick as usize % ops.len()];
    let op = shapes::operation(name).expect("every listed operation exists");
    let _ = shapes::input_members(op).count();
    let _ = shapes::errors(op);
    // As the server reads it (serde_json directly), and as parse_body reads it.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let _ = shapes::validate_input(op, &value);
    }
    if let Ok(value) = shapes::parse_body(body) {
        if let Err(e) = shapes::validate_input(op, &value) {
            let _ = (e.code(), e.message().len());
        }
    }
});
