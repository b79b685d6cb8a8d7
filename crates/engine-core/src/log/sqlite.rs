//! The durable task log: [`SqliteLogStore`], one SQLite table with indexes for the
//! look-ups conditions and the API make.
//!
//! # Layout
//!
//! One table `log`: `seq INTEGER PRIMARY KEY AUTOINCREMENT` (the log order, never
//! reused), `task_name`, `action` (the wire name), `timestamp`, `start`, `"end"`
//! (nanoseconds since the Unix epoch, UTC), `runtime_ns` and `exc_text`. Indexes:
//! `(task_name, action, timestamp)` answers counts in a window and the first or
//! last time around an instant; `(task_name, action, seq)` answers the latest
//! record in log order and the summary; `(timestamp)` serves time-range queries
//! over all tasks. The schema version is `PRAGMA user_version`; a database written
//! by a newer engine is refused with a clear error rather than misread.
//!
//! # Durability and locking
//!
//! The database runs in WAL mode with `synchronous=FULL`: when
//! [`LogStore::append`] returns `Ok`, the record is on disk (one INSERT, one
//! transaction, one fsync of the WAL). Appends go through one connection behind a
//! [`parking_lot::Mutex`]; reads of a file database go through reading
//! connections of their own (four, each behind its mutex, a free one taken
//! first), so a long query (an API log query over a wide window) holds up
//! neither appends nor the scheduler's condition checks (WAL lets readers and a
//! writer work at once). Each call holds its mutex for its own statements only. The calls block:
//! async code should call them from `spawn_blocking`, or accept a short block
//! (an append is an fsync, typically well under 10 ms on a local disk).
//!
//! Store the log in a file of its own: the schema version lives in the
//! database's `user_version`, which another user of the same file would share.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use engine_query::Filter;
use parking_lot::Mutex;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::record::Pushdown;
use super::{Action, ActionSet, LogRead, LogRecord, LogStore, TaskLogSummary};
use crate::{Error, ErrorKind};

/// The schema version this code writes and reads (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// Reading connections of a file database: enough that the scheduler's checks
/// find one free while API queries run.
const READERS: usize = 4;

/// The schema of version [`SqliteLogStore::SCHEMA_VERSION`].
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_name TEXT NOT NULL,
    action TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    start INTEGER,
    "end" INTEGER,
    runtime_ns INTEGER,
    exc_text TEXT
);
CREATE INDEX IF NOT EXISTS log_task_action_time ON log (task_name, action, timestamp);
CREATE INDEX IF NOT EXISTS log_task_action_seq ON log (task_name, action, seq);
CREATE INDEX IF NOT EXISTS log_time ON log (timestamp);
"#;

/// The columns of a record, in the order [`read_row`] expects.
const COLUMNS: &str = r#"seq, task_name, action, timestamp, start, "end", runtime_ns, exc_text"#;

/// Appends one record.
const INSERT: &str = r#"INSERT INTO log (task_name, action, timestamp, start, "end", runtime_ns, exc_text)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"#;

/// Records of one task and action in a closed time window (`?3..=?4`).
pub(crate) const COUNT: &str = "SELECT COUNT(*) FROM log
WHERE task_name = ?1 AND action = ?2 AND timestamp >= ?3 AND timestamp <= ?4";

/// The latest record of one task and action in log order: its `seq` and timestamp.
pub(crate) const LATEST: &str = "SELECT seq, timestamp FROM log
WHERE task_name = ?1 AND action = ?2 ORDER BY seq DESC LIMIT 1";

/// The earliest timestamp of one task and action at or after `?3`.
pub(crate) const FIRST_SINCE: &str = "SELECT MIN(timestamp) FROM log
WHERE task_name = ?1 AND action = ?2 AND timestamp >= ?3";

/// The latest timestamp of one task and action at or before `?3`.
pub(crate) const LAST_UNTIL: &str = "SELECT MAX(timestamp) FROM log
WHERE task_name = ?1 AND action = ?2 AND timestamp <= ?3";

/// Every task name, one index seek each (a loose index scan).
const TASK_NAMES: &str = "WITH RECURSIVE names(name) AS (
    SELECT MIN(task_name) FROM log
    UNION ALL
    SELECT (SELECT MIN(task_name) FROM log WHERE task_name > names.name)
    FROM names WHERE names.name IS NOT NULL
) SELECT name FROM names WHERE name IS NOT NULL";

