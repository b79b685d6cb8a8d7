//! Condition evaluation: the truth of a condition, and when it may next change,
//! against a world passed in as an [`EvalContext`].
//!
//! The answer always comes from the task log (conditions.md §6: caches must not
//! change results), with the fixes DESIGN.md asks for:
//!
//! * `task 'x' is running` means the latest record of `x` (in log order) is a
//!   `run` stamped at or before now (QUIRK-C4 fixed);
//! * a status condition without a period counts all history up to now
//!   (QUIRK-C3 fixed);
//! * `param 'k' exists` is about the one parameter `k` (QUIRK-C6 fixed).
//!
//! Periods are evaluated in the session's local time: the local now is
//! `to_local(tz, now)`, the period's window is rolled back in local time, and its
//! ends are converted to instants with [`to_instant`] (a skipped local time maps
//! to the end of the gap, a repeated one to its first instant for a start and its
//! last for an end). Records are counted by instant, and only up to now. The
//! boundary instant of a full cycle (`daily starting 10:00` at 10:00) starts the
//! new cycle, as midnight does for `daily`. `every <d>` and `past <d>` are
//! elapsed time: `[now - d, now]`. A cron schedule matches local minutes: a
//! minute that happens twice (clocks going back) runs once, a skipped one not at
//! all.
//!
//! Task names written in a condition must exist when the context can tell
//! ([`EvalContext::task_exists`]); the owner is not checked.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::{Condition, CycleCompare, Outcome, Quantifier, Schedule, StatusAction, Window};
use crate::log::{Action, ActionSet, LogRead};
use crate::time::{AnchoredPeriod, Interval, Side, to_instant, to_local};
use crate::{Error, ErrorKind};

mod next;
#[cfg(test)]
mod tests;

/// The scheduler's state as conditions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerState {
    /// Completed cycles since start-up.
    pub cycles: u64,
    /// When the scheduler started.
    pub started_at: DateTime<Utc>,
}

/// Everything a condition may look at.
#[derive(Clone, Copy)]
pub struct EvalContext<'a> {
    /// The evaluation instant.
    pub now: DateTime<Utc>,
    /// The session's time zone: periods are evaluated in its local time.
    pub tz: Tz,
    /// The task log.
    pub log: &'a dyn LogRead,
    /// The owner task (whose start or end condition this is), if any.
    pub task: Option<&'a str>,
    /// The scheduler's state; `None` outside a running scheduler.
    pub scheduler: Option<SchedulerState>,
    /// Session parameters.
    pub params: &'a Map<String, Value>,
    /// Whether a task of that name exists; `None` means every name is accepted.
    pub task_exists: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

/// How a record count compares with a number: the programmatic form of a status
/// condition (conditions.md §5.3; the condition text always means `> 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountCompare {
    /// Exactly `n`.
    Eq(u64),
    /// Not `n`.
    Ne(u64),
    /// Fewer than `n`.
    Lt(u64),
    /// At most `n`.
    Le(u64),
    /// More than `n`.
    Gt(u64),
    /// At least `n`.
    Ge(u64),
}

impl Default for CountCompare {
    /// `> 0`: what the condition text means.
    fn default() -> Self {
        CountCompare::Gt(0)
    }
}

impl CountCompare {
    /// Whether `count` satisfies the comparison.
    pub fn holds(self, count: u64) -> bool {
        match self {
            CountCompare::Eq(n) => count == n,
            CountCompare::Ne(n) => count != n,
            CountCompare::Lt(n) => count < n,
            CountCompare::Le(n) => count <= n,
            CountCompare::Gt(n) => count > n,
            CountCompare::Ge(n) => count >= n,
        }
    }

    /// Whether the comparison only asks "none" or "some" (`== 0`, `> 0` ...), so
    /// only the newest record of a sliding window decides when it flips.
    fn is_emptiness(self) -> bool {
        matches!(
            self,
            CountCompare::Eq(0)
                | CountCompare::Ne(0)
                | CountCompare::Gt(0)
                | CountCompare::Ge(1)
                | CountCompare::Lt(1)
                | CountCompare::Le(0)
        )
    }
}

impl StatusAction {
    /// The actions whose records a status condition counts (`finished` is
    /// `success`, `fail` and `terminate`, not `inaction`).
    pub fn actions(self) -> ActionSet {
        match self {
            StatusAction::Started => ActionSet::of(&[Action::Run]),
            StatusAction::Succeeded => ActionSet::of(&[Action::Success]),
            StatusAction::Failed => ActionSet::of(&[Action::Fail]),
            StatusAction::Finished => {
                ActionSet::of(&[Action::Success, Action::Fail, Action::Terminate])
            }
            StatusAction::Terminated => ActionSet::of(&[Action::Terminate]),
            StatusAction::Inacted => ActionSet::of(&[Action::Inaction]),
        }
    }
}

