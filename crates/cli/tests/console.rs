//! The console's pages on a real server: lists, paging, one execution with its events,
//! every user-controlled string escaped, and `--no-console`.

#[allow(dead_code)]
mod common;

use common::server::{enc, Server};
use serde_json::json;
use std::time::Duration;

fn temp_dir(name: &str) -> std::path::PathBuf {
    common::server::fresh_dir(&format!("console-{name}"))
}

/// GET `path`: status and body (no redirects followed).
fn get(server: &Server, path: &str) -> (u16, String) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    match agent
        .get(&format!("{}{path}", server.url()))
        .set("Accept", "text/html")
        .call()
    {
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
        assert_eq!(
            c.wait_done(e, Duration::from_secs(30))["status"],
            "SUCCEEDED"
        );
    }

    // A browser at / is sent to the console; the machines list names ours.
    let (code, _) = get(&server, "/");
    assert_eq!(code, 303);
    let (code, page) = get(&server, "/console/");
    assert_eq!(code, 200);
    assert!(page.contains("console-demo"), "{page}");

    // The executions list pages over the store: the first page, then the rest.
    let (code, first) = get(
        &server,
        &format!("/console/executions?machine={}", enc(&arn)),
    );
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
    let (code, page) = get(
        &server,
        &format!("/console/executions/{}", enc(&executions[0])),
    );
    assert_eq!(code, 200);
    assert!(page.contains("SUCCEEDED"));
    for t in [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ] {
        assert!(page.contains(t), "{t} missing");
    }
    assert!(!page.contains(HOSTILE), "an unescaped state name");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(!page.contains("<img"), "an element made from user data");

    // An unknown execution is a page that says so.
    let (code, page) = get(
        &server,
        "/console/executions/arn:aws:states:us-east-1:123456789012:execution:console-demo:nope",
    );
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

/// Human approval from the browser: a callback waits, the Waiting tasks page lists it,
/// Approve (a POST with the page's CSRF token) ends it; a form without the token, or
/// from another site, changes nothing.
#[test]
fn tasks_are_approved_and_rejected_from_the_console() {
    let dir = temp_dir("tasks");
    let server = Server::start(&dir, &["--time-scale", "0"]);
    let c = server.client();
    let def = json!({"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": true}}});
    let arn = c.create_machine("approvals", &def);
    let start = |name: &str| {
        c.ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": name, "input": "{\"order\": 7}"}),
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (yes, no) = (start("yes"), start("no"));
    let page = || get(&server, "/console/tasks").1;
    let field = |page: &str, name: &str, nth: usize| -> String {
        page.split(&format!("name=\"{name}\" value=\""))
            .nth(nth + 1)
            .and_then(|s| s.split('"').next())
            .expect(name)
            .to_string()
    };
    let mut listed = page();
    for _ in 0..100 {
        if listed.matches("name=\"token\"").count() == 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        listed = page();
    }
    assert_eq!(listed.matches("name=\"token\"").count(), 4, "{listed}");
    let csrf = field(&listed, "csrf", 0);
    let token_of = |exec: &str| -> String {
        let section = listed
            .split("<section")
            .find(|s| s.contains(exec))
            .expect("its section");
        field(section, "token", 0)
    };
    let post = |form: &[(&str, &str)], origin: Option<&str>| -> u16 {
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        let mut req = agent.post(&format!("{}/console/tasks/answer", server.url()));
        if let Some(o) = origin {
            req = req.set("Origin", o);
        }
        match req.send_form(form) {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{e}"),
        }
    };
    let yes_token = token_of(&yes);
    // Without the page's token, or from another site: refused, nothing changes.
    assert_eq!(
        post(
            &[
                ("csrf", "guess"),
                ("token", &yes_token),
                ("action", "approve")
            ],
            None
        ),
        403
    );
    assert_eq!(
        post(
            &[
                ("csrf", &csrf),
                ("token", &yes_token),
                ("action", "approve")
            ],
            Some("http://evil.example")
        ),
        403
    );
    assert_eq!(
        c.ok("DescribeExecution", json!({"executionArn": yes}))["status"],
        "RUNNING"
    );
    // Approve with an output; reject with an error and a cause.
    assert_eq!(
        post(
            &[
                ("csrf", &csrf),
                ("token", &yes_token),
                ("action", "approve"),
                ("output", "{\"approved\": true}"),
                ("execution", &yes)
            ],
            None
        ),
        303
    );
    let done = c.wait_done(&yes, Duration::from_secs(10));
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["output"], "{\"approved\":true}");
    assert_eq!(
        post(
            &[
                ("csrf", &csrf),
                ("token", &token_of(&no)),
                ("action", "reject"),
                ("error", "Rejected"),
                ("cause", "not today")
            ],
            None
        ),
        303
    );
    let done = c.wait_done(&no, Duration::from_secs(10));
    assert_eq!(
        (
            done["status"].as_str(),
            done["error"].as_str(),
            done["cause"].as_str()
        ),
        (Some("FAILED"), Some("Rejected"), Some("not today"))
    );
    assert!(page().contains("No task is waiting."));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The value of the `nth` hidden field `name` in `page`.
