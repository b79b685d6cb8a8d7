//! The condition language: the tree, its canonical text, parsing and evaluation.
//!
//! Phases are files: [`lexer`] (tokens with byte spans) -> [`parser`] (Pratt loop
//! over `~ & |` and parentheses, one parse function per phrase family) -> this
//! tree -> [`eval`] (evaluation against an [`eval::EvalContext`]).
//!
//! The tree keeps the spelling choices of the source (`run daily` vs `daily`,
//! `after task 'a'` vs `after task 'a' succeeded`, the literal text of times and
//! durations), so that printing it ([`std::fmt::Display`]) gives the canonical
//! text, which equals the input for input already written canonically, and
//! `parse(print(t)) == t`.

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;

use crate::Error;
use crate::time::{AnchoredPeriod, Unit};

pub mod eval;
pub mod lexer;
pub mod parser;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `true`, `false`, `always true`, `always false`.
    Constant {
        /// The truth value.
        value: bool,
        /// Written with `always`.
        always: bool,
    },
    /// `~a`.
    Not(Box<Condition>),
    /// `a & b & ...` (flattened, at least two items).
    All(Vec<Condition>),
    /// `a | b | ...` (flattened, at least two items).
    Any(Vec<Condition>),
    /// Run once per period: `[run ]daily ...`, `[run ]every 10 minutes`, `cron ...`.
    Executable {
        /// The task that runs; `None` means the owner task.
        task: Option<String>,
        /// The period the task runs once in.
        schedule: Schedule,
        /// Written with the `run ` prefix.
        run_prefix: bool,
    },
    /// `[task 'x' ]has <action>[ <window>]`.
    Status {
        /// The task; `None` means the owner task.
        task: Option<String>,
        /// Which records count.
        action: StatusAction,
        /// Where records count; `None` means all history.
        window: Option<Window>,
    },
    /// `[while ]task 'x' is running`.
    Running {
        /// The task.
        task: String,
        /// Written with the `while ` prefix.
        while_prefix: bool,
    },
    /// `after task 'a'[ succeeded|failed|finished|terminated]`,
    /// `after tasks 'a', 'b' ...`, `after any tasks 'a', 'b' ...`.
    Dependency {
        /// The dependent task (the one that runs after); `None` means the owner.
        task: Option<String>,
        /// The tasks depended on, at least one.
        depends_on: Vec<String>,
        /// `task`, `tasks` (all of them) or `any tasks`.
        quantifier: Quantifier,
        /// The outcome waited for.
        outcome: Outcome,
    },
    /// `scheduler has more than N cycles`, `... less than N ...`, `... N cycles`.
    SchedulerCycles {
        /// How the cycle count compares with `n`.
        compare: CycleCompare,
        /// The number of cycles.
        n: u64,
    },
    /// `scheduler started <delta> ago`.
    SchedulerStarted(Delta),
    /// `scheduler has run over <delta>`.
    SchedulerRunOver(Delta),
    /// `env 'x'`: the session parameter `env` equals `x`.
    Env(String),
    /// `param 'k' exists`.
    ParamExists(String),
    /// `param 'k' is 'v'`.
    ParamIs {
        /// The parameter name.
        key: String,
        /// The text it must equal.
        value: String,
    },
    /// `time of <unit> between|after|before|on ...`: now is inside the period.
    TimeOf(PeriodSpec),
}

/// The period of an execution condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `daily`, `weekly between Mon and Fri`, `hourly on 15:00` ...
    Period(PeriodSpec),
    /// `every 10 minutes`: measured from the last finish.
    Every(Delta),
    /// `cron m h dom mon dow`: once per matching minute.
    Cron(Cron),
}

/// The window of a status condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// `today`, `this week after Mon` ...
    Period(PeriodSpec),
    /// `past <delta>` (or `in past <delta>` when `in_prefix`).
    Past {
        /// The length of the window.
        delta: Delta,
        /// Written as `in past`.
        in_prefix: bool,
    },
}

/// An anchored period as written: the unit, the form and its literals, and the
/// offsets they mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodSpec {
    /// The form with its literal texts.
    pub form: PeriodForm,
    /// The resolved period (its unit is the spec's unit).
    pub period: AnchoredPeriod,
}

impl PeriodSpec {
    /// The cycle of the period.
    pub fn unit(&self) -> Unit {
        self.period.unit()
    }
}

/// How an anchored period was written; literals are kept verbatim (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodForm {
    /// No qualifier: the whole cycle (`daily`, `today`).
    Whole,
    /// `starting <start>`.
    Starting(String),
    /// `between <start> and <end>`.
    Between(String, String),
    /// `after <start>`.
    After(String),
    /// `before <end>`.
    Before(String),
    /// `on <start>`.
    On(String),
}

/// A duration as written, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    /// The text as written (trimmed).
    pub text: String,
    /// Its value, never negative.
    pub duration: TimeDelta,
}

/// A cron schedule: five fields, each the set of matching values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    /// The five fields as written, separated by single spaces.
    pub text: String,
    /// Minutes 0-59 that match (bit i = minute i).
    pub minutes: u64,
    /// Hours 0-23 that match.
    pub hours: u32,
    /// Days of month 1-31 that match (bit i = day i).
    pub days_of_month: u32,
    /// Months 1-12 that match (bit i = month i).
    pub months: u16,
    /// Days of week that match, 0 = Sunday ... 6 = Saturday.
    pub days_of_week: u8,
    /// Day-of-month field was `*`.
    pub dom_star: bool,
    /// Day-of-week field was `*`.
    pub dow_star: bool,
}

/// Which records a status condition counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusAction {
    /// `started`: `run` records.
    Started,
    /// `succeeded`: `success` records.
    Succeeded,
    /// `failed`: `fail` records.
    Failed,
    /// `finished`: `success`, `fail` and `terminate` records.
    Finished,
    /// `terminated`: `terminate` records.
    Terminated,
    /// `inacted`: `inaction` records.
    Inacted,
}

/// `after task`, `after tasks`, `after any tasks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// `after task 'a'`: one task.
    Single,
    /// `after tasks 'a', 'b'`: every listed task.
    All,
    /// `after any tasks 'a', 'b'`: at least one listed task.
    Any,
}

/// The outcome a dependency waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A `success` record; `explicit` when written with ` succeeded`.
    Succeeded {
        /// Written with the word `succeeded`.
        explicit: bool,
    },
    /// A `fail` record.
    Failed,
    /// A `success` or `fail` record.
    Finished,
    /// A `terminate` record.
    Terminated,
}

/// How `scheduler has ... cycles` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CycleCompare {
    /// `more than N`.
    MoreThan,
    /// `less than N`.
    LessThan,
    /// exactly `N`.
    Exactly,
}

impl FromStr for Condition {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        parser::parse(text)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        todo!("condition parser work: canonical text")
    }
}
