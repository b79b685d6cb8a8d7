//! Which connections are idle: [`Connections`] counts the requests in flight
//! on each connection, so that at the connection cap the one idle the longest
//! can be closed to make room for a new one.
//!
//! A connection is **idle** when no request of it is being answered: it is
//! waiting for its first request, between two keep-alive requests, or in the
//! middle of receiving a request's headers (a slow or stalled client). A
//! request counts as in flight from the moment hyper hands it to the service
//! (its headers are all in) until its response has been written to the socket
//! whole (hyper flushes the connection's I/O once its write buffer is empty;
//! [`Flushes`] reports that). Closing an idle connection loses nothing that was
//! accepted: its client at worst sees the connection close before its next
//! request, as with any keep-alive timeout.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::BoxFuture;
use crate::respond::ResponseBody;
use crate::service::ApiService;

/// The connections being served, by id.
#[derive(Default)]
pub(super) struct Connections {
    table: Mutex<HashMap<u64, State>>,
    /// Notified when a connection becomes idle.
    became_idle: Notify,
}

/// One connection's state.
struct State {
    /// Requests being answered.
    in_flight: usize,
    /// A response has been handed to hyper but not yet flushed to the socket.
    draining: bool,
    /// Since when no request has been in flight (the connection's start at first).
    idle_since: Instant,
    /// Ends the connection's task; `None` until it is spawned.
    abort: Option<AbortHandle>,
}

impl Connections {
    /// Registers a new connection `id`, idle from now; the returned guard
    /// unregisters it when dropped (when the connection's task ends or is aborted).
    pub(super) fn open(self: &Arc<Self>, id: u64) -> Registered {
        self.table.lock().insert(
            id,
            State {
                in_flight: 0,
                draining: false,
                idle_since: Instant::now(),
                abort: None,
            },
        );
        Registered {
            connections: Arc::clone(self),
            id,
        }
    }

    /// Tells how to end connection `id`, once its task is spawned (a task that
    /// has already ended stays unregistered).
    pub(super) fn spawned(&self, id: u64, abort: AbortHandle) {
        if let Some(state) = self.table.lock().get_mut(&id) {
            state.abort = Some(abort);
        }
    }

    /// Ends the connection idle the longest, if any is idle; returns whether
    /// one was. Its slot frees as soon as its task is dropped.
    pub(super) fn close_longest_idle(&self) -> bool {
        let mut table = self.table.lock();
        let oldest = table
            .iter()
            .filter(|(_, state)| state.is_idle() && state.abort.is_some())
            .min_by_key(|(_, state)| state.idle_since)
            .map(|(id, _)| *id);
        let Some(state) = oldest.and_then(|id| table.remove(&id)) else {
            return false;
        };
        drop(table);
        if let Some(abort) = state.abort {
            abort.abort();
        }
        true
    }

    /// Waits until some connection becomes idle (or has become idle since the
    /// last wait).
    pub(super) async fn became_idle(&self) {
        self.became_idle.notified().await;
    }

    fn begin(&self, id: u64) {
        if let Some(state) = self.table.lock().get_mut(&id) {
            state.in_flight += 1;
        }
    }

    /// A response of `id` has been handed over: idle once it is flushed.
    fn end(&self, id: u64) {
        if let Some(state) = self.table.lock().get_mut(&id) {
            state.in_flight = state.in_flight.saturating_sub(1);
            state.draining = true;
        }
    }

    /// The I/O of `id` has flushed everything hyper wrote.
    fn flushed(&self, id: u64) {
        let mut table = self.table.lock();
        let Some(state) = table.get_mut(&id) else {
            return;
        };
        if state.draining && state.in_flight == 0 {
            state.draining = false;
            state.idle_since = Instant::now();
            drop(table);
            self.became_idle.notify_one();
        }
    }
}

impl State {
    fn is_idle(&self) -> bool {
        self.in_flight == 0 && !self.draining
    }
}

/// Unregisters a connection when dropped.
pub(super) struct Registered {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.connections.table.lock().remove(&self.id);
    }
}

/// A request in flight on a connection, until dropped.
struct InFlight {
    connections: Arc<Connections>,
    id: u64,
}

impl InFlight {
    fn new(connections: &Arc<Connections>, id: u64) -> InFlight {
        connections.begin(id);
        InFlight {
            connections: Arc::clone(connections),
            id,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.connections.end(self.id);
    }
}

/// The service of one connection: [`ApiService`], counting its requests in flight.
#[derive(Clone)]
pub(super) struct Tracked {
    service: ApiService,
    connections: Arc<Connections>,
    id: u64,
}

impl Tracked {
    /// `service` for connection `id` of `connections`.
    pub(super) fn new(service: ApiService, connections: &Arc<Connections>, id: u64) -> Tracked {
        Tracked {
            service,
            connections: Arc::clone(connections),
            id,
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<TrackedBody>, Infallible>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::new(&self.connections, self.id);
        let service = self.service.clone();
        Box::pin(async move {
            let response = service.handle(request).await;
            Ok(response.map(|body| TrackedBody {
                body,
                in_flight: Some(in_flight),
            }))
        })
    }
}

/// A response body that keeps its request in flight until it is all handed over.
pub(super) struct TrackedBody {
    body: ResponseBody,
    in_flight: Option<InFlight>,
}

impl Body for TrackedBody {
    type Data = <ResponseBody as Body>::Data;
    type Error = <ResponseBody as Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            this.in_flight = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's I/O that reports each completed flush to [`Connections`]:
/// hyper flushes once its write buffer is empty, so after a completed flush
/// every response handed over so far is in the socket.
pub(super) struct Flushes<T> {
    io: T,
    connections: Arc<Connections>,
    id: u64,
}

impl<T> Flushes<T> {
    /// `io` of connection `id`.
    pub(super) fn new(io: T, connections: &Arc<Connections>, id: u64) -> Flushes<T> {
        Flushes {
            io,
            connections: Arc::clone(connections),
            id,
        }
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for Flushes<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for Flushes<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_flush(cx);
        if matches!(polled, Poll::Ready(Ok(()))) {
            this.connections.flushed(this.id);
        }
        polled
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