/// More task names than this in a filter are not pushed into SQL (SQLite limits
/// bound parameters); the full filter still applies them.
const MAX_PUSHED_NAMES: usize = 256;

/// Settings of a [`SqliteLogStore`].
///
/// Retention is off by default. When on, it runs every
/// [`prune_every`](SqliteLogConfig::prune_every) appends (inside that append,
/// after its record is stored) or when [`SqliteLogStore::prune`] is called. It
/// never removes a task's latest record of an action, so `status` and `last_*`
/// survive it, also across restarts. A pass holds the write lock while it visits
/// every task (one index seek per task and action, plus a sort of the task's
/// records for the count bound), so it is spread over `prune_every` appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteLogConfig {
    /// Keep at most this many records per task (plus each action's latest).
    pub max_records_per_task: Option<u64>,
    /// Drop records older than this, measured back from the timestamp of the
    /// record whose append triggers the pass (so simulated clocks work).
    pub max_age: Option<TimeDelta>,
    /// Appends between retention passes; at least 1.
    pub prune_every: u32,
    /// How long a statement waits for a lock held by another connection or
    /// process before failing with "database is locked".
    pub busy_timeout: Duration,
}

impl Default for SqliteLogConfig {
    fn default() -> Self {
        SqliteLogConfig {
            max_records_per_task: None,
            max_age: None,
            prune_every: 1000,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// A task log in an SQLite database: durable, indexed, shareable between threads.
///
/// ```
/// use engine_core::log::{Action, LogRead, LogRecord, LogStore, SqliteLogStore};
///
/// let store = SqliteLogStore::open_in_memory()?;
/// let at = "2021-01-01T12:00:00Z".parse()?;
/// LogStore::append(&store, LogRecord::new("extract", Action::Run, at))?;
/// assert_eq!(store.summary("extract")?.status, Some(Action::Run));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteLogStore {
    /// The path, or `:memory:`, for error messages.
    name: String,
    config: SqliteLogConfig,
    writer: Mutex<Writer>,
    /// Connections for reads (file databases only; empty in memory).
    readers: Vec<Mutex<Connection>>,
}

/// The writing connection and the appends since the last retention pass.
#[derive(Debug)]
struct Writer {
    conn: Connection,
    since_prune: u32,
}

impl SqliteLogStore {
    /// The schema version this engine writes and reads, kept in the database's
    /// `PRAGMA user_version`.
    pub const SCHEMA_VERSION: i64 = SCHEMA_VERSION;

    /// Opens (creating if needed) the task log in the file at `path`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Log`] naming the path when the file cannot be opened or
    /// created, is not an SQLite database, is corrupt, or has a schema newer
    /// than this engine's.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with_config(path, SqliteLogConfig::default())
    }

    /// [`SqliteLogStore::open`] with `config`.
    ///
    /// # Errors
    ///
    /// As [`SqliteLogStore::open`].
    pub fn open_with_config(
        path: impl AsRef<Path>,
        config: SqliteLogConfig,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let fail = |e: rusqlite::Error| open_error(&name, &e);
        let writer = Connection::open(path).map_err(fail)?;
        setup(&writer, &name, &config)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open(path).map_err(fail)?;
            reader.busy_timeout(config.busy_timeout).map_err(fail)?;
            check_version(&reader, &name)?;
            readers.push(reader);
        }
        Ok(Self::new(name, config, writer, readers))
    }

    /// A task log in memory, gone when the store is dropped (for tests and
    /// throwaway sessions; it behaves like a file store otherwise).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Log`] if SQLite cannot set up the database.
    pub fn open_in_memory() -> Result<Self, Error> {
        Self::open_in_memory_with_config(SqliteLogConfig::default())
    }

