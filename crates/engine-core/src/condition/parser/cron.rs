//! The five fields of `cron <minute> <hour> <day-of-month> <month> <day-of-week>`.
//!
//! Standard (Vixie) cron syntax: each field is a comma-separated list of items;
//! an item is `*`, a value, a range `a-b`, or either of those with a step `/n`
//! (`*/15`, `1-10/3`). Months may be written `JAN`..`DEC` and weekdays `SUN`..`SAT`
//! (case-insensitive, also in ranges); weekday `7` is Sunday like `0`. As in Vixie
//! cron, a day field counts as "unrestricted" ([`Cron::dom_star`],
//! [`Cron::dow_star`]) when it starts with `*`.

use std::ops::Range;

use crate::condition::Cron;

/// A cron error: the span inside the fields text and the message.
pub(super) type CronError = (Range<usize>, String);

/// One cron field's rules.
struct Field {
    /// The name used in messages.
    name: &'static str,
    /// The smallest value.
    min: u32,
    /// The largest value.
    max: u32,
    /// Names for `min`, `min + 1`, ... (months, weekdays).
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    },
    Field {
        name: "day of week",
        min: 0,
        max: 7,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    },
];

/// Parses the five space-separated fields of a cron schedule.
pub(super) fn parse_cron(text: &str) -> Result<Cron, CronError> {
    let mut sets = [0u64; 5];
    let mut stars = [false; 5];
    let mut start = 0;
    let mut count = 0;
    for part in text.split(' ') {
        let span = start..start + part.len();
        start = span.end + 1;
        count += 1;
        let Some(field) = FIELDS.get(count - 1) else {
            continue;
        };
        if part.is_empty() {
            return Err((span, format!("empty cron {} field", field.name)));
        }
        sets[count - 1] = parse_field(field, part, span.start)?;
        stars[count - 1] = part.starts_with('*');
    }
    if count != 5 {
        return Err((
            0..text.len(),
            format!(
                "expected 5 cron fields (minute hour day-of-month month day-of-week), found {count}"
            ),
        ));
    }
    let [minutes, hours, days_of_month, months, mut days_of_week] = sets;
    // Weekday 7 is Sunday.
    if days_of_week & (1 << 7) != 0 {
        days_of_week = (days_of_week | 1) & !(1 << 7);
    }
    Ok(Cron {
        text: text.to_owned(),
        minutes,
        hours: low_bits(hours),
        days_of_month: low_bits(days_of_month),
        months: low_bits(months),
        days_of_week: low_bits(days_of_week),
        dom_star: stars[2],
        dow_star: stars[4],
    })
}

/// The low bits of `bits`, which fit in `T` because field values are bounded.
fn low_bits<T: TryFrom<u64> + Default>(bits: u64) -> T {
    T::try_from(bits).unwrap_or_default()
}

/// Parses one field (at byte `base` of the fields text) into a bitset.
fn parse_field(field: &Field, text: &str, base: usize) -> Result<u64, CronError> {
    let mut bits = 0u64;
    let mut start = base;
    for item in text.split(',') {
        let span = start..start + item.len();
        start = span.end + 1;
        if item.is_empty() {
            return Err((span, format!("empty item in cron {} field", field.name)));
        }
        bits |= parse_item(field, item, span)?;
    }
    Ok(bits)
}

/// Parses `*`, `a`, `a-b`, `*/n` or `a-b/n`.
fn parse_item(field: &Field, item: &str, span: Range<usize>) -> Result<u64, CronError> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step_span = span.start + range.len() + 1..span.end;
            let n = number(step).filter(|&n| n > 0).ok_or_else(|| {
                (
                    step_span,
                    format!("invalid step '{step}' in cron {} field", field.name),
                )
            })?;
            (range, Some(n))
        }
        None => (item, None),
    };
    let range_span = span.start..span.start + range.len();
    let (low, high) = if range == "*" {
        (field.min, field.max)
    } else if let Some((a, b)) = range.split_once('-') {
        let low = value(field, a, span.start..span.start + a.len())?;
        let b_start = span.start + a.len() + 1;
        let high = value(field, b, b_start..b_start + b.len())?;
        if low > high {
            return Err((
                range_span,
                format!(
                    "range '{range}' in cron {} field goes backwards",
                    field.name
                ),
            ));
        }
        (low, high)
    } else {
        if step.is_some() {
            return Err((
                span,
                format!(
                    "a step needs '*' or a range before '/' in cron {} field",
                    field.name
                ),
            ));
        }
        let v = value(field, range, range_span)?;
        (v, v)
    };
    let step = step.unwrap_or(1);
    let mut bits = 0u64;
    let mut v = low;
    while v <= high {
        bits |= 1 << v;
        v = v.saturating_add(step);
    }
    Ok(bits)
}

/// One value of `field`: a number in range or a name.
fn value(field: &Field, text: &str, span: Range<usize>) -> Result<u32, CronError> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = field.names.iter().position(|&name| name == lower) {
        return Ok(field.min + u32::try_from(i).unwrap_or_default());
    }
    match number(text) {
        Some(n) if (field.min..=field.max).contains(&n) => Ok(n),
        Some(n) => Err((
            span,
            format!(
                "{} {n} is out of range {}-{} in cron field",
                field.name, field.min, field.max
            ),
        )),
        None => Err((
            span,
            format!("invalid {} '{text}' in cron field", field.name),
        )),
    }
}

/// A decimal number made of ASCII digits only.
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
