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
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::condition::Condition;
use crate::condition::eval::SchedulerState;
use crate::log::{Action, LogRecord, LogStore, TaskLogSummary};
use crate::scheduler::{Event, TerminateReason};
use crate::task::{
    BoxFuture, Execution, RunResult, TaskContext, TaskFn, TaskKind, TaskSpec, TaskState,
};
use crate::{Error, ErrorKind};

mod config;
mod deps;
mod params;

#[cfg(test)]
mod tests;

pub use config::{CONFIG_KEYS, Config, ConfigPatch, OnExists, parse_execution};
pub use deps::{Dependency, DependencyType, Relation};
pub use params::RETURN_KEY;

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

struct Inner {
    state: RwLock<State>,
    log: Arc<dyn LogStore>,
    clock: Arc<dyn Clock>,
    events: mpsc::UnboundedSender<Event>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    /// A `Changed` event is in the channel and not yet taken.
    change_pending: AtomicBool,
    /// What the changes since the scheduler last looked touched.
    touched: Mutex<Touched>,
    /// Bumped whenever a run ends.
    runs_ended: watch::Sender<u64>,
}

struct State {
    config: Config,
    tasks: Tasks,
    params: Arc<Map<String, Value>>,
    returns: Map<String, Value>,
    functions: HashMap<String, TaskFn>,
    scheduler: Option<SchedulerState>,
    /// Runs going on per task (also of tasks deleted meanwhile).
    running: HashMap<TaskId, u32>,
    /// Bumped on every change of definitions, parameters or config.
    version: u64,
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

/// Tasks in insertion order with a name index.
#[derive(Default)]
struct Tasks {
    /// Ids in insertion order (ascending `seq`).
    order: Vec<TaskId>,
    entries: HashMap<TaskId, Entry>,
    names: HashMap<String, TaskId>,
    next_id: u64,
    next_seq: u64,
}

struct Entry {
    seq: u64,
    /// Shared with scheduler snapshots; changed copy-on-write.
    spec: Arc<TaskSpec>,
    start: Arc<Condition>,
    end: Arc<Condition>,
    state: TaskState,
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

    // ----- tasks ---------------------------------------------------------------

    /// A definition named `name` running `kind`, with the session's defaults:
    /// priority `task_priority`, execution `task_execution` when the kind
    /// allows it (else the kind's default, see
    /// [`TaskKind::default_execution`]), conditions `false`, no timeout of its
    /// own, no parameters.
    pub fn default_spec(&self, name: impl Into<String>, kind: TaskKind) -> TaskSpec {
        let state = self.inner.state.read();
        let function = match &kind {
            TaskKind::Function { func } => state.functions.get(func),
            _ => None,
        };
        let execution = state
            .config
            .task_execution
            .filter(|e| kind.allowed_executions(function).contains(e))
            .unwrap_or_else(|| kind.default_execution(function));
        TaskSpec {
            name: name.into(),
            kind,
            start_cond: Condition::Constant {
                value: false,
                always: false,
            },
            end_cond: Condition::Constant {
                value: false,
                always: false,
            },
            execution,
            priority: state.config.task_priority,
            disabled: false,
            force_run: false,
            force_termination: false,
            on_startup: false,
            on_shutdown: false,
            permanent_task: false,
            timeout: None,
            parameters: Map::new(),
            allow_overlap: false,
        }
    }

