//! Time literals (time.md §3): the `<start>` / `<end>` texts of phrases, such as
//! `10:00`, `10:30 pm`, `15:00` (of an hour), `1 quarter`, `30` (of a minute),
//! `Tue 10:00`, `5th`, `Jan 5th`, turned into offsets inside their cycle.
//!
//! The accepted forms are deliberately strict (the spec's recommendations):
//! Red Engine 1.2 handed times of day to a general date parser that read a bare
//! `10` or `Monday` as midnight; here those are errors.

use super::{DAY, HOUR, MINUTE, Nanos, SECOND, Side, Unit};
use crate::{Error, ErrorKind};

/// Parses a time literal of `unit` (time.md §3) into its offset inside the cycle.
///
/// * minute: `SS` or `SS.f` (00-59, up to nine fraction digits);
/// * hour: `MM:SS[.f]`, or `N quarter` / `N q` / `Nq` (N = 1-4, N·15 minutes;
///   `4 quarter` is the end of the hour, offset 0 of the next);
/// * day: `H:MM`, `HH:MM`, `HH:MM:SS`, `HH:MM:SS.f`, `H[:MM] am|pm`, `Hh`;
/// * week: `<Dayname>[ ][<time of day>]` with `Monday`..`Sunday` or `Mon`..`Sun`
///   (case-sensitive);
/// * month: `<1-31>[st|nd|rd|th|.][ ][<time of day>]`.
///
/// A week or month literal without a time of day names a whole day: on the
/// [`Side::End`] it means the last nanosecond of that day (`before Fri` includes
/// Friday). Leading and trailing whitespace is ignored.
///
/// ```
/// use engine_core::time::{parse_literal, Side, Unit, HOUR, DAY};
///
/// assert_eq!(parse_literal(Unit::Day, "10:30 pm", Side::Start)?, 22 * HOUR + 30 * 60_000_000_000);
/// assert_eq!(parse_literal(Unit::Week, "Tue", Side::End)?, 2 * DAY - 1);
/// assert!(parse_literal(Unit::Day, "10", Side::Start).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_literal(unit: Unit, text: &str, side: Side) -> Result<Nanos, Error> {
    let text = text.trim();
    let literal = match unit {
        Unit::Minute => parse_second_of_minute(text).map(Literal::exact),
        Unit::Hour => parse_time_of_hour(text).map(Literal::exact),
        Unit::Day => parse_time_of_day(text).map(Literal::exact),
        Unit::Week => parse_time_of_week(text),
        Unit::Month => parse_time_of_month(text),
    }?;
    Ok(literal.offset(side))
}

/// A parsed literal: an offset, and whether it names a whole day (a week or month
/// literal without a time of day), which an end side ceils.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Literal {
    /// The offset of the literal's first instant.
    pub(super) offset: Nanos,
    /// The literal names a whole day.
    pub(super) whole_day: bool,
}

impl Literal {
    fn exact(offset: Nanos) -> Self {
        Literal {
            offset,
            whole_day: false,
        }
    }

    /// The offset for `side`: a whole day on the end side is its last nanosecond.
    pub(super) fn offset(self, side: Side) -> Nanos {
        match side {
            Side::End if self.whole_day => self.offset + DAY - 1,
            _ => self.offset,
        }
    }
}

fn invalid(expected: &str, text: &str) -> Error {
    Error::new(
        ErrorKind::InvalidTime,
        format!("expected {expected}, found '{text}'"),
    )
}

const TIME_OF_DAY: &str = "a time of day like 10:00, 10:00:30 or 10pm";
const TIME_OF_HOUR: &str = "minutes and seconds like 15:00 or a quarter like 1 quarter";
const SECOND_OF_MINUTE: &str = "seconds like 15 or 15.5";
const TIME_OF_WEEK: &str = "a day of the week like Mon or Tuesday 10:00";
const TIME_OF_MONTH: &str = "a day of the month like 1st, 15 or 5th 12:30";

/// Splits `text` after its leading ASCII digits.
pub(super) fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// The value of 1-2 ASCII digits.
fn small_number(digits: &str, min_len: usize) -> Option<i64> {
    if digits.len() < min_len || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `f{1,9}`: a fraction of a second in nanoseconds, all nine digits kept.
pub(super) fn fraction_nanos(digits: &str) -> Option<Nanos> {
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: Nanos = digits.parse().ok()?;
    let scale = 10_i64.checked_pow(9 - u32::try_from(digits.len()).ok()?)?;
    Some(value * scale)
}

/// `SS[.f]` with SS in 00-59: nanoseconds.
fn seconds_with_fraction(text: &str) -> Option<Nanos> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let seconds = small_number(whole, 2).filter(|s| *s < 60)?;
    let fraction = match fraction {
        Some(digits) => fraction_nanos(digits)?,
        None => 0,
    };
    Some(seconds * SECOND + fraction)
}

/// Minute literal: `SS` or `SS.f`, 00-59.
fn parse_second_of_minute(text: &str) -> Result<Nanos, Error> {
    seconds_with_fraction(text).ok_or_else(|| invalid(SECOND_OF_MINUTE, text))
}

/// Hour literal: `MM:SS[.f]` or `N quarter` / `N q` / `Nq`.
fn parse_time_of_hour(text: &str) -> Result<Nanos, Error> {
    let clock = text.split_once(':').and_then(|(minutes, seconds)| {
        let minutes = small_number(minutes, 2).filter(|m| *m < 60)?;
        Some(minutes * MINUTE + seconds_with_fraction(seconds)?)
    });
    clock
        .or_else(|| quarter(text))
        .ok_or_else(|| invalid(TIME_OF_HOUR, text))
}

