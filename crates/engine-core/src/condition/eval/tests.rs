//! Tests of condition evaluation: the setup, log and `check` helpers shared by the
//! rule tables and the `next_change` tests under `tests/`.

mod next_change;
mod rules;

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{CountCompare, EvalContext, SchedulerState};
use crate::condition::Condition;
use crate::log::{Action, LogRecord, MemoryLogStore};

/// Log records as `(task, action, local time)`.
type Logs = &'static [(&'static str, &'static str, &'static str)];

/// The world a table of cases is evaluated in.
struct Setup {
    tz: Tz,
    owner: Option<&'static str>,
    params: Value,
    scheduler: Option<(u64, &'static str)>,
    /// The tasks that exist; `None` = any name.
    known: Option<&'static [&'static str]>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            tz: Tz::UTC,
            owner: Some("t"),
            params: json!({}),
            scheduler: None,
            known: None,
        }
    }
}

/// What a case expects: a value, or an evaluation error with this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Is(bool),
    Fails(&'static str),
}
use Want::{Fails, Is};

/// A local wall-clock time in `tz` (the earlier instant of a repeated time), or
/// with a ` UTC` suffix an instant in UTC (to name the second pass of a repeated
/// local time).
fn local(tz: Tz, text: &str) -> DateTime<Utc> {
    if let Some(utc) = text.strip_suffix(" UTC") {
        return local(Tz::UTC, utc);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("bad test time {text:?}: {e}"));
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| panic!("{text} does not exist in {tz}"))
        .with_timezone(&Utc)
}

fn parse(text: &str) -> Condition {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"))
}

fn store(tz: Tz, logs: Logs) -> MemoryLogStore {
    let store = MemoryLogStore::default();
    for (task, action, time) in logs {
        let action: Action = action.parse().unwrap_or_else(|e| panic!("{e}"));
        store.append(LogRecord::new(*task, action, local(tz, time)));
    }
    store
}

/// The context most single-case tests use: UTC, owner `t`, no scheduler state,
/// every task name accepted; vary it with struct update syntax.
fn utc_context<'a>(
    now: &str,
    log: &'a MemoryLogStore,
    params: &'a Map<String, Value>,
) -> EvalContext<'a> {
    EvalContext {
        now: local(Tz::UTC, now),
        tz: Tz::UTC,
        log,
        task: Some("t"),
        scheduler: None,
        params,
        task_exists: None,
    }
}

/// Evaluates every `(condition, now, logs, want)` of `cases` in `setup`.
fn check(setup: &Setup, cases: &[(&str, &str, Logs, Want)]) {
    let params: Map<String, Value> = setup.params.as_object().cloned().unwrap_or_default();
    let known = setup.known;
    let exists = move |name: &str| known.is_none_or(|names| names.contains(&name));
    for (i, (cond, now, logs, want)) in cases.iter().enumerate() {
        let log = store(setup.tz, logs);
        let ctx = EvalContext {
            now: local(setup.tz, now),
            tz: setup.tz,
            log: &log,
            task: setup.owner,
            scheduler: setup.scheduler.map(|(cycles, started)| SchedulerState {
                cycles,
                started_at: local(setup.tz, started),
            }),
            params: &params,
            task_exists: Some(&exists),
        };
        let got = match parse(cond).eval(&ctx) {
            Ok(value) => Is(value),
            Err(e) => {
                assert_eq!(
                    e.kind(),
                    crate::ErrorKind::Evaluation,
                    "case {i}: {cond:?} at {now}"
                );
                match want {
                    Fails(message) if *message == e.message() => *want,
                    _ => panic!("case {i}: {cond:?} at {now}: unexpected error {e}"),
                }
            }
        };
        assert_eq!(got, *want, "case {i}: {cond:?} at {now} with {logs:?}");
    }
}

const NONE: Logs = &[];
