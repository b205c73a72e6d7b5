//! End-to-end tests of the `stepwise` command-line contract, through the real binary.
//!
//! Exit codes: 0 the execution succeeded (or every file is valid), 1 the execution
//! FAILED / TIMED_OUT (or a file is invalid), 2 an invalid definition or bad usage.
//! Bad usage is always a clear message, never a panic.

mod common;
use common::Out;
use serde_json::{json, Value};
use std::path::PathBuf;

fn stepwise(args: &[&str], stdin: Option<&str>) -> Out {
    common::run(args, stdin, None)
}

/// A fresh temporary folder for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("stepwise-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// Writes `text` to `name` inside the folder and returns its path as a string.
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, text).expect("write temp file");
        p.to_string_lossy().into_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PASS_MACHINE: &str = r#"{
  "StartAt": "Greet",
  "States": {
    "Greet": {
      "Type": "Pass",
      "Parameters": { "greeting.$": "States.Format('Hello, {}!', $.name)" },
      "End": true
    }
  }
}"#;

const FAIL_MACHINE: &str = r#"{
  "StartAt": "Boom",
  "States": {
    "Boom": { "Type": "Fail", "Error": "OrderRejected", "Cause": "The order total is negative" }
  }
}"#;

const TASK_MACHINE: &str = r#"{
  "StartAt": "Charge",
  "States": {
    "Charge": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": { "FunctionName": "charge", "Payload.$": "$" },
      "ResultSelector": { "status.$": "$.Payload.status" },
      "End": true
    }
  }
}"#;

// ---------------------------------------------------------------- run: exit codes

#[test]
fn run_success_prints_output_and_exits_0() {
    let t = TempDir::new("ok");
    let def = t.file("greet.asl.json", PASS_MACHINE);
    let input = t.file("input.json", r#"{"name": "Ada"}"#);
    let out = stepwise(&["run", &def, "--input", &input], None);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!({"greeting": "Hello, Ada!"}));
}

#[test]
fn run_default_input_is_empty_object() {
    let t = TempDir::new("default-input");
    let def = t.file(
        "echo.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    let out = stepwise(&["run", &def], None);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!({}));
}

#[test]
fn run_failed_execution_exits_1_with_error_and_cause_on_stderr() {
    let t = TempDir::new("fail");
    let def = t.file("fail.json", FAIL_MACHINE);
    let out = stepwise(&["run", &def], None);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "", "nothing on stdout for a failed execution");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.contains(&"FAILED: OrderRejected"),
        "stderr: {}",
        out.stderr
    );
    assert!(
        lines.contains(&"The order total is negative"),
        "stderr: {}",
        out.stderr
    );
}

#[test]
fn run_runtime_error_exits_1_with_aws_error_name() {
    // A path that matches nothing is States.Runtime on AWS.
    let t = TempDir::new("runtime");
    let def = t.file("greet.json", PASS_MACHINE);
    let out = stepwise(&["run", &def], None);
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert!(
        out.stderr.starts_with("FAILED: States.Runtime"),
        "stderr: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("$.name"),
        "the cause names the path: {}",
        out.stderr
    );
}

#[test]
fn run_invalid_definition_exits_2_with_diagnostics() {
    let t = TempDir::new("invalid");
    let def = t.file(
        "bad.json",
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "Nowhere"}}}"#,
    );
    let out = stepwise(&["run", &def], None);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(&format!(
            "{def}: /States/W/Next: MISSING_TRANSITION_TARGET: "
        )),
        "stderr: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Invalid State Machine Definition"),
        "stderr: {}",
        out.stderr
    );
}

#[test]
fn run_definition_that_is_not_json_exits_2() {
    let t = TempDir::new("notjson");
    let def = t.file("broken.json", r#"{"StartAt": "A", "States": "#);
    let out = stepwise(&["run", &def], None);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("INVALID_JSON_DESCRIPTION"),
        "stderr: {}",
        out.stderr
    );
}

