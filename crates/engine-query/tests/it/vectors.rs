//! The `query` vectors of testdata/vectors.json, run through the public API.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use engine_query::{Filter, FilterOptions, Record, Value};
use serde_json::{Map, Value as Json};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/vectors.json");

/// A data item of a vector, with the fields `data_types` marks as datetimes held as times.
struct Item<'a> {
    json: &'a Map<String, Json>,
    times: HashMap<&'a str, DateTime<Utc>>,
}

impl Record for Item<'_> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        match self.times.get(name) {
            Some(time) => Some(Value::Time(*time)),
            None => self.json.field(name),
        }
    }
}

/// The item, converting the fields typed `datetime` from `YYYY-MM-DD HH:MM:SS` text.
fn item<'a>(json: &'a Json, data_types: Option<&'a Map<String, Json>>) -> Item<'a> {
    let json = json.as_object().expect("data items are objects");
    let mut times = HashMap::new();
    for (field, kind) in data_types.into_iter().flatten() {
        assert_eq!(
            kind.as_str(),
            Some("datetime"),
            "unknown data type {kind} for {field}"
        );
        let text = json
            .get(field)
            .and_then(Json::as_str)
            .expect("datetime fields are strings");
        let time = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
            .expect("datetime text")
            .and_utc();
        times.insert(field.as_str(), time);
    }
    Item { json, times }
}

/// Runs one vector; returns a description of the mismatch, if any.
fn run(vector: &Json) -> Result<(), String> {
    let id = vector["test_id"].as_str().unwrap_or("?");
    let pairs = vector["pairs"]
        .as_array()
        .ok_or(format!("{id}: no pairs"))?;
    let pairs: Vec<(&str, &Json)> = pairs
        .iter()
        .map(|pair| (pair[0].as_str().unwrap_or_default(), &pair[1]))
        .collect();
    let filter: Filter = FilterOptions::default()
        .from_json_pairs(pairs)
        .map_err(|e| format!("{id}: {e}"))?;
    let data_types = vector.get("data_types").and_then(Json::as_object);
    let data = vector["data"].as_array().ok_or(format!("{id}: no data"))?;
    let kept: Vec<&Json> = data
        .iter()
        .filter(|d| filter.matches(&item(d, data_types)))
        .collect();
    let expected = vector
        .get("sensible_expected")
        .unwrap_or(&vector["expected"]);
    let expected: Vec<&Json> = expected
        .as_array()
        .ok_or(format!("{id}: no expected"))?
        .iter()
        .collect();
    if kept == expected {
        Ok(())
    } else {
        Err(format!(
            "{id}: filter {filter} kept {kept:?}, expected {expected:?}"
        ))
    }
}

#[test]
fn query_vectors() {
    let text = std::fs::read_to_string(VECTORS).expect("read testdata/vectors.json");
    let vectors: Vec<Json> = serde_json::from_str(&text).expect("vectors.json is a JSON array");
    let query: Vec<&Json> = vectors.iter().filter(|v| v["kind"] == "query").collect();
    let failures: Vec<String> = query.iter().filter_map(|v| run(v).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(query.len(), 12, "expected exactly 12 query vectors");
}
