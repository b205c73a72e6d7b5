//! The console's pages on a real server: lists, paging, one execution with its events,
//! every user-controlled string escaped, and `--no-console`.

#[allow(dead_code)]
mod common;

use common::server::Server;
use serde_json::json;
use std::time::Duration;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("stepwise-console-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// GET `path`: status and body (no redirects followed).
fn get(server: &Server, path: &str) -> (u16, String) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    match agent.get(&format!("{}{path}", server.url())).set("Accept", "text/html").call() {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

#[test]
fn pages_list_page_and_escape() {
    let dir = temp_dir("pages");
    let server = Server::start(&dir, &["--time-scale", "0"]);
    let c = server.client();
    let def = json!({"StartAt": HOSTILE, "States": {HOSTILE: {"Type": "Pass", "Result": {"note": HOSTILE}, "End": true}}});
    let arn = c.create_machine("console-demo", &def);
    let mut executions = Vec::new();
    for i in 0..(stepwise_console_page() + 5) {
        let r = c.ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": format!("e{i:03}"), "input": format!("{{\"i\": {i}}}")}),
        );
        executions.push(r["executionArn"].as_str().unwrap().to_string());
    }
    for e in &executions {
        assert_eq!(c.wait_done(e, Duration::from_secs(30))["status"], "SUCCEEDED");
    }

    // A browser at / is sent to the console; the machines list names ours.
    let (code, _) = get(&server, "/");
    assert_eq!(code, 303);
    let (code, page) = get(&server, "/console/");
    assert_eq!(code, 200);
    assert!(page.contains("console-demo"), "{page}");

    // The executions list pages over the store: the first page, then the rest.
    let (code, first) = get(&server, &format!("/console/executions?machine={}", enc(&arn)));
    assert_eq!(code, 200);
    let rows = first.matches("<tr>").count() - 1;
    assert_eq!(rows, stepwise_console_page());
    let next = first
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("after="))
        .expect("a next-page link")
        .replace("&amp;", "&");
    let (_, second) = get(&server, &next);
    assert_eq!(second.matches("<tr>").count() - 1, 5);
    assert!(!second.contains("after="), "the last page has no next link");
    let (_, none) = get(&server, "/console/executions?status=FAILED");
    assert!(none.contains("No executions."));

    // One execution: its status, events and data, the state name as text.
    let (code, page) = get(&server, &format!("/console/executions/{}", enc(&executions[0])));
    assert_eq!(code, 200);
    assert!(page.contains("SUCCEEDED"));
    for t in ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"] {
        assert!(page.contains(t), "{t} missing");
    }
    assert!(!page.contains(HOSTILE), "an unescaped state name");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "{page}");
    assert!(!page.contains("<img"), "an element made from user data");

    // An unknown execution is a page that says so.
    let (code, page) = get(&server, "/console/executions/arn:aws:states:us-east-1:123456789012:execution:console-demo:nope");
    assert_eq!(code, 404);
    assert!(page.contains("Execution Does Not Exist"), "{page}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_console_serves_no_pages() {
    let dir = temp_dir("off");
    let server = Server::start(&dir, &["--no-console"]);
    assert_eq!(get(&server, "/console/").0, 404);
    let _ = std::fs::remove_dir_all(&dir);
}

fn stepwise_console_page() -> usize {
    50
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
