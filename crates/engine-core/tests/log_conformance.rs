//! One conformance suite for every `LogStore`: the in-memory store always, the
//! SQLite store with the `sqlite` feature. Each store must give the same answers
//! on the same records: log order, inclusive count windows, latest in log order,
//! summaries, queries with every operator (push-down or not), limits and exact
//! round trips; plus what only one store has (memory retention, SQLite
//! durability across a restart).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed check"
)]

use std::sync::Arc;
use std::thread;

use chrono::{DateTime, TimeDelta, Utc};
use engine_core::log::{
    Action, ActionSet, LogRead, LogRecord, LogStore, MemoryLogConfig, MemoryLogStore,
    TaskLogSummary,
};
use engine_query::Filter;
use proptest::prelude::*;

/// `2021-01-01 HH:MM:SS[.f]` UTC.
fn t(time: &str) -> DateTime<Utc> {
    format!("2021-01-01T{time}Z").parse().unwrap()
}

fn full(
    task: &str,
    action: Action,
    at: &str,
    start: Option<&str>,
    end: Option<&str>,
    exc_text: Option<&str>,
) -> LogRecord {
    let start = start.map(t);
    let end = end.map(t);
    LogRecord {
        task_name: task.to_owned(),
        action,
        timestamp: t(at),
        start,
        end,
        runtime: start.zip(end).map(|(s, e)| e - s),
        exc_text: exc_text.map(str::to_owned),
    }
}

const TRACEBACK: &str =
    "Traceback (most recent call last):\n  File \"x.py\", line 1\nRuntimeError: bööm ✓";

/// The records every store gets, in log order. Some arrive out of timestamp
/// order: 5 is earlier than 3 (same task), 6 earlier than 2.
fn sample() -> Vec<LogRecord> {
    use Action::*;
    vec![
        /* 0 */ full("a", Run, "00:00:00", Some("00:00:00"), None, None),
        /* 1 */ full("b", Run, "01:00:00", Some("01:00:00"), None, None),
        /* 2 */
        full(
            "a",
            Success,
            "02:00:00",
            Some("00:00:00"),
            Some("02:00:00"),
            None,
        ),
        /* 3 */ full("c", Run, "03:00:00", Some("03:00:00"), None, None),
        /* 4 */
        full(
            "b",
            Fail,
            "04:00:00",
            Some("01:00:00"),
            Some("04:00:00"),
            Some(TRACEBACK),
        ),
        /* 5 */
        full(
            "c",
            Inaction,
            "02:30:00",
            Some("02:00:00"),
            Some("02:30:00"),
            None,
        ),
        /* 6 */
        full(
            "a",
            Run,
            "01:30:00.123456789",
            Some("01:30:00.123456789"),
            None,
            None,
        ),
        /* 7 */
        full(
            "a",
            Terminate,
            "05:00:00",
            Some("01:30:00.123456789"),
            Some("05:00:00"),
            Some("timeout"),
        ),
        /* 8 */
        full(
            "b",
            Run,
            "05:00:00.000000001",
            Some("05:00:00.000000001"),
            None,
            None,
        ),
        /* 9 */ full("a", Crash, "06:00:00", None, Some("06:00:00"), None),
    ]
}

