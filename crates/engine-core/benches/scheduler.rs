//! Benchmark of the scheduler (`cargo bench -p engine-core --bench scheduler`):
//!
//! * (a) a simulated month of 1,000 tasks (a realistic mix) under tokio's paused
//!   clock: wall time and runs executed (target: under 5 s);
//! * (b) 10,000 time-based tasks none of which is due in a simulated hour: how
//!   often the scheduler wakes (target: no wake but the shutdown);
//! * (c) on the real clock: CPU used while 10,000 tasks wait (target: under 1 %
//!   of a core), and the delay from a due instant to the `run` record (target:
//!   p99 under 5 ms).
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use engine_core::clock::SimulatedClock;
use engine_core::log::{Action, MemoryLogStore};
use engine_core::session::Config;
use engine_core::task::TaskKind;
use engine_core::{Clock, Scheduler, Session, SystemClock};
use serde_json::Value;

fn main() {
    let start = Utc
        .with_ymd_and_hms(2024, 3, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    // `cargo bench -p engine-core --bench scheduler -- b c` runs only (b) and (c).
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |part: &str| picked.is_empty() || picked.iter().any(|p| p == part);
    if run("a") {
        simulated_month(start);
    }
    if run("b") {
        idle_wakes(start);
    }
    if run("c") {
        real_clock();
    }
}

/// A current-thread runtime, with tokio's clock paused when `paused`.
fn runtime(paused: bool) -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if paused {
        builder.start_paused(true);
    }
    builder.build().unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// A session on `clock` with a function `ok` that returns at once.
fn session(clock: Arc<dyn Clock>, log: Arc<MemoryLogStore>) -> Session {
    let config = Config {
        timezone: chrono_tz::Tz::UTC,
        max_concurrent_runs: 1_000,
        ..Config::default()
    };
    let session = Session::with_config(log, clock, config);
    session.register_async("ok", |_| async { Ok(Value::Null) });
    session
}

fn add(session: &Session, name: &str, cond: &str) {
    let mut spec = session.default_spec(
        name,
        TaskKind::Function {
            func: "ok".to_owned(),
        },
    );
    spec.start_cond = cond
        .parse()
        .unwrap_or_else(|e| panic!("condition {cond}: {e}"));
    if let Err(e) = session.create_task(spec, None) {
        panic!("task {name}: {e}");
    }
}

/// (a) 1,000 tasks over March 2024 (31 days).
fn simulated_month(start: DateTime<Utc>) {
    let rt = runtime(true);
    rt.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::start_at(start));
        let log = Arc::new(MemoryLogStore::default());
        let session = session(Arc::clone(&clock), Arc::clone(&log));
        let mix: [(usize, &str); 7] = [
            (300, "daily"),
            (100, "daily between 08:00 and 10:00"),
            (100, "daily after 18:00 & ~has failed today"),
            (200, "hourly"),
            (40, "every 10 minutes"),
            (60, "cron */30 * * * *"),
            (200, "after task 'daily {}'"),
        ];
        let mut n = 0;
        for (count, cond) in mix {
            for i in 0..count {
                let name = match cond {
                    "daily" => format!("daily {i}"),
                    _ => format!("task {n}"),
                };
                let cond = cond.replace("{}", &(i % 300).to_string());
                add(&session, &name, &cond);
                n += 1;
            }
        }
        let until = start + TimeDelta::days(31);
        let began = Instant::now();
        let stats = Scheduler::new(session.clone())
            .run(clock.sleep_until(until))
            .await
            .unwrap_or_else(|e| panic!("scheduler: {e}"));
        let wall = began.elapsed();
        println!("(a) simulated month, {n} tasks (daily, windows, hourly, every 10 minutes, cron, after-task chains)");
        println!(
            "    wall time {:.2} s (target < 5 s); runs {}; records {}; wakes {}; condition checks {}",
            wall.as_secs_f64(),
            stats.runs_finished,
            log.len(),
            stats.wakes,
            stats.checks
        );
        println!(
            "    {:.1} us per run",
            wall.as_secs_f64() * 1e6 / stats.runs_finished.max(1) as f64
        );
    });
}

