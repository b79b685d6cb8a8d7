//! The problems of a config file: where each one is, and how it is shown
//! (`FILE:LINE:COLUMN: message` with the file's line and a caret under it).

use std::ops::Range;

/// One error in a config file: where, what, and an optional caret drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The byte span in the file (`None`: the file as a whole).
    pub(crate) span: Option<Range<usize>>,
    /// What is wrong, one clause.
    pub(crate) message: String,
    /// Lines to show under the message (a condition's caret drawing); `None`:
    /// the file's line with a caret under the span.
    pub(crate) detail: Option<String>,
}

impl Problem {
    /// A problem at `span`.
    pub(crate) fn at(span: Range<usize>, message: impl Into<String>) -> Problem {
        Problem {
            span: Some(span),
            message: message.into(),
            detail: None,
        }
    }

    /// The problem as shown: `FILE:LINE:COLUMN: message`, then the caret lines.
    pub(crate) fn render(&self, file: &str, source: &str) -> String {
        let Some(span) = &self.span else {
            return format!("{file}: {}", self.message);
        };
        let start = floor_char_boundary(source, span.start);
        let (line, column) = line_column(source, start);
        let detail = match &self.detail {
            Some(detail) => detail.clone(),
            None => caret(source, start..span.end.max(start)),
        };
        format!("{file}:{line}:{column}: {}\n{detail}", self.message)
    }
}

/// Every problem rendered, in file order.
pub(crate) fn render_all(problems: &[Problem], file: &str, source: &str) -> Vec<String> {
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by_key(|p| p.span.as_ref().map_or(0, |s| s.start));
    sorted.iter().map(|p| p.render(file, source)).collect()
}

/// The message of a toml error, without its position.
pub(super) fn serde_message(e: &toml::de::Error) -> String {
    e.message().trim_end().to_owned()
}

/// A TOML syntax error as a problem.
pub(super) fn toml_problem(e: &toml::de::Error, source: &str) -> Problem {
    Problem {
        span: Some(e.span().unwrap_or(source.len()..source.len())),
        message: format!("bad TOML: {}", serde_message(e)),
        detail: None,
    }
}

/// Where `inner` (a byte span of the string value `text`) lies in the file,
/// when the value is written without escapes on one line (`"..."` or `'...'`).
pub(super) fn inner_span(
    source: &str,
    value: &Range<usize>,
    text: &str,
    inner: Range<usize>,
) -> Option<Range<usize>> {
    let raw = source.get(value.clone())?;
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let body = raw.get(quote..raw.len().checked_sub(quote)?)?;
    (body == text).then(|| value.start + quote + inner.start..value.start + quote + inner.end)
}

/// The 1-based line and column (in characters) of byte `at`.
pub(crate) fn line_column(source: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(source, at);
    let before = source.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The file's line holding `span.start`, with carets under the span.
fn caret(source: &str, span: Range<usize>) -> String {
    let start = floor_char_boundary(source, span.start);
    let line_start = source
        .get(..start)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = source
        .get(start..)
        .and_then(|s| s.find('\n'))
        .map_or(source.len(), |i| start + i);
    let line = source.get(line_start..line_end).unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    let pad = source
        .get(line_start..start)
        .map_or(0, |s| s.chars().count());
    let end = floor_char_boundary(source, span.end.min(line_end).max(start));
    let width = source
        .get(start..end)
        .map_or(1, |s| s.chars().count())
        .max(1);
    format!("  {line}\n  {}{}", " ".repeat(pad), "^".repeat(width))
}

/// The largest char boundary at or before `at` (clamped to the text).
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
