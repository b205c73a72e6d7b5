//! Runs cases through an [`Engine`] and summarises the verdicts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::compare::{compare_case, CompareOptions};
use crate::{Case, Outcome};

/// The engine under test. It creates the state machine from
/// `case.definition_text` (rejecting it as AWS would: status `CREATE_FAILED`,
/// error `InvalidDefinition`, cause = AWS's message), runs one execution with
/// `case.input`, and returns the outcome with AWS-style history events.
pub trait Engine {
    fn run(&self, case: &Case) -> Outcome;
}

/// The verdict on one case. `part`/`diff` are null when the case passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub category: String,
    pub passed: bool,
    /// `status | output | error | cause | history`: the part of the first difference.
    pub part: Option<String>,
    /// The differences, one a line.
    pub diff: Option<String>,
}

/// The JSON report: `{"total": N, "passed": P, "cases": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub total: usize,
    pub passed: usize,
    pub cases: Vec<CaseResult>,
}

impl Report {
    pub fn from_results(cases: Vec<CaseResult>) -> Report {
        let passed = cases.iter().filter(|c| c.passed).count();
        Report {
            total: cases.len(),
            passed,
            cases,
        }
    }

    pub fn failed(&self) -> usize {
        self.total - self.passed
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // a struct of strings, numbers and bools always serialises
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A plain-text table per category (sorted), then the line
    /// `conformance: P passed, F failed`.
    pub fn table(&self) -> String {
        let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for c in &self.cases {
            let e = per.entry(c.category.as_str()).or_default();
            if c.passed {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
        let width = per
            .keys()
            .map(|k| k.chars().count())
            .chain([8, "total".len()])
            .max()
            .unwrap_or(8);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}  {:>6}",
            "category", "passed", "failed", "total"
        );
        for (cat, (p, f)) in &per {
            let _ = writeln!(out, "{cat:<width$}  {p:>6}  {f:>6}  {:>6}", p + f);
        }
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}  {:>6}",
            "total",
            self.passed,
            self.failed(),
            self.total
        );
        out.push_str(&self.summary(None));
        out
    }

    /// The table with its last line saying which failures are known
    /// ([`Report::summary`]).
    pub fn table_with_known(&self, known: &[String]) -> String {
        let table = self.table();
        let head = table.rsplit_once('\n').map_or("", |(h, _)| h);
        format!("{head}\n{}", self.summary(Some(known)))
    }

    /// `conformance: P passed, F failed`; with the known failures (case ids), what the
    /// failures are: `conformance: 652 passed, 2 failed (2 known failures: a, b)`, or
    /// `(1 known failure: a; 1 not known: c)`, and known ones that now pass. Only cases
    /// in this run count (a `--filter` leaves the others out).
    pub fn summary(&self, known: Option<&[String]>) -> String {
        let mut line = format!(
            "conformance: {} passed, {} failed",
            self.passed,
            self.failed()
        );
        let Some(known) = known else {
            return line;
        };
        let listed = |id: &str| known.iter().any(|k| k == id);
        let failing_known: Vec<&str> = self
            .cases
            .iter()
            .filter(|c| !c.passed && listed(&c.id))
            .map(|c| c.id.as_str())
            .collect();
        let unknown: Vec<&str> = self
            .cases
            .iter()
            .filter(|c| !c.passed && !listed(&c.id))
            .map(|c| c.id.as_str())
            .collect();
        let now_passing: Vec<&str> = self
            .cases
            .iter()
            .filter(|c| c.passed && listed(&c.id))
            .map(|c| c.id.as_str())
            .collect();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut parts = vec![if failing_known.is_empty() {
            "0 known failures".to_string()
        } else {
            format!(
                "{} known failure{}: {}",
                failing_known.len(),
                plural(failing_known.len()),
                failing_known.join(", ")
            )
        }];
        if !unknown.is_empty() {
            parts.push(format!(
                "{} not known: {}",
                unknown.len(),
                unknown.join(", ")
            ));
        }
        if !now_passing.is_empty() {
            parts.push(format!(
                "listed as known but passing: {}",
                now_passing.join(", ")
            ));
        }
        let _ = write!(line, " ({})", parts.join("; "));
        line
    }

    /// The failures not in `known` (case ids).
    pub fn unknown_failures(&self, known: &[String]) -> usize {
        self.cases
            .iter()
            .filter(|c| !c.passed && !known.contains(&c.id))
            .count()
    }
}

