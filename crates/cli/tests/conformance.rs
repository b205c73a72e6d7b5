//! The recorded AWS corpus (../shared/conformance) through `stepwise conformance`.
//!
//! Every case must pass except those listed in `conformance-known-failures.txt`, each
//! with the reason; a listed case that now passes must be removed from the list.

use std::path::PathBuf;
use std::process::Command;

fn corpus() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/cases");
    p.is_dir().then_some(p)
}

#[test]
fn corpus_passes_except_known_failures() {
    let Some(dir) = corpus() else {
        eprintln!("skipping: ../shared/conformance/cases not found");
        return;
    };
    let report =
        std::env::temp_dir().join(format!("stepwise-conformance-{}.json", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .arg("conformance")
        .arg(&dir)
        .arg("--report")
        .arg(&report)
        .output()
        .expect("run stepwise conformance");
    let table = String::from_utf8_lossy(&out.stdout);
    println!("{table}");
    let text = std::fs::read_to_string(&report).expect("report written");
    let _ = std::fs::remove_file(&report);
    let report: serde_json::Value = serde_json::from_str(&text).expect("report is JSON");
    let known_text = include_str!("conformance-known-failures.txt");
    let known: Vec<&str> = known_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let cases = report["cases"].as_array().expect("cases array");
    assert!(
        cases.len() > 600,
        "the corpus should hold more than 600 cases, found {}",
        cases.len()
    );
    let mut regressions = Vec::new();
    let mut fixed = Vec::new();
    for c in cases {
        let id = c["id"].as_str().unwrap_or("");
        let passed = c["passed"].as_bool().unwrap_or(false);
        let listed = known.contains(&id);
        if !passed && !listed {
            regressions.push(format!(
                "{id}: [{}] {}",
                c["part"],
                c["diff"].as_str().unwrap_or("")
            ));
        }
        if passed && listed {
            fixed.push(id.to_string());
        }
    }
    assert!(
        regressions.is_empty(),
        "cases failing that are not known failures:\n{}",
        regressions.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "known failures that now pass; remove them from the list:\n{}",
        fixed.join("\n")
    );
}
