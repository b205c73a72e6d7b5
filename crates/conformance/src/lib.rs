//! Conformance runner over cases recorded against real AWS Step Functions
//! (the format of `shared/conformance/README.md`).
//!
//! * [`load_cases`] reads a folder of cases;
//! * an [`Engine`] (the interpreter, plugged in by the caller; this crate does
//!   not depend on it) turns a [`Case`] into an [`Outcome`];
//! * [`compare::compare_case`] judges the outcome with the rules of the corpus's
//!   normative `compare.py` (placeholders, numbers by value, concurrent histories);
//! * [`run_all`] runs every case (in parallel, catching engine panics) into a
//!   [`Report`] that prints as a table or as JSON.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub mod compare;
pub mod runner;
pub mod selftest;

pub use compare::{compare_actual_json, compare_case, CompareOptions, Difference, Part};
pub use runner::{
    parse_known_failures, run_all, run_all_sequential, run_all_with, run_case, CaseResult, Engine,
    Report, RunOptions,
};

/// What an engine produced for one case.
///
/// `output` is the decoded output value. History events are AWS
/// GetExecutionHistory events (without `timestamp`); the `input`, `output`,
/// `parameters` and `result` fields of their details and the values of
/// `assignedVariables` are JSON text, as AWS returns them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Option<Vec<Value>>,
}

impl Outcome {
    /// A rejected definition, as CreateStateMachine reports it.
    pub fn create_failed(cause: impl Into<String>) -> Outcome {
        Outcome {
            status: "CREATE_FAILED".into(),
            error: Some("InvalidDefinition".into()),
            cause: Some(cause.into()),
            ..Outcome::default()
        }
    }

    /// The outcome as an `actual.json` document for `compare.py` (history fields decoded).
    pub fn to_actual_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("status".into(), Value::String(self.status.clone()));
        if let Some(o) = &self.output {
            m.insert("output".into(), o.clone());
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &self.cause {
            m.insert("cause".into(), Value::String(c.clone()));
        }
        if let Some(h) = &self.history {
            m.insert(
                "history".into(),
                Value::Array(h.iter().map(compare::decode_event).collect()),
            );
        }
        Value::Object(m)
    }
}

/// One recorded case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The folder name.
    pub id: String,
    /// `meta.json`'s `category`, else derived from the folder name.
    pub category: String,
    pub dir: PathBuf,
    /// `definition.json` exactly as sent to CreateStateMachine.
    pub definition_text: String,
    /// `input.json` (`{}` when absent).
    pub input: Value,
    pub expected: Value,
    /// `meta.json` (null when absent).
    pub meta: Value,
    /// `STANDARD` or `EXPRESS` (from `meta.json`, `STANDARD` by default).
    pub state_machine_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_json(path: &Path) -> Result<Value, Error> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// `assign__assign_base__test_x` → `assign/assign_base`, the corpus's naming.
fn category_from_name(name: &str) -> String {
    let parts: Vec<&str> = name.split("__").collect();
    if parts.len() >= 3 {
        parts[..2].join("/")
    } else {
        name.to_string()
    }
}

/// Loads every subfolder of `dir` that holds a `definition.json`, sorted by id.
/// With a `filter`, only cases whose id or category contains it are kept.
pub fn load_cases(dir: impl AsRef<Path>, filter: Option<&str>) -> Result<Vec<Case>, Error> {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut cases = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let case_dir = entry.path();
        let def_path = case_dir.join("definition.json");
        if !case_dir.is_dir() || !def_path.is_file() {
            continue;
        }
        let id = entry.file_name().to_string_lossy().into_owned();
        let meta_path = case_dir.join("meta.json");
        let meta = if meta_path.is_file() {
            read_json(&meta_path)?
        } else {
            Value::Null
        };
        let category = meta
            .get("category")
            .and_then(Value::as_str)
            .map_or_else(|| category_from_name(&id), str::to_string);
        if let Some(f) = filter {
            if !id.contains(f) && !category.contains(f) {
                continue;
            }
        }
        let input_path = case_dir.join("input.json");
        let input = if input_path.is_file() {
            read_json(&input_path)?
        } else {
            Value::Object(Default::default())
        };
        let state_machine_type = meta
            .get("state_machine_type")
            .and_then(Value::as_str)
            .unwrap_or("STANDARD")
            .to_string();
        cases.push(Case {
            definition_text: read_text(&def_path)?,
            expected: read_json(&case_dir.join("expected.json"))?,
            input,
            meta,
            state_machine_type,
            category,
            dir: case_dir,
            id,
        });
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}
