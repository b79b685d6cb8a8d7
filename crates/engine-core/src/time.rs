//! Time periods: anchored cycles (time of minute / hour / day / week / month),
//! durations, membership, roll back / roll forward, and local time in a zone.
//!
//! All period arithmetic works on naive *local* wall-clock time
//! ([`NaiveDateTime`], nanosecond resolution); [`to_instant`] and [`to_local`]
//! convert at the edges with the session's time zone and its daylight-saving
//! policy (see `docs/time-zones.md`).
//!
//! The pieces, one file each:
//!
//! * `literal`: the `<start>` / `<end>` texts of phrases (`10:00`, `Tue 10:00`,
//!   `5th`, `15:00`, `1 quarter`) turned into offsets ([`parse_literal`]);
//! * `anchored`: [`AnchoredPeriod`], two offsets inside a cycle, with membership
//!   and rolling in O(1) calendar arithmetic (no loops over days);
//! * `year`: [`YearPeriod`], the time of year (only reachable from code);
//! * `duration`: [`parse_duration`] and [`format_duration`];
//! * `period`: [`Period`], the time-period strings of time.md §7 (`every 10
//!   minutes`, `time of day after 22:00 & time of week before Fri`);
//! * `zone`: [`to_instant`] and [`to_local`], and [`InstantInterval`], the windows
//!   [`AnchoredPeriod::rollback_in`] and [`Period::rollback_in`] give in a zone.
//!
//! Deliberate differences from Red Engine 1.2 (each is a QUIRK of the spec whose
//! recommendation is followed):
//!
//! * literals are strict: bare numbers and weekday names are not times of day,
//!   `1 quarter` is exactly xx:15:00, fractions keep nine digits;
//! * `starting X` is always a full cycle with its boundary at X, also for a
//!   day-only week or month literal (`weekly starting Tue`);
//! * month ends never spill into the next month: an end offset past the real length
//!   of a month is clamped to its last nanosecond;
//! * at exactly the boundary of a full cycle, rolling back gives the whole previous
//!   cycle and rolling forward the whole next one (QUIRK-T3, intended values);
//! * durations need a unit (`every 10` is an error), and `week(s)`, `mins`, `secs`
//!   are accepted;
//! * time-level combinations use closed intervals, and `never` contains nothing.

use chrono::NaiveDateTime;

mod anchored;
mod calendar;
mod cycle;
mod duration;
mod literal;
mod period;
mod year;
mod zone;

#[cfg(test)]
mod tests;

pub use anchored::AnchoredPeriod;
pub use duration::{format_duration, parse_duration};
pub use literal::parse_literal;
pub use period::{Period, parse_period};
pub use year::YearPeriod;
pub use zone::{InstantInterval, to_instant, to_local};

/// Nanoseconds: offsets inside a cycle.
pub type Nanos = i64;

/// One second in [`Nanos`].
pub const SECOND: Nanos = 1_000_000_000;
/// One minute in [`Nanos`].
pub const MINUTE: Nanos = 60 * SECOND;
/// One hour in [`Nanos`].
pub const HOUR: Nanos = 60 * MINUTE;
/// One day (24 hours of wall-clock time) in [`Nanos`].
pub const DAY: Nanos = 24 * HOUR;

/// The cycle of an anchored period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Each clock minute.
    Minute,
    /// Each clock hour.
    Hour,
    /// Each calendar day, 00:00 to 24:00.
    Day,
    /// Monday 00:00 to the next Monday 00:00.
    Week,
    /// The 1st 00:00 to the next 1st 00:00.
    Month,
}

impl Unit {
    /// The nominal length of the cycle: 60 s, 1 h, 1 day, 7 days, and 31 days for
    /// a month (real months are shorter; their ends are clamped).
    pub fn nominal_length(self) -> Nanos {
        match self {
            Unit::Minute => MINUTE,
            Unit::Hour => HOUR,
            Unit::Day => DAY,
            Unit::Week => 7 * DAY,
            Unit::Month => 31 * DAY,
        }
    }

    /// The length of an `on` time point: 1 s, 1 min, 1 h, 1 day, 1 day
    /// (time.md §3.6).
    pub fn on_length(self) -> Nanos {
        match self {
            Unit::Minute => SECOND,
            Unit::Hour => MINUTE,
            Unit::Day => HOUR,
            Unit::Week | Unit::Month => DAY,
        }
    }

    /// The word used after `time of`: `minute`, `hour`, `day`, `week`, `month`.
    pub fn word(self) -> &'static str {
        match self {
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
        }
    }
}

/// Which end of a period a literal is for: end-side day literals (`Fri`, `5th`)
/// cover that whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The start of a period.
    Start,
    /// The end of a period.
    End,
}

/// A closed interval of local times, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// The first instant inside.
    pub start: NaiveDateTime,
    /// The last instant inside.
    pub end: NaiveDateTime,
}

impl Interval {
    /// Whether `at` lies inside (both ends inclusive).
    pub fn contains(&self, at: NaiveDateTime) -> bool {
        self.start <= at && at <= self.end
    }

    /// Whether the two closed intervals share at least one instant.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// The earliest local time periods work with (the sentinel start of `always`).
pub const MIN_TIME: NaiveDateTime = NaiveDateTime::MIN;

/// The latest local time periods work with (the sentinel end of `always`).
pub const MAX_TIME: NaiveDateTime = NaiveDateTime::MAX;