#[test]
fn a_path_where_the_definition_belongs_gets_jacksons_wording_and_a_file_hint() {
    let out = stepwise(&["run", "-"], Some("examples/hello.asl.json"));
    assert_eq!(out.code, 2);
    for needle in [
        "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: Unrecognized token 'examples': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
        "line: 1, column: 9]",
        "hint: the definition is the text 'examples/hello.asl.json', which looks like a file's path",
        "--definition file://examples/hello.asl.json",
    ] {
        assert!(out.stderr.contains(needle), "{needle:?} in:\n{}", out.stderr);
    }
    let t = TempDir::new("pathy");
    let f = t.file("pathy.json", "./machines/order.json");
    let out = stepwise(&["validate", &f], None);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("INVALID_JSON_DESCRIPTION: Unexpected character ('.' (code 46)): expected a valid value"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("looks like a file's path"),
        "{}",
        out.stdout
    );
    // file://PATH, as the AWS CLI takes it, works for run, --input and validate.
    let def = t.file("greet.json", PASS_MACHINE);
    let input = t.file("in.json", r#"{"name": "url"}"#);
    let out = stepwise(
        &[
            "run",
            &format!("file://{def}"),
            "--input",
            &format!("file://{input}"),
        ],
        None,
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!({"greeting": "Hello, url!"}));
    let out = stepwise(&["validate", &format!("file://{def}")], None);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn run_bad_usage_exits_2_with_a_clear_message() {
    let t = TempDir::new("usage");
    let def = t.file("greet.json", PASS_MACHINE);
    let bad_input = t.file("bad-input.json", r#"{"name": "Ada""#);
    let missing = t.path("does-not-exist.json");
    let mock = t.file(
        "mock.json",
        r#"{"StateMachines": {"greet": {"TestCases": {"Happy": {}}}}, "MockedResponses": {}}"#,
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", &missing], "does-not-exist.json"),
        (
            vec!["run", &def, "--input", &missing],
            "does-not-exist.json",
        ),
        (
            vec!["run", &def, "--input", &bad_input],
            "InvalidExecutionInput",
        ),
        (vec!["run", &def, "--input", "-"], "InvalidExecutionInput"),
        (vec!["run", &def, "--mock-config", &mock], "--test-case"),
        (vec!["run", &def, "--test-case", "Happy"], "--mock-config"),
        (
            vec![
                "run",
                &def,
                "--mock-config",
                &missing,
                "--test-case",
                "Happy",
            ],
            "does-not-exist.json",
        ),
        (
            vec!["run", &def, "--mock-config", &mock, "--test-case", "Sad"],
            "no test case \"Sad\"",
        ),
        (
            vec![
                "run",
                &def,
                "--mock-config",
                &mock,
                "--test-case",
                "Happy",
                "--name",
                "other",
            ],
            "no state machine \"other\"",
        ),
        (
            vec![
                "run",
                &def,
                "--mock-config",
                &bad_input,
                "--test-case",
                "Happy",
            ],
            "not valid JSON",
        ),
        (vec!["run", &def, "--time-scale=-1"], "--time-scale"),
        (vec!["run", &def, "--time-scale", "NaN"], "--time-scale"),
        (vec!["run", &def, "--time-scale", "fast"], "--time-scale"),
        (vec!["run", &def, "--no-such-flag"], "--no-such-flag"),
        (vec!["run"], "DEFINITION"),
        (vec!["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        // Malformed JSON on stdin for the `--input -` case; unused otherwise.
        let out = stepwise(&args, Some("{oops"));
        assert_eq!(out.code, 2, "stepwise {args:?}: stderr {}", out.stderr);
        assert_eq!(out.stdout, "", "stepwise {args:?}");
        assert!(
            out.stderr.contains(needle),
            "stepwise {args:?}: expected {needle:?} in stderr:\n{}",
            out.stderr
        );
    }
}

#[test]
fn run_reads_input_from_stdin() {
    let t = TempDir::new("stdin");
    let def = t.file("greet.json", PASS_MACHINE);
    let out = stepwise(&["run", &def, "--input", "-"], Some(r#"{"name": "stdin"}"#));
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!({"greeting": "Hello, stdin!"}));
}

#[test]
fn run_reads_definition_from_stdin() {
    let out = stepwise(
        &["run", "-", "--name", "greet"],
        Some(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 7, "End": true}}}"#),
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!(7));
}

#[test]
fn run_name_sets_the_context_state_machine_name() {
    let t = TempDir::new("name");
    let def = t.file(
        "ctx.asl.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"name.$": "$$.StateMachine.Name"}, "End": true}}}"#,
    );
    let out = stepwise(&["run", &def, "--name", "Orders"], None);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!({"name": "Orders"}));
}

#[test]
fn run_input_takes_inline_json_a_file_or_stdin() {
    let t = TempDir::new("inline");
    let def = t.file("greet.json", PASS_MACHINE);
    let out = stepwise(&["run", &def, "--input", r#"{"name": "inline"}"#], None);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!({"greeting": "Hello, inline!"}));
    // A file wins over the same text as JSON: a file named like JSON is still a file.
    let odd = t.file("{}", r#"{"name": "a file"}"#);
    let out = common::run(&["run", &def, "--input", "{}"], None, Some(&t.0));
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!({"greeting": "Hello, a file!"}));
    let _ = std::fs::remove_file(odd);
    let out = stepwise(&["run", &def, "--input", r#"{"name": "#], None);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("InvalidExecutionInput: --input is not valid JSON"),
        "stderr: {}",
        out.stderr
    );
    let out = stepwise(&["run", &def, "--input", "nothing-here.json"], None);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--input nothing-here.json: no such file, and not JSON either"),
        "stderr: {}",
        out.stderr
    );
}

// ---------------------------------------------------------------- run: progress

/// A Map over two items whose Task fails, is retried, and is caught (inside the
/// iteration for item 1, by the Map for item 2).
const PROGRESS_MACHINE: &str = r#"{"StartAt": "Each", "States": {
  "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Charge", "States": {
      "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
        "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 3}],
        "Catch": [{"ErrorEquals": ["Declined"], "Next": "Refund"}], "End": true},
      "Refund": {"Type": "Pass", "End": true}}},
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}], "End": true},
  "Handled": {"Type": "Pass", "End": true}}}"#;

