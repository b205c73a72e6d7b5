//! Task states that call real things from `stepwise run --config stepwise.toml` and
//! `stepwise serve --config`: `command` functions, and configuration errors that name
//! their key before anything runs.

mod common;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("stepwise-tasks-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// A shell function that doubles `n` (no Python needed): the event on stdin, the
/// result on stdout.
const DOUBLE: &str = r#"#!/bin/sh
read -r event
n=$(printf '%s' "$event" | sed 's/[^0-9]//g')
printf '{"n": %d, "function": "%s"}\n' $((n * 2)) "$AWS_LAMBDA_FUNCTION_NAME"
"#;

const DECLINE: &str = r#"#!/bin/sh
cat > /dev/null
echo '{"errorType": "CardDeclined", "errorMessage": "insufficient funds"}'
exit 1
"#;

/// `m.asl.json` under `dir`: one Task calling `double` by its bare function ARN.
fn double_machine(dir: &Path) -> String {
    write(
        dir,
        "m.asl.json",
        &json!({"StartAt": "Invoke", "States": {"Invoke": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
            "End": true}}})
        .to_string(),
    )
}

fn setup(name: &str) -> (PathBuf, String) {
    let dir = temp_dir(name);
    write(&dir, "double.sh", DOUBLE);
    write(&dir, "decline.sh", DECLINE);
    let config = write(
        &dir,
        "stepwise.toml",
        "[functions.double]\ncommand = [\"sh\", \"double.sh\"]\n\n[functions.decline]\ncommand = [\"sh\", \"decline.sh\"]\n",
    );
    (dir, config)
}

#[test]
fn run_calls_command_functions_through_lambda_invoke_and_bare_arns() {
    let (dir, config) = setup("run");
    let def = write(
        &dir,
        "m.asl.json",
        &json!({
            "StartAt": "Invoke",
            "States": {
                "Invoke": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "double", "Payload": {"n.$": "$.n"}},
                    "ResultSelector": {"n.$": "$.Payload.n", "status.$": "$.StatusCode"},
                    "Next": "Bare"
                },
                "Bare": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
                    "Parameters": {"n.$": "$.n"},
                    "ResultPath": "$.again",
                    "End": true
                }
            }
        })
        .to_string(),
    );
    let out = common::run(
        &["run", &def, "--config", &config, "--input", "-"],
        Some("{\"n\": 21}"),
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json(),
        json!({"n": 42, "status": 200, "again": {"n": 84, "function": "double"}})
    );
}

#[test]
fn a_bare_config_file_name_is_relative_to_the_current_folder() {
    let (dir, _) = setup("bare");
    double_machine(&dir);
    let out = common::run(
        &[
            "run",
            "m.asl.json",
            "--config",
            "stepwise.toml",
            "--input",
            "-",
        ],
        Some("{\"n\": 3}"),
        Some(&dir),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["n"], 6);
}

#[test]
fn run_reports_a_function_error_by_its_type() {
    let (dir, config) = setup("error");
    let def = write(
        &dir,
        "m.asl.json",
        &json!({"StartAt": "Charge", "States": {"Charge": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "decline"}, "End": true}}})
        .to_string(),
    );
    let out = common::run(&["run", &def, "--config", &config], None, None);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("CardDeclined"), "{}", out.stderr);
    assert!(out.stderr.contains("insufficient funds"), "{}", out.stderr);
}

#[test]
fn the_config_file_can_come_from_the_environment() {
    let (dir, config) = setup("env");
    let def = double_machine(&dir);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["run", &def, "--input", "-"])
        .env("STEPWISE_CONFIG", &config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"{\"n\": 5}")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["n"], 10);
}

#[test]
fn bad_configuration_is_an_error_at_start_naming_the_key() {
    let dir = temp_dir("bad");
    let def = write(
        &dir,
        "m.asl.json",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
    );
    let cases = [
        ("[functions.f]\ncommand = [\"a\"]\nendpoint = \"http://x\"\n", "functions.f: give only one of command, bootstrap or endpoint"),
        ("[functions.f]\ncommand = [\"a\"]\ntimeot = 3\n", "unknown field `timeot`"),
        ("[functions.f\n", "stepwise.toml"),
        ("[functions.f]\nbootstrap = [\"sh\"]\ntimeout = 901\n", "functions.f.timeout"),
        ("[functions.f]\ncommand = [\"fn/missing.py\"]\n", "functions.f.command: the program 'fn/missing.py' is not a file"),
        ("[state_machines.t]\ndefinition = \"gone.json\"\n", "state_machines.t.definition"),
        ("[connections.c]\nAuthorizationType = \"API_KEY\"\n[connections.c.AuthParameters.ApiKeyAuthParameters]\nApiKeyName = \"k\"\nApiKeyValue = \"${STEPWISE_TEST_UNSET_VARIABLE}\"\n",
         "connections.c.AuthParameters.ApiKeyAuthParameters.ApiKeyValue: the environment variable STEPWISE_TEST_UNSET_VARIABLE is not set"),
    ];
    for (text, expected) in cases {
        let config = write(&dir, "stepwise.toml", text);
        for command in ["run", "serve"] {
            let mut args = vec![command.to_string()];
            if command == "run" {
                args.push(def.clone());
            } else {
                args.extend([
                    "--port".into(),
                    "0".into(),
                    "--data-dir".into(),
                    dir.join("data").to_string_lossy().into_owned(),
                ]);
            }
            args.extend(["--config".into(), config.clone()]);
            let out = common::run(&args, None, None);
            assert_eq!(out.code, 2, "{command} {text}: {}", out.stderr);
            assert!(
                out.stderr.contains(expected),
                "{command} {text}: {}",
                out.stderr
            );
        }
    }
    let out = common::run(
        &["run", &def, "--config", "/no/such/stepwise.toml"],
        None,
        None,
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("/no/such/stepwise.toml"),
        "{}",
        out.stderr
    );
}

