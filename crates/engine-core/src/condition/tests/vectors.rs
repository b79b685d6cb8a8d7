//! Every `cond_parse` vector of `testdata/vectors.json`: the outcome (tree or
//! error), the tree in the vectors' `ast` schema (conditions.md §12), and the
//! canonical text.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde_json::{Value, json};

use super::parse;
use crate::condition::{
    Condition, CycleCompare, Delta, Outcome, PeriodForm, PeriodSpec, Quantifier, Schedule,
    StatusAction, Window,
};
use crate::time::Unit;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/vectors.json"
));

/// The QUIRK-P1 vector: v1.2.0 fails on the whitespace before `(`; DESIGN.md
/// accepts it.
const QUIRK_P1: &str = "\n        (time of day between 08:00 and 10:00 & time of week between Monday and Friday) \n        | (time of day between 14:00 and 16:00 & ~time of week between Monday and Friday)\n    ";

/// Vectors where DESIGN.md deliberately differs from the vector's outcome: the
/// input, the reason, and what we produce instead (`None` = a parse error).
fn deviations() -> Vec<(&'static str, &'static str, Option<Value>)> {
    let day = |start: i64, end: i64, s: &str, e: &str| {
        json!({"type": "IsPeriod", "period": {"type": "TimeOfDay", "start": s, "end": e,
            "start_ns": start * 3_600_000_000_000, "end_ns": end * 3_600_000_000_000}})
    };
    let mon_fri = json!({"type": "IsPeriod", "period": {"type": "TimeOfWeek", "start": "Monday",
        "end": "Friday", "start_ns": 0, "end_ns": 5 * 86_400_000_000_000_i64 - 1}});
    vec![
        (
            QUIRK_P1,
            "QUIRK-P1: whitespace around parentheses is fine (v1.2.0 raised ParserError)",
            Some(json!({"type": "any", "items": [
                {"type": "all", "items": [day(8, 10, "08:00", "10:00"), mon_fri]},
                {"type": "all", "items": [day(14, 16, "14:00", "16:00"),
                    {"type": "not", "item": mon_fri}]},
            ]})),
        ),
        (
            "weekly starting Tuesday",
            "QUIRK-C7: `starting <day>` is a full cycle starting at Tuesday 00:00, not Tuesday only",
            Some(
                json!({"type": "TaskExecutable", "task": null, "period": {"type": "TimeOfWeek",
                "start": "Tuesday", "end": "Tuesday",
                "start_ns": 86_400_000_000_000_i64, "end_ns": 86_400_000_000_000_i64}}),
            ),
        ),
        (
            "monthly starting 3rd",
            "QUIRK-C7: `starting <day>` is a full cycle starting on the 3rd 00:00, not the 3rd only",
            Some(
                json!({"type": "TaskExecutable", "task": null, "period": {"type": "TimeOfMonth",
                "start": "3rd", "end": "3rd",
                "start_ns": 172_800_000_000_000_i64, "end_ns": 172_800_000_000_000_i64}}),
            ),
        ),
    ]
}

/// Inputs (all valid) that are not written canonically, with our canonical text.
/// Valid inputs not written canonically, with their canonical text
/// (`testdata/cond_not_canonical.json`, shared with the other `cond_parse`
/// vector test); every other valid input prints as itself.
static NOT_CANONICAL: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/cond_not_canonical.json"
    ));
    let doc: Value = serde_json::from_str(text).expect("cond_not_canonical.json is JSON");
    doc["not_canonical"]
        .as_array()
        .expect("a not_canonical list")
        .iter()
        .map(|pair| {
            let text = |i: usize| pair[i].as_str().expect("a pair of texts").to_owned();
            (text(0), text(1))
        })
        .collect()
});

