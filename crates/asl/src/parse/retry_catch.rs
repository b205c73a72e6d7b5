//! Error handling of Task, Parallel and Map: `Retry` (`ErrorEquals`, `IntervalSeconds`,
//! `MaxAttempts`, `BackoffRate`, `MaxDelaySeconds`, `JitterStrategy`, `Comment`) and
//! `Catch` (`ErrorEquals`, `Next`, `ResultPath`, `Assign`, `Output`, `Comment`), with
//! `States.ALL` alone and last.

use super::{join, Block, Lang, Parser, StatesScope, MAX_SECONDS};
use crate::{Catcher, JitterStrategy, QueryLanguage, ResultPath, Retrier};
use serde_json::{Map, Value};

impl Parser {
    /// `ErrorEquals`: a non-empty array of strings; `States.ALL` only alone.
    fn error_equals(&mut self, obj: &Map<String, Value>, p: &str) -> Vec<String> {
        let Some(v) = obj.get("ErrorEquals") else {
            self.required(p, "ErrorEquals");
            return Vec::new();
        };
        let at = join(p, "ErrorEquals");
        let Value::Array(items) = v else {
            self.wrong(p, "ErrorEquals", "an ARRAY of STRING");
            return Vec::new();
        };
        if items.is_empty() {
            self.err(at, "Value cannot be empty");
            return Vec::new();
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.clone()),
                _ => self.err(
                    join(&at, &i.to_string()),
                    "The elements of 'ErrorEquals' must be STRING",
                ),
            }
        }
        if out.len() > 1 && out.iter().any(|e| e == "States.ALL") {
            self.err(at, "'States.ALL' must appear alone in 'ErrorEquals'");
        }
        out
    }

    /// A catch-all (`States.ALL`) retrier/catcher must be the last one.
    fn check_all_last(&mut self, lists: &[Vec<String>], p: &str, field: &str) {
        let last = lists.len().saturating_sub(1);
        for (i, l) in lists.iter().enumerate() {
            if i != last && l.iter().any(|e| e == "States.ALL") {
                self.err(
                    join(&join(&join(p, field), &i.to_string()), "ErrorEquals"),
                    format!("'States.ALL' must only appear in the last element of '{field}'"),
                );
            }
        }
    }

    pub(super) fn retriers(&mut self, obj: &Map<String, Value>, p: &str) -> Vec<Retrier> {
        let Some(items) = self.array(obj, p, "Retry") else {
            return Vec::new();
        };
        let rp = join(p, "Retry");
        let mut out = Vec::with_capacity(items.len());
        let mut lists = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ip = join(&rp, &i.to_string());
            let Value::Object(r) = item else {
                self.err(ip, "A retrier must be an OBJECT");
                continue;
            };
            self.check_fields(
                r,
                &ip,
                &[
                    ("ErrorEquals", Lang::Any),
                    ("IntervalSeconds", Lang::Any),
                    ("MaxAttempts", Lang::Any),
                    ("BackoffRate", Lang::Any),
                    ("MaxDelaySeconds", Lang::Any),
                    ("JitterStrategy", Lang::Any),
                    ("Comment", Lang::Any),
                ],
                QueryLanguage::JsonPath,
            );
            let error_equals = self.error_equals(r, &ip);
            lists.push(error_equals.clone());
            let interval_seconds = self
                .uint(r, &ip, "IntervalSeconds", 1, MAX_SECONDS)
                .unwrap_or(Retrier::DEFAULT_INTERVAL_SECONDS);
            let max_attempts = self
                .uint(r, &ip, "MaxAttempts", 0, MAX_SECONDS)
                .unwrap_or(Retrier::DEFAULT_MAX_ATTEMPTS);
            let max_delay_seconds = self.uint(r, &ip, "MaxDelaySeconds", 1, 31_622_400);
            let backoff_rate = match r.get("BackoffRate") {
                None => Retrier::DEFAULT_BACKOFF_RATE,
                Some(v) => match v.as_f64() {
                    Some(f) if f >= 1.0 => f,
                    _ => {
                        self.wrong(&ip, "BackoffRate", "a NUMBER greater than or equal to 1.0");
                        Retrier::DEFAULT_BACKOFF_RATE
                    }
                },
            };
            let jitter_strategy = match r.get("JitterStrategy") {
                None => JitterStrategy::None,
                Some(v) => match v.as_str() {
                    Some("FULL") => JitterStrategy::Full,
                    Some("NONE") => JitterStrategy::None,
                    _ => {
                        self.err(join(&ip, "JitterStrategy"), "The field 'JitterStrategy' should have one of these values: [FULL, NONE]");
                        JitterStrategy::None
                    }
                },
            };
            out.push(Retrier {
                error_equals,
                interval_seconds,
                max_attempts,
                backoff_rate,
                max_delay_seconds,
                jitter_strategy,
            });
        }
        self.check_all_last(&lists, p, "Retry");
        out
    }

    pub(super) fn catchers(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
        block: &Block,
    ) -> Vec<Catcher> {
        let Some(items) = self.array(obj, p, "Catch") else {
            return Vec::new();
        };
        let cp = join(p, "Catch");
        let mut out = Vec::with_capacity(items.len());
        let mut lists = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ip = join(&cp, &i.to_string());
            let Value::Object(c) = item else {
                self.err(ip, "A catcher must be an OBJECT");
                continue;
            };
            self.check_fields(
                c,
                &ip,
                &[
                    ("ErrorEquals", Lang::Any),
                    ("Next", Lang::Any),
                    ("ResultPath", Lang::JsonPath),
                    ("Assign", Lang::Any),
                    ("Output", Lang::Jsonata),
                    ("Comment", Lang::Any),
                ],
                ql,
            );
            let error_equals = self.error_equals(c, &ip);
            lists.push(error_equals.clone());
            let next = match c.get("Next") {
                Some(v) => self.target(v, &join(&ip, "Next"), "Next", block),
                None => {
                    self.required(&ip, "Next");
                    None
                }
            };
            let result_path = if ql == QueryLanguage::JsonPath {
                self.result_path(c, &ip)
            } else {
                ResultPath::Default
            };
            let catch_scope = StatesScope {
                result: false,
                error_output: true,
            };
            let output = if ql == QueryLanguage::Jsonata {
                self.in_scope(catch_scope, |this| {
                    this.jsonata_template(c, &ip, "Output", false)
                })
            } else {
                None
            };
            let assign = self.in_scope(catch_scope, |this| this.assign(c, &ip, ql));
            if let Some(next) = next {
                out.push(Catcher {
                    error_equals,
                    next,
                    result_path,
                    assign,
                    output,
                });
            }
        }
        self.check_all_last(&lists, p, "Catch");
        out
    }
}
