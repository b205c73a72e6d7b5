//! Unit tests of `exec/retry_catch.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn states_all_rules() {
    assert!(error_matches(&["States.ALL".into()], "States.Runtime"));
    assert!(!catch_matches(&["States.ALL".into()], "States.Runtime"));
    assert!(catch_matches(&["States.TaskFailed".into()], "Custom"));
    assert!(!catch_matches(
        &["States.TaskFailed".into()],
        "States.Timeout"
    ));
    assert!(catch_matches(
        &["States.HeartbeatTimeout".into()],
        "States.Timeout"
    ));
}