const PROGRESS_MOCK: &str = r#"{"StateMachines": {"each": {"TestCases": {"T": {"Charge": "R"}}}},
  "MockedResponses": {"R": {
    "0-1": {"Throw": {"Error": "Busy", "Cause": "try later"}},
    "2": {"Throw": {"Error": "Declined", "Cause": "no"}},
    "3": {"Throw": {"Error": "Fatal", "Cause": "gone"}}}}}"#;

#[test]
fn progress_labels_map_iterations_and_retries_and_marks_caught_states() {
    let t = TempDir::new("progress");
    let def = t.file("each.asl.json", PROGRESS_MACHINE);
    let mock = t.file("mock.json", PROGRESS_MOCK);
    let out = stepwise(
        &[
            "run",
            &def,
            "--input",
            r#"{"items": [1, 2]}"#,
            "--mock-config",
            &mock,
            "--test-case",
            "T",
            "--time-scale",
            "0",
            "--progress",
        ],
        None,
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let expected = [
        "→ Each (Map)",
        "→ Each[0] > Charge (Task)",
        "  Each[0] > Charge: calling lambda:invoke charge",
        "  Each[0] > Charge: ✗ Busy: try later",
        "  Each[0] > Charge: retry 1/3: calling lambda:invoke charge",
        "  Each[0] > Charge: retry 2/3: calling lambda:invoke charge",
        "  Each[0] > Charge: ✗ Declined: no",
        "↪ Each[0] > Charge (caught Declined)",
        "→ Each[0] > Refund (Pass)",
        "✓ Each[0] > Refund",
        "→ Each[1] > Charge (Task)",
        "  Each[1] > Charge: ✗ Fatal: gone",
        "  Each[1] failed",
        "↪ Each (caught Fatal)",
        "→ Handled (Pass)",
        "✓ Handled",
    ];
    let mut at = 0;
    for want in expected {
        match lines[at..].iter().position(|l| l.starts_with(want)) {
            Some(i) => at += i + 1,
            None => panic!("{want:?} missing (in order) in:\n{}", out.stderr),
        }
    }
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("✓ Each") && !l.starts_with("✓ Each[")),
        "a caught Map is not marked ✓:\n{}",
        out.stderr
    );
}

