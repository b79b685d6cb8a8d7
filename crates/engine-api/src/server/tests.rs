//! Tests of `serve` over real loopback sockets (port 0): errors on the wire, the
//! header-read timeout, the connection cap, graceful shutdown, secure defaults.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use super::*;
use crate::BoxFuture;
use crate::auth::{AllowAll, AuthDecision, Authenticator, BearerTokens, RequestInfo, Scopes};
use crate::service::tests::fake_service;

/// A running server: its address, the shutdown trigger and its task.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ApiError>>,
}

impl Running {
    /// Triggers the shutdown and waits for `serve` to return.
    async fn stop(mut self) -> Result<(), ApiError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("serve does not panic")
    }
}

async fn start(service: ApiService, config: ServeConfig) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, service, config, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Reads one response: the status, the head, and the body (by Content-Length).
/// `None` when the connection closes before a whole head arrives.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(chunk.get(..read)?);
    };
    let head = String::from_utf8_lossy(buffer.get(..head_end)?).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer.get(head_end..)?.to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(chunk.get(..read)?);
    }
    Some((status, head, body))
}

/// Sends `request` on a new connection and reads one response.
async fn exchange(addr: SocketAddr, request: &[u8]) -> Option<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    stream.write_all(request).await.ok()?;
    read_response(&mut stream).await
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then_some(value.trim())
    })
}

#[tokio::test]
async fn errors_are_json_on_the_wire() {
    let (service, _) = fake_service(Arc::new(AllowAll), false);
    let server = start(service, ServeConfig::default()).await;
    let big_declared = b"POST /tasks/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n";
    let deep = format!("{{\"a\": {}{}}}", "[".repeat(50_000), "]".repeat(50_000));
    let deep_request = format!(
        "PATCH /parameters HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{deep}",
        deep.len()
    );
    let cases: [(&[u8], u16, Value, Option<&str>); 5] = [
        (
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
            404,
            json!({"error": "no route matches this path"}),
            None,
        ),
        (
            b"DELETE /logs HTTP/1.1\r\nHost: x\r\n\r\n",
            405,
            json!({"error": "this path does not allow this method, only GET, HEAD, OPTIONS", "allowed": ["GET", "HEAD", "OPTIONS"]}),
            Some("GET, HEAD, OPTIONS"),
        ),
        (
            big_declared,
            413,
            json!({"error": "the request body is larger than the limit of 1048576 bytes", "limit": 1_048_576}),
            None,
        ),
        (deep_request.as_bytes(), 400, Value::Null, None),
        (
            b"POST /tasks/a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"x\": 1}  ",
            200,
            json!({"name": "a", "x": 1}),
            None,
        ),
    ];
    for (request, status, body, allow) in cases {
        let (got, head, bytes) = exchange(server.addr, request).await.expect("a response");
        let text = String::from_utf8_lossy(request.get(..40).unwrap_or(request)).into_owned();
        assert_eq!(got, status, "{text}");
        assert_eq!(
            header(&head, "content-type"),
            Some("application/json"),
            "{text}"
        );
        assert_eq!(header(&head, "allow"), allow, "{text}");
        let got_body = json_of(&bytes);
        match body {
            Value::Null => assert!(
                got_body["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("recursion limit")),
                "{got_body}"
            ),
            body => assert_eq!(got_body, body, "{text}"),
        }
    }
    assert_eq!(server.stop().await.ok(), Some(()));
}

#[tokio::test]
async fn a_two_mebibyte_body_is_refused_with_413() {
    let (service, fake) = fake_service(Arc::new(AllowAll), false);
    let server = start(service, ServeConfig::default()).await;
    let body = format!("{{\"x\": \"{}\"}}", "a".repeat(2 << 20));
    // Chunked, so only the limited read can notice.
    let mut request =
        b"POST /tasks/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in body.as_bytes().chunks(64 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let stream = TcpStream::connect(server.addr).await.expect("connected");
    let (mut reader, mut writer) = stream.into_split();
    // The server stops reading at the limit; the rest of the write may fail.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut response = Vec::new();
    let _ = reader.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 413 "),
        "{}",
        text.get(..100).unwrap_or(&text)
    );
    assert!(
        text.contains("larger than the limit of 1048576 bytes"),
        "{text}"
    );
    assert!(text.contains("connection: close\r\n"), "{text}");
    drop(writing.await);
    assert!(fake.names().is_empty());
    assert!(fake.journal.lock().is_empty());
    assert_eq!(server.stop().await.ok(), Some(()));
}

