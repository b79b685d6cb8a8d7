//! A real server in-process and a small HTTP/1.1 client for the API tests:
//! hyper for well-formed requests, a raw socket for malformed ones.

use std::net::SocketAddr;
use std::time::Duration;

use engine_api::{ApiError, ApiService, ServeConfig};
use engine_core::{Error as CoreError, Scheduler, Session};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long one request may take before the test fails.
const REQUEST_DEADLINE: Duration = Duration::from_secs(20);

/// A running `engine_api::serve` on 127.0.0.1 and a running scheduler on the
/// same session.
pub(crate) struct Running {
    addr: SocketAddr,
    server: JoinHandle<Result<(), ApiError>>,
    scheduler: JoinHandle<Result<engine_core::scheduler::SchedulerStats, CoreError>>,
    stop_server: Option<oneshot::Sender<()>>,
    stop_scheduler: Option<oneshot::Sender<()>>,
}

impl Running {
    /// Serves `api` on a fresh port-0 listener and runs a scheduler on `session`.
    pub(crate) async fn start(session: &Session, api: ApiService) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let (stop_server, server_stopped) = oneshot::channel::<()>();
        let config = ServeConfig::default().with_shutdown_grace(Duration::from_secs(2));
        let server = tokio::spawn(engine_api::serve(listener, api, config, async move {
            let _ = server_stopped.await;
        }));
        let (stop_scheduler, scheduler_stopped) = oneshot::channel::<()>();
        let scheduler = Scheduler::new(session.clone());
        let scheduler = tokio::spawn(async move {
            scheduler
                .run(async move {
                    let _ = scheduler_stopped.await;
                })
                .await
        });
        Running {
            addr,
            server,
            scheduler,
            stop_server: Some(stop_server),
            stop_scheduler: Some(stop_scheduler),
        }
    }

    /// The server's address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops both gracefully and checks that neither failed.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.stop_scheduler.take() {
            let _ = stop.send(());
        }
        let served = tokio::time::timeout(REQUEST_DEADLINE, &mut self.server)
            .await
            .expect("the server drains in time")
            .expect("the server task did not panic");
        assert!(served.is_ok(), "serve failed: {served:?}");
        let scheduled = tokio::time::timeout(REQUEST_DEADLINE, &mut self.scheduler)
            .await
            .expect("the scheduler stops in time")
            .expect("the scheduler task did not panic");
        assert!(scheduled.is_ok(), "the scheduler failed: {scheduled:?}");
    }

    /// Ends both at once, as a crash would: no drain, no shutdown tasks.
    pub(crate) async fn kill(self) {
        self.server.abort();
        self.scheduler.abort();
        let _ = self.server.await;
        let _ = self.scheduler.await;
    }
}

/// One response: its status, headers and body (as text and as JSON, `Null`
/// when it is not JSON).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl Reply {
    /// A header's value as text ("" when absent).
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Sends one request on a new connection with hyper and reads the whole reply.
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        let connection = tokio::spawn(connection);
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = Request::builder()
            .method(method)
            .uri(target)
            .header("host", addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        drop(sender);
        connection.abort();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    };
    tokio::time::timeout(REQUEST_DEADLINE, exchange)
        .await
        .unwrap_or_else(|_| panic!("{target}: no reply within {REQUEST_DEADLINE:?}"))
}

/// Writes `request` as it is on a new connection (ignoring a write the server
/// cut short) and returns everything the server sent until it closed, as text.
pub(crate) async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        // The server may answer and close before the whole request is written.
        let _ = stream.write_all(request).await;
        let _ = stream.flush().await;
        let mut reply = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => reply.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    };
    tokio::time::timeout(REQUEST_DEADLINE, exchange)
        .await
        .expect("the server answers and closes")
}

/// The status code of a raw HTTP/1.1 reply (0 when there is none).
pub(crate) fn raw_status(reply: &str) -> u16 {
    reply
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Whether `actual` holds everything in `expected`: equal scalars, objects
/// whose every expected key holds (other keys may be there), arrays of the
/// same length whose items hold pairwise.
pub(crate) fn holds(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(got), Value::Object(want)) => want
            .iter()
            .all(|(key, value)| got.get(key).is_some_and(|g| holds(g, value))),
        (Value::Array(got), Value::Array(want)) => {
            got.len() == want.len() && got.iter().zip(want).all(|(g, w)| holds(g, w))
        }
        (got, want) => got == want,
    }
}
