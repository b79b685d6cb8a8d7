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

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::{Event, RunId, SchedulerStats, TerminateReason};
use crate::Error;
use crate::condition::Condition;
use crate::condition::eval::SchedulerState;
use crate::log::{Action, LogRecord};
use crate::session::{Config, Session, TaskId, TaskSnapshot};
use crate::task::{Execution, RunOutcome, RunRequest};

mod conditions;
mod runs;
mod shutdown;

use conditions::{Check, Reads, watch};

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
