//! The full task log interface the session, the scheduler and the API use:
//! [`LogStore`], and the per-task [`TaskLogSummary`] status and `last_*` come from.

use chrono::{DateTime, Utc};
use engine_query::Filter;

use super::{Action, LogRead, LogRecord};
use crate::Error;

/// The latest record times of one task, and its status: what `status` and
/// `last_*` are derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskLogSummary {
    /// The action of the task's latest record (in log order).
    pub status: Option<Action>,
    /// The timestamp of the latest record of each action, indexed by `Action as usize`.
    pub last: [Option<DateTime<Utc>>; 6],
}

impl TaskLogSummary {
    /// The timestamp of the latest record with `action`.
    pub fn last(&self, action: Action) -> Option<DateTime<Utc>> {
        self.last[action as usize]
    }
}

/// A task log: append records, read them by filter, and answer the indexed
/// look-ups conditions need ([`LogRead`]).
///
/// `append` returning `Ok` means the record is stored; for a durable store, on
/// disk. Implementations are shared between the scheduler and the API as
/// `Arc<dyn LogStore>` (`Send + Sync`), and hold their locks for one operation
/// only. Calls may block on I/O (a durable store's append waits for the disk):
/// async callers use `spawn_blocking` or accept a short block, and never call
/// them while holding a lock of their own that other tasks wait on.
///
/// Every implementation must pass the conformance suite in
/// `crates/engine-core/tests/log_conformance.rs`.
pub trait LogStore: LogRead {
    /// Appends one record.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Log`](crate::ErrorKind::Log) when the record cannot be
    /// stored; then it is not in the log.
    fn append(&self, record: LogRecord) -> Result<(), Error>;

    /// Appends `records` in order. The provided implementation appends them one
    /// by one (stopping at the first error); a durable store writes them in one
    /// transaction, all or none.
    ///
    /// # Errors
    ///
    /// As [`LogStore::append`].
    fn append_batch(&self, records: Vec<LogRecord>) -> Result<(), Error> {
        records
            .into_iter()
            .try_for_each(|record| self.append(record))
    }

    /// The records matching `filter`, in log order (oldest first). With `limit`,
    /// only the newest `limit` of them (still oldest first). Uses the filter's
    /// push-down on `task_name`, `action` and `timestamp` so an index is used
    /// instead of a scan where possible.
    fn query(&self, filter: &Filter, limit: Option<usize>) -> Result<Vec<LogRecord>, Error>;

    /// The status and latest times of `task`.
    fn summary(&self, task: &str) -> Result<TaskLogSummary, Error>;
}