    /// [`SqliteLogStore::open_in_memory`] with `config`.
    ///
    /// # Errors
    ///
    /// As [`SqliteLogStore::open_in_memory`].
    pub fn open_in_memory_with_config(config: SqliteLogConfig) -> Result<Self, Error> {
        let name = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|e| open_error(&name, &e))?;
        setup(&conn, &name, &config)?;
        Ok(Self::new(name, config, conn, Vec::new()))
    }

    fn new(
        name: String,
        config: SqliteLogConfig,
        conn: Connection,
        readers: Vec<Connection>,
    ) -> Self {
        SqliteLogStore {
            name,
            config: SqliteLogConfig {
                prune_every: config.prune_every.max(1),
                ..config
            },
            writer: Mutex::new(Writer {
                conn,
                since_prune: 0,
            }),
            readers: readers.into_iter().map(Mutex::new).collect(),
        }
    }

    /// The store's settings.
    pub fn config(&self) -> SqliteLogConfig {
        self.config
    }

    /// How many records the store holds (all tasks).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Log`] if the database cannot be read.
    pub fn len(&self) -> Result<u64, Error> {
        self.read(|conn| {
            conn.query_row("SELECT COUNT(*) FROM log", [], |row| row.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
        })
    }

    /// Whether the store holds no record.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Log`] if the database cannot be read.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    /// Applies retention now, with `now` as the instant ages are measured from.
    /// Does nothing when the config sets no bound. Returns how many records it
    /// removed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Log`] if the database cannot be written; nothing is removed then.
    pub fn prune(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let mut writer = self.writer.lock();
        writer.since_prune = 0;
        prune(&mut writer.conn, &self.config, saturating_nanos(now))
            .map_err(|e| self.error("cannot apply retention to", &e))
    }

    /// Runs `f` on a free reading connection (waiting for the first when all
    /// are busy; the writer's for an in-memory store).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        let free = self.readers.iter().find_map(Mutex::try_lock);
        let result = match (free, self.readers.first()) {
            (Some(reader), _) => f(&reader),
            (None, Some(reader)) => f(&reader.lock()),
            (None, None) => f(&self.writer.lock().conn),
        };
        result.map_err(|e| self.error("cannot read", &e))
    }

    /// An error about the task log: `what` the task log at the path, and the cause.
    fn error(&self, what: &str, cause: &rusqlite::Error) -> Error {
        Error::new(
            ErrorKind::Log,
            format!("{what} the task log at {}: {cause}", self.name),
        )
    }

    /// Inserts `records` in one transaction, then runs retention when due.
    fn insert(&self, records: &[LogRecord]) -> Result<(), Error> {
        let rows = records.iter().map(to_row).collect::<Result<Vec<_>, _>>()?;
        let Some(last) = rows.last().map(|row| row.timestamp) else {
            return Ok(());
        };
        let mut writer = self.writer.lock();
        let stored = if let [row] = rows.as_slice() {
            // One record: one autocommit INSERT.
            insert_row(&writer.conn, row)
        } else {
            writer.conn.transaction().and_then(|tx| {
                for row in &rows {
                    insert_row(&tx, row)?;
                }
                tx.commit()
            })
        };
        stored.map_err(|e| self.error("cannot append to", &e))?;
        let added = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        writer.since_prune = writer.since_prune.saturating_add(added);
        let retention = self.config.max_records_per_task.is_some() || self.config.max_age.is_some();
        if retention && writer.since_prune >= self.config.prune_every {
            writer.since_prune = 0;
            // The records are stored: a failed pass is reported, not returned.
            if let Err(e) = prune(&mut writer.conn, &self.config, last) {
                tracing::warn!(log = %self.name, error = %e, "task log retention failed");
            }
        }
        Ok(())
    }
}

