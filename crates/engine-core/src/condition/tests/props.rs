//! Properties: printing then parsing gives the same tree; no input panics, and
//! every accepted input round-trips through its canonical text.

use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::parse;
use crate::condition::{
    Condition, Cron, CycleCompare, Delta, Outcome, PeriodForm, PeriodSpec, Quantifier, Schedule,
    StatusAction, Window,
};
use crate::time::{AnchoredPeriod, Unit, parse_duration};

const UNITS: &[Unit] = &[Unit::Minute, Unit::Hour, Unit::Day, Unit::Week, Unit::Month];

/// Valid literals of each unit.
fn literals(unit: Unit) -> &'static [&'static str] {
    match unit {
        Unit::Minute => &["00", "15", "30.5", "59"],
        Unit::Hour => &["00:00", "15:00", "45:30", "59:59", "1 quarter"],
        Unit::Day => &[
            "00:00",
            "10:00",
            "9:30",
            "23:59:59",
            "10:00:30.5",
            "10pm",
            "10:30 pm",
        ],
        Unit::Week => &["Mon", "Tue 10:00", "Friday", "Sun 23:59", "Wed10:00"],
        Unit::Month => &["1st", "2nd", "15", "31st 12:00", "5th 10:00", "1."],
    }
}

const DELTAS: &[&str] = &[
    "10 minutes",
    "1 hour",
    "2 hours, 30 minutes",
    "1h30m",
    "1 day",
    "30 sec",
    "0.5h",
    "02:00:00",
    "PT10M",
    "1 day 02:00:00",
];

const CRONS: &[&str] = &[
    "* * * * *",
    "0 9 * * MON-FRI",
    "*/15 1-5 1,15 jan-mar/2 7",
    "59 23 31 12 sun",
];

/// The qualifier forms, by index: whole, starting, between, after, before, on.
const FORMS: usize = 6;

/// A period spec built the way the parser builds it.
fn spec(unit: Unit, form: usize, a: &Index, b: &Index) -> PeriodSpec {
    let lits = literals(unit);
    let (s, e) = (a.get(lits).to_string(), b.get(lits).to_string());
    let form = match form {
        0 => PeriodForm::Whole,
        1 => PeriodForm::Starting(s),
        2 => PeriodForm::Between(s, e),
        3 => PeriodForm::After(s),
        4 => PeriodForm::Before(e),
        _ => PeriodForm::On(s),
    };
    let period = match &form {
        PeriodForm::Whole => AnchoredPeriod::new(unit, None, None),
        PeriodForm::Starting(s) => AnchoredPeriod::starting(unit, s),
        PeriodForm::Between(s, e) => AnchoredPeriod::new(unit, Some(s), Some(e)),
        PeriodForm::After(s) => AnchoredPeriod::new(unit, Some(s), None),
        PeriodForm::Before(e) => AnchoredPeriod::new(unit, None, Some(e)),
        PeriodForm::On(s) => AnchoredPeriod::on(unit, s),
    };
    PeriodSpec {
        form,
        period: period.expect("the literals are valid"),
    }
}

fn period_spec() -> impl Strategy<Value = PeriodSpec> {
    (select(UNITS), 0..FORMS, any::<Index>(), any::<Index>())
        .prop_map(|(unit, form, a, b)| spec(unit, form, &a, &b))
}

/// `time of` periods: no whole cycle, no `starting`, `on` only for week and month.
fn time_of_spec() -> impl Strategy<Value = PeriodSpec> {
    (select(UNITS), 2..FORMS, any::<Index>(), any::<Index>()).prop_map(|(unit, form, a, b)| {
        let form = if form == 5 && !matches!(unit, Unit::Week | Unit::Month) {
            3
        } else {
            form
        };
        spec(unit, form, &a, &b)
    })
}

fn delta() -> impl Strategy<Value = Delta> {
    select(DELTAS).prop_map(|text| Delta {
        text: text.to_owned(),
        duration: parse_duration(text).expect("the durations are valid"),
    })
}

fn cron() -> impl Strategy<Value = Cron> {
    select(CRONS).prop_map(|text| match parse(&format!("cron {text}")) {
        Ok(Condition::Executable {
            schedule: Schedule::Cron(cron),
            ..
        }) => cron,
        other => panic!("cron {text}: {other:?}"),
    })
}

/// Names: any text without `'` and control characters, including operator
/// characters, commas and spaces.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9äé _.&|()~+,:-]{1,12}"
}

