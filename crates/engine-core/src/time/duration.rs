//! Duration strings (time.md §6.2): `1 day 10 hours`, `2 hours, 30 minutes`,
//! `1h30m`, `1.5 hours`, `1 day 02:00:00`, `PT10M` ... and their rendering
//! `D days HH:MM:SS[.f]` (time.md §6.4).
//!
//! Differences from Red Engine 1.2 (pandas' parser), all tightenings or harmless
//! extensions the spec recommends: a number needs a unit (`every 10` is an error,
//! not ten nanoseconds); `week`, `weeks`, `mins` and `secs` are accepted; the
//! deprecated `y` (365.2425 days) and a lone capital `M` (minutes, easily read as
//! months) are errors.

use chrono::TimeDelta;

use super::literal::{fraction_nanos, split_digits};
use super::{DAY, HOUR, MINUTE, Nanos, SECOND};
use crate::{Error, ErrorKind};

/// Parses a duration string (time.md §6.2): `1 day 10 hours 5 minutes`, `2:30:00`,
/// `1h30m`, `PT10M` ... The result is never negative.
///
/// Accepted: terms `<number>[ ]<unit>` (decimals allowed, terms separated by
/// spaces and/or commas or directly adjacent, repeated units add up); one clock
/// term `H:MM:SS[.f]` (`1 day 02:00:00`); ISO 8601 `P[nW][nD][T[nH][nM][nS]]`; a
/// leading `+` or `-` (the absolute value is taken). Units are case-insensitive:
///
/// | unit | spellings |
/// |---|---|
/// | weeks | `w`, `week`, `weeks` |
/// | days | `d`, `day`, `days` |
/// | hours | `h`, `hr`, `hour`, `hours` |
/// | minutes | `m`, `t`, `min`, `mins`, `minute`, `minutes` |
/// | seconds | `s`, `sec`, `secs`, `second`, `seconds` |
/// | milliseconds | `ms`, `l`, `milli`, `millis`, `millisecond`, `milliseconds` |
/// | microseconds | `us`, `µs`, `u`, `micro`, `micros`, `microsecond`, `microseconds` |
/// | nanoseconds | `ns`, `n`, `nano`, `nanos`, `nanosecond`, `nanoseconds` |
///
/// ```
/// use chrono::TimeDelta;
/// use engine_core::time::parse_duration;
///
/// assert_eq!(parse_duration("2 hours, 30 minutes")?, TimeDelta::minutes(150));
/// assert_eq!(parse_duration("1h30m")?, TimeDelta::minutes(90));
/// assert_eq!(parse_duration("1 day 02:00:00")?, TimeDelta::hours(26));
/// assert_eq!(parse_duration("PT10M")?, TimeDelta::minutes(10));
/// assert!(parse_duration("10").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_duration(text: &str) -> Result<TimeDelta, Error> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix(['+', '-'])
        .unwrap_or(trimmed)
        .trim_start();
    let total = if body.starts_with(['P', 'p']) {
        iso(body, trimmed)?
    } else {
        terms(body, trimmed)?
    };
    let nanos = i64::try_from(total).map_err(|_| too_long(trimmed))?;
    Ok(TimeDelta::nanoseconds(nanos))
}

/// Renders a duration as `D days HH:MM:SS` with `.ffffff` (microseconds) or
/// `.fffffffff` (nanoseconds) when the fraction is not zero, as Red Engine shows
/// durations (`0 days 00:10:00`, `2 days 00:00:00`). A negative duration counts
/// whole days down and the time up: `-1 days +23:00:00` is minus one hour.
///
/// ```
/// use chrono::TimeDelta;
/// use engine_core::time::format_duration;
///
/// assert_eq!(format_duration(TimeDelta::minutes(10)), "0 days 00:10:00");
/// assert_eq!(format_duration(TimeDelta::milliseconds(1500)), "0 days 00:00:01.500000");
/// assert_eq!(format_duration(TimeDelta::hours(-1)), "-1 days +23:00:00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn format_duration(duration: TimeDelta) -> String {
    let total = i128::from(duration.num_seconds()) * i128::from(SECOND)
        + i128::from(duration.subsec_nanos());
    let day = i128::from(DAY);
    let (days, rest) = (total.div_euclid(day), total.rem_euclid(day));
    let (hours, minutes) = (
        rest / i128::from(HOUR),
        rest % i128::from(HOUR) / i128::from(MINUTE),
    );
    let (seconds, nanos) = (
        rest % i128::from(MINUTE) / i128::from(SECOND),
        rest % i128::from(SECOND),
    );
    let sign = if total < 0 { "+" } else { "" };
    let fraction = match nanos {
        0 => String::new(),
        n if n % 1000 == 0 => format!(".{:06}", n / 1000),
        n => format!(".{n:09}"),
    };
    format!("{days} days {sign}{hours:02}:{minutes:02}:{seconds:02}{fraction}")
}

