//! Conformance runner over recorded AWS cases. STUB.