#[test]
fn progress_shows_a_retried_and_caught_parallel() {
    let t = TempDir::new("progress-parallel");
    let def = t.file(
        "par.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel",
            "Retry": [{"ErrorEquals": ["Oops"], "MaxAttempts": 2, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
            "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops"}}}],
            "End": true},
          "C": {"Type": "Pass", "End": true}}}"#,
    );
    let out = stepwise(&["run", &def, "--time-scale", "0", "--progress"], None);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let mut at = 0;
    for want in [
        "→ P (Parallel)",
        "→ F (Fail)",
        "  retry 1/2",
        "→ F (Fail)",
        "  retry 2/2",
        "↪ P (caught Oops)",
        "✓ C",
    ] {
        match lines[at..].iter().position(|l| l.starts_with(want)) {
            Some(i) => at += i + 1,
            None => panic!("{want:?} missing (in order) in:\n{}", out.stderr),
        }
    }
}

// ---------------------------------------------------------------- run: tasks and mocks

#[test]
fn several_mock_files_merge_and_a_repeated_test_case_names_both_files() {
    let t = TempDir::new("mocks");
    let def = t.file("charge.json", TASK_MACHINE);
    let approved = t.file(
        "approved.json",
        r#"{"StateMachines": {"charge": {"TestCases": {"Approved": {"Charge": "Ok"}}}},
            "MockedResponses": {"Ok": {"0": {"Return": {"Payload": {"status": "APPROVED"}}}}}}"#,
    );
    let declined = t.file(
        "declined.json",
        r#"{"StateMachines": {"charge": {"TestCases": {"Declined": {"Charge": "Ok"}}}},
            "MockedResponses": {"Ok": {"0": {"Return": {"Payload": {"status": "DECLINED"}}}}}}"#,
    );
    for (case, status) in [("Approved", "APPROVED"), ("Declined", "DECLINED")] {
        let out = stepwise(
            &[
                "run",
                &def,
                "--mock-config",
                &approved,
                "--mock-config",
                &declined,
                "--test-case",
                case,
            ],
            None,
        );
        assert_eq!(out.code, 0, "stderr: {}", out.stderr);
        assert_eq!(out.json(), json!({"status": status}), "{case}");
    }
    let again = t.file(
        "again.json",
        &std::fs::read_to_string(&approved).expect("read"),
    );
    let out = stepwise(
        &[
            "run",
            &def,
            "--mock-config",
            &approved,
            "--mock-config",
            &again,
            "--test-case",
            "Approved",
        ],
        None,
    );
    assert_eq!(out.code, 2, "stdout: {}", out.stdout);
    assert!(
        out.stderr.contains(&format!(
            "test case \"Approved\" of state machine \"charge\" is defined in both {approved} and {again}"
        )),
        "stderr: {}",
        out.stderr
    );
}

#[test]
fn task_without_mock_fails_naming_state_and_resource() {
    let t = TempDir::new("nomock");
    let def = t.file("charge.json", TASK_MACHINE);
    let out = stepwise(&["run", &def], None);
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert!(out.stderr.starts_with("FAILED: "), "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("'Charge'"),
        "names the state: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("arn:aws:states:::lambda:invoke"),
        "names the resource: {}",
        out.stderr
    );
}

#[test]
fn task_not_listed_in_the_test_case_fails_naming_state_and_resource() {
    let t = TempDir::new("unlisted");
    let def = t.file("charge.json", TASK_MACHINE);
    let mock = t.file(
        "mock.json",
        r#"{"StateMachines": {"charge": {"TestCases": {"Empty": {}}}}, "MockedResponses": {}}"#,
    );
    let out = stepwise(
        &["run", &def, "--mock-config", &mock, "--test-case", "Empty"],
        None,
    );
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert!(
        out.stderr.contains("'Charge'"),
        "names the state: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("arn:aws:states:::lambda:invoke"),
        "names the resource: {}",
        out.stderr
    );
}

