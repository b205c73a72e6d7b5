//! Amazon States Language definitions: parse and validate once, run many times.
//!
//! [`parse`] turns definition text into a typed [`StateMachine`] (one type per state,
//! one per field group), with every expression compiled, or returns *all*
//! [`Diagnostic`]s, each located by a JSON pointer into the definition and carrying
//! AWS's error code and wording where AWS has one. Nothing here does I/O.

pub mod definition;
pub mod diagnostic;
mod parse;
mod validate;

pub use definition::*;
pub use diagnostic::Diagnostic;
pub use validate::aws_message;

/// Parse and validate definition text (JSON). `Err` holds every diagnostic found.
pub fn parse(text: &str) -> Result<StateMachine, Vec<Diagnostic>> {
    parse::parse_text(text)
}

/// Parse and validate an already-decoded definition.
pub fn parse_value(value: &serde_json::Value) -> Result<StateMachine, Vec<Diagnostic>> {
    parse::parse_value(value)
}
