//! Benchmark: condition parsing throughput, and evaluation against a task log of
//! one million records, indexed ([`MemoryLogStore`]) versus a naive scan
//! (`cargo bench -p engine-core --bench condition`).
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use engine_core::Condition;
use engine_core::condition::eval::EvalContext;
use engine_core::log::{Action, ActionSet, LogRead, LogRecord, MemoryLogConfig, MemoryLogStore};
use serde_json::Map;

/// A mix of phrases as people write them.
const PHRASES: &[&str] = &[
    "daily",
    "daily between 08:00 and 10:00 & after task 'extract'",
    "has succeeded today",
    "every 10 minutes",
    "run every 1 hour, 30 min",
    "weekly on Tuesday | weekly on Friday",
    "monthly starting 3rd",
    "time of day between 22:00 and 02:00",
    "time of week between Monday and Friday & daily after 07:00",
    "~has started",
    "after tasks 'a', 'b', 'c' finished",
    "after any tasks 'load', 'transform' failed",
    "task 'the task' is running",
    "has failed past 2 hours, 30 minutes",
    "scheduler has more than 3 cycles & ~scheduler has run over 1 day",
    "env 'prod' & param 'mode' is 'full'",
    "cron */15 8-17 * * 1-5",
    "(daily between 08:00 and 10:00 | daily between 18:00 and 22:00) & ~task 'backup' is running",
    "has started this week before Friday",
    "hourly between 45:00 and 15:00",
];

const TASKS: usize = 1_000;
const RECORDS: usize = 1_000_000;

fn main() {
    parse_throughput();
    let start = Utc
        .with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let days = 500;
    let (spread, flat) = logs(start, days);
    println!();
    println!(
        "task log: {RECORDS} records ({TASKS} tasks x {} over {days} days)",
        RECORDS / TASKS
    );
    let store = MemoryLogStore::with_config(MemoryLogConfig {
        max_records_per_task: RECORDS,
    });
    let begin = Instant::now();
    store.extend(spread.iter().cloned());
    println!(
        "  load MemoryLogStore: {:.0} ms",
        begin.elapsed().as_secs_f64() * 1e3
    );
    // Evaluated at 09:00 on the last day: inside the window, before the owner ran.
    let now = start + TimeDelta::days(days - 1) + TimeDelta::hours(9);
    eval_costs(&store, &spread, now, "t0007");

    println!();
    println!("task log: {RECORDS} records of ONE task over {days} days (retention {RECORDS})");
    let store = MemoryLogStore::with_config(MemoryLogConfig {
        max_records_per_task: RECORDS,
    });
    store.extend(flat.iter().cloned());
    eval_costs(&store, &flat, now, "t0000");
}

fn parse_throughput() {
    let bytes: usize = PHRASES.iter().map(|p| p.len()).sum();
    let rounds = 20_000;
    let begin = Instant::now();
    for _ in 0..rounds {
        for phrase in PHRASES {
            let parsed: Result<Condition, _> = black_box(phrase).parse();
            if parsed.is_err() {
                println!("does not parse: {phrase}");
                return;
            }
            black_box(parsed).ok();
        }
    }
    let secs = begin.elapsed().as_secs_f64();
    let count = (rounds * PHRASES.len()) as f64;
    println!(
        "parse: {} phrases x {rounds}: {:.2} M conditions/s, {:.1} MB/s, {:.0} ns per condition",
        PHRASES.len(),
        count / secs / 1e6,
        (rounds * bytes) as f64 / secs / 1e6,
        secs / count * 1e9
    );
}

/// One million records: `spread` cycles over TASKS tasks (each a run and a finish
/// a day), `flat` is one task's history of the same length.
fn logs(start: DateTime<Utc>, days: i64) -> (Vec<LogRecord>, Vec<LogRecord>) {
    let per_task = RECORDS / TASKS;
    let step = TimeDelta::seconds(days * 86_400 / per_task as i64);
    let names: Vec<String> = (0..TASKS).map(|i| format!("t{i:04}")).collect();
    let mut spread = Vec::with_capacity(RECORDS);
    for k in 0..per_task {
        let at = start + step * i32::try_from(k).unwrap_or(0);
        for (i, name) in names.iter().enumerate() {
            let action = match (k + i) % 4 {
                0 | 2 => Action::Run,
                1 => Action::Success,
                _ => Action::Fail,
            };
            // Stop the owner before its window on the last day, so `daily` is true.
            if name == "t0007" && at >= start + TimeDelta::days(days - 1) {
                continue;
            }
            spread.push(LogRecord::new(
                name.as_str(),
                action,
                at + TimeDelta::seconds(i as i64),
            ));
        }
    }
    // `extract` succeeded at 06:00 on the last day.
    spread.push(LogRecord::new(
        "extract",
        Action::Success,
        start + TimeDelta::days(days - 1) + TimeDelta::hours(6),
    ));
    let step = TimeDelta::milliseconds(days * 86_400_000 / RECORDS as i64);
    let flat = (0..RECORDS)
        .map(|k| {
            let action = if k % 2 == 0 {
                Action::Run
            } else {
                Action::Success
            };
            LogRecord::new(
                "t0000",
                action,
                start + step * i32::try_from(k).unwrap_or(0),
            )
        })
        .collect();
    (spread, flat)
}

/// Times `f` over enough iterations to run ~0.3 s; nanoseconds per call.
fn per_call(mut f: impl FnMut() -> bool) -> (f64, bool) {
    let mut value = f();
    let mut iterations = 1u64;
    let begin = Instant::now();
    let mut n = 1u64;
    while begin.elapsed() < Duration::from_millis(300) {
        for _ in 0..n {
            value = black_box(f());
        }
        iterations += n;
        n *= 2;
    }
    (
        begin.elapsed().as_secs_f64() * 1e9 / iterations as f64,
        value,
    )
}

fn eval_costs(store: &MemoryLogStore, records: &[LogRecord], now: DateTime<Utc>, owner: &str) {
    let params = Map::new();
    let ctx = EvalContext {
        now,
        tz: Tz::UTC,
        log: store,
        task: Some(owner),
        scheduler: None,
        params: &params,
        task_exists: None,
    };
    for text in [
        "daily between 08:00 and 10:00 & after task 'extract'",
        "has succeeded today",
    ] {
        let cond: Condition = match text.parse() {
            Ok(cond) => cond,
            Err(e) => {
                println!("does not parse: {text}: {e}");
                return;
            }
        };
        let (ns, value) = per_call(|| cond.eval(black_box(&ctx)).unwrap_or(false));
        println!("  eval {text:?} = {value}: {ns:.0} ns");
        let (ns, _) = per_call(|| cond.next_change(black_box(&ctx)).is_ok());
        println!("  next_change of it: {ns:.0} ns");
    }
    // What the index saves: "has succeeded today" answered by scanning every record.
    let day_start = now - TimeDelta::hours(9);
    let success = ActionSet::of(&[Action::Success]);
    let (ns, found) = per_call(|| {
        black_box(records).iter().any(|r| {
            r.task_name == owner
                && success.contains(r.action)
                && r.timestamp >= day_start
                && r.timestamp <= now
        })
    });
    println!(
        "  naive scan for \"has succeeded today\" = {found}: {:.2} ms ({:.0}x the indexed count)",
        ns / 1e6,
        {
            let (indexed, _) = per_call(|| {
                store
                    .count(owner, success, Some(day_start), now)
                    .unwrap_or(0)
                    > 0
            });
            ns / indexed
        }
    );
}
