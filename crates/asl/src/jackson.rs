//! A definition that is not JSON, worded as AWS's parser (Jackson) words it, so the
//! message says what was expected where: `Unrecognized token 'examples': was expecting
//! (JSON String, Number, Array, Object or token 'null', 'true' or 'false')` then
//! `\n at [Source: (String)"examples/hello.asl.json"; line: 1, column: 9]` (recorded on
//! AWS by LocalStack's `test_sfn_api_validation`, `NOT_A_DEF`). The column is Jackson's:
//! just past the token or character at fault. Errors Jackson words in ways no recording
//! shows keep serde_json's wording, with the same location suffix.

use serde_json::error::Category;

const VALID_VALUES: &str =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
/// Jackson cuts the source it quotes after this many characters.
const MAX_SOURCE: usize = 500;

/// The message for `text`, which serde_json refused with `e`.
pub(crate) fn describe(text: &str, e: &serde_json::Error) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let (line, column) = (e.line().max(1), e.column());
    let chars: Vec<char> = lines
        .get(line - 1)
        .map(|l| l.chars().collect())
        .unwrap_or_default();
    let at = |col: usize| {
        format!(
            "\n at [Source: {}; line: {line}, column: {col}]",
            source(text)
        )
    };
    if e.classify() == Category::Eof {
        return match unclosed(text) {
            Some((kind, l, c)) => format!(
                "Unexpected end-of-input: expected close marker for {kind} (start marker at [Source: {}; line: {l}, column: {c}]){}",
                source(text),
                at(column + 1)
            ),
            None => format!("Unexpected end-of-input{}", at(column + 1)),
        };
    }
    let message = e.to_string();
    // serde_json's column is the 1-based column of the character it stopped at (0 when
    // it stopped before the line's first one).
    let idx = column.saturating_sub(1).min(chars.len());
    let Some(&c) = chars.get(idx) else {
        return format!("{}{}", serde_text(&message), at(column + 1));
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let word_at = if ident(c) && !c.is_ascii_digit() {
        Some(idx)
    } else if message.starts_with("expected ident") && idx > 0 && ident(chars[idx - 1]) {
        Some(idx - 1)
    } else {
        None
    };
    if let Some(idx) = word_at {
        // A bare word (or a mistyped true/false/null): Jackson reads it whole.
        let mut start = idx;
        while start > 0 && ident(chars[start - 1]) {
            start -= 1;
        }
        let mut end = idx;
        while end < chars.len() && ident(chars[end]) {
            end += 1;
        }
        let word: String = chars[start..end].iter().collect();
        return format!(
            "Unrecognized token '{word}': was expecting {VALID_VALUES}{}",
            at(end + 1)
        );
    }
    let unexpected = |expected: &str| {
        format!(
            "Unexpected character ('{c}' (code {})): {expected}{}",
            c as u32,
            at(idx + 2)
        )
    };
    if message.starts_with("key must be a string") {
        return unexpected("was expecting double-quote to start field name");
    }
    if message.starts_with("expected `,` or `}`") {
        return unexpected("was expecting comma to separate Object entries");
    }
    if message.starts_with("expected `,` or `]`") {
        return unexpected("was expecting comma to separate Array entries");
    }
    if message.starts_with("expected `:`") {
        return unexpected("was expecting a colon to separate field name and value");
    }
    if message.starts_with("expected value") || message.starts_with("trailing comma") {
        return unexpected(&format!("expected a valid value {VALID_VALUES}"));
    }
    if message.starts_with("trailing characters") {
        return unexpected("expected the end of the definition after its JSON value");
    }
    format!("{}{}", serde_text(&message), at(idx + 2))
}

/// serde_json's message without its own " at line L column C".
fn serde_text(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// `(String)"TEXT"`, cut as Jackson cuts it.
fn source(text: &str) -> String {
    let n = text.chars().count();
    if n <= MAX_SOURCE {
        format!("(String)\"{text}\"")
    } else {
        let head: String = text.chars().take(MAX_SOURCE).collect();
        format!("(String)\"{head}\"[truncated {} chars]", n - MAX_SOURCE)
    }
}

/// The innermost container still open at the end of `text`: ("Object" or "Array", its
/// line and Jackson column).
fn unclosed(text: &str) -> Option<(&'static str, usize, usize)> {
    let mut stack = Vec::new();
    let (mut line, mut col) = (1usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
            col = 0;
            continue;
        }
        col += 1;
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => stack.push(("Object", line, col)),
            '[' => stack.push(("Array", line, col)),
            '}' | ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

#[cfg(test)]
#[path = "tests/jackson.rs"]
mod tests;
