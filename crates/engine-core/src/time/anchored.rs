//! [`AnchoredPeriod`]: a start and an end offset inside a minute, hour, day, week
//! or month cycle, with membership and roll back / roll forward (time.md §2-§5).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::calendar::add_nanos;
use super::cycle::{Cycle, Occurrences};
use super::literal;
use super::zone::{self, InstantInterval, to_instant, to_local};
use super::{DAY, HOUR, Interval, MINUTE, Nanos, SECOND, Side, Unit};
use crate::Error;

/// An anchored period: two offsets inside a cycle (time.md §2, §4, §5).
///
/// Offsets are nanoseconds from the start of the cycle (Monday 00:00 for a week,
/// the 1st 00:00 for a month). `start == end` is the full cycle with its boundary
/// at `start`; `start > end` wraps over the cycle boundary (overnight, over the
/// weekend, over the month end). Both ends are inclusive.
///
/// A month's end offset past the real length of the month is clamped to its last
/// nanosecond, and a start past it lands on the next 1st 00:00 (time.md §5.4 with
/// the recommended fix: month ends never spill into the next month).
///
/// ```
/// use chrono::NaiveDate;
/// use engine_core::time::{AnchoredPeriod, Unit};
///
/// let at = |d: u32, h: u32| NaiveDate::from_ymd_opt(2024, 1, d).and_then(|d| d.and_hms_opt(h, 0, 0)).ok_or("date");
/// let night = AnchoredPeriod::new(Unit::Day, Some("22:00"), Some("02:00"))?;
/// assert!(night.contains(at(1, 23)?));
/// assert!(!night.contains(at(1, 12)?));
/// let window = night.rollback(at(2, 1)?);
/// assert_eq!((window.start, window.end), (at(1, 22)?, at(2, 1)?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnchoredPeriod {
    unit: Unit,
    start: Nanos,
    end: Nanos,
}

impl AnchoredPeriod {
    /// `between start and end`, `after start` (no end), `before end` (no start) or
    /// the whole cycle (neither).
    ///
    /// A missing start is offset 0, a missing end the last nanosecond of the
    /// nominal cycle (for a month: 31 days - 1 ns, clamped to each month's real
    /// end). A day-only week or month end (`Fri`, `5th`) covers that whole day.
    pub fn new(unit: Unit, start: Option<&str>, end: Option<&str>) -> Result<Self, Error> {
        let start = match start {
            Some(text) => literal::parse_literal(unit, text, Side::Start)?,
            None => 0,
        };
        let end = match end {
            Some(text) => literal::parse_literal(unit, text, Side::End)?,
            None => unit.nominal_length() - 1,
        };
        Ok(AnchoredPeriod { unit, start, end })
    }

    /// `on start`: from `start` to `start + unit - 1 ns` (time.md §3.6), where the
    /// unit is 1 s / 1 min / 1 h / 1 day / 1 day for a minute / hour / day / week /
    /// month cycle. An end past the nominal cycle wraps into the next cycle
    /// (`daily on 23:30` is 23:30 to 00:29:59.999999999).
    pub fn on(unit: Unit, start: &str) -> Result<Self, Error> {
        let start = literal::parse_literal(unit, start, Side::Start)?;
        let end = (start + unit.on_length() - 1) % unit.nominal_length();
        Ok(AnchoredPeriod { unit, start, end })
    }

    /// `starting start`: the full cycle whose boundary is at `start` (DESIGN.md:
    /// always a full cycle, also for day-only week and month literals).
    pub fn starting(unit: Unit, start: &str) -> Result<Self, Error> {
        let start = literal::parse_literal(unit, start, Side::Start)?;
        Ok(AnchoredPeriod {
            unit,
            start,
            end: start,
        })
    }

    /// The whole cycle: `daily`, `today`, `this week` ...
    pub fn whole(unit: Unit) -> Self {
        AnchoredPeriod {
            unit,
            start: 0,
            end: unit.nominal_length() - 1,
        }
    }

    /// A period from raw offsets. Offsets outside the nominal cycle are clamped into
    /// `0 ..= nominal length - 1 ns`.
    pub fn from_offsets(unit: Unit, start: Nanos, end: Nanos) -> Self {
        let last = unit.nominal_length() - 1;
        AnchoredPeriod {
            unit,
            start: start.clamp(0, last),
            end: end.clamp(0, last),
        }
    }