    /// Adds a task. A name already taken is handled by `on_exists` (else the
    /// config's `task_pre_exist`): `raise` is an error, `replace` swaps the
    /// definition in place (keeping the task's position, state and runs),
    /// `ignore` keeps the existing task, `rename` appends the smallest free
    /// integer to the name. An empty name gets a default: `task-<n>` with
    /// `use_instance_naming`, else the function name or the command text (a
    /// code task needs a name).
    ///
    /// The new task's status and `last_*` times come from the log. Returns the
    /// task now registered under the (final) name.
    ///
    /// # Errors
    ///
    /// An invalid definition (name, kind, execution, a non-positive timeout), an
    /// unknown function, a taken name under `raise`, or a log read error.
    pub fn create_task(
        &self,
        spec: TaskSpec,
        on_exists: Option<OnExists>,
    ) -> Result<TaskView, Error> {
        // The log summary is read outside the lock; if the name was taken
        // meanwhile, decide again.
        for _ in 0..4 {
            let (name, policy) = {
                let state = self.inner.state.read();
                let policy = on_exists.unwrap_or(state.config.task_pre_exist);
                let name = state.default_name(&spec)?;
                let mut candidate = spec.clone();
                candidate.name = name.clone();
                state.validate(&candidate)?;
                (name, policy)
            };
            let taken = self.inner.state.read().tasks.names.contains_key(&name);
            let final_name = match (taken, policy) {
                (false, _) | (true, OnExists::Replace) => name.clone(),
                (true, OnExists::Raise) => return Err(conflict(&name)),
                (true, OnExists::Ignore) => return self.task(&name),
                (true, OnExists::Rename) => self.inner.state.read().tasks.free_name(&name),
            };
            let replacing = taken && policy == OnExists::Replace;
            let summary = if replacing {
                None
            } else {
                Some(self.inner.log.summary(&final_name)?)
            };
            let (id, view) = {
                let mut state = self.inner.state.write();
                let now_taken = state.tasks.names.contains_key(&final_name);
                if now_taken != replacing {
                    continue;
                }
                let mut spec = spec.clone();
                spec.name = final_name.clone();
                let id = match summary {
                    None => state.tasks.replace(spec)?,
                    Some(summary) => {
                        // A new task has no run to terminate: the flag would
                        // otherwise cut its first run short.
                        spec.force_termination = false;
                        state.tasks.insert(spec, state_from_summary(&summary))
                    }
                };
                state.version += 1;
                (id, state.view(id))
            };
            self.changed(|touched| {
                touched.definitions = true;
                touched.tasks.insert(id);
                touched.names.insert(final_name.clone());
            });
            return view.ok_or_else(|| not_found(&final_name));
        }
        Err(conflict(&spec.name))
    }

    /// The task named `name`.
    ///
    /// # Errors
    ///
    /// No task has that name.
    pub fn task(&self, name: &str) -> Result<TaskView, Error> {
        let state = self.inner.state.read();
        state
            .tasks
            .names
            .get(name)
            .and_then(|id| state.view(*id))
            .ok_or_else(|| not_found(name))
    }

    /// Whether a task named `name` exists.
    pub fn has_task(&self, name: &str) -> bool {
        self.inner.state.read().tasks.names.contains_key(name)
    }

    /// Every task, in insertion order.
    pub fn tasks(&self) -> Vec<TaskView> {
        let state = self.inner.state.read();
        state
            .tasks
            .order
            .iter()
            .filter_map(|id| state.view(*id))
            .collect()
    }

    /// The task names, in insertion order.
    pub fn task_names(&self) -> Vec<String> {
        let state = self.inner.state.read();
        state
            .tasks
            .order
            .iter()
            .filter_map(|id| state.tasks.entries.get(id).map(|e| e.spec.name.clone()))
            .collect()
    }

    /// Checks, without changing anything, whether [`Session::create_task`]
    /// would accept `spec` under the config's `task_pre_exist`: the same
    /// validation (name, kind, execution, timeout, parameters, a registered
    /// function) and, under `raise`, the same refusal of a taken name.
    ///
    /// # Errors
    ///
    /// The error `create_task` would return ([`ErrorKind::InvalidTask`],
    /// [`ErrorKind::Conflict`]), except log read errors, which only creating
    /// can meet.
    pub fn check_task(&self, spec: &TaskSpec) -> Result<(), Error> {
        let state = self.inner.state.read();
        let name = state.default_name(spec)?;
        if name == spec.name {
            state.validate(spec)?;
        } else {
            let mut candidate = spec.clone();
            candidate.name = name.clone();
            state.validate(&candidate)?;
        }
        if state.config.task_pre_exist == OnExists::Raise && state.tasks.names.contains_key(&name) {
            return Err(conflict(&name));
        }
        Ok(())
    }

