//! Unit tests of the time module: the helpers shared by the themed files under
//! `tests/` (literals, rolls, durations, periods, vectors, daylight saving) and the
//! parser fuzz property.

mod dst;
mod durations;
mod literals;
mod periods;
mod rolls;
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

fn period(unit: Unit, start: Option<&str>, end: Option<&str>) -> AnchoredPeriod {
    AnchoredPeriod::new(unit, start, end).expect("valid period")
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