/// (b) 10,000 time-based tasks, none due in the hour simulated.
fn idle_wakes(start: DateTime<Utc>) {
    let rt = runtime(true);
    rt.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::start_at(start));
        let session = session(Arc::clone(&clock), Arc::new(MemoryLogStore::default()));
        let conds = [
            "daily between 08:00 and 10:00",
            "daily after 12:00",
            "cron 30 14 * * *",
            "weekly on Sunday",
            "time of day between 20:00 and 21:00 & every 10 minutes",
        ];
        for i in 0..10_000 {
            add(&session, &format!("t{i}"), conds[i % conds.len()]);
        }
        let began = Instant::now();
        let stats = Scheduler::new(session.clone())
            .run(clock.sleep_until(start + TimeDelta::hours(1)))
            .await
            .unwrap_or_else(|e| panic!("scheduler: {e}"));
        println!("(b) 10,000 time-based tasks, none due, one simulated hour");
        println!(
            "    wakes {} (the shutdown is one; target: 1); cycles {}; condition checks {}; runs {}; wall {:.1} ms",
            stats.wakes,
            stats.cycles,
            stats.checks,
            stats.runs_started,
            began.elapsed().as_secs_f64() * 1e3
        );
    });
}

/// (c) The real clock: idle CPU with 10,000 waiting tasks, and due-to-run delay.
fn real_clock() {
    let rt = runtime(false);
    rt.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let log = Arc::new(MemoryLogStore::default());
        let session = session(Arc::clone(&clock), Arc::clone(&log));
        // Waiting tasks: due far from now whatever the hour.
        for i in 0..10_000 {
            add(&session, &format!("idle {i}"), "weekly on Mon & time of day between 03:00 and 03:01 & ~has started today");
        }
        let scheduler = Scheduler::new(session.clone());
        let idle = Duration::from_secs(5);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let measure = async {
            // Let start-up and the first cycle pass.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let cpu0 = cpu_seconds();
            let wall0 = Instant::now();
            tokio::time::sleep(idle).await;
            let cpu = cpu_seconds() - cpu0;
            let wall = wall0.elapsed().as_secs_f64();
            println!("(c) real clock, 10,000 waiting tasks");
            println!(
                "    idle CPU {:.3} % of a core over {:.1} s (target < 1 %)",
                cpu / wall * 100.0,
                wall
            );
            // Now due events: 10 tasks `every 1 second` for 20 s.
            for i in 0..10 {
                add(&session, &format!("tick {i}"), "every 1 second");
            }
            tokio::time::sleep(Duration::from_secs(21)).await;
            let _ = stop.send(());
        };
        let (ran, ()) = tokio::join!(scheduler.run(stopped), measure);
        ran.unwrap_or_else(|e| panic!("scheduler: {e}"));
        let mut delays = Vec::new();
        for i in 0..10 {
            let records = log.task_records(&format!("tick {i}"));
            let mut due: Option<DateTime<Utc>> = None;
            for record in records {
                match record.action {
                    Action::Run => {
                        if let Some(due) = due.take() {
                            delays.push((record.timestamp - due).num_microseconds().unwrap_or(0));
                        }
                    }
                    _ => due = Some(record.timestamp + TimeDelta::seconds(1)),
                }
            }
        }
        delays.sort_unstable();
        let pick = |q: f64| {
            let i = ((delays.len() as f64 - 1.0) * q).round() as usize;
            delays.get(i).copied().unwrap_or(0) as f64 / 1e3
        };
        println!(
            "    due -> run record delay over {} due events: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms (target p99 < 5 ms)",
            delays.len(),
            pick(0.5),
            pick(0.9),
            pick(0.99),
            pick(1.0)
        );
    });
}

/// User + system CPU time of this process, from `/proc/self/stat` (clock ticks
/// of 1/100 s, the Linux default).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: indexes 11 and 12 here.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}