    /// The cycle.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// The start offset inside the cycle.
    pub fn start_ns(&self) -> Nanos {
        self.start
    }

    /// The end offset inside the cycle.
    pub fn end_ns(&self) -> Nanos {
        self.end
    }

    /// Whether the period is a full cycle (`start == end`): it contains every
    /// instant, and its occurrences meet at the boundary.
    pub fn is_full_cycle(&self) -> bool {
        self.start == self.end
    }

    /// Whether `at` lies inside an occurrence of the period (both ends inclusive).
    pub fn contains(&self, at: NaiveDateTime) -> bool {
        self.occurrences().contains(at)
    }

    /// The current occurrence up to `at` when `at` is inside, else the whole most
    /// recent occurrence (time.md §5).
    ///
    /// At exactly the boundary of a full cycle the boundary closes the previous
    /// cycle: `daily starting 10:00` rolled back from 10:00 is yesterday 10:00 to
    /// today 10:00 (QUIRK-T3, the intended value).
    pub fn rollback(&self, at: NaiveDateTime) -> Interval {
        // Every cycle near `at` has an occurrence except possibly one month in a
        // row, which the search covers, so the fallback is never used.
        self.occurrences()
            .rollback(at)
            .unwrap_or(Interval { start: at, end: at })
    }

    /// From `at` to the end of the current occurrence when `at` is inside, else the
    /// whole next occurrence (time.md §5).
    ///
    /// At exactly the boundary of a full cycle the boundary opens the next cycle:
    /// `daily starting 10:00` rolled forward from 10:00 is today 10:00 to tomorrow
    /// 10:00 (QUIRK-T3, the intended value).
    pub fn rollforward(&self, at: NaiveDateTime) -> Interval {
        // As in `rollback`, the fallback is never used.
        self.occurrences()
            .rollforward(at)
            .unwrap_or(Interval { start: at, end: at })
    }

    /// The first instant after `at` at which [`AnchoredPeriod::contains`] or the
    /// start of [`AnchoredPeriod::rollback`] changes: the start of the next
    /// occurrence or the nanosecond after the current one ends. For a full cycle,
    /// the nanosecond after the next boundary.
    pub fn next_change(&self, at: NaiveDateTime) -> NaiveDateTime {
        self.occurrences()
            .next_change(at)
            .unwrap_or(super::MAX_TIME)
    }

    /// [`AnchoredPeriod::rollback`] of the local time of `now` in `tz`, as
    /// instants (time zones and daylight saving: see `docs/time-zones.md`).
    ///
    /// The end is `now` when `now` is inside, and never after `now`. Starts map by
    /// [`to_instant`] with [`Side::Start`], except that an occurrence that directly
    /// follows the previous one (`daily`, `monthly`, full cycles) never starts
    /// before the previous one ended: when a repeated hour straddles the boundary,
    /// the repeated hour belongs to the earlier occurrence, so consecutive windows
    /// cover every instant exactly once.
    pub fn rollback_in(&self, tz: Tz, now: DateTime<Utc>) -> InstantInterval {
        let local = to_local(tz, now);
        let window = self.rollback(local);
        let start = self.start_instant(tz, window.start);
        let converted = zone::back_to_instants(tz, now, local, window);
        if start <= converted.end {
            return InstantInterval {
                start,
                end: converted.end,
            };
        }
        // `now` lies in the second pass of a repeated hour that the previous
        // occurrence claims: it belongs to that occurrence.
        let previous = self.rollback(add_nanos(window.start, -1));
        InstantInterval {
            start: self.start_instant(tz, previous.start).min(now),
            end: now,
        }
    }

    /// [`AnchoredPeriod::rollforward`] of the local time of `now` in `tz`, as
    /// instants: the start is `now` when `now` is inside, and never before `now`;
    /// starts follow the rule of [`AnchoredPeriod::rollback_in`].
    pub fn rollforward_in(&self, tz: Tz, now: DateTime<Utc>) -> InstantInterval {
        let local = to_local(tz, now);
        let window = self.rollforward(local);
        let converted = zone::forward_to_instants(tz, now, local, window);
        if window.start == local {
            return converted;
        }
        let start = self.start_instant(tz, window.start).max(now);
        InstantInterval {
            start,
            end: converted.end.max(start),
        }
    }