fn hidden(page: &str, name: &str, nth: usize) -> String {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(nth + 1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        .to_string()
}

/// POST a console form: the status (redirects not followed) and the Location.
fn post_form(server: &Server, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    match agent
        .post(&format!("{}{path}", server.url()))
        .send_form(form)
    {
        Ok(r) => (
            r.status(),
            r.header("Location").unwrap_or_default().to_string(),
        ),
        Err(ureq::Error::Status(code, _)) => (code, String::new()),
        Err(e) => panic!("{e}"),
    }
}

/// Stop, Redrive and Start again from an execution's page.
#[test]
fn executions_are_stopped_redriven_and_started_again_from_their_page() {
    let dir = temp_dir("actions");
    let server = Server::start(&dir, &["--time-scale", "1"]);
    let c = server.client();
    let def =
        json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": true}}});
    let machine = c.create_machine("actions", &def);
    let arn = c.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "name": "first", "input": "{\"x\": 1}"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/console/executions/{}", enc(&arn));
    let page = get(&server, &path).1;
    assert!(
        page.contains(">Stop<") && !page.contains(">Redrive<"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf", 0);
    let act = |action: &str| {
        post_form(
            &server,
            "/console/execution-action",
            &[("csrf", &csrf), ("arn", &arn), ("action", action)],
        )
    };
    assert_eq!(act("stop").0, 303);
    assert_eq!(
        c.wait_done(&arn, Duration::from_secs(10))["status"],
        "ABORTED"
    );
    let page = get(&server, &path).1;
    assert!(
        page.contains(">Redrive<") && !page.contains(">Stop<"),
        "{page}"
    );
    assert_eq!(act("redrive").0, 303);
    let d = c.ok("DescribeExecution", json!({"executionArn": arn}));
    assert_eq!(
        (d["status"].as_str(), d["redriveCount"].as_u64()),
        (Some("RUNNING"), Some(1))
    );
    let (code, location) = act("start-again");
    assert_eq!(code, 303);
    let list = c.ok("ListExecutions", json!({"stateMachineArn": machine}));
    let again = list["executions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] != "first")
        .expect("a second execution");
    let again_arn = again["executionArn"].as_str().unwrap();
    assert_eq!(location, format!("/console/executions/{}", enc(again_arn)));
    assert_eq!(
        c.ok("DescribeExecution", json!({"executionArn": again_arn}))["input"],
        "{\"x\": 1}"
    );
    // Without the page's token nothing happens.
    assert_eq!(
        post_form(
            &server,
            "/console/execution-action",
            &[("csrf", "x"), ("arn", again_arn), ("action", "stop")]
        )
        .0,
        403
    );
    assert_eq!(
        c.ok("DescribeExecution", json!({"executionArn": again_arn}))["status"],
        "RUNNING"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a stream sent up to its `end` event.
struct Streamed {
    /// Ids of the history events.
    ids: Vec<u64>,
    /// The `end` event's data: the final status.
    end: String,
    /// The last status each state was sent with.
    statuses: serde_json::Map<String, serde_json::Value>,
    /// The table's rows as the `visits` events left them, by index.
    rows: std::collections::BTreeMap<u64, serde_json::Value>,
}

/// Reads an SSE stream to its `end` event.
fn read_stream(server: &Server, path: &str, last_event_id: Option<u64>) -> Streamed {
    use std::io::BufRead;
    let mut req = ureq::get(&format!("{}{path}", server.url())).timeout(Duration::from_secs(20));
    if let Some(id) = last_event_id {
        req = req.set("Last-Event-ID", &id.to_string());
    }
    let r = req.call().expect("stream");
    assert_eq!(r.header("Content-Type"), Some("text/event-stream"));
    let mut ids = Vec::new();
    let mut statuses = serde_json::Map::new();
    let mut rows = std::collections::BTreeMap::new();
    let mut event = String::new();
    for line in std::io::BufReader::new(r.into_reader()).lines() {
        let line = line.expect("line");
        if let Some(e) = line.strip_prefix("event: ") {
            event = e.to_string();
        } else if let Some(id) = line.strip_prefix("id: ") {
            ids.push(id.parse().expect("numeric id"));
        } else if let Some(data) = line.strip_prefix("data: ") {
            if event == "end" {
                return Streamed {
                    ids,
                    end: data.to_string(),
                    statuses,
                    rows,
                };
            }
            if event == "visits" {
                let v: serde_json::Value = serde_json::from_str(data).expect("visits JSON");
                for pair in v["rows"].as_array().expect("rows") {
                    rows.insert(pair[0].as_u64().expect("an index"), pair[1].clone());
                }
            }
            if event == "status" {
                let changed: serde_json::Value = serde_json::from_str(data).expect("status JSON");
                statuses.extend(changed.as_object().expect("an object").clone());
            }
        }
    }
    panic!("the stream ended without an end event");
}

/// A running execution's page follows it live: the stream sends each new event with
/// its id, resumes after Last-Event-ID, and ends with the final status.
#[test]
fn an_execution_page_streams_its_new_events() {
    let dir = temp_dir("stream");
    let server = Server::start(&dir, &["--time-scale", "1"]);
    let c = server.client();
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 1, "Next": "B"},
        "B": {"Type": "Pass", "End": true}}});
    let machine = c.create_machine("live", &def);
    let arn = c.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "name": "l1"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let page = get(&server, &format!("/console/executions/{}", enc(&arn))).1;
    assert!(
        page.contains("data-live") && page.contains("/console/assets/live.js"),
        "{page}"
    );
    let (code, script) = get(&server, "/console/assets/live.js");
    assert_eq!(code, 200);
    assert!(script.contains("EventSource") && !script.contains("innerHTML"));
    let stream = format!("/console/stream?arn={}&from=0", enc(&arn));
    let Streamed {
        ids,
        end,
        statuses: states,
        rows,
    } = read_stream(&server, &stream, None);
    assert_eq!(end, "SUCCEEDED");
    // The graph's colours follow: each state ends succeeded.
    for name in ["A", "Nap", "B"] {
        assert_eq!(states[name], "succeeded", "{states:?}");
    }
    // The table of visits follows too: a row per visit, in order, each ended.
    let names: Vec<&str> = rows
        .values()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "Nap", "B"], "{rows:?}");
    for r in rows.values() {
        assert_eq!(r["status"], "succeeded", "{r}");
        assert!(r["duration"].is_string() && r["exited"].is_number(), "{r}");
    }
    assert_eq!(rows[&1]["type"], "Wait");
    let n = c.history(&arn).len() as u64;
    assert_eq!(
        ids,
        (1..=n).collect::<Vec<_>>(),
        "every event once, in order"
    );
    let Streamed {
        ids,
        statuses: states,
        rows,
        ..
    } = read_stream(&server, &stream, Some(3));
    // Only what changed after event 3 (A had exited by then).
    assert!(!states.contains_key("A"), "{states:?}");
    assert_eq!(states["B"], "succeeded");
    assert!(!rows.contains_key(&0), "A's row had not changed: {rows:?}");
    assert_eq!(rows[&2]["state"], "B");
    assert_eq!(
        ids,
        (4..=n).collect::<Vec<_>>(),
        "a reconnect resumes after Last-Event-ID"
    );
    // A finished execution's page does not stream.
    let page = get(&server, &format!("/console/executions/{}", enc(&arn))).1;
    assert!(!page.contains("live.js"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A state machine's page: its definition (escaped), recent executions, and a Start
/// form whose input is checked by the engine.
#[test]
fn a_machine_page_shows_its_definition_and_starts_executions() {
    let dir = temp_dir("machine");
    let server = Server::start(&dir, &["--time-scale", "0"]);
    let c = server.client();
    let def = json!({"StartAt": HOSTILE, "States": {HOSTILE: {"Type": "Pass", "End": true}}});
    let arn = c.create_machine("starter", &def);
    let (code, list) = get(&server, "/console/");
    assert_eq!(code, 200);
    let path = format!("/console/state-machines/{}", enc(&arn));
    assert!(list.contains(&path), "the list links the machine's page");
    let (code, page) = get(&server, &path);
    assert_eq!(code, 200);
    assert!(!page.contains("<img") && page.contains("&lt;img"), "{page}");
    assert!(page.contains("None."), "no executions yet");
    let csrf = hidden(&page, "csrf", 0);
    let (code, location) = post_form(
        &server,
        "/console/start-execution",
        &[
            ("csrf", &csrf),
            ("arn", &arn),
            ("name", "from-console"),
            ("input", "{\"a\": 1}"),
        ],
    );
    assert_eq!(code, 303);
    assert!(location.ends_with("from-console"), "{location}");
    let exec = format!(
        "{}execution:starter:from-console",
        common::server::ACCOUNT_PREFIX
    );
    assert_eq!(
        c.wait_done(&exec, Duration::from_secs(10))["output"],
        "{\"a\":1}"
    );
    assert!(get(&server, &path).1.contains("from-console"));
    // The list counts executions by status, each count a filtered link.
    let list = get(&server, "/console/").1;
    assert!(list.contains(">1 succeeded</a>"), "{list}");
    assert!(links(&list).contains(&format!(
        "/console/executions?machine={}&status=SUCCEEDED",
        enc(&arn)
    )));
    // Tags on the machine's page, escaped.
    c.ok(
        "TagResource",
        json!({"resourceArn": arn, "tags": [{"key": "team", "value": HOSTILE}]}),
    );
    let page = get(&server, &path).1;
    assert!(
        page.contains("<dt>team</dt>") && !page.contains("<img"),
        "{page}"
    );
    let (code, _) = post_form(
        &server,
        "/console/start-execution",
        &[("csrf", &csrf), ("arn", &arn), ("input", "{not json")],
    );
    assert_eq!(code, 400);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Stuck view: RUNNING executions in one state longer than the threshold, with
/// the state and what it waits for.
#[test]
fn the_stuck_view_lists_parked_executions_and_what_they_wait_for() {
    let dir = temp_dir("stuck");
    let server = Server::start(&dir, &["--time-scale", "1"]);
    let c = server.client();
    c.ok("CreateActivity", json!({"name": "packer"}));
    let machines = [
        (
            "parked",
            json!({"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 86400, "End": true}}}),
        ),
        (
            "callback",
            json!({"StartAt": "AwaitApproval", "States": {"AwaitApproval": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true}}}),
        ),
        (
            "activity",
            json!({"StartAt": "Pack", "States": {"Pack": {
            "Type": "Task", "Resource": format!("{}activity:packer", common::server::ACCOUNT_PREFIX), "End": true}}}),
        ),
    ];
    for (name, def) in &machines {
        let arn = c.create_machine(name, def);
        c.ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": format!("{name}-1")}),
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let (code, page) = get(&server, "/console/stuck?minutes=0");
    assert_eq!(code, 200);
    for (name, state, waits) in [
        ("parked-1", "Sleep", "a timer (Wait)"),
        ("callback-1", "AwaitApproval", "its task token"),
        ("activity-1", "Pack", "an activity worker to take it"),
    ] {
        let row = page
            .split("<tr>")
            .find(|r| r.contains(name))
            .unwrap_or_else(|| panic!("{name} missing: {page}"));
        assert!(row.contains(state) && row.contains(waits), "{name}: {row}");
    }
    let (_, none) = get(&server, "/console/stuck?minutes=60");
    assert!(none.contains("None."), "{none}");
    // The Activities table: the packer has no worker polling and one task waiting.
    let (_, tasks) = get(&server, "/console/tasks");
    let row = tasks
        .split("<tr>")
        .find(|r| r.contains("activity:packer"))
        .expect("the packer's row");
    let cells: Vec<&str> = row
        .split("<td>")
        .skip(2)
        .map(|c| c.split('<').next().unwrap_or_default())
        .collect();
    assert_eq!(&cells[..2], ["0", "1"], "{row}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The status a state's node on a page's graph is drawn with.
fn node_status(page: &str, state: &str) -> String {
    let at = page
        .find(&format!("data-state=\"{state}\""))
        .unwrap_or_else(|| panic!("no node for {state}"));
    let rest = &page[at..];
    let s = rest.find("data-status=\"").expect("a status") + "data-status=\"".len();
    rest[s..].split('"').next().unwrap_or_default().to_string()
}

/// The `href`s of a page (entities decoded).
fn links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

/// The graph of a machine and of one execution: every state a node, clusters for the
/// Parallel and the Map, a labelled Choice edge and a dashed Catch edge; each node
/// coloured from the history; the step panel with the data flow replayed; a Map's
/// iterations picked one at a time; the graph as an SVG file.
#[test]
fn the_graph_and_the_step_panel_read_the_history() {
    let dir = temp_dir("graph");
    let server = Server::start(&dir, &["--time-scale", "0"]);
    let c = server.client();
    let def = json!({"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 3, "Next": "Fan"}], "Default": "Done"},
        "Fan": {"Type": "Parallel", "Next": "Items", "ResultPath": "$.fan", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.n", "Result": {"one": 1}, "ResultPath": "$.r", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Parameters": {"role.$": "$$.Execution.RoleArn"}, "End": true}}}]},
        "Items": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped", "MaxConcurrency": 1,
            "ItemProcessor": {"StartAt": "Each", "States": {
                "Each": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Good"},
                "Bad": {"Type": "Fail", "Error": "Two", "Cause": "item two"},
                "Good": {"Type": "Pass", "End": true}}},
            "Catch": [{"ErrorEquals": ["Two"], "ResultPath": "$.err", "Next": "Done"}], "Next": "Done"},
        "Done": {"Type": "Succeed"}}});
    let machine = c.create_machine("drawn", &def);

    let (code, page) = get(
        &server,
        &format!("/console/state-machines/{}", enc(&machine)),
    );
    assert_eq!(code, 200);
    assert!(page.contains("<svg"), "{page}");
    for s in [
        "Check", "Fan", "A", "B", "Items", "Each", "Bad", "Good", "Done",
    ] {
        assert_eq!(node_status(&page, s), "notstarted");
    }
    assert_eq!(
        page.matches("class=\"cluster\"").count(),
        4,
        "Fan, its two branches, Items"
    );
    assert!(page.contains("$.n &gt; 3"), "the Choice edge's label");
    assert!(
        page.contains("class=\"edge catch\""),
        "the dashed Catch edge"
    );

    let arn = c.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "name": "g1", "input": "{\"n\": 5, \"items\": [1, 2, 3]}"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        c.wait_done(&arn, Duration::from_secs(20))["status"],
        "SUCCEEDED"
    );
    let href = format!("/console/executions/{}", enc(&arn));
    let page = get(&server, &href).1;
    for (s, want) in [
        ("Check", "succeeded"),
        ("Fan", "succeeded"),
        ("A", "succeeded"),
        ("Items", "caught"),
        ("Good", "succeeded"),
        ("Bad", "failed"),
        ("Done", "succeeded"),
    ] {
        assert_eq!(node_status(&page, s), want, "{s}");
    }
    // The table has a row per visit on the top level.
    assert!(page.contains("data-visit-state=\"Items\""));
    assert!(
        !page.contains("data-visit-state=\"Good\""),
        "iterations are not top-level rows"
    );

    // The step panel of a Pass: input, output and the data flow replayed.
    let page = get(&server, &format!("{href}?state=A")).1;
    assert!(page.contains("id=\"step\""));
    for field in ["result", "afterResultPath"] {
        assert!(page.contains(field), "{field} in the advanced view");
    }
    let step = &page[page.find("id=\"step\"").unwrap()..];
    assert!(
        step.contains("&quot;one&quot;: 1"),
        "the Result in the output"
    );

    // The replay sees the Context object the execution had (its role among it).
    let page = get(&server, &format!("{href}?state=B")).1;
    let replayed = &page[page.find("afterParameters").expect("replayed")..];
    let replayed = &replayed[..replayed.find("</dd>").unwrap()];
    assert!(replayed.contains(":role/"), "{replayed}");

    // A Map's iterations, the failed one first; picking one shows its states alone.
    let page = get(&server, &format!("{href}?state=Items")).1;
    let its: Vec<String> = links(&page)
        .into_iter()
        .filter(|h| h.contains("&it="))
        .collect();
    // MaxConcurrency 1: the third item never starts once the second failed.
    assert_eq!(its.len(), 2, "{its:?}");
    assert!(page.contains("#1 failed"), "the failed iteration is named");
    let first = page.find("#1 failed").unwrap();
    assert!(
        page.find("#0 succeeded").is_some_and(|i| i > first),
        "failed ones first"
    );
    let failed = get(&server, &its[0]).1;
    assert_eq!(node_status(&failed, "Bad"), "failed");
    assert_eq!(node_status(&failed, "Good"), "notstarted");
    assert!(
        failed.contains("Showing"),
        "the page says which iteration it shows"
    );
    let ok = get(&server, &its[1]).1;
    assert_eq!(node_status(&ok, "Good"), "succeeded");
    assert_eq!(node_status(&ok, "Bad"), "notstarted");
    // `iteration=N` reaches any one.
    let by_index = get(&server, &format!("{href}?state=Items&iteration=1")).1;
    assert_eq!(node_status(&by_index, "Bad"), "failed");

    // The graph as a file, coloured as the execution ended.
    let r = ureq::get(&format!(
        "{}/console/graph.svg?execution={}",
        server.url(),
        enc(&arn)
    ))
    .call()
    .expect("graph.svg");
    assert_eq!(
        r.header("Content-Type"),
        Some("image/svg+xml; charset=utf-8")
    );
    let svg = r.into_string().unwrap();
    assert!(svg.starts_with("<?xml"));
    assert_eq!(node_status(&svg, "Items"), "caught");
    assert!(!svg.contains("href="), "no links in the file");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Distributed Map's Map Run has a page with its counts and children, each child links
/// back to it; a nested execution links to its parent and the parent lists it.
#[test]
fn map_runs_and_nested_executions_link_both_ways() {
    let dir = temp_dir("links");
    let server = Server::start(&dir, &["--time-scale", "0"]);
    let c = server.client();
    let child = c.create_machine(
        "child",
        &json!({"StartAt": "C", "States": {"C": {"Type": "Pass", "End": true}}}),
    );
    let def = json!({"StartAt": "Run", "States": {
        "Run": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": null,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": true}}},
            "Next": "Nested"},
        "Nested": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Arguments": {"StateMachineArn": child,
                "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "{% $states.context.Execution.Id %}"}},
            "QueryLanguage": "JSONata", "End": true}}});
    let machine = c.create_machine("parent", &def);
    let arn = c.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "name": "p1", "input": "{\"items\": [1, 2, 3]}"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let done = c.wait_done(&arn, Duration::from_secs(30));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let page = get(&server, &format!("/console/executions/{}", enc(&arn))).1;
    let run = links(&page)
        .into_iter()
        .find(|h| h.starts_with("/console/map-runs/"))
        .expect("a link to the Map Run");
    let (code, run_page) = get(&server, &run);
    assert_eq!(code, 200, "{run_page}");
    assert!(run_page.contains("Map Run of Run"));
    let children: Vec<String> = links(&run_page)
        .into_iter()
        .filter(|h| h.starts_with("/console/executions/"))
        .collect();
    // The parent execution and three children.
    assert_eq!(children.len(), 4, "{children:?}");
    let child_page = get(&server, &children[1]).1;
    assert!(
        links(&child_page).contains(&run),
        "a child links back to its Map Run"
    );

    let nested = links(&page)
        .into_iter()
        .find(|h| h.contains("execution%3Achild%3A"))
        .expect("the child execution listed");
    let nested_page = get(&server, &nested).1;
    assert!(nested_page.contains("Started by"), "{nested_page}");
    assert!(links(&nested_page).contains(&format!("/console/executions/{}", enc(&arn))));
    let _ = std::fs::remove_dir_all(&dir);
}
