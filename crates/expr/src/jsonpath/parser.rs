//! The JSONPath parser: roots, steps, brackets, trailing functions and filter
//! expressions, with AWS-like error wording.

use super::filter::{CmpOp, Filter, Operand};
use super::{is_definite, perr, Func, PathError, Root, Segment};
use serde_json::Value;

pub(super) struct Parser<'s> {
    src: &'s str,
    pub(super) pos: usize,
    /// Inside a filter, names also stop at spaces and operator characters.
    in_filter: bool,
    /// Nesting of filters, parentheses and lists, bounded so hostile text cannot
    /// exhaust the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl<'s> Parser<'s> {
    pub(super) fn new(src: &'s str, in_filter: bool) -> Self {
        Parser {
            src,
            pos: 0,
            in_filter,
            depth: 0,
        }
    }
    fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }
    fn err<T>(&self, what: &str) -> Result<T, PathError> {
        perr(format!(
            "{what} at position {} in path {}",
            self.pos, self.src
        ))
    }

    pub(super) fn root(&mut self) -> Result<Root, PathError> {
        if !self.eat('$') {
            return perr(format!("Path must start with '$': {}", self.src));
        }
        if self.eat('$') {
            return Ok(Root::Context);
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                self.bump();
            } else {
                break;
            }
        }
        if self.pos > start {
            let name = self.src.get(start..self.pos).unwrap_or("").to_string();
            return Ok(Root::Variable(name));
        }
        Ok(Root::Input)
    }

    /// Steps after the root, up to the end or (in a filter) to a delimiter.
    pub(super) fn tail(&mut self) -> Result<(Vec<Segment>, Option<Func>), PathError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some('.') => {
                    if self.eat_str("..") {
                        if self.at_end() {
                            return self.err("Path must not end with a '..'");
                        }
                        let inner = if self.eat('[') {
                            self.bracket()?
                        } else if self.eat('*') {
                            Segment::Wildcard
                        } else {
                            Segment::Field(self.name()?)
                        };
                        segs.push(Segment::Scan(Box::new(inner)));
                    } else {
                        self.bump();
                        if self.at_end() {
                            return self.err("Path must not end with a '.'");
                        }
                        if self.eat('*') {
                            segs.push(Segment::Wildcard);
                        } else if self.eat('[') {
                            segs.push(self.bracket()?);
                        } else {
                            let name = self.name()?;
                            if self.peek() == Some('(') {
                                let f = self.func(&name)?;
                                return Ok((segs, Some(f)));
                            }
                            segs.push(Segment::Field(name));
                        }
                    }
                }
                Some('[') => {
                    self.bump();
                    segs.push(self.bracket()?);
                }
                Some(_) if self.in_filter => break,
                // Jayway reads a name straight after a bracket as a property step
                // (`$.a[0]b` is `$.a[0].b`), and so does AWS.
                Some(c) if !segs.is_empty() && (c.is_alphanumeric() || c == '_' || c == '$') => {
                    segs.push(Segment::Field(self.name()?));
                }
                Some(_) => return self.err("Unexpected character"),
            }
        }
        Ok((segs, None))
    }

    fn name(&mut self) -> Result<String, PathError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let stop = c == '.' || c == '[' || c == '(';
            let filter_stop = self.in_filter && (c.is_whitespace() || "),]=!<>&|".contains(c));
            if stop || filter_stop {
                break;
            }
            if c.is_whitespace() {
                return self.err(
                    "Use bracket notion ['my prop'] if your property contains blank characters",
                );
            }
            self.bump();
        }
        if self.pos == start {
            return self.err("Expected a property name");
        }
        Ok(self.src.get(start..self.pos).unwrap_or("").to_string())
    }

    fn func(&mut self, name: &str) -> Result<Func, PathError> {
        let f = match name {
            "length" | "size" => Func::Length,
            "min" => Func::Min,
            "max" => Func::Max,
            "avg" => Func::Avg,
            "sum" => Func::Sum,
            "stddev" => Func::Stddev,
            "first" => Func::First,
            "last" => Func::Last,
            "keys" => Func::Keys,
            _ => return self.err(&format!("Function with name: {name} does not exist")),
        };
        self.eat('(');
        self.skip_ws();
        if !self.eat(')') {
            return self.err("Function arguments are not supported");
        }
        // A function ends the path (spaces may follow inside a filter).
        if !self.in_filter && !self.at_end() {
            return self.err("A function must be the last step of a path");
        }
        Ok(f)
    }

    /// After `[`: `'a'`, `'a','b'`, `*`, `0`, `0,1`, `1:3`, `?(…)`, up to and including `]`.
    fn bracket(&mut self) -> Result<Segment, PathError> {
        self.skip_ws();
        let seg = match self.peek() {
            Some('?') => {
                self.bump();
                self.skip_ws();
                if !self.eat('(') {
                    return self.err("Expected '(' after '?'");
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(')') {
                    return self.err("Expected ')' to close the filter");
                }
                Segment::Filter(Box::new(f))
            }
            Some(q @ ('\'' | '"')) => {
                let mut names = Vec::new();
                loop {
                    self.skip_ws();
                    if !self.eat(q) {
                        return self.err("Expected a quoted property name");
                    }
                    names.push(self.quoted_raw(q)?);
                    self.skip_ws();
                    if !self.eat(',') {
                        break;
                    }
                }
                if names.len() == 1 {
                    Segment::Field(names.pop().unwrap_or_default())
                } else {
                    Segment::Fields(names)
                }
            }
            Some('*') => {
                self.bump();
                Segment::Wildcard
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ']') {
                    self.bump();
                }
                let body = self.src.get(start..self.pos).unwrap_or("").trim();
                self.index_body(body)?
            }
        };
        self.skip_ws();
        if !self.eat(']') {
            return self.err("Expected ']'");
        }
        Ok(seg)
    }

    /// A quoted name after its opening quote; backslashes are kept verbatim (as AWS).
    fn quoted_raw(&mut self, q: char) -> Result<String, PathError> {
        let start = self.pos;
        let mut escaped = false;
        while let Some(c) = self.bump() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                let end = self.pos - q.len_utf8();
                return Ok(self.src.get(start..end).unwrap_or("").to_string());
            }
        }
        self.err("Property has not been closed - missing closing quote")
    }

    fn index_body(&self, body: &str) -> Result<Segment, PathError> {
        let int = |s: &str| -> Result<i64, PathError> {
            s.trim().parse::<i64>().map_err(|_| PathError {
                message: format!("Could not parse index '{body}' in path {}", self.src),
            })
        };
        if body.is_empty() {
            return self.err("Empty brackets");
        }
        if let Some((a, b)) = body.split_once(':') {
            if b.contains(':') {
                return self.err("Slices with a step are not supported");
            }
            let a = if a.trim().is_empty() {
                None
            } else {
                Some(int(a)?)
            };
            let b = if b.trim().is_empty() {
                None
            } else {
                Some(int(b)?)
            };
            return Ok(Segment::Slice(a, b));
        }
        if body.contains(',') {
            let is = body.split(',').map(int).collect::<Result<Vec<_>, _>>()?;
            return Ok(Segment::Indexes(is));
        }
        Ok(Segment::Index(int(body)?))
    }

    // -- filter expressions --

    fn filter_or(&mut self) -> Result<Filter, PathError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.eat_str("||") {
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, PathError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.eat_str("&&") {
                let right = self.filter_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, PathError> {
        self.depth += 1;
        let r = self.filter_unary_inner();
        self.depth -= 1;
        r
    }

    fn filter_unary_inner(&mut self) -> Result<Filter, PathError> {
        if self.depth > MAX_DEPTH {
            return self.err("Expression is nested too deeply");
        }
        self.skip_ws();
        if self.peek() == Some('!') && self.peek2() != Some('=') {
            self.bump();
            return Ok(Filter::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat('(') {
            let inner = self.filter_or()?;
            self.skip_ws();
            if !self.eat(')') {
                return self.err("Expected ')'");
            }
            return Ok(inner);
        }
        let left = self.operand()?;
        self.skip_ws();
        let Some(op) = self.cmp_op() else {
            return Ok(Filter::Exists(left));
        };
        self.skip_ws();
        let right = if op == CmpOp::Regex {
            self.regex()?
        } else {
            self.operand()?
        };
        Ok(Filter::Cmp(left, op, right))
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        const SYMBOLS: [(&str, CmpOp); 8] = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("=~", CmpOp::Regex),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
            ("===", CmpOp::Eq),
        ];
        for (s, op) in SYMBOLS {
            if self.eat_str(s) {
                // `===`/`!==` are Jayway spellings of the same tests.
                self.eat('=');
                return Some(op);
            }
        }
        const WORDS: [(&str, CmpOp); 9] = [
            ("subsetof", CmpOp::SubsetOf),
            ("anyof", CmpOp::AnyOf),
            ("noneof", CmpOp::NoneOf),
            ("contains", CmpOp::Contains),
            ("size", CmpOp::Size),
            ("empty", CmpOp::Empty),
            ("nin", CmpOp::Nin),
            ("in", CmpOp::In),
            ("=", CmpOp::Eq),
        ];
        for (w, op) in WORDS {
            let rest = self.rest();
            if rest.starts_with(w) {
                let after = rest.get(w.len()..).and_then(|r| r.chars().next());
                let word_ends = w == "=" || after.is_none_or(|c| !c.is_alphanumeric());
                if word_ends {
                    self.pos += w.len();
                    return Some(op);
                }
            }
        }
        None
    }

    fn regex(&mut self) -> Result<Operand, PathError> {
        if !self.eat('/') {
            return self.err("Expected a /regex/ after =~");
        }
        let mut pat = String::new();
        let mut escaped = false;
        loop {
            let Some(c) = self.bump() else {
                return self.err("Unterminated regex");
            };
            if escaped {
                if c != '/' {
                    pat.push('\\');
                }
                pat.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '/' {
                break;
            } else {
                pat.push(c);
            }
        }
        let mut flags = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_ascii_alphabetic()) {
            self.bump();
            if "imsx".contains(c) && !flags.contains(c) {
                flags.push(c);
            }
        }
        let full = if flags.is_empty() {
            format!("^(?:{pat})$")
        } else {
            format!("(?{flags})^(?:{pat})$")
        };
        match regex::RegexBuilder::new(&full).size_limit(1 << 20).build() {
            Ok(re) => Ok(Operand::Regex(re)),
            Err(e) => perr(format!("Invalid regex /{pat}/ in path {}: {e}", self.src)),
        }
    }

    fn operand(&mut self) -> Result<Operand, PathError> {
        self.depth += 1;
        let r = self.operand_inner();
        self.depth -= 1;
        r
    }

    fn operand_inner(&mut self) -> Result<Operand, PathError> {
        if self.depth > MAX_DEPTH {
            return self.err("Expression is nested too deeply");
        }
        self.skip_ws();
        match self.peek() {
            Some(c @ ('@' | '$')) => {
                self.bump();
                let mut sub = Parser {
                    src: self.src,
                    pos: self.pos,
                    in_filter: true,
                    depth: self.depth,
                };
                let (segments, func) = sub.tail()?;
                self.pos = sub.pos;
                let definite = is_definite(&segments);
                Ok(Operand::Path {
                    current: c == '@',
                    segments,
                    func,
                    definite,
                })
            }
            Some(q @ ('\'' | '"')) => {
                self.bump();
                let raw = self.quoted_raw(q)?;
                Ok(Operand::Literal(Value::String(unescape_literal(&raw))))
            }
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                self.skip_ws();
                if !self.eat(']') {
                    loop {
                        match self.operand()? {
                            Operand::Literal(v) => items.push(v),
                            _ => return self.err("Only literals are allowed in a list"),
                        }
                        self.skip_ws();
                        if self.eat(']') {
                            break;
                        }
                        if !self.eat(',') {
                            return self.err("Expected ',' or ']' in a list");
                        }
                    }
                }
                Ok(Operand::Literal(Value::Array(items)))
            }
            Some('{') => {
                // A JSON object literal: find its end by balancing braces outside strings.
                let start = self.pos;
                let mut depth = 0usize;
                let mut in_str = false;
                let mut esc = false;
                while let Some(c) = self.bump() {
                    if in_str {
                        if esc {
                            esc = false;
                        } else if c == '\\' {
                            esc = true;
                        } else if c == '"' {
                            in_str = false;
                        }
                        continue;
                    }
                    match c {
                        '"' => in_str = true,
                        '{' => depth += 1,
                        '}' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let text = self.src.get(start..self.pos).unwrap_or("");
                match serde_json::from_str(text) {
                    Ok(v) => Ok(Operand::Literal(v)),
                    Err(_) => self.err("Invalid JSON literal"),
                }
            }
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || "+-._".contains(c))
                {
                    self.bump();
                }
                let word = self.src.get(start..self.pos).unwrap_or("");
                match word {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    "" => self.err("Expected a value"),
                    _ => match serde_json::from_str::<Value>(word) {
                        Ok(v @ Value::Number(_)) => Ok(Operand::Literal(v)),
                        _ => match word
                            .parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                        {
                            Some(n) => Ok(Operand::Literal(Value::Number(n))),
                            // AWS accepts an unquoted word (`@.status == Failure`) and
                            // compares with it as text.
                            None => Ok(Operand::Literal(Value::String(word.to_string()))),
                        },
                    },
                }
            }
        }
    }
}

/// String literals inside filters: `\'`, `\"`, `\\`, `\n`, `\t`, `\r`, `\/`.
fn unescape_literal(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c @ ('\'' | '"' | '\\' | '/')) => out.push(c),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
    out
}
