//! Time tests: rollback and rollforward of anchored periods, month ends, wraps,
//! next change and extremes.

use super::*;

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
