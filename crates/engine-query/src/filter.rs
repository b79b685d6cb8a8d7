//! The compiled [`Filter`]: parameters grouped per key, bounds pre-parsed, regexes built.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use regex::{Regex, RegexBuilder};

use crate::error::{Error, ErrorKind};
use crate::op::{Bound, Op, holds};
use crate::record::Record;
use crate::syntax::{Param, parse_query};
use crate::value::time::Zone;
use crate::value::{Literal, Value};

mod check;
mod pushdown;

pub use check::Schema;
pub use pushdown::Constraint;

/// A compiled query: a predicate over [`Record`]s.
///
/// Parameters with the same full key (`action`, `timestamp$min`, ...) form a
/// group that holds when **any** of them holds; the filter holds when **all**
/// groups hold, checked in the order the keys first appeared. A record that lacks
/// a field never satisfies a group on that field, whatever the operator
/// (including `$not`). The empty filter matches every record.
///
/// Build it once with [`Filter::parse`], [`Filter::from_pairs`],
/// [`Filter::from_json`] or a [`FilterOptions`], then call [`Filter::matches`]
/// as often as needed: matching does no parsing and no allocation.
///
/// `Display` gives the canonical query string (percent-encoded, groups in order),
/// which parses back to an equivalent filter for text values.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    groups: Vec<Group>,
    zone: Zone,
}

/// How to compile a [`Filter`]: today, the zone for times written without an offset.
///
/// ```
/// use chrono::FixedOffset;
/// use engine_query::{FilterOptions, Value, Record};
///
/// let helsinki_winter = FixedOffset::east_opt(2 * 3600).ok_or("offset")?;
/// let filter = FilterOptions::default()
///     .with_offset(helsinki_winter)
///     .parse("timestamp$min=2021-01-01 02:00")?;
/// let record = serde_json::json!({"timestamp": "2021-01-01T00:00:00Z"});
/// assert!(filter.matches(&record));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct FilterOptions {
    zone: Zone,
}

/// One group: every parameter with the same full key, any of which may hold.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) key: Box<str>,
    pub(crate) field: Box<str>,
    pub(crate) op: Op,
    pub(crate) alts: Vec<Alt>,
}

/// One alternative of a group: the value as given, and what matching uses.
#[derive(Debug, Clone)]
pub(crate) struct Alt {
    pub(crate) literal: Literal,
    pub(crate) span: Option<Range<usize>>,
    pub(crate) test: Test,
}

/// The compiled form of one alternative.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// `=`, `$min`, `$max`, `$not`: a pre-parsed bound.
    Bound(Bound),
    /// `$regex`: the pattern anchored at the start.
    Regex(Regex),
}

impl Filter {
    /// Compiles a raw query string (`action=run&timestamp$min=2021-01-01`),
    /// reading times without an offset as UTC.
    ///
    /// # Errors
    ///
    /// See [`FilterOptions::parse`].
    pub fn parse(query: &str) -> Result<Filter, Error> {
        FilterOptions::default().parse(query)
    }

    /// Compiles decoded `(key, value)` text pairs, reading times as UTC.
    ///
    /// # Errors
    ///
    /// See [`FilterOptions::from_pairs`].
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Filter, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        FilterOptions::default().from_pairs(pairs)
    }

    /// Compiles a JSON object whose values keep their JSON types, reading times as UTC.
    ///
    /// # Errors
    ///
    /// See [`FilterOptions::from_json`].
    pub fn from_json(map: &serde_json::Map<String, serde_json::Value>) -> Result<Filter, Error> {
        FilterOptions::default().from_json(map)
    }

    /// Whether `record` satisfies the filter.
    pub fn matches<R: Record + ?Sized>(&self, record: &R) -> bool {
        self.groups
            .iter()
            .all(|group| group.matches(record, &self.zone))
    }

    /// Whether the filter has no condition, so matches every record.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The fields the filter looks at, each once, in order of first appearance.
    pub fn fields(&self) -> Vec<&str> {
        let mut fields: Vec<&str> = Vec::new();
        for group in &self.groups {
            if !fields.contains(&&*group.field) {
                fields.push(&group.field);
            }
        }
        fields
    }

    /// The groups, for the check and push-down modules.
    pub(crate) fn groups(&self) -> &[Group] {
        &self.groups
    }
}

impl FromStr for Filter {
    type Err = Error;

