//! `/logs` and `/dependencies`: the task log and the links between tasks, filtered.

use engine_core::Session;
use engine_core::log::log_schema;
use serde_json::Value;

use super::{filter_options, zone};
use crate::error::ApiError;
use crate::extract::Query;
use crate::json;

/// The log records matching the query, in log order, times in the session's zone.
///
/// The query is checked against the log's field types first, so
/// `timestamp$min=yesterday` is a 400 rather than an empty list.
pub(super) fn logs(session: &Session, query: &Query) -> Result<Value, ApiError> {
    let tz = zone(session);
    let filter = query.checked_filter(&filter_options(tz), &log_schema())?;
    let records = session.log().query(&filter, None)?;
    Ok(Value::Array(
        records.iter().map(|r| json::log_record(r, tz)).collect(),
    ))
}

/// The dependency links matching the query.
pub(super) fn dependencies(session: &Session, query: &Query) -> Result<Value, ApiError> {
    let filter = query.filter(&filter_options(zone(session)))?;
    let links = session
        .dependencies()
        .iter()
        .map(json::dependency)
        .filter(|link| filter.matches(link))
        .collect();
    Ok(Value::Array(links))
}
