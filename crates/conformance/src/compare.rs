//! A port of the corpus's normative comparator (`compare.py`): placeholders,
//! the recorder parse rule, numbers by value, and strict / concurrent histories.
//!
//! Values here are *decoded* JSON. [`compare_case`] takes an engine [`Outcome`]
//! whose history fields are JSON text (as GetExecutionHistory returns them) and
//! decodes them first; [`compare_actual_json`] takes an `actual.json` document in
//! the shape `compare.py` reads, whose history fields are already decoded.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::Outcome;

/// The recorder's ISO-8601 pattern (localstack_snapshot), as copied in `compare.py`.
pub const PATTERN_ISO8601: &str = concat!(
    r"(?:[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|",
    r"(?:0[13578]|1[02])-31)|(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)-02-29)",
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-][01]\d:?(?:[0-5]\d)?)"
);

/// Longest text the ISO-8601 pattern can match (19 + 10 fraction + 6 zone).
const ISO_MAX_LEN: usize = 40;

// The patterns are constants, so failing to compile them is a bug in this file.
#[allow(clippy::expect_used)]
fn iso_full_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!("^(?:{PATTERN_ISO8601})$")).expect("ISO-8601 pattern compiles")
    })
}

#[allow(clippy::expect_used)]
fn digits12_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\d{12}").expect("digit pattern compiles"))
}

#[allow(clippy::expect_used)]
fn timestamp_word_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)timestamp").expect("timestamp pattern compiles"))
}

/// Python's `re.match(r"^.*timestamp.*$", key, re.IGNORECASE)`: `.` stops at a
/// newline and `$` also matches before one trailing newline.
pub fn is_timestamp_key(key: &str) -> bool {
    let line = key.strip_suffix('\n').unwrap_or(key);
    !line.contains('\n') && timestamp_word_re().is_match(line)
}

/// Whether `s` as a whole is an ISO-8601 timestamp in the recorder's sense.
pub fn is_iso8601(s: &str) -> bool {
    iso_full_re().is_match(s)
}

