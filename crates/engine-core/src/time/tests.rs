//! Unit tests of the time module: literal, duration and period-string tables, month
//! ends, rendering round trips; the vector file and daylight saving have their own
//! files.

mod dst;
mod vectors;

use chrono::{NaiveDateTime, TimeDelta};

use super::*;
use crate::ErrorKind;

/// A local time from `YYYY-MM-DD HH:MM:SS[.f]`.
pub(super) fn dt(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("bad test time {text:?}: {e}"))
}

const MS: Nanos = 1_000_000;

/// One literal case: the unit, the text, the side, and the offset or a fragment
/// of the error message.
type LiteralCase = (Unit, &'static str, Side, Result<Nanos, &'static str>);

fn check_literals(cases: &[LiteralCase]) {
    for (unit, text, side, expected) in cases {
        let got = parse_literal(*unit, text, *side);
        match (expected, &got) {
            (Ok(want), Ok(have)) => assert_eq!(have, want, "{unit:?} {text:?} {side:?}"),
            (Err(fragment), Err(error)) => {
                assert_eq!(error.kind(), ErrorKind::InvalidTime, "{text:?}");
                assert!(
                    error.message().contains(fragment),
                    "{unit:?} {text:?}: message {:?} lacks {fragment:?}",
                    error.message()
                );
            }
            _ => panic!("{unit:?} {text:?} {side:?}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn literals_of_day() {
    use Side::{End, Start};
    use Unit::Day;
    check_literals(&[
        (Day, "10:00", Start, Ok(10 * HOUR)),
        (Day, "9:00", Start, Ok(9 * HOUR)),
        (Day, "09:05", End, Ok(9 * HOUR + 5 * MINUTE)),
        (Day, "00:00", Start, Ok(0)),
        (Day, "23:59:59", End, Ok(DAY - SECOND)),
        (Day, "10:00:30", Start, Ok(10 * HOUR + 30 * SECOND)),
        (
            Day,
            "10:00:30.5",
            Start,
            Ok(10 * HOUR + 30 * SECOND + 500 * MS),
        ),
        (
            Day,
            "10:00:30.123456789",
            Start,
            Ok(10 * HOUR + 30 * SECOND + 123_456_789),
        ),
        (Day, "  10:00  ", Start, Ok(10 * HOUR)),
        (Day, "10am", Start, Ok(10 * HOUR)),
        (Day, "10 AM", Start, Ok(10 * HOUR)),
        (Day, "10pm", Start, Ok(22 * HOUR)),
        (Day, "12am", Start, Ok(0)),
        (Day, "12pm", Start, Ok(12 * HOUR)),
        (Day, "10:30 pm", Start, Ok(22 * HOUR + 30 * MINUTE)),
        (
            Day,
            "10:30:15 PM",
            Start,
            Ok(22 * HOUR + 30 * MINUTE + 15 * SECOND),
        ),
        (Day, "10h", Start, Ok(10 * HOUR)),
        (Day, "0h", Start, Ok(0)),
        (Day, "10", Start, Err("expected a time of day like 10:00")),
        (Day, "09", Start, Err("found '09'")),
        (Day, "1030", Start, Err("time of day")),
        (Day, "10.30", Start, Err("time of day")),
        (Day, "Monday", Start, Err("found 'Monday'")),
        (Day, "Mon", Start, Err("time of day")),
        (Day, "24:00", Start, Err("found '24:00'")),
        (Day, "25:00", Start, Err("found '25:00'")),
        (Day, "10:60", Start, Err("time of day")),
        (Day, "10:0", Start, Err("time of day")),
        (Day, "1:2:3", Start, Err("time of day")),
        (Day, "10:00:60", Start, Err("time of day")),
        (Day, "10:00:30.1234567891", Start, Err("time of day")),
        (Day, "10:00:30.", Start, Err("time of day")),
        (Day, "13pm", Start, Err("time of day")),
        (Day, "0am", Start, Err("time of day")),
        (Day, "24h", Start, Err("time of day")),
        (Day, "noon", Start, Err("time of day")),
        (Day, "10:00 UTC", Start, Err("time of day")),
        (Day, "T10:00", Start, Err("time of day")),
        (Day, "", Start, Err("found ''")),
        (Day, "١٠:٠٠", Start, Err("time of day")),
        (Day, "10:0é", Start, Err("time of day")),
    ]);
}

#[test]
fn literals_of_hour_and_minute() {
    use Side::{End, Start};
    use Unit::{Hour, Minute};
    check_literals(&[
        (Hour, "15:00", Start, Ok(15 * MINUTE)),
        (Hour, "45:00", End, Ok(45 * MINUTE)),
        (Hour, "59:59", End, Ok(HOUR - SECOND)),
        (Hour, "00:30.25", Start, Ok(30 * SECOND + 250 * MS)),
        (Hour, "1 quarter", Start, Ok(15 * MINUTE)),
        (Hour, "3 Quarter", End, Ok(45 * MINUTE)),
        (Hour, "2 q", Start, Ok(30 * MINUTE)),
        (Hour, "2Q", Start, Ok(30 * MINUTE)),
        (Hour, "4 quarter", End, Ok(0)),
        (Hour, "0 quarter", Start, Err("quarter")),
        (Hour, "5 quarter", Start, Err("quarter")),
        (Hour, "60:00", Start, Err("minutes and seconds like 15:00")),
        (Hour, "5:00", Start, Err("found '5:00'")),
        (Hour, "15", Start, Err("minutes and seconds")),
        (Hour, "15:00:00", Start, Err("minutes and seconds")),
        (Hour, "quarter", Start, Err("minutes and seconds")),
        (Minute, "15", Start, Ok(15 * SECOND)),
        (Minute, "00", Start, Ok(0)),
        (Minute, "59", End, Ok(59 * SECOND)),
        (Minute, "30.5", Start, Ok(30 * SECOND + 500 * MS)),
        (Minute, "30.000000001", Start, Ok(30 * SECOND + 1)),
        (
            Minute,
            "5",
            Start,
            Err("expected seconds like 15 or 15.5, found '5'"),
        ),
        (Minute, "60", Start, Err("seconds")),
        (Minute, "99", Start, Err("seconds")),
        (Minute, "15:00", Start, Err("seconds")),
        (Minute, "1 quarter", Start, Err("seconds")),
    ]);
}

#[test]
fn literals_of_week_and_month() {
    use Side::{End, Start};
    use Unit::{Month, Week};
    check_literals(&[
        (Week, "Mon", Start, Ok(0)),
        (Week, "Mon", End, Ok(DAY - 1)),
        (Week, "Tue", Start, Ok(DAY)),
        (Week, "Tue", End, Ok(2 * DAY - 1)),
        (Week, "Tuesday", End, Ok(2 * DAY - 1)),
        (Week, "Sunday", End, Ok(7 * DAY - 1)),
        (Week, "Tue 10:00", Start, Ok(DAY + 10 * HOUR)),
        (Week, "Tue 10:00", End, Ok(DAY + 10 * HOUR)),
        (
            Week,
            "Tuesday 10:00:30",
            Start,
            Ok(DAY + 10 * HOUR + 30 * SECOND),
        ),
        (Week, "Mon10:00", Start, Ok(10 * HOUR)),
        (Week, "Sat 10pm", Start, Ok(5 * DAY + 22 * HOUR)),
        (Week, "Sun 23:59:59.999999000", End, Ok(7 * DAY - 1000)),
        (Week, " Fri ", End, Ok(5 * DAY - 1)),
        (
            Week,
            "monday",
            Start,
            Err("expected a day of the week like Mon"),
        ),
        (Week, "MON", Start, Err("day of the week")),
        (Week, "Mo", Start, Err("day of the week")),
        (Week, "10:00", Start, Err("day of the week")),
        (Week, "Tues", Start, Err("found 's'")),
        (
            Week,
            "Mon 25:00",
            Start,
            Err("in 'Mon 25:00', found '25:00'"),
        ),
        (Week, "Mon ", Start, Ok(0)),
        (Month, "1st", Start, Ok(0)),
        (Month, "2nd", Start, Ok(DAY)),
        (Month, "3rd", End, Ok(3 * DAY - 1)),
        (Month, "4th", End, Ok(4 * DAY - 1)),
        (Month, "1th", Start, Ok(0)),
        (Month, "15", Start, Ok(14 * DAY)),
        (Month, "2.", Start, Ok(DAY)),
        (Month, "3.", End, Ok(3 * DAY - 1)),
        (Month, "5TH", Start, Ok(4 * DAY)),
        (Month, "05th", Start, Ok(4 * DAY)),
        (Month, "31st", End, Ok(31 * DAY - 1)),
        (
            Month,
            "5th 12:30:00",
            End,
            Ok(4 * DAY + 12 * HOUR + 30 * MINUTE),
        ),
        (Month, "5th10:00", Start, Ok(4 * DAY + 10 * HOUR)),
        (Month, "5 10:00", Start, Ok(4 * DAY + 10 * HOUR)),
        (
            Month,
            "0th",
            Start,
            Err("expected a day of the month like 1st"),
        ),
        (Month, "32nd", Start, Err("day of the month")),
        (Month, "first", Start, Err("day of the month")),
        (Month, "5th 10", Start, Err("found '10'")),
        (Month, "5x", Start, Err("found 'x'")),
        (Month, "", End, Err("day of the month")),
    ]);
}

#[test]
fn constructors() {
    // (period, start offset, end offset)
    let cases: Vec<(Result<AnchoredPeriod, crate::Error>, Nanos, Nanos)> = vec![
        (AnchoredPeriod::new(Unit::Day, None, None), 0, DAY - 1),
        (
            AnchoredPeriod::new(Unit::Month, None, None),
            0,
            31 * DAY - 1,
        ),
        (
            AnchoredPeriod::new(Unit::Week, Some("Sat"), Some("Sun")),
            5 * DAY,
            7 * DAY - 1,
        ),
        (
            AnchoredPeriod::new(Unit::Hour, None, Some("45:00")),
            0,
            45 * MINUTE,
        ),
        (
            AnchoredPeriod::on(Unit::Minute, "30"),
            30 * SECOND,
            31 * SECOND - 1,
        ),
        (
            AnchoredPeriod::on(Unit::Hour, "10:00"),
            10 * MINUTE,
            11 * MINUTE - 1,
        ),
        (
            AnchoredPeriod::on(Unit::Day, "10:00"),
            10 * HOUR,
            11 * HOUR - 1,
        ),
        (AnchoredPeriod::on(Unit::Week, "Tue"), DAY, 2 * DAY - 1),
        (
            AnchoredPeriod::on(Unit::Week, "Tue 10:00"),
            DAY + 10 * HOUR,
            2 * DAY + 10 * HOUR - 1,
        ),
        (AnchoredPeriod::on(Unit::Month, "5th"), 4 * DAY, 5 * DAY - 1),
        // An `on` end past the cycle wraps into the next one.
        (
            AnchoredPeriod::on(Unit::Day, "23:30"),
            23 * HOUR + 30 * MINUTE,
            30 * MINUTE - 1,
        ),
        (
            AnchoredPeriod::on(Unit::Week, "Sun 10:00"),
            6 * DAY + 10 * HOUR,
            10 * HOUR - 1,
        ),
        (
            AnchoredPeriod::on(Unit::Minute, "59.5"),
            59 * SECOND + 500 * MS,
            500 * MS - 1,
        ),
        // `starting` is always a full cycle, also for day-only literals (QUIRK-T4).
        (
            AnchoredPeriod::starting(Unit::Day, "10:00"),
            10 * HOUR,
            10 * HOUR,
        ),
        (AnchoredPeriod::starting(Unit::Week, "Tuesday"), DAY, DAY),
        (
            AnchoredPeriod::starting(Unit::Month, "3rd"),
            2 * DAY,
            2 * DAY,
        ),
        (
            AnchoredPeriod::starting(Unit::Hour, "15:00"),
            15 * MINUTE,
            15 * MINUTE,
        ),
    ];
    for (period, start, end) in cases {
        let period = period.expect("valid period");
        assert_eq!(
            (period.start_ns(), period.end_ns()),
            (start, end),
            "{period:?}"
        );
    }
    assert!(AnchoredPeriod::on(Unit::Day, "25:00").is_err());
    assert!(AnchoredPeriod::starting(Unit::Week, "tue").is_err());
    assert!(AnchoredPeriod::new(Unit::Day, Some("10:00"), Some("12")).is_err());
    assert_eq!(
        AnchoredPeriod::whole(Unit::Week),
        AnchoredPeriod::from_offsets(Unit::Week, 0, 7 * DAY - 1)
    );
    let clamped = AnchoredPeriod::from_offsets(Unit::Day, -5, 2 * DAY);
    assert_eq!((clamped.start_ns(), clamped.end_ns()), (0, DAY - 1));
}

/// One rolling case: the period, the instant, and the expected (rollback,
/// rollforward) intervals as `[start, end]` texts.
type RollCase = (
    AnchoredPeriod,
    &'static str,
    [&'static str; 2],
    [&'static str; 2],
);

fn check_rolls(cases: &[RollCase]) {
    for (period, at, back, forward) in cases {
        let at = dt(at);
        let interval = |[start, end]: &[&str; 2]| Interval {
            start: dt(start),
            end: dt(end),
        };
        assert_eq!(
            period.rollback(at),
            interval(back),
            "rollback {period:?} at {at}"
        );
        assert_eq!(
            period.rollforward(at),
            interval(forward),
            "rollforward {period:?} at {at}"
        );
        // Inside exactly when the windows reach `at`.
        let inside = period.rollback(at).end == at;
        assert_eq!(period.contains(at), inside, "contains {period:?} at {at}");
    }
}

fn period(unit: Unit, start: Option<&str>, end: Option<&str>) -> AnchoredPeriod {
    AnchoredPeriod::new(unit, start, end).expect("valid period")
}

#[test]
fn month_ends_are_clamped() {
    let after_5th = period(Unit::Month, Some("5th"), None);
    let on_31st = AnchoredPeriod::on(Unit::Month, "31st").expect("valid");
    let from_30th = period(Unit::Month, Some("30th"), Some("31st"));
    let starting_31st = AnchoredPeriod::starting(Unit::Month, "31st").expect("valid");
    check_rolls(&[
        // The open end is the real last day of the month, never the next month.
        (
            after_5th,
            "2024-02-29 12:00:00",
            ["2024-02-05 00:00:00", "2024-02-29 12:00:00"],
            ["2024-02-29 12:00:00", "2024-02-29 23:59:59.999999999"],
        ),
        (
            after_5th,
            "2024-05-04 12:00:00",
            ["2024-04-05 00:00:00", "2024-04-30 23:59:59.999999999"],
            ["2024-05-05 00:00:00", "2024-05-31 23:59:59.999999999"],
        ),
        (
            after_5th,
            "2023-03-01 00:00:00",
            ["2023-02-05 00:00:00", "2023-02-28 23:59:59.999999999"],
            ["2023-03-05 00:00:00", "2023-03-31 23:59:59.999999999"],
        ),
        // A month without the day has no occurrence: roll to the next month with it.
        (
            on_31st,
            "2024-04-15 00:00:00",
            ["2024-03-31 00:00:00", "2024-03-31 23:59:59.999999999"],
            ["2024-05-31 00:00:00", "2024-05-31 23:59:59.999999999"],
        ),
        (
            from_30th,
            "2023-02-15 00:00:00",
            ["2023-01-30 00:00:00", "2023-01-31 23:59:59.999999999"],
            ["2023-03-30 00:00:00", "2023-03-31 23:59:59.999999999"],
        ),
        (
            from_30th,
            "2024-04-30 10:00:00",
            ["2024-04-30 00:00:00", "2024-04-30 10:00:00"],
            ["2024-04-30 10:00:00", "2024-04-30 23:59:59.999999999"],
        ),
        // A full cycle whose boundary day is missing starts on the next 1st.
        (
            starting_31st,
            "2024-04-15 00:00:00",
            ["2024-03-31 00:00:00", "2024-04-15 00:00:00"],
            ["2024-04-15 00:00:00", "2024-05-01 00:00:00"],
        ),
        (
            starting_31st,
            "2024-05-01 00:00:00",
            ["2024-03-31 00:00:00", "2024-05-01 00:00:00"],
            ["2024-05-01 00:00:00", "2024-05-31 00:00:00"],
        ),
    ]);
}

#[test]
fn full_cycles_and_wraps() {
    let starting_10 = AnchoredPeriod::starting(Unit::Day, "10:00").expect("valid");
    let weekly_tue = AnchoredPeriod::starting(Unit::Week, "Tue").expect("valid");
    let on_2330 = AnchoredPeriod::on(Unit::Day, "23:30").expect("valid");
    let hourly_quarters = period(Unit::Hour, Some("3 quarter"), Some("4 quarter"));
    check_rolls(&[
        (
            starting_10,
            "2024-01-10 10:00:00",
            ["2024-01-09 10:00:00", "2024-01-10 10:00:00"],
            ["2024-01-10 10:00:00", "2024-01-11 10:00:00"],
        ),
        (
            starting_10,
            "2024-01-10 10:00:00.000000001",
            ["2024-01-10 10:00:00", "2024-01-10 10:00:00.000000001"],
            ["2024-01-10 10:00:00.000000001", "2024-01-11 10:00:00"],
        ),
        // `weekly starting Tue` is a whole week from Tuesday, not only Tuesdays.
        (
            weekly_tue,
            "2024-01-08 12:00:00",
            ["2024-01-02 00:00:00", "2024-01-08 12:00:00"],
            ["2024-01-08 12:00:00", "2024-01-09 00:00:00"],
        ),
        (
            on_2330,
            "2024-01-01 00:15:00",
            ["2023-12-31 23:30:00", "2024-01-01 00:15:00"],
            ["2024-01-01 00:15:00", "2024-01-01 00:29:59.999999999"],
        ),
        (
            hourly_quarters,
            "2024-01-01 10:50:00",
            ["2024-01-01 10:45:00", "2024-01-01 10:50:00"],
            ["2024-01-01 10:50:00", "2024-01-01 11:00:00"],
        ),
    ]);
    assert!(weekly_tue.is_full_cycle());
}

#[test]
fn next_change() {
    // (period, at, next change)
    let cases = [
        (
            period(Unit::Day, Some("10:00"), Some("12:00")),
            "2024-01-01 09:00:00",
            "2024-01-01 10:00:00",
        ),
        (
            period(Unit::Day, Some("10:00"), Some("12:00")),
            "2024-01-01 10:00:00",
            "2024-01-01 12:00:00.000000001",
        ),
        (
            period(Unit::Day, Some("10:00"), Some("12:00")),
            "2024-01-01 13:00:00",
            "2024-01-02 10:00:00",
        ),
        (
            AnchoredPeriod::whole(Unit::Day),
            "2024-01-01 13:00:00",
            "2024-01-02 00:00:00",
        ),
        (
            AnchoredPeriod::starting(Unit::Day, "10:00").expect("valid"),
            "2024-01-01 10:00:00",
            "2024-01-01 10:00:00.000000001",
        ),
        (
            AnchoredPeriod::starting(Unit::Day, "10:00").expect("valid"),
            "2024-01-01 10:00:00.000000001",
            "2024-01-02 10:00:00.000000001",
        ),
        (
            AnchoredPeriod::whole(Unit::Month),
            "2024-02-10 00:00:00",
            "2024-03-01 00:00:00",
        ),
    ];
    for (period, at, next) in cases {
        assert_eq!(period.next_change(dt(at)), dt(next), "{period:?} at {at}");
    }
}

#[test]
fn extremes_do_not_panic() {
    let periods = [
        AnchoredPeriod::whole(Unit::Month),
        AnchoredPeriod::starting(Unit::Week, "Sun 23:00").expect("valid"),
        period(Unit::Day, Some("22:00"), Some("02:00")),
    ];
    for period in periods {
        for at in [MIN_TIME, MAX_TIME] {
            let back = period.rollback(at);
            let forward = period.rollforward(at);
            assert!(
                back.start <= back.end && forward.start <= forward.end,
                "{period:?} {at}"
            );
            let _ = (period.contains(at), period.next_change(at));
        }
    }
}

/// One duration case: the text and the duration in nanoseconds or a fragment of
/// the error message.
fn check_durations(cases: &[(&str, Result<i64, &str>)]) {
    for (text, expected) in cases {
        let got = parse_duration(text);
        match (expected, &got) {
            (Ok(want), Ok(have)) => {
                assert_eq!(have.num_nanoseconds(), Some(*want), "{text:?}");
            }
            (Err(fragment), Err(error)) => {
                assert_eq!(error.kind(), ErrorKind::InvalidDuration, "{text:?}");
                assert!(
                    error.message().contains(fragment),
                    "{text:?}: message {:?} lacks {fragment:?}",
                    error.message()
                );
            }
            _ => panic!("{text:?}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn duration_units() {
    let spellings: [(&[&str], i64); 8] = [
        (&["w", "W", "week", "weeks", "Weeks"], 7 * DAY),
        (&["d", "D", "day", "days", "DAYS"], DAY),
        (&["h", "H", "hr", "hour", "hours", "Hours"], HOUR),
        (
            &["m", "t", "T", "min", "mins", "minute", "minutes", "MIN"],
            MINUTE,
        ),
        (&["s", "S", "sec", "secs", "second", "seconds"], SECOND),
        (
            &[
                "ms",
                "l",
                "milli",
                "millis",
                "millisecond",
                "milliseconds",
                "MS",
            ],
            1_000_000,
        ),
        (
            &[
                "us",
                "µs",
                "μs",
                "u",
                "micro",
                "micros",
                "microsecond",
                "microseconds",
            ],
            1_000,
        ),
        (
            &[
                "ns",
                "n",
                "nano",
                "nanos",
                "nanosecond",
                "nanoseconds",
                "NS",
            ],
            1,
        ),
    ];
    for (words, nanos) in spellings {
        for word in words {
            check_durations(&[
                (&format!("3 {word}"), Ok(3 * nanos)),
                (&format!("3{word}"), Ok(3 * nanos)),
            ]);
        }
    }
}

#[test]
fn duration_forms() {
    check_durations(&[
        (
            "1 day 10 hours 5 minutes 10 seconds",
            Ok(DAY + 10 * HOUR + 5 * MINUTE + 10 * SECOND),
        ),
        (
            "1 day, 12 hour, 30 min, 20 sec",
            Ok(DAY + 12 * HOUR + 30 * MINUTE + 20 * SECOND),
        ),
        ("2 hours, 30 minutes", Ok(150 * MINUTE)),
        ("1 hour,30 min", Ok(90 * MINUTE)),
        ("1 hour , 30 min", Ok(90 * MINUTE)),
        ("1h30m", Ok(90 * MINUTE)),
        ("1h 30m", Ok(90 * MINUTE)),
        ("10minutes", Ok(10 * MINUTE)),
        ("10 minutes 10 minutes", Ok(20 * MINUTE)),
        ("1.5 hours", Ok(90 * MINUTE)),
        ("0.5h", Ok(30 * MINUTE)),
        (".5h", Ok(30 * MINUTE)),
        ("1.5ns", Ok(1)),
        ("0.1234567891234567891234 s", Ok(123_456_789)),
        ("02:00:00", Ok(2 * HOUR)),
        ("2:00:00", Ok(2 * HOUR)),
        ("1:20:30", Ok(HOUR + 20 * MINUTE + 30 * SECOND)),
        ("10:20:30", Ok(10 * HOUR + 20 * MINUTE + 30 * SECOND)),
        ("100:00:00", Ok(100 * HOUR)),
        ("1 day 02:00:00", Ok(26 * HOUR)),
        ("2 days 00:00:00.5", Ok(2 * DAY + 500 * MS)),
        ("00:00:00.000000001", Ok(1)),
        ("P1DT2H", Ok(26 * HOUR)),
        ("PT10M", Ok(10 * MINUTE)),
        ("P2W", Ok(14 * DAY)),
        ("PT1.5S", Ok(1500 * MS)),
        ("pt1h30m", Ok(90 * MINUTE)),
        (
            "P1W2DT3H4M5S",
            Ok(9 * DAY + 3 * HOUR + 4 * MINUTE + 5 * SECOND),
        ),
        ("-1 hour", Ok(HOUR)),
        ("+1 hour", Ok(HOUR)),
        ("- 2h", Ok(2 * HOUR)),
        ("-PT10M", Ok(10 * MINUTE)),
        ("  10 minutes  ", Ok(10 * MINUTE)),
        ("0 seconds", Ok(0)),
        ("10", Err("missing unit after '10'")),
        ("1 day 10", Err("missing unit after '10'")),
        ("10.5", Err("missing unit")),
        ("", Err("expected a duration")),
        ("   ", Err("expected a duration")),
        ("-", Err("expected a duration")),
        ("minutes", Err("found 'minutes'")),
        ("1 month", Err("unknown duration unit 'month'")),
        ("1 year", Err("unknown duration unit 'year'")),
        ("1y", Err("unknown duration unit 'y'")),
        ("1M", Err("unknown duration unit 'M'")),
        ("1 fortnight", Err("unknown duration unit")),
        ("1 day and 2 hours", Err("found 'and'")),
        ("1 day, and 2 hours", Err("found 'and'")),
        ("1 hour,", Err("found ','")),
        ("10:00", Err("expected a clock duration like 02:00:00")),
        ("10:60:00", Err("clock duration")),
        ("1:2:3", Err("clock duration")),
        ("01:00:00 02:00:00", Err("clock duration")),
        ("1.5:00:00", Err("clock duration")),
        ("00:00:00.1234567890", Err("clock duration")),
        ("P", Err("ISO 8601")),
        ("PT", Err("ISO 8601")),
        ("P1Y", Err("years and months")),
        ("P1M", Err("years and months")),
        ("P1H", Err("ISO 8601")),
        ("PT1D", Err("ISO 8601")),
        ("PT1S2M", Err("ISO 8601")),
        ("P1D2D", Err("ISO 8601")),
        ("P1DT", Err("ISO 8601")),
        ("PT10", Err("ISO 8601")),
        ("300 years", Err("unknown duration unit")),
        ("20000 weeks", Err("too long")),
        (
            "99999999999999999999999999999999999999999 days",
            Err("too long"),
        ),
        ("10 µ", Err("unknown duration unit 'µ'")),
    ]);
}

#[test]
fn duration_rendering() {
    let cases = [
        (TimeDelta::zero(), "0 days 00:00:00"),
        (TimeDelta::minutes(10), "0 days 00:10:00"),
        (TimeDelta::days(2), "2 days 00:00:00"),
        (
            TimeDelta::hours(26) + TimeDelta::seconds(5),
            "1 days 02:00:05",
        ),
        (TimeDelta::microseconds(1_500_000), "0 days 00:00:01.500000"),
        (TimeDelta::nanoseconds(1), "0 days 00:00:00.000000001"),
        (TimeDelta::hours(-1), "-1 days +23:00:00"),
        (TimeDelta::hours(-25), "-2 days +23:00:00"),
    ];
    for (duration, text) in cases {
        assert_eq!(format_duration(duration), text);
        // The rendering of a non-negative duration is itself a valid duration.
        if duration >= TimeDelta::zero() {
            assert_eq!(parse_duration(text).ok(), Some(duration), "{text}");
        }
    }
}

/// One period-string case: the text, and its canonical rendering or a fragment
/// of the error message with the expected error span.
type PeriodCase = (
    &'static str,
    Result<&'static str, (&'static str, std::ops::Range<usize>)>,
);

#[test]
fn period_strings() {
    let cases: [PeriodCase; 24] = [
        (
            "time of day between 10:00 and 12:00",
            Ok("time of day between 10:00 and 12:00"),
        ),
        ("time of day after 22:00", Ok("time of day after 22:00")),
        ("time of day before 02:00", Ok("time of day before 02:00")),
        (
            "time of minute between 15 and 30",
            Ok("time of minute between 15 and 30"),
        ),
        (
            "time of hour between 15:00 and 30:00",
            Ok("time of hour between 15:00 and 30:00"),
        ),
        ("time of week on Monday", Ok("time of week before Mon")),
        (
            "time of week between Mon and Fri",
            Ok("time of week before Fri"),
        ),
        (
            "time of month between 1st and 2nd",
            Ok("time of month before 2nd"),
        ),
        (
            "time of month on 5th 10:00",
            Ok("time of month between 5th 10:00 and 6th 09:59:59.999999999"),
        ),
        (
            "time of year between Jan and Feb",
            Ok("time of year before Feb"),
        ),
        (
            "time of year after Mar 5th 10:00",
            Ok("time of year after Mar 5th 10:00"),
        ),
        ("every 10 seconds", Ok("past 0 days 00:00:10")),
        ("past 2 hours, 30 minutes", Ok("past 0 days 02:30:00")),
        ("always", Ok("always")),
        ("never", Ok("never")),
        (
            " (time of day after 08:00 | always) & (never) & past 1h ",
            Ok("(time of day after 08:00 | always) & never & past 0 days 01:00:00"),
        ),
        (
            "(always & never) & (always | never) | never",
            Ok("always & never & (always | never) | never"),
        ),
        (
            "time of day between 10:00 and 25:00",
            Err(("found '25:00'", 30..35)),
        ),
        (
            "always & time of week on monday",
            Err(("day of the week", 25..31)),
        ),
        (
            "time of day on 10:00",
            Err(("only for week and month", 12..20)),
        ),
        ("every 10", Err(("missing unit", 6..8))),
        ("always &", Err(("after the operator", 8..8))),
        ("~always", Err(("'~'", 0..1))),
        ("(always", Err(("unclosed", 0..1))),
    ];
    for (text, expected) in cases {
        match (parse_period(text), expected.clone()) {
            (Ok(period), Ok(canonical)) => {
                assert_eq!(period.to_string(), canonical, "{text:?}");
                assert_eq!(
                    parse_period(canonical).ok(),
                    Some(period),
                    "{canonical:?} reads back"
                );
            }
            (Err(error), Err((fragment, span))) => {
                assert!(error.message().contains(fragment), "{text:?}: {error}");
                assert_eq!(error.span(), Some(span), "{text:?}: {error}");
            }
            (got, _) => panic!("{text:?}: expected {expected:?}, got {got:?}"),
        }
    }
    for bad in [
        "",
        "   ",
        "sometimes",
        "time of day",
        "time of decade after 10:00",
        "always always",
        "always )",
        "() ",
    ] {
        assert!(parse_period(bad).is_err(), "{bad:?}");
    }
    let deep = format!("{}always{}", "(".repeat(100), ")".repeat(100));
    assert!(parse_period(&deep).is_err());
}

#[test]
fn period_combinations() {
    let day = |s: &str, e: &str| Period::Anchored(period(Unit::Day, Some(s), Some(e)));
    let all = Period::All(vec![
        day("08:00", "18:00"),
        day("10:00", "14:00"),
        day("12:00", "16:00"),
    ]);
    let any = Period::Any(vec![day("08:00", "10:00"), day("14:00", "16:00")]);
    let disjoint = Period::All(vec![day("08:00", "10:00"), day("12:00", "14:00")]);
    let weekday_mornings = Period::All(vec![
        day("08:00", "10:00"),
        Period::Anchored(period(Unit::Week, Some("Mon"), Some("Fri"))),
    ]);
    let interval = |s: &str, e: &str| {
        Some(Interval {
            start: dt(s),
            end: dt(e),
        })
    };
    // (period, at, rollback, rollforward, contains)
    let cases = [
        (
            &all,
            "2024-01-01 13:00:00",
            interval("2024-01-01 12:00:00", "2024-01-01 13:00:00"),
            interval("2024-01-01 13:00:00", "2024-01-01 14:00:00"),
            true,
        ),
        // Any is the hull of its members' windows, gaps included (time.md §8).
        (
            &any,
            "2024-01-01 09:00:00",
            interval("2023-12-31 14:00:00", "2024-01-01 09:00:00"),
            interval("2024-01-01 09:00:00", "2024-01-01 16:00:00"),
            true,
        ),
        (
            &any,
            "2024-01-01 12:00:00",
            interval("2023-12-31 14:00:00", "2024-01-01 10:00:00"),
            interval("2024-01-01 14:00:00", "2024-01-02 10:00:00"),
            false,
        ),
        (&disjoint, "2024-01-01 12:00:00", None, None, false),
        // Saturday: back to Friday's morning, forward to Monday's.
        (
            &weekday_mornings,
            "2024-01-06 09:00:00",
            interval("2024-01-05 08:00:00", "2024-01-05 10:00:00"),
            interval("2024-01-08 08:00:00", "2024-01-08 10:00:00"),
            false,
        ),
        (&Period::Never, "2024-01-01 12:00:00", None, None, false),
        (
            &Period::Always,
            "2024-01-01 12:00:00",
            Some(Interval {
                start: MIN_TIME,
                end: dt("2024-01-01 12:00:00"),
            }),
            Some(Interval {
                start: dt("2024-01-01 12:00:00"),
                end: MAX_TIME,
            }),
            true,
        ),
    ];
    for (period, at, back, forward, contains) in cases {
        let at = dt(at);
        assert_eq!(period.rollback(at), back, "rollback {period} at {at}");
        assert_eq!(
            period.rollforward(at),
            forward,
            "rollforward {period} at {at}"
        );
        assert_eq!(period.contains(at), contains, "contains {period} at {at}");
    }
    // Any extends the hull while a member's occurrence overlaps its edge.
    let chained = Period::Any(vec![day("08:00", "12:00"), day("11:00", "15:00")]);
    assert_eq!(
        chained.rollforward(dt("2024-01-01 12:30:00")),
        interval("2024-01-01 12:30:00", "2024-01-02 15:00:00")
    );
    assert_eq!(
        chained.rollback(dt("2024-01-02 10:00:00")),
        interval("2024-01-01 08:00:00", "2024-01-02 10:00:00")
    );
}

/// Characters that matter to the parsers, plus anything.
fn input() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::string::string_regex(
        "([0-9]{1,3}|[:.,& |()~]|am|pm|h|q|quarter|st|nd|th|Mon|Tuesday|Jan|P|T|W|D|H|M|S|µ|é| and |time of (day|week|month|hour|minute|year) |between |after |before |on |every |past |always|never|days?|min|s|ns|.)*",
    )
    .expect("valid regex")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// No input string makes a parser panic, and what parses behaves.
    #[test]
    fn parsers_never_panic(text in input()) {
        for unit in [Unit::Minute, Unit::Hour, Unit::Day, Unit::Week, Unit::Month] {
            for side in [Side::Start, Side::End] {
                if let Ok(offset) = parse_literal(unit, &text, side) {
                    proptest::prop_assert!((0..unit.nominal_length()).contains(&offset));
                }
            }
            let _ = (AnchoredPeriod::on(unit, &text), AnchoredPeriod::starting(unit, &text));
        }
        if let Ok(duration) = parse_duration(&text) {
            proptest::prop_assert!(duration >= TimeDelta::zero());
        }
        if let Ok(period) = parse_period(&text) {
            let at = dt("2024-02-29 23:59:59.999999999");
            let _ = (period.contains(at), period.rollback(at), period.rollforward(at));
            proptest::prop_assert_eq!(parse_period(&period.to_string()).ok(), Some(period));
        }
        if let Err(error) = parse_period(&text) {
            // Spans always lie on character boundaries of the input.
            let rendered = error.render();
            proptest::prop_assert!(!rendered.is_empty());
        }
    }
}
