//! Requests an attacker would send, against a real `stepwise serve`: each bad execution
//! ends with an AWS-style error while the server keeps answering others, and the process
//! neither aborts nor fails to come back after `kill -9`.

#[allow(dead_code)]
mod common;

use common::server::{Client, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> std::path::PathBuf {
    common::server::fresh_dir(name)
}

/// `/health` and a Describe both answer, within a second.
fn still_serving(server: &Server, c: &Client, machine: &str) {
    let t = Instant::now();
    let health = ureq::get(&format!("{}/health", server.url()))
        .timeout(Duration::from_secs(1))
        .call()
        .map(|r| r.status())
        .ok();
    assert_eq!(health, Some(200));
    c.ok(
        "DescribeStateMachine",
        json!({ "stateMachineArn": machine }),
    );
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

fn start(c: &Client, machine: &str, input: Value) -> String {
    c.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "input": input.to_string()}),
    )["executionArn"]
        .as_str()
        .expect("executionArn")
        .to_string()
}

/// About 1.5 s of JSONata (`$states.input.n` = 50) in one evaluation.
const SLOW_SUM: &str =
    "{% $sum([1..$states.input.n].($reduce([1..100000], function($a, $v){ $a + $v }, 0))) %}";

/// A JSONata machine: a one-second Wait (StartExecution is answered by then), then a
/// Pass state `P` whose `Output` is `output`.
fn after_a_wait(c: &Client, name: &str, output: &str) -> String {
    c.create_machine(
        name,
        &json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
            "P": {"Type": "Pass", "Output": output, "End": true}}}),
    )
}

/// `{"a": {"a": …}}` built `$states.input.n` levels deep by one JSONata expression.
const DEEP: &str = "{% $reduce([1..$states.input.n], function($acc, $v){ {'a': $acc} }, {}) %}";

#[test]
fn values_nested_too_deep_fail_where_they_are_made() {
    let data = temp_dir("deep");
    let mut server = Server::start(&data, &[]);
    let c = server.client();
    let jsonata = c.create_machine(
        "deep-jsonata",
        &json!({"QueryLanguage": "JSONata", "StartAt": "Deep", "States": {
            "Deep": {"Type": "Pass", "Output": DEEP, "End": true}}}),
    );
    // Acknowledged first, deep later: this used to abort the process at every restart.
    let after_wait = c.create_machine(
        "deep-after-wait",
        &json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 2, "Next": "Deep"},
            "Deep": {"Type": "Pass", "Output": DEEP, "End": true}}}),
    );
    // One level more at each turn of a Pass/Choice loop.
    let nesting = c.create_machine(
        "deep-loop",
        &json!({"StartAt": "Nest", "States": {
            "Nest": {"Type": "Pass", "ResultPath": "$.a", "Next": "Again"},
            "Again": {"Type": "Choice",
                      "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "Nest"}],
                      "Default": "Done"},
            "Done": {"Type": "Succeed"}}}),
    );
    let waiting = start(&c, &after_wait, json!({"n": 40_000}));
    let shallow = start(&c, &jsonata, json!({"n": 100}));
    let d = c.wait_done(&shallow, Duration::from_secs(30));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");

    let deep = start(&c, &jsonata, json!({"n": 40_000}));
    let d = c.wait_done(&deep, Duration::from_secs(30));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.QueryEvaluationError");
    let cause = d["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("nested more than 128 levels deep"),
        "{cause}"
    );
    still_serving(&server, &c, &jsonata);

    let looped = start(&c, &nesting, json!({}));
    let d = c.wait_done(&looped, Duration::from_secs(30));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.Runtime");
    assert_eq!(
        d["cause"],
        "The state 'Nest' made result nested more than 128 levels deep."
    );
    still_serving(&server, &c, &nesting);

    // One TestState call.
    let t = c.ok(
        "TestState",
        json!({"definition": json!({"Type": "Pass", "QueryLanguage": "JSONata",
                "Output": DEEP, "End": true}).to_string(),
               "input": json!({"n": 40_000}).to_string()}),
    );
    assert_eq!(t["status"], "FAILED", "{t}");
    assert_eq!(t["error"], "States.QueryEvaluationError");
    still_serving(&server, &c, &jsonata);

    // The waiting execution comes back after kill -9 and fails the same clean way.
    server.kill_and_restart();
    let c = server.client();
    let d = c.wait_done(&waiting, Duration::from_secs(30));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.QueryEvaluationError");
    still_serving(&server, &c, &after_wait);
    server.kill_and_restart();
    still_serving(&server, &server.client(), &after_wait);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn maps_are_held_to_the_history_and_payload_limits() {
    let data = temp_dir("maps");
    let server = Server::start(&data, &["--time-scale", "0"]);
    let c = server.client();
    // An inline Map with unlimited concurrency starts every iteration at once: it used to
    // write one MapIterationStarted per item, far past the 25,000-event limit.
    let inline = c.create_machine(
        "wide-inline",
        &json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
            "MaxConcurrency": 0,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true}}}),
    );
    let items: Vec<u32> = (0..30_000).collect();
    let e = start(&c, &inline, json!({ "items": items }));
    let d = c.wait_done(&e, Duration::from_secs(60));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.Runtime");
    assert!(c.history(&e).len() <= 25_000);
    still_serving(&server, &c, &inline);

    // A Distributed Map over 200,000 items made by one expression (a million used to
    // grow the server past 20 GB; one evaluation cannot hold that many now): refused
    // before any child execution exists.
    let million = c.create_machine(
        "million",
        &json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map",
            "Items": "{% [1..200000] %}",
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true}}}),
    );
    let e = start(&c, &million, json!({}));
    let d = c.wait_done(&e, Duration::from_secs(60));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.DataLimitExceeded");
    still_serving(&server, &c, &million);
    let peak = server.peak_rss_kib().unwrap_or(0);
    assert!(peak < 1024 * 1024, "peak RSS {peak} KiB");

    // States.ArrayUnique over 35,000 items at every turn of a loop (it was quadratic:
    // about 2 s a state, with the server unable to answer meanwhile).
    let unique = c.create_machine(
        "unique-loop",
        &json!({"StartAt": "U", "States": {
            "U": {"Type": "Pass", "Parameters": {"a.$": "States.ArrayUnique($.a)",
                  "n.$": "States.MathAdd($.n, 1)"}, "Next": "Again"},
            "Again": {"Type": "Choice",
                      "Choices": [{"Variable": "$.n", "NumericLessThan": 30, "Next": "U"}],
                      "Default": "Done"},
            "Done": {"Type": "Succeed"}}}),
    );
    let items: Vec<u32> = (0..35_000).collect();
    let e = start(&c, &unique, json!({"a": items, "n": 0}));
    still_serving(&server, &c, &unique);
    let d = c.wait_done(&e, Duration::from_secs(60));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    still_serving(&server, &c, &unique);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// Until the server's step marker names `execution` (it is inside that step).
