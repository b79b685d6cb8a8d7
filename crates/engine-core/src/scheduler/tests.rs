//! Tests of the scheduler, on simulated time: `SimulatedClock` under tokio's
//! paused clock (a month passes in milliseconds), or `ManualClock` where a run
//! lives on a thread of its own (tokio's paused clock would jump while it runs).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

use super::{Scheduler, SchedulerStats};
use crate::clock::{Clock, ManualClock, SimulatedClock};
use crate::condition::Condition;
use crate::log::{Action, ActionSet, LogRead, LogRecord, LogStore, MemoryLogStore, TaskLogSummary};
use crate::session::{Config, Session, TaskPatch};
use crate::task::{CommandLine, Execution, RunError, TaskKind, TaskSpec};

/// A session on a simulated clock, with test functions registered.
struct Sim {
    session: Session,
    log: Arc<MemoryLogStore>,
    clock: Arc<dyn Clock>,
    tz: Tz,
    /// Notified when the `wait` function has started.
    started: Arc<Notify>,
}

fn local(tz: Tz, text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("test time");
    tz.from_local_datetime(&naive)
        .earliest()
        .expect("test time exists")
        .with_timezone(&Utc)
}

impl Sim {
    /// Must run under `start_paused = true`.
    fn simulated(tz: Tz, start: &str) -> Sim {
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::start_at(local(tz, start)));
        Sim::with_clock(tz, clock, Arc::new(MemoryLogStore::default()))
    }

    fn with_clock(tz: Tz, clock: Arc<dyn Clock>, log: Arc<MemoryLogStore>) -> Sim {
        Sim::with_store(tz, clock, log.clone(), log)
    }

    /// A session writing through `store`, which keeps its records in `log`.
    fn with_store(
        tz: Tz,
        clock: Arc<dyn Clock>,
        log: Arc<MemoryLogStore>,
        store: Arc<dyn LogStore>,
    ) -> Sim {
        let config = Config {
            timezone: tz,
            silence_cond_check: false,
            silence_task_prerun: true,
            ..Config::default()
        };
        let session = Session::with_config(store, clock.clone(), config);
        let started = Arc::new(Notify::new());
        register(&session, &started);
        Sim {
            session,
            log,
            clock,
            tz,
            started,
        }
    }

    /// Adds a function task.
    fn task(&self, name: &str, cond: &str, func: &str) -> TaskSpec {
        let mut spec = self.session.default_spec(
            name,
            TaskKind::Function {
                func: func.to_owned(),
            },
        );
        spec.start_cond = cond.parse().expect("test condition");
        spec
    }

    fn add(&self, name: &str, cond: &str, func: &str) {
        self.add_spec(self.task(name, cond, func));
    }

    fn add_spec(&self, spec: TaskSpec) {
        self.session.create_task(spec, None).expect("task created");
    }

    /// Runs a scheduler until the simulated instant `until` (local time).
    async fn run_until(&self, until: &str) -> SchedulerStats {
        self.scheduler()
            .run(self.clock.sleep_until(local(self.tz, until)))
            .await
            .expect("scheduler ran")
    }

    /// Waits (on run ends, not on time) until `done` holds.
    async fn wait_until(&self, done: impl Fn() -> bool) {
        let mut ends = self.session.runs_ended();
        while !done() {
            ends.changed().await.expect("session alive");
        }
    }

    fn scheduler(&self) -> Scheduler {
        Scheduler::new(self.session.clone())
    }

    /// `(action, local time)` of every record of `task`, in log order.
    fn records(&self, task: &str) -> Vec<(Action, String)> {
        self.log
            .task_records(task)
            .into_iter()
            .map(|r| (r.action, self.show(r.timestamp)))
            .collect()
    }

    /// The local times of the `run` records of `task`.
    fn runs(&self, task: &str) -> Vec<String> {
        self.log
            .task_records(task)
            .into_iter()
            .filter(|r| r.action == Action::Run)
            .map(|r| self.show(r.timestamp))
            .collect()
    }

    fn last(&self, task: &str) -> LogRecord {
        self.log
            .task_records(task)
            .pop()
            .expect("the task has records")
    }

    fn show(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}

