//! Time tests: period strings, their canonical rendering and combinations.

use super::*;

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
