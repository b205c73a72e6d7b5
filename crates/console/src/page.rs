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
a.button { padding: .1em .5em; border: 1px solid var(--line); border-radius: 4px; text-decoration: none; }
nav.tabs { display: flex; gap: 1em; margin: 1em 0; border-bottom: 1px solid var(--line); padding-bottom: .3em; }
.graph-box { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: 6px; background: #fff; padding: .4em; }
.graph-box svg { display: block; margin: 0 auto; max-width: none; }
.graph a:focus-visible rect { stroke: #0972d3; stroke-width: 4; }
.legend .key { display: inline-block; padding: 0 .5em; margin-right: .3em; border-radius: 3px; border: 1px solid var(--line); font-size: .85em; }
.key.running, .step-status.running, .bar.running { background: #d1e8ff; color: #033160; }
.key.succeeded, .step-status.succeeded, .bar.succeeded { background: #d7f5d9; color: #02400a; }
.key.failed, .step-status.failed, .bar.failed { background: #ffe3e3; color: #700; }
.key.caught, .step-status.caught, .bar.caught { background: #fff1cc; color: #5c3d00; }
.key.cancelled, .step-status.cancelled, .bar.cancelled { background: #e9ebed; color: #333; }
.key.notstarted { background: #f2f3f3; color: #333; }
.step-status { padding: 0 .4em; border-radius: 3px; }
.banner { background: var(--line); padding: .3em .6em; border-radius: 4px; }
section.step { border: 2px solid var(--run); border-radius: 6px; padding: .2em 1em 1em; margin: 1em 0; }
.io { display: grid; grid-template-columns: repeat(auto-fit, minmax(18em, 1fr)); gap: 1em; }
pre.json { max-height: 24em; overflow: auto; background: color-mix(in srgb, var(--line) 25%, transparent); padding: .4em; }
pre.diff .ins { background: #d7f5d9; color: #02400a; display: block; }
pre.diff .del { background: #ffe3e3; color: #700; display: block; }
pre.diff span { display: block; }
ul.iterations { display: flex; flex-wrap: wrap; gap: .3em .8em; list-style: none; padding: 0; }
ul.iterations a.it-failed { color: var(--bad); font-weight: 600; }
ul.iterations a[aria-current] { font-weight: 700; text-decoration: underline 2px; }
td.timeline { position: relative; min-width: 10em; }
.bar { position: absolute; top: .6em; height: .7em; border-radius: 2px; border: 1px solid var(--muted); }
.retry { position: absolute; top: .3em; width: 2px; height: 1.3em; background: var(--bad); }
@media (prefers-color-scheme: dark) {
  .graph-box { background: #0b1520; }
  .graph-box .graph .edge { stroke: #9ba7b6; }
  .graph-box .graph .edge-label { fill: #c6ccd4; } .graph-box .graph .edge-label-bg { fill: #0b1520; }
  .graph-box .graph .cluster text { fill: #9ba7b6; } .graph-box .graph .cluster rect { stroke: #5f6b7a; }
  .graph-box .graph .terminal { fill: #e9ebed; } .graph-box .graph .terminal-text { fill: #0f1b2a; }
}
@media (max-width: 40em) { .timeline, .timeline-head { display: none; } main { padding: .6em; } }
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
