//! The console on a real server: sign-in when `--sigv4-credentials` is given (a signed,
//! expiring session cookie; the API still wants signatures), the executions list's
//! name and start-time filters across pages, and Stop / Redrive on selected rows.

#[allow(dead_code)]
mod common;

use common::server::{enc, Server, ACCOUNT_PREFIX};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn temp_dir(name: &str) -> std::path::PathBuf {
    common::server::fresh_dir(&format!("console-auth-{name}"))
}

/// What a request got back: status, `Location`, `Set-Cookie`, body.
struct Got {
    code: u16,
    location: String,
    cookie: String,
    body: String,
}

fn got(r: ureq::Response) -> Got {
    Got {
        code: r.status(),
        location: r.header("Location").unwrap_or_default().to_string(),
        cookie: r.header("Set-Cookie").unwrap_or_default().to_string(),
        body: r.into_string().unwrap_or_default(),
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn finish(r: Result<ureq::Response, ureq::Error>, what: &str) -> Got {
    match r {
        Ok(r) => got(r),
        Err(ureq::Error::Status(_, r)) => got(r),
        Err(e) => panic!("{what}: {e}"),
    }
}

/// GET `path` as a browser would, with the session cookie if given.
fn get(server: &Server, path: &str, session: Option<&str>) -> Got {
    let mut req = agent()
        .get(&format!("{}{path}", server.url()))
        .set("Accept", "text/html");
    if let Some(s) = session {
        req = req.set("Cookie", &format!("stepwise_session={s}"));
    }
    finish(req.call(), path)
}

/// POST a form, with the session cookie if given.
fn post(server: &Server, path: &str, session: Option<&str>, form: &[(&str, &str)]) -> Got {
    let mut req = agent().post(&format!("{}{path}", server.url()));
    if let Some(s) = session {
        req = req.set("Cookie", &format!("stepwise_session={s}"));
    }
    finish(req.send_form(form), path)
}

/// The value of the first hidden field `name` in `page`.
fn hidden(page: &str, name: &str) -> String {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        .to_string()
}

const KEY: &str = "AKIDCONSOLE";
const SECRET: &str = "console/secret+1";

#[test]
fn sign_in_guards_the_console() {
    let dir = temp_dir("sign-in");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let creds = dir.join("credentials");
    std::fs::write(
        &creds,
        format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"),
    )
    .expect("credentials file");
    let creds = creds.to_string_lossy().to_string();
    let server = Server::start(&dir.join("server"), &["--sigv4-credentials", &creds]);

    // Not signed in: pages send the browser to sign in, and say where it was going.
    let g = get(&server, "/console/", None);
    assert_eq!(
        (g.code, g.location.as_str()),
        (303, "/console/sign-in?next=%2Fconsole%2F")
    );
    let g = get(&server, "/console/executions?status=RUNNING", None);
    assert_eq!(
        (g.code, g.location.as_str()),
        (
            303,
            "/console/sign-in?next=%2Fconsole%2Fexecutions%3Fstatus%3DRUNNING"
        )
    );
    // The live stream and every change are refused outright; the assets are open.
    assert_eq!(get(&server, "/console/stream?arn=x", None).code, 403);
    assert_eq!(
        post(
            &server,
            "/console/executions/bulk",
            None,
            &[("action", "stop")]
        )
        .code,
        403
    );
    assert_eq!(get(&server, "/console/assets/live.js", None).code, 200);
    assert_eq!(get(&server, "/console/assets/bulk.js", None).code, 200);

    // The sign-in form.
    let form = get(
        &server,
        "/console/sign-in?next=%2Fconsole%2Fexecutions%3Fstatus%3DRUNNING",
        None,
    );
    assert_eq!(form.code, 200);
    assert!(
        form.body.contains("name=\"secret_access_key\""),
        "{}",
        form.body
    );
    let csrf = hidden(&form.body, "csrf");
    assert_eq!(
        hidden(&form.body, "next"),
        "/console/executions?status=RUNNING"
    );
    let sign_in = |id: &str, secret: &str, csrf: &str, next: &str| {
        post(
            &server,
            "/console/sign-in",
            None,
            &[
                ("csrf", csrf),
                ("access_key_id", id),
                ("secret_access_key", secret),
                ("next", next),
            ],
        )
    };

    // Without the form's token: refused. A wrong secret or an unknown key: the form
    // again, one message for both, no cookie.
    let g = sign_in(KEY, SECRET, "guess", "/console/");
    assert_eq!((g.code, g.cookie.as_str()), (403, ""));
    let wrong = sign_in(KEY, "not-the-secret", &csrf, "/console/");
    let unknown = sign_in("AKIDNOBODY", SECRET, &csrf, "/console/");
    for g in [&wrong, &unknown] {
        assert_eq!((g.code, g.cookie.as_str()), (401, ""));
        assert!(
            g.body.contains("not a key pair this server accepts"),
            "{}",
            g.body
        );
        assert!(g.body.contains("name=\"secret_access_key\""));
    }
    assert!(wrong.body.contains(&format!("value=\"{KEY}\"")));
    // Guesses sent together are answered one at a time (each after 300 ms).
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        let guesses: Vec<_> = (0..6)
            .map(|i| {
                let sign_in = &sign_in;
                let csrf = &csrf;
                s.spawn(move || sign_in(KEY, &format!("guess-{i}"), csrf, "/console/").code)
            })
            .collect();
        for g in guesses {
            assert_eq!(g.join().expect("guess"), 401);
        }
    });
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1_500),
        "six failed sign-ins in {:?}: not serialised",
        started.elapsed()
    );

    // The right pair: a session cookie, and back where the browser was going.
    let ok = sign_in(KEY, SECRET, &csrf, "/console/executions?status=RUNNING");
    assert_eq!(
        (ok.code, ok.location.as_str()),
        (303, "/console/executions?status=RUNNING")
    );
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(ok.cookie.contains(attribute), "{attribute}: {}", ok.cookie);
    }
    let session = ok
        .cookie
        .strip_prefix("stepwise_session=")
        .and_then(|c| c.split(';').next())
        .expect("the session cookie")
        .to_string();
    // Only this console's paths are followed after sign-in.
    for bad in [
        "https://evil.example/",
        "//evil.example/console/",
        "/metrics",
    ] {
        let g = sign_in(KEY, SECRET, &csrf, bad);
        assert_eq!((g.code, g.location.as_str()), (303, "/console/"), "{bad}");
    }

    // Signed in: the pages open, with a sign-out form.
    let page = get(&server, "/console/executions", Some(&session));
    assert_eq!(page.code, 200, "{}", page.body);
    assert!(page.body.contains("Sign out"), "{}", page.body);
    assert!(page.body.contains(KEY));
    assert_eq!(get(&server, "/console/", Some(&session)).code, 200);

    // A tampered session is not: a changed tag, a changed key or expiry, made up.
    let flip = |s: &str, at: usize| -> String {
        let mut b = s.as_bytes().to_vec();
        b[at] = if b[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).expect("ascii")
    };
    let (payload, _) = session.rsplit_once('.').expect("KEY.EXPIRES.TAG");
    let (_, expires) = payload.rsplit_once('.').expect("KEY.EXPIRES");
    let later: i64 = expires.parse::<i64>().expect("expiry") + 86_400;
    for forged in [
        flip(&session, session.len() - 1),
        session.replacen(expires, &later.to_string(), 1),
        session.replacen(KEY, "AKIDOTHER", 1),
        format!("{KEY}.{later}.00"),
        String::new(),
    ] {
        let g = get(&server, "/console/executions", Some(&forged));
        assert_eq!(g.code, 303, "{forged}");
        assert!(g.location.starts_with("/console/sign-in?next="));
    }

    // Signed in, a change still needs the page's token.
    let g = post(
        &server,
        "/console/execution-action",
        Some(&session),
        &[("csrf", "guess"), ("arn", "x"), ("action", "stop")],
    );
    assert_eq!(g.code, 403);

    // The API still wants a signature: the console's cookie is no way in.
    let r = agent()
        .post(&format!("{}/", server.url()))
        .set("Content-Type", "application/x-amz-json-1.0")
        .set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
        .set("Cookie", &format!("stepwise_session={session}"))
        .send_string("{}");
    match r {
        Err(ureq::Error::Status(code, resp)) => {
            let body = resp.into_string().unwrap_or_default();
            assert!(
                code >= 400 && body.contains("MissingAuthenticationToken"),
                "{code} {body}"
            );
        }
        other => panic!("an unsigned API call was answered: {other:?}"),
    }

    // Sign out: the cookie is cleared.
    let csrf = hidden(&page.body, "csrf");
    let g = post(
        &server,
        "/console/sign-out",
        Some(&session),
        &[("csrf", &csrf)],
    );
    assert_eq!((g.code, g.location.as_str()), (303, "/console/sign-in"));
    assert!(g.cookie.starts_with("stepwise_session=;"), "{}", g.cookie);
    assert!(g.cookie.contains("Max-Age=0"), "{}", g.cookie);
    // A copy of the signed-out cookie opens nothing any more.
    let g = get(&server, "/console/executions", Some(&session));
    assert_eq!(g.code, 303, "a signed-out session was accepted");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Epoch seconds as a `datetime-local` value with seconds (UTC).
