#![no_main]
//! Fuzz target `query`: any text through the query language, as a raw query
//! string (`Filter::parse`, also with a zone that has daylight saving) and, when
//! it is a JSON object, as a JSON query (`Filter::from_json`).
//!
//! Properties (engine-query's docs): nothing panics; an error's span lies on
//! character boundaries of the query; a filter's canonical text
//! (`Display`) parses back to a filter that keeps the same records; and the
//! push-down `Filter::constraint` is necessary: every record the filter keeps
//! is admitted by the constraint on each of its fields, for that field's type.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use engine_fuzz::check_span;
use engine_query::{FieldType, Filter, FilterOptions, Record, Schema, Value};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// A record with typed fields, as a store or an API has them.
struct Typed {
    task_name: &'static str,
    action: &'static str,
    timestamp: DateTime<Utc>,
    priority: i64,
    runtime: f64,
    disabled: bool,
}

impl Record for Typed {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        Some(match name {
            "task_name" => Value::Str(self.task_name),
            "action" => Value::Str(self.action),
            "timestamp" => Value::Time(self.timestamp),
            "priority" => Value::Int(self.priority),
            "runtime" => Value::Float(self.runtime),
            "disabled" => Value::Bool(self.disabled),
            "exc_text" => Value::Null,
            "tags" => Value::Other,
            _ => return None,
        })
    }
}

static JSON_RECORDS: LazyLock<Vec<serde_json::Value>> = LazyLock::new(|| {
    vec![
        json!({"task_name": "extract", "action": "run", "timestamp": "2021-01-01 12:00:00",
               "priority": 0, "runtime": 1.5, "disabled": false, "exc_text": null,
               "tags": ["a", "b"], "created": 1_609_502_400.25}),
        json!({"task_name": "load", "action": "fail", "timestamp": "2020-12-31T23:59:59.999Z",
               "priority": -3, "runtime": 2, "disabled": true, "exc_text": "boom",
               "mykey": 15, "mydate": "2021-01-01", "x": {"y": 1}}),
        json!({"task_name": "ünïcode ✓", "action": "success", "timestamp": "2024-03-31 03:30:00+03:00",
               "priority": 9_223_372_036_854_775_807_i64, "runtime": 1e300, "disabled": null,
               "created": -1, "big": 18_446_744_073_709_551_615_u64}),
        json!({}),
    ]
});

static TYPED_RECORDS: LazyLock<Vec<Typed>> = LazyLock::new(|| {
    let at = |s: &str| {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .map(|t| t.and_utc())
            .unwrap_or_default()
    };
    vec![
        Typed {
            task_name: "extract",
            action: "run",
            timestamp: at("2021-01-01 12:00:00"),
            priority: 0,
            runtime: 1.5,
            disabled: false,
        },
        Typed {
            task_name: "",
            action: "crash",
            timestamp: at("2021-01-01 23:59:59.999999999"),
            priority: i64::MIN,
            runtime: f64::NAN,
            disabled: true,
        },
        Typed {
            task_name: "load",
            action: "fail",
            timestamp: at("1969-12-31 23:59:59.5"),
            priority: 10,
            runtime: -0.0,
            disabled: false,
        },
    ]
});

/// The declared type of a field value, when it has one.
fn field_type(value: Value<'_>) -> Option<FieldType> {
    match value {
        Value::Bool(_) => Some(FieldType::Bool),
        Value::Int(_) => Some(FieldType::Int),
        Value::Float(_) => Some(FieldType::Float),
        Value::Str(_) => Some(FieldType::Text),
        Value::Time(_) => Some(FieldType::Time),
        _ => None,
    }
}

/// Which records `filter` keeps, and the push-down check for each kept one.
fn kept(filter: &Filter, query: &str) -> Vec<bool> {
    let json = JSON_RECORDS
        .iter()
        .map(|r| (r as &dyn Record, filter.matches(r)));
    let typed = TYPED_RECORDS
        .iter()
        .map(|r| (r as &dyn Record, filter.matches(r)));
    let mut kept = Vec::new();
    for (record, matches) in json.chain(typed) {
        kept.push(matches);
        for field in filter.fields() {
            let Some(value) = record.field(field) else {
                assert!(
                    !matches,
                    "{query:?} keeps a record without the field '{field}'"
                );
                continue;
            };
            let Some(field_type) = field_type(value) else {
                continue;
            };
            let constraint = filter.constraint(field, field_type);
            if matches {
                assert!(
                    constraint.admits(value),
                    "{query:?} keeps a record whose {field} = {value} ({field_type}), \
                     but its constraint {constraint:?} does not admit it"
                );
                assert!(!constraint.is_unsatisfiable());
            }
        }
    }
    kept
}

/// The checks every compiled filter goes through.
fn exercise(filter: &Filter, query: &str) -> Vec<bool> {
    let schema = Schema::default()
        .with_field("timestamp", FieldType::Time)
        .with_field("priority", FieldType::Int)
        .with_field("runtime", FieldType::Float)
        .with_field("disabled", FieldType::Bool)
        .with_field("task_name", FieldType::Text);
    if let Err(error) = filter.check(&schema) {
        check_span(query, error.span());
    }
    let _ = filter.is_empty();
    kept(filter, query)
}

fn helsinki(naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    chrono_tz::Europe::Helsinki
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.to_utc())
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    match Filter::parse(query) {
        Ok(filter) => {
            let kept = exercise(&filter, query);
            let canonical = filter.to_string();
            let reparsed = match Filter::parse(&canonical) {
                Ok(reparsed) => reparsed,
                Err(error) => {
                    panic!("canonical text {canonical:?} of {query:?} does not parse: {error}")
                }
            };
            assert_eq!(
                exercise(&reparsed, &canonical),
                kept,
                "{query:?} and its canonical text {canonical:?} keep different records"
            );
        }
        Err(error) => check_span(query, error.span()),
    }
    // The zone only matters for times; skipping regexes here keeps the run from
    // compiling every pattern a third time.
    if !query.contains("$regex")
        && let Ok(filter) = FilterOptions::default().with_local(helsinki).parse(query)
    {
        exercise(&filter, query);
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(query)
        && let Ok(filter) = Filter::from_json(&map)
    {
        exercise(&filter, query);
    }
});
