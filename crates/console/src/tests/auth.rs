use super::*;

const NOW: i64 = 1_800_000_000;

fn auth() -> Auth {
    Auth::new(Credentials::single("AKID/odd.key", "secret"))
}

#[test]
fn a_session_verifies_until_it_expires() {
    let a = auth();
    let cookie = a.session("AKID/odd.key", NOW + SESSION_SECONDS);
    assert_eq!(a.verify(&cookie, NOW).as_deref(), Some("AKID/odd.key"));
    assert_eq!(
        a.verify(&cookie, NOW + SESSION_SECONDS - 1).as_deref(),
        Some("AKID/odd.key")
    );
    // Expired: at and after its end.
    assert_eq!(a.verify(&cookie, NOW + SESSION_SECONDS), None);
    let old = a.session("AKID/odd.key", NOW - 1);
    assert_eq!(a.verify(&old, NOW), None);
}

#[test]
fn a_tampered_or_foreign_session_is_refused() {
    let a = auth();
    let cookie = a.session("AKID/odd.key", NOW + 60);
    // A later expiry with the old tag.
    let (payload, tag) = cookie.rsplit_once('.').unwrap();
    let (id, _) = payload.rsplit_once('.').unwrap();
    assert_eq!(
        a.verify(&format!("{id}.{}.{tag}", NOW + 999_999), NOW),
        None
    );
    // One character of the tag changed.
    let mut flipped = cookie.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
    assert_eq!(a.verify(&String::from_utf8(flipped).unwrap(), NOW), None);
    // Another process's key, a truncated tag, garbage.
    assert_eq!(auth().verify(&cookie, NOW), None);
    assert_eq!(a.verify(&cookie[..cookie.len() - 2], NOW), None);
    for junk in ["", ".", "..", "a.b.c", "AKID.1.zz", "é.1.00"] {
        assert_eq!(a.verify(junk, NOW), None, "{junk}");
    }
    // A well-tagged session for a key the server no longer has.
    let gone = a.session("REMOVED", NOW + 60);
    assert_eq!(a.verify(&gone, NOW), None);
}

#[test]
fn a_signed_out_session_no_longer_verifies() {
    let a = auth();
    let cookie = a.session("AKID/odd.key", NOW + 60);
    let other = a.session("AKID/odd.key", NOW + 61);
    // Junk and foreign sessions revoke nothing.
    a.revoke("junk", NOW);
    a.revoke(&auth().session("AKID/odd.key", NOW + 60), NOW);
    assert!(a.verify(&cookie, NOW).is_some());
    a.revoke(&cookie, NOW);
    assert_eq!(a.verify(&cookie, NOW), None);
    // The tag is compared whatever the case of its hex.
    let (payload, tag) = cookie.rsplit_once('.').unwrap();
    assert_eq!(
        a.verify(&format!("{payload}.{}", tag.to_uppercase()), NOW),
        None
    );
    assert!(a.verify(&other, NOW).is_some(), "another session stays");
    // An expired revocation is dropped when the next one is made.
    a.revoke(&other, NOW + 60);
    assert_eq!(a.revoked.lock().unwrap().len(), 1);
}

#[test]
fn the_session_is_read_from_the_cookie_header() {
    let a = auth();
    let value = a.session("AKID/odd.key", NOW + 60);
    let mut h = HeaderMap::new();
    h.insert(
        header::COOKIE,
        HeaderValue::from_str(&format!("other=1; {COOKIE}=bad; {COOKIE}={value}")).unwrap(),
    );
    assert_eq!(a.signed_in(&h, NOW).as_deref(), Some("AKID/odd.key"));
    h.insert(
        header::COOKIE,
        HeaderValue::from_static("stepwise_session=x"),
    );
    assert_eq!(a.signed_in(&h, NOW), None);
}

#[test]
fn next_stays_on_the_console() {
    for ok in [
        "/console/",
        "/console",
        "/console/executions?machine=arn%3Ax&status=RUNNING",
        "/console/executions/arn%3Aaws",
    ] {
        assert_eq!(safe_next(Some(ok)), ok);
    }
    for bad in [
        "https://evil.example/",
        "//evil.example/console/",
        "/\\evil.example",
        "/console\\..\\x",
        "/console/../metrics",
        "/consolex",
        "/metrics",
        "javascript:alert(1)",
        "/console/\nSet-Cookie: x",
        "/console/ é",
        "",
    ] {
        assert_eq!(safe_next(Some(bad)), "/console/", "{bad:?}");
    }
    assert_eq!(safe_next(None), "/console/");
}

#[test]
fn failed_sign_ins_queue_up_to_a_bound_and_give_their_place_back() {
    let queued = std::sync::atomic::AtomicUsize::new(0);
    let places: Vec<Queued> = (0..FAILED_QUEUE)
        .map(|_| Queued::join(&queued).expect("a place"))
        .collect();
    assert!(Queued::join(&queued).is_none(), "one more than the bound");
    assert_eq!(
        queued.load(std::sync::atomic::Ordering::SeqCst),
        FAILED_QUEUE
    );
    drop(places);
    assert_eq!(queued.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(Queued::join(&queued).is_some());
}
