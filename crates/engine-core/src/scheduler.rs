//! The scheduler: starts the tasks of a [`Session`] when their conditions hold,
//! terminates runs past their timeout or end condition, writes every run to the
//! task log, and sleeps in between.
//!
//! # The loop
//!
//! The scheduler is event-driven: it waits in a `select!` over a closed set of
//! events (a run finished, the session changed, a termination request, the
//! shutdown signal) and the clock's [`sleep_until`](crate::Clock::sleep_until)
//! the next instant a condition can change
//! ([`Condition::next_change`]). It never polls. Each wake is one *cycle*:
//!
//! 1. running runs are checked: `force_termination` or an API request, the
//!    timeout (the task's or the config's; never for permanent tasks or `main`
//!    runs) and the end condition cancel the run; its `terminate` record says
//!    why in `exc_text` (`requested`, `timeout`, `end condition`, `shutdown`);
//! 2. the tasks due (their next check time has come) or touched by an event
//!    (a record of a task their conditions name, a session change) are
//!    considered in priority order (higher first, ties by insertion order):
//!    `force_run` starts a task whatever its condition (and is consumed);
//!    `disabled` skips it; `on_startup` / `on_shutdown` tasks run only at
//!    start-up / shutdown; a running task does not start again unless
//!    `allow_overlap`; at most `max_concurrent_runs` runs (other than `main`)
//!    go on at once.
//!
//! A start writes the `run` record (and waits for the log to accept it) before
//! the body starts; the end writes `success`, `fail` (the message in
//! `exc_text`), `inaction` or `terminate`. Records are written in batches (one
//! transaction, so one disk sync for a durable log): the `run` records of the
//! runs a cycle starts, written before any of their bodies starts (and before
//! a task whose condition names one of them is checked), and the end records
//! of the runs found ended at one wake. A `main` run is awaited inside the
//! cycle. A run that does not stop within [`STOP_GRACE`] of being cancelled is
//! dropped (a blocking function's thread is detached) and logged `terminate`.
//!
//! A cycle count (`scheduler has more than N cycles`) therefore counts wakes,
//! not turns of a busy loop. A timeout fires at `start + timeout` (inclusive).
//!
//! # Where the loop runs
//!
//! On a multi-threaded tokio runtime the loop runs on a thread of its own
//! (`engine-scheduler`, with a single-threaded runtime), so a runtime busy with
//! other work (HTTP requests, the runs' own I/O) cannot delay its wake-ups;
//! `main` runs go with it, every other run is spawned on the caller's runtime.
//! On a current-thread runtime (tests with paused time among them) it runs in
//! place. Either way, dropping the future of [`Scheduler::run`] ends the loop
//! before the drop returns.
//!
//! A task with `allow_overlap` is looked at again when its condition may change
//! or an event touches it, also while it runs: a condition that stays true
//! while its runs go on (`true`; `daily` before the first run has ended) starts
//! a new run at each such look.
//!
//! # Start-up and shutdown
//!
//! Start-up sets the cycle count to 0 and the start time to now, logs `crash`
//! for every task whose latest record is a `run` (the engine stopped during
//! that run), then starts the `on_startup` tasks (a start-up task with the
//! default `false` condition is forced). The scheduler stops when the shutdown
//! future completes or the shut condition holds (checked before each cycle):
//! it starts no more runs, runs the `on_shutdown` tasks, terminates permanent
//! tasks, waits up to the config's `shutdown_grace` for the other runs, then
//! terminates them (reason `shutdown`).
//!
//! An error that stops the scheduler (a condition error with
//! `silence_cond_check` off, a launch error with `silence_task_prerun` off, a
//! log that refuses a record) terminates the runs and is returned.
//!
//! ```
//! # use std::sync::Arc;
//! # use chrono::TimeZone;
//! # use engine_core::{Clock, Scheduler, Session};
//! # use engine_core::clock::SimulatedClock;
//! # use engine_core::log::MemoryLogStore;
//! # use engine_core::task::TaskKind;
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
//! let clock = Arc::new(SimulatedClock::start_at(start));
//! let session = Session::new(Arc::new(MemoryLogStore::default()), clock.clone());
//! session.register_async("hello", |_ctx| async { Ok(serde_json::json!("hi")) });
//! let mut spec = session.default_spec("hello", TaskKind::Function { func: "hello".into() });
//! spec.start_cond = "daily".parse()?;
//! session.create_task(spec, None)?;
//!
//! // Run three simulated days (in milliseconds of real time).
//! let until = start + chrono::TimeDelta::days(3);
//! let stats = Scheduler::new(session.clone()).run(clock.sleep_until(until)).await?;
//! assert_eq!(stats.runs_finished, 3);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::condition::Condition;
use crate::session::{Session, TaskId};
use crate::task::RunOutcome;
use crate::{Error, ErrorKind};

