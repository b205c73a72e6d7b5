//! The load generator's HTTP/1.1 connection: one keep-alive TCP connection, each request
//! written with a single `write` (head and body together, so one TCP segment and one
//! wakeup of the server per request), each answer read into a reused buffer and its head
//! parsed by `httparse`. ureq writes the head and the body separately, which cost the
//! server a second read and wakeup per request and the client ~50 µs of CPU that the
//! server it measures shares two cores with.

use anyhow::bail;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Headers a response may carry before we give up on it.
const MAX_HEADERS: usize = 64;

pub(crate) struct Conn {
    /// `host:port`.
    addr: String,
    stream: Option<TcpStream>,
    out: Vec<u8>,
    inp: Vec<u8>,
}

/// A response: status code and body bytes.
pub(crate) struct Answer<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

impl Conn {
    /// A connection to `url` (`http://host:port`, no path), opened on first use.
    pub fn new(url: &str) -> Conn {
        let addr = url.strip_prefix("http://").unwrap_or(url);
        Conn {
            addr: addr.trim_end_matches('/').to_string(),
            stream: None,
            out: Vec::with_capacity(1024),
            inp: Vec::with_capacity(16 * 1024),
        }
    }

    /// `POST /` with these headers and body. A reused connection that the server closed
    /// while idle (nothing of the answer read) is reopened once.
    pub fn post(&mut self, headers: &[(&str, &str)], body: &[u8]) -> anyhow::Result<Answer<'_>> {
        let reused = self.stream.is_some();
        let first = self.exchange(headers, body);
        let (status, start) = match first {
            Ok(v) => v,
            // Retried only if nothing of an answer came: the request was never served.
            Err(Stale) if reused && self.inp.is_empty() => {
                self.stream = None;
                self.exchange(headers, body)
                    .map_err(|_| anyhow::anyhow!("POST {}: connection closed", self.addr))?
            }
            Err(Stale) => bail!(
                "POST {}: the connection failed before a whole answer",
                self.addr
            ),
        };
        Ok(Answer {
            status,
            body: &self.inp[start..],
        })
    }

    fn exchange(&mut self, headers: &[(&str, &str)], body: &[u8]) -> Result<(u16, usize), Stale> {
        self.try_exchange(headers, body)
            .inspect_err(|_| self.stream = None)
    }

    fn try_exchange(
        &mut self,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(u16, usize), Stale> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr).map_err(|_| Stale)?;
            let _ = s.set_nodelay(true);
            let _ = s.set_read_timeout(Some(Duration::from_secs(120)));
            self.stream = Some(s);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(Stale);
        };
        self.out.clear();
        // Writing into a Vec cannot fail.
        let _ = write!(
            self.out,
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            let _ = write!(self.out, "{k}: {v}\r\n");
        }
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
        self.inp.clear();
        stream.write_all(&self.out).map_err(|_| Stale)?;

        let mut chunk = [0u8; 16 * 1024];
        let (status, head_len, length, close) = loop {
            let n = stream.read(&mut chunk).map_err(|_| Stale)?;
            if n == 0 {
                return Err(Stale);
            }
            self.inp.extend_from_slice(&chunk[..n]);
            let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut r = httparse::Response::new(&mut hs);
            match r.parse(&self.inp) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let mut length = None;
                    let mut close = false;
                    for h in r.headers.iter() {
                        let v = std::str::from_utf8(h.value).unwrap_or("").trim();
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = v.parse::<usize>().ok();
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            close = v.eq_ignore_ascii_case("close");
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding")
                            && !v.eq_ignore_ascii_case("identity")
                        {
                            // Neither server under test answers chunked; refuse rather than misread.
                            return Err(Stale);
                        }
                    }
                    break (r.code.unwrap_or(0), head_len, length, close);
                }
                Ok(httparse::Status::Partial) => continue,
                Err(_) => return Err(Stale),
            }
        };
        match length {
            Some(len) => {
                while self.inp.len() < head_len + len {
                    let n = stream.read(&mut chunk).map_err(|_| Stale)?;
                    if n == 0 {
                        return Err(Stale);
                    }
                    self.inp.extend_from_slice(&chunk[..n]);
                }
                self.inp.truncate(head_len + len);
                if close {
                    self.stream = None;
                }
            }
            None => {
                // No length: the body runs to the end of the connection.
                stream.read_to_end(&mut self.inp).map_err(|_| Stale)?;
                self.stream = None;
            }
        }
        Ok((status, head_len))
    }
}

/// The exchange failed at the connection level (closed, reset, unparsable answer).
struct Stale;

/// `Conn::post`'s body as text, for error messages.
pub(crate) fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

#[cfg(test)]
#[path = "tests/bench_http.rs"]
mod tests;