/// Which part of an outcome a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Status,
    Output,
    Error,
    Cause,
    History,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Status => "status",
            Part::Output => "output",
            Part::Error => "error",
            Part::Cause => "cause",
            Part::History => "history",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between the expected and the actual outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub part: Part,
    pub text: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Options of a comparison (`compare.py --no-history`, `--strict-numbers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompareOptions {
    pub check_history: bool,
    /// Numbers must also agree on int vs float, as far as JSON parsing kept it.
    pub strict_numbers: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            check_history: true,
            strict_numbers: false,
        }
    }
}

/// How a placeholder token matches (`placeholders.<token>.matches`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    SameText,
    Iso8601OrLiteral,
    AnyValue,
    AnyValueUnderTimestampKey,
    Unknown,
}

impl TokenKind {
    fn parse(spec: &Value) -> TokenKind {
        match spec.get("matches").and_then(Value::as_str) {
            Some("same-text") => TokenKind::SameText,
            Some("iso8601-or-literal") => TokenKind::Iso8601OrLiteral,
            Some("any-value") => TokenKind::AnyValue,
            Some("any-value-under-timestamp-key") => TokenKind::AnyValueUnderTimestampKey,
            _ => TokenKind::Unknown,
        }
    }
}

/// One element of a string pattern built from an expected string with tokens.
#[derive(Debug)]
enum Elem {
    Lit(String),
    /// `(?:ISO8601|date)`
    Iso,
    /// `(?:.*?)`
    AnyLazy,
    /// a new capture group: `\d{12}` for the account id, otherwise `.+?`
    Group {
        idx: usize,
        digits12: bool,
    },
    /// a back-reference to a group of the same string
    Backref(usize),
}

/// Compares expected values (with placeholders) with actual values. Token
/// bindings persist across every `matches` call, so one matcher serves one case.
#[derive(Debug, Clone)]
pub struct Matcher {
    placeholders: HashMap<String, TokenKind>,
    /// string tokens, longest first (stable for equal lengths, like Python's sort)
    tokens: Vec<String>,
    strict_numbers: bool,
    bindings: HashMap<String, String>,
}

impl Matcher {
    /// `placeholders` is expected.json's `placeholders` object (or null).
    pub fn new(placeholders: Option<&Value>, strict_numbers: bool) -> Matcher {
        let mut map = HashMap::new();
        let mut tokens = Vec::new();
        if let Some(Value::Object(ph)) = placeholders {
            for (tok, spec) in ph {
                let kind = TokenKind::parse(spec);
                map.insert(tok.clone(), kind);
                // An empty token would match everywhere; compare.py never sees one.
                if !tok.is_empty()
                    && matches!(
                        kind,
                        TokenKind::SameText | TokenKind::Iso8601OrLiteral | TokenKind::AnyValue
                    )
                {
                    tokens.push(tok.clone());
                }
            }
        }
        tokens.sort_by_key(|t| std::cmp::Reverse(t.len()));
        Matcher {
            placeholders: map,
            tokens,
            strict_numbers,
            bindings: HashMap::new(),
        }
    }

    /// The text each same-text token stands for so far.
    pub fn bindings(&self) -> &HashMap<String, String> {
        &self.bindings
    }

    /// Compares `exp` with `act`; returns the differences (empty = match).
    /// `path` prefixes the messages; `key` is the object key the values sit under
    /// (inherited by array items), used by `any-value-under-timestamp-key`.
    pub fn matches(
        &mut self,
        exp: &Value,
        act: &Value,
        path: &str,
        key: Option<&str>,
    ) -> Vec<String> {
        match exp {
            Value::String(e) => {
                match self.placeholders.get(e.as_str()) {
                    Some(TokenKind::AnyValue) => return Vec::new(),
                    Some(TokenKind::AnyValueUnderTimestampKey)
                        if key.is_some_and(is_timestamp_key) =>
                    {
                        return Vec::new()
                    }
                    _ => {}
                }
                match act {
                    Value::String(a) => self.match_str(e, a, path),
                    _ => vec![format!(
                        "{path}: expected string {}, got {}",
                        py_repr(e),
                        short(act)
                    )],
                }
            }
            Value::Object(e) => {
                // the recorder parsed every string that started with '{'; do the same
                let parsed;
                let act = match act {
                    Value::String(s) if s.starts_with('{') => {
                        match serde_json::from_str::<Value>(s) {
                            Ok(v) => {
                                parsed = v;
                                &parsed
                            }
                            Err(_) => act,
                        }
                    }
                    _ => act,
                };
                let Value::Object(a) = act else {
                    return vec![format!("{path}: expected object, got {}", short(act))];
                };
                let mut errs = Vec::new();
                for k in e.keys().filter(|k| !a.contains_key(*k)) {
                    errs.push(format!("{path}.{k}: missing"));
                }
                for k in a.keys().filter(|k| !e.contains_key(*k)) {
                    errs.push(format!("{path}.{k}: unexpected"));
                }
                for (k, ev) in e {
                    if let Some(av) = a.get(k) {
                        errs.extend(self.matches(ev, av, &format!("{path}.{k}"), Some(k)));
                    }
                }
                errs
            }
            Value::Array(e) => {
                let Value::Array(a) = act else {
                    return vec![format!("{path}: expected array, got {}", short(act))];
                };
                if e.len() != a.len() {
                    return vec![format!(
                        "{path}: expected {} items, got {}",
                        e.len(),
                        a.len()
                    )];
                }
                let mut errs = Vec::new();
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    errs.extend(self.matches(ev, av, &format!("{path}[{i}]"), key));
                }
                errs
            }
            Value::Null | Value::Bool(_) => {
                if exp == act {
                    Vec::new()
                } else {
                    vec![format!("{path}: expected {exp}, got {}", short(act))]
                }
            }
            Value::Number(e) => {
                let Value::Number(a) = act else {
                    return vec![format!("{path}: expected number {e}, got {}", short(act))];
                };
                if !num_eq(e, a) {
                    return vec![format!("{path}: expected {e}, got {a}")];
                }
                if self.strict_numbers && e.is_f64() != a.is_f64() {
                    return vec![format!("{path}: expected {e}, got {a} (int/float)")];
                }
                Vec::new()
            }
        }
    }

    fn match_str(&mut self, exp: &str, act: &str, path: &str) -> Vec<String> {
        let found = self.find_tokens(exp);
        if found.is_empty() {
            return if exp == act {
                Vec::new()
            } else {
                vec![format!(
                    "{path}: expected {}, got {}",
                    py_repr(exp),
                    py_repr(act)
                )]
            };
        }
        // Build the pattern exactly as compare.py does: ISO and any-value tokens are
        // wildcards, bound tokens are literals, the first occurrence of an unbound
        // token is a lazy group and later occurrences are back-references.
        let mut elems = Vec::new();
        let mut groups: Vec<&str> = Vec::new();
        let mut pos = 0;
        for (start, tok) in &found {
            let tok = tok.as_str();
            if *start > pos {
                elems.push(Elem::Lit(exp[pos..*start].to_string()));
            }
            match self.placeholders.get(tok) {
                Some(TokenKind::Iso8601OrLiteral) => elems.push(Elem::Iso),
                Some(TokenKind::AnyValue) => elems.push(Elem::AnyLazy),
                _ => {
                    if let Some(bound) = self.bindings.get(tok) {
                        elems.push(Elem::Lit(bound.clone()));
                    } else if let Some(idx) = groups.iter().position(|g| *g == tok) {
                        elems.push(Elem::Backref(idx));
                    } else {
                        elems.push(Elem::Group {
                            idx: groups.len(),
                            digits12: tok == "111111111111",
                        });
                        groups.push(tok);
                    }
                }
            }
            pos = start + tok.len();
        }
        if pos < exp.len() {
            elems.push(Elem::Lit(exp[pos..].to_string()));
        }
        let mut caps = vec![(0usize, 0usize); groups.len()];
        if !backtrack(&elems, 0, act, 0, &mut caps) {
            return vec![format!(
                "{path}: expected pattern {}, got {}",
                py_repr(exp),
                py_repr(act)
            )];
        }
        for (tok, (s, e)) in groups.iter().zip(caps) {
            self.bindings
                .insert((*tok).to_string(), act[s..e].to_string());
        }
        Vec::new()
    }

    /// Non-overlapping token occurrences, scanning left to right and preferring
    /// the longest token at each position (the alternation compare.py builds).
    fn find_tokens(&self, exp: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        if self.tokens.is_empty() {
            return out;
        }
        let mut i = 0;
        while i < exp.len() {
            let rest = &exp[i..];
            if let Some(tok) = self.tokens.iter().find(|t| rest.starts_with(t.as_str())) {
                out.push((i, tok.clone()));
                i += tok.len();
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        out
    }
}

/// Full-match `elems` against `act[pos..]`, trying alternatives in the order
/// Python's backtracking engine would, so the bindings chosen are the same.
fn backtrack(elems: &[Elem], i: usize, act: &str, pos: usize, caps: &mut [(usize, usize)]) -> bool {
    let Some(elem) = elems.get(i) else {
        return pos == act.len();
    };
    let rest = &act[pos..];
    match elem {
        Elem::Lit(lit) => {
            rest.starts_with(lit.as_str()) && backtrack(elems, i + 1, act, pos + lit.len(), caps)
        }
        Elem::Backref(g) => {
            let (s, e) = caps.get(*g).copied().unwrap_or((0, 0));
            let text = &act[s..e];
            rest.starts_with(text) && backtrack(elems, i + 1, act, pos + text.len(), caps)
        }
        Elem::Iso => {
            // The ISO pattern can end at several places only through the optional
            // parts of the zone, and Python tries the longer ones first.
            let limit = rest.len().min(ISO_MAX_LEN);
            for len in (1..=limit).rev() {
                if rest.is_char_boundary(len)
                    && is_iso8601(&rest[..len])
                    && backtrack(elems, i + 1, act, pos + len, caps)
                {
                    return true;
                }
            }
            rest.starts_with("date") && backtrack(elems, i + 1, act, pos + 4, caps)
        }
        Elem::AnyLazy => {
            let ends = std::iter::once(0).chain(rest.char_indices().map(|(k, c)| k + c.len_utf8()));
            for len in ends {
                if backtrack(elems, i + 1, act, pos + len, caps) {
                    return true;
                }
            }
            false
        }
        Elem::Group { idx, digits12 } => {
            if *digits12 {
                let Some(m) = digits12_re().find(rest) else {
                    return false;
                };
                set_cap(caps, *idx, (pos, pos + m.end()));
                return backtrack(elems, i + 1, act, pos + m.end(), caps);
            }
            for (k, c) in rest.char_indices() {
                let end = pos + k + c.len_utf8();
                set_cap(caps, *idx, (pos, end));
                if backtrack(elems, i + 1, act, end, caps) {
                    return true;
                }
            }
            false
        }
    }
}

fn set_cap(caps: &mut [(usize, usize)], idx: usize, span: (usize, usize)) {
    if let Some(c) = caps.get_mut(idx) {
        *c = span;
    }
}

/// Python's `==` between JSON numbers: exact, also between int and float.
fn num_eq(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    fn int(n: &serde_json::Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    fn float_int(f: f64) -> Option<i128> {
        // every integral f64 below 2^127 converts exactly
        (f.is_finite() && f.fract() == 0.0 && f.abs() < 1.7e38).then_some(f as i128)
    }
    match (int(a), int(b)) {
        (Some(x), Some(y)) => x == y,
        (Some(x), None) => b.as_f64().and_then(float_int) == Some(x),
        (None, Some(y)) => a.as_f64().and_then(float_int) == Some(y),
        (None, None) => a.as_f64() == b.as_f64(),
    }
}

/// `json.dumps(value)[:80]`, for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(80).collect()
}

/// A Python-like `repr` of a string, for messages.
fn py_repr(s: &str) -> String {
    format!(
        "'{}'",
        s.replace('\\', "\\\\")
            .replace('\'', "\\'")
            .replace('\n', "\\n")
    )
}

fn strip_ids(ev: &Value) -> Value {
    match ev {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "id" && *k != "previousEventId")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn event_type(ev: &Value) -> String {
    match ev.get("type") {
        Some(Value::String(s)) => format!("'{s}'"),
        _ => "None".to_string(),
    }
}

/// Compares two histories of decoded events: pairwise when `strict`
/// (expected.json's `history_order` is `"strict"` or absent), otherwise as
/// concurrent (first and last event in place, the rest a multiset).
pub fn compare_history(
    matcher: &mut Matcher,
    exp: &[Value],
    act: &[Value],
    strict: bool,
) -> Vec<String> {
    if strict {
        if exp.len() != act.len() {
            let types = |evs: &[Value]| evs.iter().map(event_type).collect::<Vec<_>>().join(", ");
            return vec![format!(
                "history: expected {} events, got {}; expected types [{}], got [{}]",
                exp.len(),
                act.len(),
                types(exp),
                types(act)
            )];
        }
        let mut errs = Vec::new();
        for (i, (e, a)) in exp.iter().zip(act).enumerate() {
            errs.extend(matcher.matches(e, a, &format!("history[{i}]"), None));
        }
        return errs;
    }
    // Map iterations / Parallel branches interleave differently from run to run, so
    // compare the events as a multiset (ignoring ids), first and last fixed in place.
    if exp.len() != act.len() {
        return vec![format!(
            "history: expected {} events, got {}",
            exp.len(),
            act.len()
        )];
    }
    let (Some(e_first), Some(e_last), Some(a_first), Some(a_last)) =
        (exp.first(), exp.last(), act.first(), act.last())
    else {
        return Vec::new();
    };
    let mut errs = matcher.matches(&strip_ids(e_first), &strip_ids(a_first), "history[0]", None);
    errs.extend(matcher.matches(&strip_ids(e_last), &strip_ids(a_last), "history[-1]", None));
    let middle = |evs: &[Value]| -> Vec<Value> {
        if evs.len() > 2 {
            evs[1..evs.len() - 1].iter().map(strip_ids).collect()
        } else {
            Vec::new()
        }
    };
    let mut remaining = middle(act);
    for e in middle(exp) {
        let mut found = None;
        for (k, a) in remaining.iter().enumerate() {
            let saved = matcher.bindings.clone();
            if matcher.matches(&e, a, "x", None).is_empty() {
                found = Some(k);
                break;
            }
            matcher.bindings = saved;
        }
        match found {
            Some(k) => {
                remaining.remove(k);
            }
            None => {
                let text: String = e.to_string().chars().take(200).collect();
                errs.push(format!("history: no actual event matches expected {text}"));
            }
        }
    }
    errs
}

/// The fields of history event details that AWS returns as JSON text.
const JSON_TEXT_FIELDS: [&str; 4] = ["input", "output", "parameters", "result"];

/// Decodes the JSON-text fields of one AWS history event (`input`, `output`,
/// `parameters`, `result` of its details and every `assignedVariables` value).
/// A string that is not valid JSON is kept as it is.
pub fn decode_event(ev: &Value) -> Value {
    fn decode(v: &Value) -> Value {
        match v {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
            other => other.clone(),
        }
    }
    let Value::Object(m) = ev else {
        return ev.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let nv = match v {
            Value::Object(details) => {
                let mut d = Map::new();
                for (f, x) in details {
                    let nx = if JSON_TEXT_FIELDS.contains(&f.as_str()) {
                        decode(x)
                    } else if f == "assignedVariables" {
                        match x {
                            Value::Object(vars) => Value::Object(
                                vars.iter().map(|(n, t)| (n.clone(), decode(t))).collect(),
                            ),
                            other => other.clone(),
                        }
                    } else {
                        x.clone()
                    };
                    d.insert(f.clone(), nx);
                }
                Value::Object(d)
            }
            other => other.clone(),
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
}

fn diffs(part: Part, texts: Vec<String>) -> impl Iterator<Item = Difference> {
    texts.into_iter().map(move |text| Difference { part, text })
}

/// An outcome with decoded values, borrowed for one comparison.
struct Actual<'a> {
    status: Option<&'a str>,
    output: Option<&'a Value>,
    error: Option<&'a Value>,
    cause: Option<&'a Value>,
    history: Option<&'a [Value]>,
}

fn compare_decoded(expected: &Value, actual: &Actual<'_>, opts: CompareOptions) -> Vec<Difference> {
    let mut m = Matcher::new(expected.get("placeholders"), opts.strict_numbers);
    let mut out = Vec::new();
    let exp_status = expected.get("status").and_then(Value::as_str);
    if actual.status != exp_status || exp_status.is_none() {
        out.push(Difference {
            part: Part::Status,
            text: format!(
                "status: expected {}, got {}",
                exp_status.unwrap_or("None"),
                actual.status.unwrap_or("None")
            ),
        });
        return out;
    }
    if let Some(exp_output) = expected.get("output") {
        match actual.output {
            None => out.push(Difference {
                part: Part::Output,
                text: "output: missing".into(),
            }),
            Some(a) => out.extend(diffs(
                Part::Output,
                m.matches(exp_output, a, "output", None),
            )),
        }
    }
    for (k, part, act) in [
        ("error", Part::Error, actual.error),
        ("cause", Part::Cause, actual.cause),
    ] {
        let act = act.filter(|v| !v.is_null());
        if let Some(e) = expected.get(k) {
            match act {
                None => out.push(Difference {
                    part,
                    text: format!("{k}: missing"),
                }),
                Some(a) => out.extend(diffs(part, m.matches(e, a, k, Some(k)))),
            }
        } else if let Some(a) = act {
            if a.as_str() != Some("") {
                let shown = match a {
                    Value::String(s) => py_repr(s),
                    other => other.to_string(),
                };
                out.push(Difference {
                    part,
                    text: format!("{k}: unexpected {shown}"),
                });
            }
        }
    }
    if opts.check_history {
        if let (Some(exp_h), Some(act_h)) = (expected.get("history"), actual.history) {
            let strict = match expected.get("history_order") {
                None => true,
                Some(o) => o.as_str() == Some("strict"),
            };
            let texts = match exp_h {
                Value::Array(exp_h) => compare_history(&mut m, exp_h, act_h, strict),
                _ => vec!["history: expected.json's history is not an array".to_string()],
            };
            out.extend(diffs(Part::History, texts));
        }
    }
    out
}

/// Compares an engine outcome with a case's `expected.json`. The outcome's
/// history events carry AWS's JSON-text fields; they are decoded first.
pub fn compare_case(expected: &Value, actual: &Outcome, opts: CompareOptions) -> Vec<Difference> {
    let history: Option<Vec<Value>> = actual
        .history
        .as_ref()
        .map(|h| h.iter().map(decode_event).collect());
    let error = actual.error.clone().map(Value::String);
    let cause = actual.cause.clone().map(Value::String);
    let act = Actual {
        status: Some(actual.status.as_str()),
        output: actual.output.as_ref(),
        error: error.as_ref(),
        cause: cause.as_ref(),
        history: history.as_deref(),
    };
    compare_decoded(expected, &act, opts)
}

/// Compares an `actual.json` document (the shape `compare.py CASE actual.json`
/// reads: decoded values everywhere) with a case's `expected.json`.
pub fn compare_actual_json(
    expected: &Value,
    actual: &Value,
    opts: CompareOptions,
) -> Vec<Difference> {
    let act = Actual {
        status: actual.get("status").and_then(Value::as_str),
        output: actual.get("output"),
        error: actual.get("error"),
        cause: actual.get("cause"),
        history: match actual.get("history") {
            Some(Value::Array(h)) => Some(h.as_slice()),
            _ => None,
        },
    };
    let mut out = compare_decoded(expected, &act, opts);
    // compare.py reports a history that is present but not a list
    if opts.check_history && expected.get("history").is_some() {
        if let Some(h) = actual.get("history") {
            if !h.is_array() && out.iter().all(|d| d.part != Part::Status) {
                out.push(Difference {
                    part: Part::History,
                    text: "history: missing in actual result".into(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ph(pairs: &[(&str, &str)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(t, k)| (t.to_string(), json!({ "matches": k })))
                .collect(),
        )
    }

    fn ok(m: &mut Matcher, exp: Value, act: Value) -> bool {
        m.matches(&exp, &act, "$", None).is_empty()
    }

    fn outcome(status: &str) -> Outcome {
        Outcome {
            status: status.into(),
            ..Outcome::default()
        }
    }

    #[test]
    fn same_text_tokens_bind_consistently_across_the_case() {
        let p = ph(&[("<ArnPart_0idx>", "same-text"), ("<region>", "same-text")]);
        let exp = json!({
            "status": "SUCCEEDED", "placeholders": p,
            "output": {"a": "arn:aws:states:<region>:sm:<ArnPart_0idx>", "b": "<ArnPart_0idx>"}
        });
        let mut good = outcome("SUCCEEDED");
        good.output = Some(json!({"a": "arn:aws:states:eu-west-1:sm:machine-1", "b": "machine-1"}));
        assert!(compare_case(&exp, &good, CompareOptions::default()).is_empty());
        let mut bad = good.clone();
        bad.output = Some(json!({"a": "arn:aws:states:eu-west-1:sm:machine-1", "b": "machine-2"}));
        let d = compare_case(&exp, &bad, CompareOptions::default());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].part, Part::Output);
        assert_eq!(
            d[0].text,
            "output.b: expected pattern '<ArnPart_0idx>', got 'machine-2'"
        );
    }

    #[test]
    fn repeated_token_in_one_string_is_a_backreference() {
        let mut m = Matcher::new(Some(&ph(&[("<x>", "same-text")])), false);
        assert!(!ok(&mut m, json!("<x>-<x>"), json!("ab-ac")));
        assert!(m.bindings().is_empty(), "a failed match binds nothing");
        assert!(ok(&mut m, json!("<x>-<x>"), json!("a-b-a-b")));
        assert_eq!(m.bindings().get("<x>").map(String::as_str), Some("a-b"));
        assert!(!ok(&mut m, json!("<x>"), json!("a")));
        assert!(ok(&mut m, json!("[<x>]"), json!("[a-b]")));
    }

    #[test]
    fn lazy_groups_bind_like_python_backtracking() {
        // re.fullmatch("(?P<g0>.+?)-(?P<g1>.+?)", "x-y-z") binds g0="x", g1="y-z"
        let mut m = Matcher::new(
            Some(&ph(&[("<a>", "same-text"), ("<b>", "same-text")])),
            false,
        );
        assert!(ok(&mut m, json!("<a>-<b>"), json!("x-y-z")));
        assert_eq!(m.bindings().get("<a>").map(String::as_str), Some("x"));
        assert_eq!(m.bindings().get("<b>").map(String::as_str), Some("y-z"));
        // same-text needs at least one character
        let mut m = Matcher::new(Some(&ph(&[("<a>", "same-text")])), false);
        assert!(!ok(&mut m, json!("p<a>"), json!("p")));
    }

    #[test]
    fn longest_token_wins_at_a_position() {
        let mut m = Matcher::new(
            Some(&ph(&[("<p>", "same-text"), ("<p>x", "same-text")])),
            false,
        );
        assert!(ok(&mut m, json!("<p>x"), json!("anything")));
        assert_eq!(
            m.bindings().get("<p>x").map(String::as_str),
            Some("anything")
        );
    }

    #[test]
    fn account_id_matches_twelve_digits() {
        let p = ph(&[("111111111111", "same-text")]);
        let mut m = Matcher::new(Some(&p), false);
        assert!(ok(
            &mut m,
            json!("arn:aws:iam::111111111111:role/r"),
            json!("arn:aws:iam::123456789012:role/r")
        ));
        assert!(
            !ok(&mut m, json!("111111111111"), json!("999999999999")),
            "bound to the first account"
        );
        let mut m = Matcher::new(Some(&p), false);
        assert!(!ok(
            &mut m,
            json!("a:111111111111:b"),
            json!("a:12345678901:b")
        ));
        assert!(!ok(
            &mut m,
            json!("a:111111111111:b"),
            json!("a:12345678901x:b")
        ));
        assert!(!ok(
            &mut m,
            json!("a:111111111111:b"),
            json!("a:1234567890123:b")
        ));
    }

    #[test]
    fn iso8601_or_literal_date() {
        let p = ph(&[("date", "iso8601-or-literal")]);
        let mut m = Matcher::new(Some(&p), false);
        for good in [
            "2024-05-06T07:08:09.123Z",
            "2024-02-29T00:00:00Z",
            "2000-02-29T23:59:59.123456789+01:00",
            "2023-12-31T10:00:00-0530",
            "2023-12-31T10:00:00+01",
            "date",
        ] {
            assert!(ok(&mut m, json!("date"), json!(good)), "{good}");
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-05-06T24:00:00Z",
            "2024-05-06 07:08:09Z",
            "2024-05-06T07:08:09",
            "2024-05-06T07:08:09.1234567890Z",
            "Date",
            "",
        ] {
            assert!(!ok(&mut m, json!("date"), json!(bad)), "{bad}");
        }
        // inside longer strings, and the literal word still matches
        assert!(ok(
            &mut m,
            json!("start date-time"),
            json!("start date-time")
        ));
        assert!(ok(
            &mut m,
            json!("at date."),
            json!("at 2024-05-06T07:08:09+01:00.")
        ));
        assert!(!ok(&mut m, json!("date"), json!(5)));
        // not bound: every occurrence may differ
        assert!(ok(
            &mut m,
            json!("date/date"),
            json!("2024-05-06T07:08:09Z/date")
        ));
    }

    #[test]
    fn timestamp_values_only_under_timestamp_keys() {
        let p = ph(&[("timestamp", "any-value-under-timestamp-key")]);
        let mut m = Matcher::new(Some(&p), false);
        assert!(ok(
            &mut m,
            json!({"TimestampValue": "timestamp"}),
            json!({"TimestampValue": 1715000000})
        ));
        assert!(ok(
            &mut m,
            json!({"my_TIMESTAMP": ["timestamp"]}),
            json!({"my_TIMESTAMP": [{"a": 1}]})
        ));
        assert!(!ok(
            &mut m,
            json!({"other": "timestamp"}),
            json!({"other": 1})
        ));
        assert!(ok(
            &mut m,
            json!({"other": "timestamp"}),
            json!({"other": "timestamp"})
        ));
        // not a string token: no wildcard inside longer strings
        assert!(!ok(
            &mut m,
            json!({"other": "a timestamp"}),
            json!({"other": "a 5"})
        ));
        assert!(is_timestamp_key("Timestamp"));
        assert!(is_timestamp_key("xtimestamp\n"));
        assert!(!is_timestamp_key("timestamp\nx"));
        assert!(!is_timestamp_key("time"));
    }

    #[test]
    fn any_value_matches_whole_values_and_lazily_inside_strings() {
        let p = ph(&[("start-time", "any-value")]);
        let mut m = Matcher::new(Some(&p), false);
        assert!(ok(
            &mut m,
            json!({"t": "start-time"}),
            json!({"t": {"x": [1]}})
        ));
        assert!(ok(&mut m, json!({"t": "start-time"}), json!({"t": null})));
        assert!(!ok(&mut m, json!({"t": "start-time"}), json!({})));
        assert!(ok(&mut m, json!("at start-time!"), json!("at !")));
        assert!(ok(&mut m, json!("at start-time!"), json!("at 12:00!")));
        assert!(!ok(&mut m, json!("at start-time!"), json!("at 12:00")));
    }

    #[test]
    fn recorder_parse_rule() {
        let mut m = Matcher::new(None, false);
        assert!(ok(&mut m, json!({"a": [1, 2]}), json!("{\"a\": [1,2]}")));
        assert!(!ok(&mut m, json!({"a": [1, 2]}), json!("{\"a\": [1,3]}")));
        assert!(!ok(&mut m, json!({"a": 1}), json!("{not json")));
        assert!(!ok(&mut m, json!({"a": 1}), json!(" {\"a\": 1}")));
        assert!(
            !ok(&mut m, json!([1]), json!("[1]")),
            "only objects are parsed"
        );
        assert!(
            !ok(&mut m, json!("{\"a\": 1}"), json!({"a": 1})),
            "only on the actual side"
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        let mut m = Matcher::new(None, false);
        assert!(ok(&mut m, json!(1), json!(1.0)));
        assert!(ok(&mut m, json!(-0.0), json!(0)));
        assert!(ok(&mut m, json!(1.5), json!(1.5)));
        assert!(!ok(&mut m, json!(1), json!(1.5)));
        assert!(!ok(&mut m, json!(1), json!(true)));
        assert!(!ok(&mut m, json!(true), json!(1)));
        assert!(!ok(&mut m, json!(1), json!("1")));
        assert!(!ok(&mut m, json!(null), json!(0)));
        assert!(ok(&mut m, json!(u64::MAX), json!(u64::MAX)));
        assert!(!ok(
            &mut m,
            json!(9007199254740993u64),
            json!(9007199254740992.0)
        ));
        let mut strict = Matcher::new(None, true);
        assert!(!ok(&mut strict, json!(1), json!(1.0)));
        assert!(ok(&mut strict, json!(2.0), json!(2.0)));
        assert!(ok(&mut strict, json!(2), json!(2)));
    }

    #[test]
    fn objects_and_arrays() {
        let mut m = Matcher::new(None, false);
        assert!(ok(
            &mut m,
            json!({"a": 1, "b": [1, {"c": null}]}),
            json!({"b": [1, {"c": null}], "a": 1})
        ));
        let errs = m.matches(
            &json!({"a": 1, "b": 2}),
            &json!({"a": 1, "c": 2}),
            "output",
            None,
        );
        assert_eq!(
            errs,
            vec![
                "output.b: missing".to_string(),
                "output.c: unexpected".to_string()
            ]
        );
        assert!(!ok(&mut m, json!([1, 2]), json!([2, 1])));
        assert!(!ok(&mut m, json!([1]), json!([1, 1])));
    }

    #[test]
    fn status_error_and_cause_rules() {
        let exp = json!({"status": "FAILED", "error": "States.Runtime", "cause": "c"});
        let mut act = outcome("FAILED");
        act.error = Some("States.Runtime".into());
        act.cause = Some("c".into());
        assert!(compare_case(&exp, &act, CompareOptions::default()).is_empty());
        let mut missing = act.clone();
        missing.cause = None;
        let d = compare_case(&exp, &missing, CompareOptions::default());
        assert_eq!(
            (d[0].part, d[0].text.as_str()),
            (Part::Cause, "cause: missing")
        );
        let d = compare_case(&exp, &outcome("SUCCEEDED"), CompareOptions::default());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].part, Part::Status);

        // a key absent in expected.json must be absent, null or empty
        let exp = json!({"status": "FAILED", "error": "E"});
        let mut act = outcome("FAILED");
        act.error = Some("E".into());
        assert!(compare_case(&exp, &act, CompareOptions::default()).is_empty());
        act.cause = Some(String::new());
        assert!(compare_case(&exp, &act, CompareOptions::default()).is_empty());
        act.cause = Some("boom".into());
        let d = compare_case(&exp, &act, CompareOptions::default());
        assert_eq!(
            (d[0].part, d[0].text.as_str()),
            (Part::Cause, "cause: unexpected 'boom'")
        );
        let d = compare_actual_json(
            &exp,
            &json!({"status": "FAILED", "error": "E", "cause": null}),
            CompareOptions::default(),
        );
        assert!(d.is_empty());

        let exp = json!({"status": "SUCCEEDED", "output": null});
        assert_eq!(
            compare_case(&exp, &outcome("SUCCEEDED"), CompareOptions::default())[0].text,
            "output: missing"
        );
        let mut act = outcome("SUCCEEDED");
        act.output = Some(Value::Null);
        assert!(compare_case(&exp, &act, CompareOptions::default()).is_empty());
    }

    fn ev(id: u64, prev: u64, ty: &str, details: Value) -> Value {
        let mut m = json!({"id": id, "previousEventId": prev, "type": ty});
        if let (Value::Object(o), Value::Object(d)) = (&mut m, details) {
            o.extend(d);
        }
        m
    }

    fn iter_started(i: u64, name: &str) -> Value {
        ev(
            0,
            0,
            "MapIterationStarted",
            json!({"mapIterationStartedEventDetails": {"index": i, "name": name}}),
        )
    }

    #[test]
    fn strict_history_compares_ids_and_order() {
        let exp = vec![
            ev(1, 0, "ExecutionStarted", json!({})),
            ev(2, 1, "PassStateEntered", json!({})),
        ];
        let mut m = Matcher::new(None, false);
        assert!(compare_history(&mut m, &exp, &exp.clone(), true).is_empty());
        let bad = vec![
            ev(1, 0, "ExecutionStarted", json!({})),
            ev(2, 0, "PassStateEntered", json!({})),
        ];
        assert_eq!(
            compare_history(&mut m, &exp, &bad, true),
            vec!["history[1].previousEventId: expected 1, got 0"]
        );
        let short = vec![ev(1, 0, "ExecutionStarted", json!({}))];
        let errs = compare_history(&mut m, &exp, &short, true);
        assert!(
            errs[0].starts_with("history: expected 2 events, got 1"),
            "{errs:?}"
        );
    }

    #[test]
    fn concurrent_history_is_a_multiset_with_ends_fixed() {
        let p = ph(&[("<n>", "same-text")]);
        let first = ev(1, 0, "ExecutionStarted", json!({}));
        let last = ev(5, 4, "ExecutionSucceeded", json!({}));
        let exp = vec![
            first.clone(),
            iter_started(0, "<n>"),
            iter_started(1, "<n>"),
            iter_started(2, "x"),
            last.clone(),
        ];
        // interleaved differently, other ids; the token binds to "m" through the
        // second actual event after a failed attempt on the first one ("x")
        let act = vec![
            first.clone(),
            ev(
                9,
                8,
                "MapIterationStarted",
                json!({"mapIterationStartedEventDetails": {"index": 2, "name": "x"}}),
            ),
            ev(
                7,
                1,
                "MapIterationStarted",
                json!({"mapIterationStartedEventDetails": {"index": 1, "name": "m"}}),
            ),
            ev(
                3,
                2,
                "MapIterationStarted",
                json!({"mapIterationStartedEventDetails": {"index": 0, "name": "m"}}),
            ),
            ev(11, 3, "ExecutionSucceeded", json!({})),
        ];
        let mut m = Matcher::new(Some(&p), false);
        assert!(compare_history(&mut m, &exp, &act, false).is_empty());
        assert_eq!(m.bindings().get("<n>").map(String::as_str), Some("m"));
        // a failed attempt must not leave a binding behind
        let mut m = Matcher::new(Some(&p), false);
        let exp2 = vec![first.clone(), iter_started(0, "<n>"), last.clone()];
        let act2 = vec![first.clone(), iter_started(1, "q"), last.clone()];
        assert_eq!(compare_history(&mut m, &exp2, &act2, false).len(), 1);
        assert!(m.bindings().is_empty());
        // the first and last events stay in place
        let swapped = vec![
            act[1].clone(),
            first.clone(),
            act[2].clone(),
            act[3].clone(),
            last.clone(),
        ];
        assert!(
            !compare_history(&mut Matcher::new(Some(&p), false), &exp, &swapped, false).is_empty()
        );
        // each actual event is used once
        let dup = vec![
            first.clone(),
            act[1].clone(),
            act[2].clone(),
            act[2].clone(),
            last,
        ];
        assert!(!compare_history(&mut Matcher::new(Some(&p), false), &exp, &dup, false).is_empty());
    }

    #[test]
    fn history_order_defaults_to_strict_and_null_means_concurrent() {
        let a = ev(1, 0, "ExecutionStarted", json!({}));
        let b = ev(2, 1, "PassStateEntered", json!({}));
        let c = ev(3, 2, "PassStateExited", json!({}));
        let d = ev(4, 3, "ExecutionSucceeded", json!({}));
        let mut act = outcome("SUCCEEDED");
        act.output = Some(json!(1));
        act.history = Some(vec![a.clone(), c.clone(), b.clone(), d.clone()]);
        let mut exp = json!({"status": "SUCCEEDED", "output": 1, "history": [a, b, c, d]});
        assert!(!compare_case(&exp, &act, CompareOptions::default()).is_empty());
        assert!(compare_case(
            &exp,
            &act,
            CompareOptions {
                check_history: false,
                strict_numbers: false
            }
        )
        .is_empty());
        exp["history_order"] = json!("concurrent");
        assert!(compare_case(&exp, &act, CompareOptions::default()).is_empty());
        exp["history_order"] = Value::Null;
        assert!(compare_case(&exp, &act, CompareOptions::default()).is_empty());
        // no actual history: not compared
        act.history = None;
        exp["history_order"] = json!("strict");
        assert!(compare_case(&exp, &act, CompareOptions::default()).is_empty());
    }

    #[test]
    fn actual_history_fields_are_json_text() {
        let aws = json!({
            "id": 3, "previousEventId": 2, "type": "PassStateExited",
            "stateExitedEventDetails": {
                "name": "P", "output": "{\"a\": [1, 2.5]}", "outputDetails": {"truncated": false},
                "assignedVariables": {"x": "\"s\"", "y": "{}"},
                "assignedVariablesDetails": {"truncated": false}
            }
        });
        let decoded = decode_event(&aws);
        assert_eq!(
            decoded["stateExitedEventDetails"]["output"],
            json!({"a": [1, 2.5]})
        );
        assert_eq!(
            decoded["stateExitedEventDetails"]["assignedVariables"],
            json!({"x": "s", "y": {}})
        );
        assert_eq!(decoded["stateExitedEventDetails"]["name"], json!("P"));
        assert_eq!(decoded["id"], json!(3));
        let enter = json!({"type": "PassStateEntered", "stateEnteredEventDetails": {"name": "n", "input": "\"123\""}});
        assert_eq!(
            decode_event(&enter)["stateEnteredEventDetails"]["input"],
            json!("123")
        );
        assert_eq!(
            decode_event(&enter)["stateEnteredEventDetails"]["name"],
            json!("n")
        );
        let params = json!({"type": "TaskScheduled", "taskScheduledEventDetails": {"parameters": "[1]", "resource": "x"}});
        assert_eq!(
            decode_event(&params)["taskScheduledEventDetails"]["parameters"],
            json!([1])
        );
    }

    proptest::proptest! {
        #[test]
        fn matcher_never_panics(exp in "[<>xa-d1 ]{0,12}", act in "\\PC{0,16}") {
            let p = ph(&[("<a>", "same-text"), ("<b>", "same-text"), ("date", "iso8601-or-literal"),
                         ("x", "any-value"), ("111111111111", "same-text")]);
            let mut m = Matcher::new(Some(&p), false);
            let _ = m.matches(&json!(exp.replace('a', "<a>").replace('b', "<b>")), &json!(act), "$", None);
            let _ = m.matches(&json!({"timestamp": exp}), &json!({"timestamp": act}), "$", None);
        }
    }
}
