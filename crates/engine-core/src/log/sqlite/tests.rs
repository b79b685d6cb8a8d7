//! Unit tests of the SQLite task log: query plans use the indexes, push-down
//! binds its values, bad files give clear errors, retention keeps the latest
//! record of each action.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::TimeZone;
use engine_query::Filter;

use super::*;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn rec(task: &str, action: Action, secs: i64) -> LogRecord {
    LogRecord::new(task, action, at(secs))
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "engine-core-sqlite-{}-{name}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `detail` lines of `EXPLAIN QUERY PLAN sql`.
fn plan(store: &SqliteLogStore, sql: &str, args: &[SqlValue]) -> Vec<String> {
    store
        .read(|conn| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(params_from_iter(args), |row| row.get::<_, String>(3))?;
            rows.collect()
        })
        .unwrap()
}

/// A store with many records of 50 tasks (`t0` ... `t49`), and statistics, so
/// the planner sees a realistic table.
fn filled() -> SqliteLogStore {
    let store = SqliteLogStore::open_in_memory().unwrap();
    let records = (0..5000)
        .map(|i| {
            let action = Action::ALL[usize::try_from(i % 6).unwrap()];
            rec(&format!("t{}", i % 50), action, i)
        })
        .collect();
    store.append_batch(records).unwrap();
    store.writer.lock().conn.execute_batch("ANALYZE").unwrap();
    store
}

#[test]
fn indexed_lookups_never_scan_the_table() {
    let store = filled();
    let text = |s: &str| SqlValue::Text(s.to_owned());
    let cases: [(&str, Vec<SqlValue>, &str); 4] = [
        (
            COUNT,
            vec![
                text("t1"),
                text("run"),
                SqlValue::Integer(0),
                SqlValue::Integer(i64::MAX),
            ],
            "log_task_action_time",
        ),
        (LATEST, vec![text("t1"), text("run")], "log_task_action_seq"),
        (
            FIRST_SINCE,
            vec![text("t1"), text("run"), SqlValue::Integer(0)],
            "log_task_action_time",
        ),
        (
            LAST_UNTIL,
            vec![text("t1"), text("run"), SqlValue::Integer(0)],
            "log_task_action_time",
        ),
    ];
    for (sql, args, index) in cases {
        let details = plan(&store, sql, &args);
        assert!(
            details
                .iter()
                .all(|d| d.starts_with("SEARCH") && d.contains(index)),
            "{sql}: {details:?}"
        );
    }
}

#[test]
fn query_pushes_constraints_down_as_bound_parameters() {
    let store = filled();
    // (query, an index the plan must search, text that must not be in the SQL)
    let cases = [
        (
            "task_name=t1&task_name=t2",
            Some("INDEX log_task_action"),
            "'t1'",
        ),
        (
            "task_name=t1&action=run",
            Some("INDEX log_task_action"),
            "'run'",
        ),
        (
            "timestamp$min=2023-11-14T22:13:20Z&timestamp$max=2023-11-14T22:14:20Z",
            Some("INDEX log_time"),
            "1700000000",
        ),
        ("action$not=run", None, "'run'"),
        ("", None, "WHERE"),
    ];
    for (query, index, absent) in cases {
        let filter = Filter::parse(query).unwrap();
        let (sql, args) = query_sql(&Pushdown::new(&filter), false);
        assert!(!sql.contains(absent), "{query}: {sql}");
        let details = plan(&store, &sql, &args);
        match index {
            Some(index) => assert!(
                details
                    .iter()
                    .any(|d| d.starts_with("SEARCH") && d.contains(index)),
                "{query}: {details:?}"
            ),
            None => assert!(args.is_empty(), "{query}: {args:?}"),
        }
    }
    // Hostile names are values, never SQL.
    let filter = Filter::parse("task_name=x'%20OR%201=1%20--").unwrap();
    let (sql, args) = query_sql(&Pushdown::new(&filter), true);
    assert_eq!(
        sql,
        format!("SELECT {COLUMNS} FROM log WHERE task_name IN (?1) ORDER BY seq DESC")
    );
    assert_eq!(args, vec![SqlValue::Text("x' OR 1=1 --".to_owned())]);
    assert_eq!(store.query(&filter, None), Ok(Vec::new()));
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = TempDir::new("bad");
    let garbage = dir.path("garbage.sqlite");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let newer = dir.path("newer.sqlite");
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 7)
        .unwrap();
    let cases = [
        (garbage.clone(), "file is not a database"),
        (
            newer.clone(),
            "has schema version 7, but this engine knows only versions up to 1",
        ),
        (dir.0.clone(), "cannot open the task log"),
        (
            dir.path("missing/dir/log.sqlite"),
            "cannot open the task log",
        ),
    ];
    for (path, want) in cases {
        let error = SqliteLogStore::open(&path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Log, "{}", path.display());
        let message = error.to_string();
        assert!(message.contains(want), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
    }
}