/// `N quarter`, `N q`, `Nq` (case-insensitive, N = 1-4): N·15 minutes, where the
/// fourth quarter ends at the next hour's 00:00 (offset 0).
fn quarter(text: &str) -> Option<Nanos> {
    let (digits, rest) = split_digits(text);
    let n = small_number(digits, 1).filter(|n| (1..=4).contains(n))?;
    let word = rest.strip_prefix(' ').unwrap_or(rest);
    if !(word.eq_ignore_ascii_case("quarter") || word.eq_ignore_ascii_case("q")) {
        return None;
    }
    Some((n * 15 * MINUTE) % HOUR)
}

/// Day literal: see [`parse_literal`].
pub(super) fn parse_time_of_day(text: &str) -> Result<Nanos, Error> {
    time_of_day(text).ok_or_else(|| invalid(TIME_OF_DAY, text))
}

fn time_of_day(text: &str) -> Option<Nanos> {
    let lower = text.to_ascii_lowercase();
    if let Some(meridiem) = ["am", "pm"].into_iter().find(|m| lower.ends_with(m)) {
        // The last two bytes are ASCII letters, so this is a char boundary.
        let core = text[..text.len() - 2].trim_end();
        let (hour, rest) = hour_and_rest(core)?;
        if !(1..=12).contains(&hour) {
            return None;
        }
        let hour = (hour % 12) + if meridiem == "pm" { 12 } else { 0 };
        return Some(hour * HOUR + minutes_seconds(rest, true)?);
    }
    if let Some(core) = text.strip_suffix(['h', 'H']) {
        let hour = small_number(core, 1).filter(|h| *h < 24)?;
        return Some(hour * HOUR);
    }
    let (hour, rest) = hour_and_rest(text)?;
    if hour >= 24 || rest.is_empty() {
        return None;
    }
    Some(hour * HOUR + minutes_seconds(rest, false)?)
}

/// The leading 1-2 digit hour and what follows it.
fn hour_and_rest(text: &str) -> Option<(i64, &str)> {
    let (digits, rest) = split_digits(text);
    Some((small_number(digits, 1)?, rest))
}

/// `[:MM[:SS[.f]]]` after an hour: nanoseconds. The minutes are required unless
/// `optional` (the `10pm` form).
fn minutes_seconds(rest: &str, optional: bool) -> Option<Nanos> {
    if rest.is_empty() {
        return optional.then_some(0);
    }
    let rest = rest.strip_prefix(':')?;
    let (minutes, seconds) = match rest.split_once(':') {
        Some((minutes, seconds)) => (minutes, seconds_with_fraction(seconds)?),
        None => (rest, 0),
    };
    let minutes = small_number(minutes, 2).filter(|m| *m < 60)?;
    Some(minutes * MINUTE + seconds)
}

/// English day names, Monday first, as (full, abbreviation).
const WEEKDAYS: [(&str, &str); 7] = [
    ("Monday", "Mon"),
    ("Tuesday", "Tue"),
    ("Wednesday", "Wed"),
    ("Thursday", "Thu"),
    ("Friday", "Fri"),
    ("Saturday", "Sat"),
    ("Sunday", "Sun"),
];

/// Week literal: `<Dayname>[ ][<time of day>]`.
fn parse_time_of_week(text: &str) -> Result<Literal, Error> {
    let found = WEEKDAYS
        .iter()
        .zip(0_i64..)
        .find_map(|((full, abbr), day)| {
            let rest = text
                .strip_prefix(full)
                .or_else(|| text.strip_prefix(abbr))?;
            Some((day, rest))
        });
    let Some((day, rest)) = found else {
        return Err(invalid(TIME_OF_WEEK, text));
    };
    with_time_of_day(day * DAY, rest, text, TIME_OF_WEEK)
}

/// The optional `[ ][<time of day>]` after a day: a whole day when absent.
pub(super) fn with_time_of_day(
    day_offset: Nanos,
    rest: &str,
    text: &str,
    expected: &str,
) -> Result<Literal, Error> {
    if rest.is_empty() {
        return Ok(Literal {
            offset: day_offset,
            whole_day: true,
        });
    }
    let clock = rest.strip_prefix(' ').unwrap_or(rest).trim_start();
    match time_of_day(clock) {
        Some(offset) => Ok(Literal::exact(day_offset + offset)),
        None if clock.is_empty() => Err(invalid(expected, text)),
        None => Err(Error::new(
            ErrorKind::InvalidTime,
            format!("expected {TIME_OF_DAY} in '{text}', found '{clock}'"),
        )),
    }
}

/// Month literal: `<1-31>[st|nd|rd|th|.][ ][<time of day>]`.
fn parse_time_of_month(text: &str) -> Result<Literal, Error> {
    parse_day_of_month(text, TIME_OF_MONTH)
}

/// A day of a month with an optional time of day, as used by month and year
/// literals; `expected` describes the whole literal for errors.
pub(super) fn parse_day_of_month(text: &str, expected: &str) -> Result<Literal, Error> {
    let (digits, rest) = split_digits(text);
    let Some(day) = small_number(digits, 1).filter(|d| (1..=31).contains(d)) else {
        return Err(invalid(expected, text));
    };
    let rest = ["st", "nd", "rd", "th"]
        .into_iter()
        .find_map(|suffix| {
            let head = rest.get(..2)?;
            head.eq_ignore_ascii_case(suffix).then(|| &rest[2..])
        })
        .or_else(|| rest.strip_prefix('.'))
        .unwrap_or(rest);
    with_time_of_day((day - 1) * DAY, rest, text, expected)
}
