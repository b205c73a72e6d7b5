//! Unit tests of `hash.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn known_digests() {
    assert_eq!(
        hex_digest("MD5", b"").unwrap(),
        "d41d8cd98f00b204e9800998ecf8427e"
    );
    assert_eq!(
        hex_digest("SHA-256", b"abc").unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(hex_digest("SHA-3", b"").is_none());
}
