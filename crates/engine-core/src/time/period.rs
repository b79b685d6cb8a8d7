//! [`Period`]: any time period, as built by the time-period strings of time.md §7
//! (`time of day between 10:00 and 12:00 & time of week before Fri`, `every 10
//! minutes`, `past 2 hours`, `always`, `never`), with membership and rolling,
//! including the time-level combinations All (`&`) and Any (`|`) of §8.

use std::fmt;
use std::ops::Range;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::calendar::{self, add_nanos};
use super::zone::{self, InstantInterval, to_local};
use super::{
    AnchoredPeriod, Interval, MAX_TIME, MIN_TIME, Side, Unit, YearPeriod, format_duration,
    parse_duration, parse_literal,
};
use crate::{Error, ErrorKind};

/// How many steps the All / Any searches take before giving up: All looks this many
/// occurrences back or ahead for a common one; Any merges at most this many
/// overlapping occurrences.
const MAX_STEPS: usize = 2000;

/// A time period (time.md §2, §7, §8).
///
/// ```
/// use chrono::NaiveDate;
/// use engine_core::time::{parse_period, Period};
///
/// let period: Period = "time of day between 08:00 and 18:00 & time of week before Fri".parse()?;
/// let at = NaiveDate::from_ymd_opt(2024, 1, 3).and_then(|d| d.and_hms_opt(12, 0, 0)).ok_or("date")?;
/// assert!(period.contains(at));
/// assert_eq!(period.to_string(), "time of day between 08:00 and 18:00 & time of week before Fri");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Period {
    /// A period anchored in a minute, hour, day, week or month cycle.
    Anchored(AnchoredPeriod),
    /// A period anchored in the calendar year.
    Year(YearPeriod),
    /// Relative to a reference instant R: from `R - past` to `R + future`
    /// (`every 10 minutes`, `past 2 hours`). Both are never negative.
    Delta {
        /// How far back from the reference.
        past: TimeDelta,
        /// How far ahead of the reference.
        future: TimeDelta,
    },
    /// All time (`always`).
    Always,
    /// No time at all (`never`; Red Engine 1.2 let `now` be inside it, QUIRK-T7).
    Never,
    /// Every member at once (`a & b`), at least two members.
    All(Vec<Period>),
    /// Any member (`a | b`), at least two members.
    Any(Vec<Period>),
}

impl Period {
    /// A [`Period::Delta`] looking `past` back (negative values count as their
    /// absolute value).
    pub fn past(past: TimeDelta) -> Self {
        Period::Delta {
            past: past.abs(),
            future: TimeDelta::zero(),
        }
    }

    /// Whether `at` is inside the period; a [`Period::Delta`] is taken relative to
    /// `at` itself, so it always contains it.
    pub fn contains(&self, at: NaiveDateTime) -> bool {
        self.contains_relative(at, at)
    }

    /// Whether `at` is inside the period when a [`Period::Delta`] is taken relative
    /// to `reference`: `reference - past <= at <= reference + future`. All and Any
    /// are the conjunction and disjunction of their members (QUIRK-T8 fixed).
    pub fn contains_relative(&self, at: NaiveDateTime, reference: NaiveDateTime) -> bool {
        match self {
            Period::Anchored(period) => period.contains(at),
            Period::Year(period) => period.contains(at),
            Period::Delta { past, future } => {
                let ticks = calendar::to_ticks(at);
                let reference = calendar::to_ticks(reference);
                reference - delta_nanos(*past) <= ticks && ticks <= reference + delta_nanos(*future)
            }
            Period::Always => true,
            Period::Never => false,
            Period::All(items) => items.iter().all(|p| p.contains_relative(at, reference)),
            Period::Any(items) => items.iter().any(|p| p.contains_relative(at, reference)),
        }
    }

    /// The current occurrence up to `at` when `at` is inside, else the whole most
    /// recent occurrence (time.md §5, §6.3, §7, §8); `None` when there is none
    /// (`never`, or an All whose members have no common time nearby).
    pub fn rollback(&self, at: NaiveDateTime) -> Option<Interval> {
        match self {
            Period::Anchored(period) => Some(period.rollback(at)),
            Period::Year(period) => period.rollback(at),
            Period::Delta { past, .. } => Some(Interval {
                start: add_nanos(at, -delta_nanos(*past)),
                end: at,
            }),
            Period::Always => Some(Interval {
                start: MIN_TIME,
                end: at,
            }),
            Period::Never => None,
            Period::All(items) => all_rollback(items, at),
            Period::Any(items) => any_rollback(items, at),
        }
    }