impl Outcome {
    /// The actions a dependency waits for (`finished` is `success` or `fail`).
    pub fn actions(self) -> ActionSet {
        match self {
            Outcome::Succeeded { .. } => ActionSet::of(&[Action::Success]),
            Outcome::Failed => ActionSet::of(&[Action::Fail]),
            Outcome::Finished => ActionSet::of(&[Action::Success, Action::Fail]),
            Outcome::Terminated => ActionSet::of(&[Action::Terminate]),
        }
    }
}

/// Records that end a run: any of them in the window blocks a cron minute.
const FINISHED: ActionSet = ActionSet::of(&[
    Action::Success,
    Action::Fail,
    Action::Terminate,
    Action::Inaction,
]);
/// Records that block an execution condition whatever the retries.
const BLOCKING: ActionSet = ActionSet::of(&[Action::Success, Action::Inaction, Action::Terminate]);
/// Failures, allowed up to the retries.
const FAILED: ActionSet = ActionSet::of(&[Action::Fail]);
/// Every action.
const ANY_ACTION: ActionSet = ActionSet::of(&Action::ALL);

impl Condition {
    /// Whether the condition holds in `ctx`.
    ///
    /// `All` and `Any` evaluate left to right and stop once the result is known,
    /// so an item after the deciding one cannot raise an error.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Evaluation`] when a leaf without a task name is evaluated with
    /// no owner task, when a named task does not exist (`ctx.task_exists`), or when
    /// a scheduler condition is evaluated with no scheduler; errors of the log.
    pub fn eval(&self, ctx: &EvalContext<'_>) -> Result<bool, Error> {
        self.eval_with_retries(ctx, 0)
    }

