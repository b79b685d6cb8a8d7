//! A raw HTTP/1.1 client for hostile requests: sends bytes exactly as given,
//! reads whatever comes back until the server closes, and splits it into
//! responses; a server that answers nothing and closes is an outcome too.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One response read off the wire.
#[derive(Debug, Clone)]
pub(super) struct Response {
    /// The status code.
    pub(super) status: u16,
    /// The head (status line and headers), as text.
    pub(super) head: String,
    /// The body bytes (by `Content-Length`; empty for a HEAD).
    pub(super) body: Vec<u8>,
}

impl Response {
    /// The value of header `name` (case-insensitive), if present.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Whether this is the API's JSON error shape: `application/json` and an
    /// object with an `error` string.
    pub(super) fn is_json_error(&self) -> bool {
        self.header("content-type") == Some("application/json")
            && self.json()["error"].as_str().is_some()
    }
}

/// What one exchange got.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    /// The responses, in order (empty: the server closed without answering).
    pub(super) responses: Vec<Response>,
    /// Whether the server closed the connection (EOF or reset) within the
    /// timeout; false when the read timed out with the connection still open.
    pub(super) closed: bool,
    /// Bytes after the last whole response (a response cut short).
    pub(super) trailing: usize,
    /// From the first byte sent to the close (or the timeout).
    pub(super) elapsed: Duration,
}

impl Reply {
    /// The statuses of the responses, in order.
    pub(super) fn statuses(&self) -> Vec<u16> {
        self.responses.iter().map(|r| r.status).collect()
    }

    /// The first response.
    pub(super) fn first(&self) -> Option<&Response> {
        self.responses.first()
    }

    /// A short description for failure messages.
    pub(super) fn describe(&self) -> String {
        let first = self.first().map_or(String::new(), |r| {
            let body = String::from_utf8_lossy(&r.body);
            let body = body.chars().take(300).collect::<String>();
            format!(" first: {:?} {body}", r.head.lines().next().unwrap_or(""))
        });
        format!(
            "statuses {:?}, closed {}, {} trailing bytes, {:?}{first}",
            self.statuses(),
            self.closed,
            self.trailing,
            self.elapsed
        )
    }
}

/// How a request is sent.
#[derive(Debug, Clone, Copy)]
pub(super) struct SendOptions {
    /// How long to wait for the server to close the connection.
    pub(super) timeout: Duration,
    /// Which requests of the bytes are HEAD requests, by position (their
    /// responses have no body whatever their `Content-Length`).
    pub(super) heads: &'static [usize],
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            timeout: Duration::from_secs(15),
            heads: &[],
        }
    }
}

/// Sends `request` to 127.0.0.1:`port` as is and reads until the server
/// closes or `send.timeout` passes. A write the server cuts short (it answered
/// early and closed) is not an error: what it answered is read.
///
/// # Panics
///
/// The connection cannot be made.
pub(super) fn exchange(port: u16, request: &[u8], send: SendOptions) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the engine");
    let started = Instant::now();
    let _ = stream.set_write_timeout(Some(send.timeout));
    // Written from another thread, so a server that answers before reading
    // everything (413, 431) is read while the rest is still being pushed.
    let writer = stream.try_clone().ok().map(|mut clone| {
        let bytes = request.to_vec();
        std::thread::spawn(move || {
            let _ = clone.write_all(&bytes);
        })
    });
    let (bytes, closed) = read_until_close(&mut stream, started + send.timeout);
    drop(stream);
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    let (responses, trailing) = split_responses(&bytes, send.heads);
    Reply {
        responses,
        closed,
        trailing,
        elapsed: started.elapsed(),
    }
}

/// Reads until EOF, a reset, or `deadline`; the bytes and whether the
/// connection ended (rather than the deadline passing).
pub(super) fn read_until_close(stream: &mut TcpStream, deadline: Instant) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return (bytes, false);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return (bytes, true),
            Ok(n) => bytes.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (bytes, false);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (bytes, true),
        }
    }
}

/// Splits `bytes` into whole responses (by `Content-Length`, none for the
/// HEAD requests at positions `heads`); also returns how many bytes were left
/// over after the last whole response.
pub(super) fn split_responses(bytes: &[u8], heads: &[usize]) -> (Vec<Response>, usize) {
    let mut responses = Vec::new();
    let mut rest = bytes;
    while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned();
        let Some(status) = head.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()) else {
            break;
        };
        let mut response = Response {
            status,
            head,
            body: Vec::new(),
        };
        let length = if heads.contains(&responses.len()) || status == 204 || status == 304 {
            0
        } else {
            response
                .header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let body_start = end + 4;
        let Some(body) = rest.get(body_start..body_start + length) else {
            break;
        };
        response.body = body.to_vec();
        responses.push(response);
        rest = rest.get(body_start + length..).unwrap_or_default();
    }
    (responses, rest.len())
}

/// A request: `method target`, the headers, `Connection: close`, and `body`
/// with its `Content-Length` (none when `body` is `None`).
pub(super) fn request(method: &str, target: &str, body: Option<&[u8]>) -> Vec<u8> {
    request_with(method, target, &[], body)
}

/// [`request`] with extra header lines (`Name: value`, without CRLF).
pub(super) fn request_with(
    method: &str,
    target: &str,
    headers: &[&str],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut bytes = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_bytes();
    for header in headers {
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"Connection: close\r\n");
    if let Some(body) = body {
        bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        bytes.extend_from_slice(body);
    } else {
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

/// `body` as chunked transfer coding, in chunks of `size`, with the last chunk
/// when `finish`.
pub(super) fn chunked(body: &[u8], size: usize, finish: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    for chunk in body.chunks(size.max(1)) {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    if finish {
        bytes.extend_from_slice(b"0\r\n\r\n");
    }
    bytes
}
