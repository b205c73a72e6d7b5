//! The comparator against the shared corpus: compare.py's self-test, ported, and
//! a cross-check of verdicts with compare.py itself (when python3 exists).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use stepwise_conformance::compare::{compare_actual_json, CompareOptions};
use stepwise_conformance::selftest::{realized_actual, self_test};
use stepwise_conformance::{load_cases, Case};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

fn corpus() -> Option<Vec<Case>> {
    let dir = corpus_root().join("cases");
    if !dir.is_dir() {
        println!("note: {} is absent; corpus tests skipped", dir.display());
        return None;
    }
    match load_cases(&dir, None) {
        Ok(c) => Some(c),
        Err(e) => panic!("loading the corpus: {e}"),
    }
}

#[test]
fn loads_the_corpus() {
    let Some(cases) = corpus() else { return };
    assert!(cases.len() > 600, "{}", cases.len());
    assert!(cases.windows(2).all(|w| w[0].id < w[1].id));
    for c in &cases {
        assert_eq!(c.meta["category"].as_str(), Some(c.category.as_str()));
        assert!(c.expected.get("status").is_some(), "{}", c.id);
        assert!(!c.definition_text.is_empty());
    }
    assert_eq!(
        cases
            .iter()
            .filter(|c| c.state_machine_type == "EXPRESS")
            .count(),
        1
    );
    let some = load_cases(corpus_root().join("cases"), Some("base/wait")).unwrap_or_default();
    assert!(!some.is_empty() && some.iter().all(|c| c.category == "base/wait"));
}

