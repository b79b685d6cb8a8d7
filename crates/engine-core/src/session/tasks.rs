//! The task operations of [`Session`]: defaults, create, read, check, update,
//! delete, force a run, terminate.

use chrono::TimeDelta;
use serde_json::{Map, Value};

use super::state::{PatchPlan, state_from_summary};
use super::{OnExists, Session, TaskPatch, TaskView, conflict, invalid, not_found, params};
use crate::Error;
use crate::condition::Condition;
use crate::scheduler::{Event, TerminateReason};
use crate::task::{TaskKind, TaskSpec};

impl Session {
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
    /// The error `create_task` would return (kind
    /// [`InvalidTask`](crate::ErrorKind::InvalidTask) or
    /// [`Conflict`](crate::ErrorKind::Conflict)), except log read errors, which
    /// only creating can meet.
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
    /// The error `update_task` would return: no task named `name` (kind
    /// [`NotFound`](crate::ErrorKind::NotFound)), an invalid changed definition
    /// ([`InvalidTask`](crate::ErrorKind::InvalidTask)), a taken new name under
    /// `raise` ([`Conflict`](crate::ErrorKind::Conflict)).
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
    /// A malformed pipelined value (kind
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput)).
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
}