    /// From `at` to the end of the current occurrence when `at` is inside, else the
    /// whole next occurrence; `None` when there is none.
    pub fn rollforward(&self, at: NaiveDateTime) -> Option<Interval> {
        match self {
            Period::Anchored(period) => Some(period.rollforward(at)),
            Period::Year(period) => period.rollforward(at),
            Period::Delta { future, .. } => Some(Interval {
                start: at,
                end: add_nanos(at, delta_nanos(*future)),
            }),
            Period::Always => Some(Interval {
                start: at,
                end: MAX_TIME,
            }),
            Period::Never => None,
            Period::All(items) => all_rollforward(items, at),
            Period::Any(items) => any_rollforward(items, at),
        }
    }
}

impl Period {
    /// [`Period::rollback`] of `now` in zone `tz`, as instants (see
    /// `docs/time-zones.md`): anchored periods roll over local time and convert by
    /// the daylight-saving policy ([`AnchoredPeriod::rollback_in`]); a
    /// [`Period::Delta`] is elapsed time, `[now - past, now]` in UTC. The end is
    /// never after `now`.
    pub fn rollback_in(&self, tz: Tz, now: DateTime<Utc>) -> Option<InstantInterval> {
        match self {
            Period::Anchored(period) => Some(period.rollback_in(tz, now)),
            Period::Delta { past, .. } => Some(InstantInterval {
                start: now
                    .checked_sub_signed(*past)
                    .unwrap_or(DateTime::<Utc>::MIN_UTC),
                end: now,
            }),
            Period::Always => Some(InstantInterval {
                start: DateTime::<Utc>::MIN_UTC,
                end: now,
            }),
            Period::Never => None,
            Period::Year(_) | Period::All(_) | Period::Any(_) => {
                let local = to_local(tz, now);
                let window = self.rollback(local)?;
                Some(zone::back_to_instants(tz, now, local, window))
            }
        }
    }

    /// [`Period::rollforward`] of `now` in zone `tz`, as instants; the mirror image
    /// of [`Period::rollback_in`] (a delta is `[now, now + future]`).
    pub fn rollforward_in(&self, tz: Tz, now: DateTime<Utc>) -> Option<InstantInterval> {
        match self {
            Period::Anchored(period) => Some(period.rollforward_in(tz, now)),
            Period::Delta { future, .. } => Some(InstantInterval {
                start: now,
                end: now
                    .checked_add_signed(*future)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            }),
            Period::Always => Some(InstantInterval {
                start: now,
                end: DateTime::<Utc>::MAX_UTC,
            }),
            Period::Never => None,
            Period::Year(_) | Period::All(_) | Period::Any(_) => {
                let local = to_local(tz, now);
                let window = self.rollforward(local)?;
                Some(zone::forward_to_instants(tz, now, local, window))
            }
        }
    }
}

fn delta_nanos(delta: TimeDelta) -> i128 {
    i128::from(delta.num_seconds()) * 1_000_000_000 + i128::from(delta.subsec_nanos())
}

/// All rolled back: the members' rolled-back intervals intersected; when they do
/// not overlap, try again from the earliest of their ends (no common time can lie
/// after it).
fn all_rollback(items: &[Period], at: NaiveDateTime) -> Option<Interval> {
    let mut from = at;
    for _ in 0..MAX_STEPS {
        let (start, end) = bounds(items, |p| p.rollback(from))?;
        if start <= end {
            return Some(Interval { start, end });
        }
        from = end;
    }
    None
}

/// All rolled forward: the mirror image of [`all_rollback`], retrying from the
/// latest of the starts.
fn all_rollforward(items: &[Period], at: NaiveDateTime) -> Option<Interval> {
    let mut from = at;
    for _ in 0..MAX_STEPS {
        let (start, end) = bounds(items, |p| p.rollforward(from))?;
        if start <= end {
            return Some(Interval { start, end });
        }
        from = start;
    }
    None
}