const CHARGE_MOCK: &str = r#"{
  "StateMachines": {
    "charge": {
      "TestCases": {
        "Approved": { "Charge": "Approved" },
        "Declined": { "Charge": "Declined" }
      }
    }
  },
  "MockedResponses": {
    "Approved": { "0": { "Return": { "StatusCode": 200, "Payload": { "status": "APPROVED" } } } },
    "Declined": { "0": { "Throw": { "Error": "PaymentDeclined", "Cause": "Insufficient funds" } } }
  }
}"#;

#[test]
fn mocked_task_returns_and_throws() {
    let t = TempDir::new("mock");
    let def = t.file("charge.json", TASK_MACHINE);
    let mock = t.file("mock.json", CHARGE_MOCK);
    let ok = stepwise(
        &[
            "run",
            &def,
            "--mock-config",
            &mock,
            "--test-case",
            "Approved",
        ],
        None,
    );
    assert_eq!(ok.code, 0, "stderr: {}", ok.stderr);
    assert_eq!(ok.json(), json!({"status": "APPROVED"}));
    let declined = stepwise(
        &[
            "run",
            &def,
            "--mock-config",
            &mock,
            "--test-case",
            "Declined",
        ],
        None,
    );
    assert_eq!(declined.code, 1);
    let lines: Vec<&str> = declined.stderr.lines().collect();
    assert!(
        lines.contains(&"FAILED: PaymentDeclined"),
        "stderr: {}",
        declined.stderr
    );
    assert!(
        lines.contains(&"Insufficient funds"),
        "stderr: {}",
        declined.stderr
    );
}

#[test]
fn exhausted_mock_fails_the_execution() {
    // The last mocked invocation does not repeat: the retry has no response.
    let t = TempDir::new("exhausted");
    let def = t.file(
        "charge.json",
        r#"{"StartAt": "Charge", "States": {"Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}], "End": true}}}"#,
    );
    let mock = t.file("mock.json", CHARGE_MOCK);
    let out = stepwise(
        &[
            "run",
            &def,
            "--mock-config",
            &mock,
            "--test-case",
            "Declined",
            "--time-scale",
            "0",
        ],
        None,
    );
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert!(out.stderr.contains("'Charge'"), "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("invocation 1"),
        "stderr: {}",
        out.stderr
    );
}

// ---------------------------------------------------------------- run: history

#[test]
fn history_file_has_the_get_execution_history_shape() {
    let t = TempDir::new("history");
    let def = t.file(
        "charge.json",
        r#"{"StartAt": "Prepare", "States": {
            "Prepare": {"Type": "Pass", "Result": {"amount": 12}, "ResultPath": "$.order", "Next": "Charge"},
            "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "charge", "Payload.$": "$.order"},
                       "ResultSelector": {"status.$": "$.Payload.status"}, "End": true}}}"#,
    );
    let mock = t.file("mock.json", CHARGE_MOCK);
    let history = t.path("history.json");
    let input = t.file("input.json", r#"{"id": "o-1"}"#);
    let out = stepwise(
        &[
            "run",
            &def,
            "--input",
            &input,
            "--mock-config",
            &mock,
            "--test-case",
            "Approved",
            "--history",
            &history,
        ],
        None,
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let text = std::fs::read_to_string(&history).expect("history written");
    let doc: Value = serde_json::from_str(&text).expect("history is JSON");
    let events = doc["events"].as_array().expect("{\"events\": [...]}");
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["id"], json!(i + 1), "ids are 1..n: {e}");
        let prev = e["previousEventId"].as_u64().expect("previousEventId");
        assert!(prev < (i as u64) + 1, "previousEventId points back: {e}");
        assert!(
            e["timestamp"].is_number() || e["timestamp"].is_string(),
            "timestamp: {e}"
        );
    }
    // Linear execution: each event follows the one before it (AWS leaves the first
    // state's previousEventId at 0).
    let prevs: Vec<u64> = events
        .iter()
        .map(|e| e["previousEventId"].as_u64().unwrap_or(99))
        .collect();
    assert_eq!(prevs, [0, 0, 2, 3, 4, 5, 6, 7, 8]);

    // Details carry input/output as JSON text, like the AWS API.
    let decode = |v: &Value| -> Value {
        serde_json::from_str(
            v.as_str()
                .unwrap_or_else(|| panic!("JSON text expected, got {v}")),
        )
        .expect("JSON text")
    };
    let started = &events[0]["executionStartedEventDetails"];
    assert_eq!(decode(&started["input"]), json!({"id": "o-1"}));
    assert_eq!(started["inputDetails"], json!({"truncated": false}));
    let entered = &events[1]["stateEnteredEventDetails"];
    assert_eq!(entered["name"], json!("Prepare"));
    assert_eq!(decode(&entered["input"]), json!({"id": "o-1"}));
    let exited = &events[2]["stateExitedEventDetails"];
    assert_eq!(exited["name"], json!("Prepare"));
    assert_eq!(
        decode(&exited["output"]),
        json!({"id": "o-1", "order": {"amount": 12}})
    );
    let scheduled = &events[4]["taskScheduledEventDetails"];
    assert_eq!(scheduled["resourceType"], json!("lambda"));
    assert_eq!(scheduled["resource"], json!("invoke"));
    assert_eq!(
        decode(&scheduled["parameters"]),
        json!({"FunctionName": "charge", "Payload": {"amount": 12}})
    );
    let succeeded = &events[6]["taskSucceededEventDetails"];
    assert_eq!(
        decode(&succeeded["output"]),
        json!({"StatusCode": 200, "Payload": {"status": "APPROVED"}})
    );
    let done = &events[8]["executionSucceededEventDetails"];
    assert_eq!(decode(&done["output"]), json!({"status": "APPROVED"}));
    assert_eq!(
        decode(&done["output"]),
        out.json(),
        "stdout is the execution output"
    );
}

