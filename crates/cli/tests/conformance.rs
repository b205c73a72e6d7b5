//! The recorded AWS corpus (../shared/conformance) through `stepwise conformance`.
//!
//! Every case must pass except those listed in `conformance-known-failures.txt`, each
//! with the reason; a listed case that now passes must be removed from the list.
//! Through a real `stepwise serve` (`--server URL`), exactly the cases that pass in
//! process must pass, except those listed in `conformance-server-known-failures.txt`.

#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
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
    let report = run_conformance(&dir, "inprocess", &[]);
    let known = listed(include_str!("conformance-known-failures.txt"));
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

/// Runs `stepwise conformance DIR --report FILE EXTRA…` and returns the JSON report.
fn run_conformance(dir: &Path, tag: &str, extra: &[&str]) -> serde_json::Value {
    let report = std::env::temp_dir().join(format!(
        "stepwise-conformance-{tag}-{}.json",
        std::process::id()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .arg("conformance")
        .arg(dir)
        .arg("--report")
        .arg(&report)
        .args(extra)
        .output()
        .expect("run stepwise conformance");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let _ = std::fs::remove_file(&report);
    serde_json::from_str(&text).expect("report is JSON")
}

/// The case ids of a known-failures file (first word of each non-comment line).
fn listed(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

fn passed_ids(report: &serde_json::Value) -> BTreeSet<String> {
    report["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .filter(|c| c["passed"].as_bool() == Some(true))
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn server_mode_passes_what_in_process_passes() {
    let Some(dir) = corpus() else {
        eprintln!("skipping: ../shared/conformance/cases not found");
        return;
    };
    let data = std::env::temp_dir().join(format!(
        "stepwise-conformance-server-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&data);
    let server = common::server::Server::start(&data, &["--time-scale", "0"]);
    let url = server.url();
    let started = std::time::Instant::now();
    let remote = run_conformance(&dir, "server", &["--server", &url, "--case-timeout", "30"]);
    println!("server mode took {:?}", started.elapsed());
    // A second run against the same server (names taken by the first run) must agree.
    let again = run_conformance(&dir, "server-again", &["--server", &url]);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    let local = run_conformance(&dir, "inprocess-for-server", &[]);
    assert_eq!(remote["total"], local["total"], "same corpus both ways");
    assert!(local["total"].as_u64().unwrap_or(0) > 600);
    let known = listed(include_str!("conformance-server-known-failures.txt"));
    let local_passed = passed_ids(&local);
    let diff_of = |id: &str| {
        remote["cases"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == id))
            .map(|c| format!("[{}] {}", c["part"], c["diff"].as_str().unwrap_or("")))
            .unwrap_or_default()
    };
    for (name, report) in [("first run", &remote), ("second run", &again)] {
        let passed = passed_ids(report);
        let lost: Vec<String> = local_passed
            .iter()
            .filter(|id| !passed.contains(*id) && !known.contains(&id.as_str()))
            .map(|id| format!("{id}: {}", diff_of(id)))
            .collect();
        assert!(
            lost.is_empty(),
            "{name}: cases passing in process but not through the server:\n{}",
            lost.join("\n")
        );
        let gained: Vec<&String> = passed.difference(&local_passed).collect();
        assert!(
            gained.is_empty(),
            "{name}: cases passing only through the server: {gained:?}"
        );
    }
    let fixed: Vec<&&str> = known
        .iter()
        .filter(|id| passed_ids(&remote).contains(**id))
        .collect();
    assert!(
        fixed.is_empty(),
        "server known failures that now pass; remove them from the list: {fixed:?}"
    );
}
