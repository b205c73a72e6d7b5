//! The `States.*` intrinsic functions (ASL spec appendix B, all 18).
//!
//! Calls are parsed once into a tree. The rules followed:
//! - Arguments: string literals in single quotes (`\'`, `\{`, `\}`, `\\` escape; `\n`,
//!   `\t`, `\r`, `\uXXXX` as usual; `\"` is refused, as AWS refuses it), numbers,
//!   `true`, `false`, `null`, paths (`$…`, `$$…`, `$var…`) and nested calls.
//! - Every failure is `States.Runtime`, its cause `The function '<the whole expression,
//!   as written>' had the following error: <what went wrong>`; a path argument that
//!   selects nothing is `The JsonPath argument for the field '<path>' could not be found
//!   in the input '<input>'`. (What AWS writes; `States.IntrinsicFailure`, which the ASL
//!   specification names, is never used: see ARCHITECTURE.md, "Intrinsic failures".)
//! - Numbers: `MathAdd`, `ArrayRange`, `MathRandom` round fractional arguments as Java's
//!   `Math.round` (half up: 1.5 → 2, -1.5 → -1, -2.5 → -2) and return integers.
//! - `Format` renders strings bare, other scalars as JSON (doubles Java-style), arrays
//!   and objects as Java's `List`/`Map` `toString` (`[a, b]`, `{k=v}`); the number of
//!   `{}` must equal the number of arguments.
//! - `JsonToString` prints compact JSON as Jackson does; `StringToJson` of a blank string
//!   is `null`.
//! - `StringSplit` splits on any of the delimiter's characters and drops empty parts.
//! - `ArrayRange` is inclusive of `end` and limited to 1000 items; `Base64*` and `Hash`
//!   inputs to 10,000 characters; `JsonMerge` is shallow only (deep merge is refused).
//! - `MathRandom(start, end[, seed])` returns an integer in `[start, end)`; with a seed
//!   it uses Java's `java.util.Random` so a seed gives the same number every time.

use crate::hash;
use crate::jsonpath::JsonPath;
use crate::jsonpath::Root;
use crate::template::{aws_json, java_number};
use crate::{Scope, Sources, StatesError};
use base64::Engine;
use serde_json::{Map, Value};

/// A parse failure of an intrinsic function call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IntrinsicParseError {
    pub message: String,
}

/// The 18 functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Function {
    fn from_name(name: &str) -> Option<Function> {
        use Function::*;
        Some(match name {
            "Format" => Format,
            "StringToJson" => StringToJson,
            "JsonToString" => JsonToString,
            "Array" => Array,
            "ArrayPartition" => ArrayPartition,
            "ArrayContains" => ArrayContains,
            "ArrayRange" => ArrayRange,
            "ArrayGetItem" => ArrayGetItem,
            "ArrayLength" => ArrayLength,
            "ArrayUnique" => ArrayUnique,
            "Base64Encode" => Base64Encode,
            "Base64Decode" => Base64Decode,
            "Hash" => Hash,
            "JsonMerge" => JsonMerge,
            "MathRandom" => MathRandom,
            "MathAdd" => MathAdd,
            "StringSplit" => StringSplit,
            "UUID" => Uuid,
            _ => return None,
        })
    }
    /// AWS's spelling, e.g. `States.ArrayGetItem`.
    pub fn name(self) -> &'static str {
        use Function::*;
        match self {
            Format => "States.Format",
            StringToJson => "States.StringToJson",
            JsonToString => "States.JsonToString",
            Array => "States.Array",
            ArrayPartition => "States.ArrayPartition",
            ArrayContains => "States.ArrayContains",
            ArrayRange => "States.ArrayRange",
            ArrayGetItem => "States.ArrayGetItem",
            ArrayLength => "States.ArrayLength",
            ArrayUnique => "States.ArrayUnique",
            Base64Encode => "States.Base64Encode",
            Base64Decode => "States.Base64Decode",
            Hash => "States.Hash",
            JsonMerge => "States.JsonMerge",
            MathRandom => "States.MathRandom",
            MathAdd => "States.MathAdd",
            StringSplit => "States.StringSplit",
            Uuid => "States.UUID",
        }
    }
    /// Allowed argument counts (min, max).
    fn arity(self) -> (usize, usize) {
        use Function::*;
        match self {
            Format => (1, usize::MAX),
            Array => (0, usize::MAX),
            Uuid => (0, 0),
            StringToJson | JsonToString | ArrayLength | ArrayUnique | Base64Encode
            | Base64Decode => (1, 1),
            ArrayPartition | ArrayContains | ArrayGetItem | Hash | MathAdd | StringSplit => (2, 2),
            ArrayRange | JsonMerge => (3, 3),
            MathRandom => (2, 3),
        }
    }
}

