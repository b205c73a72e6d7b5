//! Against `tests/fixtures/runtime_client.py`, a Runtime API client in Python's stdlib.
use super::*;
use crate::config::Backend;

fn pool_of(argv: &[&str], timeout_ms: u64, concurrency: usize, env: &[(&str, &str)]) -> Pool {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let function = Function {
        name: "fixture".into(),
        backend: Backend::Bootstrap(argv.clone()),
        cwd: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        timeout: Duration::from_millis(timeout_ms),
        concurrency,
        environment: Default::default(),
        memory_size: 128,
    };
    let mut vars = vec![("AWS_REGION".to_string(), "eu-west-1".to_string())];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let region = vars
        .iter()
        .rev()
        .find(|(k, _)| k == "AWS_REGION")
        .map_or("us-east-1", |(_, v)| v.as_str());
    let arn = format!(
        "arn:aws:lambda:{region}:123456789012:function:{}",
        function.name
    );
    Pool::new(function, argv, vars, arn)
}

/// The fixture's pool, or `None` (the test skipped) without python3.
fn pool(timeout_ms: u64, concurrency: usize, env: &[(&str, &str)]) -> Option<Pool> {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    if !python.is_ok_and(|o| o.status.success()) {
        println!("note: python3 not found; bootstrap test skipped");
        return None;
    }
    Some(pool_of(
        &["python3", "-u", "runtime_client.py"],
        timeout_ms,
        concurrency,
        env,
    ))
}

async fn call(pool: &Pool, event: Value, rid: &str) -> Invoked {
    pool.invoke(event.to_string().as_bytes(), rid)
        .await
        .expect("invoke")
}

fn returned(i: Invoked) -> Value {
    let Invoked::Returned { payload, .. } = i else {
        panic!("expected a result, got {i:?}")
    };
    serde_json::from_slice(&payload).expect("JSON")
}

fn failed(i: Invoked) -> Value {
    let Invoked::FunctionError { payload, .. } = i else {
        panic!("expected an error, got {i:?}")
    };
    serde_json::from_slice(&payload).expect("JSON")
}

async fn echo_pid(pool: &Pool, rid: &str) -> u64 {
    returned(call(pool, json!({}), rid).await)["pid"]
        .as_u64()
        .expect("pid")
}

