//! Typed values: what a record field holds ([`Value`]), declared field types, and query literals.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};

pub(crate) mod time;

#[cfg(test)]
mod tests;

/// The value of one field of a record, borrowed from the record.
///
/// This is what [`Record::field`](crate::Record::field) returns. Comparison with a
/// query value depends on the variant: a `Time` compares as a time, `Int` and
/// `Float` as numbers (exactly, also across the two), `Bool` as a boolean
/// (`false < true`), `Str` as text by code point, except that a `Str` that reads
/// as a time compares as a time with a query value that is a time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// An explicit null (`None`, JSON `null`): equal only to the query value `null`.
    Null,
    /// A boolean: equal to the query values `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number; NaN compares with nothing.
    Float(f64),
    /// Text.
    Str(&'a str),
    /// An instant.
    Time(DateTime<Utc>),
    /// A value that is present but is none of the above (a JSON array or object, a
    /// duration): it equals no query value, so only `$not` matches it.
    Other,
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Time(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.fZ")),
            Value::Other => f.write_str("(other)"),
        }
    }
}

/// The declared type of a field, for [`Filter::check`](crate::Filter::check) and
/// [`Filter::constraint`](crate::Filter::constraint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Booleans: [`Value::Bool`].
    Bool,
    /// Integers: [`Value::Int`].
    Int,
    /// Floating-point numbers: [`Value::Float`].
    Float,
    /// Text: [`Value::Str`].
    Text,
    /// Instants: [`Value::Time`].
    Time,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldType::Bool => "boolean",
            FieldType::Int => "integer",
            FieldType::Float => "number",
            FieldType::Text => "text",
            FieldType::Time => "time",
        })
    }
}

/// The value of one query parameter, as given.
///
/// Query-string and text-pair values are always [`Literal::Text`] and take the
/// type of the field they are compared with. Values from JSON keep their JSON
/// type: a JSON number compares only with numbers, a boolean only with booleans,
/// `null` only with null.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// JSON `null`.
    Null,
    /// A JSON boolean.
    Bool(bool),
    /// A JSON integer that fits in `i64`.
    Int(i64),
    /// Any other JSON number.
    Float(f64),
    /// Text: a query-string value or a JSON string.
    Text(String),
}

impl Literal {
    /// The literal of a JSON scalar; `None` for an array or an object.
    pub fn from_json(value: &serde_json::Value) -> Option<Literal> {
        Some(match value {
            serde_json::Value::Null => Literal::Null,
            serde_json::Value::Bool(b) => Literal::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Literal::Int(i),
                None => Literal::Float(n.as_f64()?),
            },
            serde_json::Value::String(s) => Literal::Text(s.clone()),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => return None,
        })
    }
}

impl fmt::Display for Literal {
    /// The value as query text: `null`, `true`, `10`, `1.5` or the text itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(x) => write!(f, "{x}"),
            Literal::Text(s) => f.write_str(s),
        }
    }
}

/// 2^63, the first float above every `i64`.
pub(crate) const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Compares an integer with a float exactly (no rounding of the integer); `None`
/// when `f` is NaN.
pub(crate) fn cmp_i64_f64(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    // |f| < 2^63 or f == -2^63: the whole part is an exact i64, the rest a fraction.
    let whole = f.trunc();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0.partial_cmp(&(f - whole)),
        order => Some(order),
    }
}

/// Compares a float with an integer exactly; `None` when `f` is NaN.
pub(crate) fn cmp_f64_i64(f: f64, i: i64) -> Option<Ordering> {
    cmp_i64_f64(i, f).map(Ordering::reverse)
}
