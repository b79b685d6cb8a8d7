//! Stopping the runner: the shutdown sequence and what dropping it ends.

use std::collections::HashSet;

use tokio::sync::mpsc;

use super::{Runner, earliest};
use crate::Error;
use crate::scheduler::{Event, RunId, TerminateReason};
use crate::session::TaskId;

impl Runner {
    /// Stops: shutdown tasks, permanent tasks terminated, a grace for the
    /// others, then termination of what is left. `graceful` is false after an
    /// error: everything is terminated at once.
    pub(super) async fn shutdown(&mut self, graceful: bool) -> Result<(), Error> {
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
