//! Unit tests of `page_token.rs` (a child module of it: `super::*` is that file).

use super::*;
use serde_json::json;

#[test]
fn a_token_continues_only_its_own_listing() {
    let req = json!({"executionArn": "arn:a", "maxResults": 10, "reverseOrder": true});
    let t = issue("events", &req, "42");
    assert_eq!(read("events", &req, &t).ok(), Some("42".to_string()));
    // maxResults may change between pages; nextToken itself is not part of the listing.
    let next = json!({"executionArn": "arn:a", "maxResults": 3, "reverseOrder": true,
                      "nextToken": t.clone()});
    assert_eq!(read("events", &next, &t).ok(), Some("42".to_string()));
    let other = json!({"executionArn": "arn:b", "reverseOrder": true});
    let refused =
        |scope: &str, r: &Value, t: &str| read(scope, r, t).map_err(|e| (e.code, e.message)).err();
    let invalid = Some((
        "InvalidToken".to_string(),
        "Invalid Token: 'Invalid token'".to_string(),
    ));
    assert_eq!(
        refused("events", &other, &t),
        invalid,
        "another execution's"
    );
    assert_eq!(refused("executions", &req, &t), invalid, "another action's");
    // A changed position, a made-up or truncated token.
    let forged = format!(
        "{}{}",
        hex(b"99999999999999999999"),
        &t[t.find('.').unwrap_or(0)..]
    );
    assert_eq!(refused("events", &req, &forged), invalid);
    assert_eq!(refused("events", &req, "offset:5"), invalid);
    assert_eq!(refused("events", &req, &t[..t.len() - 2]), invalid);
    assert_eq!(refused("events", &req, ""), invalid);
}