    /// [`Condition::eval`] where every execution condition (`daily`, `every ...`,
    /// `cron ...`) allows up to `retries` failures in its window before it stops
    /// the task (conditions.md §5.2; there is no text syntax for it).
    ///
    /// # Errors
    ///
    /// As [`Condition::eval`].
    pub fn eval_with_retries(&self, ctx: &EvalContext<'_>, retries: u64) -> Result<bool, Error> {
        match self {
            Condition::Constant { value, .. } => Ok(*value),
            Condition::Not(item) => Ok(!item.eval_with_retries(ctx, retries)?),
            Condition::All(items) => {
                for item in items {
                    if !item.eval_with_retries(ctx, retries)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Any(items) => {
                for item in items {
                    if item.eval_with_retries(ctx, retries)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Executable { task, schedule, .. } => {
                let task = resolve(task.as_deref(), ctx)?;
                executable(task, schedule, ctx, retries)
            }
            Condition::Status { .. } => Ok(self.status_count(ctx)? > 0),
            Condition::Running { task, .. } => {
                let task = resolve(Some(task), ctx)?;
                let latest = ctx.log.latest(task, ANY_ACTION)?;
                Ok(latest.is_some_and(|r| r.action == Action::Run && r.timestamp <= ctx.now))
            }
            Condition::Dependency {
                task,
                depends_on,
                quantifier,
                outcome,
            } => {
                let owner = resolve(task.as_deref(), ctx)?;
                let own_run = ctx.log.latest(owner, ActionSet::of(&[Action::Run]))?;
                let done = |dep: &str| -> Result<bool, Error> {
                    let dep = resolve(Some(dep), ctx)?;
                    Ok(match (ctx.log.latest(dep, outcome.actions())?, &own_run) {
                        (None, _) => false,
                        (Some(_), None) => true,
                        (Some(finish), Some(run)) => finish.timestamp > run.timestamp,
                    })
                };
                match quantifier {
                    Quantifier::Single | Quantifier::All => {
                        for dep in depends_on {
                            if !done(dep)? {
                                return Ok(false);
                            }
                        }
                        Ok(true)
                    }
                    Quantifier::Any => {
                        for dep in depends_on {
                            if done(dep)? {
                                return Ok(true);
                            }
                        }
                        Ok(false)
                    }
                }
            }
            Condition::SchedulerCycles { compare, n } => {
                let cycles = scheduler(ctx)?.cycles;
                Ok(match compare {
                    CycleCompare::MoreThan => cycles > *n,
                    CycleCompare::LessThan => cycles < *n,
                    CycleCompare::Exactly => cycles == *n,
                })
            }
            Condition::SchedulerStarted(delta) => {
                let started = scheduler(ctx)?.started_at;
                Ok(sub(ctx.now, delta.duration) <= started && started <= ctx.now)
            }
            Condition::SchedulerRunOver(delta) => {
                let started = scheduler(ctx)?.started_at;
                Ok(started < sub(ctx.now, delta.duration))
            }
            Condition::Env(env) => Ok(is_text(ctx.params.get("env"), env)),
            Condition::ParamExists(key) => Ok(ctx.params.contains_key(key)),
            Condition::ParamIs { key, value } => Ok(is_text(ctx.params.get(key), value)),
            Condition::TimeOf(spec) => Ok(spec.period.contains(to_local(ctx.tz, ctx.now))),
        }
    }

    /// For a status condition (`[task 'x' ]has <action>[ <window>]`): how many
    /// matching records lie in its window at `ctx.now`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Evaluation`] for any other kind of condition, and as
    /// [`Condition::eval`].
    pub fn status_count(&self, ctx: &EvalContext<'_>) -> Result<u64, Error> {
        let Condition::Status {
            task,
            action,
            window,
        } = self
        else {
            return Err(Error::new(
                ErrorKind::Evaluation,
                "a record count needs a task status condition",
            ));
        };
        let task = resolve(task.as_deref(), ctx)?;
        let span = match window {
            None => Span {
                start: None,
                end: ctx.now,
            },
            Some(Window::Past { delta, .. }) => Span::past(ctx.now, delta.duration),
            Some(Window::Period(spec)) => period_window(&spec.period, ctx).1,
        };
        span.count(ctx.log, task, action.actions())
    }

    /// For a status condition: whether its record count satisfies `compare`
    /// (`has finished` with `Eq(2)`: exactly two finishes in the window).
    ///
    /// # Errors
    ///
    /// As [`Condition::status_count`].
    pub fn eval_count(&self, ctx: &EvalContext<'_>, compare: CountCompare) -> Result<bool, Error> {
        Ok(compare.holds(self.status_count(ctx)?))
    }

    /// The next instant after `ctx.now` at which the value can change without any
    /// event (a log record, a parameter change); `None` when only events can
    /// change it.
    ///
    /// The answer is **conservative**: it may be earlier than the true change (the
    /// caller then evaluates, finds the same value, and asks again), never later.
    /// `All`, `Any` and `Not` answer the earliest instant of their items. Periods
    /// change at their local boundaries, converted to instants across daylight
    /// saving changes (and every change of the zone's offset is itself reported,
    /// as local time may repeat after it); `every <d>` and `past <d>` when a
    /// record leaves the window; cron at the next minute that matters; records
    /// already in the log but stamped after now when they enter a window.
    ///
    /// # Errors
    ///
    /// As [`Condition::eval`] (an item that cannot be evaluated cannot say when
    /// it changes either).
    pub fn next_change(&self, ctx: &EvalContext<'_>) -> Result<Option<DateTime<Utc>>, Error> {
        self.next_change_with_retries(ctx, 0)
    }

    /// [`Condition::next_change`] for [`Condition::eval_with_retries`].
    ///
    /// # Errors
    ///
    /// As [`Condition::eval`].
    pub fn next_change_with_retries(
        &self,
        ctx: &EvalContext<'_>,
        retries: u64,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        next::next_change(self, ctx, retries, CountCompare::default())
    }

    /// [`Condition::next_change`] for [`Condition::eval_count`].
    ///
    /// # Errors
    ///
    /// As [`Condition::status_count`].
    pub fn next_count_change(
        &self,
        ctx: &EvalContext<'_>,
        compare: CountCompare,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        if !matches!(self, Condition::Status { .. }) {
            return Err(Error::new(
                ErrorKind::Evaluation,
                "a record count needs a task status condition",
            ));
        }
        next::next_change(self, ctx, 0, compare)
    }

    /// The condition with `owner` filled in as the task of every leaf that has a
    /// task and does not name one (conditions.md §4): execution conditions,
    /// dependencies (the dependent task) and status conditions written without
    /// `task '<x>'`. Leaves naming a task keep it.
    pub fn with_owner(self, owner: &str) -> Condition {
        match self {
            Condition::Not(item) => Condition::Not(Box::new(item.with_owner(owner))),
            Condition::All(items) => {
                Condition::All(items.into_iter().map(|c| c.with_owner(owner)).collect())
            }
            Condition::Any(items) => {
                Condition::Any(items.into_iter().map(|c| c.with_owner(owner)).collect())
            }
            Condition::Executable {
                task,
                schedule,
                run_prefix,
            } => Condition::Executable {
                task: task.or_else(|| Some(owner.to_owned())),
                schedule,
                run_prefix,
            },
            Condition::Status {
                task,
                action,
                window,
            } => Condition::Status {
                task: task.or_else(|| Some(owner.to_owned())),
                action,
                window,
            },
            Condition::Dependency {
                task,
                depends_on,
                quantifier,
                outcome,
            } => Condition::Dependency {
                task: task.or_else(|| Some(owner.to_owned())),
                depends_on,
                quantifier,
                outcome,
            },
            other => other,
        }
    }
}

/// A closed window of instants; `start: None` = since ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
}

impl Span {
    /// `[now - d, now]`.
    fn past(now: DateTime<Utc>, d: TimeDelta) -> Span {
        Span {
            start: Some(sub(now, d)),
            end: now,
        }
    }

    fn count(self, log: &dyn LogRead, task: &str, actions: ActionSet) -> Result<u64, Error> {
        if self.start.is_some_and(|start| start > self.end) {
            return Ok(0);
        }
        log.count(task, actions, self.start, self.end)
    }
}

/// The task a leaf is about: its own name (which must exist, when the context
/// knows the tasks) or else the owner.
fn resolve<'s>(named: Option<&'s str>, ctx: &EvalContext<'s>) -> Result<&'s str, Error> {
    match named {
        Some(name) => {
            if let Some(exists) = ctx.task_exists
                && !exists(name)
            {
                return Err(Error::new(
                    ErrorKind::Evaluation,
                    format!("unknown task '{name}'"),
                ));
            }
            Ok(name)
        }
        None => ctx
            .task
            .ok_or_else(|| Error::new(ErrorKind::Evaluation, "condition needs an owner task")),
    }
}

fn scheduler(ctx: &EvalContext<'_>) -> Result<SchedulerState, Error> {
    ctx.scheduler
        .ok_or_else(|| Error::new(ErrorKind::Evaluation, "condition needs a running scheduler"))
}

/// A parameter equals `text` as a JSON string (the number 5 is not `'5'`).
fn is_text(value: Option<&Value>, text: &str) -> bool {
    matches!(value, Some(Value::String(s)) if s == text)
}

/// `at - d`, saturating at the earliest instant.
fn sub(at: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    at.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether local now is inside `period`, and the rolled-back window as instants
/// (its end never after now).
///
/// For a full cycle (`daily starting 10:00`) the boundary instant starts a new
/// cycle, as midnight starts a new day for `daily`: rolled back from exactly
/// 10:00 the window is `[10:00, 10:00]` (the v1.2.0 rule of time.md §5,
/// QUIRK-T3; `AnchoredPeriod::rollback` itself gives the whole previous cycle
/// there).
fn period_window(period: &AnchoredPeriod, ctx: &EvalContext<'_>) -> (bool, Span) {
    let local = to_local(ctx.tz, ctx.now);
    let inside = period.contains(local);
    let mut window = period.rollback(local);
    if period.start_ns() == period.end_ns()
        && local
            .checked_add_signed(TimeDelta::nanoseconds(1))
            .is_some_and(|next| period.rollback(next).start == local)
    {
        window = Interval {
            start: local,
            end: local,
        };
    }
    let start = to_instant(ctx.tz, window.start, Side::Start);
    let end = to_instant(ctx.tz, window.end, Side::End).min(ctx.now);
    (
        inside,
        Span {
            start: Some(start),
            end,
        },
    )
}

/// No blocking record and at most `retries` failures in `span`.
fn unblocked(log: &dyn LogRead, task: &str, span: Span, retries: u64) -> Result<bool, Error> {
    Ok(span.count(log, task, BLOCKING)? == 0 && span.count(log, task, FAILED)? <= retries)
}

fn executable(
    task: &str,
    schedule: &Schedule,
    ctx: &EvalContext<'_>,
    retries: u64,
) -> Result<bool, Error> {
    match schedule {
        Schedule::Period(spec) => {
            let (inside, span) = period_window(&spec.period, ctx);
            Ok(inside && unblocked(ctx.log, task, span, retries)?)
        }
        Schedule::Every(delta) => {
            unblocked(ctx.log, task, Span::past(ctx.now, delta.duration), retries)
        }
        Schedule::Cron(cron) => {
            let local = to_local(ctx.tz, ctx.now);
            if !next::cron_matches(cron, local) {
                return Ok(false);
            }
            let span = Span {
                start: Some(to_instant(ctx.tz, minute_start(local), Side::Start)),
                end: ctx.now,
            };
            unblocked(ctx.log, task, span, retries)
        }
    }
}

/// The start of the local minute holding `local`.
fn minute_start(local: NaiveDateTime) -> NaiveDateTime {
    local
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(local)
}
