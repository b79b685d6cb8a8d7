//! The runtime HTTP API of the engine (Red Engine compatible routes and JSON).

use std::future::Future;
use std::pin::Pin;

mod auth;
mod error;
mod extract;
mod openapi;
mod respond;
mod router;
mod server;
mod service;
mod store;

pub use crate::auth::{AllowAll, AuthDecision, Authenticator, Basic, BearerTokens, LoopbackOnly, RequestInfo, Scope, Scopes};
pub use crate::error::{ApiError, ErrorKind};
pub use crate::extract::{DEFAULT_BODY_LIMIT, Query};
pub use crate::openapi::openapi_document;
pub use crate::respond::ResponseBody;
pub use crate::server::{ServeConfig, serve};
pub use crate::service::{ApiService, ReplaySummary};
pub use crate::store::{Change, JsonLinesStore, MemoryStore, RequestStore, SqliteRequestStore, StoredRequest};
pub use crate::router::{ROUTES, Resource, Route, RouteError, RouteSpec, Verb, route};

/// A boxed future that is `Send`, as the methods of the pluggable traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
