//! Smoke test of `stepwise bench --server`: it starts `serve`, drives every workload over
//! the AWS API with checked outputs and prints the table. No timing is asserted: a
//! benchmark measures, this only checks that it runs and reports every row.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn bench_server_runs_every_workload_and_prints_the_table() {
    let workloads = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench");
    if !workloads.join("hello3.json").exists() {
        eprintln!("skipping: ../shared/bench not found");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args([
            "bench",
            "--server",
            "--seconds",
            "0.2",
            "--skip-parked",
            "--no-peers",
            "--clients",
            "4",
        ])
        .arg("--workloads")
        .arg(&workloads)
        .output()
        .expect("run stepwise bench --server");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 1 would mean a Stepwise measurement failed (a wrong output, an API error).
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(stdout.contains("peer: unavailable: --no-peer"), "{stdout}");
    for (workload, metric) in [
        ("hello3", "StartExecution/s, 1 client"),
        ("hello3", "StartExecution/s, 4 clients"),
        ("hello3", "executions/s, 1 client"),
        ("hello3", "executions/s, 4 clients"),
        ("hello3", "start-to-finish p50 ms, 1 client"),
        ("hello3", "start-to-finish p99 ms, 4 clients"),
        ("chain100", "durable transitions/s"),
        ("map1000", "durable transitions/s"),
        ("callback", "round trips/s, 4 clients"),
        ("waitday", "RSS MiB, 100,000 parked"),
        ("waitday", "restart to /health s, after kill -9"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {workload} ")) && l.contains(metric))
            .unwrap_or_else(|| panic!("no row {workload} | {metric} in:\n{stdout}"));
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | workload | metric | Stepwise (fsync) | Stepwise (process) | moto | ratio | target |
        assert_eq!(cells.len(), 9, "{line}");
        if workload == "waitday" {
            assert_eq!(cells[3], "skipped (--skip-parked)", "{line}");
        } else {
            // Both durability modes measured in the same run.
            for stepwise in [cells[3], cells[4]] {
                let figure: f64 = stepwise
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .replace(',', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("no figure in {line}"));
                assert!(figure > 0.0, "{line}");
            }
        }
    }
    assert!(
        stdout.contains("Stepwise server during each measurement"),
        "{stdout}"
    );
}
