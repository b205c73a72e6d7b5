//! Value matching as `compare.py` does it: placeholder tokens (same-text bindings,
//! ISO-8601 timestamps, any-value), the recorder's parse rule for strings that start
//! with `{`, and numbers by value.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

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
    pub(super) bindings: HashMap<String, String>,
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
pub(super) fn py_repr(s: &str) -> String {
    format!(
        "'{}'",
        s.replace('\\', "\\\\")
            .replace('\'', "\\'")
            .replace('\n', "\\n")
    )
}
