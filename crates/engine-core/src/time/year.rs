//! [`YearPeriod`]: the time of year (time.md §3.7), a start and an end inside the
//! calendar year, in 31-day month slots. Not reachable from condition strings.

use std::fmt;

use chrono::NaiveDateTime;

use super::anchored::{ordinal, render_clock};
use super::cycle::{Cycle, Occurrences};
use super::literal::{Literal, parse_day_of_month};
use super::{DAY, Interval, Nanos, Side};
use crate::{Error, ErrorKind};

/// The length of one month slot.
const SLOT: Nanos = 31 * DAY;

/// The nominal length of the year cycle: twelve 31-day slots.
const YEAR: Nanos = 12 * SLOT;

/// A period inside the calendar year: offsets are `(month - 1) * 31 days +
/// (day - 1) days + time of day`, so every month has a 31-day slot.
///
/// Membership follows time.md §4 like [`super::AnchoredPeriod`]. Rolling uses real
/// calendar arithmetic (Red Engine 1.2 rolled by 366 days, which is wrong): an end
/// past the real month length is clamped to the month's last nanosecond, a start
/// past it lands on the next 1st 00:00.
///
/// ```
/// use chrono::NaiveDate;
/// use engine_core::time::YearPeriod;
///
/// let winter = YearPeriod::new(Some("Dec 21st"), Some("Mar 20th"))?;
/// let at = NaiveDate::from_ymd_opt(2024, 2, 29).and_then(|d| d.and_hms_opt(12, 0, 0)).ok_or("date")?;
/// assert!(winter.contains(at));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct YearPeriod {
    start: Nanos,
    end: Nanos,
}

impl YearPeriod {
    /// `between start and end`, `after start`, `before end` or the whole year. A
    /// literal is `<Monthname>[ ][<day of month>[ <time of day>]]` with English
    /// month names or abbreviations (`January`, `Jan`, case-sensitive); on the end
    /// side a month alone covers the whole month and a day alone the whole day.
    pub fn new(start: Option<&str>, end: Option<&str>) -> Result<Self, Error> {
        let start = match start {
            Some(text) => parse_year_literal(text, Side::Start)?,
            None => 0,
        };
        let end = match end {
            Some(text) => parse_year_literal(text, Side::End)?,
            None => YEAR - 1,
        };
        Ok(YearPeriod { start, end })
    }

    /// A period from raw slot offsets, clamped into `0 ..= 372 days - 1 ns`.
    pub fn from_offsets(start: Nanos, end: Nanos) -> Self {
        YearPeriod {
            start: start.clamp(0, YEAR - 1),
            end: end.clamp(0, YEAR - 1),
        }
    }

    /// The start offset inside the year.
    pub fn start_ns(&self) -> Nanos {
        self.start
    }

    /// The end offset inside the year.
    pub fn end_ns(&self) -> Nanos {
        self.end
    }

    /// Whether `at` lies inside an occurrence (both ends inclusive).
    pub fn contains(&self, at: NaiveDateTime) -> bool {
        self.occurrences().contains(at)
    }

    /// The current occurrence up to `at`, else the whole most recent one; `None`
    /// when there is none within nine years (a period inside February 29th).
    pub fn rollback(&self, at: NaiveDateTime) -> Option<Interval> {
        self.occurrences().rollback(at)
    }

    /// From `at` to the end of the current occurrence, else the whole next one;
    /// `None` when there is none within nine years.
    pub fn rollforward(&self, at: NaiveDateTime) -> Option<Interval> {
        self.occurrences().rollforward(at)
    }

    fn occurrences(&self) -> Occurrences {
        Occurrences {
            cycle: Cycle::Year,
            start: self.start,
            end: self.end,
        }
    }
}

/// English month names, January first, as (full, abbreviation).
const MONTHS: [(&str, &str); 12] = [
    ("January", "Jan"),
    ("February", "Feb"),
    ("March", "Mar"),
    ("April", "Apr"),
    ("May", "May"),
    ("June", "Jun"),
    ("July", "Jul"),
    ("August", "Aug"),
    ("September", "Sep"),
    ("October", "Oct"),
    ("November", "Nov"),
    ("December", "Dec"),
];

const TIME_OF_YEAR: &str = "a month like Jan, February or Mar 5th 10:00";

/// A time-of-year literal: its offset for `side`.
fn parse_year_literal(text: &str, side: Side) -> Result<Nanos, Error> {
    let text = text.trim();
    let found = MONTHS
        .iter()
        .zip(0_i64..)
        .find_map(|((full, abbr), month)| {
            let rest = text
                .strip_prefix(full)
                .or_else(|| text.strip_prefix(abbr))?;
            Some((month, rest))
        });
    let Some((month, rest)) = found else {
        return Err(Error::new(
            ErrorKind::InvalidTime,
            format!("expected {TIME_OF_YEAR}, found '{text}'"),
        ));
    };
    let slot = month * SLOT;
    if rest.is_empty() {
        return Ok(match side {
            Side::Start => slot,
            Side::End => slot + SLOT - 1,
        });
    }
    let day = rest.strip_prefix(' ').unwrap_or(rest);
    let literal: Literal = parse_day_of_month(day, TIME_OF_YEAR)?;
    Ok(slot + literal.offset(side))
}

/// Renders the period as `between <start> and <end>` (or `after` / `before`, or the
/// empty text for the whole year) with literals [`YearPeriod::new`] reads back.
impl fmt::Display for YearPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = render(self.start, Side::Start);
        let end = render(self.end, Side::End);
        match (self.start, self.end) {
            (0, e) if e == YEAR - 1 => Ok(()),
            (_, e) if e == YEAR - 1 => write!(f, "after {start}"),
            (0, _) => write!(f, "before {end}"),
            _ => write!(f, "between {start} and {end}"),
        }
    }
}

fn render(offset: Nanos, side: Side) -> String {
    let month = usize::try_from(offset / SLOT).unwrap_or(0);
    let name = MONTHS.get(month).map_or("Jan", |(_, abbr)| abbr);
    let within = offset % SLOT;
    let (whole_month, whole_day) = match side {
        Side::Start => (within == 0, within % DAY == 0),
        Side::End => (within == SLOT - 1, within % DAY == DAY - 1),
    };
    let day = ordinal(within / DAY + 1);
    if whole_month {
        name.to_owned()
    } else if whole_day {
        format!("{name} {day}")
    } else {
        format!("{name} {day} {}", render_clock(within % DAY))
    }
}
