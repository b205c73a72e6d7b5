//! What every page shares: the frame (header, navigation, style sheet), links, times,
//! and the error page. maud escapes every value it writes; there is no inline script.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

/// What is escaped in a path segment or query value: all but letters, digits and `-_.`.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

pub const STATUSES: [&str; 6] = [
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "TIMED_OUT",
    "ABORTED",
    "PENDING_REDRIVE",
];

/// Light and dark, readable from phone width up.
const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #16191f; --bg: #fff; --muted: #5f6b7a; --line: #d5dbdb;
  --ok: #037f0c; --bad: #d91515; --run: #0972d3; --warn: #8d6605; }
@media (prefers-color-scheme: dark) { :root { --fg: #e9ebed; --bg: #0f1b2a; --muted: #9ba7b6;
  --line: #414d5c; --ok: #29ad32; --bad: #ff5d64; --run: #539fe5; --warn: #e0ca57; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { display: flex; gap: 1.2em; align-items: baseline; padding: .8em 1.2em; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header strong { font-size: 1.1em; }
main { padding: 1em 1.2em; max-width: 80em; }
a { color: var(--run); }
a:focus, button:focus, select:focus, input:focus, summary:focus { outline: 2px solid var(--run); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
.table { overflow-x: auto; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { white-space: pre-wrap; word-break: break-word; margin: .3em 0; }
.status { font-weight: 600; }
.SUCCEEDED { color: var(--ok); } .FAILED, .TIMED_OUT, .ABORTED { color: var(--bad); }
.RUNNING { color: var(--run); } .PENDING_REDRIVE { color: var(--warn); }
.muted { color: var(--muted); }
form.filters { display: flex; gap: .6em; flex-wrap: wrap; align-items: end; margin-bottom: 1em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
.actions { display: flex; gap: .6em; flex-wrap: wrap; margin-bottom: 1em; }
form.inline { display: inline; }
form.signout { margin-left: auto; }
.error, .bulk-failed { color: var(--bad); }
"#;

pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Stepwise" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "Stepwise" }
                    nav {
                        a href="/console/" { "State machines" } " · "
                        a href="/console/executions" { "Executions" } " · "
                        a href="/console/tasks" { "Waiting tasks" } " · "
                        a href="/console/stuck" { "Stuck" }
                    }
                    (crate::auth::sign_out_form())
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A link to one execution's page.
pub fn execution_href(arn: &str) -> String {
    format!("/console/executions/{}", utf8_percent_encode(arn, ESCAPED))
}

/// A link to one state machine's page.
pub fn machine_href(arn: &str) -> String {
    format!(
        "/console/state-machines/{}",
        utf8_percent_encode(arn, ESCAPED)
    )
}

pub fn query_value(v: &str) -> String {
    utf8_percent_encode(v, ESCAPED).to_string()
}

/// Epoch milliseconds as the history shows them (ISO 8601, UTC).
pub fn when(millis: i64) -> String {
    stepwise_interp::timefmt::format_millis(millis)
}

/// The event's details object (`…EventDetails`), if it has one.
pub fn details(e: &Value) -> Option<(&str, &Value)> {
    e.as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .map(|(k, v)| (k.as_str(), v))
}

/// JSON text pretty-printed, or as it is when it is not JSON.
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Refused",
        _ => "Not done",
    };
    let page = layout(
        title,
        html! { p { (message) } p { a href="/console/" { "Back to the state machines" } } },
    );
    (status, Html(page.into_string())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc() {
        assert_eq!(when(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(when(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn execution_links_encode_the_arn() {
        assert_eq!(
            execution_href("arn:aws:states:us-east-1:1:execution:m:e"),
            "/console/executions/arn%3Aaws%3Astates%3Aus-east-1%3A1%3Aexecution%3Am%3Ae"
        );
    }
}
