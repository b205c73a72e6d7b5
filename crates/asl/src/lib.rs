//! Amazon States Language definitions: parse and validate once, run many times.
//!
//! [`parse`] turns definition text into a typed [`StateMachine`] (one type per state,
//! one per field group), with every expression compiled, or returns *all*
//! [`Diagnostic`]s, each located by a JSON pointer into the definition and carrying
//! AWS's error code and wording where AWS has one. Nothing here does I/O.

pub mod definition;
pub mod diagnostic;
mod jackson;
mod parse;
mod partition;
mod references;
mod validate;

pub use definition::*;
pub use diagnostic::Diagnostic;
pub use partition::partition_of;
pub use references::variable_references;
pub use validate::{aws_location, aws_message, aws_reported};

/// Parse and validate definition text (JSON). `Err` holds every diagnostic found.
pub fn parse(text: &str) -> Result<StateMachine, Vec<Diagnostic>> {
    parse::parse_text(text)
}

/// Parse and validate an already-decoded definition.
pub fn parse_value(value: &serde_json::Value) -> Result<StateMachine, Vec<Diagnostic>> {
    parse::parse_value(value)
}

/// AWS's message for a definition that is only whitespace.
pub const BLANK_DEFINITION: &str = "Definition must be a valid JSON object";

/// What an EXPRESS state machine may not use: `.waitForTaskToken` and `.sync` service
/// integrations (AWS rejects them at creation with these messages).
pub fn check_express(def: &StateMachine) -> Vec<Diagnostic> {
    fn walk(states: &States, base: &str, out: &mut Vec<Diagnostic>) {
        for s in &states.states {
            let at = format!("{base}/States/{}", s.name);
            match &s.kind {
                StateKind::Task(t) => {
                    let activity = t.resource.starts_with("arn:")
                        && t.resource.split(':').nth(5) == Some("activity");
                    if activity {
                        out.push(Diagnostic::new(
                            format!("{at}/Resource"),
                            "SCHEMA_VALIDATION_FAILED",
                            "Express state machine does not support Activity ARN",
                        ));
                    }
                    for pattern in [".waitForTaskToken", ".sync"] {
                        let tail = t.resource.rsplit(':').next().unwrap_or_default();
                        if t.resource.ends_with(pattern)
                            || (pattern == ".sync" && tail.contains(".sync"))
                        {
                            // AWS's text has two spaces before "at" for the first, one for the second.
                            let gap = if pattern == ".sync" { "" } else { " " };
                            out.push(Diagnostic::new(
                                format!("{at}/Resource"),
                                "SCHEMA_VALIDATION_FAILED",
                                format!(
                                    "Express state machine does not support '{pattern}' service integration{gap}"
                                ),
                            ));
                        }
                    }
                }
                StateKind::Parallel(p) => {
                    for (i, b) in p.branches.iter().enumerate() {
                        walk(b, &format!("{at}/Branches/{i}"), out);
                    }
                }
                StateKind::Map(m) => {
                    let field = if m.legacy_iterator {
                        "Iterator"
                    } else {
                        "ItemProcessor"
                    };
                    walk(&m.processor, &format!("{at}/{field}"), out);
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&def.states, "", &mut out);
    out
}
