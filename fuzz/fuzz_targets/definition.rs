//! `stepwise_asl::parse`: definition text through the parser and validator, and the
//! helpers CreateStateMachine uses on its result (AWS's diagnostic wording, EXPRESS
//! checks, variable references).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match stepwise_asl::parse(text) {
        Ok(def) => {
            let _ = stepwise_asl::check_express(&def);
        }
        Err(diags) => {
            let _ = stepwise_asl::aws_message(&diags);
            for d in stepwise_asl::aws_reported(&diags) {
                let _ = stepwise_asl::aws_location(d);
            }
        }
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = stepwise_asl::variable_references(&value);
    }
});
