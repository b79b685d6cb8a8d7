//! Time text (`2021-01-01`, `2021-01-01 12:00:30.5+02:00`) and the zone that bare local times are read in.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, Utc};

/// A time read from text, before a zone is applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// `YYYY-MM-DD`: a whole day.
    Date(NaiveDate),
    /// A date and a time of day without an offset: local time.
    Local(NaiveDateTime),
    /// A date and time with `Z` or an offset: one instant.
    Instant(DateTime<Utc>),
}

impl Parsed {
    /// The first instant the text can mean: midnight for a bare date.
    pub(crate) fn first_instant(self, zone: &Zone) -> Option<DateTime<Utc>> {
        match self {
            Parsed::Date(date) => zone.to_utc(date.and_time(NaiveTime::MIN)),
            Parsed::Local(naive) => zone.to_utc(naive),
            Parsed::Instant(instant) => Some(instant),
        }
    }

    /// The last instant the text can mean: the last nanosecond of the day for a
    /// bare date, so that `$max=2021-01-01` covers the whole of that day.
    pub(crate) fn last_instant(self, zone: &Zone) -> Option<DateTime<Utc>> {
        match self {
            Parsed::Date(date) => {
                let next = zone.to_utc(date.succ_opt()?.and_time(NaiveTime::MIN))?;
                next.checked_sub_signed(TimeDelta::nanoseconds(1))
            }
            other => other.first_instant(zone),
        }
    }
}

/// Reads ISO-8601-style time text; `None` when it is not one.
///
/// Accepted: `YYYY-MM-DD`, then optionally a `T`, `t` or space and `HH:MM`,
/// `HH:MM:SS` or `HH:MM:SS.fff` (`.` or `,`, 1 to 9 digits used, more ignored),
/// then optionally `Z`, `z`, `+HH`, `+HHMM` or `+HH:MM` (or `-`). Nothing else:
/// no month names, no `20210101`, no `01/02/2021` (the original's permissive
/// parser took those; they are ambiguous).
pub(crate) fn parse(text: &str) -> Option<Parsed> {
    let mut cur = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = cur.number(4)?;
    cur.eat(b'-').then_some(())?;
    let month = cur.number(2)?;
    cur.eat(b'-').then_some(())?;
    let day = cur.number(2)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    if cur.at_end() {
        return Some(Parsed::Date(date));
    }
    if !(cur.eat(b' ') || cur.eat(b'T') || cur.eat(b't')) {
        return None;
    }
    let hour = cur.number(2)?;
    cur.eat(b':').then_some(())?;
    let minute = cur.number(2)?;
    let (mut second, mut nano) = (0, 0);
    if cur.eat(b':') {
        second = cur.number(2)?;
        if cur.eat(b'.') || cur.eat(b',') {
            nano = cur.fraction()?;
        }
    }
    let naive = date.and_time(NaiveTime::from_hms_nano_opt(hour, minute, second, nano)?);
    if cur.at_end() {
        return Some(Parsed::Local(naive));
    }
    let offset = cur.offset()?;
    if !cur.at_end() {
        return None;
    }
    Some(Parsed::Instant(naive.checked_sub_offset(offset)?.and_utc()))
}

/// The zone in which times without an offset are read.
#[derive(Clone)]
pub(crate) enum Zone {
    /// A fixed offset from UTC (UTC itself by default).
    Fixed(FixedOffset),
    /// The caller's mapping from local to UTC time (a time-zone database lookup).
    Custom(Arc<dyn Fn(NaiveDateTime) -> Option<DateTime<Utc>> + Send + Sync>),
}

impl Zone {
    /// The instant of the local time `naive`, or `None` when it does not exist.
    pub(crate) fn to_utc(&self, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Fixed(offset) => Some(naive.checked_sub_offset(*offset)?.and_utc()),
            Zone::Custom(local) => local(naive),
        }
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(Utc.fix())
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Fixed(offset) => write!(f, "Fixed({offset})"),
            Zone::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// A position in time text; every read is bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn digit(&mut self) -> Option<u32> {
        let d = self.peek().filter(u8::is_ascii_digit)?;
        self.pos += 1;
        Some(u32::from(d - b'0'))
    }

    /// Exactly `width` ASCII digits.
    fn number(&mut self, width: usize) -> Option<u32> {
        (0..width).try_fold(0, |acc, _| Some(acc * 10 + self.digit()?))
    }

    /// One or more digits of a fraction of a second, as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let mut nano = 0;
        let mut count: u32 = 0;
        while let Some(d) = self.digit() {
            if count < 9 {
                nano = nano * 10 + d;
            }
            count = count.saturating_add(1);
        }
        if count == 0 {
            return None;
        }
        Some(nano * 10u32.pow(9u32.saturating_sub(count)))
    }

    /// `Z`, `z`, `+HH`, `+HHMM`, `+HH:MM` or the same with `-`.
    fn offset(&mut self) -> Option<FixedOffset> {
        if self.eat(b'Z') || self.eat(b'z') {
            return FixedOffset::east_opt(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = self.number(2)?;
        let minutes = if self.eat(b':') {
            self.number(2)?
        } else if self.at_end() {
            0
        } else {
            self.number(2)?
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        FixedOffset::east_opt(sign * i32::try_from(hours * 3600 + minutes * 60).ok()?)
    }
}
