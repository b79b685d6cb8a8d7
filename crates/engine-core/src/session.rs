//! The session: configuration, tasks (in insertion order, with their state),
//! session parameters, return values, the function registry, the task log and
//! the clock. The [`Scheduler`](crate::scheduler::Scheduler) runs what it holds;
//! the HTTP API edits it while the scheduler runs.
//!
//! Every operation but [`Session::delete_task`] (which waits for a run to end)
//! is synchronous, and all are validated: an error is a
//! [`crate::Error`] with a clear message and changes nothing. State is behind a
//! `parking_lot` lock held for short blocks only, never across an `.await`, a
//! task run or I/O (log reads and appends happen outside it). Every mutation
//! wakes the scheduler.
//!
//! # Parameters and pipelining
//!
//! A run gets the session parameters overlaid with the task's own (the task's
//! win). A value of the form `{"$return": "<task>"}` (optionally with a
//! `"default"` key) is replaced, when the run starts, by the latest non-null
//! return value of `<task>` (or the default, else `null`). Naming a task that
//! does not exist fails the run: it is logged `run` then `fail` with
//! `unknown task '<task>' in parameter '<key>'`.
//!
//! ```
//! # use std::sync::Arc;
//! # use engine_core::{Session, SystemClock};
//! # use engine_core::log::MemoryLogStore;
//! let session = Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock));
//! session.register_sync("extract", |_ctx| Ok(serde_json::json!([1, 2, 3])));
//! session.register_sync("load", |ctx| Ok(ctx.params.get("rows").cloned().unwrap_or_default()));
//!
//! let extract = session.default_spec("extract", engine_core::task::TaskKind::Function {
//!     func: "extract".into(),
//! });
//! session.create_task(extract, None)?;
//! let mut load = session.default_spec("load", engine_core::task::TaskKind::Function {
//!     func: "load".into(),
//! });
//! load.start_cond = "after task 'extract'".parse()?;
//! load.parameters.insert("rows".into(), serde_json::json!({"$return": "extract"}));
//! session.create_task(load, None)?;
//! assert_eq!(session.tasks().len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::condition::Condition;
use crate::condition::eval::SchedulerState;
use crate::log::LogStore;
use crate::task::{
    BoxFuture, Execution, RunResult, TaskContext, TaskFn, TaskKind, TaskSpec, TaskState,
};
use crate::{Error, ErrorKind};

mod config;
mod deps;
mod params;
mod runtime;
mod state;
mod tasks;

#[cfg(test)]
mod tests;

pub use config::{CONFIG_KEYS, Config, ConfigPatch, OnExists, parse_execution};
pub use deps::{Dependency, DependencyType, Relation};
pub use params::RETURN_KEY;
use state::{Inner, State, Tasks};

/// A session: everything the scheduler runs and the API edits. Cheap to clone
/// (a shared handle), `Send + Sync`.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

/// A task as seen from outside: its definition and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    /// The definition (conditions as written, without the owner filled in).
    pub spec: TaskSpec,
    /// Status and latest times (from the log) and whether it runs now.
    pub state: TaskState,
}

/// A change to a task: `Some` fields are set, the rest kept. Validated like a
/// new task ([`Session::create_task`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPatch {
    /// A new name: the task moves to the end of the task order; a taken name is
    /// handled by the config's `task_pre_exist`.
    pub name: Option<String>,
    /// What it runs.
    pub kind: Option<TaskKind>,
    /// When it may start.
    pub start_cond: Option<Condition>,
    /// When a running run is terminated.
    pub end_cond: Option<Condition>,
    /// How it runs.
    pub execution: Option<Execution>,
    /// Higher runs first.
    pub priority: Option<i64>,
    /// Never started unless forced.
    pub disabled: Option<bool>,
    /// Start at the next opportunity.
    pub force_run: Option<bool>,
    /// Terminate the current run (no effect when the task is not running).
    pub force_termination: Option<bool>,
    /// Runs only during scheduler start-up.
    pub on_startup: Option<bool>,
    /// Runs only during scheduler shutdown.
    pub on_shutdown: Option<bool>,
    /// Never times out; terminated at shutdown.
    pub permanent_task: Option<bool>,
    /// Maximum run time (`Some(None)`: the session default).
    pub timeout: Option<Option<TimeDelta>>,
    /// Task-level parameters (replaced as a whole).
    pub parameters: Option<Map<String, Value>>,
    /// Whether a new run may start while one is still running.
    pub allow_overlap: Option<bool>,
}

/// A task's identity inside the session: stable across renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TaskId(u64);