/// A piece of a string literal: text, or an unescaped `{}` (a `States.Format` hole).
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Hole,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Literal(Value),
    Str(Vec<Piece>),
    Path(JsonPath),
    Call(Box<Call>),
}

#[derive(Debug, Clone, PartialEq)]
struct Call {
    func: Function,
    args: Vec<Arg>,
}

/// A parsed intrinsic call such as `States.Format('x {}', $.a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Intrinsic {
    src: String,
    call: Call,
}

const MAX_TEXT: usize = 10_000;
const MAX_RANGE: i64 = 1000;

fn fail(cause: impl Into<String>) -> StatesError {
    StatesError::intrinsic(cause)
}

impl Intrinsic {
    /// True when `src` looks like an intrinsic call (`States.` … `(`) rather than a path.
    pub fn looks_like(src: &str) -> bool {
        src.trim_start().starts_with("States.")
    }
    pub fn parse(src: &str) -> Result<Intrinsic, IntrinsicParseError> {
        let mut p = P {
            s: src,
            pos: 0,
            depth: 0,
        };
        p.ws();
        let call = p.call()?;
        p.ws();
        if p.pos < src.len() {
            return p.err("Unexpected text after the closing parenthesis");
        }
        Ok(Intrinsic {
            src: src.to_string(),
            call,
        })
    }
    pub fn as_str(&self) -> &str {
        &self.src
    }
    /// Every path argument, nested calls' included, in the order written.
    pub fn paths(&self) -> Vec<&JsonPath> {
        fn walk<'a>(c: &'a Call, out: &mut Vec<&'a JsonPath>) {
            for a in &c.args {
                match a {
                    Arg::Path(p) => out.push(p),
                    Arg::Call(inner) => walk(inner, out),
                    Arg::Literal(_) | Arg::Str(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.call, &mut out);
        out
    }
    /// The outermost function.
    pub fn function(&self) -> Function {
        self.call.func
    }
    /// Evaluate; failures are `States.Runtime` with AWS's cause text, which names the
    /// whole expression: `The function 'States.Format('{}', $.nope)' had the following
    /// error: The JsonPath argument for the field '$.nope' could not be found in the
    /// input '{"other":1}'`.
    pub fn eval(&self, scope: &Scope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
        eval_call(&self.call, scope, sources).map_err(|e| {
            StatesError::runtime(format!(
                "The function '{}' had the following error: {}",
                self.src, e.cause
            ))
        })
    }
    /// [`Intrinsic::eval`] for a payload template field (`x.$`); AWS's cause names the
    /// expression, not the field.
    pub fn eval_for_field(
        &self,
        scope: &Scope,
        sources: &mut dyn Sources,
        _field: Option<&str>,
    ) -> Result<Value, StatesError> {
        self.eval(scope, sources)
    }
}

// ---------------------------------------------------------------------------------------
// Parser

struct P<'s> {
    s: &'s str,
    pos: usize,
    depth: usize,
}

impl<'s> P<'s> {
    fn rest(&self) -> &'s str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }
    fn err<T>(&self, msg: &str) -> Result<T, IntrinsicParseError> {
        Err(IntrinsicParseError {
            message: format!(
                "Invalid intrinsic function call '{}': {msg} (at {})",
                self.s, self.pos
            ),
        })
    }

