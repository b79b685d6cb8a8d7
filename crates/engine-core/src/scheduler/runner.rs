//! The scheduler loop: start-up, cycles, waiting for the next event or due
//! time, and shutdown.
//!
//! Which tasks a cycle looks at: every task whose next check time has come (a
//! min-heap of `(next check, task)` with lazy deletion), every task touched by
//! an event since the last cycle (`dirty`), and the tasks whose conditions count
//! cycles. A record of task `x` touches `x` and the tasks whose conditions name
//! `x` (the `watchers` index). A session change touches what it changed: a
//! created or changed task (and, when a name appears or goes away, the tasks
//! whose conditions name it), the tasks whose conditions read parameters when
//! the parameters change, every task when the configuration or the functions
//! change. So an idle wake with thousands of tasks evaluates only the few that
//! are due, and an API change costs one task's check, not a thousand.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::{Event, RunId, STOP_GRACE, SchedulerStats, TerminateReason};
use crate::Error;
use crate::condition::Condition;
use crate::condition::eval::{EvalContext, SchedulerState};
use crate::log::{Action, ActionSet, LogRead, LogRecord, LogStore};
use crate::session::{Config, Session, TaskId, TaskSnapshot};
use crate::task::{Execution, RunOutcome, RunRequest, TaskKind, execute};

/// One run going on (not `main` runs: they are awaited in place).
struct Running {
    task: TaskId,
    /// The task's name when the run started (used if the task is deleted).
    name: String,
    started: DateTime<Utc>,
    cancel: CancellationToken,
    abort: Option<AbortHandle>,
    /// When the timeout terminates the run (`None`: never).
    deadline: Option<DateTime<Utc>>,
    /// The next instant the end condition may change.
    end_check: Option<DateTime<Utc>>,
    /// Cancelled: why, and when the run is dropped if it has not ended.
    stopping: Option<(TerminateReason, DateTime<Utc>)>,
}

/// The index of which tasks to re-check when task `x` logs a record, the
/// parameters change, or a cycle passes.
#[derive(Default)]
struct Plan {
    version: Option<u64>,
    watchers: HashMap<String, Vec<TaskId>>,
    cycle_watchers: Vec<TaskId>,
    param_watchers: Vec<TaskId>,
}

pub(super) struct Runner {
    session: Session,
    shut_cond: Condition,
    events: mpsc::UnboundedReceiver<Event>,
    stats: Arc<Mutex<SchedulerStats>>,
    state: SchedulerState,
    config: Config,
    plan: Plan,
    runs: JoinSet<RunOutcome>,
    /// Where runs are spawned (`None`: the runtime the loop runs on).
    runs_on: Option<tokio::runtime::Handle>,
    run_of: HashMap<tokio::task::Id, RunId>,
    running: BTreeMap<RunId, Running>,
    next_run: u64,
    heap: BinaryHeap<Reverse<(DateTime<Utc>, TaskId)>>,
    next_check: HashMap<TaskId, DateTime<Utc>>,
    dirty: HashSet<TaskId>,
    all_dirty: bool,
    waiting_slot: HashSet<TaskId>,
    shutdown_requested: bool,
    /// Runs decided in this cycle whose `run` records are written together.
    starting: Vec<Starting>,
    /// Tasks whose conditions read a task in `starting`: its record is written
    /// before they are checked.
    flush_before: HashSet<TaskId>,
    /// Runs that ended, their end records written together.
    ending: Vec<Ending>,
}

/// A run decided in this cycle: its `run` record is written with the others'
/// (one transaction), then its body starts.
struct Starting {
    run: RunId,
    task: TaskSnapshot,
    record: LogRecord,
    request: RunRequest,
}

/// A run that ended: its end record is written with the others' (one
/// transaction), then the session learns of it.
struct Ending {
    run: RunId,
    task: TaskId,
    /// The name when the run started (a rename since touches both).
    started_as: String,
    record: LogRecord,
    returned: Option<Value>,
}

