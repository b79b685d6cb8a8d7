//! The task log: records of runs, and the traits that read and write it.
//!
//! Conditions read through [`LogRead`] (counts in a window, the latest record in
//! log order, the first or last time around an instant); the session, the
//! scheduler and the API also append and query through [`LogStore`]. Two stores
//! implement both, with the same answers (one conformance suite runs on each):
//!
//! - [`MemoryLogStore`]: in memory, indexed per task and action, with a
//!   retention bound;
//! - `SqliteLogStore` (feature `sqlite`): durable, one SQLite table with indexes;
//!   a record is on disk when `append` returns.
//!
//! A [`LogRecord`] is also an [`engine_query::Record`], so a [`engine_query::Filter`]
//! tests it directly; [`log_schema`] declares its field types for
//! [`engine_query::Filter::check`]. Stores use the filter's push-down on
//! `task_name`, `action` and `timestamp` to read only candidates.
//!
//! "Latest" always means last in log order (append order), not the greatest
//! timestamp: records may arrive out of timestamp order.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Error, ErrorKind};

mod memory;
mod record;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

pub use memory::{MemoryLogConfig, MemoryLogStore};
pub use record::log_schema;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteLogConfig, SqliteLogStore};
pub use store::{LogStore, TaskLogSummary};

/// What a log record says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// A run started.
    Run,
    /// A run succeeded.
    Success,
    /// A run failed.
    Fail,
    /// A run was terminated (end condition, timeout, request, shutdown).
    Terminate,
    /// A run ended with nothing to do.
    Inaction,
    /// The engine stopped while the run was going on.
    Crash,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 6] = [
        Action::Run,
        Action::Success,
        Action::Fail,
        Action::Terminate,
        Action::Inaction,
        Action::Crash,
    ];

    /// The wire name: `run`, `success`, `fail`, `terminate`, `inaction`, `crash`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Run => "run",
            Action::Success => "success",
            Action::Fail => "fail",
            Action::Terminate => "terminate",
            Action::Inaction => "inaction",
            Action::Crash => "crash",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Action::ALL.into_iter().find(|a| a.as_str() == text).ok_or_else(|| {
            Error::new(
                ErrorKind::Log,
                format!("unknown action '{text}', expected run, success, fail, terminate, inaction or crash"),
            )
        })
    }
}

/// A set of actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ActionSet(u8);

impl ActionSet {
    /// The empty set.
    pub const EMPTY: ActionSet = ActionSet(0);

    /// Every action.
    pub const ALL: ActionSet = ActionSet::of(&Action::ALL);

    /// The set of `actions`.
    pub const fn of(actions: &[Action]) -> ActionSet {
        let mut bits = 0u8;
        let mut i = 0;
        while i < actions.len() {
            bits |= 1 << actions[i] as u8;
            i += 1;
        }
        ActionSet(bits)
    }

    /// Whether `action` is in the set.
    pub fn contains(self, action: Action) -> bool {
        self.0 & (1 << action as u8) != 0
    }

    /// The actions of the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Action> {
        Action::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Action> for ActionSet {
    fn from_iter<I: IntoIterator<Item = Action>>(actions: I) -> Self {
        ActionSet(actions.into_iter().fold(0, |bits, a| bits | 1 << a as u8))
    }
}

/// One task log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The task.
    pub task_name: String,
    /// What happened.
    pub action: Action,
    /// When the record was written.
    pub timestamp: DateTime<Utc>,
    /// When the run started (`None` for a task that never logged `run`).
    pub start: Option<DateTime<Utc>>,
    /// When the run ended (`None` on `run` records).
    pub end: Option<DateTime<Utc>>,
    /// `end - start` (`None` on `run` records).
    pub runtime: Option<TimeDelta>,
    /// The error text of a `fail` (or the reason of a `terminate`).
    pub exc_text: Option<String>,
}

impl LogRecord {
    /// A bare record: the task, the action and the time, nothing else.
    pub fn new(task_name: impl Into<String>, action: Action, timestamp: DateTime<Utc>) -> Self {
        LogRecord {
            task_name: task_name.into(),
            action,
            timestamp,
            start: None,
            end: None,
            runtime: None,
            exc_text: None,
        }
    }

    /// `timestamp` as Unix seconds with a fraction.
    pub fn created(&self) -> f64 {
        self.timestamp.timestamp() as f64 + f64::from(self.timestamp.timestamp_subsec_nanos()) / 1e9
    }
}

/// Read access to the task log, as conditions need it. Implementations answer from
/// an index, never by scanning every record.
pub trait LogRead: Send + Sync {
    /// How many records of `task` with an action in `actions` have a timestamp in
    /// `[start, end]` (both inclusive; `start: None` = since ever).
    fn count(
        &self,
        task: &str,
        actions: ActionSet,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    ) -> Result<u64, Error>;

    /// The latest record of `task` (in log order) with an action in `actions`.
    fn latest(&self, task: &str, actions: ActionSet) -> Result<Option<LogRecord>, Error>;

    /// The earliest timestamp at or after `from` among the records of `task` with an
    /// action in `actions` (whatever their log order).
    ///
    /// Conditions use it to say when a record enters or leaves a time window. The
    /// provided implementation bisects time with [`LogRead::count`] (about 70
    /// counts); an indexed store should answer directly.
    fn first_since(
        &self,
        task: &str,
        actions: ActionSet,
        from: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        if self.count(task, actions, Some(from), DateTime::<Utc>::MAX_UTC)? == 0 {
            return Ok(None);
        }
        // Invariant: a record lies in [from, hi]; shrink hi to the earliest one.
        let (mut lo, mut hi) = (nanos(from), nanos(DateTime::<Utc>::MAX_UTC));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.count(task, actions, Some(from), instant(mid))? > 0 {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(Some(instant(hi)))
    }

    /// The latest timestamp at or before `until` among the records of `task` with an
    /// action in `actions` (whatever their log order).
    ///
    /// The provided implementation bisects time with [`LogRead::count`]; an indexed
    /// store should answer directly.
    fn last_until(
        &self,
        task: &str,
        actions: ActionSet,
        until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        if self.count(task, actions, None, until)? == 0 {
            return Ok(None);
        }
        // Invariant: a record lies in [lo, until]; grow lo to the latest one.
        let (mut lo, mut hi) = (nanos(DateTime::<Utc>::MIN_UTC), nanos(until));
        while lo < hi {
            let mid = lo + (hi - lo + 1) / 2;
            if self.count(task, actions, Some(instant(mid)), until)? > 0 {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(Some(instant(lo)))
    }
}

/// An instant as nanoseconds since the Unix epoch, over the whole range of
/// `DateTime<Utc>` (which does not fit in an `i64`).
fn nanos(at: DateTime<Utc>) -> i128 {
    i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos())
}

/// The inverse of [`nanos`], saturating at the ends of the `DateTime<Utc>` range.
fn instant(ns: i128) -> DateTime<Utc> {
    let secs = ns.div_euclid(1_000_000_000);
    let sub = ns.rem_euclid(1_000_000_000);
    match (i64::try_from(secs), u32::try_from(sub)) {
        (Ok(secs), Ok(sub)) => DateTime::from_timestamp(secs, sub).unwrap_or(if ns < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        }),
        _ if ns < 0 => DateTime::<Utc>::MIN_UTC,
        _ => DateTime::<Utc>::MAX_UTC,
    }
}

#[cfg(test)]
mod tests;
