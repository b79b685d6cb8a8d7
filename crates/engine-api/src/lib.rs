//! The runtime HTTP API of the engine (Red Engine compatible routes and JSON).

mod error;
mod respond;
mod router;

pub use crate::error::{ApiError, ErrorKind};
pub use crate::respond::ResponseBody;
pub use crate::router::{ROUTES, Resource, Route, RouteError, RouteSpec, Verb, route};
