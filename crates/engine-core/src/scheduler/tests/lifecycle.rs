//! Scheduler tests: the loop's life: start-up and shutdown tasks, shut
//! conditions, durability, restarts, crashes, condition and launch errors,
//! cycle sleep, one scheduler per session, runtimes.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{Sim, local, utc};
use crate::clock::{Clock, ManualClock, SimulatedClock};
use crate::condition::Condition;
use crate::log::{Action, LogRecord, MemoryLogStore};
use crate::scheduler::Scheduler;
use crate::session::{Session, TaskPatch};
use crate::task::{Execution, RunError};

#[tokio::test(start_paused = true)]
async fn startup_shutdown_tasks_and_shut_condition() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut up = sim.task("up", "false", "ok");
    up.on_startup = true;
    sim.add_spec(up);
    let mut up_true = sim.task("up_daily", "daily", "ok");
    up_true.on_startup = true;
    sim.add_spec(up_true);
    let mut down = sim.task("down", "false", "ok");
    down.on_shutdown = true;
    sim.add_spec(down);
    let mut disabled_down = sim.task("disabled_down", "false", "ok");
    disabled_down.on_shutdown = true;
    disabled_down.disabled = true;
    sim.add_spec(disabled_down);
    sim.add("hourly", "hourly", "ok");
    let shut: Condition = "scheduler has run over 3 hours".parse().expect("cond");
    let stats = sim
        .scheduler()
        .with_shut_cond(shut)
        .run(std::future::pending::<()>())
        .await
        .expect("ran");
    assert_eq!(sim.runs("up"), ["2024-01-01 00:00"]);
    assert_eq!(sim.runs("up_daily"), ["2024-01-01 00:00"]);
    assert_eq!(
        sim.runs("hourly"),
        [
            "2024-01-01 00:00",
            "2024-01-01 01:00",
            "2024-01-01 02:00",
            "2024-01-01 03:00"
        ]
    );
    assert_eq!(sim.runs("down"), ["2024-01-01 03:00"]);
    assert!(sim.runs("disabled_down").is_empty());
    assert_eq!(sim.session.scheduler_state(), None);
    assert!(stats.cycles >= 4, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn cycle_count_shut_condition_runs_one_cycle() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("a", "daily", "ok");
    let shut: Condition = "scheduler has more than 0 cycles".parse().expect("cond");
    let stats = sim
        .scheduler()
        .with_shut_cond(shut)
        .run(std::future::pending::<()>())
        .await
        .expect("ran");
    assert_eq!(stats.cycles, 1);
    assert_eq!(sim.records("a").len(), 2);
}

