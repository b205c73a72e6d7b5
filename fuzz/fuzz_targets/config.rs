//! `stepwise.toml` (`stepwise_tasks::config::Config::parse`): arbitrary text is a
//! configuration or an error naming where, never a panic; the same bytes as a Task
//! resource and a FunctionName are classified without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use stepwise_tasks::config::{function_name_of, Config};
use stepwise_tasks::resource::classify;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |k: &str| (k == "SET").then(|| "value".to_string());
    if let Ok(config) = Config::parse(text, Path::new("stepwise.toml"), Path::new("/nonexistent"), &env) {
        for name in config.functions.keys() {
            let _ = config.function(name);
        }
    }
    let _ = classify(text);
    let _ = function_name_of(text);
});
