//! Smoke test of `stepwise bench --console`: it starts `serve`, fills a small store,
//! times every page and prints the table. No timing is asserted: a benchmark measures,
//! this only checks that it runs and reports every row.

use std::process::Command;

#[test]
fn bench_console_times_every_page_and_prints_the_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args([
            "bench",
            "--console",
            "--console-executions",
            "500",
            "--clients",
            "4",
        ])
        .output()
        .expect("run stepwise bench --console");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 1 would mean a measurement failed (an error page, a stream that ended).
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    for (row, goal) in [
        ("executions list, first page", "≤ 100 ms"),
        ("executions list, by machine", "≤ 100 ms"),
        ("executions list, by status", "≤ 100 ms"),
        ("executions list, deep page", "≤ 100 ms"),
        ("Stuck view", "≤ 100 ms"),
        ("execution of ", "≤ 1 s"),
        ("  the same, its Map's step panel", "≤ 1 s"),
        ("state machines list", "≤ 100 ms"),
        ("live update", "≤ 250 ms"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {row}")))
            .unwrap_or_else(|| panic!("no row {row} in:\n{stdout}"));
        // | measurement | runs | median ms | p95 ms | goal | met |
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 8, "{line}");
        assert!(cells[2].parse::<usize>().is_ok_and(|n| n > 0), "{line}");
        assert!(cells[3].parse::<f64>().is_ok(), "{line}");
        assert_eq!(cells[5], goal, "{line}");
        assert!(matches!(cells[6], "met" | "not met"), "{line}");
    }
    assert!(stdout.contains("No peer"), "{stdout}");
}