#[test]
fn history_is_written_for_a_failed_execution_too() {
    let t = TempDir::new("history-fail");
    let def = t.file("fail.json", FAIL_MACHINE);
    let history = t.path("history.json");
    let out = stepwise(&["run", &def, "--history", &history], None);
    assert_eq!(out.code, 1);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&history).expect("history written"))
            .expect("JSON");
    let events = doc["events"].as_array().expect("events");
    let last = events.last().expect("some events");
    assert_eq!(last["type"], json!("ExecutionFailed"));
    assert_eq!(
        last["executionFailedEventDetails"],
        json!({"error": "OrderRejected", "cause": "The order total is negative"})
    );
}

#[test]
fn history_to_an_unwritable_path_is_a_clear_error() {
    let t = TempDir::new("history-unwritable");
    let def = t.file("greet.json", PASS_MACHINE);
    let input = t.file("input.json", r#"{"name": "x"}"#);
    let history = t.path("no/such/dir/history.json");
    let out = stepwise(
        &["run", &def, "--input", &input, "--history", &history],
        None,
    );
    assert_eq!(out.code, 2, "stdout: {}", out.stdout);
    assert!(
        out.stderr.contains("history.json"),
        "stderr: {}",
        out.stderr
    );
}

// ---------------------------------------------------------------- run: time

#[test]
fn time_scale_0_makes_an_hour_long_wait_instant() {
    let t = TempDir::new("timescale");
    let def = t.file(
        "wait.json",
        r#"{"StartAt": "Hour", "States": {
            "Hour": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": "done", "End": true}}}"#,
    );
    // `stepwise` kills the child after 60 s, which fails the test.
    let out = stepwise(&["run", &def, "--time-scale", "0"], None);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), json!("done"));
}

#[test]
fn machine_timeout_ends_timed_out_with_exit_1() {
    let t = TempDir::new("timeout");
    let def = t.file(
        "slow.json",
        r#"{"TimeoutSeconds": 5, "StartAt": "Long", "States": {
            "Long": {"Type": "Wait", "Seconds": 60, "End": true}}}"#,
    );
    let history = t.path("history.json");
    let out = stepwise(
        &["run", &def, "--time-scale", "0", "--history", &history],
        None,
    );
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with("TIMED_OUT"),
        "stderr: {}",
        out.stderr
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&history).expect("history written"))
            .expect("JSON");
    let events = doc["events"].as_array().expect("events");
    assert_eq!(
        events.last().map(|e| e["type"].clone()),
        Some(json!("ExecutionTimedOut"))
    );
}

