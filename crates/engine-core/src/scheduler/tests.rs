//! Tests of the scheduler, on simulated time: `SimulatedClock` under tokio's
//! paused clock (a month passes in milliseconds), or `ManualClock` where a run
//! lives on a thread of its own (tokio's paused clock would jump while it runs).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{Scheduler, SchedulerStats};
use crate::clock::{Clock, SimulatedClock};
use crate::log::{Action, LogRecord, LogStore, MemoryLogStore};
use crate::session::{Config, Session};
use crate::task::{RunError, TaskKind, TaskSpec};

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

mod cost;
mod lifecycle;
mod schedules;
mod termination;
