//! The [`Record`] trait: what a filter reads fields from, with impls for JSON and string maps.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::rc::Rc;
use std::sync::Arc;

use crate::value::Value;

/// Something with named fields that a [`Filter`](crate::Filter) can test.
///
/// Implement it for your own types by matching on the name; return `None` for a
/// field the record does not have (then no condition on that field matches).
///
/// ```
/// use chrono::{DateTime, Utc};
/// use engine_query::{Filter, Record, Value};
///
/// struct Run { task: String, at: DateTime<Utc>, attempts: i64 }
///
/// impl Record for Run {
///     fn field(&self, name: &str) -> Option<Value<'_>> {
///         match name {
///             "task_name" => Some(Value::Str(&self.task)),
///             "timestamp" => Some(Value::Time(self.at)),
///             "attempts" => Some(Value::Int(self.attempts)),
///             _ => None,
///         }
///     }
/// }
///
/// let run = Run { task: "extract".into(), at: "2021-01-01T12:00:00Z".parse()?, attempts: 2 };
/// assert!(Filter::parse("task_name=extract&attempts$min=2&timestamp$max=2021-01-01")?.matches(&run));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Record {
    /// The value of the field `name`, or `None` when the record has no such field.
    fn field(&self, name: &str) -> Option<Value<'_>>;
}

/// A JSON object: fields are its members. Strings stay [`Value::Str`] (they compare
/// as times against time bounds when they read as times), integers that fit
/// `i64` are [`Value::Int`], other numbers [`Value::Float`], arrays and objects
/// [`Value::Other`].
impl Record for serde_json::Map<String, serde_json::Value> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        self.get(name).map(json_value)
    }
}

/// A JSON value: an object as its map; anything else has no fields.
impl Record for serde_json::Value {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        self.as_object()?.field(name)
    }
}

/// A map of text fields.
impl<S: BuildHasher> Record for HashMap<String, String, S> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        self.get(name).map(|text| Value::Str(text))
    }
}

/// A map of text fields.
impl Record for BTreeMap<String, String> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        self.get(name).map(|text| Value::Str(text))
    }
}

impl<R: Record + ?Sized> Record for &R {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        (**self).field(name)
    }
}

impl<R: Record + ?Sized> Record for Box<R> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        (**self).field(name)
    }
}

impl<R: Record + ?Sized> Record for Rc<R> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        (**self).field(name)
    }
}

impl<R: Record + ?Sized> Record for Arc<R> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        (**self).field(name)
    }
}

/// The [`Value`] of one JSON member.
fn json_value(value: &serde_json::Value) -> Value<'_> {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(f)) => Value::Float(f),
            (None, None) => Value::Other,
        },
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => Value::Other,
    }
}
