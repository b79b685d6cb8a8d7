//! Condition checks for the runner: the log as conditions read it, the
//! evaluation context, and what a condition reads (for the re-check index).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::Runner;
use crate::Error;
use crate::condition::Condition;
use crate::condition::eval::EvalContext;
use crate::log::{ActionSet, LogRead, LogRecord, LogStore};

/// The task log as conditions read it.
pub(super) struct LogView<'a>(&'a dyn LogStore);

impl LogRead for LogView<'_> {
    fn count(
        &self,
        task: &str,
        actions: ActionSet,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    ) -> Result<u64, Error> {
        self.0.count(task, actions, start, end)
    }

    fn latest(&self, task: &str, actions: ActionSet) -> Result<Option<LogRecord>, Error> {
        self.0.latest(task, actions)
    }

    fn first_since(
        &self,
        task: &str,
        actions: ActionSet,
        from: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        self.0.first_since(task, actions, from)
    }

    fn last_until(
        &self,
        task: &str,
        actions: ActionSet,
        until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        self.0.last_until(task, actions, until)
    }
}

/// What a condition check says.
pub(super) enum Check {
    Value(bool),
    /// The error, when `silence_cond_check` is off.
    Stop(Error),
}

impl Runner {
    /// Calls `f` with the evaluation context of `task` at `now`: the session's
    /// zone, log, parameters and tasks, and the scheduler's state.
    pub(super) fn in_context<T>(
        &self,
        task: Option<&str>,
        now: DateTime<Utc>,
        f: impl FnOnce(&EvalContext<'_>) -> T,
    ) -> T {
        let session = &self.session;
        let params = session.params_arc();
        let exists = |name: &str| session.has_task(name);
        f(&EvalContext {
            now,
            tz: self.config.timezone,
            log: &LogView(session.log().as_ref()),
            task,
            scheduler: Some(self.state),
            params: &params,
            task_exists: Some(&exists),
        })
    }

    pub(super) fn check(&self, cond: &Condition, task: Option<&str>, now: DateTime<Utc>) -> Check {
        self.stats.lock().checks += 1;
        match self.in_context(task, now, |ctx| cond.eval(ctx)) {
            Ok(value) => Check::Value(value),
            Err(e) if self.config.silence_cond_check => {
                tracing::warn!(task = task.unwrap_or("(shut condition)"), error = %e, "condition check failed, counts as false");
                Check::Value(false)
            }
            Err(e) => Check::Stop(e),
        }
    }

    pub(super) fn next_change(
        &self,
        cond: &Condition,
        task: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        match self.in_context(task, now, |ctx| cond.next_change(ctx)) {
            Ok(at) => Ok(at),
            Err(_) if self.config.silence_cond_check => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What a condition reads besides the log of named tasks.
#[derive(Default)]
pub(super) struct Reads {
    /// The scheduler's cycle count.
    pub(super) cycles: bool,
    /// The session parameters.
    pub(super) parameters: bool,
}

/// Collects the task names `cond` reads records of (other than `owner`), and
/// what else it reads.
pub(super) fn watch(cond: &Condition, owner: &str, named: &mut HashSet<String>, reads: &mut Reads) {
    let mut add = |name: &Option<String>| {
        if let Some(name) = name
            && name != owner
        {
            named.insert(name.clone());
        }
    };
    match cond {
        Condition::Not(item) => watch(item, owner, named, reads),
        Condition::All(items) | Condition::Any(items) => {
            for item in items {
                watch(item, owner, named, reads);
            }
        }
        Condition::Executable { task, .. } | Condition::Status { task, .. } => add(task),
        Condition::Running { task, .. } => add(&Some(task.clone())),
        Condition::Dependency { depends_on, .. } => {
            for dep in depends_on {
                add(&Some(dep.clone()));
            }
        }
        Condition::SchedulerCycles { .. } => reads.cycles = true,
        Condition::ParamExists(_) | Condition::ParamIs { .. } => reads.parameters = true,
        Condition::Constant { .. }
        | Condition::SchedulerStarted(_)
        | Condition::SchedulerRunOver(_)
        | Condition::Env(_)
        | Condition::TimeOf(_) => {}
    }
}