impl LogRead for SqliteLogStore {
    fn count(
        &self,
        task: &str,
        actions: ActionSet,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let (lo, hi) = (
            start.map_or(i64::MIN, saturating_nanos),
            saturating_nanos(end),
        );
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(COUNT)?;
            let mut total = 0u64;
            for action in actions.iter() {
                let n: i64 =
                    stmt.query_row(params![task, action.as_str(), lo, hi], |row| row.get(0))?;
                total += u64::try_from(n).unwrap_or(0);
            }
            Ok(total)
        })
    }

    fn latest(&self, task: &str, actions: ActionSet) -> Result<Option<LogRecord>, Error> {
        let raw = self.read(|conn| {
            let mut best: Option<i64> = None;
            let mut stmt = conn.prepare_cached(LATEST)?;
            for action in actions.iter() {
                let seq: Option<i64> = stmt
                    .query_row(params![task, action.as_str()], |row| row.get(0))
                    .optional()?;
                best = best.max(seq);
            }
            let Some(seq) = best else {
                return Ok(None);
            };
            let sql = format!("SELECT {COLUMNS} FROM log WHERE seq = ?1");
            conn.prepare_cached(&sql)?
                .query_row([seq], read_row)
                .optional()
        })?;
        raw.map(|raw| self.record(raw)).transpose()
    }

    fn first_since(
        &self,
        task: &str,
        actions: ActionSet,
        from: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let from = saturating_nanos(from);
        let found = self.read(|conn| {
            let mut stmt = conn.prepare_cached(FIRST_SINCE)?;
            let mut best: Option<i64> = None;
            for action in actions.iter() {
                let t: Option<i64> =
                    stmt.query_row(params![task, action.as_str(), from], |row| row.get(0))?;
                best = match (best, t) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            Ok(best)
        })?;
        Ok(found.map(from_nanos))
    }

    fn last_until(
        &self,
        task: &str,
        actions: ActionSet,
        until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let until = saturating_nanos(until);
        let found = self.read(|conn| {
            let mut stmt = conn.prepare_cached(LAST_UNTIL)?;
            let mut best: Option<i64> = None;
            for action in actions.iter() {
                let t: Option<i64> =
                    stmt.query_row(params![task, action.as_str(), until], |row| row.get(0))?;
                best = best.max(t);
            }
            Ok(best)
        })?;
        Ok(found.map(from_nanos))
    }
}

impl LogStore for SqliteLogStore {
    /// Inserts the record; `Ok` means it is on disk.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Log`] if the database cannot be written, or if a time of the
    /// record lies outside the years 1677 to 2262 (nanoseconds in an `i64`).
    fn append(&self, record: LogRecord) -> Result<(), Error> {
        self.insert(std::slice::from_ref(&record))
    }

    /// Inserts every record in one transaction: all are stored or none.
    fn append_batch(&self, records: Vec<LogRecord>) -> Result<(), Error> {
        self.insert(&records)
    }

    fn query(&self, filter: &Filter, limit: Option<usize>) -> Result<Vec<LogRecord>, Error> {
        let plan = Pushdown::new(filter);
        if plan.empty || limit == Some(0) {
            return Ok(Vec::new());
        }
        let (sql, args) = query_sql(&plan, limit.is_some());
        let mut found = Vec::new();
        let mut failure = None;
        self.read(|conn| {
            let mut stmt = conn.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                let record = match self.record(read_row(row)?) {
                    Ok(record) => record,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                if filter.matches(&record) {
                    found.push(record);
                    if limit.is_some_and(|limit| found.len() >= limit) {
                        break;
                    }
                }
            }
            Ok(())
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if limit.is_some() {
            // Read newest first; back to log order.
            found.reverse();
        }
        Ok(found)
    }

    fn summary(&self, task: &str) -> Result<TaskLogSummary, Error> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(LATEST)?;
            let mut summary = TaskLogSummary::default();
            let mut newest: Option<i64> = None;
            for action in Action::ALL {
                let latest: Option<(i64, i64)> = stmt
                    .query_row(params![task, action.as_str()], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()?;
                if let Some((seq, timestamp)) = latest {
                    summary.last[action as usize] = Some(from_nanos(timestamp));
                    if newest.is_none_or(|n| seq > n) {
                        newest = Some(seq);
                        summary.status = Some(action);
                    }
                }
            }
            Ok(summary)
        })
    }
}

/// A record as stored: the columns of [`COLUMNS`] without `seq`.
struct RawRecord {
    task_name: String,
    action: String,
    timestamp: i64,
    start: Option<i64>,
    end: Option<i64>,
    runtime_ns: Option<i64>,
    exc_text: Option<String>,
}

