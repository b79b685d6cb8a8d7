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

#[cfg(test)]
mod tests;

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
    /// Day-of-month field starts with `*` (`*` or `*/n`): as in Vixie cron, the
    /// day then matches when both day fields match, else when either does.
    pub dom_star: bool,
    /// Day-of-week field starts with `*` (`*` or `*/n`).
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

/// The canonical text: single spaces, ` & `, ` | `, `~` without a space after it,
/// parentheses only where precedence needs them, literals and durations as stored.
///
/// For every tree the parser produces, parsing this text gives the same tree.
/// Trees the parser never produces print as close as the syntax allows: `Not(Not(a))`
/// prints `~~a` (which parses to `a`), an `All`/`Any` with no item prints `true` /
/// `false` and with one item prints that item, and the `task` of an execution or
/// dependency condition (the owner) is not part of the text.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Constant { value, always } => {
                if *always {
                    f.write_str("always ")?;
                }
                f.write_str(if *value { "true" } else { "false" })
            }
            Condition::Not(inner) => {
                f.write_str("~")?;
                write_operand(f, inner, |c| {
                    matches!(c, Condition::All(_) | Condition::Any(_))
                })
            }
            Condition::All(items) => write_joined(f, items, " & ", "true", |c| {
                matches!(c, Condition::All(_) | Condition::Any(_))
            }),
            Condition::Any(items) => {
                write_joined(f, items, " | ", "false", |c| matches!(c, Condition::Any(_)))
            }
            Condition::Executable {
                task: _,
                schedule,
                run_prefix,
            } => {
                if *run_prefix {
                    f.write_str("run ")?;
                }
                match schedule {
                    Schedule::Period(spec) => {
                        f.write_str(freq_word(spec.unit()))?;
                        write!(f, "{}", spec.form)
                    }
                    Schedule::Every(delta) => write!(f, "every {}", delta.text),
                    Schedule::Cron(cron) => write!(f, "cron {}", cron.text),
                }
            }
            Condition::Status {
                task,
                action,
                window,
            } => {
                if let Some(task) = task {
                    write!(f, "task '{task}' ")?;
                }
                write!(f, "has {}", action.word())?;
                match window {
                    None => Ok(()),
                    Some(Window::Period(spec)) => {
                        write!(f, " {}{}", period_word(spec.unit()), spec.form)
                    }
                    Some(Window::Past { delta, in_prefix }) => {
                        let prefix = if *in_prefix { "in " } else { "" };
                        write!(f, " {prefix}past {}", delta.text)
                    }
                }
            }
            Condition::Running { task, while_prefix } => {
                if *while_prefix {
                    f.write_str("while ")?;
                }
                write!(f, "task '{task}' is running")
            }
            Condition::Dependency {
                task: _,
                depends_on,
                quantifier,
                outcome,
            } => {
                f.write_str(match quantifier {
                    Quantifier::Single => "after task ",
                    Quantifier::All => "after tasks ",
                    Quantifier::Any => "after any tasks ",
                })?;
                for (i, name) in depends_on.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{name}'")?;
                }
                match outcome {
                    Outcome::Succeeded { explicit: false } => Ok(()),
                    Outcome::Succeeded { explicit: true } => f.write_str(" succeeded"),
                    Outcome::Failed => f.write_str(" failed"),
                    Outcome::Finished => f.write_str(" finished"),
                    Outcome::Terminated => f.write_str(" terminated"),
                }
            }
            Condition::SchedulerCycles { compare, n } => {
                let compare = match compare {
                    CycleCompare::MoreThan => "more than ",
                    CycleCompare::LessThan => "less than ",
                    CycleCompare::Exactly => "",
                };
                write!(f, "scheduler has {compare}{n} cycles")
            }
            Condition::SchedulerStarted(delta) => write!(f, "scheduler started {} ago", delta.text),
            Condition::SchedulerRunOver(delta) => {
                write!(f, "scheduler has run over {}", delta.text)
            }
            Condition::Env(env) => write!(f, "env '{env}'"),
            Condition::ParamExists(key) => write!(f, "param '{key}' exists"),
            Condition::ParamIs { key, value } => write!(f, "param '{key}' is '{value}'"),
            Condition::TimeOf(spec) => {
                write!(f, "time of {}{}", unit_word(spec.unit()), spec.form)
            }
        }
    }
}

/// The qualifier of a period with its leading space (nothing for the whole cycle):
/// ` between 10:00 and 12:00`, ` on Mon` ...
impl fmt::Display for PeriodForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodForm::Whole => Ok(()),
            PeriodForm::Starting(start) => write!(f, " starting {start}"),
            PeriodForm::Between(start, end) => write!(f, " between {start} and {end}"),
            PeriodForm::After(start) => write!(f, " after {start}"),
            PeriodForm::Before(end) => write!(f, " before {end}"),
            PeriodForm::On(start) => write!(f, " on {start}"),
        }
    }
}

impl StatusAction {
    /// The word after `has`: `started`, `succeeded`, `failed` ...
    pub fn word(self) -> &'static str {
        match self {
            StatusAction::Started => "started",
            StatusAction::Succeeded => "succeeded",
            StatusAction::Failed => "failed",
            StatusAction::Finished => "finished",
            StatusAction::Terminated => "terminated",
            StatusAction::Inacted => "inacted",
        }
    }
}

/// `minutely` ... `monthly`.
fn freq_word(unit: Unit) -> &'static str {
    match unit {
        Unit::Minute => "minutely",
        Unit::Hour => "hourly",
        Unit::Day => "daily",
        Unit::Week => "weekly",
        Unit::Month => "monthly",
    }
}

/// `this minute` ... `this month` (with `today`).
fn period_word(unit: Unit) -> &'static str {
    match unit {
        Unit::Minute => "this minute",
        Unit::Hour => "this hour",
        Unit::Day => "today",
        Unit::Week => "this week",
        Unit::Month => "this month",
    }
}

/// `minute` ... `month`.
fn unit_word(unit: Unit) -> &'static str {
    match unit {
        Unit::Minute => "minute",
        Unit::Hour => "hour",
        Unit::Day => "day",
        Unit::Week => "week",
        Unit::Month => "month",
    }
}

/// Writes `cond`, in parentheses when `needs_parens(cond)`.
fn write_operand(
    f: &mut fmt::Formatter<'_>,
    cond: &Condition,
    needs_parens: fn(&Condition) -> bool,
) -> fmt::Result {
    if needs_parens(cond) {
        write!(f, "({cond})")
    } else {
        write!(f, "{cond}")
    }
}

/// Writes `items` joined by `sep`; `empty` when there is none.
fn write_joined(
    f: &mut fmt::Formatter<'_>,
    items: &[Condition],
    sep: &str,
    empty: &str,
    needs_parens: fn(&Condition) -> bool,
) -> fmt::Result {
    if let [only] = items {
        return write!(f, "{only}");
    }
    if items.is_empty() {
        return f.write_str(empty);
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write_operand(f, item, needs_parens)?;
    }
    Ok(())
}