// ---------------------------------------------------------------- validate

const INVALID_TWO_PROBLEMS: &str = r#"{
  "StartAt": "Missing",
  "States": {
    "W": { "Type": "Wait", "Seconds": 1, "Next": "Nowhere" }
  }
}"#;

#[test]
fn validate_prints_file_pointer_code_message_and_exits_1() {
    let t = TempDir::new("validate");
    let good = t.file("good.json", PASS_MACHINE);
    let bad = t.file("bad.json", INVALID_TWO_PROBLEMS);
    let out = stepwise(&["validate", &good, &bad], None);
    assert_eq!(out.code, 1, "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.len() >= 2, "one line per problem: {}", out.stdout);
    for line in &lines {
        // FILE: /pointer: CODE: message
        let rest = line
            .strip_prefix(&format!("{bad}: "))
            .unwrap_or_else(|| panic!("line names the file: {line}"));
        let mut parts = rest.splitn(3, ": ");
        let pointer = parts.next().unwrap_or("");
        let code = parts.next().unwrap_or("");
        let message = parts.next().unwrap_or("");
        assert!(pointer.starts_with('/'), "JSON pointer: {line}");
        assert!(
            !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "CODE: {line}"
        );
        assert!(!message.is_empty(), "message: {line}");
    }
    assert!(
        lines.contains(
            &format!(
                "{bad}: /States/W/Next: MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere"
            )
            .as_str()
        ),
        "{}",
        out.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{bad}: /StartAt: "))),
        "{}",
        out.stdout
    );
}

#[test]
fn validate_all_valid_exits_0_silently() {
    let t = TempDir::new("validate-ok");
    let a = t.file("a.json", PASS_MACHINE);
    let b = t.file("b.json", FAIL_MACHINE);
    let out = stepwise(&["validate", &a, &b], None);
    assert_eq!(out.code, 0, "stdout: {} stderr: {}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn validate_json_lists_every_file_and_diagnostic() {
    let t = TempDir::new("validate-json");
    let good = t.file("good.json", PASS_MACHINE);
    let bad = t.file("bad.json", INVALID_TWO_PROBLEMS);
    let out = stepwise(&["validate", "--json", &good, &bad], None);
    assert_eq!(out.code, 1);
    let doc = out.json();
    let files = doc["files"].as_array().expect("files array");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["file"], json!(good));
    assert_eq!(files[0]["valid"], json!(true));
    assert_eq!(files[0]["diagnostics"], json!([]));
    assert_eq!(files[1]["file"], json!(bad));
    assert_eq!(files[1]["valid"], json!(false));
    let diags = files[1]["diagnostics"].as_array().expect("diagnostics");
    assert!(diags.len() >= 2, "{diags:?}");
    assert!(diags.contains(&json!({
        "pointer": "/States/W/Next",
        "code": "MISSING_TRANSITION_TARGET",
        "message": "Missing 'Next' target: Nowhere"
    })));
    for d in diags {
        assert!(
            d["pointer"].is_string() && d["code"].is_string() && d["message"].is_string(),
            "{d}"
        );
    }
    let ok = stepwise(&["validate", "--json", &good], None);
    assert_eq!(ok.code, 0);
    assert_eq!(ok.json()["files"][0]["valid"], json!(true));
}

#[test]
fn validate_unreadable_or_broken_files_are_reported_not_panics() {
    let t = TempDir::new("validate-broken");
    let missing = t.path("missing.json");
    let broken = t.file("broken.json", "{\"StartAt\": ");
    let not_object = t.file("array.json", "[1, 2, 3]");
    let out = stepwise(&["validate", &missing, &broken, &not_object], None);
    assert_eq!(out.code, 1);
    for f in [&missing, &broken, &not_object] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(&format!("{f}: /"))),
            "{f} reported:\n{}",
            out.stdout
        );
    }
    let none = stepwise(&["validate"], None);
    assert_eq!(none.code, 2, "no files is a usage error");
}

// ---------------------------------------------------------------- conformance