/// The latest start and the earliest end of the members' intervals.
fn bounds(
    items: &[Period],
    roll: impl Fn(&Period) -> Option<Interval>,
) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let mut result: Option<(NaiveDateTime, NaiveDateTime)> = None;
    for item in items {
        let interval = roll(item)?;
        result = Some(match result {
            Some((start, end)) => (start.max(interval.start), end.min(interval.end)),
            None => (interval.start, interval.end),
        });
    }
    result
}

/// Any rolled back: the hull of the members' rolled-back intervals (gaps
/// included), its start moved back while a member's occurrence overlaps it.
fn any_rollback(items: &[Period], at: NaiveDateTime) -> Option<Interval> {
    let rolled: Vec<Interval> = items.iter().filter_map(|p| p.rollback(at)).collect();
    let mut start = rolled.iter().map(|i| i.start).min()?;
    let end = rolled.iter().map(|i| i.end).max()?;
    for _ in 0..MAX_STEPS {
        let earlier = items
            .iter()
            .filter_map(|p| p.rollback(start))
            .filter(|i| i.end >= start)
            .map(|i| i.start)
            .min();
        match earlier {
            Some(earlier) if earlier < start => start = earlier,
            _ => break,
        }
    }
    Some(Interval { start, end })
}

/// Any rolled forward: the hull of the members' rolled-forward intervals (gaps
/// included), its end moved on while a member's occurrence overlaps it.
fn any_rollforward(items: &[Period], at: NaiveDateTime) -> Option<Interval> {
    let rolled: Vec<Interval> = items.iter().filter_map(|p| p.rollforward(at)).collect();
    let start = rolled.iter().map(|i| i.start).min()?;
    let mut end = rolled.iter().map(|i| i.end).max()?;
    for _ in 0..MAX_STEPS {
        let later = items
            .iter()
            .filter_map(|p| p.rollforward(end))
            .filter(|i| i.start <= end)
            .map(|i| i.end)
            .max();
        match later {
            Some(later) if later > end => end = later,
            _ => break,
        }
    }
    Some(Interval { start, end })
}

impl std::str::FromStr for Period {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        parse_period(text)
    }
}

/// Parses a time-period string (time.md §7): atoms combined with `&` (all of
/// them), `|` (any of them) and parentheses; `&` binds tighter than `|`. Atoms:
///
/// * `time of <unit> between <start> and <end>`, `time of <unit> after <start>`,
///   `time of <unit> before <end>` with `<unit>` one of `minute`, `hour`, `day`,
///   `week`, `month` (and `year`, an extension);
/// * `time of week on <start>`, `time of month on <start>`;
/// * `every <duration>`, `past <duration>`: a [`Period::Delta`] looking back;
/// * `always`, `never`.
///
/// Errors carry the input and the span of the offending part.
pub fn parse_period(text: &str) -> Result<Period, Error> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
    };
    if parser.tokens.is_empty() {
        return Err(syntax(
            text,
            0..text.len(),
            "expected a time period, found nothing",
        ));
    }
    let period = parser.or_expr(0)?;
    if let Some(token) = parser.tokens.get(parser.pos) {
        return Err(syntax(
            text,
            token.span.clone(),
            "expected '&', '|' or the end of the period",
        ));
    }
    Ok(period)
}

/// Parentheses deeper than this are refused.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Open,
    Close,
    And,
    Or,
    Atom,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    span: Range<usize>,
}

fn syntax(text: &str, span: Range<usize>, message: &str) -> Error {
    Error::new(ErrorKind::InvalidTime, message).with_span(text, span)
}