fn local_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The names in a list page's rows.
fn row_names(page: &str) -> Vec<String> {
    page.split("<tbody>")
        .nth(1)
        .unwrap_or_default()
        .split("<tr>")
        .skip(1)
        .filter_map(|row| {
            row.split("<a href=\"/console/executions/")
                .nth(1)?
                .split('>')
                .nth(1)?
                .split('<')
                .next()
                .map(str::to_string)
        })
        .collect()
}

/// Every row of a filtered list, following its next-page links; (names, pages).
fn all_rows(server: &Server, first: &str, must_keep: &[&str]) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut path = first.to_string();
    let mut pages = 0;
    loop {
        let g = get(server, &path, None);
        assert_eq!(g.code, 200, "{path}: {}", g.body);
        pages += 1;
        names.extend(row_names(&g.body));
        let next = g
            .body
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("after="))
            .map(|h| h.replace("&amp;", "&"));
        match next {
            Some(n) => {
                for k in must_keep {
                    assert!(n.contains(k), "the next page forgot {k}: {n}");
                }
                path = n;
            }
            None => return (names, pages),
        }
    }
}

#[test]
fn name_and_start_time_filters_survive_paging() {
    let dir = temp_dir("filters");
    let server = Server::start(&dir, &["--time-scale", "0"]);
    let c = server.client();
    let machine = c.create_machine(
        "filters",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let start = |name: &str| {
        c.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name}),
        );
    };
    for i in 0..3 {
        start(&format!("early-{i}"));
    }
    // A whole second between the two groups.
    let boundary = now_secs().floor() as i64 + 1;
    while now_secs() < boundary as f64 + 0.05 {
        std::thread::sleep(Duration::from_millis(20));
    }
    for i in 0..55 {
        start(&format!("late-{i:02}"));
    }
    let at = enc(&local_time(boundary));

    // By name (substring): 55 over two pages, the filter kept in the next link.
    let (names, pages) = all_rows(&server, "/console/executions?name=late", &["name=late"]);
    assert_eq!((names.len(), pages), (55, 2));
    assert!(names.iter().all(|n| n.starts_with("late-")), "{names:?}");
    let (names, _) = all_rows(&server, "/console/executions?name=ate-1", &[]);
    assert_eq!(names.len(), 10, "{names:?}");

    // By start time: from the boundary on, the late ones (two pages); before it, the early.
    let from = format!("/console/executions?from={at}");
    let (names, pages) = all_rows(&server, &from, &[&format!("from={at}")]);
    assert_eq!((names.len(), pages), (55, 2));
    assert!(names.iter().all(|n| n.starts_with("late-")), "{names:?}");
    let (mut names, _) = all_rows(&server, &format!("/console/executions?to={at}"), &[]);
    names.sort();
    assert_eq!(names, ["early-0", "early-1", "early-2"]);
    // Minutes only, as a browser's datetime-local sends: a window around now.
    let (before, after) = (
        local_time(boundary - 120)[..16].to_string(),
        local_time(boundary + 120)[..16].to_string(),
    );
    let window = format!(
        "/console/executions?machine={}&status=SUCCEEDED&name=e&from={}&to={}",
        enc(&machine),
        enc(&before),
        enc(&after)
    );
    let (names, pages) = all_rows(
        &server,
        &window,
        &["machine=", "status=SUCCEEDED", "name=e", "from=", "to="],
    );
    assert_eq!((names.len(), pages), (58, 2));
    // The form shows the filter as given.
    let page = get(&server, &window, None).body;
    assert!(page.contains(&format!("value=\"{before}\"")), "{page}");
    // Nothing in the future; a bad time is a page that says so.
    let future = enc(&local_time(boundary + 3600));
    let page = get(&server, &format!("/console/executions?from={future}"), None).body;
    assert!(page.contains("No executions."), "{page}");
    let g = get(&server, "/console/executions?from=yesterday", None);
    assert_eq!(g.code, 400);
    assert!(g.body.contains("is not a date and time"), "{}", g.body);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn selected_executions_are_stopped_and_redriven() {
    let dir = temp_dir("bulk");
    let server = Server::start(&dir, &["--time-scale", "1"]);
    let c = server.client();
    let napping = c.create_machine(
        "napping",
        &json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": true}}}),
    );
    let failing = c.create_machine(
        "failing",
        &json!({"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}),
    );
    let start = |machine: &str, name: &str| -> String {
        c.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name}),
        )["executionArn"]
            .as_str()
            .expect("executionArn")
            .to_string()
    };
    let (r1, r2, r3) = (
        start(&napping, "r1"),
        start(&napping, "r2"),
        start(&napping, "r3"),
    );
    let failed = start(&failing, "f1");
    assert_eq!(
        c.wait_done(&failed, Duration::from_secs(10))["status"],
        "FAILED"
    );

    // The list: a box per row, the two buttons, the script for "select all".
    let page = get(&server, "/console/executions", None).body;
    for arn in [&r1, &r2, &r3, &failed] {
        assert!(
            page.contains(&format!("name=\"arn\" value=\"{arn}\"")),
            "{page}"
        );
    }
    assert!(page.contains(">Stop selected<") && page.contains(">Redrive selected<"));
    assert!(page.contains("id=\"select-all\""));
    assert!(page.contains("src=\"/console/assets/bulk.js\""));
    assert!(!page.contains(" onclick=") && !page.contains(" onchange="));
    let csrf = hidden(&page, "csrf");

    // Stop two and one that does not exist: each one's outcome.
    let missing = format!("{ACCOUNT_PREFIX}execution:napping:nope");
    let g = post(
        &server,
        "/console/executions/bulk",
        None,
        &[
            ("csrf", &csrf),
            ("action", "stop"),
            ("arn", &r1),
            ("arn", &missing),
            ("arn", &r2),
        ],
    );
    assert_eq!(g.code, 200, "{}", g.body);
    assert!(g.body.contains("2 done, 1 failed."), "{}", g.body);
    assert_eq!(g.body.matches(">done<").count(), 2, "{}", g.body);
    assert!(g.body.contains("ExecutionDoesNotExist"), "{}", g.body);
    assert!(g.body.contains("href=\"/console/executions\""));
    for arn in [&r1, &r2] {
        assert_eq!(
            c.wait_done(arn, Duration::from_secs(10))["status"],
            "ABORTED"
        );
    }
    assert_eq!(
        c.ok("DescribeExecution", json!({"executionArn": r3}))["status"],
        "RUNNING"
    );

    // Redrive the failed one and a running one (which cannot be): one done, one error.
    let g = post(
        &server,
        "/console/executions/bulk",
        None,
        &[
            ("csrf", &csrf),
            ("action", "redrive"),
            ("arn", &failed),
            ("arn", &r3),
        ],
    );
    assert_eq!(g.code, 200, "{}", g.body);
    assert!(g.body.contains("1 done, 1 failed."), "{}", g.body);
    assert!(g.body.contains("ExecutionNotRedrivable"), "{}", g.body);
    let d = c.wait_done(&failed, Duration::from_secs(10));
    assert_eq!(
        (d["status"].as_str(), d["redriveCount"].as_u64()),
        (Some("FAILED"), Some(1)),
        "{d}"
    );
    assert_eq!(
        c.ok("DescribeExecution", json!({"executionArn": r3}))["status"],
        "RUNNING"
    );

    // Refused: no token, nothing selected, too many, an unknown action.
    let g = post(
        &server,
        "/console/executions/bulk",
        None,
        &[("csrf", "guess"), ("action", "stop"), ("arn", &r3)],
    );
    assert_eq!(g.code, 403);
    let g = post(
        &server,
        "/console/executions/bulk",
        None,
        &[("csrf", &csrf), ("action", "stop")],
    );
    assert_eq!(g.code, 400);
    assert!(g.body.contains("No execution was selected"), "{}", g.body);
    let many: Vec<String> = (0..501)
        .map(|i| format!("{ACCOUNT_PREFIX}execution:napping:x{i}"))
        .collect();
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("action", "stop")];
    form.extend(many.iter().map(|a| ("arn", a.as_str())));
    let g = post(&server, "/console/executions/bulk", None, &form);
    assert_eq!(g.code, 400);
    assert!(g.body.contains("at most 500"), "{}", g.body);
    let g = post(
        &server,
        "/console/executions/bulk",
        None,
        &[("csrf", &csrf), ("action", "delete"), ("arn", &r3)],
    );
    assert_eq!(g.code, 400);
    assert_eq!(
        c.ok("DescribeExecution", json!({"executionArn": r3}))["status"],
        "RUNNING"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
