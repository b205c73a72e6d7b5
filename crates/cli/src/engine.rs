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
