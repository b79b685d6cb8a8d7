//! The one error type of engine-core.

use std::ops::Range;

/// An error of engine-core: what went wrong and, for text input, where.
///
/// Parse errors keep the input and the byte span of the offending part, so they can
/// be shown with a caret (see [`Error::render`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", at_byte(span))]
pub struct Error {
    kind: ErrorKind,
    message: String,
    input: Option<String>,
    span: Option<Range<usize>>,
}

/// The family an [`Error`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A condition string is not valid condition syntax.
    InvalidCondition,
    /// A time literal (`10:00`, `Mon`, `5th`) or a time-period string is invalid.
    InvalidTime,
    /// A duration string (`1 day 2 hours`, `02:00:00`) is invalid.
    InvalidDuration,
    /// A task definition is invalid (name, kind fields, execution mode).
    InvalidTask,
    /// A value given by the caller is invalid (a config value, a parameter).
    InvalidInput,
    /// The named thing (a task) does not exist.
    NotFound,
    /// The name is already taken.
    Conflict,
    /// A condition could not be evaluated (missing owner task, unknown task, ...).
    Evaluation,
    /// The task log could not be read or written.
    Log,
    /// A fault of the engine itself, not of its input (a bug, or a thread that
    /// ended unexpectedly).
    Internal,
}

impl Error {
    /// A new error of `kind` with a one-clause, lowercase `message`.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            input: None,
            span: None,
        }
    }

    /// Attaches the input text and the byte span of the offending part. The span
    /// is clamped to the input and widened to character boundaries, so slicing
    /// the input with it never panics.
    pub(crate) fn with_span(mut self, input: &str, span: Range<usize>) -> Self {
        let mut end = span.end.min(input.len());
        while !input.is_char_boundary(end) {
            end += 1;
        }
        let mut start = span.start.min(end);
        while !input.is_char_boundary(start) {
            start -= 1;
        }
        self.input = Some(input.to_owned());
        self.span = Some(start..end);
        self
    }

    /// The family of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What went wrong, without position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The input the error is about, when it came from text.
    pub fn input(&self) -> Option<&str> {
        self.input.as_deref()
    }

    /// The byte span of the offending part of [`Error::input`].
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// The message, the input line and a caret line under the offending part.
    ///
    /// For multi-line input only the line holding the start of the span is shown.
    pub fn render(&self) -> String {
        let (Some(input), Some(span)) = (&self.input, &self.span) else {
            return self.to_string();
        };
        let line_start = input[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = input[span.start..]
            .find('\n')
            .map_or(input.len(), |i| span.start + i);
        let line = &input[line_start..line_end];
        let pad = input[line_start..span.start].chars().count();
        let width = input[span.start..span.end.min(line_end)]
            .chars()
            .count()
            .max(1);
        format!(
            "{self}\n  {line}\n  {}{}",
            " ".repeat(pad),
            "^".repeat(width)
        )
    }
}

/// ` at byte N` for errors with a span, else nothing.
fn at_byte(span: &Option<Range<usize>>) -> String {
    span.as_ref()
        .map(|span| format!(" at byte {}", span.start))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
