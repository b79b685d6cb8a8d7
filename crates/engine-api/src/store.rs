//! Durable changes: the [`RequestStore`] trait, what it stores ([`Change`],
//! [`StoredRequest`]), and the built-ins [`MemoryStore`], [`JsonLinesStore`] and
//! [`SqliteRequestStore`].
//!
//! # The contract
//!
//! The service tells the store of every accepted change (`POST`, `PATCH` and
//! `DELETE` that passed routing, authentication and validation) **before** the
//! change is applied, and applies it only when [`RequestStore::record`] returned
//! `Ok`. So with a durable store a 2xx means the change is on disk, and when
//! storing fails the change is not applied and the client gets a 500. Changes
//! are recorded and applied one at a time, so the stored order is the applied
//! order.
//!
//! At start-up, before the scheduler starts, [`RequestStore::replay`] gives the
//! stored changes in order and the service applies each again. A change that no
//! longer applies (a task posted twice, a deleted task patched) is logged and
//! skipped. Replay is meant for a fresh session: replaying onto a session that
//! already holds the changes is not a no-op when a task was renamed (its `POST`
//! creates the old name again, and the rename is then refused).
//!
//! A change that was recorded but then failed to apply (the session changed
//! between validation and application) stays in the store; at replay it fails
//! the same way and is skipped.

use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::BoxFuture;
use crate::error::{ApiError, ErrorKind};
use crate::router::{Resource, Verb};

mod jsonl;
mod sqlite;

#[cfg(test)]
mod tests;

pub use jsonl::JsonLinesStore;
pub use sqlite::SqliteRequestStore;

/// An accepted change, as the service hands it to a [`RequestStore`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// What was changed: `Task`, `Parameters`, `Returns` or `Configs`.
    pub resource: Resource,
    /// How: `POST`, `PATCH` or `DELETE`.
    pub method: Verb,
    /// The task name for [`Resource::Task`], else `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The request body as applied (`null` for `DELETE`).
    #[serde(default)]
    pub body: Value,
}

/// A [`Change`] as stored: numbered and timed.
///
/// In JSON (one line of a [`JsonLinesStore`]):
/// `{"seq":1,"at_ms":1700000000000,"resource":"Task","method":"POST","target":"a","body":{"command":"true"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRequest {
    /// The position in the store: increasing, starting at 1, never reused.
    pub seq: u64,
    /// When it was stored, in Unix milliseconds.
    pub at_ms: u64,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
}

/// Keeps the accepted changes so they survive a restart.
///
/// Stored as `Arc<dyn RequestStore>`. [`record`](RequestStore::record) is called
/// once per accepted change (`POST`, `PATCH`, `DELETE` that passed routing,
/// authentication and validation), one change at a time, **before** the change
/// is applied: with a durable store a 2xx means the change is on disk, and an
/// `Err` refuses the change (500) with nothing applied. The stored order is the
/// applied order.
///
/// [`replay`](RequestStore::replay) is called once at start-up by
/// [`ApiService::replay`](crate::ApiService::replay), before the scheduler
/// starts; each change is applied again in order, and one that no longer
/// applies (a 4xx: a task posted twice, a deleted task patched) is logged and
/// skipped. Replay onto a fresh session only: replaying onto one that already
/// holds the changes brings back the old name of a renamed task.
///
/// ```
/// use engine_api::{ApiError, BoxFuture, Change, RequestStore, StoredRequest};
///
/// /// Forgets everything: changes are lost at restart.
/// struct Forgetful;
///
/// impl RequestStore for Forgetful {
///     fn record<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<StoredRequest, ApiError>> {
///         let stored = StoredRequest { seq: 1, at_ms: 0, change: change.clone() };
///         Box::pin(async move { Ok(stored) })
///     }
///
///     fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>> {
///         Box::pin(async { Ok(Vec::new()) })
///     }
/// }
/// ```
pub trait RequestStore: Send + Sync + 'static {
    /// Stores `change` and returns it numbered; when this returns `Ok` the change
    /// is as durable as the store can make it.
    fn record<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<StoredRequest, ApiError>>;

    /// Every stored change, in the order recorded.
    fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>>;

    /// Replaces the stored changes with `keep` (in that order, keeping their
    /// numbers), for example after dropping changes to tasks deleted later.
    /// Numbers of later records continue after every number ever given.
    ///
    /// The default refuses with an [`ErrorKind::Store`] error.
    fn compact<'a>(&'a self, keep: &'a [StoredRequest]) -> BoxFuture<'a, Result<(), ApiError>> {
        let _ = keep;
        Box::pin(async {
            Err(ApiError::new(
                ErrorKind::Store,
                "this request store cannot compact",
            ))
        })
    }
}

/// Keeps changes in memory only: nothing survives a restart. The default store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    requests: Vec<StoredRequest>,
    last_seq: u64,
}

impl RequestStore for MemoryStore {
    fn record<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<StoredRequest, ApiError>> {
        let stored = {
            let mut state = self.state.lock();
            state.last_seq += 1;
            let stored = StoredRequest {
                seq: state.last_seq,
                at_ms: now_ms(),
                change: change.clone(),
            };
            state.requests.push(stored.clone());
            stored
        };
        Box::pin(async move { Ok(stored) })
    }

    fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>> {
        let requests = self.state.lock().requests.clone();
        Box::pin(async move { Ok(requests) })
    }

    fn compact<'a>(&'a self, keep: &'a [StoredRequest]) -> BoxFuture<'a, Result<(), ApiError>> {
        {
            let mut state = self.state.lock();
            let kept_max = keep.iter().map(|r| r.seq).max().unwrap_or(0);
            state.last_seq = state.last_seq.max(kept_max);
            state.requests = keep.to_vec();
        }
        Box::pin(async { Ok(()) })
    }
}

/// The current time in Unix milliseconds (0 before 1970).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A [`ErrorKind::Store`] error with `message` and its cause.
pub(crate) fn store_error(
    message: impl Into<String>,
    source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
) -> ApiError {
    ApiError::new(ErrorKind::Store, message).with_source(source)
}

/// Runs blocking store I/O on tokio's blocking pool.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|join| store_error("the request store's I/O task failed", join))?
}
