//! The runtime HTTP API of the engine: Red Engine compatible routes and JSON,
//! served by hyper 1.x with a hand-written router.
//!
//! # Endpoints
//!
//! | Path | Methods | What |
//! |---|---|---|
//! | `/tasks` | GET | the tasks matching the query, in session order |
//! | `/tasks/{name}` | GET, POST, PATCH, DELETE | one task: read, create, change, delete |
//! | `/task/{name}` | GET, POST, PATCH, DELETE | alias of `/tasks/{name}` (the original's documented path) |
//! | `/parameters` | GET, PATCH | the session parameters (PATCH merges) |
//! | `/returns` | GET, PATCH | the latest return value of each task (PATCH merges) |
//! | `/configs` | GET, PATCH | the session configuration |
//! | `/config` | GET, PATCH | alias of `/configs` |
//! | `/session` | GET | config, parameters, task names and returns at once |
//! | `/logs` | GET | the task log records matching the query |
//! | `/dependencies` | GET | the links between tasks found in their start conditions |
//! | `/openapi.json` | GET | the OpenAPI 3.0 document of this API |
//!
//! `HEAD` is answered wherever `GET` is, `OPTIONS` everywhere (`204` with
//! `Allow`). List endpoints filter with the query language of [`engine_query`]
//! (`?action=fail&timestamp$min=2021-01-01`). Every response is JSON; every
//! error is `{"error": "..."}` (plus `position` and a caret `detail` for bad
//! conditions, JSON and queries) with its status: 400 bad input, 401/403
//! authentication, 404 no such route or task, 405 method (with `Allow`), 408
//! body not sent in time, 409 name taken, 413 body too large, 500 only for
//! failures of the engine itself.
//!
//! # The key decisions
//!
//! - **A pure router over a static table** ([`ROUTES`], [`route`]): no
//!   framework, 404 and 405 told apart, aliases as extra rows, tested without
//!   sockets; the OpenAPI document is generated from the same table.
//! - **Changes are prepared, recorded, then applied, one at a time**: the body
//!   is validated against the session without changing it, the
//!   [`RequestStore`] records it (so with a durable store a 2xx means the change
//!   is on disk), and only then is it applied. At start-up
//!   [`ApiService::replay`] applies the stored changes again, in order.
//! - **Pluggable, dyn-compatible traits**: [`Authenticator`] decides per request
//!   with the [`Scope`] it needs (creating a command or code task needs
//!   [`Scope::Code`]); [`RequestStore`] keeps changes. Built-ins: [`AllowAll`],
//!   [`LoopbackOnly`], [`BearerTokens`], [`Basic`]; [`MemoryStore`],
//!   [`JsonLinesStore`], [`SqliteRequestStore`].
//! - **Secure by default**: [`serve`] refuses a non-loopback address without
//!   authentication unless told otherwise; bodies are capped (1 MiB), headers
//!   and bodies must arrive within timeouts, a response the client stops
//!   reading is abandoned, connections are capped, and shutdown drains.
//!
//! ```
//! use engine_api::{ApiError, Resource, Verb, route, openapi_document};
//! use hyper::Method;
//!
//! let found = route(&Method::DELETE, "/task/nightly%20backup").map_err(ApiError::from)?;
//! assert_eq!(found.resource(), Resource::Task);
//! assert_eq!(found.verb(), Verb::Delete);
//! assert_eq!(found.name(), Some("nightly backup"));
//!
//! let refused = ApiError::from(route(&Method::POST, "/logs").unwrap_err());
//! assert_eq!(refused.status().as_u16(), 405);
//! assert_eq!(refused.body()["allowed"], serde_json::json!(["GET", "HEAD", "OPTIONS"]));
//!
//! assert!(openapi_document()["paths"]["/task/{name}"]["patch"].is_object());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::future::Future;
use std::pin::Pin;

mod auth;
mod error;
mod extract;
mod handlers;
mod json;
mod openapi;
mod respond;
mod router;
mod server;
mod service;
mod store;

#[cfg(test)]
mod tests;

pub use crate::auth::{
    AllowAll, AuthDecision, Authenticator, Basic, BearerTokens, LoopbackOnly, RequestInfo, Scope,
    Scopes,
};
pub use crate::error::{ApiError, ErrorKind};
pub use crate::extract::{DEFAULT_BODY_LIMIT, Query};
pub use crate::openapi::openapi_document;
pub use crate::respond::ResponseBody;
pub use crate::router::{ROUTES, Resource, Route, RouteError, RouteSpec, Verb, route};
pub use crate::server::{ServeConfig, serve};
pub use crate::service::{ApiService, ReplaySummary};
pub use crate::store::{
    Change, JsonLinesStore, MemoryStore, RequestStore, SqliteRequestStore, StoredRequest,
};

/// A boxed future that is `Send`, as the methods of the pluggable traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
