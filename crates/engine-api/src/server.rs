//! Serving the API: [`serve`] accepts connections on a listener with a connection
//! cap, read and write timeouts and a graceful shutdown; [`ServeConfig`] holds the knobs.
//!
//! # Slow and stalled clients
//!
//! A connection holds one of the [`ServeConfig::max_connections`] slots, so a
//! client must not be able to keep one forever by doing nothing. At the cap, a
//! new connection closes the connection idle the longest (see `server/idle.rs`),
//! and three timeouts close stalled ones:
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
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, TryAcquireError};
use tokio::task::JoinSet;

use crate::error::{ApiError, ErrorKind};
use crate::router::{ROUTES, validate};
use crate::service::ApiService;

mod idle;
mod stall;
#[cfg(test)]
mod tests;

use self::idle::{Connections, Flushes, Tracked};
use self::stall::WriteStallGuard;

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

    /// Serves at most `max` connections at once (at least 1). Beyond it, a new
    /// connection closes the connection idle the longest, or, when all are
    /// answering requests, waits until one ends.
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
/// At [`ServeConfig::max_connections`], a new connection makes room by
/// closing the connection that has been idle the longest (no request being
/// answered: waiting for a request, or still receiving its headers), so
/// clients that connect and send nothing cannot lock others out; when every
/// connection is answering a request, the new one waits for a slot. An accept error (out of file descriptors ...) is logged and
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

    let table = Arc::new(Connections::default());
    let mut next_id: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
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
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(TryAcquireError::Closed) => break,
            Err(TryAcquireError::NoPermits) => {
                // Close the connection idle the longest, or, with every one
                // busy, the first to become idle; or take a slot that frees.
                let mut closing = false;
                let slot = loop {
                    if !closing {
                        closing = table.close_longest_idle();
                        if closing {
                            tracing::debug!(%peer, "at the connection cap: closing the connection idle the longest");
                        }
                    }
                    tokio::select! {
                        slot = Arc::clone(&slots).acquire_owned() => break Some(slot),
                        () = table.became_idle(), if !closing => {}
                        () = &mut shutdown => break None,
                    }
                };
                let Some(Ok(slot)) = slot else { break };
                slot
            }
        };
        next_id += 1;
        let id = next_id;
        let registered = table.open(id);
        let io = WriteStallGuard::new(TokioIo::new(stream), config.write_timeout);
        let io = Flushes::new(io, &table, id);
        let tracked = Tracked::new(service.for_peer(Some(peer)), &table, id);
        let connection = graceful.watch(http.serve_connection(io, tracked));
        let abort = connections.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(registered);
            drop(slot);
        });
        table.spawned(id, abort);
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
