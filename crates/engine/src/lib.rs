//! engine: a scheduler whose tasks start when readable conditions hold
//! (`daily between 08:00 and 10:00 & after task 'extract'`), with a runtime
//! HTTP API to list, create, change, run and delete tasks while it runs.
//!
//! This crate is a table of contents: the core items (sessions, tasks,
//! conditions, the scheduler, clocks) at the root and in their modules,
//! [`query`] for the URL query language, and [`api`] for the HTTP API. It holds
//! no logic of its own; the `engine` binary (`engine run config.toml`) is built
//! from it with the `cli` feature.
//!
//! # A complete program
//!
//! Two Rust closures as tasks, the second one after the first and fed with its
//! return value, the scheduler, and the HTTP API on 127.0.0.1. Here the
//! scheduler stops once `load` has succeeded (its shut condition); without
//! [`Scheduler::with_shut_cond`] it runs until its shutdown future completes
//! (Ctrl-C, for example).
//!
//! ```
//! use std::sync::Arc;
//!
//! # #[cfg(feature = "api")]
//! use engine::api::{ApiService, ServeConfig, serve};
//! use engine::log::MemoryLogStore;
//! use engine::{Scheduler, Session, SystemClock, TaskKind};
//! use serde_json::json;
//!
//! # #[cfg(feature = "api")]
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let session = Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock));
//!
//!     // A blocking closure runs on a thread of its own; an async one as a tokio task.
//!     session.register_sync("extract", |_ctx| Ok(json!([1, 2, 3])));
//!     session.register_async("load", |ctx| async move {
//!         let rows = ctx.params.get("rows").cloned().unwrap_or_default();
//!         Ok(json!({ "loaded": rows }))
//!     });
//!
//!     let mut extract = session.default_spec("extract", TaskKind::Function { func: "extract".into() });
//!     extract.start_cond = "daily".parse()?;
//!     session.create_task(extract, None)?;
//!
//!     let mut load = session.default_spec("load", TaskKind::Function { func: "load".into() });
//!     load.start_cond = "after task 'extract'".parse()?;
//!     load.parameters.insert("rows".into(), json!({ "$return": "extract" }));
//!     session.create_task(load, None)?;
//!
//!     // The API on a loopback address (port 0: any free port; 5000 is the usual one).
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let api = ApiService::new(session.clone());
//!     let (stop_api, api_stop) = tokio::sync::oneshot::channel::<()>();
//!     let server = tokio::spawn(serve(listener, api, ServeConfig::default(), async {
//!         let _ = api_stop.await;
//!     }));
//!
//!     let scheduler = Scheduler::new(session.clone())
//!         .with_shut_cond("task 'load' has succeeded".parse()?);
//!     scheduler.run(std::future::pending::<()>()).await?;
//!
//!     let _ = stop_api.send(());
//!     server.await??;
//!     assert_eq!(session.returns()["load"], json!({ "loaded": [1, 2, 3] }));
//!     Ok(())
//! }
//! # #[cfg(not(feature = "api"))]
//! # fn main() {}
//! ```
//!
//! The same session can come from a config file instead: `engine run
//! tasks.toml` reads `[[tasks]]` with a `command`, `code` or `func`, and keeps
//! its log and every change made over HTTP in SQLite files (see the README).
//! The binary registers no functions, so a `func` task needs a program of its
//! own like the one above: register the function with
//! [`Session::register_sync`] or [`Session::register_async`], then create the
//! task in Rust or over HTTP (`POST /tasks/{name}` with `{"func": "name"}`).
//!
//! # Crate features
//!
//! Features are additive; the default is all of them.
//!
//! - `api`: the runtime HTTP API, as [`api`] (hyper 1.x, Red Engine compatible
//!   routes and JSON, pluggable `Authenticator` and `RequestStore`).
//! - `sqlite`: the durable task log `log::SqliteLogStore`.
//! - `cli`: the `engine` binary (`engine run`, `engine cond`); implies `api`
//!   and `sqlite`.
//!
//! Without features the crate is the core alone: conditions, time periods,
//! tasks, the session, the scheduler and in-memory task logs.

pub use engine_core::clock::SimulatedClock;
pub use engine_core::task::{
    CommandLine, Execution, RunError, RunResult, TaskContext, TaskKind, TaskSpec,
};
pub use engine_core::{
    Clock, Condition, Error, ErrorKind, ManualClock, Scheduler, Session, SystemClock, clock,
    condition, log, scheduler, session, task, time,
};
pub use engine_query as query;

#[cfg(feature = "api")]
pub use engine_api as api;
