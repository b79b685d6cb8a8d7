//! The occurrence machinery shared by anchored periods: where a cycle starts, where
//! an offset lands in a given cycle (clamped to real month lengths), and roll back
//! / roll forward over a handful of neighbouring occurrences (O(1), no day loops).

use chrono::NaiveDateTime;

use super::calendar::{self, Ticks};
use super::{DAY, Interval, Nanos, Side};

/// How local time is cut into cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cycle {
    /// Cycles of a fixed length, the first one starting `origin` ticks after
    /// 1970-01-01 00:00 (minute, hour, day, week).
    Fixed {
        /// The cycle length.
        len: Nanos,
        /// The start of one cycle.
        origin: Ticks,
    },
    /// Calendar months; offsets are `(day - 1) days + time of day`.
    Month,
    /// Calendar years; offsets are `(month - 1) * 31 days + (day - 1) days + time`
    /// (31-day month slots).
    Year,
}

/// Thirty-one days: a month slot of a year cycle.
const SLOT: Nanos = 31 * DAY;

impl Cycle {
    /// The index of the cycle containing `t`.
    pub(super) fn index(self, t: NaiveDateTime) -> i128 {
        match self {
            Cycle::Fixed { len, origin } => {
                (calendar::to_ticks(t) - origin).div_euclid(i128::from(len))
            }
            Cycle::Month => calendar::month_index(t),
            Cycle::Year => calendar::month_index(t).div_euclid(12),
        }
    }

    /// The offset of `t` inside its cycle (time.md §2, `a(dt)`).
    pub(super) fn offset(self, t: NaiveDateTime) -> Nanos {
        let ticks = calendar::to_ticks(t);
        let rel = match self {
            Cycle::Fixed { len, origin } => (ticks - origin).rem_euclid(i128::from(len)),
            Cycle::Month => ticks - calendar::month_bounds(calendar::month_index(t)).0,
            Cycle::Year => {
                let month = calendar::month_index(t);
                let slot = i128::from(SLOT) * month.rem_euclid(12);
                slot + ticks - calendar::month_bounds(month).0
            }
        };
        // The offset is below the cycle length (at most a year), so it fits.
        Nanos::try_from(rel).unwrap_or(0)
    }

    /// Where `offset` lands in cycle `index`. For calendar cycles an offset past the
    /// real month length is clamped: a start lands on the 1st 00:00 of the next
    /// month, an end on the last nanosecond of the month (month ends never spill).
    pub(super) fn place(self, index: i128, offset: Nanos, side: Side) -> Ticks {
        match self {
            Cycle::Fixed { len, origin } => origin + index * i128::from(len) + i128::from(offset),
            Cycle::Month => place_in_month(index, offset, side),
            Cycle::Year => {
                let slot = (offset / SLOT).clamp(0, 11);
                place_in_month(index * 12 + i128::from(slot), offset - slot * SLOT, side)
            }
        }
    }

    /// How many cycles on either side of the current one [`Cycle::occurrences`]
    /// looks at: enough to skip cycles without an occurrence (a month without a
    /// 31st, a year without a February 29th).
    fn reach(self) -> i128 {
        match self {
            Cycle::Fixed { .. } => 2,
            Cycle::Month => 3,
            Cycle::Year => 9,
        }
    }
}

fn place_in_month(index: i128, offset: Nanos, side: Side) -> Ticks {
    let (start, len) = calendar::month_bounds(index);
    let offset = match side {
        Side::Start => offset.min(len),
        Side::End => offset.min(len - 1),
    };
    start + i128::from(offset)
}

/// Two offsets inside a cycle: the occurrences of an anchored period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Occurrences {
    /// How time is cut into cycles.
    pub(super) cycle: Cycle,
    /// The start offset.
    pub(super) start: Nanos,
    /// The end offset.
    pub(super) end: Nanos,
}

impl Occurrences {
    /// Whether the period is a full cycle (start == end, time.md §4 rule 1).
    pub(super) fn is_full(&self) -> bool {
        self.start == self.end
    }

    /// Membership by offsets (time.md §4): full cycle, plain, or wrapping.
    pub(super) fn contains(&self, t: NaiveDateTime) -> bool {
        let a = self.cycle.offset(t);
        let (s, e) = (self.start, self.end);
        if s == e {
            true
        } else if s < e {
            s <= a && a <= e
        } else {
            a >= s || a <= e
        }
    }

    /// The occurrence anchored in cycle `index`, if that cycle has one.
    fn occurrence(&self, index: i128) -> Option<(Ticks, Ticks)> {
        let (s, e) = (self.start, self.end);
        let start = self.cycle.place(index, s, Side::Start);
        let end = if s < e {
            self.cycle.place(index, e, Side::End)
        } else if s > e {
            self.cycle.place(index + 1, e, Side::End)
        } else {
            self.cycle.place(index + 1, s, Side::Start)
        };
        (start <= end).then_some((start, end))
    }

    /// The occurrences near `t`, in time order.
    fn around(&self, t: NaiveDateTime) -> impl Iterator<Item = (Ticks, Ticks)> + '_ {
        let index = self.cycle.index(t);
        let reach = self.cycle.reach();
        (index - reach..=index + reach).filter_map(move |k| self.occurrence(k))
    }

    /// time.md §5 roll back: `[start of the occurrence containing t, t]` (the
    /// earliest such occurrence, so a full-cycle boundary closes the previous
    /// cycle), else the whole latest occurrence that ended before `t`.
    pub(super) fn rollback(&self, t: NaiveDateTime) -> Option<Interval> {
        let now = calendar::to_ticks(t);
        let mut latest_before: Option<(Ticks, Ticks)> = None;
        for (s, e) in self.around(t) {
            if s <= now && now <= e {
                return Some(Interval {
                    start: calendar::from_ticks(s),
                    end: t,
                });
            }
            if e < now {
                latest_before = Some((s, e));
            }
        }
        latest_before.map(|(s, e)| interval(s, e))
    }

    /// time.md §5 roll forward: `[t, end of the occurrence containing t]` (the
    /// latest such occurrence, so a full-cycle boundary opens the next cycle), else
    /// the whole first occurrence that starts after `t`.
    pub(super) fn rollforward(&self, t: NaiveDateTime) -> Option<Interval> {
        let now = calendar::to_ticks(t);
        let mut containing: Option<Ticks> = None;
        for (s, e) in self.around(t) {
            if s <= now && now <= e {
                containing = Some(e);
            } else if s > now {
                return Some(match containing {
                    Some(end) => Interval {
                        start: t,
                        end: calendar::from_ticks(end),
                    },
                    None => interval(s, e),
                });
            }
        }
        containing.map(|end| Interval {
            start: t,
            end: calendar::from_ticks(end),
        })
    }

    /// The first instant after `t` at which membership or the rolled-back window
    /// changes: the start of an occurrence, or the nanosecond after its end. For a
    /// full cycle, the nanosecond after a boundary (the boundary itself still closes
    /// the previous cycle).
    pub(super) fn next_change(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let now = calendar::to_ticks(t);
        let full = self.is_full();
        self.around(t)
            .flat_map(|(s, e)| if full { [s + 1, e + 1] } else { [s, e + 1] })
            .filter(|&c| c > now)
            .min()
            .map(calendar::from_ticks)
    }
}

fn interval(start: Ticks, end: Ticks) -> Interval {
    Interval {
        start: calendar::from_ticks(start),
        end: calendar::from_ticks(end),
    }
}