fn error(message: String) -> Error {
    Error::new(ErrorKind::InvalidDuration, message)
}

fn expected(text: &str, found: &str) -> Error {
    error(format!(
        "expected a duration like '10 minutes', '1h30m', '02:00:00' or 'PT10M' in '{text}', found '{found}'"
    ))
}

fn too_long(text: &str) -> Error {
    error(format!("duration '{text}' is too long (at most 292 years)"))
}

/// A decimal number `digits[.digits]` or `.digits` at the start of `text`.
struct Number<'a> {
    whole: &'a str,
    fraction: Option<&'a str>,
}

impl Number<'_> {
    /// `self × unit` in nanoseconds, the fraction truncated to whole nanoseconds;
    /// `None` on overflow.
    fn times(&self, unit: Nanos) -> Option<i128> {
        let unit = i128::from(unit);
        let whole = digits_value(self.whole)?.checked_mul(unit)?;
        let fraction = match self.fraction {
            Some(digits) => {
                // Digits past the 18th cannot change a result in nanoseconds of a
                // unit of at most a week.
                let digits = digits.get(..digits.len().min(18)).unwrap_or(digits);
                let scale = 10_i128.checked_pow(u32::try_from(digits.len()).ok()?)?;
                digits_value(digits)?.checked_mul(unit)? / scale
            }
            None => 0,
        };
        whole.checked_add(fraction)
    }

    fn text_len(&self) -> usize {
        self.whole.len() + self.fraction.map_or(0, |f| f.len() + 1)
    }
}

fn digits_value(digits: &str) -> Option<i128> {
    digits.bytes().try_fold(0_i128, |acc, b| {
        acc.checked_mul(10)?.checked_add(i128::from(b - b'0'))
    })
}

/// Reads a number at the start of `text`; `None` when there is none.
fn number(text: &str) -> Option<(Number<'_>, &str)> {
    let (whole, rest) = split_digits(text);
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let (fraction, rest) = split_digits(after);
            (Some(fraction), rest)
        }
        None => (None, rest),
    };
    if whole.is_empty() && fraction.is_none_or(str::is_empty) {
        return None;
    }
    Some((Number { whole, fraction }, rest))
}

/// Space/comma separated or adjacent `<number>[ ]<unit>` terms and at most one
/// clock term.
fn terms(body: &str, text: &str) -> Result<i128, Error> {
    let mut total: i128 = 0;
    let mut rest = body;
    let mut clock_seen = false;
    let mut first = true;
    loop {
        rest = rest.trim_start();
        if !first && let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
            if rest.is_empty() {
                return Err(expected(text, ","));
            }
        }
        if rest.is_empty() {
            if first {
                return Err(expected(text, ""));
            }
            return Ok(total);
        }
        first = false;
        let Some((value, after)) = number(rest) else {
            let word = rest.split_whitespace().next().unwrap_or(rest);
            return Err(expected(text, word));
        };
        let number_text = &rest[..value.text_len()];
        let term = if after.starts_with(':') {
            if clock_seen || value.fraction.is_some() {
                return Err(clock_error(text, rest));
            }
            clock_seen = true;
            let (nanos, after) = clock(&value, after).ok_or_else(|| clock_error(text, rest))?;
            rest = after;
            nanos
        } else {
            let after = after.trim_start();
            let end = after
                .find(|c: char| !c.is_alphabetic())
                .unwrap_or(after.len());
            let (word, after) = after.split_at(end);
            if word.is_empty() {
                return Err(error(format!(
                    "missing unit after '{number_text}' in '{text}' (write e.g. '{number_text} seconds')"
                )));
            }
            let unit = unit_nanos(word).ok_or_else(|| unknown_unit(text, word))?;
            rest = after;
            value.times(unit).ok_or_else(|| too_long(text))?
        };
        total = total.checked_add(term).ok_or_else(|| too_long(text))?;
    }
}