/// The task log as conditions read it.
struct LogView<'a>(&'a dyn LogStore);

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
enum Check {
    Value(bool),
    /// The error, when `silence_cond_check` is off.
    Stop(Error),
}

impl Runner {
    pub(super) fn new(
        session: Session,
        shut_cond: Condition,
        events: mpsc::UnboundedReceiver<Event>,
        stats: Arc<Mutex<SchedulerStats>>,
    ) -> Runner {
        let now = session.now();
        let config = session.config();
        Runner {
            session,
            shut_cond,
            events,
            stats,
            state: SchedulerState {
                cycles: 0,
                started_at: now,
            },
            config,
            plan: Plan::default(),
            runs: JoinSet::new(),
            runs_on: None,
            run_of: HashMap::new(),
            running: BTreeMap::new(),
            next_run: 0,
            heap: BinaryHeap::new(),
            next_check: HashMap::new(),
            dirty: HashSet::new(),
            all_dirty: true,
            waiting_slot: HashSet::new(),
            shutdown_requested: false,
            starting: Vec::new(),
            flush_before: HashSet::new(),
            ending: Vec::new(),
        }
    }

    /// Spawns runs on `runtime` instead of the runtime the loop runs on.
    pub(super) fn spawn_runs_on(&mut self, runtime: tokio::runtime::Handle) {
        self.runs_on = Some(runtime);
    }

    pub(super) async fn run<F: Future>(&mut self, shutdown: F) -> Result<(), Error> {
        let result = self.main(shutdown).await;
        let stopped = self.shutdown(result.is_ok()).await;
        self.session.set_scheduler_state(None);
        result.and(stopped)
    }

    async fn main<F: Future>(&mut self, shutdown: F) -> Result<(), Error> {
        self.startup().await?;
        tokio::pin!(shutdown);
        let mut shutdown_done = false;
        loop {
            self.drain_events()?;
            if self.shutdown_requested {
                return Ok(());
            }
            let now = self.session.now();
            match self.check(&self.shut_cond, None, now) {
                Check::Value(true) => {
                    tracing::info!("shut condition holds, shutting down");
                    return Ok(());
                }
                Check::Value(false) => {}
                Check::Stop(e) => return Err(e),
            }
            self.cycle().await?;
            let wake = self.next_wake();
            tracing::debug!(next_wake = ?wake, "scheduler sleeps");
            let sleep = wake.map(|at| self.session.clock().sleep_until(at));
            tokio::select! {
                biased;
                event = self.events.recv() => {
                    if let Some(event) = event {
                        self.handle(event)?;
                    }
                }
                Some(joined) = self.runs.join_next_with_id(), if !self.runs.is_empty() => {
                    self.joined(joined)?;
                }
                _ = &mut shutdown, if !shutdown_done => {
                    shutdown_done = true;
                    self.handle(Event::Shutdown)?;
                }
                () = async { if let Some(sleep) = sleep { sleep.await } }, if wake.is_some() => {}
            }
            self.stats.lock().wakes += 1;
            tracing::debug!("scheduler wakes");
        }
    }

    // ----- start-up, cycles ----------------------------------------------------

    async fn startup(&mut self) -> Result<(), Error> {
        // Events from before this scheduler ran are stale.
        while self.events.try_recv().is_ok() {}
        self.session.change_taken();
        // Start-up looks at every task anyway.
        let _ = self.session.take_touched();
        self.config = self.session.config();
        self.state = SchedulerState {
            cycles: 0,
            started_at: self.session.now(),
        };
        self.session.set_scheduler_state(Some(self.state));
        tracing::info!("scheduler starting up");
        let tasks = self.session.snapshot_all();
        for task in &tasks {
            if task.state.status == Some(Action::Run) && task.runs == 0 {
                let now = self.session.now();
                let mut record = LogRecord::new(task.spec.name.clone(), Action::Crash, now);
                record.start = task.state.last_run;
                record.end = Some(now);
                record.runtime = task.state.last_run.map(|start| now - start);
                record.exc_text = Some("the engine stopped during the run".to_owned());
                self.session.append(Some(task.id), record)?;
            }
        }
        self.refresh_plan();
        self.special_tasks(|spec| spec.on_startup).await
    }

