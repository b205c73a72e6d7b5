//! Unit tests of `bench.rs` (a child module of it: `super::*` is that file).

use super::*;

fn figures(tps: f64, p50: f64, p99: f64, kib: Option<u64>) -> Figures {
    Figures {
        executions: 10,
        transitions_per_exec: 100,
        seconds: 1.0,
        transitions_per_sec: tps,
        us_p50: p50,
        us_p99: p99,
        peak_rss_kib: kib,
    }
}

#[test]
fn vm_hwm_is_read_in_kib() {
    let status = "Name:\tstepwise\nVmPeak:\t  20000 kB\nVmHWM:\t    5432 kB\nVmRSS:\t    5000 kB\n";
    assert_eq!(parse_vm_hwm_kib(status), Some(5432));
    assert_eq!(parse_vm_hwm_kib("VmRSS:\t 1 kB\n"), None);
    assert_eq!(parse_vm_hwm_kib("VmHWM:\tmany kB\n"), None);
    assert_eq!(parse_vm_hwm_kib("VmHWM:\t 3 MB\n"), None);
}

#[test]
fn vm_hwm_of_this_process_is_there_on_linux() {
    if let Ok(s) = std::fs::read_to_string("/proc/self/status") {
        assert!(parse_vm_hwm_kib(&s).is_some_and(|k| k > 0));
    }
}

#[test]
fn histogram_buckets_are_exact_below_128_and_within_2_percent_above() {
    for ns in 0..128 {
        assert_eq!(Histogram::value(Histogram::bucket(ns)), ns as f64);
    }
    let mut prev = 0;
    for ns in [
        128u64,
        129,
        200,
        1_000,
        4_095,
        4_096,
        123_456,
        10_000_000,
        u64::MAX / 3,
        u64::MAX,
    ] {
        let b = Histogram::bucket(ns);
        assert!(b >= prev, "buckets grow with the value");
        assert!(b < 64 * 64 + 128);
        prev = b;
        let v = Histogram::value(b);
        assert!((v - ns as f64).abs() / (ns as f64) < 0.016, "{ns} → {v}");
    }
}

#[test]
fn percentiles_are_nearest_rank() {
    let mut h = Histogram::new();
    assert_eq!(h.percentile(0.5), 0.0);
    for ns in 1..=100 {
        h.record(ns);
    }
    assert_eq!(h.count(), 100);
    assert_eq!(h.percentile(0.5), 50.0);
    assert_eq!(h.percentile(0.99), 99.0);
    assert_eq!(h.percentile(1.0), 100.0);
    assert_eq!(h.percentile(0.0), 1.0);
    // One slow outlier shows at p99 only when it is more than 1% of the samples.
    let mut h = Histogram::new();
    for _ in 0..99 {
        h.record(10);
    }
    h.record(1_000_000);
    assert_eq!(h.percentile(0.99), 10.0);
    assert!((h.percentile(1.0) - 1_000_000.0).abs() < 16_000.0);
}

#[test]
fn percentile_of_counts_walks_the_buckets() {
    assert_eq!(percentile_of_counts(&[0, 3, 0, 1], 4, 0.5), Some(1));
    assert_eq!(percentile_of_counts(&[0, 3, 0, 1], 4, 0.99), Some(3));
    assert_eq!(percentile_of_counts(&[], 0, 0.5), None);
}

#[test]
fn numbers_are_formatted_for_reading() {
    assert_eq!(thousands(0.0), "0");
    assert_eq!(thousands(999.4), "999");
    assert_eq!(thousands(1000.0), "1,000");
    assert_eq!(thousands(1_234_567.8), "1,234,568");
    assert_eq!(micros(3.14659), "3.15");
    assert_eq!(micros(123.45), "123.5");
    assert_eq!(micros(23_724.0), "23,724");
    assert_eq!(mib(Some(1536)), "1.5");
    assert_eq!(mib(None), "?");
}

#[test]
fn table_aligns_columns_and_shows_ratio_failures_and_skips() {
    let rows = vec![
        Row {
            workload: "chain100".into(),
            stepwise: Cell::Ran(figures(2_000_000.0, 48.5, 60.26, Some(4096))),
            peer: Cell::Ran(figures(100_000.0, 1000.0, 6127.6, Some(115_980))),
        },
        Row {
            workload: "map1000".into(),
            stepwise: Cell::Failed("wrong output".into()),
            peer: Cell::Skipped("not run".into()),
        },
        Row {
            workload: "waitday".into(),
            stepwise: Cell::Skipped("n/a (server)".into()),
            peer: Cell::Skipped(String::new()),
        },
    ];
    let t = format_table(&rows);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 5);
    let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
    assert!(
        widths.iter().all(|w| *w == widths[0]),
        "every line is as wide: {t}"
    );
    assert!(
        lines[0].starts_with("| workload | Stepwise transitions/s | peer transitions/s | ratio |")
    );
    assert!(lines[1].starts_with("| -------- | ---------------------:"));
    assert!(lines[2].contains(" 2,000,000 |"));
    assert!(lines[2].contains(" 100,000 |"));
    assert!(lines[2].contains(" 20.0× |"));
    assert!(lines[2].contains("48.5 / 60.3"));
    assert!(lines[2].contains("1,000 / 6,128"));
    assert!(lines[2].contains(" 4.0 |") && lines[2].ends_with(" 113.3 |"));
    assert!(lines[3].contains("FAILED") && lines[3].contains("not run"));
    assert!(lines[4].contains("n/a (server)"));
}

#[test]
fn figures_round_trip_through_the_json_line() {
    let f = figures(1.5e6, 2.5, 9.0, Some(7000));
    assert_eq!(Figures::from_json(&f.to_json()).ok(), Some(f));
    let no_rss = figures(1.0, 1.0, 1.0, None);
    assert_eq!(Figures::from_json(&no_rss.to_json()).ok(), Some(no_rss));
    assert!(Figures::from_json(&json!({ "executions": 1 })).is_err());
}

#[test]
fn peer_errors_are_reported_not_parsed() {
    assert_eq!(
        peer_line(&json!({ "error": "first output differs" })),
        Err("first output differs".into())
    );
    assert!(peer_line(&figures(1.0, 1.0, 1.0, Some(1)).to_json()).is_ok());
}

#[test]
fn workloads_sort_in_readme_order_then_by_name() {
    let mut names: Vec<String> = ["zeta", "map1000", "callback", "hello3", "alpha", "chain100"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    sort_workloads(&mut names);
    assert_eq!(
        names,
        ["hello3", "chain100", "map1000", "callback", "alpha", "zeta"]
    );
}

#[test]
fn discovery_skips_input_and_expected_files() {
    let dir = std::env::temp_dir().join(format!("stepwise-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "hello3.json",
        "hello3.input.json",
        "hello3.expected.json",
        "waitday.json",
        "README.md",
    ] {
        std::fs::write(dir.join(f), "{}").unwrap();
    }
    let names = discover(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(names.unwrap(), ["hello3", "waitday"]);
}

#[test]
fn clip_cuts_on_characters() {
    assert_eq!(clip("µµµµ", 2), "µµ…");
    assert_eq!(clip("ab", 5), "ab");
}

#[test]
fn last_lines_skips_blank_lines() {
    assert_eq!(last_lines("a\n\nb\nc\n\n", 2), "b\nc");
    assert_eq!(first_line("\n  \nx\ny"), "x");
}
