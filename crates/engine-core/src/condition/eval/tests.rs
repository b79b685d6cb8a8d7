//! Tests of condition evaluation: one table per semantic rule (conditions.md §5,
//! with DESIGN.md's fixes), `next_change` answers, and the property that a
//! condition's value is constant until its `next_change`.

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{CountCompare, EvalContext, SchedulerState};
use crate::condition::Condition;
use crate::log::{Action, LogRecord, MemoryLogStore};

/// Log records as `(task, action, local time)`.
type Logs = &'static [(&'static str, &'static str, &'static str)];

/// The world a table of cases is evaluated in.
struct Setup {
    tz: Tz,
    owner: Option<&'static str>,
    params: Value,
    scheduler: Option<(u64, &'static str)>,
    /// The tasks that exist; `None` = any name.
    known: Option<&'static [&'static str]>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            tz: Tz::UTC,
            owner: Some("t"),
            params: json!({}),
            scheduler: None,
            known: None,
        }
    }
}

/// What a case expects: a value, or an evaluation error with this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Is(bool),
    Fails(&'static str),
}
use Want::{Fails, Is};

/// A local wall-clock time in `tz` (the earlier instant of a repeated time), or
/// with a ` UTC` suffix an instant in UTC (to name the second pass of a repeated
/// local time).
fn local(tz: Tz, text: &str) -> DateTime<Utc> {
    if let Some(utc) = text.strip_suffix(" UTC") {
        return local(Tz::UTC, utc);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("bad test time {text:?}: {e}"));
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| panic!("{text} does not exist in {tz}"))
        .with_timezone(&Utc)
}

fn parse(text: &str) -> Condition {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"))
}

fn store(tz: Tz, logs: Logs) -> MemoryLogStore {
    let store = MemoryLogStore::default();
    for (task, action, time) in logs {
        let action: Action = action.parse().unwrap_or_else(|e| panic!("{e}"));
        store.append(LogRecord::new(*task, action, local(tz, time)));
    }
    store
}

/// Evaluates every `(condition, now, logs, want)` of `cases` in `setup`.
fn check(setup: &Setup, cases: &[(&str, &str, Logs, Want)]) {
    let params: Map<String, Value> = setup.params.as_object().cloned().unwrap_or_default();
    let known = setup.known;
    let exists = move |name: &str| known.is_none_or(|names| names.contains(&name));
    for (i, (cond, now, logs, want)) in cases.iter().enumerate() {
        let log = store(setup.tz, logs);
        let ctx = EvalContext {
            now: local(setup.tz, now),
            tz: setup.tz,
            log: &log,
            task: setup.owner,
            scheduler: setup.scheduler.map(|(cycles, started)| SchedulerState {
                cycles,
                started_at: local(setup.tz, started),
            }),
            params: &params,
            task_exists: Some(&exists),
        };
        let got = match parse(cond).eval(&ctx) {
            Ok(value) => Is(value),
            Err(e) => {
                assert_eq!(
                    e.kind(),
                    crate::ErrorKind::Evaluation,
                    "case {i}: {cond:?} at {now}"
                );
                match want {
                    Fails(message) if *message == e.message() => *want,
                    _ => panic!("case {i}: {cond:?} at {now}: unexpected error {e}"),
                }
            }
        };
        assert_eq!(got, *want, "case {i}: {cond:?} at {now} with {logs:?}");
    }
}

const NONE: Logs = &[];

