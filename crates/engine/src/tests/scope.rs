//! Unit tests of `scope.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn scopes_come_from_arns() {
    let s = Scope::of_arn("arn:aws:states:eu-west-1:111122223333:stateMachine:m").expect("scope");
    assert_eq!(s, Scope::new("eu-west-1", "111122223333"));
    assert_eq!(s.arn_prefix(), "arn:aws:states:eu-west-1:111122223333:");
    assert!(s.holds("arn:aws:states:eu-west-1:111122223333:activity:a"));
    assert!(!s.holds("arn:aws:states:us-east-1:111122223333:activity:a"));
    assert!(!s.holds("arn:aws:states:eu-west-1:123456789012:activity:a"));
    assert_eq!(Scope::of_arn("not-an-arn"), None);
    assert_eq!(Scope::of_arn("arn:aws:states::123:x"), None);
    assert_eq!(
        prefix_of("arn:aws:states:eu-west-1:111122223333:stateMachine:m:3").as_deref(),
        Some("arn:aws:states:eu-west-1:111122223333:")
    );
    assert_eq!(prefix_of("arn:aws:states"), None);
}