fn wait_until_stepping(server: &Server, execution: &str) {
    let marker = server.data_dir.join("stepping");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        // One 512-byte slot per stepping thread, each starting with its ARN.
        let text = std::fs::read(&marker).unwrap_or_default();
        let line = format!("{execution}\n");
        if text.chunks(512).any(|s| s.starts_with(line.as_bytes())) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{execution} was never being stepped");
}

/// A step that crashes the process (as a stack overflow does: SIGABRT) must not crash
/// it again at the restart: that execution fails with `States.Runtime`, the others
/// resume. A `kill -9` blames nobody.
#[cfg(unix)]
#[test]
fn an_execution_that_crashes_the_server_is_failed_at_restart() {
    let data = temp_dir("poison");
    let mut server = Server::start(&data, &[]);
    let c = server.client();
    // After a second's wait (StartExecution is answered by then), about 1.5 s of
    // JSONata in one state: long enough to be caught inside that step.
    let slow = after_a_wait(&c, "slow", SLOW_SUM);
    let waiting = c.create_machine(
        "waiting",
        &json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": true}}}),
    );
    let bystander = start(&c, &waiting, json!({}));
    let culprit = start(&c, &slow, json!({"n": 50}));
    wait_until_stepping(&server, &culprit);
    server.signal_and_restart("ABRT");
    let c = server.client();
    let d = c.wait_done(&culprit, Duration::from_secs(30));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.Runtime");
    let cause = d["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("crashed while running this execution"),
        "{cause}"
    );
    let d = c.wait_done(&bystander, Duration::from_secs(30));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    still_serving(&server, &c, &slow);

    // kill -9 in the middle of the same kind of step: it resumes and succeeds.
    let again = start(&c, &slow, json!({"n": 50}));
    wait_until_stepping(&server, &again);
    server.kill_and_restart();
    let c = server.client();
    let d = c.wait_done(&again, Duration::from_secs(60));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// A first state that takes a while: StartExecution answers within a second anyway
/// (the execution is stored before its first step ends). Killed in that step, the
/// execution starts again at the restart and succeeds; crashed (SIGABRT) there, it is
/// failed instead.
#[cfg(unix)]
#[test]
fn a_slow_first_state_is_answered_early_and_survives_a_restart() {
    let data = temp_dir("slow-first");
    let mut server = Server::start(&data, &[]);
    let c = server.client();
    let slow = c.create_machine(
        "slow-first",
        &json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Output": SLOW_SUM, "End": true}}}),
    );
    let t = Instant::now();
    let killed = start(&c, &slow, json!({"n": 50}));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let d = c.ok("DescribeExecution", json!({ "executionArn": killed }));
    assert_eq!(d["status"], "RUNNING", "{d}");
    wait_until_stepping(&server, &killed);
    server.kill_and_restart();
    let c = server.client();
    let d = c.wait_done(&killed, Duration::from_secs(30));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["output"], "250002500000", "{d}");
    let types: Vec<String> = c
        .history(&killed)
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );

    let crashed = start(&c, &slow, json!({"n": 50}));
    wait_until_stepping(&server, &crashed);
    server.signal_and_restart("ABRT");
    let c = server.client();
    let d = c.wait_done(&crashed, Duration::from_secs(30));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.Runtime", "{d}");
    still_serving(&server, &c, &slow);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// A long loop of heavy states: each step yields after its time budget, so the server
