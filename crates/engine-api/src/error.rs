//! The one error type of engine-api, [`ApiError`], and its conversion into an HTTP response.
//!
//! Every failure of a request ends here: [`ApiError::into_response`] is the only
//! place that turns an error into a response. The body is always JSON,
//! `{"error": "<one clause>"}` plus optional fields (`position`, `detail`, `key`,
//! `allowed` ...). A 5xx never shows its cause: the body says only
//! `internal server error` and the cause is logged at `error` level.

use std::error::Error as StdError;
use std::ops::Range;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Map, Value};

use crate::respond;
use crate::router::RouteError;

#[cfg(test)]
mod tests;

/// An error of engine-api: what went wrong, which HTTP status it answers, and
/// what the JSON error body shows.
///
/// ```
/// use engine_api::{ApiError, ErrorKind};
///
/// let error = ApiError::new(ErrorKind::Conflict, "a task named 'a' already exists");
/// assert_eq!(error.status().as_u16(), 409);
/// assert_eq!(error.body()["error"], "a task named 'a' already exists");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    kind: ErrorKind,
    message: String,
    fields: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

/// The family of an [`ApiError`], which fixes its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: bad JSON, a bad condition, an unknown or read-only field, a bad query.
    BadRequest,
    /// 401: no or wrong credentials (the response carries `WWW-Authenticate`).
    Unauthorized,
    /// 403: the credentials do not allow this request.
    Forbidden,
    /// 404: no such route or task.
    NotFound,
    /// 405: the path does not answer this method (the response carries `Allow`).
    MethodNotAllowed,
    /// 408: the request body did not arrive in time (a slow or stalled client).
    RequestTimeout,
    /// 409: the name is taken.
    Conflict,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 500: a bug or a failure of the engine.
    Internal,
    /// 500: the [`RequestStore`](crate::RequestStore) could not store or read changes.
    Store,
    /// The server could not start: an insecure or invalid configuration.
    Config,
    /// The server could not use its socket.
    Io,
}

impl ErrorKind {
    /// The HTTP status of errors of this kind (500 for the server-side kinds).
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Internal | ErrorKind::Store | ErrorKind::Config | ErrorKind::Io => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl ApiError {
    /// A new error of `kind` with a one-clause, lowercase `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            fields: Map::new(),
            headers: Vec::new(),
            source: None,
        }
    }

    /// A 401 whose response asks for credentials with `challenge`, the value of
    /// the `WWW-Authenticate` header (`Bearer realm="engine"`).
    pub fn unauthorized(message: impl Into<String>, challenge: &str) -> Self {
        ApiError::new(ErrorKind::Unauthorized, message)
            .with_header(header::WWW_AUTHENTICATE, challenge)
    }

    /// Adds a field to the JSON body (`"key": value`, beside `"error"`).
    ///
    /// The field `error` is reserved for the message and is not overwritten.
    pub fn with_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        if key != "error" {
            self.fields.insert(key.to_owned(), value.into());
        }
        self
    }

    /// Adds where in `input` the problem is: the field `position` (the byte
    /// offset of the start of `span`) and the field `detail`, the message with the
    /// offending line and a caret line under the span.
    pub fn with_position(self, input: &str, span: Range<usize>) -> Self {
        let detail = format!("{}\n{}", self.message, caret(input, span.clone()));
        self.with_field("position", span.start)
            .with_field("detail", detail)
    }

    /// Keeps `source` as the cause (shown in logs, never in a response).
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Adds a header to the error response; an invalid value is left out.
    pub(crate) fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// The family of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// What went wrong, one lowercase clause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The extra fields of the JSON body (without `error`).
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The JSON body of the response: `{"error": message, ...fields}`, or only
    /// `{"error": "internal server error"}` for a 5xx.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        if self.status().is_server_error() {
            body.insert("error".to_owned(), "internal server error".into());
            return Value::Object(body);
        }
        body.insert("error".to_owned(), self.message.clone().into());
        body.extend(self.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(body)
    }

    /// The response: the status, the JSON [`body`](ApiError::body), and `Allow`,
    /// `WWW-Authenticate` or `Connection: close` where the status needs one.
    ///
    /// Logs the error: a 4xx at `debug`, a 5xx at `error` with its cause chain.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self, cause = %Causes(&self), "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), error = %self, "request refused");
        }
        let mut response = respond::json(status, &self.body());
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

