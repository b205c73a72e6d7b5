//! Unit tests of `bench_http.rs` (a child module of it: `super::*` is that file).

use super::*;
use std::net::TcpListener;

/// A server answering each request on one connection with the given raw responses.
fn serve(answers: Vec<&'static str>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        for a in answers {
            // Requests here are small: one read holds one.
            let _ = s.read(&mut buf).unwrap();
            s.write_all(a.as_bytes()).unwrap();
        }
    });
    format!("http://{addr}")
}

#[test]
fn keep_alive_answers_in_pieces_and_lengths() {
    let url = serve(vec![
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        "HTTP/1.1 400 Bad Request\r\ncontent-length: 13\r\n\r\n{\"a\":\"hello\"}",
    ]);
    let mut c = Conn::new(&url);
    let a = c.post(&[("X-Amz-Target", "T")], b"{}").unwrap();
    assert_eq!((a.status, a.body), (200, &b"{}"[..]));
    let a = c.post(&[], b"{}").unwrap();
    assert_eq!(a.status, 400);
    assert_eq!(text(a.body), "{\"a\":\"hello\"}");
}

#[test]
fn closed_connection_is_an_error() {
    let url = serve(vec!["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"]);
    let mut c = Conn::new(&url);
    assert!(c.post(&[], b"{}").is_err());
}

#[test]
fn chunked_is_refused() {
    let url = serve(vec![
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ]);
    let mut c = Conn::new(&url);
    assert!(c.post(&[], b"{}").is_err());
}
