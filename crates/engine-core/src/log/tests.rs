//! Tests of the task log: the in-memory store's indexes against a naive model,
//! retention, and the provided (bisecting) `LogRead` methods.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::{Action, ActionSet, LogRead, LogRecord, MemoryLogConfig, MemoryLogStore};
use crate::Error;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn rec(task: &str, action: Action, secs: i64) -> LogRecord {
    LogRecord::new(task, action, at(secs))
}

const FINISH: ActionSet = ActionSet::of(&[Action::Success, Action::Fail, Action::Terminate]);
const RUN: ActionSet = ActionSet::of(&[Action::Run]);

/// A reference model: a plain list, scanned.
struct Naive(Vec<LogRecord>);

impl LogRead for Naive {
    fn count(
        &self,
        task: &str,
        actions: ActionSet,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    ) -> Result<u64, Error> {
        Ok(self
            .0
            .iter()
            .filter(|r| {
                r.task_name == task
                    && actions.contains(r.action)
                    && start.is_none_or(|s| r.timestamp >= s)
                    && r.timestamp <= end
            })
            .count() as u64)
    }

    fn latest(&self, task: &str, actions: ActionSet) -> Result<Option<LogRecord>, Error> {
        Ok(self
            .0
            .iter()
            .rev()
            .find(|r| r.task_name == task && actions.contains(r.action))
            .cloned())
    }
}