/// Whether `pid` has ended: gone, or a zombie (nothing may reap it in a container).
async fn gone(pid: u64) -> bool {
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(s)
                if !s
                    .rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z')) => {}
            _ => return true,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_process_is_reused_with_lambdas_headers_and_env() {
    let Some(pool) = pool(5000, 1, &[]) else {
        return;
    };
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let a = returned(call(&pool, json!({"n": 1}), "rid-1").await);
    let b = call(&pool, json!({"n": 2}), "rid-2").await;
    assert!(matches!(&b, Invoked::Returned { request_id, .. } if request_id == "rid-2"));
    let b = returned(b);
    assert_eq!(
        (&a["event"], &b["event"]),
        (&json!({"n": 1}), &json!({"n": 2}))
    );
    assert_eq!(
        a["pid"], b["pid"],
        "the second invocation reuses the warm process"
    );
    assert_eq!(b["request_id"], "rid-2");
    assert_eq!(
        a["arn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:fixture"
    );
    let deadline = a["deadline_ms"].as_u64().expect("deadline");
    assert!(
        deadline > before + 4000 && deadline < before + 20_000,
        "{deadline} {before}"
    );
    assert!(
        a["trace"]
            .as_str()
            .is_some_and(|t| t.starts_with("Root=1-")),
        "{}",
        a["trace"]
    );
    assert_eq!(a["content_type"], "application/json");
    assert_eq!(a["env"]["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/fixture");
    assert!(a["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .is_some_and(|s| s.contains("/[$LATEST]")));
    // Output far past a pipe's buffer does not block it.
    let big = returned(call(&pool, json!({"do": "big_output"}), "rid-3").await);
    assert_eq!(big["pid"], a["pid"]);
    pool.shutdown().await;
    assert!(
        gone(a["pid"].as_u64().expect("pid")).await,
        "shutdown kills the idle process"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_two_runs_two_processes_at_once() {
    let Some(pool) = pool(10_000, 2, &[]) else {
        return;
    };
    let sleep = json!({"do": "sleep", "seconds": 2});
    let start = Instant::now();
    let (a, b) = tokio::join!(call(&pool, sleep.clone(), "a"), call(&pool, sleep, "b"));
    let (a, b) = (returned(a)["pid"].clone(), returned(b)["pid"].clone());
    assert!(
        start.elapsed() < Duration::from_millis(3800),
        "{:?}",
        start.elapsed()
    );
    assert_ne!(a, b);
    let c = json!(echo_pid(&pool, "c").await);
    assert!(c == a || c == b, "a third invocation reuses one of them");
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_errors_keep_the_process_and_unknown_ids_are_refused() {
    let Some(pool) = pool(10_000, 1, &[]) else {
        return;
    };
    let pid = echo_pid(&pool, "e0").await;
    let e = failed(call(&pool, json!({"do": "raise"}), "e1").await);
    assert_eq!(
        (&e["errorType"], &e["errorMessage"]),
        (&json!("CardDeclined"), &json!("card declined"))
    );
    assert_eq!(e["requestId"], "e1");
    let e = failed(call(&pool, json!({"do": "raise_header_only"}), "e2").await);
    assert_eq!(
        e,
        json!({"errorType": "HeaderOnly", "errorMessage": "plain text"})
    );
    let e = failed(call(&pool, json!({"do": "too_large"}), "e3").await);
    let message = "Response payload size exceeded maximum allowed payload size (6291556 bytes).";
    assert_eq!(
        e,
        json!({"errorType": "Function.ResponseSizeTooLarge", "errorMessage": message})
    );
    let v = returned(call(&pool, json!({"do": "bad_id"}), "e4").await);
    assert_eq!(
        (&v["status"], &v["body"]["errorType"]),
        (&json!(400), &json!("InvalidRequestID"))
    );
    assert_eq!(echo_pid(&pool, "e5").await, pid);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_process_and_the_next_invoke_starts_one() {
    let Some(pool) = pool(1000, 1, &[]) else {
        return;
    };
    let pid = echo_pid(&pool, "t0").await;
    let start = Instant::now();
    let r = call(&pool, json!({"do": "sleep", "seconds": 30}), "t1").await;
    assert_eq!(r, Invoked::timed_out(&pool.function, "t1"));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(gone(pid).await);
    assert_ne!(echo_pid(&pool, "t2").await, pid);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_are_runtime_exit_errors_and_the_process_is_replaced() {
    let Some(pool) = pool(5000, 1, &[]) else {
        return;
    };
    let pid = echo_pid(&pool, "x0").await;
    let e = failed(call(&pool, json!({"do": "exit", "code": 3}), "x1").await);
    let message = "RequestId: x1 Error: Runtime exited with error: exit status 3";
    assert_eq!(
        e,
        json!({"errorType": "Runtime.ExitError", "errorMessage": message})
    );
    let next = echo_pid(&pool, "x2").await;
    assert_ne!(next, pid);
    // Exiting right after an answer: the next invocation goes to a new process.
    returned(call(&pool, json!({"do": "answer_then_exit"}), "x3").await);
    let last = echo_pid(&pool, "x4").await;
    assert!(last != next && gone(next).await);
    pool.shutdown().await;
    // A process exiting before it asks for an invocation fails it.
    let Some(pool) = super::tests::pool(5000, 1, &[("FIXTURE_INIT", "exit")]) else {
        return;
    };
    let e = failed(call(&pool, json!({}), "x5").await);
    assert_eq!(
        e["errorMessage"],
        "RequestId: x5 Error: Runtime exited with error: exit status 2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_invoke_kills_its_process_group() {
    let Some(pool) = pool(30_000, 1, &[]) else {
        return;
    };
    let pid = echo_pid(&pool, "d0").await;
    let pidfile =
        std::env::temp_dir().join(format!("stepwise-bootstrap-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    let event = json!({"do": "spawn_then_sleep", "pidfile": pidfile});
    let r = tokio::time::timeout(Duration::from_secs(2), call(&pool, event, "d1")).await;
    assert!(r.is_err(), "the handler sleeps; the invoke is dropped");
    let grandchild = std::fs::read_to_string(&pidfile).expect("pidfile");
    let _ = std::fs::remove_file(&pidfile);
    assert!(gone(pid).await, "the process is killed");
    assert!(
        gone(grandchild.trim().parse().expect("pid")).await,
        "and what it started"
    );
    assert_ne!(echo_pid(&pool, "d2").await, pid);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_error_fails_the_invocation_and_discards_the_process() {
    let Some(pool) = pool(5000, 1, &[("FIXTURE_INIT", "fail")]) else {
        return;
    };
    for rid in ["i1", "i2"] {
        let e = failed(call(&pool, json!({}), rid).await);
        assert_eq!(e["errorType"], "Runtime.ImportModuleError");
        assert_eq!(
            e["errorMessage"],
            "Unable to import module 'app': No module named 'nope'"
        );
        assert!(lock(&pool.workers).idle.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_kills_idle_and_busy_processes() {
    let Some(pool) = pool(30_000, 2, &[]) else {
        return;
    };
    let pool = Arc::new(pool);
    let sleep = json!({"do": "sleep", "seconds": 0.5});
    let (a, b) = tokio::join!(call(&pool, sleep.clone(), "s1"), call(&pool, sleep, "s2"));
    let pids = [returned(a)["pid"].as_u64(), returned(b)["pid"].as_u64()];
    let pidfile =
        std::env::temp_dir().join(format!("stepwise-bootstrap-{}-s.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    let (p, event) = (
        Arc::clone(&pool),
        json!({"do": "spawn_then_sleep", "pidfile": pidfile}),
    );
    let busy = tokio::spawn(async move { call(&p, event, "s3").await });
    // Once the file is there, the process has taken the invocation.
    let mut grandchild = String::new();
    while grandchild.is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
        grandchild = std::fs::read_to_string(&pidfile).unwrap_or_default();
    }
    let _ = std::fs::remove_file(&pidfile);
    pool.shutdown().await;
    let e = failed(busy.await.expect("join"));
    assert_eq!(
        e["errorMessage"],
        "RequestId: s3 Error: Runtime exited with error: signal: killed"
    );
    for pid in pids {
        assert!(gone(pid.expect("pid")).await);
    }
    assert!(gone(grandchild.trim().parse().expect("pid")).await);
    let refused = pool.invoke(b"{}", "s4").await.expect_err("stopped");
    assert_eq!(refused.error, "Lambda.ServiceException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_program_is_a_clear_error() {
    let pool = pool_of(&["./no-such-bootstrap"], 1000, 1, &[]);
    let e = pool.invoke(b"{}", "m1").await.expect_err("no program");
    assert_eq!(e.error, "Lambda.Unknown");
    for part in ["'fixture'", "\"./no-such-bootstrap\"", "tests/fixtures"] {
        assert!(e.cause.contains(part), "{}", e.cause);
    }
}
