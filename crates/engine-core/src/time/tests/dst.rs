//! Daylight saving: the `to_instant` policy at every transition of twenty zones over
//! 1990-2040, and property tests of conversions and of day windows.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::dt;
use crate::time::{AnchoredPeriod, InstantInterval, Side, Unit, to_instant, to_local};

/// Zones with unusual daylight saving: 30-minute shifts (Lord Howe), midnight
/// transitions (Santiago, Sao Paulo, Havana, Asuncion), odd offsets (Kolkata,
/// Chatham, Kathmandu, St Johns), negative DST (Dublin), two-hour DST (Troll),
/// Ramadan DST (Casablanca) and standard-offset changes (Moscow).
const ZONES: [Tz; 20] = [
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::Santiago,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::America::Los_Angeles,
    chrono_tz::America::Havana,
    chrono_tz::Asia::Tehran,
    chrono_tz::Australia::Sydney,
    chrono_tz::Pacific::Auckland,
    chrono_tz::Europe::Moscow,
    chrono_tz::Africa::Casablanca,
    chrono_tz::America::St_Johns,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Europe::Dublin,
    chrono_tz::America::Asuncion,
    chrono_tz::Antarctica::Troll,
];

fn utc(text: &str) -> DateTime<Utc> {
    dt(text).and_utc()
}

fn offset_at(tz: Tz, instant: DateTime<Utc>) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&instant.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

fn nanos(n: i64) -> TimeDelta {
    TimeDelta::nanoseconds(n)
}

#[test]
fn policy_examples() {
    use chrono_tz::{America, Australia, Europe};
    // (zone, local time, side, instant)
    let cases = [
        // Skipped: the end of the gap, for either side.
        (
            America::New_York,
            "2024-03-10 02:30:00",
            Side::Start,
            "2024-03-10 07:00:00",
        ),
        (
            America::New_York,
            "2024-03-10 02:00:00",
            Side::End,
            "2024-03-10 07:00:00",
        ),
        (
            Europe::London,
            "2024-03-31 01:59:59.999999999",
            Side::Start,
            "2024-03-31 01:00:00",
        ),
        (
            Australia::Lord_Howe,
            "2024-10-06 02:15:00",
            Side::Start,
            "2024-10-05 15:30:00",
        ),
        (
            America::Santiago,
            "2024-09-08 00:30:00",
            Side::Start,
            "2024-09-08 04:00:00",
        ),
        // Repeated: the earlier instant for a start, the later one for an end.
        (
            America::New_York,
            "2024-11-03 01:30:00",
            Side::Start,
            "2024-11-03 05:30:00",
        ),
        (
            America::New_York,
            "2024-11-03 01:30:00",
            Side::End,
            "2024-11-03 06:30:00",
        ),
        (
            Australia::Lord_Howe,
            "2024-04-07 01:45:00",
            Side::Start,
            "2024-04-06 14:45:00",
        ),
        (
            Australia::Lord_Howe,
            "2024-04-07 01:45:00",
            Side::End,
            "2024-04-06 15:15:00",
        ),
        // Ordinary times.
        (
            Europe::Berlin,
            "2024-07-01 12:00:00",
            Side::End,
            "2024-07-01 10:00:00",
        ),
        (
            America::New_York,
            "2024-03-10 03:00:00",
            Side::Start,
            "2024-03-10 07:00:00",
        ),
        (
            America::New_York,
            "2024-03-10 01:59:59.999999999",
            Side::End,
            "2024-03-10 06:59:59.999999999",
        ),
    ];
    for (tz, local, side, instant) in cases {
        assert_eq!(
            to_instant(tz, dt(local), side),
            utc(instant),
            "{tz} {local} {side:?}"
        );
    }
}