/// Query strings, each with the sample indexes it keeps (in log order).
const QUERIES: &[(&str, &[usize])] = &[
    // No constraint.
    ("", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    // Push-down on task_name: a set, a range.
    ("task_name=a", &[0, 2, 6, 7, 9]),
    ("task_name=a&task_name=c", &[0, 2, 3, 5, 6, 7, 9]),
    ("task_name$min=b", &[1, 3, 4, 5, 8]),
    ("task_name$max=a", &[0, 2, 6, 7, 9]),
    ("task_name$not=a", &[1, 3, 4, 5, 8]),
    ("task_name$regex=[bc]", &[1, 3, 4, 5, 8]),
    // Push-down on action.
    ("action=run", &[0, 1, 3, 6, 8]),
    ("action=run&action=fail", &[0, 1, 3, 4, 6, 8]),
    ("action$not=run", &[2, 4, 5, 7, 9]),
    ("action$regex=(su|fa)", &[2, 4]),
    ("action$min=s", &[2, 7]),
    // Push-down on timestamp: inclusive bounds, a date alone, nanoseconds.
    (
        "timestamp$min=2021-01-01 01:00&timestamp$max=2021-01-01 03:00",
        &[1, 2, 3, 5, 6],
    ),
    ("timestamp$max=2021-01-01 05:00", &[0, 1, 2, 3, 4, 5, 6, 7]),
    ("timestamp$min=2021-01-01 05:00:00.000000001", &[8, 9]),
    ("timestamp=2021-01-01 05:00", &[7]),
    (
        "timestamp=2021-01-01 05:00&timestamp=2021-01-01 06:00",
        &[7, 9],
    ),
    ("timestamp$max=2021-01-01", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ("timestamp$not=2021-01-01 05:00&task_name=a", &[0, 2, 6, 9]),
    // Combined.
    (
        "task_name=a&action=run&timestamp$min=2021-01-01 01:00",
        &[6],
    ),
    ("task_name=b&action$not=run", &[4]),
    (
        "task_name=a&task_name=b&action=run&action=crash&timestamp$max=2021-01-01 05:00",
        &[0, 1, 6],
    ),
    // Unsatisfiable.
    ("task_name=z", &[]),
    ("action=explode", &[]),
    ("timestamp$min=2021-01-02&timestamp$max=2021-01-01", &[]),
    ("timestamp$min=yesterday", &[]),
    ("task_name=a&task_name$min=b", &[]),
    // Fields without push-down; a missing field matches nothing, $not included.
    ("end$min=2021-01-01 03:00", &[4, 7, 9]),
    ("end$not=2021-01-01 05:00", &[2, 4, 5, 9]),
    ("runtime$min=10800", &[4, 7]),
    ("runtime$max=1800", &[5]),
    ("exc_text$regex=Traceback", &[4]),
    ("exc_text$not=timeout", &[4]),
    ("start=null", &[9]),
    ("start$max=2021-01-01 00:00", &[0, 2]),
    ("created$min=1609477200", &[7, 8, 9]),
    ("message=x", &[]),
];

/// Runs the whole suite on stores made by `make` (each check gets a fresh one).
fn conformance<S: LogStore + 'static>(make: impl Fn() -> S) {
    let loaded = || {
        let store: Arc<dyn LogStore> = Arc::new(make());
        for record in sample() {
            store.append(record).unwrap();
        }
        store
    };
    append_order(&*loaded());
    count_windows(&*loaded());
    latest_and_neighbours(&*loaded());
    summaries(&*loaded());
    queries(&*loaded());
    limits(&*loaded());
    round_trips(&*Arc::new(make()));
    batches(&*Arc::new(make()));
    concurrent_appends(Arc::new(make()));
}

fn append_order(store: &dyn LogStore) {
    assert_eq!(store.query(&Filter::default(), None).unwrap(), sample());
}

fn count_windows(store: &dyn LogStore) {
    let run = ActionSet::of(&[Action::Run]);
    let ns = TimeDelta::nanoseconds(1);
    let cases = [
        // (task, actions, start, end, want)
        ("a", run, Some(t("00:00:00")), t("01:30:00.123456789"), 2),
        (
            "a",
            run,
            Some(t("00:00:00") + ns),
            t("01:30:00.123456789"),
            1,
        ),
        (
            "a",
            run,
            Some(t("00:00:00")),
            t("01:30:00.123456789") - ns,
            1,
        ),
        ("a", run, None, t("23:00:00"), 2),
        ("a", ActionSet::ALL, None, t("23:00:00"), 5),
        ("b", ActionSet::ALL, None, t("05:00:00"), 2),
        ("b", ActionSet::ALL, None, t("05:00:00") + ns, 3),
        ("c", ActionSet::ALL, Some(t("02:30:00")), t("02:30:00"), 1),
        ("c", ActionSet::ALL, Some(t("03:00:01")), t("03:00:00"), 0),
        ("a", ActionSet::EMPTY, None, t("23:00:00"), 0),
        ("nobody", ActionSet::ALL, None, t("23:00:00"), 0),
    ];
    for (i, (task, actions, start, end, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            store.count(task, actions, start, end),
            Ok(want),
            "count case {i}"
        );
    }
}

fn latest_and_neighbours(store: &dyn LogStore) {
    let records = sample();
    let set = |actions: &[Action]| ActionSet::of(actions);
    let latest = [
        // (task, actions, the sample index of the answer)
        ("a", set(&[Action::Run]), Some(6)),
        // Log order wins over time: 6 (01:30) came after 2 (02:00).
        ("a", set(&[Action::Run, Action::Success]), Some(6)),
        ("a", ActionSet::ALL, Some(9)),
        // 5 (02:30) came after 3 (03:00).
        ("c", ActionSet::ALL, Some(5)),
        ("b", set(&[Action::Fail]), Some(4)),
        ("b", set(&[Action::Success]), None),
        ("nobody", ActionSet::ALL, None),
    ];
    for (i, (task, actions, want)) in latest.into_iter().enumerate() {
        let want = want.map(|w: usize| records[w].clone());
        assert_eq!(store.latest(task, actions), Ok(want), "latest case {i}");
    }
    let run = set(&[Action::Run]);
    assert_eq!(
        store.first_since("a", run, t("00:00:00.5")),
        Ok(Some(t("01:30:00.123456789")))
    );
    assert_eq!(
        store.first_since("a", run, t("01:30:00.123456790")),
        Ok(None)
    );
    assert_eq!(
        store.first_since("c", ActionSet::ALL, t("00:00:00")),
        Ok(Some(t("02:30:00")))
    );
    assert_eq!(
        store.last_until("a", run, t("01:29:00")),
        Ok(Some(t("00:00:00")))
    );
    assert_eq!(
        store.last_until("c", ActionSet::ALL, t("23:00:00")),
        Ok(Some(t("03:00:00")))
    );
    assert_eq!(
        store.last_until("a", run, t("00:00:00") - TimeDelta::nanoseconds(1)),
        Ok(None)
    );
}

fn summaries(store: &dyn LogStore) {
    for (task, want) in expected_summaries() {
        assert_eq!(store.summary(task), Ok(want), "summary of {task}");
    }
}

/// What `summary` answers for the sample's tasks (and an unknown one).
fn expected_summaries() -> Vec<(&'static str, TaskLogSummary)> {
    let summary = |status: Action, last: &[(Action, &str)]| {
        let mut summary = TaskLogSummary {
            status: Some(status),
            ..TaskLogSummary::default()
        };
        for (action, at) in last {
            summary.last[*action as usize] = Some(t(at));
        }
        summary
    };
    vec![
        (
            "a",
            summary(
                Action::Crash,
                &[
                    (Action::Run, "01:30:00.123456789"),
                    (Action::Success, "02:00:00"),
                    (Action::Terminate, "05:00:00"),
                    (Action::Crash, "06:00:00"),
                ],
            ),
        ),
        (
            "b",
            summary(
                Action::Run,
                &[
                    (Action::Run, "05:00:00.000000001"),
                    (Action::Fail, "04:00:00"),
                ],
            ),
        ),
        (
            "c",
            summary(
                Action::Inaction,
                &[(Action::Run, "03:00:00"), (Action::Inaction, "02:30:00")],
            ),
        ),
        ("nobody", TaskLogSummary::default()),
    ]
}

fn queries(store: &dyn LogStore) {
    let records = sample();
    for (query, want) in QUERIES {
        let filter = Filter::parse(query).unwrap();
        let want: Vec<LogRecord> = want.iter().map(|&i| records[i].clone()).collect();
        // The table itself must agree with a plain scan.
        let scanned: Vec<LogRecord> = records
            .iter()
            .filter(|r| filter.matches(*r))
            .cloned()
            .collect();
        assert_eq!(scanned, want, "table entry {query:?}");
        assert_eq!(store.query(&filter, None), Ok(want), "query {query:?}");
    }
}

fn limits(store: &dyn LogStore) {
    let records = sample();
    let cases: [(&str, Option<usize>, &[usize]); 7] = [
        ("", Some(3), &[7, 8, 9]),
        ("", Some(100), &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ("", Some(0), &[]),
        ("task_name=a", Some(2), &[7, 9]),
        ("action=run", Some(1), &[8]),
        ("timestamp$max=2021-01-01 03:00", Some(2), &[5, 6]),
        ("task_name=z", Some(5), &[]),
    ];
    for (query, limit, want) in cases {
        let filter = Filter::parse(query).unwrap();
        let want: Vec<LogRecord> = want.iter().map(|&i| records[i].clone()).collect();
        assert_eq!(
            store.query(&filter, limit),
            Ok(want),
            "{query:?} limit {limit:?}"
        );
    }
}

/// Text and times come back exactly as written.
fn round_trips(store: &dyn LogStore) {
    let odd = [
        full(
            "it's \"odd\" & (x) | ~y",
            Action::Fail,
            "12:00:00.000000001",
            Some("11:59:59.999999999"),
            Some("12:00:00.000000001"),
            Some(""),
        ),
        full("", Action::Run, "12:00:01", None, None, None),
        full(
            "ünï ✓",
            Action::Success,
            "12:00:02.5",
            Some("12:00:00"),
            Some("12:00:02.5"),
            Some(TRACEBACK),
        ),
        full(
            "a",
            Action::Run,
            "12:00:03",
            Some("12:00:03"),
            None,
            Some("a\0b"),
        ),
    ];
    for record in &odd {
        store.append(record.clone()).unwrap();
    }
    assert_eq!(store.query(&Filter::default(), None).unwrap(), odd);
    let filter = Filter::from_pairs([("task_name", "it's \"odd\" & (x) | ~y")]).unwrap();
    assert_eq!(store.query(&filter, None).unwrap(), odd[..1]);
    assert_eq!(odd[0].runtime, Some(TimeDelta::nanoseconds(2)));
}

fn batches(store: &dyn LogStore) {
    store.append_batch(sample()).unwrap();
    store.append_batch(Vec::new()).unwrap();
    assert_eq!(store.query(&Filter::default(), None).unwrap(), sample());
}

/// Appends from several threads: nothing is lost, and each thread's records
/// stay in its order.
fn concurrent_appends(store: Arc<dyn LogStore>) {
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                for i in 0..50 {
                    let at = t("00:00:00") + TimeDelta::seconds(i);
                    store
                        .append(LogRecord::new(format!("t{n}"), Action::Run, at))
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in threads {
        handle.join().unwrap();
    }
    let all = store.query(&Filter::default(), None).unwrap();
    assert_eq!(all.len(), 200);
    for n in 0..4 {
        let filter = Filter::parse(&format!("task_name=t{n}")).unwrap();
        let times: Vec<_> = store
            .query(&filter, None)
            .unwrap()
            .into_iter()
            .map(|r| r.timestamp)
            .collect();
        let want: Vec<_> = (0..50)
            .map(|i| t("00:00:00") + TimeDelta::seconds(i))
            .collect();
        assert_eq!(times, want, "thread {n}");
    }
}

#[test]
fn memory_store_conforms() {
    conformance(MemoryLogStore::default);
}

#[test]
fn memory_retention_drops_the_oldest_but_keeps_the_summary() {
    let store = MemoryLogStore::with_config(MemoryLogConfig {
        max_records_per_task: 2,
    });
    for record in sample() {
        LogStore::append(&store, record).unwrap();
    }
    let records = sample();
    // Each task keeps its newest two records.
    let want: Vec<LogRecord> = [3, 4, 5, 7, 8, 9].map(|i| records[i].clone()).to_vec();
    assert_eq!(store.query(&Filter::default(), None), Ok(want));
    let filter = Filter::parse("action=run").unwrap();
    assert_eq!(
        store.query(&filter, None),
        Ok(vec![records[3].clone(), records[8].clone()])
    );
    // The summary is kept through retention: "a" still knows its success.
    for (task, want) in expected_summaries() {
        assert_eq!(store.summary(task), Ok(want), "summary of {task}");
    }
    // The indexes forget what was dropped.
    assert_eq!(
        store.latest("a", ActionSet::of(&[Action::Success])),
        Ok(None)
    );
}

/// A pseudo-random record from small numbers.
fn generated(task: u8, action: u8, secs: i64, exc: bool) -> LogRecord {
    let action = Action::ALL[usize::from(action) % Action::ALL.len()];
    let mut record = LogRecord::new(
        ["x", "y", "z"][usize::from(task) % 3],
        action,
        t("00:00:00") + TimeDelta::seconds(secs),
    );
    record.exc_text = exc.then(|| format!("error {secs}"));
    record
}

/// A query from small numbers: some of task, action, action$not, time bounds, exc_text.
fn generated_query(parts: (u8, u8, u8, i64, i64, u8)) -> String {
    let (tasks, actions, nots, lo, hi, other) = parts;
    let mut pairs = Vec::new();
    for (bit, name) in ["x", "y", "z", "w"].iter().enumerate() {
        if tasks & (1 << bit) != 0 {
            pairs.push(format!("task_name={name}"));
        }
    }
    for (bit, action) in Action::ALL.iter().enumerate() {
        if actions & (1 << bit) != 0 {
            pairs.push(format!("action={action}"));
        }
        if nots & (1 << bit) != 0 && bit < 2 {
            pairs.push(format!("action$not={action}"));
        }
    }
    let time = |secs: i64| {
        (t("00:00:00") + TimeDelta::seconds(secs))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    if lo >= 0 {
        pairs.push(format!("timestamp$min={}", time(lo)));
    }
    if hi >= 0 {
        pairs.push(format!("timestamp$max={}", time(hi)));
    }
    match other % 4 {
        0 => pairs.push("exc_text$regex=error 1".to_owned()),
        1 => pairs.push("task_name$min=y".to_owned()),
        _ => {}
    }
    pairs.join("&")
}

/// Checks `store` against a plain scan of `records` for each query.
fn matches_a_scan(
    store: &dyn LogStore,
    records: &[LogRecord],
    queries: &[(String, Option<usize>)],
) -> Result<(), TestCaseError> {
    for record in records {
        store.append(record.clone()).unwrap();
    }
    for (query, limit) in queries {
        let filter = Filter::parse(query).unwrap();
        let mut want: Vec<LogRecord> = records
            .iter()
            .filter(|r| filter.matches(*r))
            .cloned()
            .collect();
        if let Some(limit) = limit {
            want.drain(..want.len().saturating_sub(*limit));
        }
        prop_assert_eq!(
            store.query(&filter, *limit),
            Ok(want),
            "{} limit {:?}",
            query,
            limit
        );
    }
    Ok(())
}

fn arb_records() -> impl Strategy<Value = Vec<LogRecord>> {
    prop::collection::vec((0u8..3, 0u8..6, 0i64..100, any::<bool>()), 0..80).prop_map(|raw| {
        raw.into_iter()
            .map(|(a, b, c, d)| generated(a, b, c, d))
            .collect()
    })
}

fn arb_queries() -> impl Strategy<Value = Vec<(String, Option<usize>)>> {
    prop::collection::vec(
        (
            (0u8..16, 0u8..64, 0u8..4, -30i64..100, -30i64..100, 0u8..8),
            prop::option::of(0usize..10),
        ),
        1..8,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .map(|(parts, limit)| (generated_query(parts), limit))
            .collect()
    })
}

proptest! {
    #[test]
    fn memory_queries_match_a_scan(records in arb_records(), queries in arb_queries()) {
        matches_a_scan(&MemoryLogStore::default(), &records, &queries)?;
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    //! The SQLite store: the suite, the same property, and durability.

    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    use engine_core::ErrorKind;
    use engine_core::log::{SqliteLogConfig, SqliteLogStore};

    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "engine-log-conformance-{}-{name}-{n}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn sqlite_in_memory_conforms() {
        conformance(|| SqliteLogStore::open_in_memory().unwrap());
    }

    #[test]
    fn sqlite_file_conforms() {
        let dir = TempDir::new("suite");
        let next = AtomicU32::new(0);
        conformance(|| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            SqliteLogStore::open(dir.0.join(format!("log-{n}.sqlite"))).unwrap()
        });
    }

    #[test]
    fn records_survive_a_restart() {
        let dir = TempDir::new("restart");
        let path = dir.0.join("log.sqlite");
        {
            let store = SqliteLogStore::open(&path).unwrap();
            for record in sample() {
                LogStore::append(&store, record).unwrap();
            }
        }
        // Reopened: the same records, in the same order; status and last_* as before.
        let store = SqliteLogStore::open(&path).unwrap();
        assert_eq!(store.len(), Ok(10));
        append_order(&store);
        summaries(&store);
        count_windows(&store);
        latest_and_neighbours(&store);
        queries(&store);
        // Appends continue the log order after the restart.
        let late = LogRecord::new("a", Action::Success, t("00:00:01"));
        LogStore::append(&store, late.clone()).unwrap();
        drop(store);
        let store = SqliteLogStore::open(&path).unwrap();
        let all = store.query(&Filter::default(), None).unwrap();
        assert_eq!(all.last(), Some(&late));
        let summary = store.summary("a").unwrap();
        assert_eq!(summary.status, Some(Action::Success));
        assert_eq!(summary.last(Action::Success), Some(t("00:00:01")));
        assert_eq!(summary.last(Action::Crash), Some(t("06:00:00")));
    }

    #[test]
    fn two_handles_on_one_file_see_each_other() {
        let dir = TempDir::new("shared");
        let path = dir.0.join("log.sqlite");
        let first = SqliteLogStore::open(&path).unwrap();
        let second = SqliteLogStore::open(&path).unwrap();
        LogStore::append(&first, sample()[0].clone()).unwrap();
        LogStore::append(&second, sample()[1].clone()).unwrap();
        assert_eq!(
            first.query(&Filter::default(), None).unwrap(),
            sample()[..2]
        );
        assert_eq!(second.summary("a").unwrap().status, Some(Action::Run));
    }

    #[test]
    fn retention_survives_a_restart_with_status_and_last() {
        let dir = TempDir::new("retention");
        let path = dir.0.join("log.sqlite");
        let config = SqliteLogConfig {
            max_records_per_task: Some(2),
            prune_every: 1,
            ..SqliteLogConfig::default()
        };
        {
            let store = SqliteLogStore::open_with_config(&path, config).unwrap();
            for record in sample() {
                LogStore::append(&store, record).unwrap();
            }
            assert_eq!(store.config().prune_every, 1);
        }
        let store = SqliteLogStore::open(&path).unwrap();
        summaries(&store);
        // "a" has 5 records and 5 actions: its latest per action all stay,
        // only its first run goes.
        assert_eq!(store.count("a", ActionSet::ALL, None, t("23:00:00")), Ok(4));
        assert_eq!(store.len(), Ok(8));
    }

    #[test]
    fn unknown_actions_in_the_file_are_errors() {
        let dir = TempDir::new("corrupt");
        let path = dir.0.join("log.sqlite");
        let store = SqliteLogStore::open(&path).unwrap();
        LogStore::append(&store, sample()[0].clone()).unwrap();
        // Another writer (a newer engine, a hand edit) leaves an action we do not know.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE log SET action = 'explode'", [])
            .unwrap();
        let error = store.query(&Filter::default(), None).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Log);
        let message = error.to_string();
        assert!(message.contains("unknown action 'explode'"), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
        // The indexed look-ups ask for known actions only: the row is none of them.
        assert_eq!(store.latest("a", ActionSet::ALL), Ok(None));
        assert_eq!(store.summary("a"), Ok(TaskLogSummary::default()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn sqlite_queries_match_a_scan(records in arb_records(), queries in arb_queries()) {
            matches_a_scan(&SqliteLogStore::open_in_memory().unwrap(), &records, &queries)?;
        }
    }
}
