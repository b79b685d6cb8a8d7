//! Local wall-clock time in the session's zone and instants (UTC): the
//! daylight-saving policy of `docs/time-zones.md`.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::calendar;
use super::{DAY, Interval, MAX_TIME, MIN_TIME, Side};

/// A closed interval of instants, both ends inclusive: a period's window converted
/// from local time by the daylight-saving policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstantInterval {
    /// The first instant inside.
    pub start: DateTime<Utc>,
    /// The last instant inside.
    pub end: DateTime<Utc>,
}

/// Converts a window rolled back from local `local` (= `now` in `tz`) to instants:
/// an end at `local` is `now` itself, other ends map by the policy but never past
/// `now`, starts map as [`Side::Start`].
pub(super) fn back_to_instants(
    tz: Tz,
    now: DateTime<Utc>,
    local: NaiveDateTime,
    window: Interval,
) -> InstantInterval {
    let end = if window.end == local {
        now
    } else {
        to_instant(tz, window.end, Side::End).min(now)
    };
    let start = to_instant(tz, window.start, Side::Start).min(end);
    InstantInterval { start, end }
}

/// Converts a window rolled forward from local `local` (= `now` in `tz`) to
/// instants: a start at `local` is `now` itself, other starts map by the policy but
/// never before `now`, ends map as [`Side::End`].
pub(super) fn forward_to_instants(
    tz: Tz,
    now: DateTime<Utc>,
    local: NaiveDateTime,
    window: Interval,
) -> InstantInterval {
    let start = if window.start == local {
        now
    } else {
        to_instant(tz, window.start, Side::Start).max(now)
    };
    let end = to_instant(tz, window.end, Side::End).max(start);
    InstantInterval { start, end }
}

/// Converts a local wall-clock time in `tz` to an instant, by the daylight-saving
/// policy: a time inside a skipped hour maps to the end of the gap; a repeated time
/// maps to its earlier instant for [`Side::Start`] and its later one for
/// [`Side::End`].
///
/// "The end of the gap" is the first instant after it, the transition itself:
/// in New York 2024-03-10 02:30 (skipped) maps to 03:00 EDT = 07:00 UTC. Times
/// within two days of the ends of chrono's range saturate to
/// [`DateTime::<Utc>::MIN_UTC`] / [`DateTime::<Utc>::MAX_UTC`].
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use chrono_tz::America::New_York;
/// use engine_core::time::{to_instant, Side};
///
/// let local = NaiveDate::from_ymd_opt(2024, 3, 10).and_then(|d| d.and_hms_opt(2, 30, 0)).ok_or("date")?;
/// let expected = Utc.with_ymd_and_hms(2024, 3, 10, 7, 0, 0).single().ok_or("date")?;
/// assert_eq!(to_instant(New_York, local, Side::Start), expected);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_instant(tz: Tz, local: NaiveDateTime, side: Side) -> DateTime<Utc> {
    let ticks = calendar::to_ticks(local);
    let margin = 2 * i128::from(DAY);
    if ticks < calendar::to_ticks(MIN_TIME) + margin {
        return DateTime::<Utc>::MIN_UTC;
    }
    if ticks > calendar::to_ticks(MAX_TIME) - margin {
        return DateTime::<Utc>::MAX_UTC;
    }
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => at.to_utc(),
        LocalResult::Ambiguous(a, b) => {
            let (earlier, later) = if a <= b { (a, b) } else { (b, a) };
            match side {
                Side::Start => earlier.to_utc(),
                Side::End => later.to_utc(),
            }
        }
        LocalResult::None => gap_end(tz, local),
    }
}

/// The local wall-clock time of `instant` in `tz` (saturating at the ends of
/// chrono's range instead of panicking).
pub fn to_local(tz: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    let utc = instant.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset)
        .unwrap_or(if offset.local_minus_utc() < 0 {
            MIN_TIME
        } else {
            MAX_TIME
        })
}

/// The first instant after the gap that skips `local`.
///
/// Zone transitions happen at whole seconds, and a gap `[T + before, T + after)`
/// of local time has whole-second ends, so the transition `T` is the smallest whole
/// second `x` whose local time `x + offset(x)` is past the whole second of `local`.
/// Offsets are within ±16 hours, so `T` lies within 30 hours of `local` read as
/// UTC; a binary search over that range finds it in about 17 steps.
fn gap_end(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let target = local.and_utc().timestamp();
    let is_past = |x: i64| {
        let Some(at) = DateTime::<Utc>::from_timestamp(x, 0) else {
            return x > target;
        };
        let offset = tz
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc();
        x + i64::from(offset) > target
    };
    let window = 30 * 3600;
    let (mut lo, mut hi) = (target - window, target + window);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if is_past(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::<Utc>::from_timestamp(hi, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