#[test]
fn times_outside_the_stored_range_are_refused() {
    let store = SqliteLogStore::open_in_memory().unwrap();
    let far = LogRecord::new("a", Action::Run, DateTime::<Utc>::MAX_UTC);
    let error = LogStore::append(&store, far).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Log);
    assert!(
        error
            .to_string()
            .contains("the timestamp of a record of task 'a'"),
        "{error}"
    );
    // A batch is all or nothing.
    let mut bad_end = rec("a", Action::Success, 1);
    bad_end.end = Some(DateTime::<Utc>::MIN_UTC);
    let batch = vec![rec("a", Action::Run, 0), bad_end];
    assert!(store.append_batch(batch).is_err());
    assert_eq!(store.len(), Ok(0));
    // Bounds outside the range saturate.
    LogStore::append(&store, rec("a", Action::Run, 0)).unwrap();
    let all = ActionSet::ALL;
    assert_eq!(
        store.count(
            "a",
            all,
            Some(DateTime::<Utc>::MIN_UTC),
            DateTime::<Utc>::MAX_UTC
        ),
        Ok(1)
    );
    assert_eq!(
        store.first_since("a", all, DateTime::<Utc>::MIN_UTC),
        Ok(Some(at(0)))
    );
    assert_eq!(
        store.last_until("a", all, DateTime::<Utc>::MAX_UTC),
        Ok(Some(at(0)))
    );
}

#[test]
fn retention_keeps_each_actions_latest_record() {
    let config = SqliteLogConfig {
        max_records_per_task: Some(3),
        prune_every: 4,
        ..SqliteLogConfig::default()
    };
    let store = SqliteLogStore::open_in_memory_with_config(config).unwrap();
    let records = [
        rec("a", Action::Success, 0),
        rec("a", Action::Run, 1),
        rec("a", Action::Fail, 2),
        rec("a", Action::Run, 3),
        rec("a", Action::Run, 4),
        rec("a", Action::Run, 5),
        rec("b", Action::Run, 6),
    ];
    for (i, record) in records.iter().enumerate() {
        LogStore::append(&store, record.clone()).unwrap();
        // The pass runs on the 4th append: "a" then has 4 records, one too many,
        // and the oldest (success) is its action's latest, so it stays.
        let want = [1, 2, 3, 4, 5, 6, 7][i];
        assert_eq!(store.len(), Ok(want), "after append {i}");
    }
    // "a" keeps its newest 3 runs, and the older success and fail, each the
    // latest of its action: only the run at 1 goes.
    assert_eq!(store.prune(at(100)), Ok(1));
    let kept = store.query(&Filter::default(), None).unwrap();
    let want = [0usize, 2, 3, 4, 5, 6].map(|i| records[i].clone());
    assert_eq!(kept, want);
    let summary = store.summary("a").unwrap();
    assert_eq!(summary.last(Action::Success), Some(at(0)));
    assert_eq!(summary.status, Some(Action::Run));

    // By age: everything older than 10 s before `now`, except each latest.
    let store = SqliteLogStore::open_in_memory_with_config(SqliteLogConfig {
        max_age: Some(TimeDelta::seconds(10)),
        ..SqliteLogConfig::default()
    })
    .unwrap();
    store.append_batch(records.to_vec()).unwrap();
    assert_eq!(store.prune(at(14)), Ok(2));
    let kept = store.query(&Filter::default(), None).unwrap();
    let want = [0usize, 2, 4, 5, 6].map(|i| records[i].clone());
    assert_eq!(kept, want);
    // No bound: nothing to do.
    let plain = SqliteLogStore::open_in_memory().unwrap();
    plain.append_batch(records.to_vec()).unwrap();
    assert_eq!(plain.prune(at(1000)), Ok(0));
}

/// A read takes a free reading connection: while an API query holds one (or
/// three), the scheduler's checks still get an answer at once.
#[test]
fn reads_take_a_free_connection_while_others_are_busy() {
    let dir = TempDir::new("readers");
    let store = SqliteLogStore::open(dir.path("log.sqlite")).unwrap();
    LogStore::append(&store, rec("a", Action::Run, 1)).unwrap();
    assert_eq!(store.readers.len(), READERS);
    for busy in 1..READERS {
        let answered = std::thread::scope(|scope| {
            let held: Vec<_> = store.readers.iter().take(busy).map(|r| r.lock()).collect();
            let (tell, answer) = std::sync::mpsc::channel();
            let store = &store;
            scope.spawn(move || {
                let runs = ActionSet::of(&[Action::Run]);
                let _ = tell.send((store.len(), store.count("a", runs, None, at(10))));
            });
            // A read waiting on a held connection would answer only after the
            // guards go; a free one answers now.
            let answered = answer.recv_timeout(std::time::Duration::from_secs(10));
            drop(held);
            answered
        });
        assert_eq!(answered, Ok((Ok(1), Ok(1))), "{busy} busy");
    }
}