#[test]
fn self_test_accepts_realised_cases_and_rejects_wrong_ones() {
    let Some(cases) = corpus() else { return };
    let problems = self_test(&cases);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Cross-check with compare.py
// ---------------------------------------------------------------------------

fn python3() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), map_strings(x, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn ints_to_floats(v: &Value) -> Value {
    match v {
        Value::Number(n) if !n.is_f64() => n.as_f64().map_or(v.clone(), Value::from),
        Value::Array(a) => Value::Array(a.iter().map(ints_to_floats).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), ints_to_floats(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Changes the first string or number leaf.
fn perturb_first_leaf(v: &Value, done: &mut bool) -> Value {
    if *done {
        return v.clone();
    }
    match v {
        Value::String(s) => {
            *done = true;
            Value::String(format!("{s}x"))
        }
        Value::Number(n) => {
            *done = true;
            Value::from(n.as_f64().unwrap_or(0.0) + 1.0)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| perturb_first_leaf(x, done)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), perturb_first_leaf(x, done)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Variants of a case's realised outcome, each a likely pass or fail.
fn variants(expected: &Value) -> Vec<Value> {
    let base = realized_actual(expected);
    let mut out = vec![base.clone()];
    let with = |k: &str, v: Value| {
        let mut a = base.clone();
        a[k] = v;
        a
    };
    if let Some(o) = base.get("output") {
        let mut done = false;
        out.push(with("output", perturb_first_leaf(o, &mut done)));
        out.push(with("output", ints_to_floats(o)));
        // other fake values, in the output only (inconsistent with the history)
        out.push(with(
            "output",
            map_strings(o, &|s| {
                s.replace("123456789012", "210987654321")
                    .replace("us-east-1", "eu-west-3")
            }),
        ));
        out.push(with(
            "output",
            map_strings(o, &|s| {
                s.replace("2024-05-06T07:08:09.123Z", "2024-02-30T07:08:09Z")
            }),
        ));
        out.push(with("error", json!("")));
        out.push(with("cause", json!("x")));
    }
    // the same other fake values everywhere (consistent)
    out.push(map_strings(&base, &|s| {
        s.replace("123456789012", "210987654321")
            .replace("exec-5f0c2e", "e2")
    }));
    for k in ["error", "cause"] {
        if let Some(Value::String(s)) = base.get(k) {
            out.push(with(k, json!(format!("{s}."))));
            let mut a = base.clone();
            if let Some(m) = a.as_object_mut() {
                m.remove(k);
            }
            out.push(a);
            out.push(with(
                k,
                map_strings(&json!(s), &|s| s.replace("us-east-1", "eu-west-3")),
            ));
        }
    }
    if let Some(Value::Array(h)) = base.get("history") {
        if h.len() >= 4 {
            let mut s = h.clone();
            s.swap(1, 2);
            out.push(with("history", Value::Array(s)));
            let mut s = h.clone();
            s.swap(h.len() - 2, h.len() - 3);
            out.push(with("history", Value::Array(s)));
        }
        if h.len() >= 2 {
            out.push(with("history", Value::Array(h[..h.len() - 1].to_vec())));
            out.push(with("history", ints_to_floats(&Value::Array(h.clone()))));
        }
    }
    out
}

const DRIVER: &str = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import compare
out = []
for p in json.load(open(sys.argv[2], encoding="utf-8")):
    exp = json.load(open(p["case"] + "/expected.json", encoding="utf-8"))
    out.append(not compare.compare_case(exp, p["actual"], p["history"], p["strict"]))
json.dump(out, sys.stdout)
"#;

#[test]
fn verdicts_agree_with_compare_py() {
    let Some(cases) = corpus() else { return };
    if !python3() {
        println!("note: python3 not found; cross-check with compare.py skipped");
        return;
    }
    let mut pairs = Vec::new();
    let mut rust = Vec::new();
    for case in &cases {
        for actual in variants(&case.expected) {
            for (history, strict) in [(true, false), (true, true), (false, false)] {
                let opts = CompareOptions {
                    check_history: history,
                    strict_numbers: strict,
                };
                rust.push(compare_actual_json(&case.expected, &actual, opts).is_empty());
                pairs.push(json!({"case": case.dir, "actual": actual, "history": history, "strict": strict}));
            }
        }
    }
    let tmp = std::env::temp_dir().join(format!(
        "stepwise-conformance-xcheck-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let pairs_path = tmp.join("pairs.json");
    let driver_path = tmp.join("driver.py");
    std::fs::write(&pairs_path, Value::Array(pairs.clone()).to_string()).unwrap_or_default();
    std::fs::write(&driver_path, DRIVER).unwrap_or_default();
    let out = Command::new("python3")
        .env("PYTHONHASHSEED", "0")
        .arg(&driver_path)
        .arg(corpus_root())
        .arg(&pairs_path)
        .output();
    let _ = std::fs::remove_dir_all(&tmp);
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!(
            "compare.py driver failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("running python3: {e}"),
    };
    let python: Vec<bool> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(python.len(), rust.len());
    let mut disagreements = Vec::new();
    for ((p, r), pair) in python.iter().zip(&rust).zip(&pairs) {
        if p != r {
            disagreements.push(format!(
                "python {p}, rust {r}: {}",
                pair.to_string().chars().take(300).collect::<String>()
            ));
        }
    }
    let fails = python.iter().filter(|p| !**p).count();
    println!(
        "cross-checked {} verdicts ({} failures) with compare.py",
        python.len(),
        fails
    );
    assert!(
        fails > python.len() / 4 && fails < python.len() * 3 / 4,
        "mutations should split verdicts: {fails}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(10)].join("\n")
    );
}

/// A few cases through the command line exactly as the README says.
#[test]
fn compare_py_command_line_on_a_few_cases() {
    let Some(cases) = corpus() else { return };
    if !python3() {
        println!("note: python3 not found; skipped");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("stepwise-conformance-cli-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let script = corpus_root().join("compare.py");
    let picked: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            c.expected.get("placeholders").is_some()
                || c.expected.get("history_order") == Some(&json!("concurrent"))
        })
        .take(12)
        .collect();
    assert!(!picked.is_empty());
    for case in picked {
        for actual in variants(&case.expected).into_iter().take(3) {
            let path = tmp.join("actual.json");
            std::fs::write(&path, actual.to_string()).unwrap_or_default();
            let status = Command::new("python3")
                .arg(&script)
                .arg(&case.dir)
                .arg(&path)
                .output();
            let Ok(status) = status else {
                panic!("python3 did not run")
            };
            let rust =
                compare_actual_json(&case.expected, &actual, CompareOptions::default()).is_empty();
            assert_eq!(
                status.status.success(),
                rust,
                "{}: {}",
                case.id,
                String::from_utf8_lossy(&status.stdout)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
