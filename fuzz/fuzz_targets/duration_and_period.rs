#![no_main]
//! Fuzz target `duration_and_period`: any text as a duration
//! (`parse_duration`), a time-period string (`parse_period`), and a time
//! literal and an anchored period of each unit and side (`parse_literal`,
//! `AnchoredPeriod::new` / `on` / `starting`).
//!
//! Properties (engine-core's `time` docs): nothing panics; an error's span lies
//! on character boundaries; a duration is never negative and its rendering
//! (`format_duration`) parses back to it; a period prints as text that parses
//! back to an equal period; a literal lies inside its cycle; rolling a period
//! back ends at or before the instant, rolling forward starts at or after it,
//! each interval is ordered, and `contains` agrees with both; `next_change` is
//! after the instant; the zoned forms respect `now` the same way.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use engine_core::time::{
    AnchoredPeriod, Period, Side, Unit, format_duration, parse_duration, parse_literal,
    parse_period,
};
use engine_fuzz::{ZONES, check_span, instants, local_times};
use libfuzzer_sys::fuzz_target;

static LOCAL_TIMES: LazyLock<Vec<NaiveDateTime>> = LazyLock::new(local_times);
static INSTANTS: LazyLock<Vec<DateTime<Utc>>> = LazyLock::new(instants);

const UNITS: [Unit; 5] = [Unit::Minute, Unit::Hour, Unit::Day, Unit::Week, Unit::Month];

fn duration(text: &str) {
    match parse_duration(text) {
        Ok(duration) => {
            assert!(
                duration >= TimeDelta::zero(),
                "{text:?} gives a negative duration"
            );
            let rendered = format_duration(duration);
            assert_eq!(
                parse_duration(&rendered),
                Ok(duration),
                "{text:?} renders as {rendered:?}, which does not parse back"
            );
        }
        Err(error) => {
            check_span(error.input().unwrap_or(text), error.span());
            let _ = error.render();
        }
    }
}

/// Checks a period's rolls and membership at the fixed times.
fn rolls(period: &Period, text: &str) {
    for &at in LOCAL_TIMES.iter() {
        let inside = period.contains(at);
        if let Some(back) = period.rollback(at) {
            assert!(
                back.start <= back.end,
                "{text:?} rolled back from {at}: {back:?}"
            );
            assert!(
                back.end <= at,
                "{text:?} rolled back from {at} ends after it: {back:?}"
            );
            if !matches!(period, Period::All(_) | Period::Any(_)) {
                assert_eq!(
                    back.end == at,
                    inside,
                    "{text:?} at {at}: contains is {inside}, rollback is {back:?}"
                );
            }
        }
        if let Some(forward) = period.rollforward(at) {
            assert!(
                forward.start <= forward.end,
                "{text:?} rolled forward from {at}: {forward:?}"
            );
            assert!(
                forward.start >= at,
                "{text:?} rolled forward from {at} starts before it: {forward:?}"
            );
            if !matches!(period, Period::All(_) | Period::Any(_)) {
                assert_eq!(
                    forward.start == at,
                    inside,
                    "{text:?} at {at}: contains is {inside}, rollforward is {forward:?}"
                );
            }
        }
    }
    for tz in ZONES {
        for &now in INSTANTS.iter() {
            if let Some(back) = period.rollback_in(tz, now) {
                assert!(
                    back.start <= back.end && back.end <= now,
                    "{text:?} rolled back in {tz} from {now}: {back:?}"
                );
            }
            if let Some(forward) = period.rollforward_in(tz, now) {
                assert!(
                    forward.start <= forward.end && forward.start >= now,
                    "{text:?} rolled forward in {tz} from {now}: {forward:?}"
                );
            }
        }
    }
}

fn period(text: &str) {
    match parse_period(text) {
        Ok(period) => {
            let canonical = period.to_string();
            assert_eq!(
                parse_period(&canonical).as_ref(),
                Ok(&period),
                "{text:?} prints as {canonical:?}, which does not parse back to it"
            );
            rolls(&period, text);
        }
        Err(error) => {
            check_span(error.input().unwrap_or(text), error.span());
            let _ = error.render();
        }
    }
}

fn anchored(anchored: AnchoredPeriod, text: &str) {
    for &at in LOCAL_TIMES.iter() {
        let change = anchored.next_change(at);
        assert!(
            change > at,
            "{text:?} at {at}: next_change {change} is not after it"
        );
    }
    rolls(&Period::Anchored(anchored), text);
}

fn literals(text: &str) {
    for unit in UNITS {
        for side in [Side::Start, Side::End] {
            match parse_literal(unit, text, side) {
                Ok(offset) => assert!(
                    (0..=unit.nominal_length()).contains(&offset),
                    "{text:?} as a {unit:?} literal is outside the cycle: {offset}"
                ),
                Err(error) => check_span(error.input().unwrap_or(text), error.span()),
            }
        }
        if let Ok(period) = AnchoredPeriod::new(unit, Some(text), Some(text)) {
            anchored(period, text);
        }
        if let Ok(period) = AnchoredPeriod::on(unit, text) {
            anchored(period, text);
        }
        if let Ok(period) = AnchoredPeriod::starting(unit, text) {
            anchored(period, text);
        }
    }
    // `between <a> and <b>` with both halves of the input.
    if let Some((start, end)) = text.split_once('|') {
        for unit in UNITS {
            if let Ok(period) = AnchoredPeriod::new(unit, Some(start), Some(end)) {
                anchored(period, text);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    duration(text);
    period(text);
    literals(text);
});