    fn call(&mut self) -> Result<Call, IntrinsicParseError> {
        if self.depth > 64 {
            return self.err("Calls are nested too deeply");
        }
        if !self.rest().starts_with("States.") {
            return self.err("Expected 'States.'");
        }
        self.pos += "States.".len();
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        let name = self.s.get(start..self.pos).unwrap_or("");
        let Some(func) = Function::from_name(name) else {
            return self.err(&format!("Unknown function 'States.{name}'"));
        };
        self.ws();
        if self.bump() != Some('(') {
            return self.err("Expected '('");
        }
        self.depth += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                self.ws();
                args.push(self.arg()?);
                self.ws();
                match self.bump() {
                    Some(',') => continue,
                    Some(')') => break,
                    _ => return self.err("Expected ',' or ')'"),
                }
            }
        }
        self.depth -= 1;
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return self.err(&format!(
                "{} takes {} argument(s), got {}",
                func.name(),
                if min == max {
                    min.to_string()
                } else if max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                },
                args.len()
            ));
        }
        Ok(Call { func, args })
    }

    fn arg(&mut self) -> Result<Arg, IntrinsicParseError> {
        match self.peek() {
            Some('\'') => {
                self.bump();
                self.string()
            }
            Some('$') => {
                let start = self.pos;
                self.path_end();
                let text = self.s.get(start..self.pos).unwrap_or("");
                match JsonPath::parse(text) {
                    Ok(p) => Ok(Arg::Path(p)),
                    Err(e) => self.err(&e.message),
                }
            }
            Some('S') if self.rest().starts_with("States.") => {
                Ok(Arg::Call(Box::new(self.call()?)))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(c))
                {
                    self.pos += 1;
                }
                let text = self.s.get(start..self.pos).unwrap_or("");
                match serde_json::from_str::<Value>(text) {
                    Ok(v @ Value::Number(_)) => Ok(Arg::Literal(v)),
                    _ => self.err(&format!("Invalid number '{text}'")),
                }
            }
            _ => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.rest().starts_with(word) {
                        let after = self.rest().get(word.len()..).and_then(|r| r.chars().next());
                        if after.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
                            self.pos += word.len();
                            return Ok(Arg::Literal(v));
                        }
                    }
                }
                self.err("Expected an argument")
            }
        }
    }

    /// Moves to the end of a path argument: the first `,` or `)` (or space) outside
    /// brackets, parentheses and quotes.
    fn path_end(&mut self) {
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut escaped = false;
        while let Some(c) = self.peek() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            } else {
                match c {
                    '\'' | '"' if depth > 0 => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ']' => depth = depth.saturating_sub(1),
                    ')' if depth == 0 => return,
                    ')' => depth -= 1,
                    ',' if depth == 0 => return,
                    c if c.is_whitespace() && depth == 0 => return,
                    _ => {}
                }
            }
            self.bump();
        }
    }

    /// A string literal after its opening quote.
    fn string(&mut self) -> Result<Arg, IntrinsicParseError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.bump() else {
                return self.err("Unterminated string literal");
            };
            match c {
                '\'' => break,
                '\\' => match self.bump() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('r') => text.push('\r'),
                    Some('u') => {
                        let hex = self.rest().get(..4).unwrap_or("");
                        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                            Some(ch) if hex.len() == 4 => {
                                self.pos += 4;
                                text.push(ch);
                            }
                            _ => text.push_str("\\u"),
                        }
                    }
                    // AWS rejects `\"` in an intrinsic's string literal at creation
                    // (recorded in LocalStack's test_illegal_escapes snapshots:
                    // "The value for the field 'parsed.$' must be a valid JSONPath or a
                    // valid intrinsic function call"); a bare `"` is fine.
                    Some('"') => return self.err("Invalid escape sequence \\\" in string literal"),
                    Some(c @ ('\'' | '{' | '}' | '\\')) => text.push(c),
                    Some(c) => {
                        text.push('\\');
                        text.push(c);
                    }
                    None => return self.err("Unterminated string literal"),
                },
                '{' if self.peek() == Some('}') => {
                    self.bump();
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Hole);
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Arg::Str(pieces))
    }
}

