//! [`ApiService`], the hyper service: route → authenticate → extract → handler → respond.
//!
//! # One request
//!
//! 1. **Route** the method and path ([`route`]); the outcome is kept, not yet answered.
//! 2. **Authenticate** with the scope the route needs (see [`crate::auth`]).
//!    This happens for every request, unknown paths included, so a client
//!    without credentials learns nothing, not even which paths exist.
//! 3. Answer a 404, 405 or 400 from routing; answer `OPTIONS` with `204` and `Allow`.
//! 4. **Reads** (`GET`, `HEAD`): parse the query string and ask the handler.
//! 5. **Changes** (`POST`, `PATCH`, `DELETE`): read the body (not for `DELETE`,
//!    whose body is ignored), then, one change at a time:
//!    the handler **prepares** the change (parses and validates it against the
//!    current session, changing nothing, and says which scope it needs); if that
//!    is more than the route's, the authenticator is asked again; the
//!    [`RequestStore`] **records** it; only then is it **applied**. A refusal at
//!    any step changes nothing. The change runs on a task of its own, so a client
//!    that disconnects cannot leave a change recorded but not applied.
//!
//! Every response is JSON (`Content-Type: application/json`); errors are
//! answered by [`ApiError::into_response`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use engine_core::Session;
use hyper::body::{Body, Bytes};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value};
use tracing::Instrument as _;

use crate::BoxFuture;
use crate::auth::{AllowAll, Authenticator, RequestInfo, Scope};
use crate::error::{ApiError, ErrorKind};
use crate::extract::{self, DEFAULT_BODY_LIMIT, Query};
use crate::handlers::SessionDispatch;
use crate::openapi;
use crate::respond::{self, ResponseBody};
use crate::router::{Resource, Route, Verb, route};
use crate::store::{Change, MemoryStore, RequestStore, StoredRequest};

#[cfg(test)]
pub(crate) mod tests;

/// What the HTTP layer needs from the session side, one method per step.
pub(crate) trait Dispatch: Send + Sync + 'static {
    /// Answers a read of `route` (never [`Resource::OpenApi`]) filtered by `query`.
    fn read(&self, route: &Route, query: &Query) -> Result<Value, ApiError>;

    /// Parses and validates a change of `route` with `body` (`None` for `DELETE`)
    /// against the current session, changing nothing.
    fn prepare(
        &self,
        route: &Route,
        body: Option<Map<String, Value>>,
    ) -> Result<Prepared, ApiError>;

    /// Applies a change (just recorded, or replayed) and returns the response body.
    fn apply<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<Value, ApiError>>;

    /// The change to apply again at replay for `stored`: the stored change
    /// without the one-off requests that were already served (see
    /// [`ApiService::replay`]). The default is the stored change as it is.
    fn replayed(&self, stored: &StoredRequest) -> Change {
        stored.change.clone()
    }
}

/// A validated change, ready to be recorded and applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prepared {
    /// What to record and apply.
    pub(crate) change: Change,
    /// What the change needs: more than the route's scope for code tasks.
    pub(crate) scope: Scope,
}

/// The API as a hyper service. Cheap to clone (shared handles).
///
/// A request is routed, then authenticated (always, unknown paths included),
/// then answered: reads from the session; changes are read (body through the
/// limit), validated against the session without changing it, authenticated
/// again if they need [`Scope::Code`], recorded in the [`RequestStore`] and only
/// then applied, one change at a time. A refusal at any step changes nothing.
/// A change runs on a task of its own, so a client that disconnects cannot
/// leave it recorded but not applied.
///
/// Built from the session side with [`ApiService::with_authenticator`],
/// [`ApiService::with_store`] and [`ApiService::with_body_limit`]; served by
/// [`serve`](crate::serve), or driven in-process with [`ApiService::handle`].
#[derive(Clone)]
pub struct ApiService {
    dispatch: Arc<dyn Dispatch>,
    auth: Arc<dyn Authenticator>,
    store: Arc<dyn RequestStore>,
    body_limit: usize,
    /// How long a body may take to arrive; set by [`serve`](crate::serve) from
    /// its [`ServeConfig`](crate::ServeConfig), none in-process.
    body_timeout: Option<Duration>,
    /// Held while a change is prepared, recorded and applied.
    changes: Arc<tokio::sync::Mutex<()>>,
    peer: Option<SocketAddr>,
}

/// How a replay went: how many stored changes were applied and skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplaySummary {
    /// Changes applied again.
    pub applied: usize,
    /// Of the applied changes, those applied without a one-off request they
    /// carried (`force_run` already served by a run, `force_termination`).
    pub adjusted: usize,
    /// Changes that no longer applied (logged at `warn`).
    pub skipped: usize,
}

