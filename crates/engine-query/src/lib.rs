//! engine-query: the URL query language (`action=run&timestamp$min=2021-01-01`) as
//! compiled predicates over records.
//!
//! A query is a list of `key=value` parameters. The key is a field name,
//! optionally followed by an operator: `field=v` (equal), `field$min=v` and
//! `field$max=v` (inclusive bounds), `field$not=v` (not equal), `field$regex=p`
//! (the pattern matches at the start of the text, like Python's `re.match`).
//! The same key repeated means **any** of its values; different keys must
//! **all** hold. Any other operator, an empty key, a bad regex or bad
//! percent-encoding is an [`Error`] naming the key and, for a query string, the
//! byte offset; nothing in this crate panics on any input.
//!
//! # The key decision: values are typed by the field, once, at compile time
//!
//! URL values are text, but fields are not: `?priority=0` must match the
//! integer 0, `?timestamp$max=2021-01-01` must compare as a time and cover the
//! whole day, `?disabled=false` must match a boolean. Field types are only known
//! when a record is read, and a filter is compiled once and run over millions of
//! records. So compiling a [`Filter`] parses each value into **every**
//! interpretation it has (text, integer, float, boolean, null, and a time, read
//! in the caller's time zone for times without an offset, taking the end of the
//! day for a `$max` date), and matching picks the one that fits the field's
//! [`Value`] without parsing anything. A value with no interpretation for a field
//! does not match it; [`Filter::check`] against a [`Schema`] turns that into an
//! up-front error (an API's 400 for `timestamp$min=yesterday`).
//!
//! # Rules in brief
//!
//! - A record without the field never matches a condition on it, whatever the
//!   operator, `$not` included. A null field equals only `null`, satisfies `$not`
//!   for any other value, and never satisfies `$min`, `$max` or `$regex`.
//! - `$not=v` is exactly "has the field and not `=v`".
//! - Text compares by code point; a text field that reads as a time (JSON records
//!   keep times as strings) compares as a time with a value that is a time.
//! - Times: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.f]]` (or `T`), optional `Z` or
//!   `+HH:MM`. A date alone is midnight for `=`, `$not` and `$min`, the whole day
//!   for `$max`.
//! - `$regex` uses the [`regex`] crate's syntax (no look-around or
//!   back-references) and applies to text fields only.
//! - A JSON object as a query keeps its value types (`{"n$min": 10}` is numeric
//!   only); an array value is the key repeated.
//! - [`Filter::constraint`] tells a store a necessary (not sufficient) condition on
//!   one field, so it can use an index and then apply the full filter.
//!
//! ```
//! use engine_query::Filter;
//! use serde_json::json;
//!
//! let filter = Filter::parse("action=run&action=fail&timestamp$max=2021-01-01&priority=0")?;
//! let records = [
//!     json!({"action": "run", "timestamp": "2021-01-01 23:59:59", "priority": 0}),
//!     json!({"action": "success", "timestamp": "2021-01-01 10:00:00", "priority": 0}),
//!     json!({"action": "fail", "timestamp": "2021-01-02 00:00:00", "priority": 0}),
//!     json!({"action": "fail", "timestamp": "2020-12-31T08:00:00Z", "priority": 1}),
//! ];
//! let kept: Vec<usize> = (0..records.len()).filter(|&i| filter.matches(&records[i])).collect();
//! assert_eq!(kept, [0]);
//!
//! let error = Filter::parse("action$foo=run").unwrap_err();
//! assert_eq!(error.to_string(), "unknown operator '$foo' in key 'action$foo', expected $min, $max, $not or $regex at byte 6");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod filter;
mod op;
mod record;
mod syntax;
mod value;

#[cfg(test)]
mod tests;

pub use crate::error::{Error, ErrorKind};
pub use crate::filter::{Constraint, Filter, FilterOptions, MAX_REGEXES, REGEX_SIZE_LIMIT, Schema};
pub use crate::op::Op;
pub use crate::record::Record;
pub use crate::syntax::{Param, parse_query};
pub use crate::value::{FieldType, Literal, Value};
