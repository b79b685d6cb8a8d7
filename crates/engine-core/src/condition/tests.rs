//! Parse / print tests of the condition language: one `check` helper that shows
//! trees as S-expressions and errors with carets, tables per phrase family, the
//! `cond_parse` vectors, and properties.

mod lexer;
mod periods;
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

// --------------------------------------------------------------------- tables

#[test]
fn operators() {
    check_all(&[
        ("true", "true"),
        ("false", "false"),
        ("always true", "(always true)"),
        ("always false", "(always false)"),
        ("~true", "(not true)"),
        ("~ always false", "(not (always false))"),
        ("~~true", "true"),
        ("~ ~ true", "true"),
        ("~~~true", "(not true)"),
        ("~(~true)", "true"),
        ("~(~(~true))", "(not true)"),
        ("true & false", "(all true false)"),
        ("true|false", "(any true false)"),
        (
            "true & false & always true",
            "(all true false (always true))",
        ),
        (
            "(true & false) & always true",
            "(all true false (always true))",
        ),
        (
            "true & (false & always true)",
            "(all true false (always true))",
        ),
        (
            "(true | false) | (always true | always false)",
            "(any true false (always true) (always false))",
        ),
        (
            "true | false & always true",
            "(any true (all false (always true)))",
        ),
        (
            "true & false | always true",
            "(any (all true false) (always true))",
        ),
        (
            "(true | false) & always true",
            "(all (any true false) (always true))",
        ),
        ("~(true & false)", "(not (all true false))"),
        ("~true & false", "(all (not true) false)"),
        (
            "~true | ~false & ~true",
            "(any (not true) (all (not false) (not true)))",
        ),
        ("(((true)))", "true"),
        ("~((true))", "(not true)"),
        ("", "false"),
        (" \n\t ", "false"),
        // QUIRK-P1 fixed: whitespace around parentheses is fine.
        (
            "\n  (true & false)\n | (true)",
            "(any (all true false) true)",
        ),
        ("(true) & (false)", "(all true false)"),
        ("(true)|(false)", "(any true false)"),
        (
            "(true & true)\n   | (false & ~\n   false)",
            "(any (all true true) (all false (not false)))",
        ),
        // Quoted text is one token: names may hold operator characters.
        (
            "after task 'a&b' & after task 'x|y(z)~'",
            "(all (after task 'a&b') (after task 'x|y(z)~'))",
        ),
        (
            "after task '(' | task ')' is running",
            "(any (after task '(') (running ')'))",
        ),
    ]);
}