impl From<RouteError> for ApiError {
    fn from(error: RouteError) -> Self {
        match error {
            RouteError::NotFound => {
                ApiError::new(ErrorKind::NotFound, "no route matches this path")
            }
            RouteError::MethodNotAllowed { spec } => {
                let allowed: Vec<Value> =
                    spec.allowed().iter().map(|v| v.as_str().into()).collect();
                ApiError::new(
                    ErrorKind::MethodNotAllowed,
                    format!(
                        "this path does not allow this method, only {}",
                        spec.allow()
                    ),
                )
                .with_field("allowed", allowed)
                .with_header(header::ALLOW, &spec.allow())
            }
            RouteError::InvalidPath { message, position } => {
                ApiError::new(ErrorKind::BadRequest, message).with_field("position", position)
            }
        }
    }
}

impl From<engine_core::Error> for ApiError {
    fn from(error: engine_core::Error) -> Self {
        use engine_core::ErrorKind as Core;
        let kind = match error.kind() {
            Core::InvalidCondition
            | Core::InvalidTime
            | Core::InvalidDuration
            | Core::InvalidTask
            | Core::InvalidInput
            | Core::Evaluation => ErrorKind::BadRequest,
            Core::NotFound => ErrorKind::NotFound,
            Core::Conflict => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        };
        let positioned = match (error.input(), error.span()) {
            (Some(input), Some(span)) => Some((input.to_owned(), span)),
            _ => None,
        };
        let api = ApiError::new(kind, error.to_string());
        let api = match positioned {
            Some((input, span)) => api.with_position(&input, span),
            None => api,
        };
        api.with_source(error)
    }
}

impl From<engine_query::Error> for ApiError {
    /// A 400 naming the key and, when the filter came from a query string, the
    /// byte offset in it. Use [`ApiError::with_position`] with the raw query
    /// to add the caret rendering.
    fn from(error: engine_query::Error) -> Self {
        let mut api = ApiError::new(ErrorKind::BadRequest, error.to_string());
        if let Some(key) = error.key() {
            api = api.with_field("key", key);
        }
        if let Some(span) = error.span() {
            api = api.with_field("position", span.start);
        }
        api.with_source(error)
    }
}

/// Two lines: the line of `input` holding the start of `span`, and a caret line
/// under the span (at least one caret). Never panics, whatever the span.
pub(crate) fn caret(input: &str, span: Range<usize>) -> String {
    let start = floor_char_boundary(input, span.start);
    let end = floor_char_boundary(input, span.end.max(start)).max(start);
    let before = input.get(..start).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let after = input.get(start..).unwrap_or_default();
    let line_end = after.find('\n').map_or(input.len(), |i| start + i);
    let line = input.get(line_start..line_end).unwrap_or_default();
    let pad = input
        .get(line_start..start)
        .unwrap_or_default()
        .chars()
        .count();
    let width = input
        .get(start..end.min(line_end))
        .unwrap_or_default()
        .chars()
        .count()
        .max(1);
    format!("  {line}\n  {}{}", " ".repeat(pad), "^".repeat(width))
}

/// The largest char boundary of `text` at or below `index`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Displays the cause chain of an error: `cause: inner cause: ...`, or `none`.
struct Causes<'a>(&'a (dyn StdError + 'static));

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut cause = self.0.source();
        if cause.is_none() {
            return f.write_str("none");
        }
        let mut first = true;
        while let Some(error) = cause {
            if !first {
                f.write_str(": ")?;
            }
            write!(f, "{error}")?;
            first = false;
            cause = error.source();
        }
        Ok(())
    }
}
