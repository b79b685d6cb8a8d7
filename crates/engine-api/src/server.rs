//! Serving the API: [`serve`] accepts connections on a listener with a connection
//! cap, read and write timeouts and a graceful shutdown; [`ServeConfig`] holds the knobs.
//!
//! # Slow and stalled clients
//!
//! A connection holds one of the [`ServeConfig::max_connections`] slots, so a
//! client must not be able to keep one forever by doing nothing. Three timeouts
//! close such connections:
//!
//! - **headers**: a request's headers must all arrive within
//!   [`ServeConfig::header_read_timeout`] (also an idle keep-alive connection
//!   waiting for its next request, and a new connection that sends nothing);
//! - **body**: a request's body must all arrive within
//!   [`ServeConfig::body_read_timeout`] of its headers, else a 408 and the
//!   connection closes;
//! - **writes**: a response that makes no progress for
//!   [`ServeConfig::write_timeout`] (the client stopped reading) is abandoned
//!   and the connection closed.
//!
//! # Secure by default
//!
//! [`serve`] refuses to listen on an address other than a loopback one
//! (`127.0.0.0/8`, `::1`) when the service's authenticator lets unauthenticated
//! clients in ([`AllowAll`](crate::AllowAll), the default), unless
//! [`ServeConfig::allow_unauthenticated_remote`] says so explicitly: the API can
//! create tasks that run commands, so an open port must be a decision.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::{ApiError, ErrorKind};
use crate::router::{ROUTES, validate};
use crate::service::ApiService;

#[cfg(test)]
mod tests;

/// How [`serve`] serves: timeouts, the connection cap, the shutdown grace.
///
/// ```
/// use std::time::Duration;
/// use engine_api::ServeConfig;
///
/// let config = ServeConfig::default()
///     .with_max_connections(64)
///     .with_header_read_timeout(Duration::from_secs(5));
/// assert_eq!(config.max_connections(), 64);
/// assert!(!config.allows_unauthenticated_remote());
/// ```
#[derive(Debug, Clone)]
pub struct ServeConfig {
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    write_timeout: Duration,
    max_connections: usize,
    shutdown_grace: Duration,
    keep_alive: bool,
    allow_unauthenticated_remote: bool,
}

impl Default for ServeConfig {
    /// Headers within 10 s, a body within 30 s, no write stalled for more than
    /// 30 s, at most 1024 connections, 10 s to drain at shutdown, keep-alive on,
    /// loopback only without authentication.
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
            keep_alive: true,
            allow_unauthenticated_remote: false,
        }
    }
}

impl ServeConfig {
    /// Closes a connection whose request headers have not all arrived within
    /// `timeout` of waiting for them (slow clients, and idle keep-alive
    /// connections alike).
    pub fn with_header_read_timeout(self, timeout: Duration) -> Self {
        ServeConfig {
            header_read_timeout: timeout,
            ..self
        }
    }

    /// Answers 408 and closes the connection when a request body has not all
    /// arrived within `timeout` of the request's headers (a client that sends
    /// its body slowly, or never).
    pub fn with_body_read_timeout(self, timeout: Duration) -> Self {
        ServeConfig {
            body_read_timeout: timeout,
            ..self
        }
    }

    /// Closes a connection whose response has made no progress for `timeout`
    /// (a client that stopped reading while the response fills its buffers).
    pub fn with_write_timeout(self, timeout: Duration) -> Self {
        ServeConfig {
            write_timeout: timeout,
            ..self
        }
    }

    /// Serves at most `max` connections at once (at least 1); beyond it, new
    /// connections wait in the listen backlog until one closes.
    pub fn with_max_connections(self, max: usize) -> Self {
        ServeConfig {
            max_connections: max.max(1),
            ..self
        }
    }

    /// At shutdown, lets requests in flight finish for at most `grace`, then
    /// closes their connections.
    pub fn with_shutdown_grace(self, grace: Duration) -> Self {
        ServeConfig {
            shutdown_grace: grace,
            ..self
        }
    }

    /// Whether a connection may carry several requests (HTTP/1.1 keep-alive).
    pub fn with_keep_alive(self, keep_alive: bool) -> Self {
        ServeConfig { keep_alive, ..self }
    }

