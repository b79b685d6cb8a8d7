//! The in-memory task log: records in log order per task, with per-action indexes
//! of sorted timestamps, so conditions count and look up without scanning.
//!
//! Layout, per task: the records in log order (a ring: the oldest are dropped past
//! the retention bound), and for each action the timestamps of its records sorted
//! by time plus the position of its latest record in log order. So
//! [`LogRead::count`] is two binary searches per action, [`LogRead::latest`] is a
//! lookup, and both stay right when records arrive out of timestamp order.
//!
//! [`LogStore::query`] narrows candidates with the filter's push-down: only the
//! named tasks (or those in a name range), and, when the filter constrains the
//! action or the timestamp, only the matching slices of the per-action time
//! indexes (binary searches). The full filter runs on the candidates only, and
//! the global sequence number each record carries gives the log order across
//! tasks.

use std::cmp::Reverse;
use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use engine_query::Filter;
use parking_lot::RwLock;

use super::record::Pushdown;
use super::{Action, ActionSet, LogRead, LogRecord, LogStore, TaskLogSummary};
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
    /// Status and latest times, updated on append and kept through retention.
    summary: TaskLogSummary,
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
        self.summary.status = Some(record.action);
        self.summary.last[record.action as usize] = Some(record.timestamp);
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

    /// The record numbered `number`, if still kept, with its sequence number.
    fn get_seq(&self, number: u64) -> Option<&(u64, LogRecord)> {
        let offset = usize::try_from(number.checked_sub(self.first)?).ok()?;
        self.records.get(offset)
    }

    /// The record numbered `number`, if still kept.
    fn get(&self, number: u64) -> Option<&LogRecord> {
        self.get_seq(number).map(|(_, record)| record)
    }

    /// Adds to `out` the records of this task that may match `plan`, each with
    /// its sequence number.
    fn candidates<'a>(&'a self, plan: &Pushdown<'_>, out: &mut Vec<(u64, &'a LogRecord)>) {
        if !plan.narrows_records() {
            out.extend(self.records.iter().map(|(seq, record)| (*seq, record)));
            return;
        }
        for action in plan.actions.iter() {
            let times = &self.actions[action as usize].times;
            let lo = plan
                .start
                .map_or(0, |start| times.partition_point(|(t, _)| *t < start));
            let hi = plan
                .end
                .map_or(times.len(), |end| times.partition_point(|(t, _)| *t <= end));
            if lo >= hi {
                continue;
            }
            out.extend(
                times
                    .range(lo..hi)
                    .filter_map(|(_, number)| self.get_seq(*number))
                    .map(|(seq, record)| (*seq, record)),
            );
        }
    }
}

impl LogStore for MemoryLogStore {
    /// Appends like [`MemoryLogStore::append`]; never fails.
    fn append(&self, record: LogRecord) -> Result<(), Error> {
        MemoryLogStore::append(self, record);
        Ok(())
    }

    fn query(&self, filter: &Filter, limit: Option<usize>) -> Result<Vec<LogRecord>, Error> {
        let plan = Pushdown::new(filter);
        if plan.empty || limit == Some(0) {
            return Ok(Vec::new());
        }
        let inner = self.inner.read();
        let mut candidates: Vec<(u64, &LogRecord)> = Vec::new();
        match plan.task_names() {
            Some(names) => {
                for name in names {
                    if let Some(log) = inner.tasks.get(name) {
                        log.candidates(&plan, &mut candidates);
                    }
                }
            }
            None => {
                for (name, log) in &inner.tasks {
                    if plan.admits_task(name) {
                        log.candidates(&plan, &mut candidates);
                    }
                }
            }
        }
        let found = match limit {
            // Newest first until `limit` match, then back to log order.
            Some(limit) => {
                candidates.sort_unstable_by_key(|(seq, _)| Reverse(*seq));
                let mut found: Vec<LogRecord> = candidates
                    .into_iter()
                    .filter(|(_, record)| filter.matches(*record))
                    .take(limit)
                    .map(|(_, record)| record.clone())
                    .collect();
                found.reverse();
                found
            }
            None => {
                candidates.retain(|(_, record)| filter.matches(*record));
                candidates.sort_unstable_by_key(|(seq, _)| *seq);
                candidates
                    .into_iter()
                    .map(|(_, record)| record.clone())
                    .collect()
            }
        };
        Ok(found)
    }

    /// The status and latest times from the task's summary, which retention does
    /// not shrink: a task's `last_success` stays known after its record is dropped.
    fn summary(&self, task: &str) -> Result<TaskLogSummary, Error> {
        Ok(self
            .inner
            .read()
            .tasks
            .get(task)
            .map(|log| log.summary)
            .unwrap_or_default())
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
