//! A real `stepwise serve` process on a free loopback port, and a tiny AWS JSON client.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCOUNT_PREFIX: &str = "arn:aws:states:us-east-1:123456789012:";

/// A running server; killed (SIGKILL) when dropped unless stopped before.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub data_dir: PathBuf,
    extra: Vec<String>,
    log: PathBuf,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Server {
    /// Start on a fresh port with `data_dir` and extra flags; waits for `/health`.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        let mut s = Server {
            child: None,
            port: free_port(),
            data_dir: data_dir.to_path_buf(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            log: data_dir.join("server.log"),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        std::fs::create_dir_all(&self.data_dir).expect("data dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let child = Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .arg("serve")
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.extra)
            .env("STEPWISE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start stepwise serve");
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = ureq::get(&format!("{}/health", self.url())).call() {
                if r.status() == 200 {
                    return;
                }
            }
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("server exited early ({st}):\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server not healthy after 30 s:\n{}", self.log_text());
    }

    /// Cap the running server's address space (`prlimit --as`): an allocation beyond
    /// it fails, and the process aborts. Linux.
    pub fn limit_address_space(&self, bytes: u64) {
        let pid = self.child.as_ref().expect("server running").id();
        let ok = Command::new("prlimit")
            .arg(format!("--pid={pid}"))
            .arg(format!("--as={bytes}"))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "prlimit failed");
    }

    /// The server's peak resident memory so far (`VmHWM`), in KiB (Linux).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, then start again on the same port and data.
    pub fn kill_and_restart(&mut self) -> Duration {
        self.kill9();
        let t = Instant::now();
        self.spawn();
        t.elapsed()
    }

    /// Send `signal` (e.g. `ABRT`, as a stack overflow ends the process), wait for the
    /// process to end, and start it again on the same port and data directory.
    pub fn signal_and_restart(&mut self, signal: &str) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
        self.spawn();
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return st.code();
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = c.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn client(&self) -> Client {
        Client { url: self.url() }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// AWS's JSON 1.0 protocol over plain HTTP.
#[derive(Clone)]
pub struct Client {
    pub url: String,
}

/// An AWS error: (code after `#`, message).
pub type AwsError = (String, String);

impl Client {
    /// One call; `Err` holds the AWS error code and message, or ("Transport", …).
    pub fn call(&self, action: &str, body: Value) -> Result<Value, AwsError> {
        let r = ureq::post(&format!("{}/", self.url))
            .timeout(Duration::from_secs(90))
            .set("Content-Type", "application/x-amz-json-1.0")
            .set("X-Amz-Target", &format!("AWSStepFunctions.{action}"))
            .send_string(&body.to_string());
        match r {
            Ok(resp) => {
                let text = resp
                    .into_string()
                    .map_err(|e| ("Transport".into(), e.to_string()))?;
                serde_json::from_str(&text).map_err(|e| ("Transport".into(), e.to_string()))
            }
            Err(ureq::Error::Status(_, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let ty = v["__type"].as_str().unwrap_or_default();
                let code = ty.rsplit('#').next().unwrap_or_default().to_string();
                Err((code, v["message"].as_str().unwrap_or_default().to_string()))
            }
            Err(e) => Err(("Transport".into(), e.to_string())),
        }
    }

    /// A call that must succeed.
    pub fn ok(&self, action: &str, body: Value) -> Value {
        self.call(action, body.clone())
            .unwrap_or_else(|e| panic!("{action} {body} failed: {e:?}"))
    }

    /// A call retried through transport errors (the server is restarting).
    pub fn retry(&self, action: &str, body: Value) -> Result<Value, AwsError> {
        let start = Instant::now();
        loop {
            match self.call(action, body.clone()) {
                Err((code, m)) if code == "Transport" => {
                    if start.elapsed() > Duration::from_secs(60) {
                        return Err((code, m));
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                other => return other,
            }
        }
    }

    pub fn create_machine(&self, name: &str, definition: &Value) -> String {
        self.ok(
            "CreateStateMachine",
            json!({"name": name, "definition": definition.to_string(),
                   "roleArn": "arn:aws:iam::123456789012:role/stepwise"}),
        )["stateMachineArn"]
            .as_str()
            .expect("stateMachineArn")
            .to_string()
    }

    /// Poll DescribeExecution until it is no longer RUNNING.
    pub fn wait_done(&self, execution_arn: &str, within: Duration) -> Value {
        let start = Instant::now();
        loop {
            let d = self
                .retry("DescribeExecution", json!({"executionArn": execution_arn}))
                .unwrap_or_else(|e| panic!("describe {execution_arn}: {e:?}"));
            if d["status"] != "RUNNING" {
                return d;
            }
            assert!(
                start.elapsed() < within,
                "{execution_arn} still RUNNING after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The whole history, all pages.
    pub fn history(&self, execution_arn: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"executionArn": execution_arn, "maxResults": 1000});
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let page = self.retry("GetExecutionHistory", body).expect("history");
            out.extend(page["events"].as_array().cloned().unwrap_or_default());
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => return out,
            }
        }
    }
}

/// An empty folder of its own for one test: `stepwise-NAME-PID` under the temp dir.
pub fn fresh_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("stepwise-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `s` as a URL path segment or query value: all but letters, digits and `-_.` escaped.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
