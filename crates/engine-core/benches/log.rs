//! Benchmark of the task log stores: append throughput and latency, `count` and
//! `latest` at one million records, and a one-day query over one million records
//! through the push-down versus the full filter
//! (`cargo bench -p engine-core --features sqlite --bench log`; without the
//! feature only the in-memory store runs).
//!
//! The SQLite files go under Cargo's per-target temp dir (`target/tmp`), on the
//! same disk as the build: the fsync-bound figures are that disk's.
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use engine_core::log::{
    Action, ActionSet, LogRead, LogRecord, LogStore, MemoryLogConfig, MemoryLogStore,
};
use engine_query::Filter;

const TASKS: usize = 1_000;
const RECORDS: usize = 1_000_000;
const DAYS: i64 = 500;
const FINISH: ActionSet = ActionSet::of(&[Action::Success, Action::Fail]);
const RUN: ActionSet = ActionSet::of(&[Action::Run]);

fn main() {
    let start = Utc
        .with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let records = records(start);
    let now = start + TimeDelta::days(DAYS);
    println!("task log: {RECORDS} records ({TASKS} tasks, over {DAYS} days, in time order)");

    println!();
    println!("MemoryLogStore");
    let memory = MemoryLogStore::with_config(MemoryLogConfig {
        max_records_per_task: RECORDS,
    });
    let begin = Instant::now();
    for record in &records {
        memory.append(record.clone());
    }
    let took = begin.elapsed();
    println!(
        "  append: {} records in {:.0} ms = {:.2} M appends/s",
        RECORDS,
        ms(took),
        RECORDS as f64 / took.as_secs_f64() / 1e6
    );
    lookups(&memory, now);
    day_query(&memory, &records, start);

    #[cfg(feature = "sqlite")]
    sqlite::run(&records, start, now);
}

/// One record every 43.2 s, tasks in turn; each task alternates run and an end
/// (success, one in ten a fail).
fn records(start: DateTime<Utc>) -> Vec<LogRecord> {
    let step = TimeDelta::days(DAYS) / i32::try_from(RECORDS).unwrap_or(i32::MAX);
    (0..RECORDS)
        .map(|i| {
            let task = i % TASKS;
            let round = i / TASKS;
            let action = match (round % 2, round % 20) {
                (0, _) => Action::Run,
                (_, 19) => Action::Fail,
                _ => Action::Success,
            };
            let at = start + step * i32::try_from(i).unwrap_or(i32::MAX);
            let mut record = LogRecord::new(format!("task-{task:04}"), action, at);
            if action != Action::Run {
                record.start = Some(at - step * i32::try_from(TASKS).unwrap_or(1));
                record.end = Some(at);
                record.runtime = record.start.map(|s| at - s);
            }
            if action == Action::Fail {
                record.exc_text = Some("RuntimeError: boom".to_owned());
            }
            record
        })
        .collect()
}

/// `count` over the last day and `latest`, for many tasks: mean and p99.
fn lookups(store: &dyn LogRead, now: DateTime<Utc>) {
    let probes = 20_000;
    let day = now - TimeDelta::days(1);
    let mut counts = Vec::with_capacity(probes);
    let mut latests = Vec::with_capacity(probes);
    for i in 0..probes {
        let task = format!("task-{:04}", (i * 7919) % TASKS);
        let begin = Instant::now();
        let n = store.count(&task, FINISH, Some(day), now);
        counts.push(begin.elapsed());
        black_box(n.ok());
        let begin = Instant::now();
        let latest = store.latest(&task, RUN);
        latests.push(begin.elapsed());
        black_box(latest.ok());
    }
    println!(
        "  count (one task, finishes in the last day): {}",
        latency(&mut counts)
    );
    println!("  latest (one task, run): {}", latency(&mut latests));
}