/// One query and what it should answer.
enum Query {
    Count(&'static str, ActionSet, Option<i64>, i64, u64),
    Latest(&'static str, ActionSet, Option<(Action, i64)>),
    FirstSince(&'static str, ActionSet, i64, Option<i64>),
    LastUntil(&'static str, ActionSet, i64, Option<i64>),
}

/// Runs every query against `log`, naming the case on failure.
fn check(log: &dyn LogRead, queries: &[Query]) {
    for (i, query) in queries.iter().enumerate() {
        match query {
            Query::Count(task, set, start, end, want) => {
                let got = log.count(task, *set, start.map(at), at(*end));
                assert_eq!(got, Ok(*want), "query {i}: count");
            }
            Query::Latest(task, set, want) => {
                let got = log
                    .latest(task, *set)
                    .map(|r| r.map(|r| (r.action, r.timestamp)));
                assert_eq!(got, Ok(want.map(|(a, s)| (a, at(s)))), "query {i}: latest");
            }
            Query::FirstSince(task, set, from, want) => {
                let got = log.first_since(task, *set, at(*from));
                assert_eq!(got, Ok(want.map(at)), "query {i}: first_since");
            }
            Query::LastUntil(task, set, until, want) => {
                let got = log.last_until(task, *set, at(*until));
                assert_eq!(got, Ok(want.map(at)), "query {i}: last_until");
            }
        }
    }
}

fn sample() -> Vec<LogRecord> {
    vec![
        rec("a", Action::Run, 0),
        rec("a", Action::Success, 10),
        rec("b", Action::Run, 5),
        rec("a", Action::Run, 20),
        rec("a", Action::Fail, 30),
        // Out of timestamp order: latest in log order, earliest in time.
        rec("a", Action::Run, -100),
        rec("b", Action::Terminate, 40),
        rec("a", Action::Success, 30),
    ]
}

fn sample_queries() -> Vec<Query> {
    use Query::*;
    vec![
        Count("a", RUN, None, 1000, 3),
        Count("a", RUN, Some(0), 1000, 2),
        Count("a", RUN, Some(0), 19, 1),
        Count("a", RUN, Some(0), 20, 2),
        Count("a", RUN, Some(21), 1000, 0),
        Count("a", RUN, None, -101, 0),
        Count("a", RUN, None, -100, 1),
        Count("a", FINISH, Some(10), 30, 3),
        Count("a", FINISH, Some(11), 30, 2),
        Count("a", FINISH, Some(31), 30, 0),
        Count("b", FINISH, None, 1000, 1),
        Count("nobody", FINISH, None, 1000, 0),
        Count("a", ActionSet::EMPTY, None, 1000, 0),
        Latest("a", RUN, Some((Action::Run, -100))),
        Latest("a", FINISH, Some((Action::Success, 30))),
        Latest(
            "a",
            ActionSet::of(&[Action::Fail]),
            Some((Action::Fail, 30)),
        ),
        Latest("a", ActionSet::of(&[Action::Inaction]), None),
        Latest(
            "b",
            ActionSet::of(&Action::ALL),
            Some((Action::Terminate, 40)),
        ),
        Latest("nobody", RUN, None),
        FirstSince("a", RUN, -1000, Some(-100)),
        FirstSince("a", RUN, -99, Some(0)),
        FirstSince("a", RUN, 1, Some(20)),
        FirstSince("a", RUN, 21, None),
        FirstSince("a", FINISH, 11, Some(30)),
        LastUntil("a", RUN, 1000, Some(20)),
        LastUntil("a", RUN, 19, Some(0)),
        LastUntil("a", RUN, -101, None),
        LastUntil("a", FINISH, 29, Some(10)),
        LastUntil("nobody", FINISH, 29, None),
    ]
}

#[test]
fn memory_store_answers_from_its_indexes() {
    let store = MemoryLogStore::default();
    store.extend(sample());
    assert_eq!(store.len(), 8);
    check(&store, &sample_queries());
    assert_eq!(store.records(), sample());
    assert_eq!(
        store.task_records("b"),
        vec![rec("b", Action::Run, 5), rec("b", Action::Terminate, 40)]
    );
}

#[test]
fn provided_methods_bisect_correctly() {
    // The naive model only implements count and latest: first_since and last_until
    // come from the trait's bisection.
    check(&Naive(sample()), &sample_queries());
}

#[test]
fn bisection_keeps_nanoseconds_and_extreme_instants() {
    let t = at(7) + TimeDelta::nanoseconds(123_456_789);
    let log = Naive(vec![
        LogRecord::new("a", Action::Run, t),
        LogRecord::new("a", Action::Run, DateTime::<Utc>::MIN_UTC),
        LogRecord::new("a", Action::Run, DateTime::<Utc>::MAX_UTC),
    ]);
    assert_eq!(log.first_since("a", RUN, at(0)), Ok(Some(t)));
    assert_eq!(log.last_until("a", RUN, at(100)), Ok(Some(t)));
    assert_eq!(
        log.first_since("a", RUN, t + TimeDelta::nanoseconds(1)),
        Ok(Some(DateTime::<Utc>::MAX_UTC))
    );
    assert_eq!(
        log.last_until("a", RUN, at(0)),
        Ok(Some(DateTime::<Utc>::MIN_UTC))
    );
}

#[test]
fn retention_drops_the_oldest_records_in_log_order() {
    let store = MemoryLogStore::with_config(MemoryLogConfig {
        max_records_per_task: 3,
    });
    store.extend(sample());
    // "a" keeps its last 3: fail@30, run@-100, success@30; "b" keeps both.
    assert_eq!(store.len(), 5);
    use Query::*;
    check(
        &store,
        &[
            Count("a", RUN, None, 1000, 1),
            Count("a", FINISH, None, 1000, 2),
            Latest("a", RUN, Some((Action::Run, -100))),
            Latest(
                "a",
                ActionSet::of(&[Action::Success]),
                Some((Action::Success, 30)),
            ),
            FirstSince("a", FINISH, -1000, Some(30)),
        ],
    );
    // Dropping the only record of an action forgets its latest.
    for i in 0..3 {
        store.append(rec("a", Action::Inaction, 100 + i));
    }
    check(
        &store,
        &[
            Latest("a", RUN, None),
            Latest("a", FINISH, None),
            Count("a", RUN, None, 1000, 0),
        ],
    );
    assert_eq!(store.task_records("a").len(), 3);
    assert_eq!(
        MemoryLogStore::with_config(MemoryLogConfig {
            max_records_per_task: 0
        })
        .config()
        .max_records_per_task,
        1
    );
}

#[test]
fn store_is_send_and_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<MemoryLogStore>();
}

fn arb_records() -> impl Strategy<Value = Vec<(u8, u8, i64)>> {
    prop::collection::vec((0u8..3, 0u8..6, -50i64..50), 0..60)
}

proptest! {
    #[test]
    fn memory_store_matches_a_naive_scan(
        records in arb_records(),
        max in 1usize..20,
        probes in prop::collection::vec((0u8..3, 0u8..64, -60i64..60, -60i64..60), 1..20),
    ) {
        let records: Vec<LogRecord> = records
            .into_iter()
            .map(|(task, action, secs)| {
                let action = Action::ALL.get(usize::from(action)).copied().unwrap_or(Action::Run);
                rec(["x", "y", "z"][usize::from(task) % 3], action, secs)
            })
            .collect();
        let store = MemoryLogStore::with_config(MemoryLogConfig { max_records_per_task: max });
        store.extend(records.clone());
        // The model keeps the last `max` records of each task.
        let mut kept = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let later = records[i + 1..].iter().filter(|o| o.task_name == r.task_name).count();
            if later < max {
                kept.push(r.clone());
            }
        }
        let naive = Naive(kept.clone());
        prop_assert_eq!(store.records(), kept);
        for (task, bits, a, b) in probes {
            let task = ["x", "y", "z"][usize::from(task) % 3];
            let set = ActionSet::of(
                &Action::ALL.into_iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, a)| a).collect::<Vec<_>>(),
            );
            let (lo, hi) = (at(a.min(b)), at(a.max(b)));
            prop_assert_eq!(store.count(task, set, Some(lo), hi), naive.count(task, set, Some(lo), hi));
            prop_assert_eq!(store.count(task, set, None, hi), naive.count(task, set, None, hi));
            prop_assert_eq!(store.latest(task, set), naive.latest(task, set));
            prop_assert_eq!(store.first_since(task, set, lo), naive.first_since(task, set, lo));
            prop_assert_eq!(store.last_until(task, set, hi), naive.last_until(task, set, hi));
        }
    }
}

