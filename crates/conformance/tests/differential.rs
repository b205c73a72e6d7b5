//! Differential test of the string matcher against compare.py's `Matcher`
//! (Python's backtracking `re`): pseudo-random patterns and strings, comparing
//! verdicts and the bindings left behind. Skipped without python3.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use stepwise_conformance::compare::Matcher;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next(xs.len())]
    }
}

const DRIVER: &str = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import compare
out = []
for t in json.load(open(sys.argv[2], encoding="utf-8")):
    m = compare.Matcher(t["ph"])
    verdicts = [not m.match(e, a, "$") for e, a in t["pairs"]]
    out.append({"verdicts": verdicts, "bindings": m.bindings})
json.dump(out, sys.stdout)
"#;

#[test]
fn string_matching_agrees_with_python_re() {
    if !Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!("note: python3 not found; skipped");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    if !root.join("compare.py").is_file() {
        println!("note: compare.py not found; skipped");
        return;
    }
    let ph = json!({
        "<a>": {"matches": "same-text"}, "<b>": {"matches": "same-text"},
        "111111111111": {"matches": "same-text"}, "date": {"matches": "iso8601-or-literal"},
        "any": {"matches": "any-value"}, "timestamp": {"matches": "any-value-under-timestamp-key"}
    });
    let exp_parts = [
        "<a>",
        "<b>",
        "111111111111",
        "date",
        "any",
        "a",
        "-",
        ":",
        "x",
        "1",
    ];
    let act_parts = [
        "a",
        "-",
        ":",
        "x",
        "1",
        "12",
        "123456789012",
        "2024-05-06T07:08:09.123Z",
        "2024-02-29T00:00:00+01:00",
        "2024-02-30T00:00:00Z",
        "2024-05-06T07:08:09+0100",
        "date",
        "a-",
        "-a",
        "ab",
        "",
    ];
    let mut rng = Lcg(42);
    let mut trials = Vec::new();
    for _ in 0..3000 {
        let mut pairs = Vec::new();
        for _ in 0..1 + rng.next(3) {
            let exp: String = (0..1 + rng.next(5)).map(|_| rng.pick(&exp_parts)).collect();
            // half the time, realise the pattern so that matches are common
            let act: String = if rng.next(2) == 0 {
                exp.replace("<a>", rng.pick(&act_parts))
                    .replace("<b>", rng.pick(&act_parts))
                    .replace("111111111111", rng.pick(&act_parts))
                    .replace("date", rng.pick(&act_parts))
                    .replace("any", rng.pick(&act_parts))
            } else {
                (0..rng.next(6)).map(|_| rng.pick(&act_parts)).collect()
            };
            pairs.push(json!([exp, act]));
        }
        trials.push(json!({"ph": ph, "pairs": pairs}));
    }
    let mut rust = Vec::new();
    for t in &trials {
        let mut m = Matcher::new(t.get("ph"), false);
        let verdicts: Vec<bool> = t["pairs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| m.matches(&p[0], &p[1], "$", None).is_empty())
            .collect();
        let bindings: serde_json::Map<String, Value> = m
            .bindings()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        rust.push(json!({"verdicts": verdicts, "bindings": bindings}));
    }
    let tmp =
        std::env::temp_dir().join(format!("stepwise-conformance-diff-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    std::fs::write(
        tmp.join("trials.json"),
        Value::Array(trials.clone()).to_string(),
    )
    .unwrap_or_default();
    std::fs::write(tmp.join("driver.py"), DRIVER).unwrap_or_default();
    let out = Command::new("python3")
        .arg(tmp.join("driver.py"))
        .arg(&root)
        .arg(tmp.join("trials.json"))
        .output();
    let _ = std::fs::remove_dir_all(&tmp);
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!("driver failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("python3: {e}"),
    };
    let python: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(python.len(), rust.len());
    let matched = rust
        .iter()
        .flat_map(|r| r["verdicts"].as_array().cloned().unwrap_or_default())
        .filter(|v| v == &json!(true))
        .count();
    println!("{} trials, {matched} matching strings", rust.len());
    let bad: Vec<String> = python
        .iter()
        .zip(&rust)
        .zip(&trials)
        .filter(|((p, r), _)| p != r)
        .map(|((p, r), t)| format!("{t}\n  python {p}\n  rust   {r}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad[..bad.len().min(8)].join("\n")
    );
}