    /// Starts the start-up or shutdown tasks (`pick`), in priority order.
    async fn special_tasks(
        &mut self,
        pick: fn(&crate::task::TaskSpec) -> bool,
    ) -> Result<(), Error> {
        let mut tasks: Vec<TaskSnapshot> = self
            .session
            .snapshot_all()
            .into_iter()
            .filter(|t| pick(&t.spec))
            .collect();
        sort(&mut tasks);
        for task in tasks {
            let default_false = matches!(*task.start, Condition::Constant { value: false, .. });
            let forced = task.spec.force_run || (default_false && !task.spec.disabled);
            let may = forced
                || (!task.spec.disabled && {
                    let now = self.session.now();
                    match self.check(&task.start, Some(&task.spec.name), now) {
                        Check::Value(v) => v,
                        Check::Stop(e) => return Err(e),
                    }
                });
            if may && (task.runs == 0 || task.spec.allow_overlap) && self.has_slot(&task) {
                self.start(&task).await?;
            }
        }
        self.flush_starts()
    }

    async fn cycle(&mut self) -> Result<(), Error> {
        self.config = self.session.config();
        let now = self.session.now();
        self.check_running(now)?;

        let mut tasks = if self.all_dirty {
            self.all_dirty = false;
            self.dirty.clear();
            self.session.snapshot_all()
        } else {
            let mut ids: HashSet<TaskId> = self.dirty.drain().collect();
            while let Some(Reverse((at, id))) = self.heap.peek().copied() {
                if at > now {
                    break;
                }
                self.heap.pop();
                if self.next_check.get(&id) == Some(&at) {
                    self.next_check.remove(&id);
                    ids.insert(id);
                }
            }
            ids.extend(self.plan.cycle_watchers.iter().copied());
            let ids: Vec<TaskId> = ids.into_iter().collect();
            self.session.snapshot(&ids)
        };
        sort(&mut tasks);
        for task in tasks {
            self.consider(task).await?;
        }
        self.flush_starts()?;
        self.state.cycles += 1;
        self.session.set_scheduler_state(Some(self.state));
        self.stats.lock().cycles += 1;
        Ok(())
    }

