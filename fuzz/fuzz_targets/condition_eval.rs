#![no_main]
//! Fuzz target `condition_eval`: every condition that parses is evaluated at
//! fixed instants, in UTC and in a zone with daylight saving, against a small
//! fixed task log.
//!
//! Properties (`Condition::eval`, `Condition::next_change`): evaluation and
//! `next_change` never panic; `next_change` answers an instant after now; and,
//! being conservative ("may be earlier than the true change, never later"),
//! the value just before that instant, and half-way to it, equals the value now.

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Utc};
use engine_core::Condition;
use engine_core::condition::eval::{CountCompare, EvalContext, SchedulerState};
use engine_core::log::{Action, LogRecord, MemoryLogStore};
use engine_fuzz::{ZONES, instants};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// The evaluation instants.
static NOWS: LazyLock<Vec<DateTime<Utc>>> = LazyLock::new(instants);

/// The task whose condition is evaluated.
const OWNER: &str = "owner";

/// Records of the owner and of tasks `a` and `b` around the evaluation instants,
/// some stamped after them.
static LOG: LazyLock<MemoryLogStore> = LazyLock::new(|| {
    let log = MemoryLogStore::default();
    for (i, at) in instants().into_iter().enumerate() {
        let offsets = [-90 * 60, -30 * 60, -61, -1, 0, 45, 3600 * 30];
        for (j, seconds) in offsets.into_iter().enumerate() {
            let task = [OWNER, "a", "b"][(i + j) % 3];
            let action = Action::ALL[(i * 7 + j) % Action::ALL.len()];
            log.append(LogRecord::new(
                task,
                action,
                at + TimeDelta::seconds(seconds),
            ));
        }
    }
    log
});

static PARAMS: LazyLock<Map<String, Value>> =
    LazyLock::new(
        || match json!({"env": "prod", "k": "v", "n": 1, "flag": true, "none": null}) {
            Value::Object(map) => map,
            _ => Map::new(),
        },
    );

/// Every task exists except `ghost`.
fn exists(name: &str) -> bool {
    name != "ghost"
}

fn context(now: DateTime<Utc>, tz: chrono_tz::Tz) -> EvalContext<'static> {
    let started_at = now - TimeDelta::hours(3);
    EvalContext {
        now,
        tz,
        log: &*LOG,
        task: Some(OWNER),
        scheduler: Some(SchedulerState {
            cycles: 4,
            started_at,
        }),
        params: &PARAMS,
        task_exists: Some(&exists),
    }
}

fn check(condition: &Condition, text: &str, now: DateTime<Utc>, tz: chrono_tz::Tz) {
    let ctx = context(now, tz);
    let Ok(value) = condition.eval(&ctx) else {
        return;
    };
    let _ = condition.eval_with_retries(&ctx, 1);
    if matches!(condition, Condition::Status { .. }) {
        let _ = condition.eval_count(&ctx, CountCompare::Eq(1));
        let _ = condition.next_count_change(&ctx, CountCompare::Ge(2));
    }
    // Where `eval` succeeds, `next_change` does too: it looks no further than
    // the item deciding an `&` / `|` (corpus: regression-next-change-*).
    let next = condition.next_change(&ctx);
    assert!(
        next.is_ok(),
        "{text:?} at {now} in {tz}: eval is {value} but next_change is {next:?}"
    );
    let Ok(Some(next)) = next else {
        return;
    };
    assert!(
        next > now,
        "{text:?} at {now} in {tz}: next_change {next} is not after now"
    );
    let half = now + (next - now) / 2;
    let before = next - TimeDelta::nanoseconds(1);
    for at in [half, before] {
        let later = condition.eval(&context(at, tz));
        assert_eq!(
            later,
            Ok(value),
            "{text:?} is {value} at {now} in {tz} and next_change says {next}, \
             but at {at} it is {later:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(condition) = text.parse::<Condition>() else {
        return;
    };
    for tz in ZONES {
        for &now in NOWS.iter() {
            check(&condition, text, now, tz);
        }
    }
});