#[tokio::test]
async fn keep_alive_serves_several_requests_and_head_has_no_body() {
    let (service, _) = fake_service(Arc::new(AllowAll), false);
    let server = start(service, ServeConfig::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connected");
    stream
        .write_all(b"POST /tasks/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        .await
        .expect("sent");
    let (status, _, body) = read_response(&mut stream).await.expect("first response");
    assert_eq!((status, json_of(&body)), (200, json!({"name": "a"})));
    stream
        .write_all(b"GET /session HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    let (status, head, body) = read_response(&mut stream).await.expect("second response");
    assert_eq!((status, json_of(&body)), (200, json!({"tasks": ["a"]})));
    let length = header(&head, "content-length").map(str::to_owned);

    stream
        .write_all(b"HEAD /session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("sent");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.expect("read");
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.starts_with("HTTP/1.1 200 OK\r\n"), "{rest}");
    assert!(
        rest.ends_with("\r\n\r\n"),
        "a HEAD response has no body: {rest}"
    );
    assert_eq!(header(&rest, "content-length").map(str::to_owned), length);
    assert_eq!(server.stop().await.ok(), Some(()));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let (service, _) = fake_service(Arc::new(AllowAll), false);
    let timeout = Duration::from_secs(10);
    let server = start(
        service,
        ServeConfig::default().with_header_read_timeout(timeout),
    )
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connected");
    let started = tokio::time::Instant::now();
    stream
        .write_all(b"GET /tasks HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("sent");
    let mut rest = Vec::new();
    let read = stream.read_to_end(&mut rest).await;
    assert!(read.is_ok() || rest.is_empty(), "{read:?}");
    assert!(
        !String::from_utf8_lossy(&rest).contains(" 200 "),
        "served a partial request"
    );
    let waited = started.elapsed();
    assert!(
        waited >= timeout && waited < timeout * 2,
        "closed after {waited:?}"
    );

    // A whole request on a fresh connection is still served.
    let (status, _, _) = exchange(server.addr, b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("a response");
    assert_eq!(status, 200);
    assert_eq!(server.stop().await.ok(), Some(()));
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_a_new_connection_closes_the_one_idle_the_longest() {
    let (service, _) = fake_service(Arc::new(AllowAll), false);
    let server = start(service, ServeConfig::default().with_max_connections(2)).await;
    // Idle the longest: connected, sent nothing.
    let mut silent = TcpStream::connect(server.addr).await.expect("connected");
    tokio::time::sleep(Duration::from_millis(10)).await;
    // Idle since its response: a keep-alive connection between requests.
    let mut kept = TcpStream::connect(server.addr).await.expect("connected");
    kept.write_all(b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    assert_eq!(read_response(&mut kept).await.map(|r| r.0), Some(200));

    // A third client is served at once, without waiting for a timeout...
    let started = tokio::time::Instant::now();
    let (status, _, _) = exchange(server.addr, b"GET /session HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("a response");
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    // ...because the silent connection was closed,
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    // while the kept one still serves.
    kept.write_all(b"GET /session HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    assert_eq!(read_response(&mut kept).await.map(|r| r.0), Some(200));
    assert_eq!(server.stop().await.ok(), Some(()));
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_with_every_connection_busy_a_new_one_waits() {
    let gate = Arc::new(Gate::default());
    let (service, _) = fake_service(gate.clone(), false);
    let server = start(service, ServeConfig::default().with_max_connections(1)).await;
    let mut busy = TcpStream::connect(server.addr).await.expect("connected");
    busy.write_all(b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    gate.entered.notified().await;

    // The second connection is accepted but not served while the first is busy.
    let mut second = TcpStream::connect(server.addr)
        .await
        .expect("connected (backlog)");
    second
        .write_all(b"GET /session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("sent");
    let waiting = tokio::time::timeout(Duration::from_secs(5), read_response(&mut second)).await;
    assert!(waiting.is_err(), "served beyond the cap: {waiting:?}");

    // The busy request finishes whole; then its connection, idle, makes room.
    gate.release.notify_one();
    let (status, _, body) = read_response(&mut busy).await.expect("the busy response");
    assert_eq!((status, json_of(&body)), (200, json!([])));
    let served = tokio::time::timeout(Duration::from_secs(1), read_response(&mut second)).await;
    assert_eq!(served.ok().flatten().map(|r| r.0), Some(200));
    let mut rest = Vec::new();
    let _ = busy.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert_eq!(server.stop().await.ok(), Some(()));
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_arrives_is_a_408_and_frees_the_slot() {
    let (service, fake) = fake_service(Arc::new(AllowAll), false);
    let timeout = Duration::from_secs(5);
    let config = ServeConfig::default()
        .with_max_connections(1)
        .with_body_read_timeout(timeout);
    let server = start(service, config).await;
    let stalled = [
        &b"POST /tasks/a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"[..],
        b"PATCH /parameters HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n",
    ];
    for request in stalled {
        let mut stream = TcpStream::connect(server.addr).await.expect("connected");
        let started = tokio::time::Instant::now();
        stream.write_all(request).await.expect("sent");
        let (status, head, body) = read_response(&mut stream).await.expect("a response");
        assert_eq!(status, 408, "{head}");
        assert_eq!(
            json_of(&body),
            json!({"error": "the request body did not arrive within 5 seconds", "timeout_seconds": 5.0})
        );
        assert_eq!(header(&head, "connection"), Some("close"), "{head}");
        assert!(started.elapsed() >= timeout);
        // The connection is closed, so the one slot is free again.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
        let (status, _, _) = exchange(server.addr, b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("a response");
        assert_eq!(status, 200);
    }
    assert!(fake.names().is_empty());
    assert!(fake.journal.lock().is_empty());
    assert_eq!(server.stop().await.ok(), Some(()));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_cut_off_and_frees_the_slot() {
    let (service, _) = fake_service(Arc::new(AllowAll), false);
    let timeout = Duration::from_secs(5);
    let config = ServeConfig::default()
        .with_max_connections(1)
        .with_write_timeout(timeout);
    let server = start(service.with_body_limit(16 << 20), config).await;
    // An 8 MB response, more than the socket buffers hold.
    let big = json!({"big": "x".repeat(8 << 20)}).to_string();
    let patch = format!(
        "PATCH /parameters HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{big}",
        big.len()
    );
    let (status, _, _) = exchange(server.addr, patch.as_bytes())
        .await
        .expect("a response");
    assert_eq!(status, 200);

    // Asked for, never read: the response stays in flight, so the connection
    // is busy and cannot be closed to make room; only the write timeout ends it.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stalled = socket.connect(server.addr).await.expect("connected");
    stalled
        .write_all(b"GET /parameters HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(100)).await;

    // With the one slot taken, a second client is served only once the server
    // has given up on the first.
    let started = tokio::time::Instant::now();
    let served = tokio::time::timeout(
        timeout * 20,
        exchange(
            server.addr,
            b"GET /session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
    )
    .await;
    assert_eq!(served.ok().flatten().map(|r| r.0), Some(200));
    let waited = started.elapsed();
    assert!(waited >= timeout - Duration::from_millis(100), "{waited:?}");
    // The stalled client gets part of the response, then the connection ends.
    let mut got = Vec::new();
    let _ = stalled.read_to_end(&mut got).await;
    assert!(got.len() < big.len(), "{} bytes", got.len());
    assert_eq!(server.stop().await.ok(), Some(()));
}

/// Holds requests to `/tasks` inside authentication until released.
#[derive(Default)]
struct Gate {
    entered: Notify,
    release: Notify,
}

impl Authenticator for Gate {
    fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
        Box::pin(async move {
            if request.path() == "/tasks" {
                self.entered.notify_one();
                self.release.notified().await;
            }
            AuthDecision::Allow
        })
    }
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_lets_requests_finish() {
    let gate = Arc::new(Gate::default());
    let (service, _) = fake_service(gate.clone(), false);
    let server = start(service, ServeConfig::default()).await;

    let mut idle = TcpStream::connect(server.addr).await.expect("connected");
    idle.write_all(b"GET /session HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    assert_eq!(read_response(&mut idle).await.map(|r| r.0), Some(200));

    let mut busy = TcpStream::connect(server.addr).await.expect("connected");
    busy.write_all(b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    gate.entered.notified().await;

    let Running { addr, stop, task } = server;
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
    // The idle keep-alive connection is closed at once.
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    // No new connection is accepted.
    assert!(TcpStream::connect(addr).await.is_err());
    assert!(!task.is_finished());

    // The request in flight finishes, and then serve returns.
    gate.release.notify_one();
    let (status, head, _) = read_response(&mut busy)
        .await
        .expect("the in-flight response");
    assert_eq!(status, 200);
    assert_eq!(header(&head, "connection"), Some("close"));
    assert_eq!(task.await.ok().map(|r| r.is_ok()), Some(true));
}

#[tokio::test(start_paused = true)]
async fn shutdown_gives_up_on_requests_after_the_grace() {
    let gate = Arc::new(Gate::default());
    let (service, _) = fake_service(gate.clone(), false);
    let grace = Duration::from_secs(5);
    let server = start(service, ServeConfig::default().with_shutdown_grace(grace)).await;
    let mut busy = TcpStream::connect(server.addr).await.expect("connected");
    busy.write_all(b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    gate.entered.notified().await;

    let started = tokio::time::Instant::now();
    assert_eq!(server.stop().await.ok(), Some(()));
    assert!(
        started.elapsed() >= grace,
        "returned after {:?}",
        started.elapsed()
    );
    let mut rest = Vec::new();
    let _ = busy.read_to_end(&mut rest).await;
    assert!(
        rest.is_empty(),
        "answered after the grace: {}",
        String::from_utf8_lossy(&rest)
    );
}

#[tokio::test]
async fn remote_addresses_need_authentication_or_an_explicit_choice() {
    let cases: [(Arc<dyn Authenticator>, bool, Option<ErrorKind>); 4] = [
        (Arc::new(AllowAll), false, Some(ErrorKind::Config)),
        (Arc::new(AllowAll), true, None),
        (
            Arc::new(BearerTokens::default().with_token("t", Scopes::ALL)),
            false,
            None,
        ),
        (Arc::new(crate::auth::LoopbackOnly), false, None),
    ];
    for (auth, allow, expected) in cases {
        let (service, _) = fake_service(auth, false);
        let listener = TcpListener::bind("0.0.0.0:0").await.expect("a port");
        let config = ServeConfig::default().allow_unauthenticated_remote(allow);
        let outcome = serve(listener, service, config, async {}).await;
        assert_eq!(
            outcome.as_ref().err().map(ApiError::kind),
            expected,
            "{outcome:?}"
        );
        if let Err(error) = outcome {
            assert!(
                error.message().starts_with("refusing to serve 0.0.0.0:"),
                "{error}"
            );
        }
    }
}

#[test]
fn configs_have_safe_defaults_and_a_floor() {
    let config = ServeConfig::default();
    assert_eq!(config.header_read_timeout(), Duration::from_secs(10));
    assert_eq!(config.max_connections(), 1024);
    assert_eq!(config.shutdown_grace(), Duration::from_secs(10));
    assert!(config.keep_alive());
    assert!(!config.allows_unauthenticated_remote());
    let config = config
        .with_max_connections(0)
        .with_keep_alive(false)
        .allow_unauthenticated_remote(true);
    assert_eq!(config.max_connections(), 1);
    assert!(!config.keep_alive() && config.allows_unauthenticated_remote());
}
