//! Shared glue: definition loading with AWS's InvalidDefinition text, and the
//! conversion of a finished run to AWS-shaped JSON.

use std::sync::Arc;
use stepwise_asl::Diagnostic;
use stepwise_interp::Machine;

/// Parse a definition; on failure, every diagnostic.
pub fn load_machine(text: &str) -> Result<Arc<Machine>, Vec<Diagnostic>> {
    stepwise_asl::parse(text).map(Machine::new)
}

/// AWS's `InvalidDefinition` message for a set of diagnostics.
pub fn invalid_definition_message(diags: &[Diagnostic]) -> String {
    stepwise_asl::aws_message(diags)
}

/// A hint when definition text that is not JSON looks like a file's path: the AWS CLI
/// sends `--definition examples/x.json` as the text itself, AWS answers
/// "Unrecognized token 'examples'", and `file://` is what was meant.
pub fn path_hint(text: &str, diags: &[Diagnostic]) -> Option<String> {
    let t = text.trim();
    let not_json = diags.iter().any(|d| d.code == "INVALID_JSON_DESCRIPTION");
    let pathy = !t.is_empty()
        && t.len() < 4096
        && !t.contains(char::is_whitespace)
        && !t.starts_with(['{', '['])
        && (t.contains('/') || t.contains('\\') || t.ends_with(".json"));
    (not_json && pathy).then(|| {
        format!(
            "hint: the definition is the text '{t}', which looks like a file's path: give the file itself (stepwise run/validate take a path; the AWS CLI wants --definition file://{})",
            t.trim_start_matches("file://")
        )
    })
}