mod runner;
mod thread;

#[cfg(test)]
mod tests;

/// How long a cancelled run has to end before it is dropped and logged
/// `terminate` anyway (longer than [`crate::task::KILL_GRACE`] and
/// [`crate::task::CANCEL_GRACE`], so the runner's own escalation comes first).
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Why a run was terminated (the `exc_text` of its `terminate` record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminateReason {
    /// The run outlived its timeout.
    Timeout,
    /// The task's end condition held.
    EndCondition,
    /// `force_termination`, [`Session::terminate`] or the task was deleted.
    Requested,
    /// The scheduler shut down.
    Shutdown,
}

impl TerminateReason {
    /// The text: `timeout`, `end condition`, `requested`, `shutdown`.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminateReason::Timeout => "timeout",
            TerminateReason::EndCondition => "end condition",
            TerminateReason::Requested => "requested",
            TerminateReason::Shutdown => "shutdown",
        }
    }
}

impl fmt::Display for TerminateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What wakes the scheduler.
#[derive(Debug)]
pub(crate) enum Event {
    /// A run ended.
    RunFinished {
        /// The run.
        run: RunId,
        /// How it ended.
        outcome: RunOutcome,
    },
    /// The session changed (tasks, parameters, returns, config).
    Changed,
    /// The runs of a task must stop.
    Terminate {
        /// The task.
        task: TaskId,
        /// Why.
        reason: TerminateReason,
    },
    /// The shutdown signal arrived.
    Shutdown,
}

/// A run's number within one scheduler run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RunId(pub(crate) u64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Counters of one scheduler run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedulerStats {
    /// Times the scheduler woke from waiting (an event or a due time).
    pub wakes: u64,
    /// Cycles run (start-up not counted).
    pub cycles: u64,
    /// Start and end conditions evaluated.
    pub checks: u64,
    /// Runs started (each wrote a `run` record).
    pub runs_started: u64,
    /// Runs ended (each wrote its end record).
    pub runs_finished: u64,
}

/// The scheduler of a session. Run it with [`Scheduler::run`].
#[derive(Debug)]
pub struct Scheduler {
    session: Session,
    shut_cond: Condition,
    stats: Arc<Mutex<SchedulerStats>>,
}

impl Scheduler {
    /// A scheduler for `session`, with the shut condition `false`.
    pub fn new(session: Session) -> Scheduler {
        Scheduler {
            session,
            shut_cond: Condition::Constant {
                value: false,
                always: false,
            },
            stats: Arc::new(Mutex::new(SchedulerStats::default())),
        }
    }

    /// Sets the shut condition: when it holds (checked before each cycle), the
    /// scheduler shuts down (`scheduler has run over 5 hours`,
    /// `scheduler has more than 0 cycles`).
    #[must_use]
    pub fn with_shut_cond(mut self, shut_cond: Condition) -> Scheduler {
        self.shut_cond = shut_cond;
        self
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The counters of the current (or last) run.
    pub fn stats(&self) -> SchedulerStats {
        *self.stats.lock()
    }

    /// Runs until `shutdown` completes or the shut condition holds, then shuts
    /// down gracefully (see the module docs) and returns the counters. On a
    /// multi-threaded tokio runtime the loop runs on a thread of its own
    /// ("Where the loop runs" in the module docs).
    ///
    /// # Errors
    ///
    /// Another scheduler runs on the session; a condition error with
    /// `silence_cond_check` off; a launch error with `silence_task_prerun` off;
    /// the log refused a record.
    pub async fn run<F>(&self, shutdown: F) -> Result<SchedulerStats, Error>
    where
        F: Future,
    {
        let Some(events) = self.session.take_events() else {
            return Err(Error::new(
                ErrorKind::Conflict,
                "a scheduler is already running on this session",
            ));
        };
        *self.stats.lock() = SchedulerStats::default();
        let runner = runner::Runner::new(
            self.session.clone(),
            self.shut_cond.clone(),
            events,
            Arc::clone(&self.stats),
        );
        // Dropping the runner gives the receiver back, also when this future is
        // dropped before it completes.
        let result = if thread::wanted() {
            thread::run(runner, shutdown).await
        } else {
            thread::inline(runner, shutdown).await
        };
        result.map(|()| self.stats())
    }
}
