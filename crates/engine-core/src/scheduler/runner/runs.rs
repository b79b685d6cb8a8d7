//! Runs in the runner: starting them, writing their records in batches,
//! timeouts, end conditions and termination of runs going on.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::conditions::Check;
use super::{Ending, Runner, Running, Starting};
use crate::Error;
use crate::condition::Condition;
use crate::log::{Action, LogRecord};
use crate::scheduler::{Event, RunId, STOP_GRACE, TerminateReason};
use crate::session::{TaskId, TaskSnapshot};
use crate::task::{Execution, RunOutcome, RunRequest, TaskKind, execute};

impl Runner {
    /// Starts a run of `task`: the `run` record first, then the body. A run
    /// that can start is queued in `starting` (its record and body follow in
    /// [`Runner::flush_starts`]); a `main` run, or one whose parameters cannot
    /// be resolved, is written and handled at once.
    pub(super) async fn start(&mut self, task: &TaskSnapshot) -> Result<(), Error> {
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
    pub(super) fn flush_starts(&mut self) -> Result<(), Error> {
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
    pub(super) fn prepare(&self, task: &TaskSnapshot) -> Result<RunRequest, Error> {
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

    pub(super) fn running_entry(
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
    pub(super) fn finish(
        &mut self,
        run: RunId,
        running: Running,
        outcome: RunOutcome,
    ) -> Result<(), Error> {
        self.queue_end(run, running, outcome);
        self.flush_ends()
    }

    /// Queues the end record of a run; [`Runner::flush_ends`] writes it.
    pub(super) fn queue_end(&mut self, run: RunId, running: Running, outcome: RunOutcome) {
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
    pub(super) fn flush_ends(&mut self) -> Result<(), Error> {
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
    pub(super) fn joined(
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
    pub(super) fn stop(&mut self, run: RunId, reason: TerminateReason, now: DateTime<Utc>) {
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
    pub(super) fn drop_run(&mut self, run: RunId) -> Result<(), Error> {
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
    pub(super) fn check_running(&mut self, now: DateTime<Utc>) -> Result<(), Error> {
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
}
