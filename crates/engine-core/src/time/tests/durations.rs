//! Time tests: duration units, forms and rendering round trips.

use super::*;

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