/// A one-day timestamp range over the whole log: through the push-down, and the
/// same range written on `created` (not pushed down), which reads every record.
fn day_query(store: &dyn LogStore, records: &[LogRecord], start: DateTime<Utc>) {
    let day = start + TimeDelta::days(DAYS / 2);
    let date = day.format("%Y-%m-%d");
    let pushed =
        Filter::parse(&format!("timestamp$min={date}&timestamp$max={date}")).unwrap_or_default();
    let lo = day.timestamp();
    let full = Filter::parse(&format!("created$min={lo}&created$max={}.999", lo + 86_399))
        .unwrap_or_default();
    let want = records.iter().filter(|r| pushed.matches(*r)).count();
    for (name, filter) in [("push-down", &pushed), ("full filter", &full)] {
        let rounds = if name == "push-down" { 50 } else { 3 };
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..rounds {
            let begin = Instant::now();
            found = store.query(filter, None).map_or(0, |r| r.len());
            times.push(begin.elapsed());
        }
        let check = if found == want { "" } else { " MISMATCH" };
        println!(
            "  query one day ({found} records, {name}): {}{check}",
            latency(&mut times)
        );
    }
}

/// Mean and p99 of `times`, in the best unit.
fn latency(times: &mut [Duration]) -> String {
    times.sort_unstable();
    let total: Duration = times.iter().sum();
    let n = u32::try_from(times.len().max(1)).unwrap_or(u32::MAX);
    let p99 = times
        .get(times.len() * 99 / 100)
        .copied()
        .unwrap_or_default();
    format!("mean {}, p99 {}", human(total / n), human(p99))
}

fn human(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1e3)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(feature = "sqlite")]
mod sqlite {
    //! The SQLite store: fsync-bound appends, bulk load, look-ups, queries.

    use std::path::PathBuf;

    use engine_core::log::SqliteLogStore;

    use super::*;

    pub(super) fn run(records: &[LogRecord], start: DateTime<Utc>, now: DateTime<Utc>) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engine-log-bench");
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            println!("cannot create {}: {e}", dir.display());
            return;
        }
        println!();
        println!(
            "SqliteLogStore (WAL, synchronous=FULL) in {}",
            dir.display()
        );
        let store = match SqliteLogStore::open(dir.join("appends.sqlite")) {
            Ok(store) => store,
            Err(e) => {
                println!("  {e}");
                return;
            }
        };
        // One append = one transaction = one fsync.
        let n = 2_000;
        let mut times = Vec::with_capacity(n);
        let begin = Instant::now();
        for record in records.iter().take(n) {
            let t = Instant::now();
            if let Err(e) = LogStore::append(&store, record.clone()) {
                println!("  {e}");
                return;
            }
            times.push(t.elapsed());
        }
        let took = begin.elapsed();
        println!(
            "  append (one per transaction, fsync): {n} in {:.0} ms = {:.0} appends/s; latency {}",
            ms(took),
            n as f64 / took.as_secs_f64(),
            latency(&mut times)
        );
        drop(store);

        let store = match SqliteLogStore::open_in_memory() {
            Ok(store) => store,
            Err(e) => {
                println!("  {e}");
                return;
            }
        };
        let n = 100_000;
        let begin = Instant::now();
        for record in records.iter().take(n) {
            let _ = LogStore::append(&store, record.clone());
        }
        let took = begin.elapsed();
        println!(
            "  append in memory (no disk, the SQL cost): {:.0} appends/s",
            n as f64 / took.as_secs_f64()
        );
        drop(store);

        let store = match SqliteLogStore::open(dir.join("million.sqlite")) {
            Ok(store) => store,
            Err(e) => {
                println!("  {e}");
                return;
            }
        };
        let begin = Instant::now();
        for chunk in records.chunks(10_000) {
            if let Err(e) = store.append_batch(chunk.to_vec()) {
                println!("  {e}");
                return;
            }
        }
        let took = begin.elapsed();
        println!(
            "  append_batch (10,000 per transaction): {RECORDS} in {:.1} s = {:.0} appends/s",
            took.as_secs_f64(),
            RECORDS as f64 / took.as_secs_f64()
        );
        lookups(&store, now);
        day_query(&store, records, start);
        let size = std::fs::metadata(dir.join("million.sqlite")).map_or(0, |m| m.len());
        println!("  file size: {:.0} MB", size as f64 / 1e6);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
