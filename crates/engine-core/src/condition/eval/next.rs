//! When a condition may next change with no new event: period boundaries in local
//! time turned into instants, sliding windows, cron minutes, and changes of the
//! zone's UTC offset.
//!
//! Every answer is conservative: never later than the true change, sometimes
//! earlier (then the caller evaluates, finds the same value, and asks again).

use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use super::{
    BLOCKING, CountCompare, EvalContext, FAILED, FINISHED, Span, minute_start, resolve, scheduler,
};
use crate::Error;
use crate::condition::{Condition, Cron, Schedule, Window};
use crate::log::{Action, ActionSet, LogRead};
use crate::time::{AnchoredPeriod, Side, Unit, to_instant, to_local};

/// How far ahead a cron schedule is searched for its next matching minute (a
/// `29 Feb` schedule can wait 8 years); past it the search end is answered, which
/// is conservative.
const CRON_HORIZON_DAYS: u64 = 9 * 366;

/// The next change of `cond` (see [`Condition::next_change`]); `compare` applies
/// to a status condition at the root only.
pub(super) fn next_change(
    cond: &Condition,
    ctx: &EvalContext<'_>,
    retries: u64,
    compare: CountCompare,
) -> Result<Option<DateTime<Utc>>, Error> {
    let now = ctx.now;
    let found = match cond {
        Condition::Constant { .. }
        | Condition::Env(_)
        | Condition::ParamExists(_)
        | Condition::ParamIs { .. }
        | Condition::SchedulerCycles { .. } => None,
        // Dependencies compare the latest records whatever their time: only a new
        // record changes them. (Their names are `eval`'s to check: it may stop
        // before reaching them.)
        Condition::Dependency { .. } => None,
        Condition::Not(item) => next_change(item, ctx, retries, CountCompare::default())?,
        // An `All` with an item that is always false is always false (an `Any` with
        // one always true, always true): nothing makes it change.
        Condition::All(items) if items.iter().any(|item| constant(item) == Some(false)) => None,
        Condition::Any(items) if items.iter().any(|item| constant(item) == Some(true)) => None,
        Condition::All(items) => decider_change(items, false, ctx, retries)?,
        Condition::Any(items) => decider_change(items, true, ctx, retries)?,
        Condition::TimeOf(spec) => period_change(&spec.period, ctx),
        Condition::Executable { task, schedule, .. } => {
            let task = resolve(task.as_deref(), ctx)?;
            executable_change(task, schedule, ctx, retries)?
        }
        Condition::Status {
            task,
            action,
            window,
        } => {
            let task = resolve(task.as_deref(), ctx)?;
            let actions = action.actions();
            let entering = entering(ctx.log, task, actions, now)?;
            match window {
                None => entering,
                Some(Window::Past { delta, .. }) => earliest_of(
                    entering,
                    leaving(ctx.log, task, actions, now, delta.duration, compare)?,
                ),
                Some(Window::Period(spec)) => {
                    earliest_of(entering, period_change(&spec.period, ctx))
                }
            }
        }
        Condition::Running { task, .. } => {
            let task = resolve(Some(task), ctx)?;
            // A `run` stamped after now starts counting when now reaches it.
            let latest = ctx.log.latest(task, ActionSet::of(&Action::ALL))?;
            latest
                .filter(|r| r.action == Action::Run && r.timestamp > now)
                .map(|r| r.timestamp)
        }
        Condition::SchedulerStarted(delta) | Condition::SchedulerRunOver(delta) => {
            // Started within [now - d, now]; run over when started before now - d.
            let started = scheduler(ctx)?.started_at;
            if started > now {
                Some(started)
            } else {
                after_delta(started, delta.duration).filter(|t| *t > now)
            }
        }
    };
    debug_assert!(
        found.is_none_or(|t| t > now),
        "next change must be after now"
    );
    Ok(found.filter(|t| *t > now))
}