fn tokenize(text: &str) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    let mut atom_start: Option<usize> = None;
    let push_atom = |tokens: &mut Vec<Token>, start: Option<usize>, end: usize| {
        let Some(start) = start else { return };
        let raw = &text[start..end];
        let trimmed = raw.trim_start();
        let lead = raw.len() - trimmed.len();
        let trimmed = trimmed.trim_end();
        if !trimmed.is_empty() {
            let span = start + lead..start + lead + trimmed.len();
            tokens.push(Token {
                kind: TokenKind::Atom,
                span,
            });
        }
    };
    for (i, c) in text.char_indices() {
        let kind = match c {
            '(' => TokenKind::Open,
            ')' => TokenKind::Close,
            '&' => TokenKind::And,
            '|' => TokenKind::Or,
            '~' => {
                return Err(syntax(
                    text,
                    i..i + 1,
                    "'~' (not) is not allowed in a time period",
                ));
            }
            _ => {
                atom_start.get_or_insert(i);
                continue;
            }
        };
        push_atom(&mut tokens, atom_start.take(), i);
        tokens.push(Token {
            kind,
            span: i..i + 1,
        });
    }
    push_atom(&mut tokens, atom_start.take(), text.len());
    Ok(tokens)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn eat(&mut self, kind: TokenKind) -> bool {
        let found = self.tokens.get(self.pos).is_some_and(|t| t.kind == kind);
        if found {
            self.pos += 1;
        }
        found
    }

    fn or_expr(&mut self, depth: usize) -> Result<Period, Error> {
        let mut items = vec![self.and_expr(depth)?];
        while self.eat(TokenKind::Or) {
            items.push(self.and_expr(depth)?);
        }
        Ok(combine(items, false))
    }

    fn and_expr(&mut self, depth: usize) -> Result<Period, Error> {
        let mut items = vec![self.primary(depth)?];
        while self.eat(TokenKind::And) {
            items.push(self.primary(depth)?);
        }
        Ok(combine(items, true))
    }

    fn primary(&mut self, depth: usize) -> Result<Period, Error> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            let end = self.text.len();
            return Err(syntax(
                self.text,
                end..end,
                "expected a time period after the operator",
            ));
        };
        self.pos += 1;
        match token.kind {
            TokenKind::Atom => atom(self.text, token.span),
            TokenKind::Open => {
                if depth >= MAX_DEPTH {
                    return Err(syntax(
                        self.text,
                        token.span,
                        "parentheses are nested too deeply",
                    ));
                }
                let inner = self.or_expr(depth + 1)?;
                if !self.eat(TokenKind::Close) {
                    return Err(syntax(self.text, token.span, "unclosed '('"));
                }
                Ok(inner)
            }
            TokenKind::Close | TokenKind::And | TokenKind::Or => {
                Err(syntax(self.text, token.span, "expected a time period"))
            }
        }
    }
}

/// One item as itself, several as an All (`all`) or Any, with nested lists of the
/// same kind flattened.
fn combine(items: Vec<Period>, all: bool) -> Period {
    if items.len() == 1 {
        return items.into_iter().next().unwrap_or(Period::Never);
    }
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Period::All(inner) if all => flat.extend(inner),
            Period::Any(inner) if !all => flat.extend(inner),
            item => flat.push(item),
        }
    }
    if all {
        Period::All(flat)
    } else {
        Period::Any(flat)
    }
}

const EXPECTED_ATOM: &str = "expected a time period like 'time of day between 10:00 and 12:00', \
     'every 10 minutes', 'past 2 hours', 'always' or 'never'";