    /// Checks, without changing anything, whether [`Session::update_task`]
    /// would accept `patch` for the task `name`.
    ///
    /// # Errors
    ///
    /// The error `update_task` would return: no task named `name`
    /// ([`ErrorKind::NotFound`]), an invalid changed definition
    /// ([`ErrorKind::InvalidTask`]), a taken new name under `raise`
    /// ([`ErrorKind::Conflict`]).
    pub fn check_patch(&self, name: &str, patch: &TaskPatch) -> Result<(), Error> {
        self.inner
            .state
            .read()
            .plan_update(name, patch.clone())
            .map(|_| ())
    }

    /// Checks, without changing anything, whether
    /// [`Session::patch_parameters`] would accept `set`: every pipelined value
    /// (`{"$return": "<task>"}`) is well formed.
    ///
    /// # Errors
    ///
    /// A malformed pipelined value ([`ErrorKind::InvalidInput`]).
    pub fn check_parameters(&self, set: &Map<String, Value>) -> Result<(), Error> {
        set.iter()
            .try_for_each(|(key, value)| params::check(key, value))
    }

    /// Changes a task; returns the changed task. Renaming moves the task to the
    /// end of the task order; a taken new name is handled by the config's
    /// `task_pre_exist` (`replace` removes the other task, `ignore` leaves
    /// everything as it was). `force_termination` only has an effect on a
    /// running task.
    ///
    /// # Errors
    ///
    /// No task named `name`; the changed definition is invalid (as for
    /// [`Session::create_task`]); the new name is taken under `raise`.
    pub fn update_task(&self, name: &str, patch: TaskPatch) -> Result<TaskView, Error> {
        let (id, new_name, view) = {
            let mut state = self.inner.state.write();
            let (id, spec, replaces) = match state.plan_update(name, patch)? {
                PatchPlan::Ignored(id) => return state.view(id).ok_or_else(|| not_found(name)),
                PatchPlan::Change { id, spec, replaces } => (id, spec, replaces),
            };
            let new_name = spec.name.clone();
            if let Some(other) = replaces {
                state.tasks.remove(other);
                if state.running.get(&other).copied().unwrap_or(0) > 0 {
                    self.send(Event::Terminate {
                        task: other,
                        reason: TerminateReason::Requested,
                    });
                }
            }
            state.tasks.set_spec(id, *spec, new_name != name);
            state.version += 1;
            let view = state.view(id).ok_or_else(|| not_found(&new_name));
            (id, new_name, view)
        };
        self.changed(|touched| {
            touched.definitions = true;
            touched.tasks.insert(id);
            if new_name != name {
                // Conditions naming either name read other records now.
                touched.names.insert(name.to_owned());
                touched.names.insert(new_name);
            }
        });
        view
    }

    /// Removes a task and returns it. A run going on is terminated first
    /// (reason `requested`): this waits until it has ended, at most
    /// [`STOP_GRACE`](crate::scheduler::STOP_GRACE) plus a second (past the
    /// grace the scheduler drops the run).
    ///
    /// # Errors
    ///
    /// No task named `name`.
    pub async fn delete_task(&self, name: &str) -> Result<TaskView, Error> {
        let (id, view, running) = {
            let mut state = self.inner.state.write();
            let id = *state.tasks.names.get(name).ok_or_else(|| not_found(name))?;
            let view = state.view(id).ok_or_else(|| not_found(name))?;
            state.tasks.remove(id);
            state.version += 1;
            let running = state.running.get(&id).copied().unwrap_or(0) > 0;
            (id, view, running)
        };
        if running {
            self.send(Event::Terminate {
                task: id,
                reason: TerminateReason::Requested,
            });
        }
        self.changed(|touched| {
            touched.definitions = true;
            touched.names.insert(name.to_owned());
        });
        if running {
            let grace = TimeDelta::from_std(crate::scheduler::STOP_GRACE)
                .unwrap_or(TimeDelta::seconds(5))
                + TimeDelta::seconds(1);
            let now = self.inner.clock.now();
            self.wait_runs_ended(id, now.checked_add_signed(grace).unwrap_or(now))
                .await;
        }
        Ok(view)
    }

