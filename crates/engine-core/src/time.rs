//! Time periods: anchored cycles (time of minute / hour / day / week / month),
//! durations, membership, roll back / roll forward, and local time in a zone.
//!
//! All period arithmetic works on naive *local* wall-clock time
//! ([`NaiveDateTime`], nanosecond resolution); [`to_instant`] and [`to_local`]
//! convert at the edges with the session's time zone and its daylight-saving
//! policy.
//!
//! OWNED BY THE TIME-PERIODS WORK. The signatures below are the contract the
//! condition parser and evaluator are written against.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::Error;

/// Nanoseconds: offsets inside a cycle.
pub type Nanos = i64;

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

/// Parses a time literal of `unit` (time.md §3) into its offset inside the cycle.
pub fn parse_literal(unit: Unit, text: &str, side: Side) -> Result<Nanos, Error> {
    let _ = (unit, text, side);
    todo!("time periods work")
}

/// An anchored period: two offsets inside a cycle (time.md §2, §4, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnchoredPeriod {
    unit: Unit,
    start: Nanos,
    end: Nanos,
}

impl AnchoredPeriod {
    /// `between start and end`, `after start` (no end), `before end` (no start) or
    /// the whole cycle (neither).
    pub fn new(unit: Unit, start: Option<&str>, end: Option<&str>) -> Result<Self, Error> {
        let _ = (unit, start, end);
        todo!("time periods work")
    }

    /// `on start`: from `start` to `start + unit - 1 ns` (time.md §3.6).
    pub fn on(unit: Unit, start: &str) -> Result<Self, Error> {
        let _ = (unit, start);
        todo!("time periods work")
    }

    /// `starting start`: the full cycle whose boundary is at `start` (DESIGN.md:
    /// always a full cycle, also for day-only week and month literals).
    pub fn starting(unit: Unit, start: &str) -> Result<Self, Error> {
        let _ = (unit, start);
        todo!("time periods work")
    }

    /// A period from raw offsets.
    pub fn from_offsets(unit: Unit, start: Nanos, end: Nanos) -> Self {
        AnchoredPeriod { unit, start, end }
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

    /// Whether `at` lies inside an occurrence of the period (both ends inclusive).
    pub fn contains(&self, at: NaiveDateTime) -> bool {
        let _ = at;
        todo!("time periods work")
    }

    /// The current occurrence up to `at` when `at` is inside, else the whole most
    /// recent occurrence (time.md §5).
    pub fn rollback(&self, at: NaiveDateTime) -> Interval {
        let _ = at;
        todo!("time periods work")
    }

    /// From `at` to the end of the current occurrence when `at` is inside, else the
    /// whole next occurrence (time.md §5).
    pub fn rollforward(&self, at: NaiveDateTime) -> Interval {
        let _ = at;
        todo!("time periods work")
    }
}

/// Parses a duration string (time.md §6.2): `1 day 10 hours 5 minutes`, `2:30:00`,
/// `1h30m`, `PT10M` ... The result is never negative.
pub fn parse_duration(text: &str) -> Result<TimeDelta, Error> {
    let _ = text;
    todo!("time periods work")
}

/// Converts a local wall-clock time in `tz` to an instant, by the daylight-saving
/// policy: a time inside a skipped hour maps to the end of the gap; a repeated time
/// maps to its earlier instant for [`Side::Start`] and its later one for
/// [`Side::End`].
pub fn to_instant(tz: Tz, local: NaiveDateTime, side: Side) -> DateTime<Utc> {
    let _ = (tz, local, side);
    todo!("time periods work")
}

/// The local wall-clock time of `instant` in `tz`.
pub fn to_local(tz: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&tz).naive_local()
}
