use super::*;

#[test]
fn new_needs_no_runtime() {
    let c = Client::new();
    assert!(c.inner.get().is_none());
    assert!(c.inner().is_ok());
}

#[test]
fn seconds_read_well() {
    assert_eq!(seconds(Duration::from_secs(60)), "60 seconds");
    assert_eq!(seconds(Duration::from_secs(1)), "1 second");
    assert_eq!(seconds(Duration::from_millis(250)), "0.25 seconds");
}

#[tokio::test]
async fn other_schemes_are_refused() {
    let c = Client::new();
    let req = http::Request::get("ftp://example.com/x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let e = c.send(req, Duration::from_secs(1), 10).await.unwrap_err();
    assert!(matches!(e, SendError::Unsupported(_)), "{e:?}");
}
