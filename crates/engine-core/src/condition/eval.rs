//! Condition evaluation: the truth of a condition, and when it may next change,
//! against a world passed in as an [`EvalContext`].
//!
//! OWNED BY THE CONDITION-EVALUATION WORK.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::Condition;
use crate::Error;
use crate::log::LogRead;

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

impl Condition {
    /// Whether the condition holds in `ctx`.
    pub fn eval(&self, ctx: &EvalContext<'_>) -> Result<bool, Error> {
        let _ = ctx;
        todo!("condition evaluation work")
    }

    /// The next instant after `ctx.now` at which the value can change without any
    /// event (a log record, a parameter change); `None` when only events can
    /// change it.
    pub fn next_change(&self, ctx: &EvalContext<'_>) -> Result<Option<DateTime<Utc>>, Error> {
        let _ = ctx;
        todo!("condition evaluation work")
    }
}