/// `run --config` runs on the engine: nested executions of `[state_machines.NAME]`,
/// calls that overlap in a Parallel, and a `.waitForTaskToken` call answered by the
/// function itself through the API in `AWS_ENDPOINT_URL_SFN`.
#[test]
fn run_with_config_nests_executions_overlaps_calls_and_takes_task_tokens() {
    let dir = temp_dir("engine");
    // Records when it started and ended, so the test can see the calls overlap.
    write(
        &dir,
        "nap.py",
        r#"import json, os, sys, time
event = json.load(sys.stdin)
mark = os.path.join(os.environ["MARKS"], str(event["i"]))
open(mark + ".start", "w").close()
time.sleep(1)
open(mark + ".end", "w").close()
print(json.dumps({"i": event["i"]}))
"#,
    );
    // Answers its own task token through the Step Functions API, as a worker would.
    write(
        &dir,
        "approve.py",
        r#"import json, os, sys, urllib.request
event = json.load(sys.stdin)
body = {"taskToken": event["token"], "output": json.dumps({"approved": event["order"]})}
req = urllib.request.Request(os.environ["AWS_ENDPOINT_URL_SFN"], data=json.dumps(body).encode(),
    headers={"X-Amz-Target": "AWSStepFunctions.SendTaskSuccess", "Content-Type": "application/x-amz-json-1.0"})
urllib.request.urlopen(req).read()
print("{}")
"#,
    );
    write(
        &dir,
        "child.asl.json",
        &json!({"StartAt": "Double", "States": {"Double": {
            "Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"}, "End": true}}})
        .to_string(),
    );
    let marks = dir.join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    let config = write(
        &dir,
        "stepwise.toml",
        &format!(
            "[functions.nap]\ncommand = [\"python3\", \"nap.py\"]\nenvironment = {{ MARKS = \"{}\" }}\n\n[functions.approve]\ncommand = [\"python3\", \"approve.py\"]\n\n[state_machines.child]\ndefinition = \"child.asl.json\"\n",
            marks.display()
        ),
    );
    let nap = |i: u32| {
        json!({"StartAt": format!("Nap{i}"), "States": {format!("Nap{i}"): {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:nap",
            "Parameters": {"i": i}, "End": true}}})
    };
    let def = write(
        &dir,
        "parent.asl.json",
        &json!({
            "StartAt": "Naps",
            "States": {
                "Naps": {"Type": "Parallel", "Branches": [nap(0), nap(1), nap(2)], "ResultPath": "$.naps", "Next": "Child"},
                "Child": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child", "Input": {"n.$": "$.n"}},
                    "ResultSelector": {"n.$": "$.Output.n"},
                    "ResultPath": "$.child",
                    "Next": "Approve"
                },
                "Approve": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token", "order": "o-9"}},
                    "ResultPath": "$.approval",
                    "End": true
                }
            }
        })
        .to_string(),
    );
    let history = dir.join("history.json");
    let out = common::run(
        &[
            "run",
            &def,
            "--config",
            &config,
            "--input",
            "-",
            "--history",
            &history.to_string_lossy(),
        ],
        Some("{\"n\": 4}"),
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json(),
        json!({"n": 4, "naps": [{"i": 0}, {"i": 1}, {"i": 2}], "child": {"n": 8}, "approval": {"approved": "o-9"}})
    );
    // Every call had started before any had ended: they ran at once.
    let started = |i: u32| {
        marks
            .join(format!("{i}.start"))
            .metadata()
            .unwrap()
            .modified()
            .unwrap()
    };
    let ended = |i: u32| {
        marks
            .join(format!("{i}.end"))
            .metadata()
            .unwrap()
            .modified()
            .unwrap()
    };
    let last_start = (0..3).map(started).max().unwrap();
    let first_end = (0..3).map(ended).min().unwrap();
    assert!(
        last_start <= first_end,
        "the Parallel's calls ran one after another"
    );
    let h: Value = serde_json::from_str(&std::fs::read_to_string(&history).unwrap()).unwrap();
    let types: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    // The function answered before its invocation returned: its TaskSubmitted may or
    // may not come first, as on AWS.
    assert!(types.contains(&"TaskScheduled"), "{types:?}");
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
}

/// `--progress` shows each state, what it calls, its retries and a caught error.
#[test]
fn progress_shows_calls_retries_and_caught_errors() {
    let (dir, config) = setup("progress");
    let def = write(
        &dir,
        "m.asl.json",
        &json!({"StartAt": "Charge", "States": {
            "Charge": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "decline"},
                "Retry": [{"ErrorEquals": ["CardDeclined"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refund"}],
                "End": true},
            "Refund": {"Type": "Pass", "End": true}}})
        .to_string(),
    );
    let out = common::run(
        &[
            "run",
            &def,
            "--config",
            &config,
            "--progress",
            "--time-scale",
            "0",
        ],
        None,
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    for line in [
        "→ Charge (Task)",
        "  calling lambda:invoke decline",
        "  ✗ CardDeclined",
        "  retry 1/1: calling lambda:invoke decline",
        "↪ Charge (caught CardDeclined)",
        "→ Refund (Pass)",
        "✓ Refund",
    ] {
        assert!(
            out.stderr.lines().any(|l| l.starts_with(line)),
            "{line:?} missing in:\n{}",
            out.stderr
        );
    }
}
