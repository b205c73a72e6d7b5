//! Every definition AWS accepted (conformance cases not `CREATE_FAILED`, benchmark
//! machines) parses without diagnostics; every case AWS rejected is rejected with AWS's
//! text. The corpus lives next to the repository (`../shared`); without it the test
//! passes vacuously.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    match std::env::var_os("STEPWISE_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// `Invalid State Machine Definition: 'CODE: message at /pointer, …'`, as AWS writes it.
fn aws_cause(diags: &[stepwise_asl::Diagnostic]) -> String {
    let parts: Vec<String> = diags
        .iter()
        .map(|d| {
            format!(
                "{}: {} at {}",
                d.code,
                d.message,
                if d.pointer.is_empty() {
                    "/"
                } else {
                    &d.pointer
                }
            )
        })
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}

#[test]
fn conformance_definitions() {
    let dir = shared().join("conformance/cases");
    let Ok(entries) = fs::read_dir(&dir) else {
        eprintln!("no corpus at {}", dir.display());
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in entries.flatten() {
        let case = entry.path();
        let (Ok(def), Ok(expected)) = (
            fs::read_to_string(case.join("definition.json")),
            fs::read_to_string(case.join("expected.json")),
        ) else {
            continue;
        };
        let expected: Value = serde_json::from_str(&expected).expect("expected.json is JSON");
        checked += 1;
        let result = stepwise_asl::parse(&def);
        if expected["status"] == "CREATE_FAILED" {
            match result {
                Ok(_) => failures.push(format!("{}: accepted, AWS rejected it", case.display())),
                Err(d) => {
                    if expected["cause"].as_str() != Some(aws_cause(&d).as_str()) {
                        failures.push(format!(
                            "{}: {} != {}",
                            case.display(),
                            aws_cause(&d),
                            expected["cause"]
                        ));
                    }
                }
            }
        } else if let Err(d) = result {
            failures.push(format!("{}: {}", case.display(), aws_cause(&d)));
        }
    }
    eprintln!("checked {checked} conformance cases");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bench_definitions() {
    let dir = shared().join("bench");
    let Ok(entries) = fs::read_dir(&dir) else {
        eprintln!("no bench folder at {}", dir.display());
        return;
    };
    let mut failures = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // Definitions are `NAME.json`; inputs and expectations sit beside them.
        if !name.ends_with(".json")
            || name.ends_with(".input.json")
            || name.ends_with(".expected.json")
        {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        if let Err(d) = stepwise_asl::parse(&text) {
            failures.push(format!("{name}: {}", aws_cause(&d)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
