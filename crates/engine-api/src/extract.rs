//! Reading a request: the query string as query-language parameters, and the
//! body as one JSON object read through a size limit.
//!
//! The body is parsed as JSON **whatever its `Content-Type` says**: the original
//! API's documented `curl --data '{...}'` example sends
//! `application/x-www-form-urlencoded`, and clients written against it must keep
//! working. Nesting is limited by serde_json's recursion limit (128 levels), so a
//! deeply nested body is a 400, never a stack overflow.
//!
//! When served by [`serve`](crate::serve), a body must also arrive in time: a
//! client that declares a body and then sends it slowly, or never (a chunked
//! body without its last chunk), gets a 408 once
//! [`ServeConfig::body_read_timeout`](crate::ServeConfig::body_read_timeout)
//! has passed, and its connection is closed, instead of holding a connection
//! slot forever.

use std::time::Duration;

use engine_query::{Filter, FilterOptions, Param, Schema};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Bytes};
use hyper::header::{self, HeaderMap};
use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorKind};

#[cfg(test)]
mod tests;

/// The default limit on request bodies: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// A request's query string, split into query-language parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    raw: String,
    params: Vec<Param>,
}

impl Query {
    /// The raw query string (without `?`), as the client sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The decoded parameters, in order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// Whether the query has no parameter.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Compiles the parameters into a filter with `options` (the session's time zone).
    ///
    /// # Errors
    ///
    /// A 400 for a `$regex` that does not compile, with the position in the raw
    /// query and a caret rendering.
    pub fn filter(&self, options: &FilterOptions) -> Result<Filter, ApiError> {
        options
            .compile(self.params.iter().cloned())
            .map_err(|error| query_error(error, &self.raw))
    }

    /// As [`Query::filter`], and checks the values against the field types of
    /// `schema` (so `timestamp$min=yesterday` is a 400, not an empty answer).
    ///
    /// # Errors
    ///
    /// As [`Query::filter`], and a 400 for a value that does not fit its field.
    pub fn checked_filter(
        &self,
        options: &FilterOptions,
        schema: &Schema,
    ) -> Result<Filter, ApiError> {
        let filter = self.filter(options)?;
        filter
            .check(schema)
            .map_err(|error| query_error(error, &self.raw))?;
        Ok(filter)
    }
}

/// Splits a raw query string (`None`: no query) into parameters.
///
/// # Errors
///
/// A 400 for bad percent-encoding, an empty key or an unknown operator, with
/// the key, the position and a caret rendering.
pub(crate) fn query(raw: Option<&str>) -> Result<Query, ApiError> {
    let raw = raw.unwrap_or_default();
    let params = engine_query::parse_query(raw).map_err(|error| query_error(error, raw))?;
    Ok(Query {
        raw: raw.to_owned(),
        params,
    })
}

/// A query-language error as a 400 pointing into `raw`.
fn query_error(error: engine_query::Error, raw: &str) -> ApiError {
    let span = error.span();
    let api = ApiError::from(error);
    match span {
        Some(span) => api.with_position(raw, span),
        None => api,
    }
}

/// Reads `body` (at most `limit` bytes, within `timeout` if given) and parses
/// it as one JSON object.
///
/// # Errors
///
/// A 413 when `Content-Length` or the bytes read exceed `limit` (the rest is
/// not read, so the response says `Connection: close`); a 408 (also with
/// `Connection: close`) when the whole body has not arrived within `timeout`; a 400 when the body cannot be read, is empty, is not JSON (with
/// the position and a caret rendering), is nested too deeply, or is not an
/// object.
pub(crate) async fn json_object<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
    timeout: Option<Duration>,
) -> Result<Map<String, Value>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large(limit));
    }
    let collect = Limited::new(body, limit).collect();
    let collected = match timeout {
        None => collect.await,
        Some(timeout) => match tokio::time::timeout(timeout, collect).await {
            Ok(collected) => collected,
            Err(_) => return Err(too_slow(timeout)),
        },
    };
    let bytes = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => return Err(too_large(limit)),
        Err(error) => {
            return Err(
                ApiError::new(ErrorKind::BadRequest, "cannot read the request body")
                    .with_source(error),
            );
        }
    };
    parse_object(&bytes)
}

/// Parses `bytes` as one JSON object.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorKind::BadRequest,
            "expected a JSON object, found an empty body",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        let text = String::from_utf8_lossy(bytes);
        let position = byte_position(&text, error.line(), error.column());
        ApiError::new(
            ErrorKind::BadRequest,
            format!("the body is not valid JSON: {error}"),
        )
        .with_position(&text, position..position + 1)
        .with_field("line", error.line())
        .with_field("column", error.column())
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::new(
            ErrorKind::BadRequest,
            format!("expected a JSON object, found {}", kind_of(&other)),
        )),
    }
}

/// The byte offset of serde_json's 1-based `line` and `column` in `text`.
fn byte_position(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// `an array`, `a string` ... for error messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn too_slow(timeout: Duration) -> ApiError {
    let seconds = timeout.as_secs_f64();
    ApiError::new(
        ErrorKind::RequestTimeout,
        format!("the request body did not arrive within {seconds} seconds"),
    )
    .with_field("timeout_seconds", seconds)
    .with_header(header::CONNECTION, "close")
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorKind::PayloadTooLarge,
        format!("the request body is larger than the limit of {limit} bytes"),
    )
    .with_field("limit", limit)
    .with_header(header::CONNECTION, "close")
}
