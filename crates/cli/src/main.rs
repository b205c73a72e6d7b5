//! The `stepwise` binary. STUB.
fn main() {}