    /// Decides about one task in a cycle.
    async fn consider(&mut self, task: TaskSnapshot) -> Result<(), Error> {
        self.next_check.remove(&task.id);
        if task.spec.on_startup || task.spec.on_shutdown {
            return Ok(());
        }
        if task.runs > 0 && !task.spec.allow_overlap {
            // Looked at again when the run ends.
            return Ok(());
        }
        if !task.spec.force_run && task.spec.disabled {
            return Ok(());
        }
        if self.flush_before.contains(&task.id) {
            // Its condition reads a task starting in this cycle.
            self.flush_starts()?;
        }
        let now = self.session.now();
        let may = task.spec.force_run
            || match self.check(&task.start, Some(&task.spec.name), now) {
                Check::Value(v) => v,
                Check::Stop(e) => return Err(e),
            };
        if may {
            if !self.has_slot(&task) {
                self.waiting_slot.insert(task.id);
                return Ok(());
            }
            self.start(&task).await?;
            if !task.spec.allow_overlap {
                return Ok(());
            }
            // When it may start again can depend on the run just started.
            self.flush_starts()?;
        }
        match self.next_change(&task.start, Some(&task.spec.name), self.session.now()) {
            Ok(Some(at)) => self.schedule(task.id, at),
            Ok(None) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn schedule(&mut self, task: TaskId, at: DateTime<Utc>) {
        self.next_check.insert(task, at);
        self.heap.push(Reverse((at, task)));
    }

    /// Whether one more run of `task` fits under `max_concurrent_runs`.
    fn has_slot(&self, task: &TaskSnapshot) -> bool {
        task.spec.execution == Execution::Main
            || self.running.len() + self.starting.len() < self.config.max_concurrent_runs
    }

    /// Rebuilds the watcher index after a change of definitions.
    fn refresh_plan(&mut self) {
        let version = self.session.version();
        if self.plan.version == Some(version) {
            return;
        }
        let mut plan = Plan {
            version: Some(version),
            ..Plan::default()
        };
        for task in self.session.snapshot_all() {
            let mut named = HashSet::new();
            let mut reads = Reads::default();
            for cond in [&*task.start, &*task.end] {
                watch(cond, &task.spec.name, &mut named, &mut reads);
            }
            for name in named {
                plan.watchers.entry(name).or_default().push(task.id);
            }
            if reads.cycles {
                plan.cycle_watchers.push(task.id);
            }
            if reads.parameters {
                plan.param_watchers.push(task.id);
            }
        }
        self.plan = plan;
    }

    /// Marks what a batch of session changes may have changed.
    fn session_changed(&mut self) {
        self.session.change_taken();
        let touched = self.session.take_touched();
        if touched.all {
            self.all_dirty = true;
        }
        if touched.all || touched.definitions {
            self.refresh_plan();
        }
        self.dirty.extend(touched.tasks);
        for name in &touched.names {
            if let Some(watchers) = self.plan.watchers.get(name) {
                self.dirty.extend(watchers.iter().copied());
            }
        }
        if touched.parameters {
            self.dirty.extend(self.plan.param_watchers.iter().copied());
        }
    }

    /// Marks what a record of `name` (task `id`) may change.
    fn touched(&mut self, id: TaskId, name: &str, own: bool) {
        if own {
            self.dirty.insert(id);
        }
        if let Some(watchers) = self.plan.watchers.get(name) {
            self.dirty.extend(watchers.iter().copied());
        }
    }

    /// The next instant the loop must wake without an event.
    fn next_wake(&mut self) -> Option<DateTime<Utc>> {
        let now = self.session.now();
        if self.all_dirty || !self.dirty.is_empty() {
            return Some(now);
        }
        // Drop stale heap entries from the top.
        while let Some(Reverse((at, id))) = self.heap.peek().copied() {
            if self.next_check.get(&id) == Some(&at) {
                break;
            }
            self.heap.pop();
        }
        let mut wake = self.heap.peek().map(|Reverse((at, _))| *at);
        for run in self.running.values() {
            let times = [
                run.stopping.map(|(_, at)| at),
                run.deadline.filter(|_| run.stopping.is_none()),
                run.end_check.filter(|_| run.stopping.is_none()),
            ];
            for at in times.into_iter().flatten() {
                wake = earliest(wake, Some(at));
            }
        }
        match self.next_change(&self.shut_cond, None, now) {
            Ok(at) => wake = earliest(wake, at),
            Err(e) => tracing::warn!(error = %e, "shut condition cannot say when it changes"),
        }
        if let Some(cap) = self.config.cycle_sleep {
            wake = earliest(wake, now.checked_add_signed(cap));
        }
        wake
    }

    // ----- conditions ----------------------------------------------------------

    /// Calls `f` with the evaluation context of `task` at `now`: the session's
    /// zone, log, parameters and tasks, and the scheduler's state.
    fn in_context<T>(
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

    fn check(&self, cond: &Condition, task: Option<&str>, now: DateTime<Utc>) -> Check {
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

    fn next_change(
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

    // ----- runs ----------------------------------------------------------------

    /// Starts a run of `task`: the `run` record first, then the body. A run
    /// that can start is queued in `starting` (its record and body follow in
    /// [`Runner::flush_starts`]); a `main` run, or one whose parameters cannot
    /// be resolved, is written and handled at once.
    async fn start(&mut self, task: &TaskSnapshot) -> Result<(), Error> {
        let run = RunId(self.next_run);
        self.next_run += 1;
        let name = task.spec.name.clone();
        let prepared = self.prepare(task);
        let now = self.session.now();
        let mut record = LogRecord::new(name.clone(), Action::Run, now);
        record.start = Some(now);
        let prepared = match prepared {
            Ok(request) if task.spec.execution != Execution::Main => {
                if let Some(watchers) = self.plan.watchers.get(&name) {
                    self.flush_before.extend(watchers.iter().copied());
                }
                self.starting.push(Starting {
                    run,
                    task: task.clone(),
                    record,
                    request,
                });
                return Ok(());
            }
            other => other,
        };
        // Log order: what is queued is written first.
        self.flush_starts()?;
        self.flush_ends()?;
        self.session.append(Some(task.id), record)?;
        self.session.run_started(task.id);
        self.stats.lock().runs_started += 1;
        tracing::info!(task = %name, run_id = %run, execution = %task.spec.execution, "run started");
        self.touched(task.id, &name, false);

        let request = match prepared {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(task = %name, run_id = %run, error = %e, "run could not start");
                let running = self.running_entry(task, now, CancellationToken::new(), None);
                self.finish(run, running, RunOutcome::Fail(e.message().to_owned()))?;
                if self.config.silence_task_prerun {
                    return Ok(());
                }
                return Err(e);
            }
        };
        // A `main` run: awaited in place.
        let cancel = request.cancel.clone();
        let running = self.running_entry(task, now, cancel, None);
        let outcome = execute(request).await;
        self.finish(run, running, outcome)
    }

    /// Writes the `run` records of the queued starts in one batch (one
    /// transaction for a durable log), then starts their bodies: a body never
    /// starts before its record is stored.
    fn flush_starts(&mut self) -> Result<(), Error> {
        self.flush_before.clear();
        if self.starting.is_empty() {
            return Ok(());
        }
        let starting = std::mem::take(&mut self.starting);
        let records = starting
            .iter()
            .map(|s| (Some(s.task.id), s.record.clone()))
            .collect();
        self.session.append_batch(records)?;
        for Starting {
            run,
            task,
            record,
            request,
        } in starting
        {
            self.session.run_started(task.id);
            self.stats.lock().runs_started += 1;
            tracing::info!(task = %task.spec.name, run_id = %run, execution = %task.spec.execution, "run started");
            self.touched(task.id, &task.spec.name, false);
            let cancel = request.cancel.clone();
            let abort = match &self.runs_on {
                Some(runtime) => self.runs.spawn_on(execute(request), runtime),
                None => self.runs.spawn(execute(request)),
            };
            self.run_of.insert(abort.id(), run);
            let running = self.running_entry(&task, record.timestamp, cancel, Some(abort));
            self.running.insert(run, running);
        }
        Ok(())
    }

    /// The request of a run: parameters resolved, function looked up.
    fn prepare(&self, task: &TaskSnapshot) -> Result<RunRequest, Error> {
        let params = self.session.run_params(&task.spec.parameters)?;
        let function = match &task.spec.kind {
            TaskKind::Function { func } => Some(self.session.function(func).ok_or_else(|| {
                crate::session::invalid_task(format!("unknown function '{func}'"))
            })?),
            _ => None,
        };
        Ok(RunRequest {
            task: task.spec.name.clone(),
            kind: task.spec.kind.clone(),
            execution: task.spec.execution,
            params,
            function,
            cancel: CancellationToken::new(),
        })
    }

    fn running_entry(
        &self,
        task: &TaskSnapshot,
        started: DateTime<Utc>,
        cancel: CancellationToken,
        abort: Option<AbortHandle>,
    ) -> Running {
        let timeout = task.spec.timeout.unwrap_or(self.config.timeout);
        let deadline = if task.spec.permanent_task || task.spec.execution == Execution::Main {
            None
        } else {
            started.checked_add_signed(timeout)
        };
        // A run with an end condition has it checked in the next cycle (which
        // then says when to check again).
        let has_end = !matches!(*task.end, Condition::Constant { value: false, .. });
        Running {
            task: task.id,
            name: task.spec.name.clone(),
            started,
            cancel,
            abort,
            deadline,
            end_check: has_end.then_some(started),
            stopping: None,
        }
    }

    /// Writes the end record of a run (with any queued) and updates the session.
    fn finish(&mut self, run: RunId, running: Running, outcome: RunOutcome) -> Result<(), Error> {
        self.queue_end(run, running, outcome);
        self.flush_ends()
    }

    /// Queues the end record of a run; [`Runner::flush_ends`] writes it.
    fn queue_end(&mut self, run: RunId, running: Running, outcome: RunOutcome) {
        let now = self.session.now();
        let name = self
            .session
            .name_of(running.task)
            .unwrap_or_else(|| running.name.clone());
        let (action, exc_text, returned) = match outcome {
            RunOutcome::Success(value) => (Action::Success, None, Some(value)),
            RunOutcome::Fail(message) => (Action::Fail, Some(message), None),
            RunOutcome::Inaction => (Action::Inaction, None, None),
            RunOutcome::Terminated => (
                Action::Terminate,
                Some(
                    running
                        .stopping
                        .map_or("unknown reason", |(reason, _)| reason.as_str())
                        .to_owned(),
                ),
                None,
            ),
        };
        let mut record = LogRecord::new(name.clone(), action, now);
        record.start = Some(running.started);
        record.end = Some(now);
        record.runtime = Some(now - running.started);
        record.exc_text = exc_text;
        self.ending.push(Ending {
            run,
            task: running.task,
            started_as: running.name,
            record,
            returned,
        });
    }

    /// Writes the queued end records in one batch (one transaction for a
    /// durable log), then tells the session the runs ended. The session hears
    /// of every end even when the log refused the records (the error is
    /// returned then).
    fn flush_ends(&mut self) -> Result<(), Error> {
        if self.ending.is_empty() {
            return Ok(());
        }
        let ending = std::mem::take(&mut self.ending);
        let records = ending
            .iter()
            .map(|e| (Some(e.task), e.record.clone()))
            .collect();
        let appended = self.session.append_batch(records);
        for Ending {
            run,
            task,
            started_as,
            record,
            returned,
        } in ending
        {
            let name = record.task_name;
            self.session
                .run_ended(task, returned.map(|value| (name.clone(), value)));
            self.stats.lock().runs_finished += 1;
            tracing::info!(task = %name, run_id = %run, action = %record.action, "run ended");
            self.touched(task, &name, true);
            if name != started_as {
                self.touched(task, &started_as, false);
            }
        }
        self.dirty.extend(self.waiting_slot.drain());
        appended
    }

    /// A spawned run ended (or was dropped).
    fn joined(
        &mut self,
        joined: Result<(tokio::task::Id, RunOutcome), tokio::task::JoinError>,
    ) -> Result<(), Error> {
        let (id, outcome) = match joined {
            Ok((id, outcome)) => (id, outcome),
            Err(e) if e.is_panic() => (e.id(), RunOutcome::Fail("the run panicked".to_owned())),
            // Aborted: already logged by `drop_run`.
            Err(e) => {
                self.run_of.remove(&e.id());
                return Ok(());
            }
        };
        match self.run_of.remove(&id) {
            Some(run) => self.handle(Event::RunFinished { run, outcome }),
            None => Ok(()),
        }
    }

    /// Cancels a run for `reason` (once).
    fn stop(&mut self, run: RunId, reason: TerminateReason, now: DateTime<Utc>) {
        let Some(running) = self.running.get_mut(&run) else {
            return;
        };
        if running.stopping.is_some() {
            return;
        }
        let grace = TimeDelta::from_std(STOP_GRACE).unwrap_or(TimeDelta::seconds(5));
        running.stopping = Some((reason, now.checked_add_signed(grace).unwrap_or(now)));
        running.cancel.cancel();
        tracing::info!(task = %running.name, run_id = %run, reason = %reason, "terminating run");
    }

    /// Drops a run that did not end within the grace and logs `terminate`.
    fn drop_run(&mut self, run: RunId) -> Result<(), Error> {
        let Some(running) = self.running.remove(&run) else {
            return Ok(());
        };
        if let Some(abort) = &running.abort {
            abort.abort();
        }
        tracing::warn!(task = %running.name, run_id = %run, "run did not stop in time, dropped");
        self.finish(run, running, RunOutcome::Terminated)
    }

    /// Termination checks of the running runs: requests, timeouts, end
    /// conditions, overdue cancellations.
    fn check_running(&mut self, now: DateTime<Utc>) -> Result<(), Error> {
        let runs: Vec<RunId> = self.running.keys().copied().collect();
        let ids: Vec<TaskId> = self.running.values().map(|r| r.task).collect();
        let tasks: HashMap<TaskId, TaskSnapshot> = self
            .session
            .snapshot(&ids)
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        for run in runs {
            let Some(running) = self.running.get(&run) else {
                continue;
            };
            if let Some((_, drop_at)) = running.stopping {
                if now >= drop_at {
                    self.drop_run(run)?;
                }
                continue;
            }
            let task_id = running.task;
            let deadline = running.deadline;
            let Some(task) = tasks.get(&task_id) else {
                // Deleted: its Terminate event stops it.
                continue;
            };
            if task.spec.force_termination {
                self.session.termination_taken(task_id);
                self.stop(run, TerminateReason::Requested, now);
                continue;
            }
            if deadline.is_some_and(|at| now >= at) {
                self.stop(run, TerminateReason::Timeout, now);
                continue;
            }
            let end = Arc::clone(&task.end);
            if matches!(*end, Condition::Constant { value: false, .. }) {
                continue;
            }
            match self.check(&end, Some(&task.spec.name), now) {
                Check::Value(true) => self.stop(run, TerminateReason::EndCondition, now),
                Check::Value(false) => {
                    let at = self.next_change(&end, Some(&task.spec.name), now)?;
                    if let Some(running) = self.running.get_mut(&run) {
                        running.end_check = at;
                    }
                }
                Check::Stop(e) => return Err(e),
            }
        }
        Ok(())
    }

    // ----- events --------------------------------------------------------------

    /// Handles every event already waiting, without blocking.
    fn drain_events(&mut self) -> Result<(), Error> {
        while let Ok(event) = self.events.try_recv() {
            self.handle(event)?;
        }
        while let Some(joined) = self.runs.try_join_next_with_id() {
            self.joined(joined)?;
        }
        self.flush_ends()
    }

    fn handle(&mut self, event: Event) -> Result<(), Error> {
        match event {
            Event::RunFinished { run, outcome } => {
                // Written with the other ends of this wake (`flush_ends`).
                if let Some(running) = self.running.remove(&run) {
                    self.queue_end(run, running, outcome);
                }
            }
            Event::Changed => self.session_changed(),
            Event::Terminate { task, reason } => {
                let now = self.session.now();
                let runs: Vec<RunId> = self
                    .running
                    .iter()
                    .filter(|(_, r)| r.task == task)
                    .map(|(id, _)| *id)
                    .collect();
                for run in runs {
                    self.stop(run, reason, now);
                }
            }
            Event::Shutdown => self.shutdown_requested = true,
        }
        Ok(())
    }

    // ----- shutdown ------------------------------------------------------------

    /// Stops: shutdown tasks, permanent tasks terminated, a grace for the
    /// others, then termination of what is left. `graceful` is false after an
    /// error: everything is terminated at once.
    async fn shutdown(&mut self, graceful: bool) -> Result<(), Error> {
        tracing::info!(graceful, "scheduler shutting down");
        // After an error mid-cycle: runs decided but not written never started.
        self.starting.clear();
        self.flush_before.clear();
        let mut result = Ok(());
        if graceful && let Err(e) = self.special_tasks(|spec| spec.on_shutdown).await {
            result = Err(e);
        }
        let now = self.session.now();
        let permanent: Vec<RunId> = {
            let ids: Vec<TaskId> = self.running.values().map(|r| r.task).collect();
            let permanent: HashSet<TaskId> = self
                .session
                .snapshot(&ids)
                .into_iter()
                .filter(|t| t.spec.permanent_task)
                .map(|t| t.id)
                .collect();
            self.running
                .iter()
                .filter(|(_, r)| !graceful || result.is_err() || permanent.contains(&r.task))
                .map(|(id, _)| *id)
                .collect()
        };
        for run in permanent {
            self.stop(run, TerminateReason::Shutdown, now);
        }
        let grace_end = now
            .checked_add_signed(self.config.shutdown_grace)
            .unwrap_or(now);
        let mut grace_over = false;
        while !self.running.is_empty() {
            let now = self.session.now();
            if !grace_over && now >= grace_end {
                grace_over = true;
                let all: Vec<RunId> = self.running.keys().copied().collect();
                for run in all {
                    self.stop(run, TerminateReason::Shutdown, now);
                }
            }
            if let Err(e) = self.check_running(now) {
                tracing::error!(error = %e, "check during shutdown failed");
                if result.is_ok() {
                    result = Err(e);
                }
            }
            if self.running.is_empty() {
                break;
            }
            let mut wake = if grace_over { None } else { Some(grace_end) };
            for run in self.running.values() {
                wake = earliest(wake, run.stopping.map(|(_, at)| at));
                wake = earliest(wake, run.deadline.filter(|_| run.stopping.is_none()));
            }
            let sleep = wake.map(|at| self.session.clock().sleep_until(at));
            tokio::select! {
                biased;
                Some(joined) = self.runs.join_next_with_id(), if !self.runs.is_empty() => {
                    if let Err(e) = self.joined(joined).and_then(|()| self.flush_ends())
                        && result.is_ok() {
                            result = Err(e);
                        }
                }
                event = self.events.recv() => {
                    if let Some(Event::Terminate { task, reason }) = event {
                        let _ = self.handle(Event::Terminate { task, reason });
                    }
                }
                () = async { if let Some(sleep) = sleep { sleep.await } }, if wake.is_some() => {}
            }
        }
        self.runs.abort_all();
        self.run_of.clear();
        tracing::info!("scheduler stopped");
        result
    }
}

/// Dropping the runner (normally after [`Runner::run`], or when the future of
/// [`Scheduler::run`](super::Scheduler::run) is dropped mid-way) ends what is
/// left: runs still going on are aborted and logged `terminate` (reason
/// `shutdown`, best effort), and the session gets its event receiver back.
impl Drop for Runner {
    fn drop(&mut self) {
        // Runs queued to start never started: nothing to write for them.
        self.starting.clear();
        if let Err(e) = self.flush_ends() {
            tracing::error!(error = %e, "could not log the end of runs");
        }
        let now = self.session.now();
        let left: Vec<RunId> = self.running.keys().copied().collect();
        for run in left {
            if let Some(running) = self.running.get_mut(&run)
                && running.stopping.is_none()
            {
                running.stopping = Some((TerminateReason::Shutdown, now));
            }
            if let Err(e) = self.drop_run(run) {
                tracing::error!(error = %e, "could not log the end of a dropped run");
            }
        }
        self.runs.abort_all();
        self.session.set_scheduler_state(None);
        let (_, empty) = mpsc::unbounded_channel();
        let events = std::mem::replace(&mut self.events, empty);
        self.session.return_events(events);
    }
}

/// Sorts tasks by priority (higher first), then insertion order.
fn sort(tasks: &mut [TaskSnapshot]) {
    tasks.sort_by_key(|t| (Reverse(t.spec.priority), t.seq));
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// What a condition reads besides the log of named tasks.
#[derive(Default)]
struct Reads {
    /// The scheduler's cycle count.
    cycles: bool,
    /// The session parameters.
    parameters: bool,
}

/// Collects the task names `cond` reads records of (other than `owner`), and
/// what else it reads.
fn watch(cond: &Condition, owner: &str, named: &mut HashSet<String>, reads: &mut Reads) {
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
