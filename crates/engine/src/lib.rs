//! engine: a scheduler whose tasks start when readable conditions hold.
//!
//! This crate is a table of contents: the core items at the root, the other
//! crates as modules.
//!
//! ```
//! let cond: engine::Condition = "daily & after task 'extract'".parse()?;
//! assert_eq!(cond.to_string(), "daily & after task 'extract'");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! - `api` (default): the runtime HTTP API, as [`api`].
//! - `cli` (default): the `engine` command line binary.

pub use engine_core::{
    Clock, Condition, Error, ErrorKind, ManualClock, SystemClock, clock, condition, log, time,
};
pub use engine_query as query;

#[cfg(feature = "api")]
pub use engine_api as api;
