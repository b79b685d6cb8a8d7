//! Serving the API: [`serve`] accepts connections on a listener with a connection
//! cap, a header-read timeout and a graceful shutdown; [`ServeConfig`] holds the knobs.
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
    max_connections: usize,
    shutdown_grace: Duration,
    keep_alive: bool,
    allow_unauthenticated_remote: bool,
}

impl Default for ServeConfig {
    /// Headers within 10 s, at most 1024 connections, 10 s to drain at
    /// shutdown, keep-alive on, loopback only without authentication.
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
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
        let connection = http.serve_connection(TokioIo::new(stream), service.for_peer(Some(peer)));
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
