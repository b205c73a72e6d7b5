//! The execution step function (pure). STUB.
