//! The in-memory task log: records in log order per task, with per-action indexes
//! of sorted timestamps, so conditions count and look up without scanning.
//!
//! Layout, per task: the records in log order (a ring: the oldest are dropped past
//! the retention bound), and for each action the timestamps of its records sorted
//! by time plus the position of its latest record in log order. So
//! [`LogRead::count`] is two binary searches per action, [`LogRead::latest`] is a
//! lookup, and both stay right when records arrive out of timestamp order.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use parking_lot::RwLock;

use super::{Action, ActionSet, LogRead, LogRecord};
use crate::Error;

/// Settings of a [`MemoryLogStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLogConfig {
    /// How many records are kept per task; past it, the oldest (in log order) are
    /// dropped, so memory stays flat. At least 1.
    pub max_records_per_task: usize,
}

impl Default for MemoryLogConfig {
    fn default() -> Self {
        MemoryLogConfig {
            max_records_per_task: 10_000,
        }
    }
}

/// The in-memory task log, safe to share between threads.
///
/// Reads and appends take a [`parking_lot::RwLock`] for the length of one index
/// operation only.
#[derive(Debug, Default)]
pub struct MemoryLogStore {
    config: MemoryLogConfig,
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The sequence number the next record gets (global log order).
    next_seq: u64,
    /// Records kept, all tasks.
    len: usize,
    tasks: HashMap<String, TaskLog>,
}

/// One task's records and indexes.
///
/// Records are numbered per task in log order (dense), so the record numbered `n`
/// sits at `records[n - first]`.
#[derive(Debug, Default)]
struct TaskLog {
    /// The number of `records[0]`.
    first: u64,
    /// Records in log order, each with its global sequence number (for the merged
    /// log order of [`MemoryLogStore::records`]).
    records: VecDeque<(u64, LogRecord)>,
    /// Per action (indexed by `Action as usize`).
    actions: [ActionIndex; Action::ALL.len()],
}

/// One action's records of one task.
#[derive(Debug, Default)]
struct ActionIndex {
    /// `(timestamp, record number)`, sorted.
    times: VecDeque<(DateTime<Utc>, u64)>,
    /// The number of the latest record in log order.
    latest: Option<u64>,
}

impl MemoryLogStore {
    /// An empty store with `config`.
    pub fn with_config(config: MemoryLogConfig) -> Self {
        let config = MemoryLogConfig {
            max_records_per_task: config.max_records_per_task.max(1),
        };
        MemoryLogStore {
            config,
            inner: RwLock::new(Inner::default()),
        }
    }

    /// The store's settings.
    pub fn config(&self) -> MemoryLogConfig {
        self.config
    }

    /// Appends `record` at the end of the log (its timestamp may be earlier than
    /// earlier records'), dropping the task's oldest record past the retention bound.
    pub fn append(&self, record: LogRecord) {
        let mut guard = self.inner.write();
        let inner = &mut *guard;
        let seq = inner.next_seq;
        inner.next_seq += 1;
        if !inner.tasks.contains_key(record.task_name.as_str()) {
            inner
                .tasks
                .insert(record.task_name.clone(), TaskLog::default());
        }
        let Some(task) = inner.tasks.get_mut(record.task_name.as_str()) else {
            return;
        };
        task.push(seq, record);
        inner.len += 1;
        while task.records.len() > self.config.max_records_per_task {
            task.pop_oldest();
            inner.len -= 1;
        }
    }

    /// Appends every record of `records`, in order.
    pub fn extend(&self, records: impl IntoIterator<Item = LogRecord>) {
        for record in records {
            self.append(record);
        }
    }

    /// How many records the store holds (all tasks).
    pub fn len(&self) -> usize {
        self.inner.read().len
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records of `task`, in log order.
    pub fn task_records(&self, task: &str) -> Vec<LogRecord> {
        let inner = self.inner.read();
        inner
            .tasks
            .get(task)
            .map(|log| log.records.iter().map(|(_, r)| r.clone()).collect())
            .unwrap_or_default()
    }

    /// Every record kept, in log order.
    pub fn records(&self) -> Vec<LogRecord> {
        let mut all: Vec<(u64, LogRecord)> = {
            let inner = self.inner.read();
            inner
                .tasks
                .values()
                .flat_map(|log| log.records.iter().cloned())
                .collect()
        };
        all.sort_unstable_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, r)| r).collect()
    }
}

impl TaskLog {
    fn push(&mut self, seq: u64, record: LogRecord) {
        let number = self.first + self.records.len() as u64;
        let index = &mut self.actions[record.action as usize];
        let key = (record.timestamp, number);
        // Records nearly always come in time order: then this inserts at the back.
        let at = index.times.partition_point(|probe| *probe <= key);
        index.times.insert(at, key);
        index.latest = Some(number);
        self.records.push_back((seq, record));
    }

    fn pop_oldest(&mut self) {
        let Some((_, record)) = self.records.pop_front() else {
            return;
        };
        let key = (record.timestamp, self.first);
        self.first += 1;
        let index = &mut self.actions[record.action as usize];
        if let Ok(at) = index.times.binary_search(&key) {
            index.times.remove(at);
        }
        // The oldest record was its action's latest only if it was the only one.
        if index.times.is_empty() {
            index.latest = None;
        }
    }

    /// The record numbered `number`, if still kept.
    fn get(&self, number: u64) -> Option<&LogRecord> {
        let offset = usize::try_from(number.checked_sub(self.first)?).ok()?;
        self.records.get(offset).map(|(_, record)| record)
    }
}

impl LogRead for MemoryLogStore {
    fn count(
        &self,
        task: &str,
        actions: ActionSet,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let inner = self.inner.read();
        let Some(log) = inner.tasks.get(task) else {
            return Ok(0);
        };
        let mut total = 0u64;
        for action in actions.iter() {
            let times = &log.actions[action as usize].times;
            let lo = match start {
                Some(start) => times.partition_point(|(t, _)| *t < start),
                None => 0,
            };
            let hi = times.partition_point(|(t, _)| *t <= end);
            total += hi.saturating_sub(lo) as u64;
        }
        Ok(total)
    }

    fn latest(&self, task: &str, actions: ActionSet) -> Result<Option<LogRecord>, Error> {
        let inner = self.inner.read();
        let Some(log) = inner.tasks.get(task) else {
            return Ok(None);
        };
        let seq = actions
            .iter()
            .filter_map(|a| log.actions[a as usize].latest)
            .max();
        Ok(seq.and_then(|seq| log.get(seq)).cloned())
    }

    fn first_since(
        &self,
        task: &str,
        actions: ActionSet,
        from: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let inner = self.inner.read();
        let Some(log) = inner.tasks.get(task) else {
            return Ok(None);
        };
        Ok(actions
            .iter()
            .filter_map(|action| {
                let times = &log.actions[action as usize].times;
                let at = times.partition_point(|(t, _)| *t < from);
                times.get(at).map(|(t, _)| *t)
            })
            .min())
    }

    fn last_until(
        &self,
        task: &str,
        actions: ActionSet,
        until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let inner = self.inner.read();
        let Some(log) = inner.tasks.get(task) else {
            return Ok(None);
        };
        Ok(actions
            .iter()
            .filter_map(|action| {
                let times = &log.actions[action as usize].times;
                let at = times.partition_point(|(t, _)| *t <= until);
                at.checked_sub(1)
                    .and_then(|i| times.get(i))
                    .map(|(t, _)| *t)
            })
            .max())
    }
}