/// The next change of an `All` (`absorbing` false) or an `Any` (`absorbing`
/// true), looked at the way evaluation does, left to right: the first item with
/// the absorbing value decides the whole, so the items after it are neither
/// needed nor evaluated (an item `eval` never reaches cannot make `next_change`
/// fail). The earliest change of the items up to and including it is the
/// whole's: the decider changing, or an earlier item changing (which can change
/// which item `eval` reaches). With no decider, the earliest of every item.
fn decider_change(
    items: &[Condition],
    absorbing: bool,
    ctx: &EvalContext<'_>,
    retries: u64,
) -> Result<Option<DateTime<Utc>>, Error> {
    let mut earliest = None;
    for item in items {
        let value = item.eval_with_retries(ctx, retries)?;
        let change = next_change(item, ctx, retries, CountCompare::default())?;
        earliest = earliest_of(earliest, change);
        if value == absorbing {
            break;
        }
    }
    Ok(earliest)
}

/// The value of `cond` when it never changes: a constant, or combinations that
/// a constant decides (`false & x`, `true | x`, `~true`).
fn constant(cond: &Condition) -> Option<bool> {
    match cond {
        Condition::Constant { value, .. } => Some(*value),
        Condition::Not(item) => constant(item).map(|value| !value),
        Condition::All(items) => decided(items, false),
        Condition::Any(items) => decided(items, true),
        _ => None,
    }
}

/// The constant value of an `All` (`absorbing` false) or an `Any` (`absorbing`
/// true) of `items`: the absorbing value if one item is constantly it, the other
/// value if every item is constantly that, else `None`.
fn decided(items: &[Condition], absorbing: bool) -> Option<bool> {
    let mut all_constant = true;
    for item in items {
        match constant(item) {
            Some(value) if value == absorbing => return Some(absorbing),
            Some(_) => {}
            None => all_constant = false,
        }
    }
    all_constant.then_some(!absorbing)
}

fn executable_change(
    task: &str,
    schedule: &Schedule,
    ctx: &EvalContext<'_>,
    retries: u64,
) -> Result<Option<DateTime<Utc>>, Error> {
    let now = ctx.now;
    let entering = entering(ctx.log, task, FINISHED, now)?;
    Ok(match schedule {
        Schedule::Period(spec) => earliest_of(entering, period_change(&spec.period, ctx)),
        Schedule::Every(delta) => {
            let d = delta.duration;
            let leaving = if retries == 0 {
                leaving(ctx.log, task, FINISHED, now, d, CountCompare::Eq(0))?
            } else {
                // Blocking records decide "none"; failures are counted.
                earliest_of(
                    leaving(ctx.log, task, BLOCKING, now, d, CountCompare::Eq(0))?,
                    leaving(ctx.log, task, FAILED, now, d, CountCompare::Le(retries))?,
                )
            };
            earliest_of(entering, leaving)
        }
        Schedule::Cron(cron) => earliest_of(entering, cron_change(cron, ctx)),
    })
}

