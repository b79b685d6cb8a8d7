//! Scheduler tests: what the loop costs: re-checks per session change and
//! batched log writes.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{Sim, local, utc};
use crate::clock::{Clock, SimulatedClock};
use crate::log::{Action, ActionSet, LogRead, LogRecord, LogStore, MemoryLogStore, TaskLogSummary};
use crate::scheduler::Scheduler;
use crate::session::{Session, TaskPatch};
use crate::task::TaskKind;

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