fn pieces_to_string(pieces: &[Piece]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Hole => s.push_str("{}"),
        }
    }
    s
}

// ---------------------------------------------------------------------------------------
// Evaluation

fn eval_arg(arg: &Arg, scope: &Scope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
    match arg {
        Arg::Literal(v) => Ok(v.clone()),
        Arg::Str(pieces) => Ok(Value::String(pieces_to_string(pieces))),
        Arg::Path(p) => p.select(scope).ok_or_else(|| {
            let quoted = match p.root() {
                Root::Context => scope.context,
                _ => scope.input,
            };
            fail(format!(
                "The JsonPath argument for the field '{}' could not be found in the input '{}'",
                p.as_str(),
                aws_json(quoted)
            ))
        }),
        Arg::Call(c) => eval_call(c, scope, sources),
    }
}

use crate::json_type_name as type_name;

fn want_array<'v>(f: Function, v: &'v Value, what: &str) -> Result<&'v Vec<Value>, StatesError> {
    v.as_array().ok_or_else(|| {
        fail(format!(
            "Invalid arguments in {}: the {what} argument must be an array, but got {}: {}",
            f.name(),
            type_name(v),
            aws_json(v)
        ))
    })
}

fn want_str<'v>(f: Function, v: &'v Value, what: &str) -> Result<&'v str, StatesError> {
    v.as_str().ok_or_else(|| {
        fail(format!(
            "Invalid arguments in {}: the {what} argument must be a string, but got {}: {}",
            f.name(),
            type_name(v),
            aws_json(v)
        ))
    })
}

/// An integer argument; fractional values are rounded as Java's `Math.round`.
fn want_rounded(f: Function, v: &Value, what: &str) -> Result<i64, StatesError> {
    let bad = || {
        fail(format!(
            "Invalid arguments in {}: the {what} argument must be a number, but got {}: {}",
            f.name(),
            type_name(v),
            aws_json(v)
        ))
    };
    let Value::Number(n) = v else {
        return Err(bad());
    };
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    let x = n.as_f64().ok_or_else(bad)?;
    let r = (x + 0.5).floor();
    if !(-9.2e18..9.2e18).contains(&r) {
        return Err(bad());
    }
    Ok(r as i64)
}

/// An integer argument that must not have a fractional part.
fn want_int(f: Function, v: &Value, what: &str) -> Result<i64, StatesError> {
    let n = v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
            .map(|x| x as i64)
    });
    n.ok_or_else(|| {
        fail(format!(
            "Invalid arguments in {}: the {what} argument must be an integer, but got {}: {}",
            f.name(),
            type_name(v),
            aws_json(v)
        ))
    })
}

fn check_len(f: Function, s: &str) -> Result<(), StatesError> {
    let n = s.chars().count();
    if n > MAX_TEXT {
        return Err(fail(format!(
            "Invalid arguments in {}: the input string is {n} characters long, the maximum is {MAX_TEXT}",
            f.name()
        )));
    }
    Ok(())
}

