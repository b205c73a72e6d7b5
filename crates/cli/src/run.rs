//! `stepwise run DEF.json`: one execution in this process.

use crate::engine::{invalid_definition_message, load_machine};
use crate::progress::Progress;
use anyhow::Context;
use clap::Args;
use serde_json::Value;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use stepwise_expr::Sources;
use stepwise_interp::history::HistoryEvent;
use stepwise_interp::run::{run_to_end, Clock, Observer, TaskAnswer};
use stepwise_interp::{ExecutionInfo, Status, TaskRequest};
use stepwise_mock::{Lookup, MockConfig, MockResult};

#[derive(Args)]
pub struct RunArgs {
    /// The state machine definition (ASL JSON).
    definition: PathBuf,
    /// Execution input: a JSON file, - for stdin, or the JSON itself
    /// (`--input '{"a":1}'`; a file of that name wins). Default: {}.
    #[arg(long, value_name = "FILE|-|JSON")]
    input: Option<String>,
    /// AWS Step Functions Local mock file answering Task states; repeat it to merge
    /// several (the same test case in two files is an error).
    #[arg(long, value_name = "FILE", requires = "test_case")]
    mock_config: Vec<PathBuf>,
    /// The test case of the mock file to use.
    #[arg(long, requires = "mock_config")]
    test_case: Option<String>,
    /// State machine name (for $$.StateMachine.Name and the mock file). Default: the file stem.
    #[arg(long)]
    name: Option<String>,
    /// Multiply every wait and retry delay by this factor (0: no waiting at all).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    time_scale: f64,
    /// Write the execution history (GetExecutionHistory shape) to this file.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Show progress per state on stderr even when it is not a terminal.
    #[arg(long)]
    progress: bool,
    /// `stepwise.toml`: the functions and HTTP connections Task states call.
    #[arg(long, value_name = "FILE", env = "STEPWISE_CONFIG")]
    config: Option<PathBuf>,
}

/// A wall clock whose waits are scaled: virtual time jumps to the due time after a
/// real sleep of `scale ×` the interval.
struct ScaledClock {
    now: i64,
    scale: f64,
}