    /// Asks for a run of `name` at the next opportunity, whatever its start
    /// condition and `disabled` (sets `force_run`; consumed when the run starts).
    ///
    /// # Errors
    ///
    /// No task named `name`.
    pub fn force_run(&self, name: &str) -> Result<TaskView, Error> {
        self.update_task(
            name,
            TaskPatch {
                force_run: Some(true),
                ..TaskPatch::default()
            },
        )
    }

    /// Asks the scheduler to terminate the running run(s) of `name` (reason
    /// `requested`).
    ///
    /// # Errors
    ///
    /// No task named `name`, or it is not running.
    pub fn terminate(&self, name: &str) -> Result<TaskView, Error> {
        if !self.task(name)?.state.running {
            return Err(invalid(format!("task '{name}' is not running")));
        }
        self.update_task(
            name,
            TaskPatch {
                force_termination: Some(true),
                ..TaskPatch::default()
            },
        )
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

    // ----- crate-internal: for the scheduler -----------------------------------

    fn send(&self, event: Event) {
        // The session holds the receiver too, so the channel never closes.
        let _ = self.inner.events.send(event);
    }

    /// Notes what a change touched (`note`) and wakes the scheduler with one
    /// coalesced `Changed` event.
    fn changed(&self, note: impl FnOnce(&mut Touched)) {
        note(&mut self.inner.touched.lock());
        if !self.inner.change_pending.swap(true, Ordering::AcqRel) {
            self.send(Event::Changed);
        }
    }

    /// What the changes since the last call touched (the scheduler calls it
    /// after [`Session::change_taken`], when it handles a `Changed` event).
    pub(crate) fn take_touched(&self) -> Touched {
        std::mem::take(&mut *self.inner.touched.lock())
    }

    /// Takes the event receiver (one scheduler at a time).
    pub(crate) fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.inner.receiver.lock().take()
    }

    /// Gives the event receiver back when the scheduler stops.
    pub(crate) fn return_events(&self, receiver: mpsc::UnboundedReceiver<Event>) {
        *self.inner.receiver.lock() = Some(receiver);
    }

    /// Marks the pending `Changed` event as taken.
    pub(crate) fn change_taken(&self) {
        self.inner.change_pending.store(false, Ordering::Release);
    }

    /// The definitions version (bumped on every change).
    pub(crate) fn version(&self) -> u64 {
        self.inner.state.read().version
    }

    pub(crate) fn set_scheduler_state(&self, scheduler: Option<SchedulerState>) {
        self.inner.state.write().scheduler = scheduler;
    }

    /// Every task in insertion order.
    pub(crate) fn snapshot_all(&self) -> Vec<TaskSnapshot> {
        let state = self.inner.state.read();
        state
            .tasks
            .order
            .iter()
            .filter_map(|id| state.snapshot(*id))
            .collect()
    }

    /// The tasks of `ids` that still exist.
    pub(crate) fn snapshot(&self, ids: &[TaskId]) -> Vec<TaskSnapshot> {
        let state = self.inner.state.read();
        ids.iter().filter_map(|id| state.snapshot(*id)).collect()
    }

    /// The current name of a task.
    pub(crate) fn name_of(&self, id: TaskId) -> Option<String> {
        let state = self.inner.state.read();
        state.tasks.entries.get(&id).map(|e| e.spec.name.clone())
    }