#[test]
fn operator_errors() {
    check_all(&[
        (
            "true &",
            "error: expected a condition after '&' at byte 5\n  true &\n       ^",
        ),
        (
            "true |",
            "error: expected a condition after '|' at byte 5\n  true |\n       ^",
        ),
        (
            "& true",
            "error: expected a condition before '&' at byte 0\n  & true\n  ^",
        ),
        (
            "| true",
            "error: expected a condition before '|' at byte 0\n  | true\n  ^",
        ),
        (
            "~",
            "error: expected a condition after '~' at byte 0\n  ~\n  ^",
        ),
        (
            "true & ~",
            "error: expected a condition after '~' at byte 7\n  true & ~\n         ^",
        ),
        ("()", "error: empty parentheses at byte 0\n  ()\n  ^^"),
        (
            "true & ( )",
            "error: empty parentheses at byte 7\n  true & ( )\n         ^^^",
        ),
        ("(true", "error: unclosed '(' at byte 0\n  (true\n  ^"),
        (
            "true & (false",
            "error: unclosed '(' at byte 7\n  true & (false\n         ^",
        ),
        ("((true)", "error: unclosed '(' at byte 0\n  ((true)\n  ^"),
        ("true)", "error: unmatched ')' at byte 4\n  true)\n      ^"),
        (
            "(true))",
            "error: unmatched ')' at byte 6\n  (true))\n        ^",
        ),
        (
            ")",
            "error: expected a condition before ')' at byte 0\n  )\n  ^",
        ),
        // QUIRK-P2 fixed: items side by side are an error.
        (
            "(true)(false)",
            "error: expected '&' or '|' between two conditions at byte 6\n  (true)(false)\n        ^",
        ),
        (
            "true (false)",
            "error: expected '&' or '|' between two conditions at byte 5\n  true (false)\n       ^",
        ),
        (
            "(true) false",
            "error: expected '&' or '|' between two conditions at byte 7\n  (true) false\n         ^^^^^",
        ),
        (
            "(true ~false)",
            "error: expected '&' or '|' between two conditions at byte 6\n  (true ~false)\n        ^",
        ),
        (
            "true ~false",
            "error: expected '&' or '|' between two conditions at byte 5\n  true ~false\n       ^",
        ),
        // QUIRK-P3 fixed: doubled operators are an error.
        (
            "true && false",
            "error: expected a condition between '&' and '&' at byte 5\n  true && false\n       ^^",
        ),
        (
            "true & & false",
            "error: expected a condition between '&' and '&' at byte 5\n  true & & false\n       ^^^",
        ),
        (
            "true || false",
            "error: expected a condition between '|' and '|' at byte 5\n  true || false\n       ^^",
        ),
        (
            "true & | false",
            "error: expected a condition between '&' and '|' at byte 5\n  true & | false\n       ^^^",
        ),
        (
            "true ~& false",
            "error: expected '&' or '|' between two conditions at byte 5\n  true ~& false\n       ^",
        ),
        (
            "~& false",
            "error: expected a condition between '~' and '&' at byte 0\n  ~& false\n  ^^",
        ),
        (
            "(true &)",
            "error: expected a condition between '&' and ')' at byte 6\n  (true &)\n        ^^",
        ),
        (
            "(~)",
            "error: expected a condition between '~' and ')' at byte 1\n  (~)\n   ^^",
        ),
        (
            "(& true)",
            "error: expected a condition between '(' and '&' at byte 0\n  (& true)\n  ^^",
        ),
        // Errors on a later line show that line.
        (
            "true\n& false &",
            "error: expected a condition after '&' at byte 13\n  & false &\n          ^",
        ),
    ]);
}

