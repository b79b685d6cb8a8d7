//! Time tests: literal tables per unit and the anchored-period constructors.

use super::*;

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
