//! Phrase parsing: one function per phrase family (conditions.md §3), dispatched
//! on the first word of the phrase.
//!
//! Words are separated by exactly one space (a run of spaces, a tab or a line
//! break inside a phrase is an error, as in v1.2.0); text inside quotes is taken
//! verbatim. Literals and durations are handed to [`crate::time`], and their
//! errors are reported with the literal's span.

use std::ops::Range;

use super::cron::parse_cron;
use crate::condition::{
    Condition, CycleCompare, Delta, Outcome, PeriodForm, PeriodSpec, Quantifier, Schedule,
    StatusAction, Window,
};
use crate::time::{self, AnchoredPeriod, Side, Unit};
use crate::{Error, ErrorKind};

/// Parses the phrase at `span` of `input` (already trimmed by the lexer).
pub(super) fn parse_phrase(input: &str, span: Range<usize>) -> Result<Condition, Error> {
    let text = input.get(span.clone()).unwrap_or_default();
    let mut p = Phrase {
        input,
        base: span.start,
        text,
        pos: 0,
    };
    p.check_spacing()?;
    let first = text.split([' ', '\'']).next().unwrap_or_default();
    let cond = match first {
        "true" | "false" | "always" => p.constant()?,
        "never" | "past" => return Err(p.not_a_condition()),
        "while" | "task" => p.task_prefixed()?,
        "run" | "every" | "cron" | "minutely" | "hourly" | "daily" | "weekly" | "monthly" => {
            p.executable()?
        }
        "has" => p.status(None)?,
        "after" => p.dependency()?,
        "scheduler" => p.scheduler()?,
        "env" => p.env()?,
        "param" => p.param()?,
        "time" => p.time_of()?,
        _ => {
            return Err(p.error(
                0..text.len(),
                format!(
                    "unknown condition {}, expected a phrase such as 'daily', \
                     \"after task 'x'\", 'has succeeded today'",
                    quote(text)
                ),
            ));
        }
    };
    p.finish()?;
    Ok(cond)
}

/// A cursor over the text of one phrase; spans in errors are made absolute.
struct Phrase<'a> {
    input: &'a str,
    base: usize,
    text: &'a str,
    pos: usize,
}

/// Which qualifiers a period may take besides `between`, `after` and `before`.
#[derive(Clone, Copy)]
struct Forms {
    /// No qualifier at all (the whole cycle).
    whole: bool,
    /// `starting <start>`.
    starting: bool,
    /// `on <start>`.
    on: bool,
}

impl<'a> Phrase<'a> {
    // ---------------------------------------------------------------- families

    /// `true`, `false`, `always true`, `always false`.
    fn constant(&mut self) -> Result<Condition, Error> {
        let always = self.eat("always");
        if always && !self.eat(" ") {
            return Err(self.not_a_condition());
        }
        let value = if self.eat_word("true") {
            true
        } else if self.eat_word("false") {
            false
        } else {
            return Err(self.expected("'true' or 'false'"));
        };
        Ok(Condition::Constant { value, always })
    }

    /// `[while ]task 'x' is running` and `task 'x' has ...`.
    fn task_prefixed(&mut self) -> Result<Condition, Error> {
        let while_prefix = self.eat("while ");
        if !self.eat("task ") {
            return Err(self.expected("'task'"));
        }
        let task = self.quoted("task name")?;
        if self.eat_word(" is running") {
            return Ok(Condition::Running { task, while_prefix });
        }
        if !while_prefix && self.eat(" ") && self.peek_word("has") {
            return self.status(Some(task));
        }
        Err(self.expected(if while_prefix {
            "'is running'"
        } else {
            "'is running' or 'has'"
        }))
    }

    /// `[run ]<freq>[ <qualifier>]`, `[run ]every <delta>`, `[run ]cron <fields>`.
    fn executable(&mut self) -> Result<Condition, Error> {
        const WHAT: &str = "'minutely', 'hourly', 'daily', 'weekly', 'monthly', 'every' or 'cron'";
        let run_prefix = self.eat_word("run");
        if run_prefix && !self.eat(" ") {
            return Err(self.expected(WHAT));
        }
        let schedule = if self.eat_word("every") {
            if !self.eat(" ") {
                return Err(self.expected("a duration"));
            }
            Schedule::Every(self.delta_to_end()?)
        } else if self.eat_word("cron") {
            if !self.eat(" ") {
                return Err(self.expected("five cron fields"));
            }
            let start = self.pos;
            let fields = self.rest();
            self.pos = self.text.len();
            let cron = parse_cron(fields).map_err(|(span, message)| {
                self.error(start + span.start..start + span.end, message)
            })?;
            Schedule::Cron(cron)
        } else {
            let Some(unit) = self.eat_unit_word(FREQ_WORDS) else {
                return Err(self.expected(WHAT));
            };
            let forms = Forms {
                whole: true,
                starting: true,
                on: true,
            };
            Schedule::Period(self.period(unit, forms)?)
        };
        Ok(Condition::Executable {
            task: None,
            schedule,
            run_prefix,
        })
    }

