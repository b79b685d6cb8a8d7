//! The runtime HTTP API of the engine (Red Engine compatible routes and JSON).
//!
//! Not built yet: the router, handlers, `Authenticator` and `RequestStore` come
//! with the API issue. For now the crate only names the crates it builds on.
//!
//! ```
//! assert_eq!(engine_api::ROUTES.len(), 0);
//! ```

/// The route table (filled by the API work).
pub const ROUTES: &[&str] = &[];
