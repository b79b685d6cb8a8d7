//! Tasks: what a task is (its definition), what kind of body it runs, how it
//! runs, and its state derived from the log.
//!
//! OWNED BY THE TASK WORK (scheduler issue). The types below are the contract the
//! session/scheduler work is written against; add to them, do not rename.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::Condition;
use crate::log::Action;

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