impl Sources for ScaledClock {
    fn now_millis(&mut self) -> i64 {
        self.now
    }
    fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        fill_random(&mut b);
        let a = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        let c = u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
        stepwise_interp::run::format_uuid(a, c)
    }
    fn random(&mut self) -> f64 {
        let mut b = [0u8; 8];
        fill_random(&mut b);
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Clock for ScaledClock {
    fn advance_to(&mut self, millis: i64) {
        if millis > self.now {
            let real = ((millis - self.now) as f64 * self.scale).max(0.0);
            if real >= 1.0 {
                std::thread::sleep(std::time::Duration::from_millis(real as u64));
            }
            self.now = millis;
        }
    }
}

fn fill_random(buf: &mut [u8]) {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; hashing a counter gives independent words.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for chunk in buf.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Answers Task states from a Step Functions Local mock file.
struct Mocks {
    config: MockConfig,
    machine: String,
    test_case: String,
}

impl Mocks {
    /// The mocked answer, or `None` when the test case does not mock this state.
    fn lookup(&mut self, req: &TaskRequest) -> Option<Result<Value, (String, String)>> {
        let tc = match self.config.test_case(&self.machine, &self.test_case) {
            Ok(tc) => tc,
            Err(e) => return Some(Err(("States.Runtime".into(), e.to_string()))),
        };
        Some(match tc.lookup(&req.state_name, req.invocation) {
            Lookup::Response(MockResult::Return(v)) => Ok(v.clone()),
            Lookup::Response(MockResult::Throw { error, cause }) => {
                Err((error.clone(), cause.clone()))
            }
            Lookup::Exhausted { response, defined } => Err((
                "States.Runtime".into(),
                format!(
                    "No mocked response for invocation {} of state '{}': mocked response '{}' defines {} invocation(s)",
                    req.invocation, req.state_name, response, defined
                ),
            )),
            Lookup::NotMocked => return None,
        })
    }
}

impl TaskAnswer for Mocks {
    fn answer(&mut self, req: &TaskRequest) -> Result<Value, (String, String)> {
        self.lookup(req).unwrap_or_else(|| {
            Err((
                "States.Runtime".into(),
                format!(
                    "Test case '{}' of the mock file has no mocked response for state '{}' (resource '{}')",
                    self.test_case, req.state_name, req.resource
                ),
            ))
        })
    }
}

/// Without mocks or `--config`, a Task fails saying what would answer it.
struct Unanswered;

impl TaskAnswer for Unanswered {
    fn answer(&mut self, req: &TaskRequest) -> Result<Value, (String, String)> {
        Err((
            "States.Runtime".into(),
            format!(
                "Nothing answers state '{}' (resource '{}'): {}; or run with --mock-config FILE --test-case NAME",
                req.state_name,
                req.resource,
                stepwise_tasks::resource::config_hint(&req.resource, &req.input)
            ),
        ))
    }
}

/// The in-process run's events, shown by [`Progress`].
struct Shown(Progress);

impl Observer for Shown {
    fn events(&mut self, events: &[HistoryEvent]) {
        if self.0.on {
            let json: Vec<Value> = events.iter().map(|e| e.to_aws_json(true)).collect();
            self.0.events(&json);
        }
    }
    fn waiting(&mut self, due_millis: i64) {
        self.0
            .waiting(&stepwise_interp::timefmt::format_millis(due_millis));
    }
}

/// `--input`'s value: `-` is stdin, an existing file is read, anything else must be the
/// JSON itself (so a file named like JSON still works).
fn input_value(v: &str) -> anyhow::Result<Value> {
    let path = crate::file_url_path(std::path::Path::new(v));
    if v == "-" || path.exists() {
        let t = crate::read_input(&PathBuf::from(v))?;
        let what = if v == "-" { "stdin" } else { v };
        return serde_json::from_str(&t)
            .with_context(|| format!("InvalidExecutionInput: {what} is not valid JSON"));
    }
    let looks_like_json =
        v.trim_start().starts_with(['{', '[', '"']) || serde_json::from_str::<Value>(v).is_ok();
    match serde_json::from_str::<Value>(v) {
        Ok(value) => Ok(value),
        Err(e) if looks_like_json => Err(anyhow::anyhow!(
            "InvalidExecutionInput: --input is not valid JSON: {e}"
        )),
        Err(_) => Err(anyhow::anyhow!(
            "--input {v}: no such file, and not JSON either (give a file, - for stdin, or the JSON itself, e.g. --input '{{\"name\": \"Ada\"}}')"
        )),
    }
}

/// The mock files given (`--mock-config`, repeatable), merged into one; `None` when none.
pub(crate) fn load_mocks(files: &[PathBuf]) -> anyhow::Result<Option<MockConfig>> {
    let mut parsed = Vec::with_capacity(files.len());
    for f in files {
        let text = crate::read_input(f).with_context(|| format!("mock file {}", f.display()))?;
        let config =
            MockConfig::parse(&text).with_context(|| format!("mock file {}", f.display()))?;
        parsed.push((f.display().to_string(), config));
    }
    match parsed.len() {
        0 => Ok(None),
        1 => Ok(parsed.pop().map(|(_, c)| c)),
        _ => Ok(Some(MockConfig::merge(parsed).context("--mock-config")?)),
    }
}

/// `a.json` or `a.json, b.json`: the mock files, for messages.
fn files_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn main(a: RunArgs) -> anyhow::Result<ExitCode> {
    let text = crate::read_input(&a.definition)?;
    let machine = match load_machine(&text) {
        Ok(m) => m,
        Err(diags) => {
            for d in &diags {
                eprintln!("{}: {}", a.definition.display(), d);
            }
            eprintln!("{}", invalid_definition_message(&diags));
            if let Some(hint) = crate::engine::path_hint(&text, &diags) {
                eprintln!("{hint}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    let input: Value = match &a.input {
        None => Value::Object(Default::default()),
        Some(v) => input_value(v)?,
    };
    if !(0.0..=1000.0).contains(&a.time_scale) {
        anyhow::bail!("--time-scale must be a number from 0 to 1000");
    }
    let name = a.name.clone().unwrap_or_else(|| {
        // `order.asl.json` is the machine `order`.
        a.definition
            .file_name()
            .map(|s| {
                let s = s.to_string_lossy();
                let s = s.strip_suffix(".json").unwrap_or(&s);
                s.strip_suffix(".asl").unwrap_or(s).to_string()
            })
            .filter(|s| !s.is_empty() && s != "-")
            .unwrap_or_else(|| "StateMachine".into())
    });
    let mocks = match (load_mocks(&a.mock_config)?, &a.test_case) {
        (Some(config), Some(tc)) => {
            config
                .test_case(&name, tc)
                .with_context(|| format!("mock file {}", files_list(&a.mock_config)))?;
            Some(Mocks {
                config,
                machine: name.clone(),
                test_case: tc.clone(),
            })
        }
        _ => None,
    };
    let show = a.progress || std::io::stderr().is_terminal();
    if let Some(config) = crate::task_config::load(a.config.as_deref())? {
        // Real calls: the engine runs it, as `stepwise serve` would.
        return crate::run_engine::run(crate::run_engine::Job {
            name,
            definition: text,
            input: input.to_string(),
            mocks: mocks.map(|m| (m.config, m.test_case)),
            time_scale: a.time_scale,
            config,
            progress: show,
            history: a.history.clone(),
        });
    }
    let mut tasks: Box<dyn TaskAnswer> = match mocks {
        Some(m) => Box::new(m),
        None => Box::new(Unanswered),
    };
    let exec_name = stepwise_interp::run::format_uuid(now_millis() as u64, 0x5eed);
    let info = ExecutionInfo::local(&name, &exec_name);
    let mut clock = ScaledClock {
        now: now_millis(),
        scale: a.time_scale,
    };
    let mut progress = Shown(Progress::new(show, &text));
    let fin = run_to_end(
        machine,
        info,
        input,
        &mut clock,
        tasks.as_mut(),
        &mut progress,
        a.history.is_some(),
    );
    if let Some(h) = &a.history {
        let events: Vec<Value> = fin.history.iter().map(|e| e.to_aws_json(true)).collect();
        std::fs::write(
            h,
            serde_json::to_string_pretty(&serde_json::json!({"events": events}))?,
        )
        .with_context(|| format!("writing {}", h.display()))?;
    }
    match fin.status {
        Status::Succeeded => {
            println!("{}", fin.output.unwrap_or(Value::Null));
            Ok(ExitCode::SUCCESS)
        }
        status => {
            eprintln!(
                "{}: {}",
                status.as_str(),
                fin.error.as_deref().unwrap_or("")
            );
            if let Some(c) = &fin.cause {
                eprintln!("{c}");
            }
            Ok(ExitCode::from(1))
        }
    }
}