    /// `has <action>[ <window>]`, for the owner (`task` = `None`) or a named task.
    fn status(&mut self, task: Option<String>) -> Result<Condition, Error> {
        if !self.eat_word("has") {
            return Err(self.expected("'has'"));
        }
        let _ = self.eat(" ");
        let action = if self.eat_word("succeeded") {
            StatusAction::Succeeded
        } else if self.eat_word("failed") {
            StatusAction::Failed
        } else if self.eat_word("finished") {
            StatusAction::Finished
        } else if self.eat_word("terminated") {
            StatusAction::Terminated
        } else if self.eat_word("inacted") {
            StatusAction::Inacted
        } else if self.eat_word("started") {
            StatusAction::Started
        } else {
            return Err(self.expected(
                "'succeeded', 'failed', 'finished', 'terminated', 'inacted' or 'started'",
            ));
        };
        let window = if self.at_end() {
            None
        } else if self.rest() == " past" || self.rest() == " in past" {
            self.pos = self.text.len();
            return Err(self.expected("a duration"));
        } else if self.eat(" past ") {
            Some(Window::Past {
                delta: self.delta_to_end()?,
                in_prefix: false,
            })
        } else if self.eat(" in past ") {
            Some(Window::Past {
                delta: self.delta_to_end()?,
                in_prefix: true,
            })
        } else if self.eat(" ") {
            let Some(unit) = self.eat_unit_word(PERIOD_WORDS) else {
                return Err(self.expected(
                    "'today', 'this week', 'this month', 'this hour', 'this minute', \
                     'past <duration>' or 'in past <duration>'",
                ));
            };
            let forms = Forms {
                whole: true,
                starting: true,
                on: true,
            };
            Some(Window::Period(self.period(unit, forms)?))
        } else {
            return Err(self.expected("a space"));
        };
        Ok(Condition::Status {
            task,
            action,
            window,
        })
    }

    /// `after task 'a'[ <outcome>]`, `after tasks 'a', 'b'[ <outcome>]`,
    /// `after any tasks 'a', 'b'[ <outcome>]`.
    fn dependency(&mut self) -> Result<Condition, Error> {
        if !self.eat("after ") {
            return Err(self.expected("'after'"));
        }
        let quantifier = if self.eat("task ") {
            Quantifier::Single
        } else if self.eat("tasks ") {
            Quantifier::All
        } else if self.eat("any tasks ") {
            Quantifier::Any
        } else {
            return Err(self.expected("'task', 'tasks' or 'any tasks'"));
        };
        let mut depends_on = vec![self.quoted("task name")?];
        while self.rest().starts_with(", '") {
            if quantifier == Quantifier::Single {
                let start = self.pos;
                return Err(self.error(
                    start..self.text.len(),
                    "'after task' takes one task; write 'after tasks' or 'after any tasks' \
                     for several",
                ));
            }
            self.pos += 2;
            depends_on.push(self.quoted("task name")?);
        }
        let outcome = if self.at_end() {
            Outcome::Succeeded { explicit: false }
        } else if self.eat_word(" succeeded") {
            Outcome::Succeeded { explicit: true }
        } else if self.eat_word(" failed") {
            Outcome::Failed
        } else if self.eat_word(" finished") {
            Outcome::Finished
        } else if self.eat_word(" terminated") {
            Outcome::Terminated
        } else {
            return Err(self.expected("'succeeded', 'failed', 'finished' or 'terminated'"));
        };
        Ok(Condition::Dependency {
            task: None,
            depends_on,
            quantifier,
            outcome,
        })
    }