fn eval_call(call: &Call, scope: &Scope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
    use Function as F;
    let f = call.func;
    // Format reads its template's holes from the literal, so it is evaluated apart.
    if f == F::Format {
        return format_call(call, scope, sources);
    }
    let mut args = Vec::with_capacity(call.args.len());
    for a in &call.args {
        args.push(eval_arg(a, scope, sources)?);
    }
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    Ok(match f {
        F::Format => Value::Null,
        F::Array => Value::Array(args.clone()),
        F::Uuid => Value::String(sources.uuid()),
        F::StringToJson => {
            let s = want_str(f, arg(0), "first")?;
            if s.trim().is_empty() {
                Value::Null
            } else {
                let mut v = serde_json::from_str(s).map_err(|e| {
                    fail(format!(
                        "Invalid arguments in {}: the string {} is not valid JSON: {e}",
                        f.name(),
                        aws_json(arg(0))
                    ))
                })?;
                integer_zero(&mut v);
                v
            }
        }
        F::JsonToString => Value::String(aws_json(arg(0))),
        F::ArrayPartition => {
            let a = want_array(f, arg(0), "first")?;
            let size = want_int(f, arg(1), "second")?;
            if size <= 0 {
                return Err(fail(format!(
                    "Invalid arguments in {}: the chunk size must be greater than 0, but got {size}",
                    f.name()
                )));
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Value::Array(a.chunks(size).map(|c| Value::Array(c.to_vec())).collect())
        }
        F::ArrayContains => {
            let a = want_array(f, arg(0), "first")?;
            Value::Bool(a.contains(arg(1)))
        }
        F::ArrayRange => {
            let start = want_rounded(f, arg(0), "first")?;
            let end = want_rounded(f, arg(1), "second")?;
            let step = want_rounded(f, arg(2), "third")?;
            if step == 0 {
                return Err(fail(format!(
                    "Invalid arguments in {}: the step must not be 0",
                    f.name()
                )));
            }
            let span = i128::from(end) - i128::from(start);
            let count = if (span >= 0) == (step > 0) {
                span / i128::from(step) + 1
            } else {
                0
            };
            if count > i128::from(MAX_RANGE) {
                return Err(fail(format!(
                    "Invalid arguments in {}: the result would have {count} items, the maximum is {MAX_RANGE}",
                    f.name()
                )));
            }
            let mut out = Vec::new();
            let mut x = i128::from(start);
            for _ in 0..count {
                out.push(Value::from(x as i64));
                x += i128::from(step);
            }
            Value::Array(out)
        }
        F::ArrayGetItem => {
            let a = want_array(f, arg(0), "first")?;
            let i = want_int(f, arg(1), "second")?;
            let item = usize::try_from(i).ok().and_then(|i| a.get(i));
            item.cloned().ok_or_else(|| {
                fail(format!(
                    "Invalid arguments in {}: index {i} is out of bounds for an array of length {}",
                    f.name(),
                    a.len()
                ))
            })?
        }
        F::ArrayLength => Value::from(want_array(f, arg(0), "first")?.len()),
        F::ArrayUnique => {
            let a = want_array(f, arg(0), "first")?;
            // Items are bucketed by a hash that agrees with `==`, so a long array costs
            // one pass, not one comparison per pair.
            let mut seen: std::collections::HashMap<u64, Vec<usize>> =
                std::collections::HashMap::with_capacity(a.len());
            let mut out: Vec<Value> = Vec::with_capacity(a.len());
            for v in a {
                let bucket = seen.entry(value_hash(v)).or_default();
                if bucket.iter().any(|&i| out[i] == *v) {
                    continue;
                }
                bucket.push(out.len());
                out.push(v.clone());
            }
            Value::Array(out)
        }
        F::Base64Encode => {
            let s = want_str(f, arg(0), "first")?;
            check_len(f, s)?;
            Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
        }
        F::Base64Decode => {
            let s = want_str(f, arg(0), "first")?;
            check_len(f, s)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| {
                    fail(format!(
                        "Invalid arguments in {}: the string is not valid base64: {e}",
                        f.name()
                    ))
                })?;
            Value::String(String::from_utf8(bytes).map_err(|_| {
                fail(format!(
                    "Invalid arguments in {}: the decoded bytes are not UTF-8 text",
                    f.name()
                ))
            })?)
        }
        F::Hash => {
            let data = want_str(f, arg(0), "first")?;
            check_len(f, data)?;
            let alg = want_str(f, arg(1), "second")?;
            Value::String(hash::hex_digest(alg, data.as_bytes()).ok_or_else(|| {
                fail(format!(
                    "Invalid arguments in {}: the hash algorithm '{alg}' is not supported; use one of {}",
                    f.name(),
                    hash::ALGORITHMS.join(", ")
                ))
            })?)
        }
        F::JsonMerge => {
            let a = arg(0).as_object().ok_or_else(|| {
                fail(format!(
                    "Invalid arguments in {}: the first argument must be a JSON object, but got {}",
                    f.name(),
                    type_name(arg(0))
                ))
            })?;
            let b = arg(1).as_object().ok_or_else(|| {
                fail(format!("Invalid arguments in {}: the second argument must be a JSON object, but got {}", f.name(), type_name(arg(1))))
            })?;
            match arg(2) {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    return Err(fail(format!(
                        "Invalid arguments in {}: deep merging is not supported, the third argument must be false",
                        f.name()
                    )))
                }
                other => {
                    return Err(fail(format!(
                        "Invalid arguments in {}: the third argument must be a boolean, but got {}",
                        f.name(),
                        type_name(other)
                    )))
                }
            }
            let mut out: Map<String, Value> = a.clone();
            for (k, v) in b {
                out.insert(k.clone(), v.clone());
            }
            Value::Object(out)
        }
        F::MathRandom => {
            let start = want_rounded(f, arg(0), "first")?;
            let end = want_rounded(f, arg(1), "second")?;
            if end <= start {
                return Err(fail(format!(
                    "Invalid arguments in {}: the end ({end}) must be greater than the start ({start})",
                    f.name()
                )));
            }
            let span = end.saturating_sub(start);
            let offset = match args.get(2) {
                Some(seed) => {
                    let seed = want_rounded(f, seed, "third")?;
                    java_random_below(seed, span)
                }
                None => {
                    let r = sources.random().clamp(0.0, 1.0);
                    ((r * span as f64).floor() as i64).clamp(0, span.saturating_sub(1))
                }
            };
            Value::from(start.saturating_add(offset))
        }
        F::MathAdd => {
            let a = want_rounded(f, arg(0), "first")?;
            let b = want_rounded(f, arg(1), "second")?;
            Value::from(a.checked_add(b).ok_or_else(|| {
                fail(format!(
                    "Invalid arguments in {}: the sum is out of range",
                    f.name()
                ))
            })?)
        }
        F::StringSplit => {
            let s = want_str(f, arg(0), "first")?;
            let d = want_str(f, arg(1), "second")?;
            Value::Array(
                s.split(|c: char| d.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            )
        }
    })
}

