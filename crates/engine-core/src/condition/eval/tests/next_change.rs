//! Evaluation tests: `next_change` answers, and the property that a condition's
//! value is constant until its `next_change`.

use super::*;

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
        task_exists: Some(&exists),
        ..utc_context("2024-01-02 00:00:00", &log, &params)
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
