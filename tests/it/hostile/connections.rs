//! Hostile use of HTTP and of connections: unknown methods, protocol versions,
//! pipelining, broken request lines and headers; slow clients cut off by the
//! header and body timeouts, a client that stops reading cut off by the write
//! timeout, and many idle connections that must not lock others out.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use engine_tests::par_map;
use serde_json::json;

use super::raw::{self, request_with};
use super::{Case, Expect, config, error_case, full, report, snapshot, start};

/// Methods the API does not answer, protocol versions, pipelining, broken
/// request lines and headers.
pub(super) fn protocol_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (method, target, status) in [
        ("BREW", "/tasks", 405),
        ("PROPFIND", "/tasks/extract", 405),
        ("TRACE", "/tasks", 405),
        ("PUT", "/tasks/extract", 405),
        ("get", "/tasks", 405),
        ("POST", "/tasks", 405),
        ("DELETE", "/logs", 405),
        ("PATCH", "/session", 405),
        ("POST", "/openapi.json", 405),
        ("BREW", "/coffee", 404),
    ] {
        cases.push(error_case(status, method, target, None));
    }
    let mut plain = |label: &str, bytes: &[u8], expect: Expect| {
        cases.push(Case::new(label, bytes.to_vec(), expect));
    };
    plain(
        "HTTP/1.0 GET",
        b"GET /tasks HTTP/1.0\r\n\r\n",
        Expect::StatusOrClose(&[200]),
    );
    plain(
        "HTTP/1.0 POST without Content-Length",
        b"POST /tasks/hostile HTTP/1.0\r\n\r\n{\"command\": \"true\"}",
        Expect::Error(400),
    );
    plain(
        "three pipelined requests",
        b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n\
          DELETE /logs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Expect::Statuses(vec![200, 404, 405]),
    );
    plain(
        "pipelined: a refused change, then a read",
        b"PATCH /parameters HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{\
          GET /parameters HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Expect::Statuses(vec![400, 200]),
    );
    plain(
        "no Host header",
        b"GET /tasks HTTP/1.1\r\nConnection: close\r\n\r\n",
        Expect::StatusOrClose(&[200, 400]),
    );
    for (label, bytes) in [
        ("HTTP/2.0 request line", &b"GET /tasks HTTP/2.0\r\n\r\n"[..]),
        ("HTTP/9.9", b"GET /tasks HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("no version", b"GET /tasks\r\n\r\n"),
        ("garbage line", b"GARBAGE\r\n\r\n"),
        (
            "a control byte in the method",
            b"G\x01T /tasks HTTP/1.1\r\n\r\n",
        ),
        (
            "a TLS client hello",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
        ),
        ("the HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        (
            "OPTIONS *",
            b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        (
            "CONNECT",
            b"CONNECT x:1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        (
            "a header name with a space",
            b"GET /tasks HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ),
        (
            "a NUL in a header",
            b"GET /tasks HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        ),
        ("a bare LF line", b"GET /tasks HTTP/1.1\nHost: x\n\n"),
        (
            "obsolete line folding",
            b"GET /tasks HTTP/1.1\r\nX: a\r\n b\r\nConnection: close\r\n\r\n",
        ),
        ("only line breaks", b"\r\n\r\n\r\n"),
    ] {
        plain(
            label,
            bytes,
            Expect::StatusOrClose(&[200, 400, 404, 405, 431, 505]),
        );
    }
    let mut many = b"GET /tasks HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..300 {
        many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    plain("300 headers", &many, Expect::StatusOrClose(&[431]));
    let mut long = b"GET /tasks HTTP/1.1\r\nHost: x\r\nX-Long: ".to_vec();
    long.extend_from_slice(&vec![b'a'; 1 << 20]);
    long.extend_from_slice(b"\r\n\r\n");
    plain("a 1 MiB header", &long, Expect::StatusOrClose(&[431]));
    plain(
        "a bad bearer token without auth configured",
        &request_with(
            "GET",
            "/tasks/no-such",
            &["Authorization: Bearer \u{1}"],
            None,
        ),
        Expect::StatusOrClose(&[400, 404]),
    );
    cases
}

/// Reads one response on `stream`, waiting at most `timeout` for the server
/// to answer and close; `None` when it closed without answering.
fn answer(stream: &mut TcpStream, timeout: Duration) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let (bytes, _) = raw::read_until_close(stream, started + timeout);
    let (responses, _) = raw::split_responses(&bytes, &[]);
    (responses.first().map(|r| r.status), started.elapsed())
}

#[test]
fn slow_clients_are_cut_off_by_the_header_and_body_timeouts() {
    // One connection slot: a client holding it blocks everyone else, so each
    // check below would hang without the timeout it is about.
    let (server, _dir) = start(&config("max_connections = 1"));
    let before = snapshot(&server);
    let limit = Duration::from_secs(10);
    let connect = || TcpStream::connect(("127.0.0.1", server.port)).expect("connect");

    // Headers that never end: closed without an answer after header_timeout.
    let mut slow = connect();
    slow.write_all(b"GET /tasks HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("send");
    let (status, waited) = answer(&mut slow, limit);
    assert_eq!(status, None);
    assert!(
        waited >= Duration::from_millis(900) && waited < limit,
        "{waited:?}"
    );

    // A connection that sends nothing at all.
    let mut silent = connect();
    let (status, waited) = answer(&mut silent, limit);
    assert_eq!(status, None);
    assert!(waited < limit, "{waited:?}");

    // Headers sent a byte at a time, never finished.
    let mut trickle = connect();
    let started = Instant::now();
    let mut cut_off = false;
    for byte in b"GET /tasks HTTP/1.1\r\nHost: x\r\nX-Trickle: "
        .iter()
        .cycle()
    {
        if trickle.write_all(&[*byte]).is_err() {
            cut_off = true;
            break;
        }
        if started.elapsed() > limit {
            break;
        }
        // A slow client's pace, not a wait for the server.
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        cut_off,
        "a trickling client was not cut off within {limit:?}"
    );

    // A body that never arrives, whole or chunked: 408 after body_timeout.
    for request in [
        &b"POST /tasks/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"command\""[..],
        b"PATCH /parameters HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n",
    ] {
        let mut stalled = connect();
        stalled.write_all(request).expect("send");
        let (status, waited) = answer(&mut stalled, limit);
        assert_eq!(status, Some(408), "{}", String::from_utf8_lossy(request));
        assert!(waited < limit, "{waited:?}");
    }

    assert_eq!(snapshot(&server), before);
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_client_that_stops_reading_is_cut_off_by_the_write_timeout() {
    let (server, _dir) = start(&config("max_connections = 1\nbody_limit = 16777216"));
    let limit = Duration::from_secs(10);
    let big = json!({"big": "x".repeat(8 << 20)});
    let (status, _) = server.http("PATCH", "/parameters", Some(&big));
    assert_eq!(status, 200);
    let (status, _) = server.http("GET", "/tasks", None);
    assert_eq!(status, 200);

    // Asks for an 8 MB response (far more than the socket buffers hold) and
    // never reads it: the connection stays busy, so with the one slot taken a
    // normal request is served only once the server gives up on it.
    let mut stalled = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stalled
        .write_all(b"GET /parameters HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let started = Instant::now();
    let served = engine_tests::try_http(server.port, "GET", "/tasks", None, limit * 3);
    assert_eq!(
        served.as_ref().map(|(s, _)| *s).ok(),
        Some(200),
        "{served:?}"
    );
    assert!(started.elapsed() < limit * 2, "{:?}", started.elapsed());
    let (bytes, closed) = raw::read_until_close(&mut stalled, Instant::now() + limit);
    assert!(closed, "the stalled connection is still open");
    assert!(bytes.len() < 8 << 20, "all {} bytes arrived", bytes.len());
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Opens `count` idle connections (connected, nothing sent), scaled down to
/// what the open-file limit allows; returns them and the count asked for.
fn idle_connections(port: u16, count: usize) -> Vec<TcpStream> {
    let allowed = open_file_limit().map_or(count, |limit| {
        // Both ends of each connection are in processes with this limit
        // (the engine inherits it); keep room for everything else.
        usize::try_from(limit.saturating_sub(256) / 2).unwrap_or(count)
    });
    let count = count.min(allowed);
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => streams.push(stream),
            Err(error) => {
                report(&format!(
                    "stopped opening idle connections at {}: {error}",
                    streams.len()
                ));
                break;
            }
        }
    }
    streams
}

/// The soft limit on open files of this process (Linux), if it can be read.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[test]
fn idle_connections_do_not_lock_out_normal_requests() {
    let full = full();
    // Idle connections are cut off only at the header timeout of 30 s here, so
    // only the cap's making room can let normal requests through quickly.
    let (cap, idle) = if full { (1024, 2000) } else { (32, 300) };
    let extra = format!("max_connections = {cap}");
    let config = config(&extra).replace(
        "header_timeout = \"1 second\"",
        "header_timeout = \"30 seconds\"",
    );
    let (server, _dir) = start(&config);
    let before = snapshot(&server);
    let started = Instant::now();
    let streams = idle_connections(server.port, idle);
    let opened = started.elapsed();

    // Normal requests, from a few threads at once, are all served promptly.
    let port = server.port;
    let requests: Vec<usize> = (0..if full { 200 } else { 40 }).collect();
    let latencies = par_map(&requests, 4, |i| {
        let path = if i % 2 == 0 {
            "/tasks"
        } else {
            "/logs?action=run"
        };
        let sent = Instant::now();
        let outcome = engine_tests::try_http(port, "GET", path, None, Duration::from_secs(25));
        (outcome.map(|(status, _)| status), sent.elapsed())
    });
    let failed: Vec<_> = latencies
        .iter()
        .filter(|(outcome, _)| outcome.as_ref().ok() != Some(&200))
        .collect();
    let mut times: Vec<Duration> = latencies.iter().map(|(_, t)| *t).collect();
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let slowest = times.last().copied().unwrap_or_default();
    report(&format!(
        "{} idle connections (cap {cap}) opened in {opened:.1?}; {} normal requests: {} failed, \
         median {median:.1?}, slowest {slowest:.1?}",
        streams.len(),
        requests.len(),
        failed.len()
    ));
    assert!(failed.is_empty(), "{failed:?}");
    // Without making room, they would wait for the 30 s header timeout.
    assert!(
        slowest < Duration::from_secs(15),
        "slowest normal request {slowest:?}"
    );
    drop(streams);
    assert_eq!(snapshot(&server), before);
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
