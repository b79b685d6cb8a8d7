//! Tasks: what a task is (its definition), what kind of body it runs, how it
//! runs, and its state derived from the log.
//!
//! OWNED BY THE TASK WORK (scheduler issue). The types below are the contract the
//! session/scheduler work is written against; add to them, do not rename.
//!
//! # Running one run
//!
//! [`execute`] runs one run of a task, given a [`RunRequest`], and says how it
//! ended ([`RunOutcome`]). It never panics and never leaves a process behind:
//!
//! * **Function tasks** ([`TaskKind::Function`]) call the registered [`TaskFn`]
//!   with a [`TaskContext`]. A blocking function runs inline on the calling thread
//!   ([`Execution::Main`]) or on a dedicated OS thread named after the task
//!   ([`Execution::Thread`]); an async function is awaited inline
//!   ([`Execution::Main`]) or spawned as a tokio task ([`Execution::Async`]). A
//!   panic in the function ends the run as `Fail("panicked: <message>")`.
//! * **Command tasks** ([`TaskKind::Command`]) run a program with its arguments
//!   (no shell) or a line for `sh -c`; **code tasks** ([`TaskKind::Code`]) write
//!   the code to a private temporary file and run `<lang> <file>` (`python3`
//!   unless said otherwise; any interpreter on `PATH`). Either way the child runs
//!   in a process group of its own with stdin from `/dev/null`; the last
//!   [`OUTPUT_TAIL`] bytes of its stdout and stderr are kept. Exit status 0 is a
//!   success; anything else a failure whose text is `exit status N` (or `killed by
//!   signal N (SIGNAME)`) followed by the tail of stderr. The run owns its process
//!   group: whatever is still in it when the main process exits is killed.
//!
//! # Parameters and the return value of command and code tasks
//!
//! A child process inherits the engine's environment, then the task's own `env`,
//! then gets the run's parameters in these variables:
//!
//! | variable | value |
//! |---|---|
//! | `ENGINE_TASK` | the task's name |
//! | `ENGINE_PARAMS` | all parameters as one JSON object |
//! | `ENGINE_PARAM_<NAME>` | one parameter: a string as it is, any other JSON value as JSON text (`3`, `true`, `null`, `[1,2]`) |
//! | `ENGINE_RETURN_FILE` | the path of a fresh, empty file for the return value |
//!
//! `<NAME>` is the parameter's name in ASCII upper case with every character
//! other than `A-Z`, `0-9` and `_` replaced by `_` (`max-rows` becomes
//! `ENGINE_PARAM_MAX_ROWS`). Two names that map to the same variable leave the
//! later one (in name order) in the variable; `ENGINE_PARAMS` always has both.
//! These variables win over the task's own `env`.
//!
//! To return a value the child writes JSON to `$ENGINE_RETURN_FILE`; it is read
//! after a successful exit. Text that is not JSON is returned as a JSON string
//! (without its trailing line break); an empty file (or one the child removed)
//! returns `null`, which stores nothing. A file larger than [`MAX_RETURN_BYTES`]
//! fails the run. Standard output is not the return value; it is only logged
//! (at `debug`).
//!
//! ```sh
//! # A shell command task that counts rows and returns the count.
//! n=$(wc -l < "$ENGINE_PARAM_FILE")
//! echo "{\"rows\": $n}" > "$ENGINE_RETURN_FILE"
//! ```
//!
//! # Cancellation
//!
//! [`RunRequest::cancel`] asks the run to stop (end condition, timeout, request,
//! shutdown). A run whose token is already cancelled does not start and ends
//! [`RunOutcome::Terminated`].
//!
//! * A command or code run: the whole process group gets `SIGTERM`, then
//!   `SIGKILL` after [`KILL_GRACE`] if the main process has not exited, then
//!   `SIGKILL` again for anything left in the group; the child is reaped, and the
//!   run ends `Terminated`.
//! * An async function run: the function sees the token in
//!   [`TaskContext::cancel`] and should return `Err(RunError::Terminated)`. If it
//!   has not returned [`CANCEL_GRACE`] after the token fired, it is dropped
//!   (aborted at its next `.await`) and the run ends `Terminated`. Whatever it
//!   returns within the grace is the outcome.
//! * A blocking function run (inline or on a thread) cannot be stopped from the
//!   outside: it gets the token and is awaited until it returns. A function that
//!   checks `ctx.cancel.is_cancelled()` and returns `Err(RunError::Terminated)`
//!   stops cooperatively; one that does not runs to completion. The scheduler
//!   decides what to do meanwhile: keep waiting, or log `terminate` and drop the
//!   [`execute`] future, which detaches the thread (its result is discarded).
//!
//! Dropping the [`execute`] future also ends a run: a spawned async function is
//! aborted and a child's process group is killed (`SIGKILL`).
//!
//! # Definitions
//!
//! [`validate_name`], [`TaskKind::validate`], [`validate_execution`] and
//! [`TaskSpec::validate`] check a definition before it is accepted;
//! [`TaskKind::default_execution`] is the execution mode of a task that does not
//! set one. Command and code tasks run as a child process: they allow
//! [`Execution::Process`] (the scheduler goes on while the child runs) and
//! [`Execution::Main`] (the scheduler waits for the child, like a `main`
//! command task of Red Engine), nothing else.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::Condition;
use crate::log::Action;