#[test]
fn repeated_hour_across_midnight_counts_once() {
    // St. John's fell back from 00:01 to 23:01 until 2010: the last hour of
    // 1990-10-27 and the first minute of 1990-10-28 happen twice. Oct 27 keeps the
    // whole repeated hour; Oct 28 starts after it, so the days tile.
    let tz = chrono_tz::America::St_Johns;
    let daily = AnchoredPeriod::whole(Unit::Day);
    let window = |start: &str, end: &str| InstantInterval {
        start: utc(start),
        end: utc(end),
    };
    // (now, rollback, rollforward)
    let cases = [
        // The first pass of Oct 28 00:00:30 belongs to Oct 27 (it is followed by
        // Oct 27 23:01 again); rolling forward still sees local Oct 28.
        (
            "1990-10-28 02:30:30",
            window("1990-10-27 02:30:00", "1990-10-28 02:30:30"),
            window("1990-10-28 02:30:30", "1990-10-29 03:29:59.999999999"),
        ),
        // The second pass of Oct 27 23:30.
        (
            "1990-10-28 03:00:00",
            window("1990-10-27 02:30:00", "1990-10-28 03:00:00"),
            window("1990-10-28 03:00:00", "1990-10-28 03:29:59.999999999"),
        ),
        // Oct 28 starts at its second 00:00.
        (
            "1990-10-28 03:30:00",
            window("1990-10-28 03:30:00", "1990-10-28 03:30:00"),
            window("1990-10-28 03:30:00", "1990-10-29 03:29:59.999999999"),
        ),
    ];
    for (now, back, forward) in cases {
        assert_eq!(daily.rollback_in(tz, utc(now)), back, "rollback at {now}");
        assert_eq!(
            daily.rollforward_in(tz, utc(now)),
            forward,
            "rollforward at {now}"
        );
    }
}

#[test]
fn windows_in_new_york() {
    use crate::time::{Period, parse_period};
    let tz = chrono_tz::America::New_York;
    let day = |start: &str, end: &str| {
        Period::Anchored(AnchoredPeriod::new(Unit::Day, Some(start), Some(end)).expect("valid"))
    };
    let past_hour = parse_period("past 1 hour").expect("valid");
    let window = |start: &str, end: &str| {
        Some(InstantInterval {
            start: utc(start),
            end: utc(end),
        })
    };
    // (period, now, rolled-back window)
    let cases = [
        // Spring forward: a window starting in the gap opens at its end (03:00 EDT).
        (
            day("02:30", "04:00"),
            "2024-03-10 07:30:00",
            window("2024-03-10 07:00:00", "2024-03-10 07:30:00"),
        ),
        // Both ends skipped: the window is the transition instant.
        (
            day("02:10", "02:20"),
            "2024-03-10 12:00:00",
            window("2024-03-10 07:00:00", "2024-03-10 07:00:00"),
        ),
        // Fall back, second pass of 01:30: the window reaches back to the first 01:00.
        (
            day("01:00", "01:45"),
            "2024-11-03 06:30:00",
            window("2024-11-03 05:00:00", "2024-11-03 06:30:00"),
        ),
        // ... and after it, to the second 01:45.
        (
            day("01:00", "01:45"),
            "2024-11-03 12:00:00",
            window("2024-11-03 05:00:00", "2024-11-03 06:45:00"),
        ),
        // Durations are elapsed time: one real hour back across the fold.
        (
            past_hour.clone(),
            "2024-11-03 06:30:00",
            window("2024-11-03 05:30:00", "2024-11-03 06:30:00"),
        ),
        (
            past_hour,
            "2024-03-10 07:30:00",
            window("2024-03-10 06:30:00", "2024-03-10 07:30:00"),
        ),
        (Period::Never, "2024-03-10 07:30:00", None),
    ];
    for (period, now, expected) in cases {
        assert_eq!(
            period.rollback_in(tz, utc(now)),
            expected,
            "{period} at {now}"
        );
    }
    // Membership follows the wall clock: true in both passes of the repeated hour.
    let membership = day("01:00", "01:45");
    for now in ["2024-11-03 05:30:00", "2024-11-03 06:30:00"] {
        assert!(membership.contains(to_local(tz, utc(now))), "{now}");
    }
    let next = Period::Anchored(
        AnchoredPeriod::new(Unit::Day, Some("02:30"), Some("04:00")).expect("valid"),
    );
    assert_eq!(
        next.rollforward_in(tz, utc("2024-03-10 05:00:00")),
        window("2024-03-10 07:00:00", "2024-03-10 08:00:00")
    );
}