/// Jackson reads `-0` as the integer 0; serde_json reads it as the double -0.0.
fn integer_zero(v: &mut Value) {
    match v {
        Value::Number(n)
            if n.as_f64() == Some(0.0)
                && n.is_f64()
                && n.as_f64().is_some_and(f64::is_sign_negative) =>
        {
            *v = Value::from(0);
        }
        Value::Array(a) => a.iter_mut().for_each(integer_zero),
        Value::Object(m) => m.values_mut().for_each(integer_zero),
        _ => {}
    }
}

fn format_call(
    call: &Call,
    scope: &Scope,
    sources: &mut dyn Sources,
) -> Result<Value, StatesError> {
    let f = Function::Format;
    let (first, rest) = match call.args.split_first() {
        Some(x) => x,
        None => {
            return Err(fail(
                "Invalid arguments in States.Format: a format string is required",
            ))
        }
    };
    let pieces = match first {
        Arg::Str(p) => p.clone(),
        other => {
            let v = eval_arg(other, scope, sources)?;
            let s = want_str(f, &v, "first")?;
            split_holes(s)
        }
    };
    let holes = pieces.iter().filter(|p| matches!(p, Piece::Hole)).count();
    if holes != rest.len() {
        return Err(fail(format!(
            "Invalid arguments in States.Format: the format string has {holes} placeholder(s) but {} argument(s) were given",
            rest.len()
        )));
    }
    let mut out = String::new();
    let mut values = rest.iter();
    for p in &pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Hole => {
                if let Some(a) = values.next() {
                    let v = eval_arg(a, scope, sources)?;
                    format_value(&v, &mut out);
                }
            }
        }
    }
    Ok(Value::String(out))
}