/// The test functions.
fn register(session: &Session, started: &Arc<Notify>) {
    session.register_async("ok", |_| async { Ok(Value::Null) });
    session.register_async("fail", |_| async { Err(RunError::Fail("boom".into())) });
    session.register_async("ret", |_| async { Ok(json!("x")) });
    session.register_async("echo", |ctx| async move {
        Ok(ctx.params.get("p").cloned().unwrap_or_default())
    });
    for secs in [90, 150, 180, 3600] {
        session.register_async(format!("slow{secs}s"), move |_| async move {
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            Ok(Value::Null)
        });
    }
    session.register_async("panic", |_| async { panic!("kaboom") });
    let notify = Arc::clone(started);
    session.register_async("wait", move |ctx| {
        let notify = Arc::clone(&notify);
        async move {
            notify.notify_one();
            ctx.cancel.cancelled().await;
            Err(RunError::Terminated)
        }
    });
    let handle = tokio::runtime::Handle::current();
    let notify = Arc::clone(started);
    session.register_sync("wait_thread", move |ctx| {
        notify.notify_one();
        handle.block_on(ctx.cancel.cancelled());
        Err(RunError::Terminated)
    });
    let calls = Arc::new(AtomicU32::new(0));
    session.register_async("fail_third", move |_| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move {
            if n % 3 == 2 {
                Err(RunError::Fail("third".into()))
            } else {
                Ok(Value::Null)
            }
        }
    });
}

fn utc() -> Tz {
    Tz::UTC
}

fn berlin() -> Tz {
    Tz::Europe__Berlin
}

/// One time-based schedule: the task's condition, the simulated span, and the
/// local times of its runs (or, with `count`, how many there are).
struct Case {
    cond: &'static str,
    func: &'static str,
    tz: Tz,
    from: &'static str,
    until: &'static str,
    runs: &'static [&'static str],
    count: Option<usize>,
}

async fn check(case: Case) {
    let sim = Sim::simulated(case.tz, case.from);
    sim.add("t", case.cond, case.func);
    sim.run_until(case.until).await;
    let runs = sim.runs("t");
    match case.count {
        Some(n) => assert_eq!(runs.len(), n, "{}: {runs:?}", case.cond),
        None => assert_eq!(runs, case.runs, "{}", case.cond),
    }
}

#[tokio::test(start_paused = true)]
async fn time_based_schedules() {
    let cases = [
        Case {
            cond: "daily",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 10:00",
            until: "2024-01-04 00:00",
            runs: &["2024-01-01 10:00", "2024-01-02 00:00", "2024-01-03 00:00"],
            count: None,
        },
        Case {
            cond: "daily between 08:00 and 10:00",
            func: "ok",
            tz: berlin(),
            from: "2024-01-01 09:30",
            until: "2024-01-04 12:00",
            runs: &[
                "2024-01-01 09:30",
                "2024-01-02 08:00",
                "2024-01-03 08:00",
                "2024-01-04 08:00",
            ],
            count: None,
        },
        Case {
            cond: "daily between 08:00 and 10:00",
            func: "ok",
            tz: berlin(),
            from: "2024-01-01 10:30",
            until: "2024-01-02 07:59",
            runs: &[],
            count: None,
        },
        Case {
            cond: "hourly",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:30",
            until: "2024-01-01 03:00",
            runs: &["2024-01-01 00:30", "2024-01-01 01:00", "2024-01-01 02:00"],
            count: None,
        },
        // `every` counts from the last finish: 3 minutes of run + 10 minutes.
        Case {
            cond: "every 10 minutes",
            func: "slow180s",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-01 00:50",
            runs: &[
                "2024-01-01 00:00",
                "2024-01-01 00:13",
                "2024-01-01 00:26",
                "2024-01-01 00:39",
            ],
            count: None,
        },
        // A failure today stops the hourly reruns until midnight.
        Case {
            cond: "every 1 hour & ~has failed today",
            func: "fail_third",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-02 01:30",
            runs: &[
                "2024-01-01 00:00",
                "2024-01-01 01:00",
                "2024-01-01 02:00",
                "2024-01-02 00:00",
                "2024-01-02 01:00",
            ],
            count: None,
        },
        Case {
            cond: "cron 15 */6 * * *",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-02 00:00",
            runs: &[
                "2024-01-01 00:15",
                "2024-01-01 06:15",
                "2024-01-01 12:15",
                "2024-01-01 18:15",
            ],
            count: None,
        },
        Case {
            cond: "weekly on Mon",
            func: "ok",
            tz: utc(),
            from: "2024-01-03 00:00",
            until: "2024-01-30 00:00",
            runs: &[
                "2024-01-08 00:00",
                "2024-01-15 00:00",
                "2024-01-22 00:00",
                "2024-01-29 00:00",
            ],
            count: None,
        },
        Case {
            cond: "time of day between 10:00 and 10:05 & every 1 minute",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-02 00:00",
            runs: &[],
            count: Some(5),
        },
        Case {
            cond: "false",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-02-01 00:00",
            runs: &[],
            count: None,
        },
    ];
    for case in cases {
        check(case).await;
    }
}