/// One atom of a time-period string; `span` is its (trimmed) place in `text`.
fn atom(text: &str, span: Range<usize>) -> Result<Period, Error> {
    let atom = &text[span.clone()];
    // The byte span of `part`, a sub-slice of `atom`, inside `text`.
    let span_of = |part: &str| {
        let start = span.start + (part.as_ptr() as usize - atom.as_ptr() as usize);
        start..start + part.len()
    };
    match atom {
        "always" => return Ok(Period::Always),
        "never" => return Ok(Period::Never),
        _ => {}
    }
    if let Some(delta) = atom
        .strip_prefix("every ")
        .or_else(|| atom.strip_prefix("past "))
    {
        let past = parse_duration(delta).map_err(|e| e.with_span(text, span_of(delta)))?;
        return Ok(Period::past(past));
    }
    let Some(rest) = atom.strip_prefix("time of ") else {
        return Err(syntax(text, span, EXPECTED_ATOM));
    };
    let Some((word, form)) = rest.split_once(' ') else {
        return Err(syntax(text, span, EXPECTED_ATOM));
    };
    let unit = match word {
        "minute" => Some(Unit::Minute),
        "hour" => Some(Unit::Hour),
        "day" => Some(Unit::Day),
        "week" => Some(Unit::Week),
        "month" => Some(Unit::Month),
        "year" => None,
        _ => {
            return Err(syntax(
                text,
                span_of(word),
                "expected minute, hour, day, week, month or year after 'time of'",
            ));
        }
    };
    let (start, end, on) = if let Some(between) = form.strip_prefix("between ") {
        match between.rsplit_once(" and ") {
            Some((start, end)) => (Some(start), Some(end), false),
            None => {
                return Err(syntax(
                    text,
                    span_of(between),
                    "expected '<start> and <end>'",
                ));
            }
        }
    } else if let Some(start) = form.strip_prefix("after ") {
        (Some(start), None, false)
    } else if let Some(end) = form.strip_prefix("before ") {
        (None, Some(end), false)
    } else if let Some(start) = form.strip_prefix("on ") {
        (Some(start), None, true)
    } else {
        return Err(syntax(
            text,
            span_of(form),
            "expected between, after, before or on",
        ));
    };
    match unit {
        Some(unit) => {
            // Parse each literal alone first, so an error points at its literal.
            for (part, side) in [(start, Side::Start), (end, Side::End)] {
                if let Some(part) = part {
                    parse_literal(unit, part, side)
                        .map_err(|e| e.with_span(text, span_of(part)))?;
                }
            }
            let period = match (unit, on) {
                (Unit::Week | Unit::Month, true) => {
                    AnchoredPeriod::on(unit, start.unwrap_or_default())
                }
                (_, true) => {
                    return Err(syntax(
                        text,
                        span_of(form),
                        "'on' exists only for week and month",
                    ));
                }
                (_, false) => AnchoredPeriod::new(unit, start, end),
            };
            Ok(Period::Anchored(
                period.map_err(|e| e.with_span(text, span.clone()))?,
            ))
        }
        None if on => Err(syntax(
            text,
            span_of(form),
            "'on' exists only for week and month",
        )),
        None => {
            YearPeriod::new(start, None)
                .map_err(|e| e.with_span(text, start.map_or(span.clone(), span_of)))?;
            YearPeriod::new(None, end)
                .map_err(|e| e.with_span(text, end.map_or(span.clone(), span_of)))?;
            Ok(Period::Year(
                YearPeriod::new(start, end).map_err(|e| e.with_span(text, span.clone()))?,
            ))
        }
    }
}

/// The period as a time-period string that [`parse_period`] reads back as an
/// equal period: anchored periods as `time of <unit> between|after|before ...`,
/// deltas as `past <D days HH:MM:SS>` (a delta looking ahead as `next ...`, which
/// is not parseable), combinations with ` & ` and ` | ` and parentheses where
/// needed.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Anchored(period) => {
                write!(f, "time of {} ", period.unit().word())?;
                let last = period.unit().nominal_length() - 1;
                let (start, end) = (period.start_ns(), period.end_ns());
                let render =
                    |offset, side| super::anchored::render_offset(period.unit(), offset, side);
                let (s, e) = (render(start, Side::Start), render(end, Side::End));
                if start == 0 && end != last {
                    write!(f, "before {e}")
                } else if end == last && start != end {
                    write!(f, "after {s}")
                } else {
                    write!(f, "between {s} and {e}")
                }
            }
            Period::Year(period) => match period.to_string().as_str() {
                "" => f.write_str("time of year after Jan"),
                form => write!(f, "time of year {form}"),
            },
            Period::Delta { past, future } => {
                let zero = TimeDelta::zero();
                match (*past > zero || *future == zero, *future > zero) {
                    (true, false) => write!(f, "past {}", format_duration(*past)),
                    (false, _) => write!(f, "next {}", format_duration(*future)),
                    (true, true) => write!(
                        f,
                        "past {} to next {}",
                        format_duration(*past),
                        format_duration(*future)
                    ),
                }
            }
            Period::Always => f.write_str("always"),
            Period::Never => f.write_str("never"),
            Period::All(items) => join(f, items, " & ", |p| {
                matches!(p, Period::Any(_) | Period::All(_))
            }),
            Period::Any(items) => join(f, items, " | ", |p| matches!(p, Period::Any(_))),
        }
    }
}

fn join(
    f: &mut fmt::Formatter<'_>,
    items: &[Period],
    separator: &str,
    needs_parens: fn(&Period) -> bool,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        if needs_parens(item) {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}
