//! Parse / print tests of the condition language: one `check` helper that shows
//! trees as S-expressions and errors with carets; the tables per phrase family, the
//! `cond_parse` vectors and the properties live in the files under `tests/`.

mod cron;
mod lexer;
mod operators;
mod periods;
mod phrases;
mod props;
mod vectors;

use std::fmt::Write as _;

use super::lexer::{TokenKind, tokenize};
use super::parser::parse;
use super::{
    Condition, Cron, CycleCompare, Delta, Outcome, PeriodForm, PeriodSpec, Quantifier, Schedule,
    Window,
};
use crate::time::Unit;

/// Parses `input` and shows the tree as an S-expression, or the rendered error
/// prefixed with `error: `. For a tree, also checks that its canonical text
/// parses back to the same tree.
fn show(input: &str) -> String {
    match parse(input) {
        Ok(tree) => {
            let text = tree.to_string();
            match parse(&text) {
                Ok(again) => assert_eq!(again, tree, "{input:?} printed as {text:?}"),
                Err(e) => panic!("{input:?} printed as {text:?}, which fails: {}", e.render()),
            }
            sexpr(&tree)
        }
        Err(e) => format!("error: {}", e.render()),
    }
}

/// Runs `show` over a table of `(input, expected)` and reports every mismatch.
fn check_all(cases: &[(&str, &str)]) {
    let mut failures = String::new();
    for &(input, expected) in cases {
        let got = show(input);
        if got != expected {
            let _ = writeln!(
                failures,
                "input:    {input:?}\nexpected: {expected}\ngot:      {got}\n"
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{failures}",
        failures.matches("input:").count()
    );
}

/// Checks canonical texts: each input parses and prints as `canonical`.
fn check_canonical(cases: &[(&str, &str)]) {
    let mut failures = String::new();
    for &(input, canonical) in cases {
        match parse(input) {
            Ok(tree) if tree.to_string() == canonical => {}
            Ok(tree) => {
                let _ = writeln!(
                    failures,
                    "{input:?} printed as {:?}, not {canonical:?}",
                    tree.to_string()
                );
            }
            Err(e) => {
                let _ = writeln!(failures, "{input:?} failed: {}", e.render());
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// The S-expression of a tree.
fn sexpr(c: &Condition) -> String {
    match c {
        Condition::Constant {
            value,
            always: false,
        } => value.to_string(),
        Condition::Constant {
            value,
            always: true,
        } => format!("(always {value})"),
        Condition::Not(inner) => format!("(not {})", sexpr(inner)),
        Condition::All(items) => list("all", items),
        Condition::Any(items) => list("any", items),
        Condition::Executable {
            task,
            schedule,
            run_prefix,
        } => {
            let mut s = String::from("(exec");
            if let Some(task) = task {
                let _ = write!(s, " task='{task}'");
            }
            if *run_prefix {
                s.push_str(" run");
            }
            let schedule = match schedule {
                Schedule::Period(spec) => period(spec),
                Schedule::Every(delta) => format!("(every {})", delta_sexpr(delta)),
                Schedule::Cron(cron) => cron_sexpr(cron),
            };
            format!("{s} {schedule})")
        }
        Condition::Status {
            task,
            action,
            window,
        } => {
            let task = task
                .as_ref()
                .map_or_else(|| "owner".to_owned(), |t| format!("'{t}'"));
            let window = match window {
                None => String::new(),
                Some(Window::Period(spec)) => format!(" {}", period(spec)),
                Some(Window::Past { delta, in_prefix }) => {
                    let word = if *in_prefix { "in-past" } else { "past" };
                    format!(" ({word} {})", delta_sexpr(delta))
                }
            };
            format!("(status {} {task}{window})", action.word())
        }
        Condition::Running { task, while_prefix } => {
            let prefix = if *while_prefix { "while " } else { "" };
            format!("(running {prefix}'{task}')")
        }
        Condition::Dependency {
            task,
            depends_on,
            quantifier,
            outcome,
        } => {
            let mut s = String::from("(after");
            if let Some(task) = task {
                let _ = write!(s, " task='{task}'");
            }
            s.push_str(match quantifier {
                Quantifier::Single => " task",
                Quantifier::All => " tasks",
                Quantifier::Any => " any-tasks",
            });
            for name in depends_on {
                let _ = write!(s, " '{name}'");
            }
            s.push_str(match outcome {
                Outcome::Succeeded { explicit: false } => "",
                Outcome::Succeeded { explicit: true } => " succeeded",
                Outcome::Failed => " failed",
                Outcome::Finished => " finished",
                Outcome::Terminated => " terminated",
            });
            s + ")"
        }
        Condition::SchedulerCycles { compare, n } => {
            let op = match compare {
                CycleCompare::MoreThan => ">",
                CycleCompare::LessThan => "<",
                CycleCompare::Exactly => "=",
            };
            format!("(cycles {op} {n})")
        }
        Condition::SchedulerStarted(delta) => format!("(started-ago {})", delta_sexpr(delta)),
        Condition::SchedulerRunOver(delta) => format!("(run-over {})", delta_sexpr(delta)),
        Condition::Env(env) => format!("(env '{env}')"),
        Condition::ParamExists(key) => format!("(param-exists '{key}')"),
        Condition::ParamIs { key, value } => format!("(param-is '{key}' '{value}')"),
        Condition::TimeOf(spec) => format!("(time-of {})", period(spec)),
    }
}

fn list(head: &str, items: &[Condition]) -> String {
    let mut s = format!("({head}");
    for item in items {
        s.push(' ');
        s.push_str(&sexpr(item));
    }
    s + ")"
}

/// `(day between "10:00" "12:00" 10:00:00..12:00:00)`.
fn period(spec: &PeriodSpec) -> String {
    let unit = match spec.unit() {
        Unit::Minute => "minute",
        Unit::Hour => "hour",
        Unit::Day => "day",
        Unit::Week => "week",
        Unit::Month => "month",
    };
    let form = match &spec.form {
        PeriodForm::Whole => "whole".to_owned(),
        PeriodForm::Starting(s) => format!("starting {s:?}"),
        PeriodForm::Between(s, e) => format!("between {s:?} {e:?}"),
        PeriodForm::After(s) => format!("after {s:?}"),
        PeriodForm::Before(e) => format!("before {e:?}"),
        PeriodForm::On(s) => format!("on {s:?}"),
    };
    let (start, end) = (spec.period.start_ns(), spec.period.end_ns());
    format!("({unit} {form} {}..{})", offset(start), offset(end))
}

/// An offset as `[Nd]HH:MM:SS[.fffffffff]`.
fn offset(ns: i64) -> String {
    const SEC: i64 = 1_000_000_000;
    let (secs, frac) = (ns.div_euclid(SEC), ns.rem_euclid(SEC));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let mut s = if days == 0 {
        String::new()
    } else {
        format!("{days}d")
    };
    let _ = write!(
        s,
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    );
    if frac != 0 {
        let _ = write!(s, ".{frac:09}");
    }
    s
}

/// `"10 minutes" 600s`.
fn delta_sexpr(delta: &Delta) -> String {
    let d = delta.duration;
    let mut s = format!("{:?} {}s", delta.text, d.num_seconds());
    if d.subsec_nanos() != 0 {
        let _ = write!(s, "+{}ns", d.subsec_nanos());
    }
    s
}

/// `(cron "0 9 * * 1-5" m=0 h=9 dom=1-31* mon=1-12 dow=1-5)`; `*` marks a star day field.
fn cron_sexpr(cron: &Cron) -> String {
    format!(
        "(cron {:?} m={} h={} dom={}{} mon={} dow={}{})",
        cron.text,
        ranges(cron.minutes),
        ranges(cron.hours.into()),
        ranges(cron.days_of_month.into()),
        if cron.dom_star { "*" } else { "" },
        ranges(cron.months.into()),
        ranges(cron.days_of_week.into()),
        if cron.dow_star { "*" } else { "" },
    )
}

/// The set bits of `bits` as `a-b,c`.
fn ranges(bits: u64) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < 64 {
        if bits & (1 << i) == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < 64 && bits & (1 << i) != 0 {
            i += 1;
        }
        parts.push(if i - 1 == start {
            start.to_string()
        } else {
            format!("{start}-{}", i - 1)
        });
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(",")
    }
}
