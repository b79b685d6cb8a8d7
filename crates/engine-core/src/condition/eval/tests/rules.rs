//! Evaluation tests: one table per semantic rule (conditions.md §5, with DESIGN.md's fixes).

use super::*;

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
    let ctx = utc_context("2024-01-02 10:00:00", &log, &params);
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
    let ctx = utc_context("2024-01-02 10:00:00", &log, &params);
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
            task: owner,
            ..utc_context("2024-01-02 10:00:00", &log, &params)
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