    /// The session parameters (shared, cheap).
    pub(crate) fn params_arc(&self) -> Arc<Map<String, Value>> {
        Arc::clone(&self.inner.state.read().params)
    }

    /// The parameters of a run of `task_params`' task: session parameters
    /// overlaid with the task's, `$return` values resolved.
    pub(crate) fn run_params(
        &self,
        task_params: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Error> {
        let state = self.inner.state.read();
        let mut merged = state.params.as_ref().clone();
        merged.extend(task_params.iter().map(|(k, v)| (k.clone(), v.clone())));
        params::resolve(merged, &|name| {
            if state.tasks.names.contains_key(name) {
                Ok(state.returns.get(name).cloned())
            } else {
                Err(())
            }
        })
    }

    /// Marks a run of `id` as started: `force_run` consumed, one more run.
    pub(crate) fn run_started(&self, id: TaskId) {
        let mut state = self.inner.state.write();
        *state.running.entry(id).or_insert(0) += 1;
        if let Some(entry) = state.tasks.entries.get_mut(&id) {
            if entry.spec.force_run {
                Arc::make_mut(&mut entry.spec).force_run = false;
            }
            entry.state.running = true;
        }
    }

    /// Marks a run of `id` as ended; stores a non-null return value.
    pub(crate) fn run_ended(&self, id: TaskId, returned: Option<(String, Value)>) {
        {
            let mut state = self.inner.state.write();
            let left = match state.running.get_mut(&id) {
                Some(n) => {
                    *n = n.saturating_sub(1);
                    *n
                }
                None => 0,
            };
            if left == 0 {
                state.running.remove(&id);
            }
            if let Some(entry) = state.tasks.entries.get_mut(&id) {
                entry.state.running = left > 0;
            }
            if let Some((name, value)) = returned
                && !value.is_null()
            {
                state.returns.insert(name, value);
            }
        }
        self.inner
            .runs_ended
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Clears `force_termination` once the scheduler acted on it.
    pub(crate) fn termination_taken(&self, id: TaskId) {
        let mut state = self.inner.state.write();
        if let Some(entry) = state.tasks.entries.get_mut(&id)
            && entry.spec.force_termination
        {
            Arc::make_mut(&mut entry.spec).force_termination = false;
        }
    }

    /// Appends `record` to the log (outside the lock), then updates the state
    /// of task `id` from it.
    pub(crate) fn append(&self, id: Option<TaskId>, record: LogRecord) -> Result<(), Error> {
        let action = record.action;
        let timestamp = record.timestamp;
        self.inner.log.append(record)?;
        if let Some(id) = id {
            let mut state = self.inner.state.write();
            if let Some(entry) = state.tasks.entries.get_mut(&id) {
                apply_record(&mut entry.state, action, timestamp);
            }
        }
        Ok(())
    }

    /// Appends `records` to the log in one batch (one transaction for a
    /// durable store: all or none), then updates the state of each record's
    /// task.
    pub(crate) fn append_batch(
        &self,
        records: Vec<(Option<TaskId>, LogRecord)>,
    ) -> Result<(), Error> {
        let applied: Vec<(TaskId, Action, DateTime<Utc>)> = records
            .iter()
            .filter_map(|(id, r)| id.map(|id| (id, r.action, r.timestamp)))
            .collect();
        match records.len() {
            0 => return Ok(()),
            1 => {
                let record = records.into_iter().map(|(_, r)| r).next();
                if let Some(record) = record {
                    self.inner.log.append(record)?;
                }
            }
            _ => self
                .inner
                .log
                .append_batch(records.into_iter().map(|(_, r)| r).collect())?,
        }
        let mut state = self.inner.state.write();
        for (id, action, timestamp) in applied {
            if let Some(entry) = state.tasks.entries.get_mut(&id) {
                apply_record(&mut entry.state, action, timestamp);
            }
        }
        Ok(())
    }

    /// A receiver that sees a change whenever a run ends.
    #[cfg(test)]
    pub(crate) fn runs_ended(&self) -> watch::Receiver<u64> {
        self.inner.runs_ended.subscribe()
    }

    /// Waits until no run of `id` goes on, or the clock reaches `deadline`.
    pub(crate) async fn wait_runs_ended(&self, id: TaskId, deadline: DateTime<Utc>) {
        let mut ended = self.inner.runs_ended.subscribe();
        let mut timeout = self.inner.clock.sleep_until(deadline);
        loop {
            if !self.inner.state.read().running.contains_key(&id) {
                return;
            }
            tokio::select! {
                changed = ended.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = &mut timeout => return,
            }
        }
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

impl State {
    fn view(&self, id: TaskId) -> Option<TaskView> {
        self.tasks.entries.get(&id).map(|e| TaskView {
            spec: e.spec.as_ref().clone(),
            state: e.state,
        })
    }

    fn snapshot(&self, id: TaskId) -> Option<TaskSnapshot> {
        self.tasks.entries.get(&id).map(|e| TaskSnapshot {
            id,
            seq: e.seq,
            spec: Arc::clone(&e.spec),
            start: Arc::clone(&e.start),
            end: Arc::clone(&e.end),
            state: e.state,
            runs: self.running.get(&id).copied().unwrap_or(0),
        })
    }

    /// The name a new task gets: its own, or a default.
    fn default_name(&self, spec: &TaskSpec) -> Result<String, Error> {
        if !spec.name.is_empty() {
            return Ok(spec.name.clone());
        }
        if self.config.use_instance_naming {
            return Ok(format!("task-{}", self.tasks.next_id));
        }
        match &spec.kind {
            TaskKind::Function { func } => Ok(func.clone()),
            TaskKind::Command { command, .. } => Ok(match command {
                crate::task::CommandLine::Program(argv) => argv.join(" "),
                crate::task::CommandLine::Shell(line) => line.clone(),
            }),
            TaskKind::Code { .. } => Err(invalid_task("a code task needs a name")),
        }
    }

    /// Checks a definition against the registry: [`TaskSpec::validate`], a
    /// registered function, a positive timeout.
    fn validate(&self, spec: &TaskSpec) -> Result<(), Error> {
        let function = match &spec.kind {
            TaskKind::Function { func } => {
                let Some(function) = self.functions.get(func) else {
                    return Err(invalid_task(format!("unknown function '{func}'")));
                };
                Some(function)
            }
            _ => None,
        };
        spec.validate(function)?;
        if spec.timeout.is_some_and(|t| t <= TimeDelta::zero()) {
            return Err(invalid_task("task timeout must be more than zero"));
        }
        for (key, value) in &spec.parameters {
            params::check(key, value).map_err(|e| invalid_task(e.message()))?;
        }
        Ok(())
    }
    /// What [`Session::update_task`] would do with `patch` on task `name`,
    /// checked but not done.
    fn plan_update(&self, name: &str, patch: TaskPatch) -> Result<PatchPlan, Error> {
        let id = *self.tasks.names.get(name).ok_or_else(|| not_found(name))?;
        let Some(entry) = self.tasks.entries.get(&id) else {
            return Err(not_found(name));
        };
        let running = self.running.get(&id).copied().unwrap_or(0) > 0;
        let mut spec = patch.apply(entry.spec.as_ref().clone());
        if !running {
            spec.force_termination = false;
        }
        let mut replaces = None;
        if spec.name != name
            && let Some(other) = self.tasks.names.get(&spec.name).copied()
        {
            match self.config.task_pre_exist {
                OnExists::Raise => return Err(conflict(&spec.name)),
                OnExists::Ignore => return Ok(PatchPlan::Ignored(id)),
                OnExists::Replace => replaces = Some(other),
                OnExists::Rename => spec.name = self.tasks.free_name(&spec.name),
            }
        }
        self.validate(&spec)?;
        Ok(PatchPlan::Change {
            id,
            spec: Box::new(spec),
            replaces,
        })
    }
}

/// What a task patch will do, once checked.
enum PatchPlan {
    /// Set `spec` on task `id`, removing task `replaces` first (a rename onto
    /// its name under `replace`).
    Change {
        id: TaskId,
        spec: Box<TaskSpec>,
        replaces: Option<TaskId>,
    },
    /// Nothing: a rename onto a taken name under `ignore`.
    Ignored(TaskId),
}

impl Tasks {
    fn insert(&mut self, spec: TaskSpec, state: TaskState) -> TaskId {
        let id = TaskId(self.next_id);
        self.next_id += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.names.insert(spec.name.clone(), id);
        self.order.push(id);
        let (start, end) = owned_conditions(&spec);
        self.entries.insert(
            id,
            Entry {
                seq,
                spec: Arc::new(spec),
                start,
                end,
                state,
            },
        );
        id
    }

    /// Swaps the definition of the task of the same name.
    fn replace(&mut self, spec: TaskSpec) -> Result<TaskId, Error> {
        let id = *self
            .names
            .get(&spec.name)
            .ok_or_else(|| not_found(&spec.name))?;
        self.set_spec(id, spec, false);
        Ok(id)
    }

    /// Sets the definition of `id`; a new name moves it to the end.
    fn set_spec(&mut self, id: TaskId, spec: TaskSpec, renamed: bool) {
        let seq = self.next_seq;
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        if renamed {
            self.names.remove(&entry.spec.name);
            self.names.insert(spec.name.clone(), id);
            self.order.retain(|other| *other != id);
            self.order.push(id);
            entry.seq = seq;
            self.next_seq += 1;
        }
        let (start, end) = owned_conditions(&spec);
        entry.start = start;
        entry.end = end;
        entry.spec = Arc::new(spec);
    }

    fn remove(&mut self, id: TaskId) {
        if let Some(entry) = self.entries.remove(&id) {
            self.names.remove(&entry.spec.name);
            self.order.retain(|other| *other != id);
        }
    }

    /// `name` followed by the smallest integer that makes it free.
    fn free_name(&self, name: &str) -> String {
        (0u64..)
            .map(|i| format!("{name}{i}"))
            .find(|candidate| !self.names.contains_key(candidate))
            .unwrap_or_else(|| name.to_owned())
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

/// The start and end conditions with the owner filled into owner-less leaves
/// (conditions.md §4).
fn owned_conditions(spec: &TaskSpec) -> (Arc<Condition>, Arc<Condition>) {
    (
        Arc::new(spec.start_cond.clone().with_owner(&spec.name)),
        Arc::new(spec.end_cond.clone().with_owner(&spec.name)),
    )
}

/// A task's state as the log summary says.
fn state_from_summary(summary: &TaskLogSummary) -> TaskState {
    TaskState {
        status: summary.status,
        last_run: summary.last(Action::Run),
        last_success: summary.last(Action::Success),
        last_fail: summary.last(Action::Fail),
        last_terminate: summary.last(Action::Terminate),
        last_inaction: summary.last(Action::Inaction),
        last_crash: summary.last(Action::Crash),
        running: false,
    }
}

/// Updates a task's state with one new record.
fn apply_record(state: &mut TaskState, action: Action, at: DateTime<Utc>) {
    state.status = Some(action);
    let slot = match action {
        Action::Run => &mut state.last_run,
        Action::Success => &mut state.last_success,
        Action::Fail => &mut state.last_fail,
        Action::Terminate => &mut state.last_terminate,
        Action::Inaction => &mut state.last_inaction,
        Action::Crash => &mut state.last_crash,
    };
    *slot = Some(at);
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