impl SqliteLogStore {
    /// The record a row holds; an unknown action is a corrupt database.
    fn record(&self, raw: RawRecord) -> Result<LogRecord, Error> {
        let action = raw.action.parse::<Action>().map_err(|_| {
            Error::new(
                ErrorKind::Log,
                format!(
                    "the task log at {} holds a record with the unknown action '{}'",
                    self.name, raw.action
                ),
            )
        })?;
        Ok(LogRecord {
            task_name: raw.task_name,
            action,
            timestamp: from_nanos(raw.timestamp),
            start: raw.start.map(from_nanos),
            end: raw.end.map(from_nanos),
            runtime: raw.runtime_ns.map(TimeDelta::nanoseconds),
            exc_text: raw.exc_text,
        })
    }
}

/// Reads a row of [`COLUMNS`].
fn read_row(row: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        task_name: row.get(1)?,
        action: row.get(2)?,
        timestamp: row.get(3)?,
        start: row.get(4)?,
        end: row.get(5)?,
        runtime_ns: row.get(6)?,
        exc_text: row.get(7)?,
    })
}

/// A record ready to insert.
struct NewRow<'a> {
    task_name: &'a str,
    action: &'static str,
    timestamp: i64,
    start: Option<i64>,
    end: Option<i64>,
    runtime_ns: Option<i64>,
    exc_text: Option<&'a str>,
}

/// The row of `record`; an error for times an `i64` of nanoseconds cannot hold.
fn to_row(record: &LogRecord) -> Result<NewRow<'_>, Error> {
    let out_of_range = |field: &str| {
        Error::new(
            ErrorKind::Log,
            format!(
                "the {field} of a record of task '{}' is outside the years 1677 to 2262, which the task log cannot store",
                record.task_name
            ),
        )
    };
    let time = |t: Option<DateTime<Utc>>, field: &str| {
        t.map(|t| t.timestamp_nanos_opt().ok_or_else(|| out_of_range(field)))
            .transpose()
    };
    Ok(NewRow {
        task_name: &record.task_name,
        action: record.action.as_str(),
        timestamp: record
            .timestamp
            .timestamp_nanos_opt()
            .ok_or_else(|| out_of_range("timestamp"))?,
        start: time(record.start, "start")?,
        end: time(record.end, "end")?,
        runtime_ns: record
            .runtime
            .map(|r| r.num_nanoseconds().ok_or_else(|| out_of_range("runtime")))
            .transpose()?,
        exc_text: record.exc_text.as_deref(),
    })
}

fn insert_row(conn: &Connection, row: &NewRow<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(INSERT)?.execute(params![
        row.task_name,
        row.action,
        row.timestamp,
        row.start,
        row.end,
        row.runtime_ns,
        row.exc_text
    ])?;
    Ok(())
}

/// The SELECT for `plan` and its bound values: push-down constraints become
/// `?` parameters, never text in the SQL. Ordered by `seq`, newest first when
/// `newest_first`.
fn query_sql(plan: &Pushdown<'_>, newest_first: bool) -> (String, Vec<SqlValue>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    match plan.task_names() {
        Some(names) if names.len() <= MAX_PUSHED_NAMES => {
            let values = names
                .into_iter()
                .map(|n| SqlValue::Text(n.to_owned()))
                .collect();
            let marks = placeholders(values, &mut args);
            clauses.push(format!("task_name IN ({marks})"));
        }
        _ => {
            for (op, bound) in [(">=", plan.tasks.min()), ("<=", plan.tasks.max())] {
                if let Some(engine_query::Value::Str(name)) = bound {
                    let mark = placeholders(vec![SqlValue::Text(name.to_owned())], &mut args);
                    clauses.push(format!("task_name {op} {mark}"));
                }
            }
        }
    }
    if plan.actions != ActionSet::ALL {
        let values = plan
            .actions
            .iter()
            .map(|a| SqlValue::Text(a.as_str().to_owned()))
            .collect();
        let marks = placeholders(values, &mut args);
        clauses.push(format!("action IN ({marks})"));
    }
    for (op, bound) in [(">=", plan.start), ("<=", plan.end)] {
        if let Some(t) = bound {
            let mark = placeholders(vec![SqlValue::Integer(saturating_nanos(t))], &mut args);
            clauses.push(format!("timestamp {op} {mark}"));
        }
    }
    let mut sql = format!("SELECT {COLUMNS} FROM log");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(if newest_first {
        " ORDER BY seq DESC"
    } else {
        " ORDER BY seq"
    });
    (sql, args)
}