#[test]
fn conformance_prints_table_and_writes_report() {
    let t = TempDir::new("conformance");
    let definition = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}"#;
    t.file("demo__pass__test_ok/definition.json", definition);
    t.file("demo__pass__test_ok/input.json", "{}");
    t.file(
        "demo__pass__test_ok/expected.json",
        r#"{"status": "SUCCEEDED", "output": {"ok": true}}"#,
    );
    t.file("demo__pass__test_wrong/definition.json", definition);
    t.file("demo__pass__test_wrong/input.json", "{}");
    t.file(
        "demo__pass__test_wrong/expected.json",
        r#"{"status": "SUCCEEDED", "output": {"ok": false}}"#,
    );
    let cases = t.path("");
    let report = t.path("report.json");
    let out = stepwise(&["conformance", &cases, "--report", &report], None);
    assert_eq!(
        out.code, 1,
        "a failing case exits 1; stderr: {}",
        out.stderr
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.last().copied(),
        Some("conformance: 1 passed, 1 failed"),
        "{}",
        out.stdout
    );
    let header: Vec<&str> = lines
        .first()
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(header, ["category", "passed", "failed", "total"]);
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["demo/pass", "1", "1", "2"]),
        "a row per category: {}",
        out.stdout
    );

    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written"))
            .expect("JSON");
    assert_eq!(doc["total"], json!(2));
    assert_eq!(doc["passed"], json!(1));
    let cases = doc["cases"].as_array().expect("cases");
    let by_id = |id: &str| {
        cases
            .iter()
            .find(|c| c["id"] == json!(id))
            .unwrap_or_else(|| panic!("{id} in report"))
    };
    let ok = by_id("demo__pass__test_ok");
    assert_eq!(ok["passed"], json!(true));
    assert_eq!(ok["category"], json!("demo/pass"));
    let wrong = by_id("demo__pass__test_wrong");
    assert_eq!(wrong["passed"], json!(false));
    assert_eq!(wrong["part"], json!("output"));
    assert!(
        wrong["diff"].as_str().is_some_and(|d| !d.is_empty()),
        "{wrong}"
    );

    // --filter keeps only matching cases; all of them pass, so exit 0.
    let only_ok = stepwise(&["conformance", &t.path(""), "--filter", "test_ok"], None);
    assert_eq!(only_ok.code, 0, "{}", only_ok.stdout);
    assert_eq!(
        only_ok.stdout.lines().last(),
        Some("conformance: 1 passed, 0 failed")
    );
}

#[test]
fn conformance_known_failures_are_named_in_the_summary() {
    let t = TempDir::new("conformance-known");
    let definition =
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}}"#;
    for (id, output) in [("demo__pass__test_ok", 1), ("demo__pass__test_wrong", 2)] {
        t.file(&format!("cases/{id}/definition.json"), definition);
        t.file(&format!("cases/{id}/input.json"), "{}");
        t.file(
            &format!("cases/{id}/expected.json"),
            &format!(r#"{{"status": "SUCCEEDED", "output": {output}}}"#),
        );
    }
    let known = t.file(
        "known.txt",
        "# id, then why\ndemo__pass__test_wrong  expects 2 on purpose\n",
    );
    let out = stepwise(
        &["conformance", &t.path("cases"), "--known-failures", &known],
        None,
    );
    assert_eq!(out.code, 0, "only known failures: exit 0; {}", out.stdout);
    assert_eq!(
        out.stdout.lines().last(),
        Some("conformance: 1 passed, 1 failed (1 known failure: demo__pass__test_wrong)")
    );
    let none = t.file("none.txt", "# nothing known\n");
    let out = stepwise(
        &["conformance", &t.path("cases"), "--known-failures", &none],
        None,
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(
        out.stdout.lines().last(),
        Some("conformance: 1 passed, 1 failed (0 known failures; 1 not known: demo__pass__test_wrong)")
    );
}

#[test]
fn conformance_on_a_missing_folder_is_a_clear_error() {
    let t = TempDir::new("conformance-missing");
    let out = stepwise(&["conformance", &t.path("nope")], None);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("nope"), "stderr: {}", out.stderr);
}
