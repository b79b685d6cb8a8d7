//! A restart on the SQLite task log: status and `last_*` come back from the log,
//! and a `daily` task that ran today does not run again the same day (on a
//! simulated clock; `--features sqlite`).
#![cfg(feature = "sqlite")]

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use engine_core::clock::SimulatedClock;
use engine_core::log::{Action, ActionSet, SqliteLogStore};
use engine_core::task::TaskKind;
use engine_core::{Clock, Scheduler, Session};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, day, hour, 0, 0)
        .single()
        .expect("a valid time")
}

/// A session on the SQLite log at `path`, clock starting at `start`, with the
/// `daily` task `report` (an async function that succeeds).
fn session(path: &std::path::Path, start: DateTime<Utc>) -> (Session, Arc<SimulatedClock>) {
    let log = SqliteLogStore::open(path).expect("open the task log");
    let clock = Arc::new(SimulatedClock::start_at(start));
    let session = Session::new(Arc::new(log), clock.clone());
    // Async: under tokio's paused time, a thread's real-time work would let the
    // clock jump past the shutdown while the run goes on.
    session.register_async("report", |_ctx| async { Ok(serde_json::json!("done")) });
    let mut spec = session.default_spec(
        "report",
        TaskKind::Function {
            func: "report".into(),
        },
    );
    spec.start_cond = "daily".parse().expect("condition");
    session.create_task(spec, None).expect("create the task");
    (session, clock)
}

/// The `run` records of `report` in `[start, end]`.
fn runs(session: &Session, start: DateTime<Utc>, end: DateTime<Utc>) -> u64 {
    session
        .log()
        .count("report", ActionSet::of(&[Action::Run]), Some(start), end)
        .expect("count runs")
}

#[tokio::test(start_paused = true)]
async fn status_and_last_times_survive_and_daily_does_not_run_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");

    // First life: 08:00 to 12:00 on 10 March; `daily` runs once.
    let (first, clock) = session(&path, at(10, 8));
    Scheduler::new(first.clone())
        .run(clock.sleep_until(at(10, 12)))
        .await
        .expect("scheduler");
    let before = first.task("report").expect("task").state;
    assert_eq!(before.status, Some(Action::Success));
    assert!(before.last_run.is_some() && before.last_success.is_some());
    assert_eq!(runs(&first, at(10, 0), at(10, 23)), 1);
    drop(first);

    // Second life, same file, later the same day: the task is created anew, its
    // state comes from the log, and `daily` waits for tomorrow.
    let (second, clock) = session(&path, at(10, 15));
    let after = second.task("report").expect("task").state;
    assert_eq!(after.status, before.status);
    assert_eq!(after.last_run, before.last_run);
    assert_eq!(after.last_success, before.last_success);
    Scheduler::new(second.clone())
        .run(clock.sleep_until(at(10, 23)))
        .await
        .expect("scheduler");
    assert_eq!(
        runs(&second, at(10, 0), at(10, 23) + TimeDelta::minutes(59)),
        1
    );

    // The next day it runs again, once.
    let (third, clock) = session(&path, at(11, 6));
    Scheduler::new(third.clone())
        .run(clock.sleep_until(at(11, 20)))
        .await
        .expect("scheduler");
    assert_eq!(runs(&third, at(11, 0), at(11, 23)), 1);
}