/// Binds `values` as the next parameters; their `?N` marks, comma-separated.
fn placeholders(values: Vec<SqlValue>, args: &mut Vec<SqlValue>) -> String {
    let marks: Vec<String> = values
        .into_iter()
        .map(|v| {
            args.push(v);
            format!("?{}", args.len())
        })
        .collect();
    marks.join(", ")
}

/// Sets the connection up (WAL, `synchronous=FULL`, busy timeout) and creates or
/// checks the schema.
fn setup(conn: &Connection, name: &str, config: &SqliteLogConfig) -> Result<(), Error> {
    let fail = |e: rusqlite::Error| open_error(name, &e);
    conn.busy_timeout(config.busy_timeout).map_err(fail)?;
    // An in-memory database answers "memory": there is no file to journal.
    let _mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(fail)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail)?;
    if check_version(conn, name)? == SCHEMA_VERSION {
        return Ok(());
    }
    // Create under a write lock, checking again: another process may be first.
    conn.execute_batch("BEGIN IMMEDIATE").map_err(fail)?;
    let created = (|| {
        if check_version(conn, name)? == 0 {
            conn.execute_batch(SCHEMA).map_err(fail)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(fail)?;
        }
        Ok(())
    })();
    let end = if created.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = conn.execute_batch(end).map_err(fail);
    created.and(ended)
}

/// The database's schema version; an error for one newer than this code knows.
fn check_version(conn: &Connection, name: &str) -> Result<i64, Error> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| open_error(name, &e))?;
    if !(0..=SCHEMA_VERSION).contains(&version) {
        return Err(Error::new(
            ErrorKind::Log,
            format!(
                "the task log at {name} has schema version {version}, but this engine knows only versions up to {SCHEMA_VERSION}; use a newer engine or another file"
            ),
        ));
    }
    Ok(version)
}

/// The error for a database that cannot be opened or set up.
fn open_error(name: &str, cause: &rusqlite::Error) -> Error {
    Error::new(
        ErrorKind::Log,
        format!("cannot open the task log at {name}: {cause}"),
    )
}

/// One retention pass (see [`SqliteLogConfig`]), in one transaction. Returns how
/// many records it removed.
fn prune(conn: &mut Connection, config: &SqliteLogConfig, now: i64) -> rusqlite::Result<u64> {
    if config.max_records_per_task.is_none() && config.max_age.is_none() {
        return Ok(0);
    }
    let tx = conn.transaction()?;
    let mut removed = 0usize;
    let tasks: Vec<String> = tx
        .prepare(TASK_NAMES)?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for task in &tasks {
        if let Some(age) = config.max_age {
            let cutoff = now.saturating_sub(age.num_nanoseconds().unwrap_or(i64::MAX));
            let mut delete = tx.prepare_cached(
                "DELETE FROM log WHERE task_name = ?1 AND action = ?2 AND timestamp < ?3
                 AND seq <> (SELECT MAX(seq) FROM log WHERE task_name = ?1 AND action = ?2)",
            )?;
            for action in Action::ALL {
                removed += delete.execute(params![task, action.as_str(), cutoff])?;
            }
        }
        if let Some(max) = config.max_records_per_task {
            let keep = i64::try_from(max).unwrap_or(i64::MAX);
            // The newest record past the bound, if the task has more than `max`.
            let cutoff: Option<i64> = tx
                .prepare_cached(
                    "SELECT seq FROM log WHERE task_name = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2",
                )?
                .query_row(params![task, keep], |row| row.get(0))
                .optional()?;
            if let Some(cutoff) = cutoff {
                removed += tx
                    .prepare_cached(
                        "DELETE FROM log WHERE task_name = ?1 AND seq <= ?2
                         AND seq NOT IN (SELECT MAX(seq) FROM log WHERE task_name = ?1 GROUP BY action)",
                    )?
                    .execute(params![task, cutoff])?;
            }
        }
    }
    tx.commit()?;
    Ok(u64::try_from(removed).unwrap_or(u64::MAX))
}

/// `at` as nanoseconds since the epoch, saturating outside what an `i64` holds
/// (fine for bounds: every stored time is inside).
fn saturating_nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The instant `ns` nanoseconds after the epoch.
fn from_nanos(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}

#[cfg(test)]
mod tests;
