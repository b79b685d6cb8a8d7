//! Runs every `period`, `roll` and `anchor` vector of `testdata/vectors.json`
//! against the time module, counting them so that none is skipped silently.

use serde_json::Value;

use super::dt;
use crate::time::{
    AnchoredPeriod, Interval, Period, Unit, YearPeriod, parse_duration, parse_period,
};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/vectors.json");

fn vectors(kind: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).expect("read testdata/vectors.json");
    let all: Vec<Value> = serde_json::from_str(&text).expect("vectors.json is a JSON array");
    all.into_iter().filter(|v| v["kind"] == kind).collect()
}

fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

fn unit_of(class: &str) -> Option<Unit> {
    Some(match class {
        "TimeOfMinute" => Unit::Minute,
        "TimeOfHour" => Unit::Hour,
        "TimeOfDay" => Unit::Day,
        "TimeOfWeek" => Unit::Week,
        "TimeOfMonth" => Unit::Month,
        _ => return None,
    })
}

/// The period a vector's `construct` (Red Engine's constructor call) describes.
fn construct(value: &Value) -> Period {
    let class = value["cls"].as_str().expect("construct has a cls");
    let (start, end) = (text(&value["start"]), text(&value["end"]));
    if let Some(unit) = unit_of(class) {
        let period = if value["time_point"] == true {
            AnchoredPeriod::on(unit, start.expect("time point has a start"))
        } else {
            AnchoredPeriod::new(unit, start, end)
        };
        return Period::Anchored(period.expect("construct literals are valid"));
    }
    let members = || {
        value["periods"]
            .as_array()
            .expect("members")
            .iter()
            .map(construct)
            .collect()
    };
    match class {
        "TimeOfYear" => Period::Year(YearPeriod::new(start, end).expect("valid year literals")),
        "TimeDelta" => {
            let duration = |field: &str| {
                text(&value[field]).map_or(chrono::TimeDelta::zero(), |d| {
                    parse_duration(d).expect("valid duration")
                })
            };
            Period::Delta {
                past: duration("past"),
                future: duration("future"),
            }
        }
        "All" => Period::All(members()),
        "Any" => Period::Any(members()),
        other => panic!("unknown construct class {other}"),
    }
}

/// The period of a vector: its string and its construct must agree when both are
/// present.
fn period_of(vector: &Value) -> Period {
    let from_text = text(&vector["period"]).map(|p| parse_period(p).expect("vector period parses"));
    let from_construct = vector.get("construct").map(construct);
    match (from_text, from_construct) {
        (Some(a), Some(b)) => {
            assert_eq!(a, b, "string and construct differ in {vector}");
            a
        }
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => panic!("vector without a period: {vector}"),
    }
}

#[test]
fn period_vectors() {
    let vectors = vectors("period");
    let mut checked = 0;
    for vector in &vectors {
        let period = period_of(vector);
        let now = dt(vector["now"].as_str().expect("now"));
        let expected = vector
            .get("sensible_expected")
            .unwrap_or(&vector["contains"]);
        let expected = expected.as_bool().expect("contains is a bool");
        let got = match text(&vector["reference"]) {
            Some(reference) => period.contains_relative(now, dt(reference)),
            None => period.contains(now),
        };
        assert_eq!(got, expected, "{vector}");
        checked += 1;
    }
    assert_eq!(checked, 62);
}

/// Roll vectors whose recorded Red Engine 1.2 value DESIGN.md deliberately differs
/// from: (period, direction, from, our start, our end, reason).
const DEVIATIONS: [(&str, &str, &str, &str, &str, &str); 2] = [
    (
        "time of month after 5th",
        "forward",
        "2024-02-29 12:00:00",
        "2024-02-29 12:00:00",
        "2024-02-29 23:59:59.999999999",
        "month ends never spill into the next month (QUIRK-T5): v1.2.0 ends on March 2nd",
    ),
    (
        "time of month after 5th",
        "back",
        "2024-05-04 12:00:00",
        "2024-04-05 00:00:00",
        "2024-04-30 23:59:59.999999999",
        "month ends never spill into the next month (QUIRK-T5): v1.2.0 ends on May 1st",
    ),
];

#[test]
fn roll_vectors() {
    let vectors = vectors("roll");
    let (mut checked, mut deviations, mut xfails) = (0, 0, 0);
    for vector in &vectors {
        let period = period_of(vector);
        let from = dt(vector["from"].as_str().expect("from"));
        let got = match vector["dir"].as_str() {
            Some("back") => period.rollback(from),
            Some("forward") => period.rollforward(from),
            other => panic!("unknown direction {other:?}"),
        };
        let recorded = Interval {
            start: dt(vector["start"].as_str().expect("start")),
            end: dt(vector["end"].as_str().expect("end")),
        };
        let deviation = DEVIATIONS.iter().find(|(p, dir, at, ..)| {
            vector["period"] == *p && vector["dir"] == *dir && vector["from"] == *at
        });
        if let Some((_, _, _, start, end, reason)) = deviation {
            let ours = Interval {
                start: dt(start),
                end: dt(end),
            };
            assert_eq!(got, Some(ours), "{reason}: {vector}");
            assert_ne!(ours, recorded, "a listed deviation must differ: {vector}");
            assert!(
                vector["note"].as_str().is_some_and(|n| n.contains("QUIRK")),
                "{vector}"
            );
            deviations += 1;
        } else {
            // For xfail vectors `start`/`end` are the intended values (QUIRK-T3).
            assert_eq!(got, Some(recorded), "{vector}");
        }
        if vector["xfail"] == true {
            let python = Interval {
                start: dt(vector["python_start"].as_str().expect("python_start")),
                end: dt(vector["python_end"].as_str().expect("python_end")),
            };
            assert_ne!(
                Some(python),
                got,
                "xfail vectors differ from v1.2.0: {vector}"
            );
            xfails += 1;
        }
        checked += 1;
    }
    assert_eq!((checked, deviations, xfails), (92, DEVIATIONS.len(), 2));
}

#[test]
fn anchor_vectors() {
    let vectors = vectors("anchor");
    let mut checked = 0;
    for vector in &vectors {
        let period = construct(vector);
        let Period::Anchored(period) = period else {
            panic!("anchor vectors are anchored periods: {vector}");
        };
        let start = vector["start_ns"].as_i64().expect("start_ns");
        let end = vector["end_ns"].as_i64().expect("end_ns");
        assert_eq!(
            (period.start_ns(), period.end_ns()),
            (start, end),
            "{vector}"
        );
        checked += 1;
    }
    assert_eq!(checked, 18);
}