    /// The instant an occurrence starting at local `start` begins: by the policy,
    /// but not before the end of a directly preceding occurrence.
    fn start_instant(&self, tz: Tz, start: NaiveDateTime) -> DateTime<Utc> {
        let instant = to_instant(tz, start, Side::Start);
        let before = add_nanos(start, -1);
        if before == start || !self.contains(before) {
            return instant;
        }
        let previous_end = to_instant(tz, before, Side::End);
        instant.max(
            previous_end
                .checked_add_signed(TimeDelta::nanoseconds(1))
                .unwrap_or(previous_end),
        )
    }

    fn occurrences(&self) -> Occurrences {
        Occurrences {
            cycle: cycle_of(self.unit),
            start: self.start,
            end: self.end,
        }
    }
}

/// The cycle of a unit: fixed lengths aligned on 1970-01-01 00:00 (a Thursday, so
/// weeks start four days later), or calendar months.
fn cycle_of(unit: Unit) -> Cycle {
    match unit {
        Unit::Minute | Unit::Hour | Unit::Day => Cycle::Fixed {
            len: unit.nominal_length(),
            origin: 0,
        },
        Unit::Week => Cycle::Fixed {
            len: unit.nominal_length(),
            origin: 4 * i128::from(DAY),
        },
        Unit::Month => Cycle::Month,
    }
}

/// Renders the period as the phrase that builds it after `time of <unit>`:
/// `between 10:00 and 12:00`, `after Tue 10:00`, `before 5th`, or the empty text
/// for the whole cycle. Offsets that no literal produces are rendered as the
/// nearest literal form with all digits (`between 10:00:00.5 and 12:00`).
impl fmt::Display for AnchoredPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.unit.nominal_length() - 1;
        let start = render_offset(self.unit, self.start, Side::Start);
        let end = render_offset(self.unit, self.end, Side::End);
        match (self.start, self.end) {
            (0, e) if e == last => Ok(()),
            (s, e) if s == e => write!(f, "starting {start}"),
            (_, e) if e == last => write!(f, "after {start}"),
            (0, _) => write!(f, "before {end}"),
            _ => write!(f, "between {start} and {end}"),
        }
    }
}

/// A literal for `offset` of `unit` on `side`, which [`literal::parse_literal`]
/// reads back as the same offset.
pub(super) fn render_offset(unit: Unit, offset: Nanos, side: Side) -> String {
    match unit {
        Unit::Minute => render_seconds(offset),
        Unit::Hour => format!("{:02}:{}", offset / MINUTE, render_seconds(offset % MINUTE)),
        Unit::Day => render_clock(offset),
        Unit::Week => {
            let (day, time) = split_day(offset, side);
            let name = WEEKDAY_ABBREVIATIONS
                .get(usize::try_from(day).unwrap_or(0))
                .unwrap_or(&"Mon");
            join_day(name, time)
        }
        Unit::Month => {
            let (day, time) = split_day(offset, side);
            join_day(&ordinal(day + 1), time)
        }
    }
}

const WEEKDAY_ABBREVIATIONS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The day index and the time of day of a week/month offset; `None` as the time
/// when the literal is a whole day on that side (start 00:00, end 23:59:59.999999999).
fn split_day(offset: Nanos, side: Side) -> (Nanos, Option<Nanos>) {
    let (day, time) = (offset / DAY, offset % DAY);
    let whole = match side {
        Side::Start => time == 0,
        Side::End => time == DAY - 1,
    };
    (day, (!whole).then_some(time))
}

fn join_day(day: &str, time: Option<Nanos>) -> String {
    match time {
        Some(time) => format!("{day} {}", render_clock(time)),
        None => day.to_owned(),
    }
}

pub(super) fn ordinal(n: Nanos) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f` (trailing zeros of the fraction dropped).
pub(super) fn render_clock(offset: Nanos) -> String {
    let (hours, minutes, rest) = (offset / HOUR, offset % HOUR / MINUTE, offset % MINUTE);
    if rest == 0 {
        format!("{hours:02}:{minutes:02}")
    } else {
        format!("{hours:02}:{minutes:02}:{}", render_seconds(rest))
    }
}

/// `SS` or `SS.f` (trailing zeros of the fraction dropped).
fn render_seconds(offset: Nanos) -> String {
    let (seconds, nanos) = (offset / SECOND, offset % SECOND);
    if nanos == 0 {
        format!("{seconds:02}")
    } else {
        let fraction = format!("{nanos:09}");
        format!("{seconds:02}.{}", fraction.trim_end_matches('0'))
    }
}