    fn from_str(query: &str) -> Result<Filter, Error> {
        Filter::parse(query)
    }
}

/// Bytes kept as they are in the canonical query string: RFC 3986 unreserved
/// characters, `$` (operators) and `:` (times).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'$')
    .remove(b':');

impl fmt::Display for Filter {
    /// The canonical query string: one `key=value` per alternative, percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for group in &self.groups {
            for alt in &group.alts {
                if !first {
                    f.write_str("&")?;
                }
                first = false;
                let value = alt.literal.to_string();
                write!(
                    f,
                    "{}={}",
                    utf8_percent_encode(&group.key, QUERY_VALUE),
                    utf8_percent_encode(&value, QUERY_VALUE)
                )?;
            }
        }
        Ok(())
    }
}

impl Group {
    fn matches<R: Record + ?Sized>(&self, record: &R, zone: &Zone) -> bool {
        let Some(value) = record.field(&self.field) else {
            return false;
        };
        self.alts.iter().any(|alt| match &alt.test {
            Test::Bound(bound) => holds(self.op, value, bound, zone),
            Test::Regex(regex) => matches!(value, Value::Str(text) if regex.is_match(text)),
        })
    }
}

impl FilterOptions {
    /// Reads times without an offset at this fixed offset from UTC.
    pub fn with_offset(mut self, offset: FixedOffset) -> Self {
        self.zone = Zone::Fixed(offset);
        self
    }

    /// Reads times without an offset with `local`, which maps a local time to the
    /// instant it denotes, or to `None` when it does not exist (a time-zone gap).
    ///
    /// With chrono-tz: `|naive| tz.from_local_datetime(&naive).earliest().map(|t| t.to_utc())`.
    pub fn with_local<F>(mut self, local: F) -> Self
    where
        F: Fn(NaiveDateTime) -> Option<DateTime<Utc>> + Send + Sync + 'static,
    {
        self.zone = Zone::Custom(std::sync::Arc::new(local));
        self
    }

    /// Compiles a raw query string: see [`parse_query`](crate::parse_query) for the syntax.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidEncoding`], [`ErrorKind::EmptyKey`],
    /// [`ErrorKind::UnknownOperator`] and [`ErrorKind::InvalidRegex`], each with the
    /// key and the byte span in `query`.
    pub fn parse(&self, query: &str) -> Result<Filter, Error> {
        self.compile(parse_query(query)?)
    }

