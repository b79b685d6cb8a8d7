//! The engine's core: time periods, the condition language, and (later) tasks,
//! the session, the scheduler and the task log.
//!
//! The key design decision: a condition is a pure value. Parsing turns text into a
//! [`Condition`] tree once; evaluation takes its whole world (the clock reading,
//! the task log, the owner task, scheduler state, parameters) as an argument, so
//! the same tree can be checked in a scheduler, in a test on a simulated clock, or
//! from the command line.
//!
//! ```
//! use engine_core::Condition;
//!
//! let cond: Condition = "daily between 08:00 and 10:00 & after task 'extract'".parse()?;
//! assert_eq!(cond.to_string(), "daily between 08:00 and 10:00 & after task 'extract'");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod clock;
pub mod condition;
mod error;
pub mod log;
pub mod scheduler;
pub mod session;
pub mod task;
pub mod time;

pub use clock::{Clock, ManualClock, SystemClock};
pub use condition::Condition;
pub use error::{Error, ErrorKind};
pub use scheduler::Scheduler;
pub use session::Session;