/// What the scheduler needs of one task to decide about it.
#[derive(Debug, Clone)]
pub(crate) struct TaskSnapshot {
    pub(crate) id: TaskId,
    /// Insertion order key (smaller = earlier).
    pub(crate) seq: u64,
    pub(crate) spec: Arc<TaskSpec>,
    /// The start condition with the owner filled in.
    pub(crate) start: Arc<Condition>,
    /// The end condition with the owner filled in.
    pub(crate) end: Arc<Condition>,
    /// Status and latest times.
    pub(crate) state: TaskState,
    /// Runs going on now.
    pub(crate) runs: u32,
}

/// What changes touched since the scheduler last looked, so it re-checks only
/// the tasks whose decision may have changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Touched {
    /// Everything (the configuration or the functions changed).
    pub(crate) all: bool,
    /// Some definition changed: the index of who watches whom is stale.
    pub(crate) definitions: bool,
    /// Tasks created or changed.
    pub(crate) tasks: std::collections::HashSet<TaskId>,
    /// Names that appeared or went away: tasks whose conditions name them.
    pub(crate) names: std::collections::HashSet<String>,
    /// The session parameters changed: tasks whose conditions read them.
    pub(crate) parameters: bool,
}

impl Session {
    /// A session with the default [`Config`] on `log` and `clock`.
    pub fn new(log: Arc<dyn LogStore>, clock: Arc<dyn Clock>) -> Session {
        Session::with_config(log, clock, Config::default())
    }

    /// A session with `config` on `log` and `clock`.
    pub fn with_config(log: Arc<dyn LogStore>, clock: Arc<dyn Clock>, config: Config) -> Session {
        let (events, receiver) = mpsc::unbounded_channel();
        let state = State {
            config,
            tasks: Tasks::default(),
            params: Arc::new(Map::new()),
            returns: Map::new(),
            functions: HashMap::new(),
            scheduler: None,
            running: HashMap::new(),
            version: 0,
        };
        Session {
            inner: Arc::new(Inner {
                state: RwLock::new(state),
                log,
                clock,
                events,
                receiver: Mutex::new(Some(receiver)),
                change_pending: AtomicBool::new(false),
                touched: Mutex::new(Touched::default()),
                runs_ended: watch::Sender::new(0),
            }),
        }
    }

    // ----- configuration -------------------------------------------------------

    /// The current configuration.
    pub fn config(&self) -> Config {
        self.inner.state.read().config.clone()
    }

    /// Applies a configuration change given as JSON (the API's PATCH body) and
    /// returns the new configuration.
    ///
    /// # Errors
    ///
    /// An unknown key or a wrong value (see [`ConfigPatch::from_json`]); nothing
    /// changes then.
    pub fn patch_config(&self, json: &Map<String, Value>) -> Result<Config, Error> {
        let patch = ConfigPatch::from_json(json)?;
        self.update_config(&patch)
    }

    /// Applies a typed configuration change and returns the new configuration.
    ///
    /// # Errors
    ///
    /// A value out of range (see [`ConfigPatch::validate`]); nothing changes then.
    pub fn update_config(&self, patch: &ConfigPatch) -> Result<Config, Error> {
        patch.validate()?;
        let config = {
            let mut state = self.inner.state.write();
            state.config = state.config.patched(patch);
            state.version += 1;
            state.config.clone()
        };
        self.changed(|touched| touched.all = true);
        Ok(config)
    }

    // ----- functions -----------------------------------------------------------

    /// Registers `function` under `name` (replacing a function of that name).
    pub fn register_fn(&self, name: impl Into<String>, function: TaskFn) {
        self.inner
            .state
            .write()
            .functions
            .insert(name.into(), function);
        self.changed(|touched| touched.all = true);
    }

    /// Registers a blocking function under `name`.
    pub fn register_sync<F>(&self, name: impl Into<String>, function: F)
    where
        F: Fn(TaskContext) -> RunResult + Send + Sync + 'static,
    {
        self.register_fn(name, TaskFn::Sync(Arc::new(function)));
    }

    /// Registers an async function under `name`.
    pub fn register_async<F, Fut>(&self, name: impl Into<String>, function: F)
    where
        F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = RunResult> + Send + 'static,
    {
        let boxed = move |ctx: TaskContext| -> BoxFuture<RunResult> { Box::pin(function(ctx)) };
        self.register_fn(name, TaskFn::Async(Arc::new(boxed)));
    }

    /// The function registered under `name`.
    pub fn function(&self, name: &str) -> Option<TaskFn> {
        self.inner.state.read().functions.get(name).cloned()
    }

