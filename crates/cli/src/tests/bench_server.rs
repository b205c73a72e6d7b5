//! Unit tests of `bench_server.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn json_numbers_compare_by_value() {
    assert!(same_json(
        &json!({"a": [1, {"b": 2.0}]}),
        &json!({"a": [1.0, {"b": 2}]})
    ));
    assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    assert!(!same_json(&json!([1, 2]), &json!([2, 1])));
    assert!(!same_json(&json!("1"), &json!(1)));
}

#[test]
fn proc_stat_cpu_skips_a_comm_with_spaces() {
    let stat = "1234 (moto server) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
    assert_eq!(parse_stat_cpu(stat), Some(3.0));
    assert_eq!(parse_stat_cpu("garbage"), None);
    if let Some(s) = cpu_secs_of("/proc/self/stat") {
        assert!(s >= 0.0);
    }
}

#[test]
fn vm_rss_is_read_in_kib() {
    assert_eq!(
        status_kib("VmHWM:\t 9 kB\nVmRSS:\t  5000 kB\n", "VmRSS:"),
        Some(5000)
    );
    assert_eq!(status_kib("VmRSS:\t 3 MB\n", "VmRSS:"), None);
    assert_eq!(status_kib("", "VmRSS:"), None);
}

#[test]
fn prometheus_text_is_parsed_with_labels() {
    let m = parse_metrics(
        "# HELP x y\n# TYPE x counter\nstepwise_commit_seconds_sum 0.25\nstepwise_executions_finished_total{status=\"SUCCEEDED\"} 7\nbad line\n",
    );
    assert_eq!(m.get("stepwise_commit_seconds_sum"), Some(&0.25));
    assert_eq!(
        m.get("stepwise_executions_finished_total{status=\"SUCCEEDED\"}"),
        Some(&7.0)
    );
    assert_eq!(m.len(), 2);
}

#[test]
fn succeeded_output_is_checked() {
    let ok = json!({"status": "SUCCEEDED", "output": "{\"greeting\": \"hello world\"}"});
    assert!(check_succeeded(&ok, &json!({"greeting": "hello world"})).is_ok());
    assert!(check_succeeded(&ok, &json!({"greeting": "hi"})).is_err());
    let failed = json!({"status": "FAILED", "error": "States.Runtime", "cause": "x"});
    let e = check_succeeded(&failed, &json!(null))
        .unwrap_err()
        .to_string();
    assert!(e.contains("FAILED") && e.contains("States.Runtime"), "{e}");
}

fn row(target: Option<Target>, better: Better, s: Cell, m: Cell) -> Row {
    Row {
        workload: "hello3",
        metric: "m".into(),
        unit: Unit::PerSec,
        better,
        target,
        stepwise: s,
        process: Cell::Skipped(String::new()),
        moto: m,
    }
}

#[test]
fn ratio_is_times_better_both_ways_and_targets_are_judged() {
    let r = row(
        Some(Target::AtLeast(8000.0)),
        Better::Higher,
        Cell::Ran(9000.0, String::new()),
        Cell::Ran(90.0, String::new()),
    );
    assert_eq!(r.ratio(), Some(100.0));
    assert_eq!(r.met(), Some(true));
    let r = row(
        Some(Target::AtMost(2.0)),
        Better::Lower,
        Cell::Ran(1.0, String::new()),
        Cell::Ran(11.0, String::new()),
    );
    assert_eq!(r.ratio(), Some(11.0));
    assert_eq!(r.met(), Some(true));
    let r = row(
        Some(Target::AtLeast(5000.0)),
        Better::Higher,
        Cell::Ran(4000.0, String::new()),
        Cell::Skipped("n/a".into()),
    );
    assert_eq!(r.ratio(), None);
    assert_eq!(r.met(), Some(false));
    let r = row(
        None,
        Better::Higher,
        Cell::Ran(1.0, String::new()),
        Cell::Skipped(String::new()),
    );
    assert_eq!(r.met(), None);
}

#[test]
fn table_is_aligned_with_marks_and_failures() {
    let rows = vec![
        row(
            Some(Target::AtLeast(5000.0)),
            Better::Higher,
            Cell::Ran(12_345.6, String::new()),
            Cell::Ran(90.0, String::new()),
        ),
        row(
            None,
            Better::Higher,
            Cell::Failed("output differs\nmore".into()),
            Cell::Skipped("n/a".into()),
        ),
    ];
    let t = format_table(&rows);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4);
    let w = lines[0].chars().count();
    assert!(lines.iter().all(|l| l.chars().count() == w), "{t}");
    assert!(lines[0].starts_with("| workload | metric | Stepwise "));
    assert!(
        lines[2].contains("12,346")
            && lines[2].contains("90.0")
            && lines[2].contains("137×")
            && lines[2].contains("≥ 5,000 ✓"),
        "{t}"
    );
    assert!(lines[3].contains("FAILED (below)") && !lines[3].contains("output differs"));
}

#[test]
fn driver_counts_operations_and_stops_on_the_first_error() {
    let n = AtomicU64::new(0);
    let r = drive("http://127.0.0.1:9", 3, Until::Count(10), &|_| {
        n.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        (r.ops, r.hist.count(), n.load(Ordering::Relaxed)),
        (10, 10, 10)
    );
    let r = drive("http://127.0.0.1:9", 2, Until::Seconds(0.05), &|_| Ok(()));
    assert!(r.unwrap().ops > 0);
    let e = drive("http://127.0.0.1:9", 4, Until::Seconds(10.0), &|_| {
        bail!("boom")
    })
    .err()
    .unwrap();
    assert_eq!(e.to_string(), "boom");
}