    /// Compiles decoded `(key, value)` text pairs, in order; repeated keys are kept.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EmptyKey`], [`ErrorKind::UnknownOperator`] and
    /// [`ErrorKind::InvalidRegex`], each naming the key.
    pub fn from_pairs<I, K, V>(&self, pairs: I) -> Result<Filter, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let params = pairs
            .into_iter()
            .map(|(key, value)| Param::new(key.as_ref(), Literal::Text(value.as_ref().to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        self.compile(params)
    }

    /// Compiles a JSON object; entries are ANDed in map order.
    ///
    /// Values keep their JSON types (see [`Literal`]). An array stands for the
    /// same key repeated once per element, so `{"action": ["run", "fail"]}` means
    /// `action=run&action=fail`.
    ///
    /// # Errors
    ///
    /// As [`FilterOptions::from_pairs`], and [`ErrorKind::InvalidValue`] for an
    /// object, a nested array or an empty array as a value, or a `$regex` value
    /// that is not a string.
    pub fn from_json(
        &self,
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Filter, Error> {
        self.from_json_pairs(map.iter().map(|(key, value)| (key.as_str(), value)))
    }

    /// Compiles `(key, JSON value)` pairs, in order; repeated keys are kept.
    ///
    /// # Errors
    ///
    /// As [`FilterOptions::from_json`].
    pub fn from_json_pairs<'a, I>(&self, pairs: I) -> Result<Filter, Error>
    where
        I: IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
    {
        let mut params = Vec::new();
        for (key, value) in pairs {
            let items = match value {
                serde_json::Value::Array(items) if items.is_empty() => {
                    return Err(invalid_value(
                        key,
                        "is an empty array, which would match nothing",
                    ));
                }
                serde_json::Value::Array(items) => items.as_slice(),
                single => std::slice::from_ref(single),
            };
            for item in items {
                let literal = Literal::from_json(item).ok_or_else(|| {
                    invalid_value(key, "is a JSON object or nested array, not a query value")
                })?;
                params.push(Param::new(key, literal)?);
            }
        }
        self.compile(params)
    }

    /// Compiles checked parameters: groups them per key and pre-parses every value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRegex`] for a `$regex` pattern that does not compile
    /// or is too large, or for more than [`MAX_REGEXES`] of them;
    /// [`ErrorKind::InvalidValue`] for a `$regex` value that is not text.
    pub fn compile(&self, params: impl IntoIterator<Item = Param>) -> Result<Filter, Error> {
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut regexes = 0;
        for param in params {
            let test = match param.op() {
                Op::Regex => {
                    regexes += 1;
                    if regexes > MAX_REGEXES {
                        let message =
                            format!("too many $regex parameters (at most {MAX_REGEXES} per query)");
                        return Err(Error::new(
                            ErrorKind::InvalidRegex,
                            Some(param.key()),
                            message,
                        )
                        .with_span(param.key_span()));
                    }
                    Test::Regex(compile_regex(&param)?)
                }
                op => Test::Bound(Bound::new(param.value(), op, &self.zone)),
            };
            let alt = Alt {
                literal: param.value().clone(),
                span: param.value_span(),
                test,
            };
            match index.get(param.key()) {
                Some(&i) => {
                    if let Some(group) = groups.get_mut(i) {
                        group.alts.push(alt);
                    }
                }
                None => {
                    index.insert(param.key().to_owned(), groups.len());
                    groups.push(Group {
                        key: param.key().into(),
                        field: param.field().into(),
                        op: param.op(),
                        alts: vec![alt],
                    });
                }
            }
        }
        Ok(Filter {
            groups,
            zone: self.zone.clone(),
        })
    }
}

/// The error for a JSON value the query language cannot use.
fn invalid_value(key: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidValue,
        Some(key),
        format!("the value of key '{key}' {what}"),
    )
}

/// The most `$regex` parameters one filter may have.
pub const MAX_REGEXES: usize = 16;

/// The most memory one compiled `$regex` may take (its program, and its lazy
/// DFA cache). Building a regex costs time in proportion to its size, so the
/// limit is also what bounds the time a query can spend compiling:
/// `\w{200}` (Unicode word characters) is refused at once instead of taking a
/// fifth of a second; `(?-u:\w){200}` is fine.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// Builds the regex of a `$regex` parameter, anchored at the start only.
///
/// The pattern is checked alone first (parsed, not compiled), so that a pattern
/// like `a)|(b`, which would turn valid inside `^(?:...)`, is rejected rather
/// than un-anchored. Like Python's `re.match`, the match need not reach the end
/// of the text. The compiled size is capped by [`REGEX_SIZE_LIMIT`].
fn compile_regex(param: &Param) -> Result<Regex, Error> {
    let Literal::Text(pattern) = param.value() else {
        return Err(
            invalid_value(param.key(), "must be a string for $regex").with_span(param.value_span())
        );
    };
    let invalid = |problem: String| {
        let message = format!(
            "invalid regex '{pattern}' for key '{}': {problem}",
            param.key()
        );
        Error::new(ErrorKind::InvalidRegex, Some(param.key()), message)
            .with_span(param.value_span())
    };
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map_err(|e| invalid(first_line(&e.to_string())))?;
    let build = |anchored: &str| {
        RegexBuilder::new(anchored)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
    };
    // A valid pattern fails inside the group only when it ends in an `(?x)` comment
    // that swallows the closing parenthesis; a newline ends the comment, and in
    // that mode whitespace means nothing.
    build(&format!("^(?:{pattern})"))
        .or_else(|error| match error {
            regex::Error::CompiledTooBig(_) => Err(error),
            _ => build(&format!("^(?:{pattern}\n)")),
        })
        .map_err(|error| match error {
            regex::Error::CompiledTooBig(limit) => invalid(format!(
                "the pattern is too large (its compiled form exceeds {limit} bytes; \
                 ASCII classes such as (?-u:\\w) are much smaller than Unicode ones)"
            )),
            other => invalid(first_line(&other.to_string())),
        })
}

/// The first line of a multi-line library error (the regex crates draw the
/// pattern with a caret on the lines below; our error carries the span instead).
fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with("error:"))
        .map_or_else(
            || text.lines().next().unwrap_or(text).to_owned(),
            |line| line.trim_start_matches("error:").trim().to_owned(),
        )
}