/// answers others throughout and StopExecution takes effect within a second.
#[test]
fn a_runaway_loop_does_not_hold_the_server() {
    let data = temp_dir("runaway");
    let server = Server::start(&data, &["--time-scale", "0"]);
    let c = server.client();
    let spin = c.create_machine(
        "spin",
        &json!({"StartAt": "U", "States": {
            "U": {"Type": "Pass", "Parameters": {"a.$": "States.ArrayUnique($.a)"}, "Next": "Again"},
            "Again": {"Type": "Choice",
                      "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}],
                      "Default": "U"},
            "Done": {"Type": "Succeed"}}}),
    );
    let items: Vec<u32> = (0..35_000).collect();
    let runaway = start(&c, &spin, json!({ "a": items }));
    for _ in 0..5 {
        still_serving(&server, &c, &spin);
        let d = c.ok("DescribeExecution", json!({ "executionArn": runaway }));
        assert_eq!(d["status"], "RUNNING", "{d}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let t = Instant::now();
    c.ok("StopExecution", json!({ "executionArn": runaway }));
    let d = c.ok("DescribeExecution", json!({ "executionArn": runaway }));
    assert_eq!(d["status"], "ABORTED", "{d}");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// JSONata that never ends (until the 10 s evaluation guard): one state takes a step's
/// whole time. Several at once (more than the server has request threads) must not hold
/// anyone else: health, Describe and other executions' starts answer within a second,
/// StopExecution ends one at once (the state it was in is left as entered), the others
/// fail with the guard's error, and SIGTERM is obeyed in seconds.
#[test]
fn endless_states_do_not_hold_the_server() {
    let data = temp_dir("endless");
    let mut server = Server::start(&data, &[]);
    let c = server.client();
    let endless = after_a_wait(
        &c,
        "endless",
        "{% ($f := function($n){ $f($n + 1) }; $f(0)) %}",
    );
    let quick = c.create_machine(
        "quick",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let started = Instant::now();
    let spinning: Vec<String> = (0..4).map(|_| start(&c, &endless, json!({}))).collect();
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..3 {
        still_serving(&server, &c, &endless);
        let t = Instant::now();
        let d = c.ok("DescribeExecution", json!({ "executionArn": spinning[0] }));
        assert_eq!(d["status"], "RUNNING", "{d}");
        let other = start(&c, &quick, json!({}));
        let d = c.wait_done(&other, Duration::from_secs(1));
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        std::thread::sleep(Duration::from_millis(300));
    }
    let t = Instant::now();
    c.ok(
        "StopExecution",
        json!({ "executionArn": spinning[0], "error": "Enough" }),
    );
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let d = c.ok("DescribeExecution", json!({ "executionArn": spinning[0] }));
    assert_eq!(d["status"], "ABORTED", "{d}");
    assert_eq!(d["error"], "Enough", "{d}");
    let types: Vec<String> = c
        .history(&spinning[0])
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "ExecutionAborted"
        ],
        "a stopped state is left as entered"
    );
    for arn in &spinning[1..] {
        let d = c.wait_done(arn, Duration::from_secs(30));
        assert_eq!(d["status"], "FAILED", "{d}");
        assert_eq!(d["error"], "States.QueryEvaluationError", "{d}");
    }
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "the guard is 10 s"
    );
    still_serving(&server, &c, &endless);

    // SIGTERM while a step spins: the server exits in seconds, and comes back.
    let spinning = start(&c, &endless, json!({}));
    std::thread::sleep(Duration::from_millis(1500));
    let t = Instant::now();
    assert_eq!(server.terminate(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    server.kill_and_restart();
    let c = server.client();
    c.ok("StopExecution", json!({ "executionArn": spinning }));
    let d = c.wait_done(&spinning, Duration::from_secs(5));
    assert_eq!(d["status"], "ABORTED", "{d}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// Expressions that would take gigabytes (a huge `$pad`, a `$join` with a huge
/// separator, a `$replace` with a huge replacement, a string doubled again and again,
/// ranges and item lists in the millions) fail with an evaluation error once they go
/// over one evaluation's limits, in a server whose address space is capped at 4 GiB:
/// it never aborts and keeps serving.
#[cfg(target_os = "linux")]
#[test]
fn memory_bombs_fail_within_the_budget() {
    let data = temp_dir("memory");
    let server = Server::start(&data, &[]);
    server.limit_address_space(4 << 30);
    let c = server.client();
    let bombs = [
        (
            "pad",
            "{% $pad('', 2000000000, 'x') %}",
            "width of $pad must not exceed",
        ),
        (
            "doubling",
            "{% $length($reduce([1..40], function($a, $v){ $a & $a }, 'xxxxxxxx')) %}",
            "used more memory than one evaluation may (64 MiB)",
        ),
        (
            "range",
            "{% $count([1..5000000]) %}",
            "maximum sequence length",
        ),
        (
            "objects",
            "{% [1..1000000].{'a': $pad('', 200, 'y')} %}",
            "used more memory than one evaluation may",
        ),
        (
            "separator",
            "{% $length($join([1..200000].$string(), $pad('', 8000000, 'y'))) %}",
            "The result of $join must not exceed",
        ),
        (
            "replacement",
            "{% $length($replace($pad('', 100000, 'x'), /x/, $pad('', 100000, 'y'))) %}",
            "The result of $replace must not exceed",
        ),
        (
            "join",
            "{% $length($join([1..200000].$pad('', 1000, 'z'))) %}",
            "used more memory than one evaluation may",
        ),
    ];
    for (name, output, cause) in bombs {
        let machine = c.create_machine(
            name,
            &json!({"QueryLanguage": "JSONata", "StartAt": "Bomb", "States": {
                "Bomb": {"Type": "Pass", "Output": output, "End": true}}}),
        );
        let arn = start(&c, &machine, json!({}));
        let d = c.wait_done(&arn, Duration::from_secs(30));
        assert_eq!(d["status"], "FAILED", "{name}: {d}");
        assert_eq!(d["error"], "States.QueryEvaluationError", "{name}: {d}");
        let text = d["cause"].as_str().unwrap_or_default();
        assert!(text.contains(cause), "{name}: {text}");
        still_serving(&server, &c, &machine);
    }
    let peak = server.peak_rss_kib().unwrap_or(0);
    assert!(peak < 1 << 20, "peak RSS {peak} KiB");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// A body that stops coming gets AWS's JSON `RequestTimeoutException` after the body
/// timeout (30 s), and the connection is not held; others are served meanwhile.
#[test]
fn a_body_that_never_ends_times_out() {
    use std::io::{Read, Write};
    let data = temp_dir("body");
    let server = Server::start(&data, &[]);
    let c = server.client();
    let machine = c.create_machine(
        "p",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let mut s =
        std::net::TcpStream::connect(format!("127.0.0.1:{}", server.port)).expect("connect");
    s.write_all(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n\
          X-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 100\r\n\r\n{\"a\":",
    )
    .expect("write");
    let t = Instant::now();
    still_serving(&server, &c, &machine);
    s.set_read_timeout(Some(Duration::from_secs(45)))
        .expect("timeout");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(t.elapsed() >= Duration::from_secs(29), "{:?}", t.elapsed());
    assert!(answer.contains("RequestTimeoutException"), "{answer}");
    still_serving(&server, &c, &machine);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// Connections that never finish their headers, or sit idle, are closed after the
/// header timeout (10 s) instead of holding the server's descriptors; others are served
/// meanwhile.
#[test]
fn held_connections_are_closed() {
    use std::io::{Read, Write};
    let data = temp_dir("held");
    let server = Server::start(&data, &[]);
    let c = server.client();
    let machine = c.create_machine(
        "p",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let addr = format!("127.0.0.1:{}", server.port);
    let mut held = Vec::new();
    for i in 0..200 {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        if i % 2 == 0 {
            // Half a request, then nothing.
            s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
                .expect("write");
        }
        held.push(s);
    }
    still_serving(&server, &c, &machine);
    std::thread::sleep(Duration::from_secs(11));
    for s in &mut held {
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 512];
        // Closed by the server: end of stream (after an error answer, for some).
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("connection still open after the header timeout: {e}"),
            }
        }
    }
    still_serving(&server, &c, &machine);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