#[test]
fn nesting_is_capped_and_long_chains_work() {
    let ok = format!("{}true{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(show(&ok), "true");
    let deep = format!("{}true{}", "(".repeat(65), ")".repeat(65));
    assert_eq!(
        show(&deep).lines().next(),
        Some("error: parentheses nested deeper than 64 levels at byte 64")
    );
    let unclosed = "(".repeat(100_000);
    assert!(show(&unclosed).starts_with("error: parentheses nested deeper than 64 levels"));
    let nots = format!("{}true", "~".repeat(100_001));
    assert_eq!(show(&nots), "(not true)");
    let spaced_nots = format!("{}false", "~ ".repeat(100_000));
    assert_eq!(show(&spaced_nots), "false");
    let chain = format!("{}true", "true & ".repeat(50_000));
    match parse(&chain) {
        Ok(Condition::All(items)) => assert_eq!(items.len(), 50_001),
        other => panic!("unexpected {other:?}"),
    }
    let nested_and = format!("{}true{}", "(true & ".repeat(64), ")".repeat(64));
    match parse(&nested_and) {
        Ok(Condition::All(items)) => assert_eq!(items.len(), 65),
        other => panic!("unexpected {other:?}"),
    }
    let mixed = format!("{}true", "true | ~true & ".repeat(20_000));
    assert!(parse(&mixed).is_ok());
}

#[test]
fn phrase_errors() {
    check_all(&[
        (
            "this is not valid",
            "error: unknown condition 'this is not valid', expected a phrase such as 'daily', \
             \"after task 'x'\", 'has succeeded today' at byte 0\n  this is not valid\n  ^^^^^^^^^^^^^^^^^",
        ),
        (
            "true & Daily",
            "error: unknown condition 'Daily', expected a phrase such as 'daily', \
             \"after task 'x'\", 'has succeeded today' at byte 7\n  true & Daily\n         ^^^^^",
        ),
        (
            "True",
            "error: unknown condition 'True', expected a phrase such as 'daily', \
             \"after task 'x'\", 'has succeeded today' at byte 0\n  True\n  ^^^^",
        ),
        (
            "true false",
            "error: unexpected text after 'true' at byte 4\n  true false\n      ^^^^^^",
        ),
        (
            "always maybe",
            "error: expected 'true' or 'false' after 'always' at byte 7\n  always maybe\n         ^^^^^",
        ),
        // QUIRK-C1: time periods are not conditions.
        (
            "always",
            "error: 'always' is a time period, not a condition; write e.g. 'true', 'false', \
             'has succeeded past <duration>' or 'every <duration>' at byte 0\n  always\n  ^^^^^^",
        ),
        (
            "never",
            "error: 'never' is a time period, not a condition; write e.g. 'true', 'false', \
             'has succeeded past <duration>' or 'every <duration>' at byte 0\n  never\n  ^^^^^",
        ),
        (
            "true & past 2 hours",
            "error: 'past 2 hours' is a time period, not a condition; write e.g. 'true', 'false', \
             'has succeeded past <duration>' or 'every <duration>' at byte 7\n  true & past 2 hours\n         ^^^^^^^^^^^^",
        ),
        // Strict single spaces between words; quoted text is verbatim.
        (
            "after  task 'a'",
            "error: words must be separated by a single space at byte 5\n  after  task 'a'\n       ^^",
        ),
        (
            "has failed\ttoday",
            "error: words must be separated by a single space at byte 10\n  has failed\ttoday\n            ^",
        ),
        (
            "after task 'a'\n  after task 'b'",
            "error: line break inside a phrase; join conditions with '&' or '|' at byte 14\n  after task 'a'\n                ^",
        ),
        // Quotes.
        (
            "after task 'a' failed'",
            "error: unclosed quote at byte 21\n  after task 'a' failed'\n                       ^",
        ),
        (
            "after task 'a",
            "error: unclosed quote at byte 11\n  after task 'a\n             ^^",
        ),
        (
            "after task ''",
            "error: empty task name at byte 11\n  after task ''\n             ^^",
        ),
        (
            "after task 'a\n& after task 'b'",
            "error: unclosed quote at byte 29\n  & after task 'b'\n                 ^",
        ),
        (
            "after task 'a\tb'",
            "error: task name contains a control character (is a quote missing?) at byte 11\n  after task 'a\tb'\n             ^^^^^",
        ),
        (
            "after tasks missing quotes",
            "error: expected a quoted task name after 'after tasks' at byte 12\n  after tasks missing quotes\n              ^^^^^^^",
        ),
        (
            "after task 'a', 'b'",
            "error: 'after task' takes one task; write 'after tasks' or 'after any tasks' for several \
             at byte 14\n  after task 'a', 'b'\n                ^^^^^",
        ),
        (
            "after tasks 'a','b'",
            "error: expected 'succeeded', 'failed', 'finished' or 'terminated' after \"after tasks 'a'\" \
             at byte 15\n  after tasks 'a','b'\n                 ^^^^",
        ),
    ]);
}

#[test]
fn task_phrases() {
    check_all(&[
        ("task 'x' is running", "(running 'x')"),
        ("while task 'x' is running", "(running while 'x')"),
        ("task 'a b.c-d+e' is running", "(running 'a b.c-d+e')"),
        ("task 'x' has started", "(status started 'x')"),
        ("task 'x' has succeeded", "(status succeeded 'x')"),
        ("task 'x' has failed", "(status failed 'x')"),
        ("task 'x' has finished", "(status finished 'x')"),
        ("task 'x' has terminated", "(status terminated 'x')"),
        ("task 'x' has inacted", "(status inacted 'x')"),
        ("has started", "(status started owner)"),
        ("has succeeded", "(status succeeded owner)"),
        ("has failed", "(status failed owner)"),
        ("has finished", "(status finished owner)"),
        ("has terminated", "(status terminated owner)"),
        ("has inacted", "(status inacted owner)"),
        ("~has started", "(not (status started owner))"),
        ("after task 'a'", "(after task 'a')"),
        ("after task 'a' succeeded", "(after task 'a' succeeded)"),
        ("after task 'a' failed", "(after task 'a' failed)"),
        ("after task 'a' finished", "(after task 'a' finished)"),
        ("after task 'a' terminated", "(after task 'a' terminated)"),
        (
            "after task 'group1.group-2.mytask+'",
            "(after task 'group1.group-2.mytask+')",
        ),
        ("after task 'a  b'", "(after task 'a  b')"),
        ("after task ' a '", "(after task ' a ')"),
        ("after task 'it\"s'", "(after task 'it\"s')"),
        ("after task 'ünï cødé'", "(after task 'ünï cødé')"),
        ("after tasks 'a'", "(after tasks 'a')"),
        ("after tasks 'a', 'b', 'c'", "(after tasks 'a' 'b' 'c')"),
        (
            "after tasks 'a', 'b' succeeded",
            "(after tasks 'a' 'b' succeeded)",
        ),
        (
            "after tasks 'a', 'b' failed",
            "(after tasks 'a' 'b' failed)",
        ),
        (
            "after tasks 'a', 'b' finished",
            "(after tasks 'a' 'b' finished)",
        ),
        (
            "after tasks 'a', 'b' terminated",
            "(after tasks 'a' 'b' terminated)",
        ),
        ("after any tasks 'a', 'b'", "(after any-tasks 'a' 'b')"),
        (
            "after any tasks 'a', 'b' succeeded",
            "(after any-tasks 'a' 'b' succeeded)",
        ),
        (
            "after any tasks 'a', 'b' failed",
            "(after any-tasks 'a' 'b' failed)",
        ),
        (
            "after any tasks 'a', 'b' finished",
            "(after any-tasks 'a' 'b' finished)",
        ),
        (
            "after any tasks 'a, b', 'c' terminated",
            "(after any-tasks 'a, b' 'c' terminated)",
        ),
        (
            "after task 'a' & after task 'b' failed",
            "(all (after task 'a') (after task 'b' failed))",
        ),
    ]);
}

#[test]
fn task_phrase_errors() {
    check_all(&[
        (
            "while task 'x' has failed",
            "error: expected 'is running' after \"while task 'x'\" at byte 15\n  while task 'x' has failed\n                 ^^^",
        ),
        (
            "task 'x' is",
            "error: expected 'is running' or 'has' after \"task 'x'\" at byte 9\n  task 'x' is\n           ^^",
        ),
        (
            "task x is running",
            "error: expected a quoted task name after 'task' at byte 5\n  task x is running\n       ^",
        ),
        (
            "has",
            "error: expected 'succeeded', 'failed', 'finished', 'terminated', 'inacted' or 'started' \
             after 'has' at byte 3\n  has\n     ^",
        ),
        (
            "has won",
            "error: expected 'succeeded', 'failed', 'finished', 'terminated', 'inacted' or 'started' \
             after 'has' at byte 4\n  has won\n      ^^^",
        ),
        (
            "has failed yesterday",
            "error: expected 'today', 'this week', 'this month', 'this hour', 'this minute', \
             'past <duration>' or 'in past <duration>' after 'has failed' at byte 11\n  has failed yesterday\n             ^^^^^^^^^",
        ),
        (
            "has failedtoday",
            "error: expected 'succeeded', 'failed', 'finished', 'terminated', 'inacted' or 'started' \
             after 'has' at byte 4\n  has failedtoday\n      ^^^^^^^^^^^",
        ),
        (
            "after task 'a' succeeded today",
            "error: unexpected text after \"after task 'a' succeeded\" at byte 24\n  after task 'a' succeeded today\n                          ^^^^^^",
        ),
        (
            "after 'a'",
            "error: expected 'task', 'tasks' or 'any tasks' after 'after' at byte 6\n  after 'a'\n        ^^^",
        ),
    ]);
}

#[test]
fn scheduler_env_param_phrases() {
    check_all(&[
        ("scheduler has more than 3 cycles", "(cycles > 3)"),
        ("scheduler has less than 3 cycles", "(cycles < 3)"),
        ("scheduler has 3 cycles", "(cycles = 3)"),
        ("scheduler has 0 cycles", "(cycles = 0)"),
        ("scheduler has 007 cycles", "(cycles = 7)"),
        (
            "scheduler has 18446744073709551615 cycles",
            "(cycles = 18446744073709551615)",
        ),
        ("env 'prod'", "(env 'prod')"),
        ("env 'a & b'", "(env 'a & b')"),
        ("param 'mode' exists", "(param-exists 'mode')"),
        ("param 'k' is 'v'", "(param-is 'k' 'v')"),
        ("param 'k' is '5'", "(param-is 'k' '5')"),
        (
            "param 'a key' is 'a | value'",
            "(param-is 'a key' 'a | value')",
        ),
    ]);
    check_all(&[
        (
            "scheduler had more than 3 cycles",
            "error: expected 'has' or 'started' after 'scheduler' at byte 10\n  scheduler had more than 3 cycles\n            ^^^",
        ),
        (
            "scheduler has 18446744073709551616 cycles",
            "error: number of cycles too large at byte 14\n  scheduler has 18446744073709551616 cycles\n                ^^^^^^^^^^^^^^^^^^^^",
        ),
        (
            "scheduler has -1 cycles",
            "error: expected 'more than', 'less than', 'run over' or a number of cycles after \
             'scheduler has' at byte 14\n  scheduler has -1 cycles\n                ^^",
        ),
        (
            "scheduler has more than x cycles",
            "error: expected a number of cycles after 'scheduler has more than' at byte 24\n  scheduler has more than x cycles\n                          ^",
        ),
        (
            "scheduler has 3 cycle",
            "error: expected 'cycles' after 'scheduler has 3' at byte 16\n  scheduler has 3 cycle\n                  ^^^^^",
        ),
        (
            "scheduler has 3cycles",
            "error: expected 'cycles' after 'scheduler has 3' at byte 15\n  scheduler has 3cycles\n                 ^^^^^^",
        ),
        (
            "scheduler started 10 minutes",
            "error: expected '<duration> ago' after 'scheduler started' at byte 18\n  scheduler started 10 minutes\n                    ^^^^^^^^^^",
        ),
        (
            "env prod",
            "error: expected a quoted environment name after 'env' at byte 4\n  env prod\n      ^^^^",
        ),
        (
            "env ''",
            "error: empty environment name at byte 4\n  env ''\n      ^^",
        ),
        (
            "param 'k'",
            "error: expected 'exists' or 'is' after \"param 'k'\" at byte 9\n  param 'k'\n           ^",
        ),
        (
            "param 'k' is ''",
            "error: empty parameter value at byte 13\n  param 'k' is ''\n               ^^",
        ),
        (
            "param 'k' is v",
            "error: expected a quoted parameter value after \"param 'k' is\" at byte 13\n  param 'k' is v\n               ^",
        ),
        (
            "param 'a', 'b' exists",
            "error: expected 'exists' or 'is' after \"param 'a'\" at byte 9\n  param 'a', 'b' exists\n           ^",
        ),
    ]);
}

#[test]
fn cron_phrases() {
    check_all(&[
        (
            "cron * * * * *",
            "(exec (cron \"* * * * *\" m=0-59 h=0-23 dom=1-31* mon=1-12 dow=0-6*))",
        ),
        (
            "cron 0 9 * * MON-FRI",
            "(exec (cron \"0 9 * * MON-FRI\" m=0 h=9 dom=1-31* mon=1-12 dow=1-5))",
        ),
        (
            "run cron 0 0 * * *",
            "(exec run (cron \"0 0 * * *\" m=0 h=0 dom=1-31* mon=1-12 dow=0-6*))",
        ),
        (
            "cron */15 */6 1,15 * *",
            "(exec (cron \"*/15 */6 1,15 * *\" m=0,15,30,45 h=0,6,12,18 dom=1,15 mon=1-12 dow=0-6*))",
        ),
        (
            "cron 5-10/2 1-3 */10 jan-mar/2 sun",
            "(exec (cron \"5-10/2 1-3 */10 jan-mar/2 sun\" m=5,7,9 h=1-3 dom=1,11,21,31* mon=1,3 dow=0))",
        ),
        (
            "cron 0 0 * DEC,Nov 5-7",
            "(exec (cron \"0 0 * DEC,Nov 5-7\" m=0 h=0 dom=1-31* mon=11-12 dow=0,5-6))",
        ),
        (
            "cron 0 0 */2 * mon",
            "(exec (cron \"0 0 */2 * mon\" m=0 h=0 dom=1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31* mon=1-12 dow=1))",
        ),
        (
            "cron 0 0 1 * */2",
            "(exec (cron \"0 0 1 * */2\" m=0 h=0 dom=1 mon=1-12 dow=0,2,4,6*))",
        ),
        (
            "cron 0 0 * * 7",
            "(exec (cron \"0 0 * * 7\" m=0 h=0 dom=1-31* mon=1-12 dow=0))",
        ),
        (
            "cron 0 0 * * 0,7",
            "(exec (cron \"0 0 * * 0,7\" m=0 h=0 dom=1-31* mon=1-12 dow=0))",
        ),
        (
            "cron 59 23 31 12 6",
            "(exec (cron \"59 23 31 12 6\" m=59 h=23 dom=31 mon=12 dow=6))",
        ),
        (
            "cron 0 12 * * sat | true",
            "(any (exec (cron \"0 12 * * sat\" m=0 h=12 dom=1-31* mon=1-12 dow=6)) true)",
        ),
    ]);
    check_all(&[
        (
            "cron",
            "error: expected five cron fields after 'cron' at byte 4\n  cron\n      ^",
        ),
        (
            "cron * * * *",
            "error: expected 5 cron fields (minute hour day-of-month month day-of-week), found 4 \
             at byte 5\n  cron * * * *\n       ^^^^^^^",
        ),
        (
            "cron * * * * * *",
            "error: expected 5 cron fields (minute hour day-of-month month day-of-week), found 6 \
             at byte 5\n  cron * * * * * *\n       ^^^^^^^^^^^",
        ),
        (
            "cron 60 * * * *",
            "error: minute 60 is out of range 0-59 in cron field at byte 5\n  cron 60 * * * *\n       ^^",
        ),
        (
            "cron * 24 * * *",
            "error: hour 24 is out of range 0-23 in cron field at byte 7\n  cron * 24 * * *\n         ^^",
        ),
        (
            "cron * * 0 * *",
            "error: day of month 0 is out of range 1-31 in cron field at byte 9\n  cron * * 0 * *\n           ^",
        ),
        (
            "cron * * * 13 *",
            "error: month 13 is out of range 1-12 in cron field at byte 11\n  cron * * * 13 *\n             ^^",
        ),
        (
            "cron * * * * 8",
            "error: day of week 8 is out of range 0-7 in cron field at byte 13\n  cron * * * * 8\n               ^",
        ),
        (
            "cron * * * * 1-8",
            "error: day of week 8 is out of range 0-7 in cron field at byte 15\n  cron * * * * 1-8\n                 ^",
        ),
        (
            "cron */0 * * * *",
            "error: invalid step '0' in cron minute field at byte 7\n  cron */0 * * * *\n         ^",
        ),
        (
            "cron */x * * * *",
            "error: invalid step 'x' in cron minute field at byte 7\n  cron */x * * * *\n         ^",
        ),
        (
            "cron */ * * * *",
            "error: invalid step '' in cron minute field at byte 7\n  cron */ * * * *\n         ^",
        ),
        (
            "cron 5/2 * * * *",
            "error: a step needs '*' or a range before '/' in cron minute field at byte 5\n  cron 5/2 * * * *\n       ^^^",
        ),
        (
            "cron 10-5 * * * *",
            "error: range '10-5' in cron minute field goes backwards at byte 5\n  cron 10-5 * * * *\n       ^^^^",
        ),
        (
            "cron a * * * *",
            "error: invalid minute 'a' in cron field at byte 5\n  cron a * * * *\n       ^",
        ),
        (
            "cron 1,,2 * * * *",
            "error: empty item in cron minute field at byte 7\n  cron 1,,2 * * * *\n         ^",
        ),
        (
            "cron 1- * * * *",
            "error: invalid minute '' in cron field at byte 7\n  cron 1- * * * *\n         ^",
        ),
        (
            "cron * * * * MONDAY",
            "error: invalid day of week 'MONDAY' in cron field at byte 13\n  cron * * * * MONDAY\n               ^^^^^^",
        ),
        (
            "cron * * * mon *",
            "error: invalid month 'mon' in cron field at byte 11\n  cron * * * mon *\n             ^^^",
        ),
        (
            "cron * * * * +1",
            "error: invalid day of week '+1' in cron field at byte 13\n  cron * * * * +1\n               ^^",
        ),
        (
            "cron 0 0  * * *",
            "error: words must be separated by a single space at byte 8\n  cron 0 0  * * *\n          ^^",
        ),
    ]);
}