#[test]
#[rustfmt::skip]
fn constants_and_combinators() {
    check(
        &Setup {
            owner: None,
            ..Setup::default()
        },
        &[
            ("true", "2024-01-02 10:00:00", NONE, Is(true)),
            ("always false", "2024-01-02 10:00:00", NONE, Is(false)),
            ("", "2024-01-02 10:00:00", NONE, Is(false)),
            ("~false & true", "2024-01-02 10:00:00", NONE, Is(true)),
            ("false | ~true", "2024-01-02 10:00:00", NONE, Is(false)),
            // Short circuit: the deciding item comes first, the owner-less one is skipped.
            ("false & has succeeded", "2024-01-02 10:00:00", NONE, Is(false)),
            ("true | daily", "2024-01-02 10:00:00", NONE, Is(true)),
            ("has succeeded & false", "2024-01-02 10:00:00", NONE, Fails("condition needs an owner task")),
            ("daily | true", "2024-01-02 10:00:00", NONE, Fails("condition needs an owner task")),
            ("after task 'a'", "2024-01-02 10:00:00", NONE, Fails("condition needs an owner task")),
            // Named tasks need no owner.
            ("task 'a' has succeeded", "2024-01-02 10:00:00", &[("a", "success", "2024-01-02 09:00:00")], Is(true)),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn execution_blocks_on_finishes_in_the_current_window() {
    check(
        &Setup::default(),
        &[
            ("daily", "2024-01-02 12:00:00", NONE, Is(true)),
            ("daily", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 00:00:00")], Is(false)),
            ("daily", "2024-01-02 12:00:00", &[("t", "success", "2024-01-01 23:59:59.999999")], Is(true)),
            ("daily", "2024-01-02 12:00:00", &[("t", "fail", "2024-01-02 11:00:00")], Is(false)),
            ("daily", "2024-01-02 12:00:00", &[("t", "inaction", "2024-01-02 11:00:00")], Is(false)),
            ("daily", "2024-01-02 12:00:00", &[("t", "terminate", "2024-01-02 11:00:00")], Is(false)),
            // A run alone, a crash, or another task's success does not block.
            ("daily", "2024-01-02 12:00:00", &[("t", "run", "2024-01-02 11:00:00")], Is(true)),
            ("daily", "2024-01-02 12:00:00", &[("t", "crash", "2024-01-02 11:00:00")], Is(true)),
            ("daily", "2024-01-02 12:00:00", &[("u", "success", "2024-01-02 11:00:00")], Is(true)),
            // A finish stamped after now is not in the window yet.
            ("daily", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 12:00:01")], Is(true)),
            ("daily between 08:00 and 10:00", "2024-01-02 08:00:00", NONE, Is(true)),
            ("daily between 08:00 and 10:00", "2024-01-02 10:00:00", NONE, Is(true)),
            ("daily between 08:00 and 10:00", "2024-01-02 10:00:00.000001", NONE, Is(false)),
            ("daily between 08:00 and 10:00", "2024-01-02 07:59:59", NONE, Is(false)),
            ("daily between 08:00 and 10:00", "2024-01-02 09:00:00", &[("t", "success", "2024-01-02 07:59:59")], Is(true)),
            ("daily between 08:00 and 10:00", "2024-01-02 09:00:00", &[("t", "success", "2024-01-02 08:00:00")], Is(false)),
            ("daily between 23:00 and 05:00", "2024-01-02 02:00:00", &[("t", "success", "2024-01-01 23:00:00")], Is(false)),
            ("daily between 23:00 and 05:00", "2024-01-02 02:00:00", &[("t", "success", "2024-01-01 22:59:59")], Is(true)),
            ("daily starting 10:00", "2024-01-02 09:00:00", &[("t", "success", "2024-01-01 10:00:00")], Is(false)),
            ("daily starting 10:00", "2024-01-02 10:00:01", &[("t", "success", "2024-01-01 10:00:00")], Is(true)),
            // The boundary instant of a full cycle starts the new cycle (as midnight for `daily`).
            ("daily starting 10:00", "2024-01-02 10:00:00", &[("t", "success", "2024-01-01 11:00:00")], Is(true)),
            ("daily starting 10:00", "2024-01-02 10:00:00", &[("t", "success", "2024-01-02 10:00:00")], Is(false)),
            ("daily starting 00:00", "2024-01-02 00:00:00", &[("t", "success", "2024-01-01 11:00:00")], Is(true)),
            ("monthly starting 3rd", "2024-01-03 00:00:00", &[("t", "success", "2023-12-05 00:00:00")], Is(true)),
            ("monthly starting 3rd", "2024-01-02 23:59:59", &[("t", "success", "2023-12-05 00:00:00")], Is(false)),
            ("hourly", "2024-01-02 11:00:00", &[("t", "success", "2024-01-02 10:59:59")], Is(true)),
            ("weekly", "2024-01-08 00:00:00", &[("t", "success", "2024-01-07 23:59:59")], Is(true)),
            ("weekly", "2024-01-07 23:00:00", &[("t", "success", "2024-01-01 00:00:00")], Is(false)),
            ("monthly", "2024-03-31 23:00:00", &[("t", "success", "2024-03-01 00:00:00")], Is(false)),
            // Each branch of an Any has its own window.
            ("daily between 08:00 and 10:00 | daily between 18:00 and 22:00", "2024-01-02 19:00:00", &[("t", "success", "2024-01-02 08:30:00")], Is(true)),
            ("daily & time of week between Monday and Friday", "2024-01-06 10:00:00", NONE, Is(false)),
            ("daily & time of week between Monday and Friday", "2024-01-05 10:00:00", NONE, Is(true)),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn every_is_elapsed_time_since_the_last_finish() {
    check(
        &Setup::default(),
        &[
            ("every 10 minutes", "2024-01-02 10:25:00", &[("t", "success", "2024-01-02 10:15:00")], Is(false)),
            ("every 10 minutes", "2024-01-02 10:25:00", &[("t", "success", "2024-01-02 10:15:00.000001")], Is(false)),
            ("every 10 minutes", "2024-01-02 10:25:00.000001", &[("t", "success", "2024-01-02 10:15:00")], Is(true)),
            ("every 10 minutes", "2024-01-02 10:25:00", &[("t", "run", "2024-01-02 10:24:00")], Is(true)),
            ("every 10 minutes", "2024-01-02 10:25:00", &[("t", "inaction", "2024-01-02 10:24:00")], Is(false)),
            ("every 10 minutes", "2024-01-02 10:25:00", NONE, Is(true)),
            ("run every 1 hour, 30 min", "2024-01-02 11:30:00.000001", &[("t", "fail", "2024-01-02 10:00:00")], Is(true)),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn cron_runs_once_in_each_matching_minute() {
    check(
        &Setup::default(),
        &[
            ("cron 30 8 * * *", "2024-01-02 08:30:00", NONE, Is(true)),
            ("cron 30 8 * * *", "2024-01-02 08:30:59.999", NONE, Is(true)),
            ("cron 30 8 * * *", "2024-01-02 08:31:00", NONE, Is(false)),
            ("cron 30 8 * * *", "2024-01-02 08:30:30", &[("t", "success", "2024-01-02 08:30:10")], Is(false)),
            ("cron 30 8 * * *", "2024-01-02 08:30:30", &[("t", "fail", "2024-01-02 08:30:00")], Is(false)),
            ("cron 30 8 * * *", "2024-01-02 08:30:30", &[("t", "success", "2024-01-02 08:29:59")], Is(true)),
            ("cron 30 8 * * *", "2024-01-02 08:30:30", &[("t", "run", "2024-01-02 08:30:01")], Is(true)),
            // Monday to Friday: 2024-01-06 is a Saturday.
            ("cron */15 * * * 1-5", "2024-01-05 10:45:00", NONE, Is(true)),
            ("cron */15 * * * 1-5", "2024-01-06 10:45:00", NONE, Is(false)),
            ("cron */15 * * * 1-5", "2024-01-05 10:46:00", NONE, Is(false)),
            // Both day fields restricted: either matches (the 13th, or a Friday).
            ("cron 0 0 13 * 5", "2024-01-13 00:00:00", NONE, Is(true)),
            ("cron 0 0 13 * 5", "2024-01-12 00:00:00", NONE, Is(true)),
            ("cron 0 0 13 * 5", "2024-01-11 00:00:00", NONE, Is(false)),
            // One restricted: both must match.
            ("cron 0 0 13 * *", "2024-01-12 00:00:00", NONE, Is(false)),
            ("cron 0 0 * 2 *", "2024-02-12 00:00:00", NONE, Is(true)),
            ("cron 0 0 * 2 *", "2024-03-12 00:00:00", NONE, Is(false)),
        ],
    );
}

#[test]
fn retries_allow_failures_in_the_window() {
    let log = store(
        Tz::UTC,
        &[
            ("t", "fail", "2024-01-02 09:00:00"),
            ("t", "fail", "2024-01-02 09:10:00"),
        ],
    );
    let params = Map::new();
    let ctx = EvalContext {
        now: local(Tz::UTC, "2024-01-02 10:00:00"),
        tz: Tz::UTC,
        log: &log,
        task: Some("t"),
        scheduler: None,
        params: &params,
        task_exists: None,
    };
    let daily = parse("daily");
    let table = [(0, false), (1, false), (2, true), (3, true)];
    for (retries, want) in table {
        assert_eq!(
            daily.eval_with_retries(&ctx, retries),
            Ok(want),
            "retries {retries}"
        );
    }
    log.append(LogRecord::new(
        "t",
        Action::Terminate,
        local(Tz::UTC, "2024-01-02 09:20:00"),
    ));
    assert_eq!(
        daily.eval_with_retries(&ctx, 5),
        Ok(false),
        "terminations ignore retries"
    );
}

#[test]
#[rustfmt::skip]
fn status_counts_records_in_the_window() {
    check(
        &Setup::default(),
        &[
            ("has succeeded today", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 00:00:00")], Is(true)),
            ("has succeeded today", "2024-01-02 12:00:00", &[("t", "success", "2024-01-01 23:59:59")], Is(false)),
            ("has succeeded today", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 12:00:01")], Is(false)),
            ("has finished", "2024-01-02 12:00:00", &[("t", "terminate", "2020-01-01 00:00:00")], Is(true)),
            ("has finished", "2024-01-02 12:00:00", &[("t", "inaction", "2024-01-01 00:00:00")], Is(false)),
            ("has inacted", "2024-01-02 12:00:00", &[("t", "inaction", "2024-01-01 00:00:00")], Is(true)),
            ("has started", "2024-01-02 12:00:00", &[("t", "success", "2024-01-01 00:00:00")], Is(false)),
            // No period: all history up to now (QUIRK-C3 fixed), not the future.
            ("has started", "2024-01-02 12:00:00", &[("t", "run", "1990-01-01 00:00:00")], Is(true)),
            ("~has started", "2024-01-02 12:00:00", &[("t", "run", "2024-01-02 12:00:01")], Is(true)),
            ("task 'u' has failed", "2024-01-02 12:00:00", &[("t", "fail", "2024-01-01 00:00:00")], Is(false)),
            // A window after now's occurrence: the most recent complete one.
            ("has failed today between 08:00 and 16:00", "2024-01-02 17:00:00", &[("t", "fail", "2024-01-02 15:00:00")], Is(true)),
            ("has failed today between 08:00 and 16:00", "2024-01-03 07:00:00", &[("t", "fail", "2024-01-02 15:00:00")], Is(true)),
            ("has failed today between 08:00 and 16:00", "2024-01-03 08:00:00", &[("t", "fail", "2024-01-02 15:00:00")], Is(false)),
            ("has started this week before Friday", "2024-01-06 12:00:00", &[("t", "run", "2024-01-05 23:59:59")], Is(true)),
            ("has succeeded past 2 hours, 30 minutes", "2024-01-02 12:30:00", &[("t", "success", "2024-01-02 10:00:00")], Is(true)),
            ("has succeeded past 2 hours, 30 minutes", "2024-01-02 12:30:00.000001", &[("t", "success", "2024-01-02 10:00:00")], Is(false)),
            ("has succeeded in past 1 hour", "2024-01-02 12:30:00", &[("t", "success", "2024-01-02 12:30:00")], Is(true)),
        ],
    );
}

#[test]
fn count_comparisons() {
    let log = store(
        Tz::UTC,
        &[
            ("t", "success", "2024-01-02 09:00:00"),
            ("t", "fail", "2024-01-02 09:10:00"),
            ("t", "run", "2024-01-02 09:20:00"),
        ],
    );
    let params = Map::new();
    let ctx = EvalContext {
        now: local(Tz::UTC, "2024-01-02 10:00:00"),
        tz: Tz::UTC,
        log: &log,
        task: Some("t"),
        scheduler: None,
        params: &params,
        task_exists: None,
    };
    let finished = parse("has finished today");
    assert_eq!(finished.status_count(&ctx), Ok(2));
    let table = [
        (CountCompare::Eq(2), true),
        (CountCompare::Ne(2), false),
        (CountCompare::Lt(2), false),
        (CountCompare::Le(2), true),
        (CountCompare::Gt(1), true),
        (CountCompare::Ge(3), false),
    ];
    for (compare, want) in table {
        assert_eq!(finished.eval_count(&ctx, compare), Ok(want), "{compare:?}");
    }
    let err = parse("daily")
        .status_count(&ctx)
        .map_err(|e| e.message().to_owned());
    assert_eq!(
        err,
        Err("a record count needs a task status condition".to_owned())
    );
}

#[test]
#[rustfmt::skip]
fn running_is_the_latest_record_in_log_order() {
    check(
        &Setup {
            owner: None,
            ..Setup::default()
        },
        &[
            ("task 'x' is running", "2024-01-02 12:00:00", &[("x", "run", "2024-01-02 10:00:00")], Is(true)),
            ("while task 'x' is running", "2024-01-02 12:00:00", &[("x", "run", "2024-01-02 10:00:00")], Is(true)),
            ("task 'x' is running", "2024-01-02 12:00:00", NONE, Is(false)),
            ("task 'x' is running", "2024-01-02 12:00:00", &[("x", "run", "2024-01-02 10:00:00"), ("x", "success", "2024-01-02 10:01:00")], Is(false)),
            ("task 'x' is running", "2024-01-02 12:00:00", &[("x", "run", "2024-01-02 10:00:00"), ("x", "crash", "2024-01-02 10:01:00")], Is(false)),
            // Log order, not time order: the run written last is the latest.
            ("task 'x' is running", "2024-01-02 12:00:00", &[("x", "success", "2024-01-02 10:01:00"), ("x", "run", "2024-01-02 10:00:00")], Is(true)),
            // A run stamped after now does not count (QUIRK-C4 fixed).
            ("task 'x' is running", "2024-01-02 12:00:00", &[("x", "run", "2024-01-02 12:00:01")], Is(false)),
            ("task 'x' is running", "2024-01-02 12:00:00", &[("y", "run", "2024-01-02 10:00:00")], Is(false)),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn dependencies_compare_the_latest_records_strictly() {
    check(
        &Setup::default(),
        &[
            ("after task 'a'", "2024-01-02 12:00:00", NONE, Is(false)),
            ("after task 'a'", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 10:00:00")], Is(true)),
            ("after task 'a'", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 10:00:00"), ("t", "run", "2024-01-02 10:00:00")], Is(false)),
            ("after task 'a'", "2024-01-02 12:00:00", &[("t", "run", "2024-01-02 09:00:00"), ("a", "success", "2024-01-02 10:00:00")], Is(true)),
            ("after task 'a'", "2024-01-02 12:00:00", &[("a", "fail", "2024-01-02 10:00:00")], Is(false)),
            ("after task 'a' succeeded", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 10:00:00")], Is(true)),
            ("after task 'a' failed", "2024-01-02 12:00:00", &[("a", "fail", "2024-01-02 10:00:00")], Is(true)),
            ("after task 'a' failed", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 10:00:00")], Is(false)),
            ("after task 'a' finished", "2024-01-02 12:00:00", &[("a", "fail", "2024-01-02 10:00:00")], Is(true)),
            ("after task 'a' finished", "2024-01-02 12:00:00", &[("a", "terminate", "2024-01-02 10:00:00")], Is(false)),
            ("after task 'a' finished", "2024-01-02 12:00:00", &[("a", "inaction", "2024-01-02 10:00:00")], Is(false)),
            ("after task 'a' terminated", "2024-01-02 12:00:00", &[("a", "terminate", "2024-01-02 10:00:00")], Is(true)),
            // The latest dependency record in log order decides, even if an older one is later in time.
            ("after task 'a'", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 11:00:00"), ("t", "run", "2024-01-02 10:00:00"), ("a", "success", "2024-01-02 09:00:00")], Is(false)),
            ("after tasks 'a', 'b'", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 10:00:00")], Is(false)),
            ("after tasks 'a', 'b'", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 10:00:00"), ("b", "success", "2024-01-02 10:00:00")], Is(true)),
            ("after any tasks 'a', 'b'", "2024-01-02 12:00:00", &[("b", "success", "2024-01-02 10:00:00")], Is(true)),
            ("after any tasks 'a', 'b' failed", "2024-01-02 12:00:00", &[("b", "success", "2024-01-02 10:00:00")], Is(false)),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn unknown_tasks_are_errors() {
    check(
        &Setup {
            known: Some(&["t", "a"]),
            ..Setup::default()
        },
        &[
            ("task 'nope' has succeeded", "2024-01-02 12:00:00", NONE, Fails("unknown task 'nope'")),
            ("task 'nope' is running", "2024-01-02 12:00:00", NONE, Fails("unknown task 'nope'")),
            ("after task 'nope'", "2024-01-02 12:00:00", NONE, Fails("unknown task 'nope'")),
            ("after any tasks 'a', 'nope'", "2024-01-02 12:00:00", NONE, Fails("unknown task 'nope'")),
            ("after task 'a'", "2024-01-02 12:00:00", NONE, Is(false)),
            ("task 'a' has succeeded | task 'nope' has failed", "2024-01-02 12:00:00", &[("a", "success", "2024-01-02 10:00:00")], Is(true)),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn scheduler_conditions() {
    let setup = Setup {
        owner: None,
        scheduler: Some((3, "2024-01-02 12:00:00")),
        ..Setup::default()
    };
    check(
        &setup,
        &[
            ("scheduler has 3 cycles", "2024-01-02 13:00:00", NONE, Is(true)),
            ("scheduler has more than 2 cycles", "2024-01-02 13:00:00", NONE, Is(true)),
            ("scheduler has more than 3 cycles", "2024-01-02 13:00:00", NONE, Is(false)),
            ("scheduler has less than 3 cycles", "2024-01-02 13:00:00", NONE, Is(false)),
            ("scheduler started 1 hour ago", "2024-01-02 13:00:00", NONE, Is(true)),
            ("scheduler started 1 hour ago", "2024-01-02 13:00:00.000001", NONE, Is(false)),
            ("scheduler started 1 hour ago", "2024-01-02 11:59:59", NONE, Is(false)),
            ("scheduler has run over 1 hour", "2024-01-02 13:00:00", NONE, Is(false)),
            ("scheduler has run over 1 hour", "2024-01-02 13:00:00.000001", NONE, Is(true)),
        ],
    );
    check(
        &Setup {
            owner: None,
            ..Setup::default()
        },
        &[
            ("scheduler has 3 cycles", "2024-01-02 13:00:00", NONE, Fails("condition needs a running scheduler")),
            ("scheduler has run over 1 hour", "2024-01-02 13:00:00", NONE, Fails("condition needs a running scheduler")),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn parameters_compare_as_text() {
    let setup = Setup {
        params: json!({"env": "prod", "n": 5, "s": "5", "flag": null}),
        ..Setup::default()
    };
    check(
        &setup,
        &[
            ("env 'prod'", "2024-01-02 12:00:00", NONE, Is(true)),
            ("env 'dev'", "2024-01-02 12:00:00", NONE, Is(false)),
            ("param 'n' exists", "2024-01-02 12:00:00", NONE, Is(true)),
            ("param 'flag' exists", "2024-01-02 12:00:00", NONE, Is(true)),
            ("param 'nn' exists", "2024-01-02 12:00:00", NONE, Is(false)),
            ("param 'n' is '5'", "2024-01-02 12:00:00", NONE, Is(false)),
            ("param 's' is '5'", "2024-01-02 12:00:00", NONE, Is(true)),
            ("param 'env' is 'prod' & param 's' is '6'", "2024-01-02 12:00:00", NONE, Is(false)),
        ],
    );
    check(
        &Setup::default(),
        &[("env 'prod'", "2024-01-02 12:00:00", NONE, Is(false))],
    );
}

#[test]
#[rustfmt::skip]
fn time_of_is_membership_in_local_time() {
    check(
        &Setup {
            owner: None,
            ..Setup::default()
        },
        &[
            ("time of day between 22:00 and 02:00", "2024-01-02 02:00:00", NONE, Is(true)),
            ("time of day between 22:00 and 02:00", "2024-01-02 02:00:00.000001", NONE, Is(false)),
            ("time of week on Monday", "2024-01-01 23:59:59", NONE, Is(true)),
            ("time of month after 5th", "2024-01-04 23:59:59", NONE, Is(false)),
        ],
    );
    // 10:30 in New York is 15:30 UTC in winter.
    check(
        &Setup {
            owner: None,
            tz: chrono_tz::America::New_York,
            ..Setup::default()
        },
        &[
            ("time of day between 10:00 and 11:00", "2024-01-02 10:30:00", NONE, Is(true)),
            ("time of day between 15:00 and 16:00", "2024-01-02 10:30:00", NONE, Is(false)),
        ],
    );
}

#[test]
#[rustfmt::skip]
fn periods_follow_the_local_calendar_across_dst() {
    let london = Setup {
        tz: chrono_tz::Europe::London,
        ..Setup::default()
    };
    check(
        &london,
        &[
            // 2024-03-31 01:00 GMT jumps to 02:00 BST: 01:30 never happens; the
            // window opens at the end of the gap.
            ("daily between 01:30 and 03:00", "2024-03-31 02:00:00", NONE, Is(true)),
            ("time of day between 01:15 and 01:45", "2024-03-31 02:00:00", NONE, Is(false)),
            // 2024-10-27 02:00 BST goes back to 01:00 GMT (01:00 UTC): a success in
            // the first 01:35 blocks the second 01:40 (the window starts at the first
            // 01:30), but nothing before the first 01:30 does.
            ("daily between 01:30 and 03:00", "2024-10-27 01:40:00 UTC", &[("t", "success", "2024-10-27 01:35:00")], Is(false)),
            ("daily between 01:30 and 03:00", "2024-10-27 01:40:00 UTC", &[("t", "success", "2024-10-27 01:25:00")], Is(true)),
            ("time of day between 01:30 and 01:45", "2024-10-27 01:40:00 UTC", NONE, Is(true)),
            // A cron minute that happens twice runs once.
            ("cron 30 1 * * *", "2024-10-27 01:30:20 UTC", NONE, Is(true)),
            ("cron 30 1 * * *", "2024-10-27 01:30:20 UTC", &[("t", "success", "2024-10-27 01:30:10")], Is(false)),
            // A cron minute inside a skipped hour does not happen.
            ("cron 30 1 * * *", "2024-03-31 02:30:00", NONE, Is(false)),
            ("cron 30 1 * * *", "2024-03-31 01:30:00 UTC", NONE, Is(false)),
            ("has succeeded today", "2024-10-27 23:00:00", &[("t", "success", "2024-10-27 00:00:00")], Is(true)),
        ],
    );
}

#[test]
fn with_owner_fills_only_task_less_leaves() {
    let cond = parse("daily & task 'x' has failed today | ~has started & after task 'a' & env 'e'");
    let owned = cond.clone().with_owner("me");
    let log = store(
        Tz::UTC,
        &[
            ("me", "run", "2024-01-02 09:00:00"),
            ("x", "fail", "2024-01-02 09:00:00"),
        ],
    );
    let params = Map::new();
    for (owner, want_plain) in [(Some("me"), true), (None, false)] {
        let ctx = EvalContext {
            now: local(Tz::UTC, "2024-01-02 10:00:00"),
            tz: Tz::UTC,
            log: &log,
            task: owner,
            scheduler: None,
            params: &params,
            task_exists: None,
        };
        // The owned tree never needs the context's owner.
        assert_eq!(owned.eval(&ctx), Ok(true));
        assert_eq!(cond.eval(&ctx).is_ok(), want_plain);
    }
    let Condition::Any(items) = owned else {
        panic!("expected an Any")
    };
    let Condition::All(first) = &items[0] else {
        panic!("expected an All")
    };
    assert!(matches!(&first[1], Condition::Status { task: Some(t), .. } if t == "x"));
    assert!(matches!(&first[0], Condition::Executable { task: Some(t), .. } if t == "me"));
}

/// `next_change` answers, as local times in `tz` (`None` = only events change it).
fn check_next(tz: Tz, cases: &[(&str, &str, Logs, Option<&str>)]) {
    let params = Map::new();
    for (i, (cond, now, logs, want)) in cases.iter().enumerate() {
        let log = store(tz, logs);
        let ctx = EvalContext {
            now: local(tz, now),
            tz,
            log: &log,
            task: Some("t"),
            scheduler: Some(SchedulerState {
                cycles: 0,
                started_at: local(tz, "2024-01-02 12:00:00"),
            }),
            params: &params,
            task_exists: None,
        };
        let got = parse(cond).next_change(&ctx);
        let want = want.map(|w| {
            // `+1ns` spelled as a suffix keeps the tables readable.
            match w.strip_suffix("+1ns") {
                Some(base) => local(tz, base) + TimeDelta::nanoseconds(1),
                None => local(tz, w),
            }
        });
        assert_eq!(got, Ok(want), "case {i}: {cond:?} at {now}");
    }
}

#[test]
#[rustfmt::skip]
fn next_change_of_each_kind() {
    check_next(
        Tz::UTC,
        &[
            ("true", "2024-01-02 12:00:00", NONE, None),
            ("env 'x' | param 'y' exists", "2024-01-02 12:00:00", NONE, None),
            ("after task 'a'", "2024-01-02 12:00:00", NONE, None),
            ("time of day between 08:00 and 10:00", "2024-01-02 07:00:00", NONE, Some("2024-01-02 08:00:00")),
            ("time of day between 08:00 and 10:00", "2024-01-02 09:00:00", NONE, Some("2024-01-02 10:00:00+1ns")),
            ("time of day between 08:00 and 10:00", "2024-01-02 11:00:00", NONE, Some("2024-01-03 08:00:00")),
            ("time of day between 22:00 and 02:00", "2024-01-02 23:00:00", NONE, Some("2024-01-03 02:00:00+1ns")),
            ("daily", "2024-01-02 12:00:00", NONE, Some("2024-01-03 00:00:00")),
            ("daily starting 10:00", "2024-01-02 12:00:00", NONE, Some("2024-01-03 10:00:00")),
            ("weekly", "2024-01-03 12:00:00", NONE, Some("2024-01-08 00:00:00")),
            ("monthly", "2024-02-10 12:00:00", NONE, Some("2024-03-01 00:00:00")),
            ("time of month after 5th", "2024-02-10 12:00:00", NONE, Some("2024-03-01 00:00:00")),
            ("hourly between 15:00 and 45:00", "2024-01-02 12:50:00", NONE, Some("2024-01-02 13:15:00")),
            ("every 10 minutes", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 11:55:00")], Some("2024-01-02 12:05:00+1ns")),
            ("every 10 minutes", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 11:45:00")], None),
            ("every 10 minutes", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 12:03:00")], Some("2024-01-02 12:03:00")),
            ("has succeeded past 1 hour", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 11:30:00")], Some("2024-01-02 12:30:00+1ns")),
            ("has succeeded", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 11:30:00")], None),
            ("has succeeded today", "2024-01-02 12:00:00", &[("t", "success", "2024-01-02 11:30:00")], Some("2024-01-03 00:00:00")),
            ("task 't' is running", "2024-01-02 12:00:00", &[("t", "run", "2024-01-02 12:10:00")], Some("2024-01-02 12:10:00")),
            ("scheduler started 1 hour ago", "2024-01-02 12:30:00", NONE, Some("2024-01-02 13:00:00+1ns")),
            ("scheduler has run over 1 hour", "2024-01-02 14:30:00", NONE, None),
            ("scheduler has 2 cycles", "2024-01-02 14:30:00", NONE, None),
            ("cron 30 8 * * *", "2024-01-02 08:30:10", NONE, Some("2024-01-02 08:31:00")),
            ("cron 30 8 * * *", "2024-01-02 08:31:00", NONE, Some("2024-01-03 08:30:00")),
            ("cron 0 0 29 2 *", "2024-03-01 00:00:00", NONE, Some("2028-02-29 00:00:00")),
            // Combinations: the earliest change of the items up to the one that
            // decides the value now (false in `&`, true in `|`); none after it.
            ("daily & time of day between 08:00 and 10:00", "2024-01-02 11:00:00", NONE, Some("2024-01-03 00:00:00")),
            ("time of day between 08:00 and 10:00 & daily", "2024-01-02 11:00:00", NONE, Some("2024-01-03 08:00:00")),
            ("daily & time of day between 08:00 and 10:00", "2024-01-02 09:00:00", NONE, Some("2024-01-02 10:00:00+1ns")),
            ("time of day after 20:00 | daily", "2024-01-02 11:00:00", NONE, Some("2024-01-02 20:00:00")),
            ("daily | time of day after 20:00", "2024-01-02 11:00:00", NONE, Some("2024-01-03 00:00:00")),
            ("time of day before 06:00 | time of day after 20:00", "2024-01-02 11:00:00", NONE, Some("2024-01-02 20:00:00")),
            ("~time of day after 22:00 | env 'x'", "2024-01-02 11:00:00", NONE, Some("2024-01-02 22:00:00")),
            // A constant decides the combination: it never changes, whatever the rest.
            ("false & daily", "2024-01-02 11:00:00", NONE, None),
            ("daily & (~true | false)", "2024-01-02 11:00:00", NONE, None),
            ("true | time of day between 08:00 and 10:00", "2024-01-02 07:00:00", NONE, None),
            ("daily | ~(false & daily)", "2024-01-02 11:00:00", NONE, None),
            // A constant that does not decide it leaves the other items' changes.
            ("true & daily", "2024-01-02 11:00:00", NONE, Some("2024-01-03 00:00:00")),
            ("false | time of day between 08:00 and 10:00", "2024-01-02 07:00:00", NONE, Some("2024-01-02 08:00:00")),
        ],
    );
}

#[test]
fn next_change_does_not_look_past_what_decides_the_value() {
    // Found by fuzzing: `eval` stops at the first false item of an `&`, so an
    // unknown task after it is no error; `next_change` must not fail there either.
    let params = Map::new();
    let log = MemoryLogStore::default();
    let exists = |name: &str| name == "t";
    let ctx = EvalContext {
        now: local(Tz::UTC, "2024-01-02 00:00:00"),
        tz: Tz::UTC,
        log: &log,
        task: Some("t"),
        scheduler: None,
        params: &params,
        task_exists: Some(&exists),
    };
    let cond = parse("time of day after 10:00 & after task 'ghost'");
    assert_eq!(cond.eval(&ctx), Ok(false));
    assert_eq!(
        cond.next_change(&ctx),
        Ok(Some(local(Tz::UTC, "2024-01-02 10:00:00")))
    );
    // The same inside a list of dependencies that stops at its first false one.
    let listed = parse("after tasks 't', 'ghost' | daily");
    assert_eq!(listed.eval(&ctx), Ok(true));
    assert!(listed.next_change(&ctx).is_ok());
    // An item before the decider can change which items `eval` reaches: here at
    // 01:00 the first item starts to reach the unknown task, so the answer must
    // not be later than that.
    let earlier = parse("(time of day after 01:00 & ~after task 'ghost') | daily");
    assert_eq!(earlier.eval(&ctx), Ok(true));
    assert_eq!(
        earlier.next_change(&ctx),
        Ok(Some(local(Tz::UTC, "2024-01-02 01:00:00")))
    );
    // Once the first item holds, the unknown task is reached by both.
    let later = EvalContext {
        now: local(Tz::UTC, "2024-01-02 11:00:00"),
        ..ctx
    };
    assert!(cond.eval(&later).is_err());
    assert!(cond.next_change(&later).is_err());
}

#[test]
#[rustfmt::skip]
fn next_change_across_dst() {
    check_next(
        chrono_tz::America::New_York,
        &[
            // 2024-03-10 02:00 EST jumps to 03:00 EDT.
            ("daily", "2024-03-09 12:00:00", NONE, Some("2024-03-10 00:00:00")),
            ("daily", "2024-03-10 12:00:00", NONE, Some("2024-03-11 00:00:00")),
            // The window starts in the gap: it opens at its end, 03:00 EDT (07:00 UTC),
            // which is also when the offset changes.
            ("time of day between 02:30 and 04:00", "2024-03-10 01:00:00", NONE, Some("2024-03-10 03:00:00")),
            // 2024-11-03 02:00 EDT goes back to 01:00 EST: at the first 01:45 the
            // period comes back at the offset change (06:00 UTC), not tomorrow.
            ("time of day between 01:00 and 01:30", "2024-11-03 01:45:00", NONE, Some("2024-11-03 06:00:00 UTC")),
        ],
    );
}

/// Conditions the property below draws from: every kind that depends on time.
const TIMED: &[&str] = &[
    "daily",
    "daily between 08:00 and 10:00",
    "daily between 22:00 and 02:00",
    "daily between 01:30 and 03:00",
    "daily starting 10:00",
    "daily after 23:00",
    "daily on 02:00",
    "hourly",
    "hourly between 45:00 and 15:00",
    "minutely before 30",
    "weekly on Tuesday",
    "weekly between Sat and Sun",
    "weekly starting Wed 12:00",
    "monthly",
    "monthly between 29th and 5th",
    "monthly starting 3rd",
    "every 10 minutes",
    "every 2 hours",
    "has succeeded today",
    "has failed this week after Wed",
    "has finished past 3 hours",
    "has started this month before 10th",
    "has inacted this hour",
    "~has started",
    "task 't' is running",
    "time of day between 01:30 and 03:00",
    "time of day after 22:00",
    "time of week between Fri 18:00 and Mon 06:00",
    "time of month after 28th",
    "time of hour before 20:00",
    "time of minute between 15 and 30",
    "cron */15 8-17 * * 1-5",
    "cron 30 2 * * *",
    "cron 0 0 29 2 *",
    "scheduler started 1 hour ago",
    "scheduler has run over 2 hours",
    "after task 'a' & daily between 08:00 and 10:00",
    "every 1 hour & ~has failed today",
    "time of day after 22:00 | hourly",
    "~(daily starting 10:00 | time of week on Monday)",
];

/// Zones with every kind of offset change: none, one hour, half an hour, 45
/// minutes, at midnight, and in the southern hemisphere.
const ZONES: &[Tz] = &[
    Tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::Santiago,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Europe::Berlin,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// For random conditions, zones, instants and logs, the value is the same at
    /// every sampled instant of `[now, next_change)` (so the scheduler may sleep
    /// until `next_change`), and `next_change` is after now.
    #[test]
    fn value_is_constant_until_next_change(
        cond in prop::sample::select(TIMED),
        zone in prop::sample::select(ZONES),
        // Around 2024's offset changes in both hemispheres (March/April, Sept/Nov).
        day in prop::sample::select(&[58i64, 66, 69, 86, 90, 94, 97, 180, 250, 265, 272, 300, 307, 310][..]),
        second in 0i64..86_400,
        nanos in prop::sample::select(&[0u32, 1, 999_999_999, 500_000_000][..]),
        // Record times in seconds from now: mostly within hours, some days away.
        records in prop::collection::vec(
            (0usize..2, 0usize..6, prop_oneof![3 => -6 * 3_600i64..3_600, 1 => -20 * 86_400i64..2 * 86_400]),
            0..12,
        ),
        started_ago in -3_600i64..10_000,
        samples in prop::collection::vec(0.0f64..1.0, 6),
    ) {
        let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().unwrap_or_default();
        let now = base + TimeDelta::days(day) + TimeDelta::seconds(second) + TimeDelta::nanoseconds(i64::from(nanos));
        let log = MemoryLogStore::default();
        for (task, action, offset) in records {
            let action = Action::ALL.get(action).copied().unwrap_or(Action::Run);
            log.append(LogRecord::new(["t", "a"][task], action, now + TimeDelta::seconds(offset)));
        }
        let params = Map::new();
        let scheduler = Some(SchedulerState { cycles: 1, started_at: now - TimeDelta::seconds(started_ago) });
        let at = |now| EvalContext { now, tz: zone, log: &log, task: Some("t"), scheduler, params: &params, task_exists: None };
        let cond = parse(cond);
        let value = cond.eval(&at(now));
        let next = cond.next_change(&at(now));
        prop_assert!(value.is_ok() && next.is_ok(), "{:?} {:?}", value, next);
        let (value, next) = (value.unwrap_or_default(), next.unwrap_or_default());
        if let Some(next) = next {
            prop_assert!(next > now, "next change {} not after now {}", next, now);
        }
        // Sample the interval (capped at 70 days), its first and its last instant.
        let end = next.unwrap_or(now + TimeDelta::days(70)).min(now + TimeDelta::days(70));
        let span = (end - now).num_nanoseconds().unwrap_or(i64::MAX);
        let mut points: Vec<DateTime<Utc>> = samples.iter().map(|f| now + TimeDelta::nanoseconds((span as f64 * f) as i64)).collect();
        points.push(end - TimeDelta::nanoseconds(1));
        for point in points.into_iter().filter(|p| *p >= now && *p < end) {
            prop_assert_eq!(cond.eval(&at(point)), Ok(value), "{} in {} at {} (now {}, next {:?})", cond, zone, point, now, next);
        }
    }
}