fn clock_error(text: &str, found: &str) -> Error {
    error(format!(
        "expected a clock duration like 02:00:00 or 1:30:00.5 in '{text}', found '{found}'"
    ))
}

/// `:MM:SS[.f]` after the hours of a clock term: the total and what follows.
fn clock<'a>(hours: &Number<'_>, after: &'a str) -> Option<(i128, &'a str)> {
    let after = after.strip_prefix(':')?;
    let (minutes, after) = split_digits(after);
    let after = after.strip_prefix(':')?;
    let (seconds, after) = split_digits(after);
    if minutes.len() != 2 || seconds.len() != 2 {
        return None;
    }
    let (minutes, seconds) = (digits_value(minutes)?, digits_value(seconds)?);
    if minutes >= 60 || seconds >= 60 {
        return None;
    }
    let (fraction, after) = match after.strip_prefix('.') {
        Some(after) => {
            let (digits, after) = split_digits(after);
            (fraction_nanos(digits)?, after)
        }
        None => (0, after),
    };
    let total = hours.times(HOUR)?
        + minutes * i128::from(MINUTE)
        + seconds * i128::from(SECOND)
        + i128::from(fraction);
    Some((total, after))
}

fn unknown_unit(text: &str, word: &str) -> Error {
    error(format!(
        "unknown duration unit '{word}' in '{text}' (use weeks, days, hours, minutes, seconds, ms, us or ns)"
    ))
}

/// The length of a unit word, case-insensitive; `None` for unknown words.
fn unit_nanos(word: &str) -> Option<Nanos> {
    if word == "M" {
        return None;
    }
    let nanos = match word.to_lowercase().as_str() {
        "w" | "week" | "weeks" => 7 * DAY,
        "d" | "day" | "days" => DAY,
        "h" | "hr" | "hour" | "hours" => HOUR,
        "m" | "t" | "min" | "mins" | "minute" | "minutes" => MINUTE,
        "s" | "sec" | "secs" | "second" | "seconds" => SECOND,
        "ms" | "l" | "milli" | "millis" | "millisecond" | "milliseconds" => 1_000_000,
        "us" | "µs" | "μs" | "u" | "micro" | "micros" | "microsecond" | "microseconds" => 1_000,
        "ns" | "n" | "nano" | "nanos" | "nanosecond" | "nanoseconds" => 1,
        _ => return None,
    };
    Some(nanos)
}

/// ISO 8601 `P[nW][nD][T[nH][nM][nS]]` (case-insensitive designators, decimals
/// allowed, at least one component). Years and months have no fixed length and
/// are errors.
fn iso(body: &str, text: &str) -> Result<i128, Error> {
    let iso_error = |found: &str| {
        error(format!(
            "expected an ISO 8601 duration like P1DT2H or PT10M in '{text}', found '{found}'"
        ))
    };
    // The designators in the order they may appear, with their lengths.
    const DATE: [(char, Nanos); 2] = [('W', 7 * DAY), ('D', DAY)];
    const TIME: [(char, Nanos); 3] = [('H', HOUR), ('M', MINUTE), ('S', SECOND)];
    let mut rest = body.get(1..).unwrap_or("");
    let mut total: i128 = 0;
    let mut components = 0;
    let mut designators: &[(char, Nanos)] = &DATE;
    let mut in_time = false;
    while !rest.is_empty() {
        if !in_time && let Some(after) = rest.strip_prefix(['T', 't']) {
            in_time = true;
            designators = &TIME;
            rest = after;
            if rest.is_empty() {
                return Err(iso_error(body));
            }
            continue;
        }
        let (value, after) = number(rest).ok_or_else(|| iso_error(rest))?;
        let designator = after
            .chars()
            .next()
            .ok_or_else(|| iso_error(rest))?
            .to_ascii_uppercase();
        let Some(position) = designators.iter().position(|(d, _)| *d == designator) else {
            if !in_time && matches!(designator, 'Y' | 'M') {
                return Err(error(format!(
                    "years and months have no fixed length in '{text}': use weeks or days"
                )));
            }
            return Err(iso_error(rest));
        };
        let unit = designators[position].1;
        designators = &designators[position + 1..];
        total = value
            .times(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| too_long(text))?;
        components += 1;
        rest = &after[designator.len_utf8()..];
    }
    if components == 0 {
        return Err(iso_error(body));
    }
    Ok(total)
}
