//! The one error type of engine-query: what was wrong, with which key, and where.

use std::fmt;
use std::ops::Range;

/// An error building or checking a [`Filter`](crate::Filter).
///
/// It names the key it is about (`timestamp$min`, or the raw text of a key that
/// could not be decoded) and, when the filter came from a raw query string, the
/// byte span of the offending part of that string. `Display` is one lowercase
/// clause followed by ` at byte N` when a span is known. An invalid regex says
/// what is wrong with it in the message itself (clients of the HTTP API see only
/// the message), so it has no separate source.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}{}", At(self.span.as_ref()))]
pub struct Error {
    kind: ErrorKind,
    key: Option<String>,
    span: Option<Range<usize>>,
    message: String,
}

/// The family an [`Error`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A `%` not followed by two hex digits, or percent-decoded bytes that are not UTF-8.
    InvalidEncoding,
    /// A key with no field name: `=run`, `$min=1`.
    EmptyKey,
    /// An operator other than `$min`, `$max`, `$not`, `$regex` (`a$foo`, `a$`, `a$b$c`).
    UnknownOperator,
    /// A `$regex` value that is not a valid regular expression.
    InvalidRegex,
    /// A value the query language cannot use: a nested JSON array or a JSON object.
    InvalidValue,
    /// A value that cannot be compared with the field's declared type, found by
    /// [`Filter::check`](crate::Filter::check): `timestamp$min=yesterday` for a time
    /// field, `priority=high` for a number, `$regex` on a non-text field.
    TypeMismatch,
}

impl Error {
    /// A new error of `kind` about `key`, with a one-clause lowercase `message`.
    pub(crate) fn new(kind: ErrorKind, key: Option<&str>, message: impl Into<String>) -> Self {
        Error {
            kind,
            key: key.map(str::to_owned),
            span: None,
            message: message.into(),
        }
    }

    /// Attaches the byte span of the offending part of the raw query string.
    pub(crate) fn with_span(mut self, span: Option<Range<usize>>) -> Self {
        self.span = span;
        self
    }

    /// The family of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The key the error is about (`timestamp$min`), as decoded where decoding worked.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The byte span of the offending part of the raw query string, when the
    /// filter was built from one.
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// What went wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Formats ` at byte N` for a known span, nothing otherwise.
struct At<'a>(Option<&'a Range<usize>>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(span) => write!(f, " at byte {}", span.start),
            None => Ok(()),
        }
    }
}
