//! Unit tests of `bench_server/servers.rs` (a child module of it: `super::*` is that file).

use super::*;

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
