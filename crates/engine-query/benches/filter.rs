//! Benchmark: a compiled filter over one million typed log records (`cargo bench -p engine-query --bench filter`).
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use engine_query::{FieldType, Filter, Record, Value};

/// A task log record as a store would hold it in memory.
struct LogRecord {
    task_name: String,
    action: &'static str,
    timestamp: DateTime<Utc>,
    created: f64,
    exc_text: Option<String>,
}

impl Record for LogRecord {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        match name {
            "task_name" => Some(Value::Str(&self.task_name)),
            "action" => Some(Value::Str(self.action)),
            "timestamp" => Some(Value::Time(self.timestamp)),
            "created" => Some(Value::Float(self.created)),
            "exc_text" => Some(self.exc_text.as_deref().map_or(Value::Null, Value::Str)),
            _ => None,
        }
    }
}

const RECORDS: usize = 1_000_000;
const RUNS: usize = 5;

/// One million records over ten days, cycling through tasks and actions.
fn records() -> Vec<LogRecord> {
    let start: DateTime<Utc> = DateTime::from_timestamp(1_609_459_200, 0).unwrap_or_default();
    let actions = ["run", "success", "run", "fail", "run", "terminate"];
    (0..RECORDS)
        .map(|i| {
            let timestamp = start + TimeDelta::milliseconds(i as i64 * 864);
            let action = actions[i % actions.len()];
            LogRecord {
                task_name: format!("task-{}", i % 100),
                action,
                timestamp,
                created: timestamp.timestamp() as f64,
                exc_text: (action == "fail").then(|| "Traceback".to_owned()),
            }
        })
        .collect()
}

/// The best time of [`RUNS`] passes of `filter` over `records`, and the count kept.
fn best_of<R: Record>(filter: &Filter, records: &[R]) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut kept = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        kept = black_box(records)
            .iter()
            .filter(|r| filter.matches(*r))
            .count();
        best = best.min(started.elapsed());
    }
    (best, black_box(kept))
}

fn report(label: &str, records: usize, predicates: usize, (best, kept): (Duration, usize)) {
    let rate = records as f64 / best.as_secs_f64() / 1e6;
    println!(
        "{label}: {records} records, {predicates} predicates: {rate:.1} M records/s (best of {RUNS}, {kept} kept)"
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records = records();

    let filter =
        Filter::parse("timestamp$min=2021-01-03&timestamp$max=2021-01-07+12:00&action=run")?;
    filter.check(
        &[("timestamp", FieldType::Time), ("action", FieldType::Text)]
            .into_iter()
            .collect(),
    )?;
    report("query filter", records.len(), 3, best_of(&filter, &records));

    let filter = Filter::parse(
        "task_name=task-1&task_name=task-2&task_name=task-3&action$not=run&created$min=1609500000",
    )?;
    report(
        "query filter (any-of, $not, number)",
        records.len(),
        3,
        best_of(&filter, &records),
    );

    let filter = Filter::parse("task_name$regex=task-1[0-9]&action=fail")?;
    report(
        "query filter ($regex)",
        records.len(),
        2,
        best_of(&filter, &records),
    );

    let json: Vec<serde_json::Value> = records
        .iter()
        .take(RECORDS / 10)
        .map(|r| {
            serde_json::json!({
                "task_name": r.task_name,
                "action": r.action,
                "timestamp": r.timestamp.format("%Y-%m-%d %H:%M:%S").to_string(),
            })
        })
        .collect();
    let filter =
        Filter::parse("timestamp$min=2021-01-01+03:00&timestamp$max=2021-01-01+12:00&action=run")?;
    report(
        "query filter (JSON records, text times)",
        json.len(),
        3,
        best_of(&filter, &json),
    );
    Ok(())
}