#[tokio::test(start_paused = true)]
async fn daily_runs_once_a_day_through_a_dst_month() {
    let sim = Sim::simulated(berlin(), "2024-03-01 00:00");
    sim.add("d", "daily", "ok");
    let stats = sim.run_until("2024-04-01 00:00").await;
    let runs = sim.runs("d");
    let expected: Vec<String> = (1..=31)
        .map(|day| format!("2024-03-{day:02} 00:00"))
        .collect();
    assert_eq!(runs, expected);
    assert_eq!(stats.runs_finished, 31);
    // Woken once per due day and once per finished run (and at the end): not
    // polled.
    assert!(stats.wakes <= 2 * 31 + 1, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn dependency_chain_runs_in_order() {
    let sim = Sim::simulated(utc(), "2024-01-01 06:00");
    sim.add("c", "after task 'b' failed", "ok");
    sim.add("b", "after task 'a'", "fail");
    sim.add("a", "daily", "ok");
    sim.run_until("2024-01-02 12:00").await;
    let all: Vec<(String, Action)> = sim
        .log
        .records()
        .into_iter()
        .map(|r| (r.task_name, r.action))
        .collect();
    let day = [
        ("a", Action::Run),
        ("a", Action::Success),
        ("b", Action::Run),
        ("b", Action::Fail),
        ("c", Action::Run),
        ("c", Action::Success),
    ];
    let expected: Vec<(String, Action)> = day
        .iter()
        .chain(day.iter())
        .map(|(t, a)| ((*t).to_owned(), *a))
        .collect();
    assert_eq!(all, expected);
    assert_eq!(sim.last("b").exc_text.as_deref(), Some("boom"));
}

#[tokio::test(start_paused = true)]
async fn end_condition_and_timeout_terminate_async_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut ended = sim.task("ended", "daily", "wait");
    ended.end_cond = "time of day between 00:20 and 23:00".parse().expect("cond");
    sim.add_spec(ended);
    let mut timed = sim.task("timed", "daily", "wait");
    timed.timeout = Some(TimeDelta::minutes(5));
    sim.add_spec(timed);
    let mut permanent = sim.task("permanent", "daily", "wait");
    permanent.timeout = Some(TimeDelta::minutes(5));
    permanent.permanent_task = true;
    sim.add_spec(permanent);
    sim.run_until("2024-01-01 01:00").await;
    let terminate = |at: &str| {
        vec![
            (Action::Run, "2024-01-01 00:00".to_owned()),
            (Action::Terminate, at.to_owned()),
        ]
    };
    assert_eq!(sim.records("ended"), terminate("2024-01-01 00:20"));
    assert_eq!(sim.last("ended").exc_text.as_deref(), Some("end condition"));
    assert_eq!(sim.records("timed"), terminate("2024-01-01 00:05"));
    assert_eq!(sim.last("timed").exc_text.as_deref(), Some("timeout"));
    // A permanent task never times out; shutdown terminates it.
    assert_eq!(sim.records("permanent"), terminate("2024-01-01 01:00"));
    assert_eq!(sim.last("permanent").exc_text.as_deref(), Some("shutdown"));
}

#[tokio::test(start_paused = true)]
async fn config_timeout_applies_without_a_task_timeout() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.session
        .patch_config(
            &json!({"timeout": "20 minutes"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    sim.add("t", "daily", "wait");
    sim.run_until("2024-01-01 01:00").await;
    assert_eq!(
        sim.records("t")[1],
        (Action::Terminate, "2024-01-01 00:20".to_owned())
    );
}

#[tokio::test(start_paused = true)]
async fn panicking_function_is_a_failure() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("p", "daily", "panic");
    sim.add("after", "after task 'p' failed", "ok");
    sim.run_until("2024-01-01 01:00").await;
    let record = sim.last("p");
    assert_eq!(record.action, Action::Fail);
    assert!(record.exc_text.unwrap_or_default().contains("kaboom"));
    assert_eq!(sim.runs("after").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn higher_priority_starts_first() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    for (name, priority) in [
        ("p0", 0),
        ("p10", 10),
        ("p100", 100),
        ("p50", 50),
        ("q50", 50),
    ] {
        let mut spec = sim.task(name, "daily", "ok");
        spec.priority = priority;
        sim.add_spec(spec);
    }
    sim.run_until("2024-01-01 01:00").await;
    let order: Vec<String> = sim
        .log
        .records()
        .into_iter()
        .filter(|r| r.action == Action::Run)
        .map(|r| r.task_name)
        .collect();
    assert_eq!(order, ["p100", "p50", "q50", "p10", "p0"]);
}

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

#[tokio::test(start_paused = true)]
async fn force_run_is_consumed_and_disabled_skips() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut forced = sim.task("forced", "false", "ok");
    forced.disabled = true;
    forced.force_run = true;
    sim.add_spec(forced);
    let mut disabled = sim.task("disabled", "daily", "ok");
    disabled.disabled = true;
    sim.add_spec(disabled);
    sim.run_until("2024-01-03 00:00").await;
    assert_eq!(sim.runs("forced"), ["2024-01-01 00:00"]);
    assert!(!sim.session.task("forced").expect("task").spec.force_run);
    assert!(sim.runs("disabled").is_empty());
}

#[tokio::test(start_paused = true)]
async fn force_run_while_the_scheduler_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("t", "false", "ok");
    let session = sim.session.clone();
    let clock = Arc::clone(&sim.clock);
    let until = local(utc(), "2024-01-01 05:00");
    let at = local(utc(), "2024-01-01 02:00");
    let scheduler = sim.scheduler();
    let run = scheduler.run(clock.sleep_until(until));
    let poke = async {
        clock.sleep_until(at).await;
        session.force_run("t").expect("forced");
    };
    let (ran, ()) = tokio::join!(run, poke);
    ran.expect("ran");
    assert_eq!(sim.runs("t"), ["2024-01-01 02:00"]);
}

#[tokio::test(start_paused = true)]
async fn concurrency_cap_holds_runs_back() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.session
        .patch_config(
            &json!({"max_concurrent_runs": 2, "timeout": "1 day"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    for name in ["a", "b", "c", "d", "e"] {
        sim.add(name, "daily", "slow3600s");
    }
    sim.run_until("2024-01-01 05:00").await;
    let mut starts: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .flat_map(|t| sim.runs(t))
        .collect();
    starts.sort();
    assert_eq!(
        starts,
        [
            "2024-01-01 00:00",
            "2024-01-01 00:00",
            "2024-01-01 01:00",
            "2024-01-01 01:00",
            "2024-01-01 02:00"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_is_opt_in() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    // Runs of 2.5 minutes, due every minute.
    sim.add("single", "minutely", "slow150s");
    let mut overlap = sim.task("overlap", "minutely", "slow150s");
    overlap.allow_overlap = true;
    sim.add_spec(overlap);
    sim.run_until("2024-01-01 00:05").await;
    assert_eq!(sim.runs("single"), ["2024-01-01 00:00", "2024-01-01 00:03"]);
    assert_eq!(
        sim.runs("overlap"),
        [
            "2024-01-01 00:00",
            "2024-01-01 00:01",
            "2024-01-01 00:02",
            "2024-01-01 00:03",
            "2024-01-01 00:04"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn returns_are_pipelined_into_parameters() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("a", "daily", "ret");
    let mut b = sim.task("b", "after task 'a'", "echo");
    b.parameters.insert("p".into(), json!({"$return": "a"}));
    sim.add_spec(b);
    let mut c = sim.task("c", "after task 'a'", "echo");
    c.parameters
        .insert("p".into(), json!({"$return": "nobody"}));
    sim.add_spec(c);
    let mut d = sim.task("d", "after task 'a'", "echo");
    d.parameters
        .insert("p".into(), json!({"$return": "c", "default": 7}));
    sim.add_spec(d);
    let mut session_param = serde_json::Map::new();
    session_param.insert("p".into(), json!("from session"));
    sim.session
        .patch_parameters(session_param, &[])
        .expect("params");
    sim.add("e", "after task 'a'", "echo");
    sim.run_until("2024-01-01 01:00").await;
    let returns = sim.session.returns();
    assert_eq!(returns.get("a"), Some(&json!("x")));
    assert_eq!(returns.get("b"), Some(&json!("x")));
    assert_eq!(returns.get("d"), Some(&json!(7)));
    assert_eq!(returns.get("e"), Some(&json!("from session")));
    assert_eq!(
        sim.records("c").iter().map(|r| r.0).collect::<Vec<_>>(),
        [Action::Run, Action::Fail]
    );
    assert_eq!(
        sim.last("c").exc_text.as_deref(),
        Some("unknown task 'nobody' in parameter 'p'")
    );
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
async fn terminate_and_delete_requests_stop_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("stop me", "daily", "wait");
    let session = sim.session.clone();
    let started = Arc::clone(&sim.started);
    let until = local(utc(), "2024-01-01 05:00");
    let scheduler = sim.scheduler();
    let run = scheduler.run(sim.clock.sleep_until(until));
    let poke = async {
        started.notified().await;
        assert!(session.task("stop me").expect("task").state.running);
        session.terminate("stop me").expect("terminated");
        session.force_run("stop me").expect("forced");
        started.notified().await;
        let removed = session.delete_task("stop me").await.expect("deleted");
        assert_eq!(removed.spec.name, "stop me");
    };
    let (ran, ()) = tokio::join!(run, poke);
    ran.expect("ran");
    let texts: Vec<(Action, Option<String>)> = sim
        .log
        .task_records("stop me")
        .into_iter()
        .map(|r| (r.action, r.exc_text))
        .collect();
    assert_eq!(
        texts,
        [
            (Action::Run, None),
            (Action::Terminate, Some("requested".into())),
            (Action::Run, None),
            (Action::Terminate, Some("requested".into())),
        ]
    );
    assert!(!sim.session.has_task("stop me"));
    assert!(sim.session.terminate("stop me").is_err());
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
async fn dropping_the_scheduler_future_ends_its_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("t", "daily", "wait");
    let scheduler = sim.scheduler();
    tokio::select! {
        _ = scheduler.run(std::future::pending::<()>()) => panic!("runs until dropped"),
        () = sim.clock.sleep_until(local(utc(), "2024-01-01 00:10")) => {}
    }
    assert_eq!(
        sim.records("t")[1],
        (Action::Terminate, "2024-01-01 00:10".to_owned())
    );
    assert_eq!(sim.last("t").exc_text.as_deref(), Some("shutdown"));
    assert!(!sim.session.task("t").expect("task").state.running);
    assert_eq!(sim.session.scheduler_state(), None);
    // The session takes a new scheduler.
    sim.run_until("2024-01-02 01:00").await;
    assert_eq!(sim.runs("t").len(), 2);
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
async fn a_task_renamed_while_running_ends_under_its_new_name() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("old", "daily", "slow90s");
    let session = sim.session.clone();
    let at = local(utc(), "2024-01-01 00:01");
    let scheduler = sim.scheduler();
    let run = scheduler.run(sim.clock.sleep_until(local(utc(), "2024-01-01 01:00")));
    let rename = async {
        sim.clock.sleep_until(at).await;
        let patch = TaskPatch {
            name: Some("new".into()),
            ..TaskPatch::default()
        };
        let view = session.update_task("old", patch).expect("renamed");
        assert!(view.state.running);
    };
    let (ran, ()) = tokio::join!(run, rename);
    ran.expect("ran");
    assert_eq!(
        sim.records("old"),
        [(Action::Run, "2024-01-01 00:00".to_owned())]
    );
    assert_eq!(
        sim.records("new"),
        [(Action::Success, "2024-01-01 00:01".to_owned())]
    );
    let state = sim.session.task("new").expect("task").state;
    assert_eq!(state.status, Some(Action::Success));
    assert!(!state.running);
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

#[tokio::test(start_paused = true)]
async fn end_condition_terminates_a_process_run() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut program = sim.session.default_spec(
        "program",
        TaskKind::Command {
            command: CommandLine::Program(vec!["sleep".into(), "30".into()]),
            cwd: None,
            env: Default::default(),
        },
    );
    assert_eq!(program.execution, Execution::Process);
    program.start_cond = "daily".parse().expect("cond");
    program.end_cond = "time of day after 00:02".parse().expect("cond");
    sim.add_spec(program);
    sim.run_until("2024-01-01 00:10").await;
    assert_eq!(
        sim.records("program")[1],
        (Action::Terminate, "2024-01-01 00:02".to_owned())
    );
    assert_eq!(
        sim.last("program").exc_text.as_deref(),
        Some("end condition")
    );
}

/// On `ManualClock`: the shell must have started its child before the timeout.
#[tokio::test]
async fn timeout_terminates_a_shell_command_with_its_children() {
    let dir = std::env::temp_dir().join(format!("engine-sched-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pid_file = dir.join("child.pid");
    let _ = std::fs::remove_file(&pid_file);
    let clock = Arc::new(ManualClock::new(local(utc(), "2024-01-01 00:00")));
    let sim = Sim::with_clock(utc(), clock.clone(), Arc::new(MemoryLogStore::default()));
    let line = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let mut shell = sim.session.default_spec(
        "shell",
        TaskKind::Command {
            command: CommandLine::Shell(line),
            cwd: None,
            env: Default::default(),
        },
    );
    shell.start_cond = "daily".parse().expect("cond");
    shell.timeout = Some(TimeDelta::minutes(1));
    sim.add_spec(shell);
    let (stop, stopped) = oneshot::channel::<()>();
    let scheduler = sim.scheduler();
    let session = sim.session.clone();
    let drive = async {
        let mut ends = session.runs_ended();
        let pid = loop {
            match std::fs::read_to_string(&pid_file) {
                Ok(pid) if pid.ends_with('\n') => break pid,
                _ => tokio::task::yield_now().await,
            }
        };
        clock.advance(TimeDelta::minutes(2));
        ends.changed().await.expect("the run ended");
        let _ = stop.send(());
        pid
    };
    let (ran, pid) = tokio::join!(scheduler.run(stopped), drive);
    ran.expect("ran");
    assert_eq!(
        sim.records("shell")[1],
        (Action::Terminate, "2024-01-01 00:02".to_owned())
    );
    assert_eq!(sim.last("shell").exc_text.as_deref(), Some("timeout"));
    assert!(process_gone(pid.trim()), "the shell's child {pid} survived");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether process `pid` has exited (gone, or a zombie), polling for a while:
/// signal delivery is asynchronous.
fn process_gone(pid: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        let gone = match stat {
            Err(_) => true,
            Ok(text) => text
                .rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
                .unwrap_or(false),
        };
        if gone || std::time::Instant::now() > deadline {
            return gone;
        }
        std::thread::yield_now();
    }
}

/// Thread runs on `ManualClock`: tokio's paused clock would jump while a thread
/// works, so time moves only when the test says.
#[tokio::test]
async fn end_condition_and_timeout_terminate_thread_runs() {
    let start = local(utc(), "2024-01-01 00:00");
    let clock = Arc::new(ManualClock::new(start));
    let sim = Sim::with_clock(utc(), clock.clone(), Arc::new(MemoryLogStore::default()));
    let mut timed = sim.task("timed", "daily", "wait_thread");
    timed.timeout = Some(TimeDelta::minutes(5));
    assert_eq!(timed.execution, Execution::Thread);
    sim.add_spec(timed);
    let mut ended = sim.task("ended", "daily", "wait_thread");
    ended.end_cond = "time of day after 00:10".parse().expect("cond");
    sim.add_spec(ended);

    let (stop, stopped) = oneshot::channel::<()>();
    let scheduler = sim.scheduler();
    let session = sim.session.clone();
    let started = Arc::clone(&sim.started);
    let drive = async {
        started.notified().await;
        started.notified().await;
        let mut ends = session.runs_ended();
        clock.advance(TimeDelta::minutes(6));
        ends.changed().await.expect("a run ended");
        clock.advance(TimeDelta::minutes(6));
        ends.changed().await.expect("a run ended");
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(scheduler.run(stopped), drive);
    ran.expect("ran");
    assert_eq!(
        sim.records("timed")[1],
        (Action::Terminate, "2024-01-01 00:06".to_owned())
    );
    assert_eq!(sim.last("timed").exc_text.as_deref(), Some("timeout"));
    assert_eq!(
        sim.records("ended")[1],
        (Action::Terminate, "2024-01-01 00:12".to_owned())
    );
    assert_eq!(sim.last("ended").exc_text.as_deref(), Some("end condition"));
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_the_grace_then_terminates() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.session
        .patch_config(
            &json!({"shutdown_grace": 60})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    sim.add("forever", "daily", "wait");
    sim.add("slow", "daily", "slow90s");
    sim.run_until("2024-01-01 00:01").await;
    assert_eq!(
        sim.records("slow")[1],
        (Action::Success, "2024-01-01 00:01".to_owned())
    );
    assert_eq!(
        sim.records("forever")[1],
        (Action::Terminate, "2024-01-01 00:02".to_owned())
    );
    assert_eq!(sim.last("forever").exc_text.as_deref(), Some("shutdown"));
    let state = sim.session.task("forever").expect("task").state;
    assert_eq!(state.status, Some(Action::Terminate));
    assert!(!state.running);
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

/// One session change and how many tasks the scheduler checks again because of
/// it (`None`: every task).
struct Touch {
    what: &'static str,
    change: fn(&Session),
    rechecked: Option<u64>,
}

/// Yields until the scheduler has nothing left to do (its counters stop moving).
async fn settle(scheduler: &Scheduler) {
    loop {
        let before = scheduler.stats();
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        if scheduler.stats() == before {
            return;
        }
    }
}

/// A change costs the checks of the tasks it can affect, not of all tasks:
/// with hundreds of tasks and a stream of API changes, full passes would keep
/// the loop busy and delay due runs.
#[tokio::test(start_paused = true)]
async fn a_change_rechecks_only_the_tasks_it_touches() {
    fn object(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }
    let cases = [
        Touch {
            what: "the priority of one task",
            change: |s| {
                let patch = TaskPatch {
                    priority: Some(5),
                    ..TaskPatch::default()
                };
                s.update_task("t3", patch).expect("patched");
            },
            rechecked: Some(1),
        },
        Touch {
            what: "a rename: the task and the one whose condition names it",
            change: |s| {
                let patch = TaskPatch {
                    name: Some("renamed".to_owned()),
                    ..TaskPatch::default()
                };
                s.update_task("idle", patch).expect("renamed");
            },
            rechecked: Some(2),
        },
        Touch {
            what: "a new task",
            change: |s| {
                let mut spec = s.default_spec(
                    "new",
                    TaskKind::Function {
                        func: "ok".to_owned(),
                    },
                );
                spec.start_cond = "time of day between 03:00 and 04:00".parse().expect("cond");
                s.create_task(spec, None).expect("created");
            },
            rechecked: Some(1),
        },
        Touch {
            what: "a parameter: the task whose condition reads parameters",
            change: |s| {
                s.patch_parameters(object(json!({"x": 1})), &[])
                    .expect("parameters");
            },
            rechecked: Some(1),
        },
        Touch {
            what: "return values: nothing",
            change: |s| {
                s.patch_returns(object(json!({"t1": 1})), &[]);
            },
            rechecked: Some(0),
        },
        Touch {
            what: "the configuration: everything",
            change: |s| {
                s.patch_config(&object(json!({"task_priority": 1})))
                    .expect("config");
            },
            rechecked: None,
        },
    ];
    for case in cases {
        let sim = Sim::simulated(utc(), "2024-01-01 00:00");
        // After the rename, the watcher names a task that is gone.
        sim.session
            .patch_config(&object(json!({"silence_cond_check": true})))
            .expect("config");
        for i in 0..20 {
            sim.add(&format!("t{i}"), "daily", "ok");
        }
        sim.add("idle", "false", "ok");
        sim.add("watcher", "after task 'idle'", "ok");
        sim.add("param", "param 'go' exists", "ok");
        let tasks = sim.session.tasks().len() as u64;
        let scheduler = sim.scheduler();
        let (stop, stopped) = oneshot::channel::<()>();
        let drive = async {
            settle(&scheduler).await;
            let before = scheduler.stats().checks;
            (case.change)(&sim.session);
            settle(&scheduler).await;
            let checks = scheduler.stats().checks - before;
            let _ = stop.send(());
            checks
        };
        let (ran, checks) = tokio::join!(scheduler.run(stopped), drive);
        ran.expect("ran");
        // One more: the shut condition, checked before each cycle.
        let expected = 1 + case.rechecked.unwrap_or(tasks);
        assert_eq!(checks, expected, "{}", case.what);
    }
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
        ("main".to_owned(), super::thread::THREAD_NAME.to_owned())
    );
    assert_eq!(seen[1].0, "spawned");
    assert_ne!(seen[1].1, super::thread::THREAD_NAME);
    assert_eq!(sim.last("main").action, Action::Success);
}

/// Dropping the future on a multi-threaded runtime ends the loop on its thread
/// before the drop returns: runs terminated, the session free for a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_future_ends_the_loop_thread_and_its_runs() {
    let clock = Arc::new(ManualClock::new(local(utc(), "2024-01-01 00:00")));
    let sim = Sim::with_clock(utc(), clock, Arc::new(MemoryLogStore::default()));
    sim.add("t", "daily", "wait");
    let scheduler = sim.scheduler();
    tokio::select! {
        _ = scheduler.run(std::future::pending::<()>()) => panic!("runs until dropped"),
        () = sim.started.notified() => {}
    }
    assert_eq!(
        sim.records("t").iter().map(|r| r.0).collect::<Vec<_>>(),
        [Action::Run, Action::Terminate]
    );
    assert_eq!(sim.last("t").exc_text.as_deref(), Some("shutdown"));
    assert!(!sim.session.task("t").expect("task").state.running);
    assert_eq!(sim.session.scheduler_state(), None);
    // The session takes a new scheduler at once.
    sim.scheduler()
        .run(async {})
        .await
        .expect("a second scheduler runs");
}

/// A log that remembers how its records arrived: each `append` or
/// `append_batch` call is one write (one transaction for a durable store).
struct Batches {
    inner: Arc<MemoryLogStore>,
    writes: parking_lot::Mutex<Vec<Vec<(String, Action)>>>,
}

impl Batches {
    /// The writes holding `action` records, as task names.
    fn writes_of(&self, action: Action) -> Vec<Vec<String>> {
        self.writes
            .lock()
            .iter()
            .map(|w| {
                w.iter()
                    .filter(|(_, a)| *a == action)
                    .map(|(t, _)| t.clone())
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect()
    }
}

impl LogRead for Batches {
    fn count(
        &self,
        task: &str,
        actions: ActionSet,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    ) -> Result<u64, crate::Error> {
        self.inner.count(task, actions, start, end)
    }

    fn latest(&self, task: &str, actions: ActionSet) -> Result<Option<LogRecord>, crate::Error> {
        self.inner.latest(task, actions)
    }

    fn first_since(
        &self,
        task: &str,
        actions: ActionSet,
        from: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, crate::Error> {
        self.inner.first_since(task, actions, from)
    }

    fn last_until(
        &self,
        task: &str,
        actions: ActionSet,
        until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, crate::Error> {
        self.inner.last_until(task, actions, until)
    }
}

impl LogStore for Batches {
    fn append(&self, record: LogRecord) -> Result<(), crate::Error> {
        self.writes
            .lock()
            .push(vec![(record.task_name.clone(), record.action)]);
        LogStore::append(self.inner.as_ref(), record)
    }

    fn append_batch(&self, records: Vec<LogRecord>) -> Result<(), crate::Error> {
        self.writes.lock().push(
            records
                .iter()
                .map(|r| (r.task_name.clone(), r.action))
                .collect(),
        );
        self.inner.append_batch(records)
    }

    fn query(
        &self,
        filter: &engine_query::Filter,
        limit: Option<usize>,
    ) -> Result<Vec<LogRecord>, crate::Error> {
        self.inner.query(filter, limit)
    }

    fn summary(&self, task: &str) -> Result<TaskLogSummary, crate::Error> {
        self.inner.summary(task)
    }
}

/// Runs due together have their `run` records written in one batch (one
/// transaction, one disk sync for a durable log) before their bodies start,
/// and runs ending together their end records; a task whose condition reads a
/// task started in the same cycle still sees that run.
#[tokio::test(start_paused = true)]
async fn runs_due_together_are_written_in_one_batch() {
    let log = Arc::new(MemoryLogStore::default());
    let store = Arc::new(Batches {
        inner: Arc::clone(&log),
        writes: parking_lot::Mutex::new(Vec::new()),
    });
    let clock: Arc<dyn Clock> =
        Arc::new(SimulatedClock::start_at(local(utc(), "2024-01-01 00:00")));
    let sim = Sim::with_store(utc(), clock, log, store.clone());
    for i in 0..10 {
        sim.add(&format!("t{i}"), "daily", "ok");
    }
    let mut first = sim.task("first", "daily", "wait");
    first.priority = 2;
    sim.add_spec(first);
    // True only in the first cycle, and only if `first` is seen running then.
    sim.add(
        "follower",
        "task 'first' is running & ~scheduler has more than 0 cycles",
        "ok",
    );
    sim.run_until("2024-01-01 00:10").await;

    let runs = store.writes_of(Action::Run);
    let mut batched: Vec<String> = runs.iter().flatten().cloned().collect();
    batched.sort();
    let mut expected: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    expected.extend(["first".to_owned(), "follower".to_owned()]);
    expected.sort();
    assert_eq!(batched, expected, "{runs:?}");
    // In priority order: `first` and the ten go together, written before
    // `follower` (last in order) is checked.
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0].len(), 11, "{runs:?}");
    assert_eq!(runs[0][0], "first");
    assert_eq!(runs[1], ["follower"]);
    let ends = store.writes_of(Action::Success);
    assert_eq!(ends.iter().map(Vec::len).sum::<usize>(), 11, "{ends:?}");
    assert!(ends.len() < 11, "ends written one by one: {ends:?}");
    assert_eq!(sim.runs("follower"), ["2024-01-01 00:00"]);
}