/// On `ManualClock`: a thread run under tokio's paused clock lets time jump.
#[tokio::test]
async fn run_record_is_durable_before_the_body_starts() {
    let clock = Arc::new(ManualClock::new(local(utc(), "2024-01-01 00:00")));
    let sim = Sim::with_clock(utc(), clock, Arc::new(MemoryLogStore::default()));
    let log = Arc::clone(&sim.log);
    sim.session.register_sync("check_log", move |ctx| {
        match log.task_records(&ctx.task).last() {
            Some(r) if r.action == Action::Run => Ok(Value::Null),
            other => Err(RunError::Fail(format!("latest record {other:?}"))),
        }
    });
    let mut main = sim.task("main", "daily", "check_log");
    main.execution = Execution::Main;
    sim.add_spec(main);
    sim.add("thread", "daily", "check_log");
    sim.add("async", "daily", "ok");
    let (stop, stopped) = oneshot::channel::<()>();
    let scheduler = sim.scheduler();
    let drive = async {
        sim.wait_until(|| {
            ["main", "thread", "async"]
                .iter()
                .all(|t| sim.records(t).len() == 2)
        })
        .await;
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(scheduler.run(stopped), drive);
    ran.expect("ran");
    for task in ["main", "thread", "async"] {
        assert_eq!(sim.last(task).action, Action::Success, "{task}");
    }
}

#[tokio::test(start_paused = true)]
async fn restart_on_the_same_log_keeps_state() {
    let log = Arc::new(MemoryLogStore::default());
    let tz = utc();
    {
        let clock: Arc<dyn Clock> =
            Arc::new(SimulatedClock::start_at(local(tz, "2024-01-01 00:00")));
        let sim = Sim::with_clock(tz, clock, Arc::clone(&log));
        sim.add("d", "daily", "ok");
        sim.add("f", "daily", "fail");
        sim.run_until("2024-01-02 08:00").await;
        assert_eq!(sim.runs("d").len(), 2);
    }
    // Same day, a new session on the same log.
    let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::start_at(local(tz, "2024-01-02 09:00")));
    let sim = Sim::with_clock(tz, clock, Arc::clone(&log));
    sim.add("d", "daily", "ok");
    sim.add("f", "daily", "fail");
    let d = sim.session.task("d").expect("task").state;
    assert_eq!(d.status, Some(Action::Success));
    assert_eq!(d.last_run, Some(local(tz, "2024-01-02 00:00")));
    assert_eq!(d.last_success, Some(local(tz, "2024-01-02 00:00")));
    assert_eq!(d.last_fail, None);
    let f = sim.session.task("f").expect("task").state;
    assert_eq!(f.status, Some(Action::Fail));
    assert_eq!(f.last_fail, Some(local(tz, "2024-01-02 00:00")));
    sim.run_until("2024-01-02 23:00").await;
    assert_eq!(
        sim.runs("d").len(),
        2,
        "daily did not run again the same day"
    );
    sim.run_until("2024-01-03 01:00").await;
    assert_eq!(sim.runs("d").len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_dangling_run_is_logged_as_crash_at_startup() {
    let sim = Sim::simulated(utc(), "2024-01-01 10:00");
    let mut record = LogRecord::new("t", Action::Run, local(utc(), "2024-01-01 09:00"));
    record.start = Some(record.timestamp);
    sim.log.append(record);
    sim.add("t", "daily", "ok");
    assert_eq!(
        sim.session.task("t").expect("task").state.status,
        Some(Action::Run)
    );
    sim.run_until("2024-01-01 11:00").await;
    let actions: Vec<Action> = sim.records("t").into_iter().map(|r| r.0).collect();
    // The run of 09:00 crashed; daily is still due today.
    assert_eq!(
        actions,
        [Action::Run, Action::Crash, Action::Run, Action::Success]
    );
}

#[tokio::test(start_paused = true)]
async fn condition_errors_stop_or_count_as_false() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("bad", "after task 'missing'", "ok");
    let err = sim
        .scheduler()
        .run(std::future::pending::<()>())
        .await
        .expect_err("unsilenced condition error stops the scheduler");
    assert!(err.message().contains("unknown task 'missing'"), "{err}");
    sim.session
        .patch_config(
            &json!({"silence_cond_check": true})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    let stats = sim.run_until("2024-01-02 00:00").await;
    assert!(sim.runs("bad").is_empty());
    assert!(stats.wakes <= 2, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn launch_errors_stop_the_scheduler_unless_silenced() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut spec = sim.task("t", "daily", "echo");
    spec.parameters
        .insert("p".into(), json!({"$return": "nobody"}));
    sim.add_spec(spec);
    sim.session
        .patch_config(
            &json!({"silence_task_prerun": false})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    let err = sim
        .scheduler()
        .run(std::future::pending::<()>())
        .await
        .expect_err("stops");
    assert_eq!(err.message(), "unknown task 'nobody' in parameter 'p'");
    let actions: Vec<Action> = sim.records("t").into_iter().map(|r| r.0).collect();
    assert_eq!(actions, [Action::Run, Action::Fail]);
}

#[tokio::test(start_paused = true)]
async fn cycle_sleep_bounds_the_sleep() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("never", "false", "ok");
    let idle = sim.run_until("2024-01-02 00:00").await;
    assert_eq!(
        idle.wakes, 1,
        "only the shutdown wakes an idle scheduler: {idle:?}"
    );
    sim.session
        .patch_config(
            &json!({"cycle_sleep": "1 hour"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    let capped = sim.run_until("2024-01-03 00:00").await;
    assert_eq!(capped.wakes, 24, "{capped:?}");
}

#[tokio::test(start_paused = true)]
async fn one_scheduler_per_session() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let first = sim.scheduler();
    let second = sim.scheduler();
    let until = local(utc(), "2024-01-01 01:00");
    let (a, b) = tokio::join!(first.run(sim.clock.sleep_until(until)), async {
        tokio::task::yield_now().await;
        second.run(std::future::ready(())).await
    });
    assert!(a.is_ok());
    assert!(b.is_err());
}

#[test]
fn scheduler_and_session_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Scheduler>();
    send_sync::<Session>();
    fn send<T: Send>(_: &T) {}
    let session = Session::new(
        Arc::new(MemoryLogStore::default()),
        Arc::new(ManualClock::new(Utc::now())),
    );
    let scheduler = Scheduler::new(session);
    send(&scheduler.run(std::future::pending::<()>()));
    let _ = TaskPatch::default();
}

/// On a multi-threaded runtime the loop runs on a thread of its own (a busy
/// runtime cannot delay its wake-ups), `main` runs with it, other runs on the
/// caller's runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_threaded_runtime_the_loop_has_a_thread_of_its_own() {
    let clock = Arc::new(ManualClock::new(local(utc(), "2024-01-01 00:00")));
    let sim = Sim::with_clock(utc(), clock, Arc::new(MemoryLogStore::default()));
    let seen = Arc::new(parking_lot::Mutex::new(Vec::<(String, String)>::new()));
    let log = Arc::clone(&seen);
    sim.session.register_async("where", move |ctx| {
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        log.lock().push((ctx.task, thread));
        async { Ok(Value::Null) }
    });
    let mut main = sim.task("main", "daily", "where");
    main.execution = Execution::Main;
    sim.add_spec(main);
    sim.add("spawned", "daily", "where");
    let (stop, stopped) = oneshot::channel::<()>();
    let scheduler = sim.scheduler();
    let drive = async {
        sim.wait_until(|| seen.lock().len() == 2 && sim.records("spawned").len() == 2)
            .await;
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(scheduler.run(stopped), drive);
    ran.expect("ran");
    let mut seen = seen.lock().clone();
    seen.sort();
    assert_eq!(
        seen[0],
        (
            "main".to_owned(),
            crate::scheduler::thread::THREAD_NAME.to_owned()
        )
    );
    assert_eq!(seen[1].0, "spawned");
    assert_ne!(seen[1].1, crate::scheduler::thread::THREAD_NAME);
    assert_eq!(sim.last("main").action, Action::Success);
}
