//! Smoke test of `stepwise bench --tasks`: it starts `serve --config`, runs every row's
//! checked executions and prints the table. No timing is asserted: a benchmark
//! measures, this only checks that it runs and reports every row.

use std::process::Command;

#[test]
fn bench_tasks_runs_every_row_and_prints_the_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["bench", "--tasks", "--seconds", "0.2", "--clients", "2"])
        .output()
        .expect("run stepwise bench --tasks");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 1 would mean a measurement failed (a wrong output, an API error).
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    for (row, needs_python) in [
        ("Pass state", false),
        ("Lambda `bootstrap`", true),
        ("Lambda `command`", true),
        ("HTTP `http:invoke`", false),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {row}")))
            .unwrap_or_else(|| panic!("no row {row} in:\n{stdout}"));
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | task | tasks/s | p50 | p99 | Pass p50 / p99 | direct/s | direct p50 | direct p99 | overhead p50 | overhead p99 | server CPU | function CPU |
        assert_eq!(cells.len(), 14, "{line}");
        if needs_python && !python {
            assert!(cells[2].starts_with("skipped"), "{line}");
            continue;
        }
        let rate: f64 = cells[2].replace(',', "").parse().unwrap_or(0.0);
        assert!(rate > 0.0, "{line}");
    }
    assert!(
        stdout.contains("Targets (from the issue; not asserted)"),
        "{stdout}"
    );
}