mod process;
mod run;
mod validate;

#[cfg(test)]
mod tests;

pub use process::{KILL_GRACE, MAX_RETURN_BYTES, OUTPUT_TAIL};
pub use run::{CANCEL_GRACE, RunOutcome, RunRequest, execute};
pub use validate::{MAX_NAME_BYTES, validate_execution, validate_name};

/// How a run is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Execution {
    /// Inline in the scheduler loop: the loop waits for it.
    Main,
    /// As a tokio task (async functions).
    Async,
    /// On a dedicated OS thread (blocking functions).
    Thread,
    /// As a child process (command and code tasks).
    Process,
}

impl Execution {
    /// The wire name: `main`, `async`, `thread`, `process`.
    pub fn as_str(self) -> &'static str {
        match self {
            Execution::Main => "main",
            Execution::Async => "async",
            Execution::Thread => "thread",
            Execution::Process => "process",
        }
    }
}

impl fmt::Display for Execution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskKind {
    /// A Rust function registered on the session under `func`.
    Function {
        /// The registered name.
        func: String,
    },
    /// A program or a shell line.
    Command {
        /// What to run.
        command: CommandLine,
        /// The working directory (default: the engine's).
        cwd: Option<String>,
        /// Extra environment variables.
        env: BTreeMap<String, String>,
    },
    /// Source code run by an interpreter on PATH (`python3`, `sh`, `node` ...).
    Code {
        /// The source.
        code: String,
        /// The interpreter (default `python3`).
        lang: String,
        /// The working directory (default: the engine's).
        cwd: Option<String>,
        /// Extra environment variables.
        env: BTreeMap<String, String>,
    },
}

/// A command: a program with arguments (no shell), or a line for `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// `["prog", "arg1", ...]`.
    Program(Vec<String>),
    /// `"prog arg1 | other"`, run by `sh -c`.
    Shell(String),
}

/// The definition of a task: everything a user sets. Status and `last_*` are not
/// here; they are derived from the log ([`TaskState`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    /// Unique name in the session.
    pub name: String,
    /// What it runs.
    pub kind: TaskKind,
    /// When it may start.
    pub start_cond: Condition,
    /// When a running run is terminated.
    pub end_cond: Condition,
    /// How it runs.
    pub execution: Execution,
    /// Higher runs first.
    pub priority: i64,
    /// Never started unless forced.
    pub disabled: bool,
    /// Start at the next opportunity regardless of condition and `disabled`.
    pub force_run: bool,
    /// Terminate the current run at the next opportunity.
    pub force_termination: bool,
    /// Runs only during scheduler start-up.
    pub on_startup: bool,
    /// Runs only during scheduler shutdown.
    pub on_shutdown: bool,
    /// Never times out; terminated at shutdown.
    pub permanent_task: bool,
    /// Maximum run time (`None`: the session default).
    pub timeout: Option<TimeDelta>,
    /// Task-level parameters (win over session parameters).
    pub parameters: Map<String, Value>,
    /// Whether a new run may start while one is still running.
    pub allow_overlap: bool,
}

/// A task's state, derived from the log (also at start-up) and the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskState {
    /// The action of the latest record.
    pub status: Option<Action>,
    /// Timestamp of the latest `run` record.
    pub last_run: Option<DateTime<Utc>>,
    /// Timestamp of the latest `success` record.
    pub last_success: Option<DateTime<Utc>>,
    /// Timestamp of the latest `fail` record.
    pub last_fail: Option<DateTime<Utc>>,
    /// Timestamp of the latest `terminate` record.
    pub last_terminate: Option<DateTime<Utc>>,
    /// Timestamp of the latest `inaction` record.
    pub last_inaction: Option<DateTime<Utc>>,
    /// Timestamp of the latest `crash` record.
    pub last_crash: Option<DateTime<Utc>>,
    /// Whether a run is going on now.
    pub running: bool,
}

/// What a run of a function gets.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// The task's name.
    pub task: String,
    /// The resolved parameters (session, then task; returns resolved).
    pub params: Map<String, Value>,
    /// Cancelled when the run must stop (end_cond, timeout, request, shutdown).
    pub cancel: tokio_util::sync::CancellationToken,
}

/// How a run ended, as a function reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// The run failed with this message.
    Fail(String),
    /// The run found nothing to do.
    Inaction,
    /// The run stopped because it was asked to (cancellation observed).
    Terminated,
}

/// The result of a function run: a return value (`Value::Null` stores nothing).
pub type RunResult = Result<Value, RunError>;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A function a task can run, registered on the session by name.
#[derive(Clone)]
pub enum TaskFn {
    /// A blocking function (runs on a thread or inline).
    Sync(Arc<dyn Fn(TaskContext) -> RunResult + Send + Sync>),
    /// An async function (runs as a tokio task or inline).
    Async(Arc<dyn Fn(TaskContext) -> BoxFuture<RunResult> + Send + Sync>),
}

impl fmt::Debug for TaskFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFn::Sync(_) => f.write_str("TaskFn::Sync(..)"),
            TaskFn::Async(_) => f.write_str("TaskFn::Async(..)"),
        }
    }
}
