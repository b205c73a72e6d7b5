//! The definition corpus in `testdata/asl/` (provenance in its `SOURCES.md`):
//! every `valid/*.asl.json` (real-world definitions AWS accepts) must parse without a
//! diagnostic, and every `invalid/*.asl.json` must be rejected with each diagnostic its
//! sidecar `*.expected.txt` names. A sidecar line is `CODE POINTER` (`/` for the root;
//! the pointer runs to the end of the line or to ` | `, since state names hold spaces),
//! optionally followed by ` | message` when the exact text matters; `#` starts a comment.
//! `STEPWISE_ASL_TESTDATA` points the test at another folder of the same layout.

use std::fs;
use std::path::{Path, PathBuf};
use stepwise_asl::Diagnostic;

fn root() -> (PathBuf, bool) {
    match std::env::var_os("STEPWISE_ASL_TESTDATA") {
        Some(dir) => (PathBuf::from(dir), false),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/asl"),
            true,
        ),
    }
}

fn definitions(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn show(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("    {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn valid_definitions_are_accepted() {
    let (root, bundled) = root();
    let files = definitions(&root.join("valid"));
    if bundled {
        assert!(files.len() >= 60, "only {} valid definitions", files.len());
    }
    let mut failures = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).expect("readable");
        if let Err(d) = stepwise_asl::parse(&text) {
            failures.push(format!("{}:\n{}", f.display(), show(&d)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} valid definitions rejected:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// One expected diagnostic: code, pointer and maybe the exact message.
struct Expect {
    code: String,
    pointer: String,
    message: Option<String>,
}

fn expectations(text: &str) -> Vec<Expect> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (head, message) = match l.split_once(" | ") {
                Some((h, m)) => (h, Some(m.to_string())),
                None => (l, None),
            };
            // The pointer is the rest of the line: state names may hold spaces.
            let (code, pointer) = head.split_once(' ').unwrap_or((head, ""));
            let pointer = match pointer.trim() {
                "/" => String::new(),
                p => p.to_string(),
            };
            let code = code.to_string();
            Expect {
                code,
                pointer,
                message,
            }
        })
        .collect()
}

#[test]
fn invalid_definitions_are_rejected() {
    let (root, bundled) = root();
    let files = definitions(&root.join("invalid"));
    if bundled {
        assert!(
            files.len() >= 25,
            "only {} invalid definitions",
            files.len()
        );
    }
    let mut failures = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).expect("readable");
        let name = f.to_string_lossy();
        let sidecar = PathBuf::from(name.replace(".asl.json", ".expected.txt"));
        let Ok(expected) = fs::read_to_string(&sidecar) else {
            failures.push(format!("{name}: no {}", sidecar.display()));
            continue;
        };
        let expected = expectations(&expected);
        if expected.is_empty() {
            failures.push(format!("{name}: empty sidecar"));
            continue;
        }
        let diags = match stepwise_asl::parse(&text) {
            Ok(_) => {
                failures.push(format!("{name}: accepted"));
                continue;
            }
            Err(d) => d,
        };
        for e in &expected {
            let hit = diags.iter().any(|d| {
                d.code == e.code
                    && d.pointer == e.pointer
                    && e.message.as_ref().is_none_or(|m| *m == d.message)
            });
            if !hit {
                failures.push(format!(
                    "{name}: no {} at '{}'{} among:\n{}",
                    e.code,
                    e.pointer,
                    e.message
                        .as_ref()
                        .map(|m| format!(" saying '{m}'"))
                        .unwrap_or_default(),
                    show(&diags)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems in {} invalid definitions:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