    /// `scheduler has [more than |less than ]N cycles`, `scheduler has run over <d>`,
    /// `scheduler started <d> ago`.
    fn scheduler(&mut self) -> Result<Condition, Error> {
        if !self.eat("scheduler ") {
            return Err(self.expected("'scheduler'"));
        }
        if self.eat("started ") {
            let start = self.pos;
            let Some(text) = self.rest().strip_suffix(" ago") else {
                return Err(self.error(
                    start..self.text.len(),
                    "expected '<duration> ago' after 'scheduler started'",
                ));
            };
            let delta = self.delta(text, start)?;
            self.pos = self.text.len();
            return Ok(Condition::SchedulerStarted(delta));
        }
        if !self.eat("has ") {
            return Err(self.expected("'has' or 'started'"));
        }
        if self.eat_word("run over") {
            if !self.eat(" ") {
                return Err(self.expected("a duration"));
            }
            return Ok(Condition::SchedulerRunOver(self.delta_to_end()?));
        }
        let compare = if self.eat("more than ") {
            CycleCompare::MoreThan
        } else if self.eat("less than ") {
            CycleCompare::LessThan
        } else {
            CycleCompare::Exactly
        };
        let start = self.pos;
        let digits = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(self.expected(if compare == CycleCompare::Exactly {
                "'more than', 'less than', 'run over' or a number of cycles"
            } else {
                "a number of cycles"
            }));
        }
        let end = start + digits;
        let n = self.text[start..end]
            .parse::<u64>()
            .map_err(|_| self.error(start..end, "number of cycles too large"))?;
        self.pos = end;
        if !self.eat_word(" cycles") {
            return Err(self.expected("'cycles'"));
        }
        Ok(Condition::SchedulerCycles { compare, n })
    }

    /// `env 'x'`.
    fn env(&mut self) -> Result<Condition, Error> {
        if !self.eat("env ") {
            return Err(self.expected("'env'"));
        }
        Ok(Condition::Env(self.quoted("environment name")?))
    }

    /// `param 'k' exists`, `param 'k' is 'v'`.
    fn param(&mut self) -> Result<Condition, Error> {
        if !self.eat("param ") {
            return Err(self.expected("'param'"));
        }
        let key = self.quoted("parameter name")?;
        if self.eat_word(" exists") {
            return Ok(Condition::ParamExists(key));
        }
        if self.eat(" is ") {
            let value = self.quoted("parameter value")?;
            return Ok(Condition::ParamIs { key, value });
        }
        Err(self.expected("'exists' or 'is'"))
    }

    /// `time of <unit> between|after|before ...`, `time of week|month on ...`.
    fn time_of(&mut self) -> Result<Condition, Error> {
        if !self.eat("time of ") {
            return Err(self.expected("'time of'"));
        }
        let Some(unit) = self.eat_unit_word(UNIT_WORDS) else {
            return Err(self.expected("'minute', 'hour', 'day', 'week' or 'month'"));
        };
        let on = matches!(unit, Unit::Week | Unit::Month);
        let forms = Forms {
            whole: false,
            starting: false,
            on,
        };
        Ok(Condition::TimeOf(self.period(unit, forms)?))
    }

    // ------------------------------------------------------- periods, durations

    /// The qualifier after a period word, and the period it means.
    fn period(&mut self, unit: Unit, forms: Forms) -> Result<PeriodSpec, Error> {
        let qualifier = self.pos;
        if forms.whole && self.at_end() {
            let period = AnchoredPeriod::new(unit, None, None)
                .map_err(|e| self.wrap(e, "", 0..self.text.len()))?;
            return Ok(PeriodSpec {
                form: PeriodForm::Whole,
                period,
            });
        }
        let form = if forms.starting && self.eat(" starting ") {
            PeriodForm::Starting(self.literal_to_end(unit, Side::Start)?)
        } else if self.eat(" between ") {
            let start = self.pos;
            let rest = self.rest();
            let Some(and) = rest.rfind(" and ") else {
                return Err(self.error(
                    start..self.text.len(),
                    "expected '<start> and <end>' after 'between'",
                ));
            };
            let (from, to) = (&rest[..and], &rest[and + 5..]);
            if from.is_empty() || to.is_empty() {
                return Err(self.error(
                    start..self.text.len(),
                    "expected '<start> and <end>' after 'between'",
                ));
            }
            self.check_literal(unit, from, start, Side::Start)?;
            self.check_literal(unit, to, start + and + 5, Side::End)?;
            self.pos = self.text.len();
            PeriodForm::Between(from.to_owned(), to.to_owned())
        } else if self.eat(" after ") {
            PeriodForm::After(self.literal_to_end(unit, Side::Start)?)
        } else if self.eat(" before ") {
            PeriodForm::Before(self.literal_to_end(unit, Side::End)?)
        } else if forms.on && self.eat(" on ") {
            PeriodForm::On(self.literal_to_end(unit, Side::Start)?)
        } else {
            let word = self.rest().trim_start();
            let allowed = match word {
                "starting" => forms.starting,
                "on" => forms.on,
                "between" | "after" | "before" => true,
                _ => false,
            };
            if allowed {
                self.pos = self.text.len();
                let what = if word == "between" {
                    "'<start> and <end>'"
                } else {
                    "a time"
                };
                return Err(self.expected(what));
            }
            let mut words = Vec::new();
            if forms.starting {
                words.push("'starting'");
            }
            words.extend(["'between'", "'after'", "'before'"]);
            if forms.on {
                words.push("'on'");
            }
            let last = words.pop().unwrap_or_default();
            return Err(self.expected(&format!("{} or {last}", words.join(", "))));
        };
        let period = match &form {
            PeriodForm::Whole => AnchoredPeriod::new(unit, None, None),
            PeriodForm::Starting(s) => AnchoredPeriod::starting(unit, s),
            PeriodForm::Between(s, e) => AnchoredPeriod::new(unit, Some(s), Some(e)),
            PeriodForm::After(s) => AnchoredPeriod::new(unit, Some(s), None),
            PeriodForm::Before(e) => AnchoredPeriod::new(unit, None, Some(e)),
            PeriodForm::On(s) => AnchoredPeriod::on(unit, s),
        };
        let span = (qualifier + 1).min(self.text.len())..self.text.len();
        let period = period.map_err(|e| self.wrap(e, "", span))?;
        Ok(PeriodSpec { form, period })
    }

    /// The rest of the phrase as one time literal of `unit`, checked.
    fn literal_to_end(&mut self, unit: Unit, side: Side) -> Result<String, Error> {
        let start = self.pos;
        let text = self.rest();
        if text.is_empty() {
            return Err(self.expected("a time"));
        }
        self.check_literal(unit, text, start, side)?;
        self.pos = self.text.len();
        Ok(text.to_owned())
    }

    /// Checks that `text` (at `start` in the phrase) is a literal of `unit`.
    fn check_literal(&self, unit: Unit, text: &str, start: usize, side: Side) -> Result<(), Error> {
        match time::parse_literal(unit, text, side) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.wrap(e, text, start..start + text.len())),
        }
    }

    /// The rest of the phrase as one duration.
    fn delta_to_end(&mut self) -> Result<Delta, Error> {
        let start = self.pos;
        let text = self.rest();
        let delta = self.delta(text, start)?;
        self.pos = self.text.len();
        Ok(delta)
    }

    /// `text` (at `start` in the phrase) as a duration.
    fn delta(&self, text: &str, start: usize) -> Result<Delta, Error> {
        if text.is_empty() {
            return Err(self.error(start..start, "expected a duration"));
        }
        match time::parse_duration(text) {
            Ok(duration) => Ok(Delta {
                text: text.to_owned(),
                duration,
            }),
            Err(e) => Err(self.wrap(e, text, start..start + text.len())),
        }
    }

    // ------------------------------------------------------------------ cursor

    /// Rejects whitespace other than single spaces between words (outside quotes).
    fn check_spacing(&self) -> Result<(), Error> {
        let mut quoted = false;
        let mut i = 0;
        while i < self.text.len() {
            let Some(c) = self.text[i..].chars().next() else {
                break;
            };
            if c == '\'' {
                quoted = !quoted;
            } else if !quoted && c.is_whitespace() {
                let end = i + self.text[i..]
                    .find(|c: char| !c.is_whitespace())
                    .unwrap_or(self.text.len() - i);
                let run = &self.text[i..end];
                if run.contains(['\n', '\r']) {
                    return Err(self.error(
                        i..end,
                        "line break inside a phrase; join conditions with '&' or '|'",
                    ));
                }
                if run != " " {
                    return Err(self.error(i..end, "words must be separated by a single space"));
                }
                i = end;
                continue;
            }
            i += c.len_utf8();
        }
        Ok(())
    }

    /// A quoted name at the cursor: `'...'`, not empty, no control characters.
    fn quoted(&mut self, what: &str) -> Result<String, Error> {
        let start = self.pos;
        if !self.rest().starts_with('\'') {
            return Err(self.expected(&format!("a quoted {what}")));
        }
        let Some(len) = self.text[start + 1..].find('\'') else {
            return Err(self.error(start..self.text.len(), "unclosed quote"));
        };
        let end = start + 1 + len;
        let name = &self.text[start + 1..end];
        if name.is_empty() {
            return Err(self.error(start..end + 1, format!("empty {what}")));
        }
        if name.chars().any(char::is_control) {
            return Err(self.error(
                start..end + 1,
                format!("{what} contains a control character (is a quote missing?)"),
            ));
        }
        self.pos = end + 1;
        Ok(name.to_owned())
    }

    /// Eats one of `words` (each followed by the end or a space) and returns its unit.
    fn eat_unit_word(&mut self, words: &[(&str, Unit)]) -> Option<Unit> {
        words
            .iter()
            .find(|(word, _)| self.eat_word(word))
            .map(|&(_, unit)| unit)
    }

    /// Eats `s` if the rest starts with it.
    fn eat(&mut self, s: &str) -> bool {
        let hit = self.rest().starts_with(s);
        if hit {
            self.pos += s.len();
        }
        hit
    }

    /// Eats `s` if the rest starts with it and it ends a word.
    fn eat_word(&mut self, s: &str) -> bool {
        let hit = self.peek_word(s);
        if hit {
            self.pos += s.len();
        }
        hit
    }

    /// Whether the rest starts with `s` followed by the end or a space.
    fn peek_word(&self, s: &str) -> bool {
        self.rest()
            .strip_prefix(s)
            .is_some_and(|after| after.is_empty() || after.starts_with(' '))
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Fails when text is left after a complete phrase.
    fn finish(&self) -> Result<(), Error> {
        if self.at_end() {
            return Ok(());
        }
        let done = self.text[..self.pos].trim_end();
        Err(self.error(
            self.pos..self.text.len(),
            format!("unexpected text after {}", quote(done)),
        ))
    }

    // ------------------------------------------------------------------ errors

    /// `expected <what> after '<text so far>'`, pointing at the rest of the phrase.
    fn expected(&self, what: &str) -> Error {
        let done = self.text[..self.pos].trim_end();
        let skip = usize::from(self.rest().starts_with(' '));
        let start = (self.pos + skip).min(self.text.len());
        let end = self.text[start..]
            .find(' ')
            .map_or(self.text.len(), |i| start + i);
        let end = if end == start { self.text.len() } else { end };
        let message = if done.is_empty() {
            format!("expected {what}")
        } else {
            format!("expected {what} after {}", quote(done))
        };
        self.error(start..end, message)
    }

    /// The error for `past ...`, `always`, `never`: time periods, not conditions.
    fn not_a_condition(&self) -> Error {
        self.error(
            0..self.text.len(),
            format!(
                "{} is a time period, not a condition; write e.g. 'true', 'false', \
                 'has succeeded past <duration>' or 'every <duration>'",
                quote(self.text)
            ),
        )
    }

    /// An invalid-condition error at `span` (relative to the phrase).
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidCondition, message)
            .with_span(self.input, self.base + span.start..self.base + span.end)
    }

    /// Re-anchors an error of the time module about `text` (at `span` in the
    /// phrase) in the condition input, keeping its kind and message.
    fn wrap(&self, e: Error, text: &str, span: Range<usize>) -> Error {
        let span = match (e.input(), e.span()) {
            (Some(inner), Some(sub)) if inner == text && !text.is_empty() => {
                span.start + sub.start..span.start + sub.end
            }
            _ => span,
        };
        Error::new(e.kind(), e.message())
            .with_span(self.input, self.base + span.start..self.base + span.end)
    }
}

/// Execution frequency words.
const FREQ_WORDS: &[(&str, Unit)] = &[
    ("minutely", Unit::Minute),
    ("hourly", Unit::Hour),
    ("daily", Unit::Day),
    ("weekly", Unit::Week),
    ("monthly", Unit::Month),
];

/// Status period words.
const PERIOD_WORDS: &[(&str, Unit)] = &[
    ("this minute", Unit::Minute),
    ("this hour", Unit::Hour),
    ("today", Unit::Day),
    ("this week", Unit::Week),
    ("this month", Unit::Month),
];

/// `time of` unit words.
const UNIT_WORDS: &[(&str, Unit)] = &[
    ("minute", Unit::Minute),
    ("hour", Unit::Hour),
    ("day", Unit::Day),
    ("week", Unit::Week),
    ("month", Unit::Month),
];

/// `text` in single quotes, or in double quotes when it holds a single quote.
fn quote(text: &str) -> String {
    if text.contains('\'') {
        format!("\"{text}\"")
    } else {
        format!("'{text}'")
    }
}