    /// The names of the registered functions, sorted.
    pub fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.state.read().functions.keys().cloned().collect();
        names.sort();
        names
    }

    // ----- parameters and returns ----------------------------------------------

    /// The session parameters.
    pub fn parameters(&self) -> Map<String, Value> {
        self.inner.state.read().params.as_ref().clone()
    }

    /// Sets the parameters in `set` and removes the keys in `remove`; returns
    /// the new parameters.
    ///
    /// # Errors
    ///
    /// A malformed `{"$return": ...}` value; nothing changes then.
    pub fn patch_parameters(
        &self,
        set: Map<String, Value>,
        remove: &[String],
    ) -> Result<Map<String, Value>, Error> {
        self.check_parameters(&set)?;
        let params = {
            let mut state = self.inner.state.write();
            let params = Arc::make_mut(&mut state.params);
            for key in remove {
                params.remove(key);
            }
            params.extend(set);
            state.version += 1;
            state.params.as_ref().clone()
        };
        self.changed(|touched| touched.parameters = true);
        Ok(params)
    }

    /// The latest non-null return value of each task.
    pub fn returns(&self) -> Map<String, Value> {
        self.inner.state.read().returns.clone()
    }

    /// Sets the return values in `set` (a `null` removes the entry, as a null
    /// return stores nothing) and removes the keys in `remove`; returns the new
    /// map.
    pub fn patch_returns(&self, set: Map<String, Value>, remove: &[String]) -> Map<String, Value> {
        let returns = {
            let mut state = self.inner.state.write();
            for key in remove {
                state.returns.remove(key);
            }
            for (key, value) in set {
                if value.is_null() {
                    state.returns.remove(&key);
                } else {
                    state.returns.insert(key, value);
                }
            }
            state.version += 1;
            state.returns.clone()
        };
        // No condition reads return values: only runs started later see them.
        self.changed(|_| {});
        returns
    }

    /// The dependency links of the start conditions (spec §10): for each task in
    /// order, a top-level dependency or the dependencies directly under a
    /// top-level `&` / `|`. A dependency on a missing task is listed too.
    pub fn dependencies(&self) -> Vec<Dependency> {
        let state = self.inner.state.read();
        state
            .tasks
            .order
            .iter()
            .filter_map(|id| state.tasks.entries.get(id))
            .flat_map(|entry| deps::links(&entry.spec.name, &entry.spec.start_cond))
            .collect()
    }

    // ----- the rest ------------------------------------------------------------

    /// The task log.
    pub fn log(&self) -> &Arc<dyn LogStore> {
        &self.inner.log
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The clock's reading.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The scheduler's state while a scheduler runs on this session.
    pub fn scheduler_state(&self) -> Option<SchedulerState> {
        self.inner.state.read().scheduler
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state.read();
        f.debug_struct("Session")
            .field("tasks", &state.tasks.order.len())
            .field("running", &state.running.len())
            .field("parameters", &state.params.len())
            .field("functions", &state.functions.len())
            .field("scheduler", &state.scheduler)
            .finish_non_exhaustive()
    }
}

impl TaskPatch {
    /// `spec` with the set fields of the patch (unchecked: see
    /// [`Session::check_patch`]).
    pub fn apply(self, mut spec: TaskSpec) -> TaskSpec {
        let TaskPatch {
            name,
            kind,
            start_cond,
            end_cond,
            execution,
            priority,
            disabled,
            force_run,
            force_termination,
            on_startup,
            on_shutdown,
            permanent_task,
            timeout,
            parameters,
            allow_overlap,
        } = self;
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        set(&mut spec.name, name);
        set(&mut spec.kind, kind);
        set(&mut spec.start_cond, start_cond);
        set(&mut spec.end_cond, end_cond);
        set(&mut spec.execution, execution);
        set(&mut spec.priority, priority);
        set(&mut spec.disabled, disabled);
        set(&mut spec.force_run, force_run);
        set(&mut spec.force_termination, force_termination);
        set(&mut spec.on_startup, on_startup);
        set(&mut spec.on_shutdown, on_shutdown);
        set(&mut spec.permanent_task, permanent_task);
        set(&mut spec.timeout, timeout);
        set(&mut spec.parameters, parameters);
        set(&mut spec.allow_overlap, allow_overlap);
        spec
    }
}

/// No task of that name.
pub(crate) fn not_found(name: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("unknown task '{name}'"))
}

/// The name is taken.
fn conflict(name: &str) -> Error {
    Error::new(ErrorKind::Conflict, format!("task '{name}' already exists"))
}

/// Invalid input (a config value, a session parameter, a request).
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

/// An invalid task definition.
pub(crate) fn invalid_task(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidTask, message)
}