    /// Whether to serve a non-loopback address with an authenticator that lets
    /// unauthenticated clients in. Off by default.
    pub fn allow_unauthenticated_remote(self, allow: bool) -> Self {
        ServeConfig {
            allow_unauthenticated_remote: allow,
            ..self
        }
    }

    /// The header-read timeout.
    pub fn header_read_timeout(&self) -> Duration {
        self.header_read_timeout
    }

    /// The body-read timeout.
    pub fn body_read_timeout(&self) -> Duration {
        self.body_read_timeout
    }

    /// The write-stall timeout.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// The connection cap.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The shutdown grace.
    pub fn shutdown_grace(&self) -> Duration {
        self.shutdown_grace
    }

    /// Whether keep-alive is on.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Whether an unauthenticated non-loopback address is allowed.
    pub fn allows_unauthenticated_remote(&self) -> bool {
        self.allow_unauthenticated_remote
    }
}

/// Serves `service` on `listener` until `shutdown` completes, then drains.
///
/// Connections beyond [`ServeConfig::max_connections`] are not accepted until a
/// slot frees. An accept error (out of file descriptors ...) is logged and
/// retried after a short pause. When `shutdown` completes, the listener is
/// closed, idle connections are closed, and requests in flight get
/// [`ServeConfig::shutdown_grace`] to finish; then `serve` returns.
///
/// # Errors
///
/// [`ErrorKind::Config`] before serving anything when the address is not a
/// loopback one, the authenticator lets unauthenticated clients in
/// ([`Authenticator::guards_remote_access`](crate::Authenticator::guards_remote_access)
/// is false, as for [`AllowAll`](crate::AllowAll)) and
/// [`ServeConfig::allow_unauthenticated_remote`] is not set: the API can create
/// tasks that run commands, so an open port must be a decision. Also when the
/// route table is invalid.
/// [`ErrorKind::Io`] when the listener's address cannot be read.
pub async fn serve(
    listener: TcpListener,
    service: ApiService,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ApiError> {
    validate(ROUTES).map_err(|problem| ApiError::new(ErrorKind::Config, problem))?;
    let local = listener.local_addr().map_err(|e| {
        ApiError::new(ErrorKind::Io, "cannot read the listener's address").with_source(e)
    })?;
    if !local.ip().to_canonical().is_loopback()
        && !service.authenticator().guards_remote_access()
        && !config.allow_unauthenticated_remote
    {
        return Err(ApiError::new(
            ErrorKind::Config,
            format!(
                "refusing to serve {local} without authentication: anyone who can reach it could run \
                 commands; configure an authenticator, listen on 127.0.0.1, or allow unauthenticated \
                 remote access explicitly"
            ),
        ));
    }

    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(config.keep_alive);
    let service = service.with_body_timeout(config.body_read_timeout);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tracing::info!(address = %local, "serving the API");

    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let io = WriteStallGuard::new(TokioIo::new(stream), config.write_timeout);
        let connection = http.serve_connection(io, service.for_peer(Some(peer)));
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(slot);
        });
    }

    drop(listener);
    tracing::info!(in_flight = graceful.count(), "shutting the API down");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("the API is shut down"),
        () = tokio::time::sleep(config.shutdown_grace) => {
            tracing::warn!(grace = ?config.shutdown_grace, "requests still in flight after the grace period; closing");
        }
    }
    connections.shutdown().await;
    Ok(())
}

/// A connection's I/O that fails a write or flush which has made no progress
/// for `timeout`: hyper then ends the connection, freeing its slot, instead of
/// waiting forever on a client that stopped reading.
struct WriteStallGuard<T> {
    inner: T,
    timeout: Duration,
    /// Armed when a write first pends; disarmed by any progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> WriteStallGuard<T> {
    fn new(inner: T, timeout: Duration) -> Self {
        WriteStallGuard {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Passes on a write's outcome; a pending write arms (or checks) the timer.
    fn guard<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<std::io::Result<R>>,
    ) -> Poll<std::io::Result<R>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the client read nothing of the response for {timeout:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for WriteStallGuard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for WriteStallGuard<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.guard(cx, polled)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.guard(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.guard(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.guard(cx, polled)
    }
}
