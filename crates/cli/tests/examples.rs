//! The runnable examples in `examples/` through the real `stepwise` binary: each test
//! case's exact output (or error and cause), the retry in the video pipeline's history,
//! and every command written in `examples/README.md`.

mod common;
use common::Out;
use serde_json::{json, Value};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> String {
    repo()
        .join("examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn stepwise(args: &[String], stdin: Option<&str>) -> Out {
    common::run(args, stdin, Some(&repo()))
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `stepwise run examples/NAME.asl.json --input … --mock-config … --test-case CASE
/// --name NAME --time-scale 0` plus `extra`.
fn run_example(name: &str, test_case: &str, extra: &[&str]) -> Out {
    let mut a = args(&[
        "run",
        &example(&format!("{name}.asl.json")),
        "--input",
        &example(&format!("{name}.input.json")),
        "--mock-config",
        &example(&format!("{name}.mock.json")),
        "--test-case",
        test_case,
        "--name",
        name,
        "--time-scale",
        "0",
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    stepwise(&a, None)
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("stepwise-examples-{}-{name}", std::process::id()))
}

// ---------------------------------------------------------------- hello

#[test]
fn hello_runs_without_mocks() {
    let out = stepwise(
        &args(&["run", &example("hello.asl.json"), "--time-scale", "0"]),
        None,
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(
        out.json(),
        json!({"greetings": ["Hello, World!", "Bonjour, World !", "¡Hola, World!"], "count": 3})
    );
}

#[test]
fn hello_takes_input_from_stdin() {
    let out = stepwise(
        &args(&[
            "run",
            &example("hello.asl.json"),
            "--input",
            "-",
            "--time-scale",
            "0",
        ]),
        Some(r#"{"name": "Grace"}"#),
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(
        out.json(),
        json!({"greetings": ["Hello, Grace!", "Bonjour, Grace !", "¡Hola, Grace!"], "count": 3})
    );
}

// ---------------------------------------------------------------- order workflow

#[test]
fn order_happy_path_accumulates_every_result() {
    let out = run_example("order-workflow", "HappyPath", &[]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(
        out.json(),
        json!({
            "orderId": "ord-20240514-0042",
            "customer": {"id": "cus-1187", "email": "ada@example.com"},
            "items": [{"sku": "BOOK-ASL-101", "quantity": 3, "unitPrice": 19.99}],
            "total": 59.97,
            "currency": "EUR",
            "paymentToken": "tok_visa_4242",
            "shippingAddress": {
                "name": "Ada Lovelace",
                "street": "12 St James's Square",
                "city": "London",
                "postcode": "SW1Y 4JH",
                "country": "GB"
            },
            "inventory": {"available": true, "warehouse": "DUB-1", "reservationId": "res-7f3c2a91"},
            "payment": {
                "status": "APPROVED",
                "transactionId": "txn-4e8b1d6c-2f0a-4a7e-9c35-8d1f6b2e0a47",
                "amountCharged": 59.97,
                "currency": "EUR"
            },
            "fulfilment": {
                "confirmationMessageId": "5b2d7c1e-93a4-5f6b-8e0d-2c4a9f17b3e8",
                "stockLeft": 41,
                "warehouseMessageId": "c8f1e2d4-6b3a-4f7e-a9d2-1e5b7c3f8a60"
            },
            "shipping": {
                "carrier": "DHL",
                "trackingNumber": "JD014600006281234567",
                "labelUrl": "https://labels.example.com/JD014600006281234567.pdf"
            }
        })
    );
}

#[test]
fn order_payment_declined_cancels_and_fails() {
    let history = temp_path("order-declined.json");
    let out = run_example(
        "order-workflow",
        "PaymentDeclined",
        &["--history", &history.to_string_lossy()],
    );
    assert_eq!(out.code, 1, "stdout: {}", out.stdout);
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.contains(&"FAILED: OrderCancelled"),
        "stderr: {}",
        out.stderr
    );
    assert!(
        lines.contains(&"Card declined by issuer"),
        "stderr: {}",
        out.stderr
    );

    // The branch taken: ChargePayment failed, was caught, CancelOrder ran, nothing shipped.
    let text = std::fs::read_to_string(&history).expect("history written");
    let _ = std::fs::remove_file(&history);
    let doc: Value = serde_json::from_str(&text).expect("history JSON");
    let events = doc["events"].as_array().expect("events");
    let entered: Vec<&str> = events
        .iter()
        .filter_map(|e| e["stateEnteredEventDetails"]["name"].as_str())
        .collect();
    assert_eq!(
        entered,
        [
            "CheckInventory",
            "InStock?",
            "ChargePayment",
            "CancelOrder",
            "OrderCancelled"
        ]
    );
    let failed = events
        .iter()
        .find(|e| e["type"] == json!("TaskFailed"))
        .expect("TaskFailed");
    assert_eq!(
        failed["taskFailedEventDetails"]["error"],
        json!("PaymentDeclined")
    );
    assert_eq!(
        failed["taskFailedEventDetails"]["cause"],
        json!("Card declined by issuer")
    );
    // CancelOrder got the reservation and the caught error's name.
    let cancel = events
        .iter()
        .filter(|e| e["type"] == json!("TaskScheduled"))
        .nth(2)
        .expect("CancelOrder scheduled");
    let params: Value = serde_json::from_str(
        cancel["taskScheduledEventDetails"]["parameters"]
            .as_str()
            .unwrap_or(""),
    )
    .expect("parameters are JSON text");
    assert_eq!(
        params["Payload"],
        json!({"orderId": "ord-20240514-0042", "reservationId": "res-7f3c2a91", "reason": "PaymentDeclined"})
    );
    let last = events.last().expect("events");
    assert_eq!(last["type"], json!("ExecutionFailed"));
    assert_eq!(
        last["executionFailedEventDetails"],
        json!({"error": "OrderCancelled", "cause": "Card declined by issuer"})
    );
}

// ---------------------------------------------------------------- video pipeline

fn video_output() -> Value {
    json!({
        "videoId": "vid-8842",
        "status": "READY",
        "renditions": [
            {"format": "1080p", "status": "TRANSCODED", "location": "s3://videos-renditions/vid-8842/1080p.mp4"},
            {"format": "720p", "status": "TRANSCODED", "location": "s3://videos-renditions/vid-8842/720p.mp4"},
            {"format": "480p", "status": "TRANSCODED", "location": "s3://videos-renditions/vid-8842/480p.mp4"}
        ],
        "thumbnails": ["thumbnails/frame-0001.jpg", "thumbnails/frame-0002.jpg", "thumbnails/frame-0003.jpg"],
        "archive": "s3://videos-archive/originals/",
        "notificationId": "0f6a3d8e-2b7c-5e91-b4a0-7d3e8c1f6b25"
    })
}

#[test]
fn video_happy_path() {
    let out = run_example("video-pipeline", "HappyPath", &[]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), video_output());
}

#[test]
fn video_transcode_flaky_retries_and_succeeds() {
    let history = temp_path("video-flaky.json");
    let out = run_example(
        "video-pipeline",
        "TranscodeFlaky",
        &["--history", &history.to_string_lossy()],
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.json(), video_output());

    let text = std::fs::read_to_string(&history).expect("history written");
    let _ = std::fs::remove_file(&history);
    let doc: Value = serde_json::from_str(&text).expect("history JSON");
    let events = doc["events"].as_array().expect("events");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["id"], json!(i + 1), "ids are 1..n");
    }
    let by_id = |id: u64| events.get((id as usize).wrapping_sub(1));
    let of_type = |t: &str| {
        events
            .iter()
            .filter(|e| e["type"] == json!(t))
            .collect::<Vec<_>>()
    };

    // Exactly one failure: the first Transcode invocation.
    let failures = of_type("TaskFailed");
    assert_eq!(failures.len(), 1, "one TaskFailed");
    let failed = failures[0];
    assert_eq!(
        failed["taskFailedEventDetails"]["error"],
        json!("Lambda.ServiceException")
    );
    assert_eq!(
        failed["taskFailedEventDetails"]["resourceType"],
        json!("lambda")
    );

    // It failed a Transcode task: TaskFailed ← TaskStarted ← TaskScheduled ← TaskStateEntered(Transcode).
    let started = by_id(failed["previousEventId"].as_u64().unwrap_or(0)).expect("TaskStarted");
    assert_eq!(started["type"], json!("TaskStarted"));
    let scheduled = by_id(started["previousEventId"].as_u64().unwrap_or(0)).expect("TaskScheduled");
    assert_eq!(scheduled["type"], json!("TaskScheduled"));
    let entered =
        by_id(scheduled["previousEventId"].as_u64().unwrap_or(0)).expect("TaskStateEntered");
    assert_eq!(entered["type"], json!("TaskStateEntered"));
    assert_eq!(
        entered["stateEnteredEventDetails"]["name"],
        json!("Transcode")
    );

    // The retry: TaskScheduled again, chained to the failure, with the same parameters,
    // then TaskStarted and TaskSucceeded, and the state is exited once.
    let retry = events
        .iter()
        .find(|e| e["previousEventId"] == failed["id"])
        .expect("an event follows the failure");
    assert_eq!(retry["type"], json!("TaskScheduled"));
    assert!(retry["id"].as_u64() > failed["id"].as_u64());
    assert_eq!(
        retry["taskScheduledEventDetails"]["parameters"],
        scheduled["taskScheduledEventDetails"]["parameters"],
        "the retry sends the same request"
    );
    let retry_started = events
        .iter()
        .find(|e| e["previousEventId"] == retry["id"])
        .expect("after retry");
    assert_eq!(retry_started["type"], json!("TaskStarted"));
    let retry_done = events
        .iter()
        .find(|e| e["previousEventId"] == retry_started["id"])
        .expect("after start");
    assert_eq!(retry_done["type"], json!("TaskSucceeded"));
    let exited = events
        .iter()
        .find(|e| e["previousEventId"] == retry_done["id"])
        .expect("after success");
    assert_eq!(exited["type"], json!("TaskStateExited"));
    assert_eq!(
        exited["stateExitedEventDetails"]["name"],
        json!("Transcode")
    );

    // 3 formats + 1 retry on Transcode, 7 other tasks; every scheduled task started.
    let transcodes = of_type("TaskScheduled")
        .into_iter()
        .filter(|e| {
            e["taskScheduledEventDetails"]["parameters"]
                .as_str()
                .is_some_and(|p| p.contains("function:transcode"))
        })
        .count();
    assert_eq!(transcodes, 4);
    assert_eq!(of_type("TaskScheduled").len(), 11);
    assert_eq!(of_type("TaskStarted").len(), 11);
    assert_eq!(of_type("TaskSucceeded").len(), 10);
    assert_eq!(of_type("MapIterationSucceeded").len(), 3);
    assert_eq!(
        events.last().map(|e| e["type"].clone()),
        Some(json!("ExecutionSucceeded"))
    );
    assert_eq!(of_type("WaitStateExited").len(), 1);
}

#[test]
fn video_shows_variables_in_the_history() {
    let history = temp_path("video-vars.json");
    let out = run_example(
        "video-pipeline",
        "HappyPath",
        &["--history", &history.to_string_lossy()],
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let text = std::fs::read_to_string(&history).expect("history written");
    let _ = std::fs::remove_file(&history);
    let doc: Value = serde_json::from_str(&text).expect("history JSON");
    let events = doc["events"].as_array().expect("events");
    let validate_exit = events
        .iter()
        .find(|e| e["stateExitedEventDetails"]["name"] == json!("ValidateVideo"))
        .expect("ValidateVideo exited");
    assert_eq!(
        validate_exit["stateExitedEventDetails"]["assignedVariables"],
        json!({
            "videoId": "\"vid-8842\"",
            "userId": "\"user-31\"",
            "source": "\"s3://videos-uploads/incoming/vid-8842/holiday.mp4\""
        })
    );
}

// ---------------------------------------------------------------- every example

fn definitions() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .expect("examples folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".asl.json"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_is_valid_and_says_how_to_run_it() {
    let defs = definitions();
    assert_eq!(
        defs,
        [
            "hello.asl.json",
            "order-workflow.asl.json",
            "video-pipeline.asl.json"
        ]
    );
    let mut a = args(&["validate"]);
    a.extend(defs.iter().map(|d| example(d)));
    let out = stepwise(&a, None);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.stdout, "");
    for d in &defs {
        let text = std::fs::read_to_string(repo().join("examples").join(d)).expect("read example");
        let v: Value = serde_json::from_str(&text).expect("example is JSON");
        let comment = v["Comment"].as_str().unwrap_or("");
        assert!(
            comment.contains(&format!("stepwise run examples/{d}")),
            "{d}'s Comment says how to run it"
        );
    }
}

#[test]
fn every_mock_file_names_its_definition() {
    // The README's commands pass no --name: the mock file's machine is the file name.
    for (name, cases) in [
        ("order-workflow", ["HappyPath", "PaymentDeclined"]),
        ("video-pipeline", ["HappyPath", "TranscodeFlaky"]),
    ] {
        let text =
            std::fs::read_to_string(repo().join("examples").join(format!("{name}.mock.json")))
                .expect("mock file");
        let v: Value = serde_json::from_str(&text).expect("mock JSON");
        let machines: Vec<&String> = v["StateMachines"]
            .as_object()
            .expect("StateMachines")
            .keys()
            .collect();
        assert_eq!(machines, [name]);
        let tcs: Vec<&String> = v["StateMachines"][name]["TestCases"]
            .as_object()
            .expect("TestCases")
            .keys()
            .collect();
        assert_eq!(tcs, cases);
    }
}

// ---------------------------------------------------------------- examples/README.md

/// One command of the README: its arguments, stdin, and what the comments around it
/// promise (exit code, stdout JSON, stderr lines).
#[derive(Debug)]
struct ReadmeCommand {
    args: Vec<String>,
    stdin: Option<String>,
    exit: i32,
    stdout: Option<Value>,
    stderr_lines: Vec<String>,
}

fn readme_commands() -> Vec<ReadmeCommand> {
    let text =
        std::fs::read_to_string(repo().join("examples/README.md")).expect("examples/README.md");
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut comments: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            comments.clear();
            continue;
        }
        if !in_block {
            continue;
        }
        let line = line.trim();
        if pending.is_empty() && line.starts_with('#') {
            // A `# {…}` line right after a command is its stdout.
            if let (Some(json_text), Some(last)) = (line.strip_prefix("# {"), commands.last_mut()) {
                let last: &mut ReadmeCommand = last;
                if comments.is_empty() && last.stdout.is_none() {
                    last.stdout = Some(
                        serde_json::from_str(&format!("{{{json_text}"))
                            .expect("README output is JSON"),
                    );
                    continue;
                }
            }
            comments.push(line.to_string());
            continue;
        }
        if line.is_empty() {
            continue;
        }
        // Join continuation lines.
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        // Drop a trailing comment.
        let full = full.split(" # ").next().unwrap_or("").trim().to_string();
        let (stdin, cmd) = match full.split_once(" | ") {
            Some((echo, cmd)) => {
                let quoted = echo
                    .strip_prefix("echo '")
                    .and_then(|s| s.strip_suffix('\''))
                    .expect("echo '…' | stepwise");
                (Some(quoted.to_string()), cmd.to_string())
            }
            None => (None, full),
        };
        let mut words = cmd.split_whitespace();
        assert_eq!(words.next(), Some("stepwise"), "README command: {cmd}");
        let mut args = Vec::new();
        for w in words {
            if let Some((dir, suffix)) = w.split_once("/*") {
                // A glob such as examples/*.asl.json.
                let mut matched: Vec<String> = std::fs::read_dir(repo().join(dir))
                    .expect("glob folder")
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(suffix))
                    .map(|n| format!("{dir}/{n}"))
                    .collect();
                matched.sort();
                args.extend(matched);
            } else {
                args.push(w.to_string());
            }
        }
        let exit = comments
            .iter()
            .find_map(|c| {
                c.split("Exit code ")
                    .nth(1)
                    .and_then(|r| r.chars().next())
                    .and_then(|d| d.to_digit(10))
            })
            .map_or(0, |d| d as i32);
        let stderr_lines = comments
            .iter()
            .skip_while(|c| !c.ends_with("stderr:"))
            .skip(1)
            .filter_map(|c| c.strip_prefix("#   ").map(str::to_string))
            .collect();
        commands.push(ReadmeCommand {
            args,
            stdin,
            exit,
            stdout: None,
            stderr_lines,
        });
        comments.clear();
    }
    commands
}

#[test]
fn readme_commands_do_what_the_readme_says() {
    let commands = readme_commands();
    assert!(commands.len() >= 6, "README commands: {commands:#?}");
    for (i, c) in commands.iter().enumerate() {
        // Keep the repository clean: --history goes to a temp file.
        let mut args = c.args.clone();
        let history = temp_path(&format!("readme-{i}.json"));
        if let Some(pos) = args.iter().position(|a| a == "--history") {
            if let Some(v) = args.get_mut(pos + 1) {
                *v = history.to_string_lossy().into_owned();
            }
        }
        let out = stepwise(&args, c.stdin.as_deref());
        let _ = std::fs::remove_file(&history);
        assert_eq!(
            out.code,
            c.exit,
            "stepwise {}\nstdout: {}\nstderr: {}",
            c.args.join(" "),
            out.stdout,
            out.stderr
        );
        if let Some(expected) = &c.stdout {
            assert_eq!(&out.json(), expected, "stepwise {}", c.args.join(" "));
        }
        for l in &c.stderr_lines {
            assert!(
                out.stderr.lines().any(|s| s == l),
                "stepwise {}: {l:?} in stderr:\n{}",
                c.args.join(" "),
                out.stderr
            );
        }
    }
}
