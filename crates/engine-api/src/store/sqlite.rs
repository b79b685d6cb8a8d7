//! [`SqliteRequestStore`]: changes as rows of an `api_requests` table in SQLite.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::{Connection, params};
use serde_json::Value;

use super::{Change, RequestStore, StoredRequest, blocking, now_ms, store_error};
use crate::BoxFuture;
use crate::error::ApiError;

/// The table the store keeps its rows in.
const TABLE: &str = "api_requests";

/// Keeps changes in an SQLite database, one row per change in the table
/// `api_requests`.
///
/// The database runs in WAL mode with `synchronous=FULL`, so a committed row
/// survives a power cut; every [`record`](RequestStore::record) is its own
/// transaction. The file may be shared with the engine's SQLite task log: the
/// store uses its own table and its own connection, and waits up to five seconds
/// for the other writer's lock. All I/O runs on tokio's blocking pool.
#[derive(Debug, Clone)]
pub struct SqliteRequestStore {
    path: Arc<PathBuf>,
    connection: Arc<Mutex<Connection>>,
}

impl SqliteRequestStore {
    /// Opens (or creates) the database at `path` and the table in it.
    ///
    /// This does blocking I/O; call it at start-up.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Store`](crate::ErrorKind::Store) when the database cannot be opened or set up.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteRequestStore, ApiError> {
        let path = path.as_ref().to_path_buf();
        let fail = |e: rusqlite::Error| {
            store_error(
                format!("cannot open the request store {}", path.display()),
                e,
            )
        };
        let connection = Connection::open(&path).map_err(fail)?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(fail)?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "the request store's database is not in WAL mode");
        }
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous=FULL;
                 CREATE TABLE IF NOT EXISTS {TABLE} (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     at_ms INTEGER NOT NULL,
                     resource TEXT NOT NULL,
                     method TEXT NOT NULL,
                     target TEXT,
                     body TEXT NOT NULL
                 );"
            ))
            .map_err(fail)?;
        Ok(SqliteRequestStore {
            path: Arc::new(path),
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// The database's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RequestStore for SqliteRequestStore {
    fn record<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<StoredRequest, ApiError>> {
        let change = change.clone();
        let connection = Arc::clone(&self.connection);
        Box::pin(blocking(move || {
            let at_ms = now_ms();
            let row = Row::of(&change)?;
            let connection = connection.lock();
            let seq: i64 = connection
                .query_row(
                    &format!(
                        "INSERT INTO {TABLE} (at_ms, resource, method, target, body)
                         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq"
                    ),
                    params![
                        i64::try_from(at_ms).unwrap_or(i64::MAX),
                        row.resource,
                        row.method,
                        change.target,
                        row.body
                    ],
                    |r| r.get(0),
                )
                .map_err(|e| store_error("cannot insert the change into the request store", e))?;
            Ok(StoredRequest {
                seq: u64::try_from(seq).unwrap_or(0),
                at_ms,
                change,
            })
        }))
    }

    fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>> {
        let connection = Arc::clone(&self.connection);
        Box::pin(blocking(move || {
            let connection = connection.lock();
            read_all(&connection)
        }))
    }

    fn compact<'a>(&'a self, keep: &'a [StoredRequest]) -> BoxFuture<'a, Result<(), ApiError>> {
        let keep = keep.to_vec();
        let connection = Arc::clone(&self.connection);
        Box::pin(blocking(move || {
            let rows = keep
                .iter()
                .map(|r| Row::of(&r.change))
                .collect::<Result<Vec<_>, _>>()?;
            let mut connection = connection.lock();
            let fail = |e| store_error("cannot compact the request store", e);
            let transaction = connection.transaction().map_err(fail)?;
            transaction
                .execute(&format!("DELETE FROM {TABLE}"), [])
                .map_err(fail)?;
            for (request, row) in keep.iter().zip(rows) {
                transaction
                    .execute(
                        &format!(
                            "INSERT INTO {TABLE} (seq, at_ms, resource, method, target, body)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                        ),
                        params![
                            i64::try_from(request.seq).unwrap_or(i64::MAX),
                            i64::try_from(request.at_ms).unwrap_or(i64::MAX),
                            row.resource,
                            row.method,
                            request.change.target,
                            row.body
                        ],
                    )
                    .map_err(fail)?;
            }
            transaction.commit().map_err(fail)
        }))
    }
}

/// The text columns of a change.
struct Row {
    resource: String,
    method: String,
    body: String,
}

impl Row {
    fn of(change: &Change) -> Result<Row, ApiError> {
        let text = |value: Value| value.as_str().map(str::to_owned).unwrap_or_default();
        let encode = |e| store_error("cannot encode the change as JSON", e);
        Ok(Row {
            resource: text(serde_json::to_value(change.resource).map_err(encode)?),
            method: text(serde_json::to_value(change.method).map_err(encode)?),
            body: serde_json::to_string(&change.body).map_err(encode)?,
        })
    }
}

/// Every row, in `seq` order, decoded.
fn read_all(connection: &Connection) -> Result<Vec<StoredRequest>, ApiError> {
    let fail = |e| store_error("cannot read the request store", e);
    let mut statement = connection
        .prepare(&format!(
            "SELECT seq, at_ms, resource, method, target, body FROM {TABLE} ORDER BY seq"
        ))
        .map_err(fail)?;
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(fail)?;
    let mut requests = Vec::new();
    for row in rows {
        let (seq, at_ms, resource, method, target, body) = row.map_err(fail)?;
        let bad = |what: &str, e: serde_json::Error| {
            store_error(
                format!("row {seq} of the request store has a bad {what}"),
                e,
            )
        };
        requests.push(StoredRequest {
            seq: u64::try_from(seq).unwrap_or(0),
            at_ms: u64::try_from(at_ms).unwrap_or(0),
            change: Change {
                resource: serde_json::from_value(Value::String(resource))
                    .map_err(|e| bad("resource", e))?,
                method: serde_json::from_value(Value::String(method))
                    .map_err(|e| bad("method", e))?,
                target,
                body: serde_json::from_str(&body).map_err(|e| bad("body", e))?,
            },
        });
    }
    Ok(requests)
}

/// The highest `seq` ever given, for tests of compaction.
#[cfg(test)]
pub(crate) fn last_seq(store: &SqliteRequestStore) -> Result<Option<i64>, ApiError> {
    use rusqlite::OptionalExtension as _;
    let connection = store.connection.lock();
    connection
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = ?1",
            [TABLE],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| ApiError::new(crate::ErrorKind::Store, "no sqlite_sequence").with_source(e))
}