#[test]
fn extremes_saturate() {
    for tz in ZONES {
        assert_eq!(
            to_instant(tz, NaiveDateTime::MIN, Side::Start),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(
            to_instant(tz, NaiveDateTime::MAX, Side::End),
            DateTime::<Utc>::MAX_UTC
        );
        // Local times at the ends of the range never panic.
        let _ = (
            to_local(tz, DateTime::<Utc>::MIN_UTC),
            to_local(tz, DateTime::<Utc>::MAX_UTC),
        );
    }
}

/// The transition instant between `lo` (old offset) and `hi` (new offset), found
/// by bisection over whole seconds.
fn transition(tz: Tz, mut lo: i64, mut hi: i64) -> DateTime<Utc> {
    let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).expect("in range");
    let before = offset_at(tz, at(lo));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_at(tz, at(mid)) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(hi)
}

#[test]
fn every_transition_follows_the_policy() {
    let mut gaps = 0;
    let mut folds = 0;
    for tz in ZONES {
        let start = utc("1990-01-01 00:00:00").timestamp();
        let end = utc("2041-01-01 00:00:00").timestamp();
        let step = 6 * 3600;
        let mut s = start;
        while s < end {
            let (a, b) = (
                DateTime::<Utc>::from_timestamp(s, 0),
                DateTime::<Utc>::from_timestamp(s + step, 0),
            );
            let (Some(a), Some(b)) = (a, b) else { break };
            let (before, after) = (offset_at(tz, a), offset_at(tz, b));
            if before != after {
                let t = transition(tz, s, s + step);
                check_transition(tz, t, before, after);
                if before < after {
                    gaps += 1;
                } else {
                    folds += 1;
                }
            }
            s += step;
        }
    }
    // Most of these zones observe daylight saving for most of the range.
    assert!(gaps > 500 && folds > 500, "gaps {gaps}, folds {folds}");
}

/// At transition `t` from offset `before` to `after` (seconds east of UTC).
fn check_transition(tz: Tz, t: DateTime<Utc>, before: i64, after: i64) {
    let local_of =
        |instant: DateTime<Utc>, offset: i64| instant.naive_utc() + TimeDelta::seconds(offset);
    // Local times just around the transition map as plain times.
    let last_before = t - nanos(1);
    assert_eq!(to_local(tz, last_before), local_of(last_before, before));
    assert_eq!(to_local(tz, t), local_of(t, after));
    let shift = TimeDelta::seconds((after - before).abs());
    // The days before, of and after the transition tile time.
    let day = to_local(tz, t);
    for days in -1..=1 {
        check_days(tz, day + TimeDelta::days(days));
    }
    if before < after {
        // A gap: local [t + before, t + after) is skipped and maps to `t`.
        let first = local_of(t, before);
        for local in [first, first + shift / 2, first + shift - nanos(1)] {
            for side in [Side::Start, Side::End] {
                assert_eq!(to_instant(tz, local, side), t, "{tz} gap {local} {side:?}");
            }
        }
        assert_eq!(
            to_instant(tz, first - nanos(1), Side::End),
            last_before,
            "{tz} {first}"
        );
        assert_eq!(
            to_instant(tz, first + shift, Side::Start),
            t,
            "{tz} {first}"
        );
    } else {
        // A fold: local [t + after, t + before) happens twice.
        let first = local_of(t, after);
        for local in [first, first + shift / 2, first + shift - nanos(1)] {
            let early = to_instant(tz, local, Side::Start);
            let late = to_instant(tz, local, Side::End);
            assert_eq!(late - early, shift, "{tz} fold {local}");
            assert_eq!(to_local(tz, early), local);
            assert_eq!(to_local(tz, late), local);
            assert!(early < t && late >= t, "{tz} fold {local}");
        }
    }
}