fn leaf() -> impl Strategy<Value = Condition> {
    let action = select(
        &[
            StatusAction::Started,
            StatusAction::Succeeded,
            StatusAction::Failed,
            StatusAction::Finished,
            StatusAction::Terminated,
            StatusAction::Inacted,
        ][..],
    );
    let outcome = select(
        &[
            Outcome::Succeeded { explicit: false },
            Outcome::Succeeded { explicit: true },
            Outcome::Failed,
            Outcome::Finished,
            Outcome::Terminated,
        ][..],
    );
    let quantifier = select(&[Quantifier::Single, Quantifier::All, Quantifier::Any][..]);
    let compare = select(
        &[
            CycleCompare::MoreThan,
            CycleCompare::LessThan,
            CycleCompare::Exactly,
        ][..],
    );
    let schedule = prop_oneof![
        period_spec().prop_map(Schedule::Period),
        delta().prop_map(Schedule::Every),
        cron().prop_map(Schedule::Cron),
    ];
    let window = prop_oneof![
        period_spec().prop_map(Window::Period),
        (delta(), any::<bool>()).prop_map(|(delta, in_prefix)| Window::Past { delta, in_prefix }),
    ];
    prop_oneof![
        (any::<bool>(), any::<bool>())
            .prop_map(|(value, always)| Condition::Constant { value, always }),
        (schedule, any::<bool>()).prop_map(|(schedule, run_prefix)| Condition::Executable {
            task: None,
            schedule,
            run_prefix
        }),
        (
            proptest::option::of(name()),
            action,
            proptest::option::of(window)
        )
            .prop_map(|(task, action, window)| Condition::Status {
                task,
                action,
                window
            }),
        (name(), any::<bool>())
            .prop_map(|(task, while_prefix)| Condition::Running { task, while_prefix }),
        (proptest::collection::vec(name(), 1..4), quantifier, outcome).prop_map(
            |(mut depends_on, quantifier, outcome)| {
                if quantifier == Quantifier::Single {
                    depends_on.truncate(1);
                }
                Condition::Dependency {
                    task: None,
                    depends_on,
                    quantifier,
                    outcome,
                }
            }
        ),
        (compare, any::<u64>()).prop_map(|(compare, n)| Condition::SchedulerCycles { compare, n }),
        delta().prop_map(Condition::SchedulerStarted),
        delta().prop_map(Condition::SchedulerRunOver),
        name().prop_map(Condition::Env),
        name().prop_map(Condition::ParamExists),
        (name(), name()).prop_map(|(key, value)| Condition::ParamIs { key, value }),
        time_of_spec().prop_map(Condition::TimeOf),
    ]
}

/// Trees in the parser's normal form: `All`/`Any` flattened with two or more
/// items, no double negation.
fn tree() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| match c {
                Condition::Not(inner) => *inner,
                other => Condition::Not(Box::new(other)),
            }),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|items| Condition::All(
                items
                    .into_iter()
                    .flat_map(|c| match c {
                        Condition::All(inner) => inner,
                        other => vec![other],
                    })
                    .collect()
            )),
            proptest::collection::vec(inner, 2..4).prop_map(|items| Condition::Any(
                items
                    .into_iter()
                    .flat_map(|c| match c {
                        Condition::Any(inner) => inner,
                        other => vec![other],
                    })
                    .collect()
            )),
        ]
    })
}

const FRAGMENTS: &[&str] = &[
    "true",
    "false",
    "always",
    "never",
    " ",
    "  ",
    "&",
    "|",
    "~",
    "(",
    ")",
    "'",
    "'a'",
    "'a b'",
    "task",
    "tasks",
    "after",
    "any",
    "has",
    "failed",
    "succeeded",
    "today",
    "this week",
    "between",
    "and",
    "10:00",
    "25:00",
    "Mon",
    "5th",
    "past",
    "in",
    "2 hours",
    "daily",
    "weekly",
    "run",
    "every",
    "cron",
    "*",
    "*/5",
    "1-5",
    ",",
    ", ",
    "scheduler",
    "more than",
    "3",
    "cycles",
    "started",
    "ago",
    "run over",
    "env",
    "param",
    "exists",
    "is",
    "running",
    "while",
    "time of",
    "day",
    "week",
    "on",
    "starting",
    "\n",
    "\t",
    "ä",
    "é",
    "€",
    "0",
    "99999999999999999999",
];

/// Parses `input` and checks the properties every input must have.
fn check_input(input: &str) -> Result<(), TestCaseError> {
    match parse(input) {
        Ok(tree) => {
            let text = tree.to_string();
            let again = parse(&text).map_err(|e| TestCaseError::fail(e.render()))?;
            prop_assert_eq!(&again, &tree, "{:?} printed as {:?}", input, text);
            prop_assert_eq!(again.to_string(), text);
        }
        Err(e) => {
            let span = e
                .span()
                .ok_or_else(|| TestCaseError::fail("error without span"))?;
            prop_assert!(span.start <= span.end && span.end <= input.len());
            prop_assert!(input.is_char_boundary(span.start) && input.is_char_boundary(span.end));
            prop_assert!(!e.render().is_empty());
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(tree in tree()) {
        let text = tree.to_string();
        match parse(&text) {
            Ok(parsed) => prop_assert_eq!(parsed, tree, "canonical text {:?}", text),
            Err(e) => prop_assert!(false, "canonical text {:?} fails: {}", text, e.render()),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        check_input(&input)?;
    }

    #[test]
    fn condition_like_text_never_panics(
        parts in proptest::collection::vec((select(FRAGMENTS), any::<bool>()), 0..24)
    ) {
        let mut input = String::new();
        for (part, space) in parts {
            input.push_str(part);
            if space {
                input.push(' ');
            }
        }
        check_input(&input)?;
    }

    #[test]
    fn canonical_text_of_valid_trees_survives_reformatting(tree in tree()) {
        // Extra whitespace around operators and parentheses changes nothing.
        let text = tree.to_string();
        let spaced: String = text
            .chars()
            .scan(0usize, |quotes, c| {
                if c == '\'' {
                    *quotes += 1;
                }
                let outside = *quotes % 2 == 0 && c != '\'';
                Some(if outside && "&|~()".contains(c) { format!("\n {c}\t") } else { c.to_string() })
            })
            .collect();
        match parse(&format!("  ({spaced})  ")) {
            Ok(parsed) => prop_assert_eq!(parsed, tree, "reformatted text {:?}", spaced),
            Err(e) => prop_assert!(false, "reformatted text {:?} fails: {}", spaced, e.render()),
        }
    }
}
