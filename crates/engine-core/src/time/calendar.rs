//! Calendar arithmetic on local wall-clock time as `i128` nanosecond "ticks" since
//! 1970-01-01 00:00, so that period arithmetic never overflows or panics.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::{DAY, MAX_TIME, MIN_TIME, Nanos};

/// Nanoseconds since 1970-01-01 00:00 local wall-clock time.
pub(super) type Ticks = i128;

/// `num_days_from_ce` of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i128 = 719_163;

/// The ticks of a local time. A leap second (chrono's nanosecond >= 1e9) counts as
/// the last nanosecond of its second.
pub(super) fn to_ticks(dt: NaiveDateTime) -> Ticks {
    let days = i128::from(dt.date().num_days_from_ce()) - EPOCH_DAYS_FROM_CE;
    let nanos = i128::from(dt.nanosecond().min(999_999_999));
    days * i128::from(DAY) + i128::from(dt.num_seconds_from_midnight()) * 1_000_000_000 + nanos
}

/// The local time of `ticks`, saturating at [`MIN_TIME`] / [`MAX_TIME`].
pub(super) fn from_ticks(ticks: Ticks) -> NaiveDateTime {
    let day = i128::from(DAY);
    let days = ticks.div_euclid(day);
    let tod = ticks.rem_euclid(day);
    let date = i32::try_from(days + EPOCH_DAYS_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt);
    let Some(date) = date else {
        return if ticks < 0 { MIN_TIME } else { MAX_TIME };
    };
    // `tod` is in [0, DAY), so both conversions succeed.
    let secs = u32::try_from(tod / 1_000_000_000).unwrap_or(0);
    let nanos = u32::try_from(tod % 1_000_000_000).unwrap_or(0);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).unwrap_or(NaiveTime::MIN);
    date.and_time(time)
}

/// Adds `ns` nanoseconds to a local time, saturating at the ends of the range.
pub(super) fn add_nanos(dt: NaiveDateTime, ns: i128) -> NaiveDateTime {
    from_ticks(to_ticks(dt).saturating_add(ns))
}

/// Days since 1970-01-01 of the civil date `year-month-day` (proleptic Gregorian;
/// H. Hinnant's `days_from_civil`). `month` is 1-12; any `year` works.
pub(super) fn days_from_civil(year: i64, month: u32, day: u32) -> i128 {
    let month = i128::from(month);
    let y = i128::from(year) - i128::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i128::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether `year` is a leap year of the Gregorian calendar.
pub(super) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days of `month` (1-12) in `year`.
pub(super) fn days_in_month(year: i64, month: u32) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The month index `year * 12 + month0` of a local time.
pub(super) fn month_index(dt: NaiveDateTime) -> i128 {
    i128::from(dt.year()) * 12 + i128::from(dt.month0())
}

/// The year and month (1-12) of a month index.
pub(super) fn month_of_index(index: i128) -> (i64, u32) {
    let year = index.div_euclid(12);
    let month0 = index.rem_euclid(12);
    // Month indices come from chrono years (i32) plus small steps, so they fit.
    let year = i64::try_from(year).unwrap_or(if year < 0 { i64::MIN / 2 } else { i64::MAX / 2 });
    (year, u32::try_from(month0).unwrap_or(0) + 1)
}

/// The ticks of the 1st 00:00 of month `index`, and the month's length in
/// nanoseconds.
pub(super) fn month_bounds(index: i128) -> (Ticks, Nanos) {
    let (year, month) = month_of_index(index);
    let start = days_from_civil(year, month, 1) * i128::from(DAY);
    (start, days_in_month(year, month) * DAY)
}