impl ApiService {
    /// The API of `session`, with [`AllowAll`] (serve it on a loopback address
    /// only, or add an authenticator), a [`MemoryStore`] (changes do not survive
    /// a restart) and a body limit of [`DEFAULT_BODY_LIMIT`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use engine_api::{ApiService, BearerTokens, JsonLinesStore, Scopes};
    /// use engine_core::{Session, SystemClock};
    /// use engine_core::log::MemoryLogStore;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let session = Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock));
    /// let api = ApiService::new(session)
    ///     .with_authenticator(Arc::new(BearerTokens::default().with_token("s3cret", Scopes::ALL)))
    ///     .with_store(Arc::new(JsonLinesStore::open(dir.path().join("requests.jsonl"))?));
    /// assert_eq!(api.body_limit(), 1 << 20);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(session: Session) -> ApiService {
        ApiService::from_dispatch(Arc::new(SessionDispatch::new(session)))
    }

    /// A service over `dispatch` with [`AllowAll`], a [`MemoryStore`] and the
    /// default body limit.
    pub(crate) fn from_dispatch(dispatch: Arc<dyn Dispatch>) -> ApiService {
        ApiService {
            dispatch,
            auth: Arc::new(AllowAll),
            store: Arc::new(MemoryStore::default()),
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: None,
            changes: Arc::new(tokio::sync::Mutex::new(())),
            peer: None,
        }
    }

    /// The same service, deciding who may do what with `auth`.
    pub fn with_authenticator(self, auth: Arc<dyn Authenticator>) -> ApiService {
        ApiService { auth, ..self }
    }

    /// The same service, recording changes in `store`.
    pub fn with_store(self, store: Arc<dyn RequestStore>) -> ApiService {
        ApiService { store, ..self }
    }

    /// The same service, refusing bodies larger than `limit` bytes with 413.
    pub fn with_body_limit(self, limit: usize) -> ApiService {
        ApiService {
            body_limit: limit,
            ..self
        }
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Arc<dyn Authenticator> {
        &self.auth
    }

    /// The request store.
    pub fn store(&self) -> &Arc<dyn RequestStore> {
        &self.store
    }

    /// The body limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The same service, answering 408 when a request body has not fully
    /// arrived within `timeout` of its headers (needs a runtime with timers).
    pub(crate) fn with_body_timeout(self, timeout: Duration) -> ApiService {
        ApiService {
            body_timeout: Some(timeout),
            ..self
        }
    }

    /// The same service, for requests from `peer`.
    pub(crate) fn for_peer(&self, peer: Option<SocketAddr>) -> ApiService {
        ApiService {
            peer,
            ..self.clone()
        }
    }

    /// Applies every stored change again, in order; call it once at start-up,
    /// before the scheduler starts. A change that no longer applies (a 4xx: a
    /// task posted again under `task_pre_exist = raise`, a missing task
    /// patched or deleted) is logged at `warn` and skipped.
    ///
    /// Replay restores state, it does not repeat one-off requests:
    ///
    /// - `"force_run": true` in a `POST` or `PATCH` of a task is dropped when
    ///   the task has started a run since the change was stored (its latest
    ///   `run` record, under the target name or the new name of a rename, is
    ///   at or after the change's `at_ms`): that run consumed the request, so
    ///   the task does not run again after a restart. A task that had not run
    ///   yet is still forced.
    /// - `"force_termination": true` is always dropped: it asked to end a run of
    ///   the earlier process, which ended with it.
    ///
    /// `at_ms` is the wall-clock time of recording, so this compares rightly
    /// when the session's clock is the system clock (as in production).
    ///
    /// # Errors
    ///
    /// The store cannot be read, or applying a change fails on the server side
    /// (a 5xx); the changes before it stay applied.
    pub async fn replay(&self) -> Result<ReplaySummary, ApiError> {
        let requests = self.store.replay().await?;
        let _one_at_a_time = self.changes.lock().await;
        let mut summary = ReplaySummary::default();
        for request in &requests {
            let change = self.dispatch.replayed(request);
            let adjusted = change != request.change;
            match self.dispatch.apply(&change).await {
                Ok(_) => {
                    summary.applied += 1;
                    if adjusted {
                        tracing::debug!(
                            seq = request.seq,
                            target = change.target.as_deref().unwrap_or_default(),
                            "replayed a change without its one-off request, already served"
                        );
                        summary.adjusted += 1;
                    }
                }
                Err(error) if error.status().is_client_error() => {
                    tracing::warn!(
                        seq = request.seq,
                        resource = %request.change.resource,
                        method = %request.change.method,
                        target = request.change.target.as_deref().unwrap_or_default(),
                        error = %error,
                        "skipping a stored change that no longer applies"
                    );
                    summary.skipped += 1;
                }
                Err(error) => return Err(error),
            }
        }
        tracing::info!(
            applied = summary.applied,
            adjusted = summary.adjusted,
            skipped = summary.skipped,
            "replayed stored changes"
        );
        Ok(summary)
    }

    /// Answers one request. Never fails: every error is a JSON response.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let span = tracing::info_span!(
            "http.request",
            method = %parts.method,
            path = parts.uri.path(),
            route = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        async move {
            let response = match self.respond(parts, body).await {
                Ok(response) => response,
                Err(error) => error.into_response(),
            };
            tracing::Span::current().record("status", response.status().as_u16());
            response
        }
        .instrument(span)
        .await
    }

    async fn respond<B>(&self, parts: Parts, body: B) -> Result<Response<ResponseBody>, ApiError>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let routed = route(&parts.method, parts.uri.path());
        let found = routed.as_ref().ok();
        if let Some(found) = found {
            tracing::Span::current().record("route", found.spec().pattern());
        }
        let scope = found.map_or(Scope::Read, route_scope);
        self.authenticate(&parts, found, scope).await?;
        let found = routed?;
        match found.verb() {
            Verb::Options => Ok(respond::options(&found.spec().allow())),
            Verb::Get | Verb::Head => {
                let query = extract::query(parts.uri.query())?;
                let value = match found.resource() {
                    Resource::OpenApi => openapi::openapi_document().clone(),
                    // A log query may read a large durable log: off the async workers.
                    Resource::Logs => {
                        let dispatch = Arc::clone(&self.dispatch);
                        tokio::task::spawn_blocking(move || dispatch.read(&found, &query))
                            .await
                            .map_err(|join| {
                                ApiError::new(ErrorKind::Internal, "the log query failed")
                                    .with_source(join)
                            })??
                    }
                    _ => self.dispatch.read(&found, &query)?,
                };
                Ok(respond::json(StatusCode::OK, &value))
            }
            Verb::Post | Verb::Patch | Verb::Delete => {
                let body = match found.verb() {
                    Verb::Delete => None,
                    _ => Some(
                        extract::json_object(
                            &parts.headers,
                            body,
                            self.body_limit,
                            self.body_timeout,
                        )
                        .await?,
                    ),
                };
                // On a task of its own: a dropped connection must not cancel a
                // change between recording and applying it.
                let this = self.clone();
                let change =
                    tokio::spawn(async move { this.change(&parts, &found, body, scope).await });
                match change.await {
                    Ok(result) => result,
                    Err(join) => Err(ApiError::new(
                        ErrorKind::Internal,
                        "the change handler failed",
                    )
                    .with_source(join)),
                }
            }
        }
    }

    /// Prepares, authorizes, records and applies one change, one at a time.
    async fn change(
        &self,
        parts: &Parts,
        found: &Route,
        body: Option<Map<String, Value>>,
        granted: Scope,
    ) -> Result<Response<ResponseBody>, ApiError> {
        let _one_at_a_time = self.changes.lock().await;
        let prepared = self.dispatch.prepare(found, body)?;
        if prepared.scope > granted {
            self.authenticate(parts, Some(found), prepared.scope)
                .await?;
        }
        let stored = self.store.record(&prepared.change).await?;
        let value = self.dispatch.apply(&stored.change).await?;
        Ok(respond::json(StatusCode::OK, &value))
    }

    async fn authenticate(
        &self,
        parts: &Parts,
        found: Option<&Route>,
        scope: Scope,
    ) -> Result<(), ApiError> {
        let info = RequestInfo::new(&parts.method, parts.uri.path(), &parts.headers)
            .with_peer(self.peer)
            .with_route(found)
            .with_scope(scope);
        self.auth.authenticate(&info).await.into_result()
    }
}

impl std::fmt::Debug for ApiService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiService")
            .field("body_limit", &self.body_limit)
            .field("body_timeout", &self.body_timeout)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl<B> hyper::service::Service<Request<B>> for ApiService
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<ResponseBody>, Infallible>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(request).await) })
    }
}

/// The scope a route needs before its body is seen: read for reads, admin to
/// change the configuration, write for other changes.
pub(crate) fn route_scope(found: &Route) -> Scope {
    match (found.verb(), found.resource()) {
        (Verb::Get | Verb::Head | Verb::Options, _) => Scope::Read,
        (Verb::Patch, Resource::Configs) => Scope::Admin,
        _ => Scope::Write,
    }
}
