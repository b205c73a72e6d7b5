//! The servers under test as child processes (`stepwise serve`, and moto's server from
//! `moto.rs`'s venv): start, health, RSS, CPU time, Stepwise's `/metrics`; and the free
//! loopback ports they listen on.

use crate::bench::last_lines;
use anyhow::{bail, Context};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::api::Api;
use super::moto::Moto;
use super::{CALLBACK_QUEUE, CLOCK_TICKS_PER_SEC};

pub(crate) fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// A server child process; SIGKILLed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `stepwise serve` on `port` with `data_dir`; returns it and the time to `/health` OK.
    pub(crate) fn spawn_stepwise(
        exe: &Path,
        port: u16,
        data_dir: &Path,
        time_scale: f64,
        extra: &[&str],
    ) -> anyhow::Result<(Server, Duration)> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let log = data_dir.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let t = Instant::now();
        let child = Command::new(exe)
            .arg("serve")
            .arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--time-scale")
            .arg(time_scale.to_string())
            .args(extra)
            .env("STEPWISE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {} serve", exe.display()))?;
        let mut srv = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        srv.wait_ready(Duration::from_secs(120), |api| {
            api.agent
                .get(&format!("{}/health", api.url))
                .call()
                .map(|r| r.status() == 200)
                .unwrap_or(false)
        })?;
        Ok((srv, t.elapsed()))
    }

    /// `moto_server` from the venv, with state machine execution on and the callback queue made.
    pub(super) fn spawn_moto(venv: &Moto, port: u16, log: &Path) -> anyhow::Result<Server> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let child = Command::new(venv.dir.join("bin").join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .context("starting moto_server")?;
        let mut srv = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        };
        // moto's switch for running state machines (moto/core/config.py); it is off by default.
        let config = json!({"stepfunctions": {"execute_state_machine": true}}).to_string();
        srv.wait_ready(Duration::from_secs(60), |api| {
            api.agent
                .post(&format!("{}/moto-api/config", api.url))
                .set("Content-Type", "application/json")
                .send_string(&config)
                .is_ok()
        })?;
        Api::new(&srv.url)
            .call_service(
                "sqs",
                "AmazonSQS.CreateQueue",
                &json!({ "QueueName": CALLBACK_QUEUE }),
            )
            .context("creating the callback workload's SQS queue in moto")?;
        Ok(srv)
    }

    fn wait_ready(&mut self, within: Duration, ready: impl Fn(&Api) -> bool) -> anyhow::Result<()> {
        let api = Api::new(&self.url);
        let start = Instant::now();
        loop {
            if ready(&api) {
                return Ok(());
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                bail!(
                    "the server exited early ({st}): {}",
                    last_lines(&self.log_text(), 6)
                );
            }
            if start.elapsed() > within {
                bail!(
                    "the server was not ready after {} s: {}",
                    within.as_secs(),
                    last_lines(&self.log_text(), 6)
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(super) fn rss_kib(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status_kib(&s, "VmRSS:")
    }

    pub(super) fn cpu_secs(&self) -> Option<f64> {
        cpu_secs_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// Stepwise's `/metrics` as name (with labels) → value.
    pub(super) fn metrics(&self) -> HashMap<String, f64> {
        Api::new(&self.url)
            .get("/metrics")
            .map(|t| parse_metrics(&t))
            .unwrap_or_default()
    }
}

/// A `Name:  N kB` line of /proc/PID/status, in KiB.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    let mut parts = line[key.len()..].split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    matches!(parts.next(), Some("kB") | None).then_some(n)
}

/// utime + stime of a /proc/PID/stat file, in seconds.
pub(super) fn cpu_secs_of(path: &str) -> Option<f64> {
    let s = std::fs::read_to_string(path).ok()?;
    parse_stat_cpu(&s)
}

fn parse_stat_cpu(stat: &str) -> Option<f64> {
    // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS_PER_SEC)
}

/// Prometheus text → `name{labels}` → value.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
#[path = "../tests/bench_server/servers.rs"]
mod tests;