/// The earliest of two optional instants.
fn earliest_of(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// When a record already in the log but stamped after now enters `[.., now]`.
fn entering(
    log: &dyn LogRead,
    task: &str,
    actions: ActionSet,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    match now.checked_add_signed(TimeDelta::nanoseconds(1)) {
        Some(next) => log.first_since(task, actions, next),
        None => Ok(None),
    }
}

/// When a record leaves the sliding window `[now - d, now]`: a record stamped `t`
/// is in it until `t + d`, and out from `t + d + 1 ns`. For a none-or-some
/// comparison only the newest record matters; otherwise the oldest.
fn leaving(
    log: &dyn LogRead,
    task: &str,
    actions: ActionSet,
    now: DateTime<Utc>,
    d: TimeDelta,
    compare: CountCompare,
) -> Result<Option<DateTime<Utc>>, Error> {
    let window = Span::past(now, d);
    let record = if compare.is_emptiness() {
        log.last_until(task, actions, now)?
    } else {
        log.first_since(
            task,
            actions,
            window.start.unwrap_or(DateTime::<Utc>::MIN_UTC),
        )?
    };
    Ok(record
        .filter(|t| window.start.is_none_or(|start| *t >= start) && *t <= now)
        .and_then(|t| after_delta(t, d)))
}

/// `t + d + 1 ns`: the first instant at which `t` is more than `d` ago.
fn after_delta(t: DateTime<Utc>, d: TimeDelta) -> Option<DateTime<Utc>> {
    t.checked_add_signed(d)?
        .checked_add_signed(TimeDelta::nanoseconds(1))
}

/// The next instant after now at which membership of `period`, or its current
/// occurrence (the rolled-back window's start), may change: its next boundary in
/// local time as an instant, or an earlier change of the zone's offset.
pub(super) fn period_change(
    period: &AnchoredPeriod,
    ctx: &EvalContext<'_>,
) -> Option<DateTime<Utc>> {
    let local = to_local(ctx.tz, ctx.now);
    let boundary = next_boundary(period, local)?;
    let instant = future_instant(ctx.tz, boundary, ctx.now);
    earliest_of(Some(instant), offset_change(ctx.tz, ctx.now, instant))
}

/// The earliest local time after `local` at which membership of `period` may
/// change or a new occurrence may start.
///
/// Inside one cycle membership depends on the offset `a` only, and changes where
/// `a` reaches the start `S` or passes the end `E` (so at `S` and `E + 1 ns`);
/// occurrences start at `S`. Offsets beyond a short cycle (the 30th in February)
/// fall on the cycle's end, where `a` starts again from 0.
fn next_boundary(period: &AnchoredPeriod, local: NaiveDateTime) -> Option<NaiveDateTime> {
    let unit = period.unit();
    let c0 = cycle_start(unit, local)?;
    let c1 = next_cycle(unit, c0)?;
    let c2 = next_cycle(unit, c1)?;
    let offsets = [period.start_ns(), period.end_ns().saturating_add(1)];
    let mut earliest: Option<NaiveDateTime> = None;
    for (cycle, cycle_end) in [(c0, c1), (c1, c2)] {
        for offset in offsets {
            let at = cycle
                .checked_add_signed(TimeDelta::nanoseconds(offset.max(0)))
                .map_or(cycle_end, |t| t.min(cycle_end));
            if at > local && earliest.is_none_or(|e| at < e) {
                earliest = Some(at);
            }
        }
    }
    earliest
}

/// The start of the cycle of `unit` holding `local`.
fn cycle_start(unit: Unit, local: NaiveDateTime) -> Option<NaiveDateTime> {
    let date = local.date();
    let time = local.time();
    Some(match unit {
        Unit::Minute => minute_start(local),
        Unit::Hour => date.and_time(NaiveTime::from_hms_opt(time.hour(), 0, 0)?),
        Unit::Day => date.and_time(NaiveTime::MIN),
        Unit::Week => date
            .checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))?
            .and_time(NaiveTime::MIN),
        Unit::Month => date.with_day(1)?.and_time(NaiveTime::MIN),
    })
}

/// The start of the cycle after the one starting at `start`.
fn next_cycle(unit: Unit, start: NaiveDateTime) -> Option<NaiveDateTime> {
    match unit {
        Unit::Minute => start.checked_add_signed(TimeDelta::minutes(1)),
        Unit::Hour => start.checked_add_signed(TimeDelta::hours(1)),
        Unit::Day => start.checked_add_days(Days::new(1)),
        Unit::Week => start.checked_add_days(Days::new(7)),
        Unit::Month => start.checked_add_months(Months::new(1)),
    }
}

