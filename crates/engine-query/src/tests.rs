//! Unit tests of compiled filters: the shared record and table helpers; verdicts,
//! errors, forms and schema checks live in the files under `tests/`.

mod errors;
mod forms;
mod schema;
mod verdicts;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;

use crate::{ErrorKind, FieldType, Filter, FilterOptions, MAX_REGEXES, Record, Schema, Value};

/// A record given as a list of fields.
struct Fields(Vec<(&'static str, Value<'static>)>);

impl Record for Fields {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// An instant from RFC 3339 text.
fn t(text: &str) -> Value<'static> {
    Value::Time(text.parse::<DateTime<Utc>>().expect("test time"))
}

/// One row: query, record fields, whether the filter keeps the record.
type Row = (&'static str, Vec<(&'static str, Value<'static>)>, bool);

/// Compiles each query with `options` and checks the verdict on its record; all
/// failures are reported together.
fn check_with(options: &FilterOptions, rows: &[Row]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(query, fields, expected)| {
            let record = Fields(fields.clone());
            match options.parse(query) {
                Ok(filter) if filter.matches(&record) == *expected => None,
                Ok(_) => Some(format!("{query:?} on {fields:?}: expected {expected}")),
                Err(e) => Some(format!("{query:?}: unexpected error {e}")),
            }
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// [`check_with`] with default options (times in UTC).
fn check(rows: &[Row]) {
    check_with(&FilterOptions::default(), rows);
}

use Value::{Bool, Float, Int, Null, Other, Str};

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    send_sync::<Filter>();
    send_sync::<FilterOptions>();
    send_sync::<crate::Error>();
}
