//! Every `cond_eval` vector of `testdata/vectors.json`, evaluated through the
//! public API: parse the condition, load the logs into a `MemoryLogStore`, and
//! compare with `sensible_expected` when present, else `expected`.
//!
//! Vector times are naive local times; the session zone here is UTC.
//!
//! Deliberate choices, each with its reason:
//! * the log action `crash_release` (a reserved name in the original's test data,
//!   not a task status) is loaded as a `crash` record: like there, it is counted
//!   by no condition, but it is the latest record, so the task is not running;
//! * the count comparison (`compare`) has no text syntax: it goes through
//!   `Condition::eval_count`; `retries` through `Condition::eval_with_retries`.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use engine_core::condition::eval::{CountCompare, EvalContext, SchedulerState};
use engine_core::log::{Action, LogRecord, MemoryLogStore};
use engine_core::{Condition, Error};
use serde_json::{Map, Value};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/vectors.json");

/// How many `cond_eval` vectors the file holds: none may be skipped silently.
const COND_EVAL_VECTORS: usize = 178;

fn time(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|naive| naive.and_utc())
        .map_err(|e| format!("bad time {text:?}: {e}"))
}

fn text<'v>(vector: &'v Value, key: &str) -> Result<&'v str, String> {
    vector
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no text field {key:?}"))
}

fn action(name: &str) -> Result<Action, String> {
    match name {
        "crash_release" => Ok(Action::Crash),
        other => other.parse().map_err(|e: Error| e.to_string()),
    }
}

fn compare(spec: &Value) -> Result<CountCompare, String> {
    let (op, n) = spec
        .as_object()
        .and_then(|o| o.iter().next())
        .and_then(|(op, n)| Some((op.as_str(), n.as_u64()?)))
        .ok_or_else(|| format!("bad compare {spec}"))?;
    Ok(match op {
        "eq" => CountCompare::Eq(n),
        "ne" => CountCompare::Ne(n),
        "lt" => CountCompare::Lt(n),
        "le" => CountCompare::Le(n),
        "gt" => CountCompare::Gt(n),
        "ge" => CountCompare::Ge(n),
        _ => return Err(format!("unknown compare {op:?}")),
    })
}

/// Evaluates one vector; `Ok((got, want))`.
fn run(vector: &Value) -> Result<(bool, bool), String> {
    let cond: Condition = text(vector, "cond")?
        .parse()
        .map_err(|e: Error| e.render())?;
    let log = MemoryLogStore::default();
    for record in vector
        .get("logs")
        .and_then(Value::as_array)
        .ok_or("no logs")?
    {
        log.append(LogRecord::new(
            text(record, "task_name")?,
            action(text(record, "action")?)?,
            time(text(record, "timestamp")?)?,
        ));
    }
    let scheduler = match vector.get("scheduler") {
        None => None,
        Some(s) => Some(SchedulerState {
            cycles: s.get("n_cycles").and_then(Value::as_u64).unwrap_or(0),
            started_at: match s.get("startup_time").and_then(Value::as_str) {
                Some(t) => time(t)?,
                None => DateTime::<Utc>::MIN_UTC,
            },
        }),
    };
    let params: Map<String, Value> = vector
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let ctx = EvalContext {
        now: time(text(vector, "now")?)?,
        tz: Tz::UTC,
        log: &log,
        task: vector.get("task").and_then(Value::as_str),
        scheduler,
        params: &params,
        task_exists: None,
    };
    let retries = vector.get("retries").and_then(Value::as_u64).unwrap_or(0);
    let got = match vector.get("compare") {
        Some(spec) => cond.eval_count(&ctx, compare(spec)?),
        None => cond.eval_with_retries(&ctx, retries),
    }
    .map_err(|e| e.to_string())?;
    let want = vector
        .get("sensible_expected")
        .or_else(|| vector.get("expected"))
        .and_then(Value::as_bool)
        .ok_or("no expected value")?;
    Ok((got, want))
}

#[test]
fn every_cond_eval_vector() {
    let data = std::fs::read_to_string(VECTORS).expect("testdata/vectors.json is readable");
    let vectors: Vec<Value> = serde_json::from_str(&data).expect("vectors.json is JSON");
    let mut ran = 0;
    let mut failures = Vec::new();
    let mut phrases = BTreeSet::new();
    for (i, vector) in vectors.iter().enumerate() {
        if vector.get("kind").and_then(Value::as_str) != Some("cond_eval") {
            continue;
        }
        ran += 1;
        phrases.insert(vector.get("cond").map(Value::to_string).unwrap_or_default());
        match run(vector) {
            Ok((got, want)) if got == want => {}
            Ok((got, want)) => {
                failures.push(format!("#{i} {}: got {got}, want {want}", vector["cond"]))
            }
            Err(e) => failures.push(format!("#{i} {}: {e}", vector["cond"])),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(ran, COND_EVAL_VECTORS, "cond_eval vectors run");
    assert!(
        phrases.len() > 50,
        "the vectors cover many phrases ({})",
        phrases.len()
    );
}
