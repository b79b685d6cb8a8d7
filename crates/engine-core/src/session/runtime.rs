//! The crate-internal side of [`Session`] that the scheduler drives: events,
//! change tracking, snapshots, run bookkeeping and log appends.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::state::apply_record;
use super::{Session, TaskId, TaskSnapshot, Touched, params};
use crate::Error;
use crate::condition::eval::SchedulerState;
use crate::log::{Action, LogRecord};
use crate::scheduler::Event;

impl Session {
    pub(super) fn send(&self, event: Event) {
        // The session holds the receiver too, so the channel never closes.
        let _ = self.inner.events.send(event);
    }

    /// Notes what a change touched (`note`) and wakes the scheduler with one
    /// coalesced `Changed` event.
    pub(super) fn changed(&self, note: impl FnOnce(&mut Touched)) {
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
    pub(crate) fn runs_ended(&self) -> tokio::sync::watch::Receiver<u64> {
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