/// The `daily` window of the local day of `local` in zone `tz`, as instants:
/// rolled back and forward from that day's noon (never inside a transition).
fn day_window(tz: Tz, local: NaiveDateTime) -> (DateTime<Utc>, DateTime<Utc>) {
    let daily = AnchoredPeriod::whole(Unit::Day);
    let noon = to_instant(
        tz,
        local.date().and_hms_opt(12, 0, 0).expect("noon"),
        Side::Start,
    );
    (
        daily.rollback_in(tz, noon).start,
        daily.rollforward_in(tz, noon).end,
    )
}

/// The `daily` windows of the local day of `local` and the next day: consecutive
/// days cover every instant exactly once, and a day lasts 24 hours except around
/// a transition.
fn check_days(tz: Tz, local: NaiveDateTime) {
    let (start, end) = day_window(tz, local);
    let (next_start, next_end) = day_window(tz, local + TimeDelta::days(1));
    assert_eq!(end + nanos(1), next_start, "{tz} {local}");
    assert!(start < end && next_start < next_end, "{tz} {local}");
    // The window starts and ends on the local day of `local`.
    assert_eq!(to_local(tz, start).date(), local.date(), "{tz} {local}");
    assert_eq!(to_local(tz, end).date(), local.date(), "{tz} {local}");
    // A day lasts its local length (shorter when its midnight was skipped) minus
    // the change of offset during it: 23 or 25 hours on the usual DST days, 23.5 or
    // 24.5 at Lord Howe, 22 or 26 at Troll.
    let length = (end - start) + nanos(1);
    let local_length = (to_local(tz, end) - to_local(tz, start)) + nanos(1);
    let change = offset_at(tz, end) - offset_at(tz, start);
    assert_eq!(
        length,
        local_length - TimeDelta::seconds(change),
        "{tz} {local}"
    );
    let minutes = length.num_minutes();
    let plausible = [
        22 * 60,
        23 * 60,
        23 * 60 + 30,
        24 * 60,
        24 * 60 + 30,
        25 * 60,
        26 * 60,
    ];
    assert!(
        plausible.contains(&minutes),
        "{tz} {local}: a day of {minutes} minutes"
    );
    // Without a transition from just before the day to the next day's start, the
    // day has 24 hours.
    if offset_at(tz, start - nanos(1)) == offset_at(tz, next_start) {
        assert_eq!(length, TimeDelta::hours(24), "{tz} {local}");
    }
}

fn local_time() -> impl Strategy<Value = (usize, NaiveDateTime)> {
    (
        0..ZONES.len(),
        1990_i32..=2040,
        1_u32..=365,
        0_u32..86_400,
        0_u32..1_000_000_000,
    )
        .prop_map(|(zone, year, day, secs, nanos)| {
            let date = NaiveDate::from_yo_opt(year, day).expect("day 1-365 exists");
            let time =
                chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).expect("valid");
            (zone, date.and_time(time))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn conversions_round_trip((zone, local) in local_time()) {
        let tz = ZONES[zone];
        let start = to_instant(tz, local, Side::Start);
        let end = to_instant(tz, local, Side::End);
        prop_assert!(start <= end);
        match tz.from_local_datetime(&local) {
            LocalResult::Single(at) => {
                prop_assert_eq!(start, at.to_utc());
                prop_assert_eq!(start, end);
                prop_assert_eq!(to_local(tz, start), local);
            }
            LocalResult::Ambiguous(..) => {
                prop_assert!(start < end);
                prop_assert_eq!(to_local(tz, start), local);
                prop_assert_eq!(to_local(tz, end), local);
            }
            LocalResult::None => {
                // The first instant after the gap.
                prop_assert_eq!(start, end);
                prop_assert!(to_local(tz, start) > local);
                prop_assert!(to_local(tz, start - nanos(1)) < local);
            }
        }
    }

    #[test]
    fn day_windows_tile_time((zone, local) in local_time()) {
        check_days(ZONES[zone], local);
    }
}