#[test]
fn cond_parse_vectors() {
    let vectors: Vec<Value> = serde_json::from_str(VECTORS).expect("vectors.json is JSON");
    let deviations = deviations();
    let mut used_deviations = BTreeSet::new();
    let mut used_not_canonical = BTreeSet::new();
    let (mut run, mut ok, mut errors) = (0, 0, 0);
    let mut failures = Vec::new();
    for vector in vectors.iter().filter(|v| v["kind"] == "cond_parse") {
        run += 1;
        let input = vector["input"].as_str().expect("input is text");
        // The intended outcome: `test_expectation_ok` overrides `ok` (xfail tests),
        // and DESIGN.md's deliberate differences override both.
        let intended_ok = vector
            .get("test_expectation_ok")
            .unwrap_or(&vector["ok"])
            .as_bool();
        let expected = match deviations.iter().find(|(i, ..)| *i == input) {
            Some((_, _, expected)) => {
                used_deviations.insert(input);
                expected.clone()
            }
            None if input.trim().is_empty() && intended_ok == Some(true) => {
                // DESIGN.md: the empty condition is `false` (the vector has no ast).
                Some(json!({"type": "false"}))
            }
            None if intended_ok == Some(true) => Some(vector["ast"].clone()),
            None => None,
        };
        let got = parse(input);
        match (&expected, &got) {
            (None, Err(_)) => errors += 1,
            (None, Ok(tree)) => failures.push(format!("{input:?}: expected an error, got {tree}")),
            (Some(_), Err(e)) => failures.push(format!("{input:?}: {}", e.render())),
            (Some(expected), Ok(tree)) => {
                ok += 1;
                let ast = ast(tree);
                if &ast != expected {
                    failures.push(format!(
                        "{input:?}:\n  expected {expected}\n  got      {ast}"
                    ));
                }
                let canonical = tree.to_string();
                match NOT_CANONICAL.iter().find(|(i, _)| *i == input) {
                    Some((_, ours)) => {
                        used_not_canonical.insert(input);
                        if canonical != *ours {
                            failures
                                .push(format!("{input:?}: canonical {canonical:?}, want {ours:?}"));
                        }
                    }
                    None => {
                        // Input written canonically prints as itself (and as the
                        // vector's `canonical`, which equals the input).
                        if vector["canonical"].as_str() != Some(input) || canonical != input {
                            failures.push(format!("{input:?}: canonical {canonical:?}"));
                        }
                    }
                }
                match parse(&canonical) {
                    Ok(again) if &again == tree => {}
                    other => failures.push(format!("{input:?}: canonical reparses as {other:?}")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!((run, ok, errors), (156, 151, 5));
    assert_eq!(
        used_deviations.len(),
        deviations.len(),
        "a deviation entry matches no vector"
    );
    assert_eq!(
        used_not_canonical.len(),
        NOT_CANONICAL.len(),
        "a canonical entry matches no vector"
    );
}

/// The tree in the vectors' `ast` schema.
fn ast(c: &Condition) -> Value {
    match c {
        Condition::Constant { value, .. } => json!({"type": if *value { "true" } else { "false" }}),
        Condition::Not(inner) => json!({"type": "not", "item": ast(inner)}),
        Condition::All(items) => {
            json!({"type": "all", "items": items.iter().map(ast).collect::<Vec<_>>()})
        }
        Condition::Any(items) => {
            json!({"type": "any", "items": items.iter().map(ast).collect::<Vec<_>>()})
        }
        Condition::Executable { task, schedule, .. } => {
            let period = match schedule {
                Schedule::Period(spec) => period(spec),
                Schedule::Every(delta) => time_delta(delta),
                Schedule::Cron(cron) => json!({"type": "Cron", "text": cron.text}),
            };
            json!({"type": "TaskExecutable", "task": task, "period": period})
        }
        Condition::Status {
            task,
            action,
            window,
        } => {
            let kind = match action {
                StatusAction::Started => "TaskStarted",
                StatusAction::Succeeded => "TaskSucceeded",
                StatusAction::Failed => "TaskFailed",
                StatusAction::Finished => "TaskFinished",
                StatusAction::Terminated => "TaskTerminated",
                StatusAction::Inacted => "TaskInacted",
            };
            let period = match window {
                None => Value::Null,
                Some(Window::Period(spec)) => period(spec),
                Some(Window::Past { delta, .. }) => time_delta(delta),
            };
            json!({"type": kind, "task": task, "period": period})
        }
        Condition::Running { task, .. } => {
            json!({"type": "TaskRunning", "task": task, "period": null})
        }
        Condition::Dependency {
            task,
            depends_on,
            quantifier,
            outcome,
        } => {
            let kind = match outcome {
                Outcome::Succeeded { .. } => "DependSuccess",
                Outcome::Failed => "DependFailure",
                Outcome::Finished => "DependFinish",
                Outcome::Terminated => "DependTerminate",
            };
            let single = |dep: &String| json!({"type": kind, "task": task, "depend_task": dep});
            match (quantifier, depends_on.as_slice()) {
                (Quantifier::Single, [dep]) => single(dep),
                (Quantifier::Any, deps) => {
                    json!({"type": "any", "items": deps.iter().map(single).collect::<Vec<_>>()})
                }
                (_, deps) => {
                    json!({"type": "all", "items": deps.iter().map(single).collect::<Vec<_>>()})
                }
            }
        }
        Condition::SchedulerCycles { compare, n } => {
            let op = match compare {
                CycleCompare::MoreThan => "gt",
                CycleCompare::LessThan => "lt",
                CycleCompare::Exactly => "eq",
            };
            json!({"type": "SchedulerCycles", "compare": {op: n}})
        }
        Condition::SchedulerStarted(delta) => {
            json!({"type": "SchedulerStarted", "period": time_delta(delta)})
        }
        Condition::SchedulerRunOver(delta) => json!({"type": "not", "item":
            {"type": "SchedulerStarted", "period": time_delta(delta)}}),
        Condition::Env(env) => json!({"type": "IsEnv", "env": env}),
        Condition::ParamExists(key) => json!({"type": "ParamExists", "keys": [key], "values": {}}),
        Condition::ParamIs { key, value } => {
            json!({"type": "ParamExists", "keys": [], "values": {key.as_str(): value}})
        }
        Condition::TimeOf(spec) => json!({"type": "IsPeriod", "period": period(spec)}),
    }
}

fn period(spec: &PeriodSpec) -> Value {
    let kind = match spec.unit() {
        Unit::Minute => "TimeOfMinute",
        Unit::Hour => "TimeOfHour",
        Unit::Day => "TimeOfDay",
        Unit::Week => "TimeOfWeek",
        Unit::Month => "TimeOfMonth",
    };
    let (start, end) = match &spec.form {
        PeriodForm::Whole => (None, None),
        PeriodForm::Starting(s) => (Some(s), Some(s)),
        PeriodForm::Between(s, e) => (Some(s), Some(e)),
        PeriodForm::After(s) | PeriodForm::On(s) => (Some(s), None),
        PeriodForm::Before(e) => (None, Some(e)),
    };
    json!({"type": kind, "start": start, "end": end,
        "start_ns": spec.period.start_ns(), "end_ns": spec.period.end_ns()})
}

fn time_delta(delta: &Delta) -> Value {
    json!({"type": "TimeDelta", "past_ns": delta.duration.num_nanoseconds(), "future_ns": 0})
}