/// The first instant after `now` whose local time is `local` (or, for a skipped
/// local time, the end of the gap). `local` is after now's local time, but after
/// a repeated hour its first instant may already be past.
fn future_instant(tz: Tz, local: NaiveDateTime, now: DateTime<Utc>) -> DateTime<Utc> {
    let first = to_instant(tz, local, Side::Start);
    if first > now {
        return first;
    }
    let last = to_instant(tz, local, Side::End);
    if last > now {
        return last;
    }
    // Not reachable for a local time after now's; answer early rather than late.
    now.checked_add_signed(TimeDelta::nanoseconds(1))
        .unwrap_or(now)
}

/// The first instant in `(now, until]` at which the UTC offset of `tz` differs
/// from the offset at `now`: local time jumps there (back, after which local
/// times repeat, or forward). Searched in steps of a day, then bisected to the
/// nanosecond; two changes within one day would be missed (no zone has them).
pub(super) fn offset_change(
    tz: Tz,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if tz == Tz::UTC || until <= now {
        return None;
    }
    let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let base = offset(now);
    let mut lo = now;
    loop {
        let hi = lo
            .checked_add_signed(TimeDelta::days(1))
            .map_or(until, |t| t.min(until));
        if offset(hi) != base {
            // offset(lo) == base, offset(hi) != base: bisect to the first change.
            let (mut lo, mut hi) = (lo, hi);
            while hi - lo > TimeDelta::nanoseconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset(mid) == base {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return Some(hi);
        }
        if hi >= until {
            return None;
        }
        lo = hi;
    }
}

/// Whether local time `local` lies in a minute matched by `cron`. As in standard
/// cron, when both day fields are restricted a day matches if either does.
pub(super) fn cron_matches(cron: &Cron, local: NaiveDateTime) -> bool {
    let time = local.time();
    let minute = time.minute();
    cron.minutes & (1u64 << minute) != 0
        && cron.hours & (1u32 << time.hour()) != 0
        && day_matches(cron, local.date())
}

fn day_matches(cron: &Cron, date: NaiveDate) -> bool {
    if cron.months & (1u16 << date.month()) == 0 {
        return false;
    }
    let dom = cron.days_of_month & (1u32 << date.day()) != 0;
    let dow = cron.days_of_week & (1u8 << date.weekday().num_days_from_sunday()) != 0;
    if cron.dom_star || cron.dow_star {
        dom && dow
    } else {
        dom || dow
    }
}

/// The next change of a cron schedule: the end of the current minute when it
/// matches (a new minute is a new window, or the end of the matching ones), else
/// the start of the next matching minute; or an earlier offset change.
fn cron_change(cron: &Cron, ctx: &EvalContext<'_>) -> Option<DateTime<Utc>> {
    let local = to_local(ctx.tz, ctx.now);
    let this_minute = minute_start(local);
    let next_minute = this_minute.checked_add_signed(TimeDelta::minutes(1))?;
    let boundary = if cron_matches(cron, local) {
        next_minute
    } else {
        next_matching_minute(cron, next_minute)?
    };
    let instant = future_instant(ctx.tz, boundary, ctx.now);
    earliest_of(Some(instant), offset_change(ctx.tz, ctx.now, instant))
}

/// The first minute at or after `from` (a minute start) matched by `cron`, or the
/// end of the search horizon.
fn next_matching_minute(cron: &Cron, from: NaiveDateTime) -> Option<NaiveDateTime> {
    let mut date = from.date();
    let horizon = date.checked_add_days(Days::new(CRON_HORIZON_DAYS))?;
    while date < horizon {
        if day_matches(cron, date) {
            for hour in 0..24u32 {
                if cron.hours & (1u32 << hour) == 0 {
                    continue;
                }
                for minute in 0..60u32 {
                    if cron.minutes & (1u64 << minute) == 0 {
                        continue;
                    }
                    let at = date.and_time(NaiveTime::from_hms_opt(hour, minute, 0)?);
                    if at >= from {
                        return Some(at);
                    }
                }
            }
        }
        date = date.succ_opt()?;
    }
    Some(horizon.and_time(NaiveTime::MIN))
}