/// Query strings over the sample, each with the indexes (into `sample()`) it keeps.
const QUERY_CASES: &[(&str, &[usize])] = &[
    ("", &[0, 1, 2, 3, 4, 5, 6, 7]),
    ("task_name=b", &[2, 6]),
    ("task_name=a&task_name=nobody", &[0, 1, 3, 4, 5, 7]),
    ("task_name$min=b", &[2, 6]),
    ("action=run", &[0, 2, 3, 5]),
    ("action=run&action=terminate", &[0, 2, 3, 5, 6]),
    ("action$not=run", &[1, 4, 6, 7]),
    ("action$regex=(su|te)", &[1, 6, 7]),
    ("task_name=a&action=run", &[0, 3, 5]),
    (
        "timestamp$min=2023-11-14T22:13:25Z&timestamp$max=2023-11-14T22:13:40Z",
        &[1, 2, 3],
    ),
    (
        "task_name=a&action=run&timestamp$max=2023-11-14T22:13:20Z",
        &[0, 5],
    ),
    ("timestamp=2023-11-14T22:13:50Z", &[4, 7]),
    ("task_name=c", &[]),
    ("action=explode", &[]),
    ("timestamp$min=2030-01-01&timestamp$max=2020-01-01", &[]),
    ("end$min=2000-01-01", &[]),
];

#[test]
fn memory_store_queries_in_log_order() {
    use super::LogStore;
    // at(0) is 2023-11-14T22:13:20Z.
    let store = MemoryLogStore::default();
    store.extend(sample());
    let all = sample();
    for (query, want) in QUERY_CASES {
        let filter = engine_query::Filter::parse(query).unwrap();
        let want: Vec<LogRecord> = want.iter().map(|&i| all[i].clone()).collect();
        assert_eq!(store.query(&filter, None), Ok(want.clone()), "{query}");
        let newest2 = want[want.len().saturating_sub(2)..].to_vec();
        assert_eq!(
            store.query(&filter, Some(2)),
            Ok(newest2),
            "{query} limit 2"
        );
        assert_eq!(
            store.query(&filter, Some(0)),
            Ok(Vec::new()),
            "{query} limit 0"
        );
    }
}