fn split_holes(s: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut parts = s.split("{}");
    if let Some(first) = parts.next() {
        if !first.is_empty() {
            pieces.push(Piece::Text(first.to_string()));
        }
    }
    for part in parts {
        pieces.push(Piece::Hole);
        if !part.is_empty() {
            pieces.push(Piece::Text(part.to_string()));
        }
    }
    pieces
}

/// How `States.Format` renders a value (Java's `toString` of Jackson-decoded values).
fn format_value(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&java_number(n)),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                format_value(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                format_value(x, out);
            }
            out.push('}');
        }
    }
}

/// `new java.util.Random(seed)` then `nextInt(bound)` (or `nextLong` reduced for
/// bounds beyond `int`), so seeded calls are reproducible as on AWS's JVM.
fn java_random_below(seed: i64, bound: i64) -> i64 {
    const MULT: i64 = 0x5DEECE66D;
    const MASK: i64 = (1 << 48) - 1;
    let mut state = (seed ^ MULT) & MASK;
    let mut next = |bits: u32| -> i32 {
        state = (state.wrapping_mul(MULT).wrapping_add(0xB)) & MASK;
        (state >> (48 - bits)) as i32
    };
    if bound <= 0 {
        return 0;
    }
    if bound > i64::from(i32::MAX) {
        let hi = i64::from(next(32)) << 32;
        let lo = i64::from(next(32));
        return (hi.wrapping_add(lo)).rem_euclid(bound);
    }
    let bound = bound as i32;
    if bound & (bound - 1) == 0 {
        return (i64::from(bound) * i64::from(next(31))) >> 31;
    }
    loop {
        let bits = next(31);
        let val = bits % bound;
        // Java rejects values from the last partial range (detected by int overflow).
        if bits.wrapping_sub(val).wrapping_add(bound - 1) >= 0 {
            return i64::from(val);
        }
    }
}

/// A hash of `v` consistent with `Value`'s `==`: equal values hash alike (objects
/// whatever the order of their keys, `0.0` and `-0.0` alike).
fn value_hash(v: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    fn feed(v: &Value, h: &mut std::collections::hash_map::DefaultHasher) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Number(n) => {
                2u8.hash(h);
                if let Some(u) = n.as_u64() {
                    (0u8, u).hash(h);
                } else if let Some(i) = n.as_i64() {
                    (1u8, i).hash(h);
                } else {
                    let f = n.as_f64().unwrap_or(0.0);
                    (2u8, if f == 0.0 { 0u64 } else { f.to_bits() }).hash(h);
                }
            }
            Value::String(s) => (3u8, s).hash(h),
            Value::Array(a) => {
                (4u8, a.len()).hash(h);
                for x in a {
                    feed(x, h);
                }
            }
            Value::Object(m) => {
                // Order-independent: the entries' own hashes, summed.
                let mut sum = 0u64;
                for (k, x) in m {
                    let mut e = std::collections::hash_map::DefaultHasher::new();
                    k.hash(&mut e);
                    feed(x, &mut e);
                    sum = sum.wrapping_add(e.finish());
                }
                (5u8, m.len(), sum).hash(h);
            }
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    feed(v, &mut h);
    h.finish()
}

#[cfg(test)]
#[path = "tests/intrinsics.rs"]
mod tests;