/// The case ids of a known-failures file: the first word of each line that is not
/// blank or a `#` comment (the rest of the line says why).
pub fn parse_known_failures(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

/// How to run: history comparison, number strictness, worker threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunOptions {
    pub compare: CompareOptions,
    /// Worker threads (0 = the machine's parallelism).
    pub threads: usize,
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Runs and judges one case; a panicking engine is a failure of this case.
pub fn run_case(case: &Case, engine: &dyn Engine, opts: CompareOptions) -> CaseResult {
    let outcome = catch_unwind(AssertUnwindSafe(|| engine.run(case)));
    let (part, diff) = match outcome {
        Err(payload) => (
            Some("status".to_string()),
            Some(format!("engine panicked: {}", panic_message(&*payload))),
        ),
        Ok(outcome) => {
            let diffs = catch_unwind(AssertUnwindSafe(|| {
                compare_case(&case.expected, &outcome, opts)
            }));
            match diffs {
                Err(payload) => (
                    Some("status".to_string()),
                    Some(format!("comparator panicked: {}", panic_message(&*payload))),
                ),
                Ok(d) if d.is_empty() => (None, None),
                Ok(d) => (
                    d.first().map(|x| x.part.to_string()),
                    Some(
                        d.iter()
                            .map(|x| x.text.as_str())
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                ),
            }
        }
    };
    CaseResult {
        id: case.id.clone(),
        category: case.category.clone(),
        passed: part.is_none(),
        part,
        diff,
    }
}

/// Runs every case (in parallel on the machine's cores) and reports in case order.
pub fn run_all(cases: &[Case], engine: &(dyn Engine + Sync), check_history: bool) -> Report {
    let opts = RunOptions {
        compare: CompareOptions {
            check_history,
            ..CompareOptions::default()
        },
        ..RunOptions::default()
    };
    run_all_with(cases, engine, opts)
}

/// [`run_all`] with all options.
pub fn run_all_with(cases: &[Case], engine: &(dyn Engine + Sync), opts: RunOptions) -> Report {
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
    .min(cases.len())
    .max(1);
    if threads == 1 {
        return run_all_sequential_with(cases, engine, opts.compare);
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; cases.len()]);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let r = run_case(case, engine, opts.compare);
                // run_case never panics while holding the lock, so it is never poisoned
                let mut guard = results.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(slot) = guard.get_mut(i) {
                    *slot = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    Report::from_results(results.into_iter().flatten().collect())
}

/// Runs every case on the calling thread (for engines that are not `Sync`).
pub fn run_all_sequential(cases: &[Case], engine: &dyn Engine, check_history: bool) -> Report {
    run_all_sequential_with(
        cases,
        engine,
        CompareOptions {
            check_history,
            ..CompareOptions::default()
        },
    )
}

fn run_all_sequential_with(cases: &[Case], engine: &dyn Engine, opts: CompareOptions) -> Report {
    Report::from_results(cases.iter().map(|c| run_case(c, engine, opts)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn case(id: &str, category: &str, expected: serde_json::Value) -> Case {
        Case {
            id: id.into(),
            category: category.into(),
            dir: PathBuf::from(id),
            definition_text: "{}".into(),
            input: json!({}),
            expected,
            meta: serde_json::Value::Null,
            state_machine_type: "STANDARD".into(),
        }
    }

    /// Answers `{"n": N}` for input N, fails on "fail", panics on "panic".
    struct Fake;
    impl Engine for Fake {
        fn run(&self, case: &Case) -> Outcome {
            match case.id.as_str() {
                "panic" => panic!("boom in {}", case.id),
                "fail" => Outcome {
                    status: "FAILED".into(),
                    error: Some("E".into()),
                    ..Outcome::default()
                },
                _ => Outcome {
                    status: "SUCCEEDED".into(),
                    output: Some(json!({"n": 1})),
                    ..Outcome::default()
                },
            }
        }
    }

    fn cases() -> Vec<Case> {
        let ok = json!({"status": "SUCCEEDED", "output": {"n": 1}});
        let mut v = vec![
            case("a-ok", "cat/one", ok.clone()),
            case(
                "b-wrong",
                "cat/one",
                json!({"status": "SUCCEEDED", "output": {"n": 2}}),
            ),
            case("panic", "cat/two", ok.clone()),
            case(
                "fail",
                "cat/two",
                json!({"status": "FAILED", "error": "E", "cause": "c"}),
            ),
        ];
        for i in 0..20 {
            v.push(case(&format!("z{i:02}"), "cat/three", ok.clone()));
        }
        v
    }

    #[test]
    fn runs_in_parallel_in_order_and_survives_panics() {
        let cases = cases();
        let report = run_all(&cases, &Fake, true);
        assert_eq!(report.total, 24);
        assert_eq!(report.passed, 21);
        let ids: Vec<&str> = report.cases.iter().map(|c| c.id.as_str()).collect();
        let want: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, want);
        let p = &report.cases[2];
        assert!(!p.passed);
        assert_eq!(p.part.as_deref(), Some("status"));
        assert_eq!(p.diff.as_deref(), Some("engine panicked: boom in panic"));
        let w = &report.cases[1];
        assert_eq!(w.part.as_deref(), Some("output"));
        assert_eq!(w.diff.as_deref(), Some("output.n: expected 2, got 1"));
        assert_eq!(report.cases[3].part.as_deref(), Some("cause"));
        assert_eq!(report.cases[3].diff.as_deref(), Some("cause: missing"));
        assert_eq!(report, run_all_sequential(&cases, &Fake, true));
        let one = run_all_with(
            &cases,
            &Fake,
            RunOptions {
                threads: 1,
                ..RunOptions::default()
            },
        );
        assert_eq!(report, one);
    }

    #[test]
    fn json_report_shape() {
        let report = run_all(&cases()[..2], &Fake, false);
        let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap_or_default();
        assert_eq!(
            v,
            json!({"total": 2, "passed": 1, "cases": [
                {"id": "a-ok", "category": "cat/one", "passed": true, "part": null, "diff": null},
                {"id": "b-wrong", "category": "cat/one", "passed": false, "part": "output",
                 "diff": "output.n: expected 2, got 1"}
            ]})
        );
    }

    #[test]
    fn table_per_category() {
        let table = run_all(&cases(), &Fake, true).table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["category", "passed", "failed", "total"]
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["cat/one", "1", "1", "2"]
        );
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["cat/three", "20", "0", "20"]
        );
        assert_eq!(
            lines[3].split_whitespace().collect::<Vec<_>>(),
            ["cat/two", "0", "2", "2"]
        );
        assert_eq!(
            lines[4].split_whitespace().collect::<Vec<_>>(),
            ["total", "21", "3", "24"]
        );
        assert_eq!(lines[5], "conformance: 21 passed, 3 failed");
    }

    #[test]
    fn summary_names_known_failures() {
        let report = run_all(&cases(), &Fake, true);
        let failing: Vec<String> = report
            .cases
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.id.clone())
            .collect();
        assert_eq!(failing.len(), 3);
        let all = failing.clone();
        assert_eq!(
            report.summary(Some(&all)),
            format!(
                "conformance: 21 passed, 3 failed (3 known failures: {})",
                failing.join(", ")
            )
        );
        assert_eq!(report.unknown_failures(&all), 0);
        let some = vec![failing[0].clone(), "a-ok".to_string()];
        assert_eq!(
            report.summary(Some(&some)),
            format!(
                "conformance: 21 passed, 3 failed (1 known failure: {}; 2 not known: {}, {}; listed as known but passing: a-ok)",
                failing[0], failing[1], failing[2]
            )
        );
        assert_eq!(report.unknown_failures(&some), 2);
        assert_eq!(
            report.summary(Some(&[])),
            "conformance: 21 passed, 3 failed (0 known failures; 3 not known: ".to_string()
                + &failing.join(", ")
                + ")"
        );
        let table = report.table_with_known(&all);
        assert_eq!(table.lines().count(), 6);
        let tail = "(3 known failures: ".to_string() + &failing.join(", ") + ")";
        assert!(table.ends_with(&tail));
        assert_eq!(
            parse_known_failures("# why\n\nabc  flaky since X\n  def\n"),
            ["abc", "def"]
        );
    }
}
