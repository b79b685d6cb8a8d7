//! The session's private state: the shared inner handle, the locked state,
//! the task table and the helpers that keep task states in step with the log.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::{
    Config, OnExists, TaskId, TaskPatch, TaskSnapshot, TaskView, Touched, conflict, invalid_task,
    not_found, params,
};
use crate::Error;
use crate::clock::Clock;
use crate::condition::Condition;
use crate::condition::eval::SchedulerState;
use crate::log::{Action, LogStore, TaskLogSummary};
use crate::scheduler::Event;
use crate::task::{TaskFn, TaskKind, TaskSpec, TaskState};

pub(super) struct Inner {
    pub(super) state: RwLock<State>,
    pub(super) log: Arc<dyn LogStore>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) events: mpsc::UnboundedSender<Event>,
    pub(super) receiver: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    /// A `Changed` event is in the channel and not yet taken.
    pub(super) change_pending: AtomicBool,
    /// What the changes since the scheduler last looked touched.
    pub(super) touched: Mutex<Touched>,
    /// Bumped whenever a run ends.
    pub(super) runs_ended: watch::Sender<u64>,
}

pub(super) struct State {
    pub(super) config: Config,
    pub(super) tasks: Tasks,
    pub(super) params: Arc<Map<String, Value>>,
    pub(super) returns: Map<String, Value>,
    pub(super) functions: HashMap<String, TaskFn>,
    pub(super) scheduler: Option<SchedulerState>,
    /// Runs going on per task (also of tasks deleted meanwhile).
    pub(super) running: HashMap<TaskId, u32>,
    /// Bumped on every change of definitions, parameters or config.
    pub(super) version: u64,
}

/// Tasks in insertion order with a name index.
#[derive(Default)]
pub(super) struct Tasks {
    /// Ids in insertion order (ascending `seq`).
    pub(super) order: Vec<TaskId>,
    pub(super) entries: HashMap<TaskId, Entry>,
    pub(super) names: HashMap<String, TaskId>,
    pub(super) next_id: u64,
    pub(super) next_seq: u64,
}

pub(super) struct Entry {
    pub(super) seq: u64,
    /// Shared with scheduler snapshots; changed copy-on-write.
    pub(super) spec: Arc<TaskSpec>,
    pub(super) start: Arc<Condition>,
    pub(super) end: Arc<Condition>,
    pub(super) state: TaskState,
}

impl State {
    pub(super) fn view(&self, id: TaskId) -> Option<TaskView> {
        self.tasks.entries.get(&id).map(|e| TaskView {
            spec: e.spec.as_ref().clone(),
            state: e.state,
        })
    }

    pub(super) fn snapshot(&self, id: TaskId) -> Option<TaskSnapshot> {
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
    pub(super) fn default_name(&self, spec: &TaskSpec) -> Result<String, Error> {
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
    pub(super) fn validate(&self, spec: &TaskSpec) -> Result<(), Error> {
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
    pub(super) fn plan_update(&self, name: &str, patch: TaskPatch) -> Result<PatchPlan, Error> {
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
pub(super) enum PatchPlan {
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
    pub(super) fn insert(&mut self, spec: TaskSpec, state: TaskState) -> TaskId {
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
    pub(super) fn replace(&mut self, spec: TaskSpec) -> Result<TaskId, Error> {
        let id = *self
            .names
            .get(&spec.name)
            .ok_or_else(|| not_found(&spec.name))?;
        self.set_spec(id, spec, false);
        Ok(id)
    }

    /// Sets the definition of `id`; a new name moves it to the end.
    pub(super) fn set_spec(&mut self, id: TaskId, spec: TaskSpec, renamed: bool) {
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

    pub(super) fn remove(&mut self, id: TaskId) {
        if let Some(entry) = self.entries.remove(&id) {
            self.names.remove(&entry.spec.name);
            self.order.retain(|other| *other != id);
        }
    }

    /// `name` followed by the smallest integer that makes it free.
    pub(super) fn free_name(&self, name: &str) -> String {
        (0u64..)
            .map(|i| format!("{name}{i}"))
            .find(|candidate| !self.names.contains_key(candidate))
            .unwrap_or_else(|| name.to_owned())
    }
}

/// The start and end conditions with the owner filled into owner-less leaves
/// (conditions.md §4).
pub(super) fn owned_conditions(spec: &TaskSpec) -> (Arc<Condition>, Arc<Condition>) {
    (
        Arc::new(spec.start_cond.clone().with_owner(&spec.name)),
        Arc::new(spec.end_cond.clone().with_owner(&spec.name)),
    )
}

/// A task's state as the log summary says.
pub(super) fn state_from_summary(summary: &TaskLogSummary) -> TaskState {
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
pub(super) fn apply_record(state: &mut TaskState, action: Action, at: DateTime<Utc>) {
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
