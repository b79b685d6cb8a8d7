//! Tests of reading command-line input: times, zones, parameters and logs files.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::{format_local, parse_local, parse_logs, parse_params, parse_zone};

/// `text` read as a local time and printed back (`None` when it does not parse).
fn local(text: &str) -> Option<String> {
    parse_local(text).map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string())
}

#[test]
fn local_times() {
    let cases: &[(&str, Option<&str>)] = &[
        ("2024-03-30 12:34:56", Some("2024-03-30 12:34:56")),
        ("2024-03-30 12:34:56.5", Some("2024-03-30 12:34:56.500")),
        (
            "2024-03-30 12:34:56.123456",
            Some("2024-03-30 12:34:56.123456"),
        ),
        (
            "2024-03-30 12:34:56.123456789",
            Some("2024-03-30 12:34:56.123456789"),
        ),
        ("2024-03-30T12:34:56", Some("2024-03-30 12:34:56")),
        ("2024-03-30 12:34", Some("2024-03-30 12:34:00")),
        ("2024-03-30T12:34", Some("2024-03-30 12:34:00")),
        ("2024-03-30", Some("2024-03-30 00:00:00")),
        ("  2024-03-30 01:02:03  ", Some("2024-03-30 01:02:03")),
        ("2024-02-30", None),
        ("2024-03-30 24:00:00", None),
        ("2024-03-30 23:59:60", None),
        ("2024-03-30 12", None),
        ("12:00", None),
        ("", None),
        ("tomorrow", None),
        ("2024-03-30 12:34:56+01:00", None),
        ("+12024-03-30", None),
        ("0000-01-01", None),
        ("2024-03-30 ünïcödé", None),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter(|(text, want)| local(text).as_deref() != *want)
        .map(|(text, want)| format!("{text:?}: got {:?}, want {want:?}", local(text)))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn printed_times() {
    let cases: &[(&str, Tz, &str)] = &[
        ("2024-03-30T23:00:00Z", Tz::UTC, "2024-03-30 23:00:00"),
        (
            "2024-03-30T23:00:00Z",
            Tz::Europe__Berlin,
            "2024-03-31 00:00:00",
        ),
        (
            "2024-03-31T01:00:00Z",
            Tz::Europe__Berlin,
            "2024-03-31 03:00:00",
        ),
        (
            "2024-03-30T23:00:00.25Z",
            Tz::UTC,
            "2024-03-30 23:00:00.250000",
        ),
        (
            "2024-03-30T23:00:00.000001Z",
            Tz::UTC,
            "2024-03-30 23:00:00.000001",
        ),
        (
            "2024-03-30T23:00:00.000000001Z",
            Tz::UTC,
            "2024-03-30 23:00:00.000000001",
        ),
    ];
    for (instant, tz, want) in cases {
        let instant: DateTime<Utc> = instant.parse().expect("test instant");
        assert_eq!(format_local(instant, *tz), *want, "{instant} in {tz}");
    }
}

#[test]
fn zones() {
    let cases: &[(&str, Option<Tz>)] = &[
        ("UTC", Some(Tz::UTC)),
        ("Europe/Berlin", Some(Tz::Europe__Berlin)),
        (":Europe/Berlin", Some(Tz::Europe__Berlin)),
        (
            "/usr/share/zoneinfo/America/New_York",
            Some(Tz::America__New_York),
        ),
        ("Europe/Berlin\n", Some(Tz::Europe__Berlin)),
        ("Mars/Olympus", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(parse_zone(text), *want, "{text:?}");
    }
}

#[test]
fn params() {
    let cases: &[(&[&str], Result<serde_json::Value, &str>)] = &[
        (&[], Ok(json!({}))),
        (&["env=test"], Ok(json!({"env": "test"}))),
        (
            &["n=3", "flag=true", "s=\"3\"", "list=[1, 2]"],
            Ok(json!({"n": 3, "flag": true, "s": "3", "list": [1, 2]})),
        ),
        (&["x=a=b"], Ok(json!({"x": "a=b"}))),
        (&["x="], Ok(json!({"x": ""}))),
        (&["x=1", "x=two"], Ok(json!({"x": "two"}))),
        (&["x"], Err("bad --param 'x', expected KEY=VALUE")),
        (&["=1"], Err("bad --param '=1', expected KEY=VALUE")),
    ];
    for (pairs, want) in cases {
        let pairs: Vec<String> = pairs.iter().map(|p| (*p).to_owned()).collect();
        let got = parse_params(&pairs)
            .map(serde_json::Value::Object)
            .map_err(|e| format!("{e:?}"));
        match want {
            Ok(value) => assert_eq!(got.as_ref(), Ok(value), "{pairs:?}"),
            Err(message) => {
                let error = got.expect_err("a bad pair is refused");
                assert!(error.contains(message), "{pairs:?}: {error}");
            }
        }
    }
}

/// `text` read as a logs file in UTC: each record as `task action timestamp`;
/// or the error text.
fn logs(text: &str) -> Result<Vec<String>, String> {
    let logs = parse_logs(text, Tz::UTC).map_err(|e| e.to_string())?;
    let records = logs.records.iter().map(|r| {
        format!(
            "{} {} {}",
            r.task_name,
            r.action,
            format_local(r.timestamp, Tz::UTC)
        )
    });
    Ok(records.collect())
}

#[test]
fn logs_files() {
    let a = r#"{"task_name": "a", "action": "run", "timestamp": "2024-01-01 10:00:00"}"#;
    let b = r#"{"task_name": "b", "action": "success", "timestamp": "2024-01-01 10:00:01.5", "extra": 1}"#;
    let ok: &[(String, &[&str])] = &[
        (String::new(), &[]),
        ("[]".to_owned(), &[]),
        ("\n\n".to_owned(), &[]),
        (
            format!("[{a}, {b}]"),
            &[
                "a run 2024-01-01 10:00:00",
                "b success 2024-01-01 10:00:01.500000",
            ],
        ),
        (
            format!("{a}\n{b}\n"),
            &[
                "a run 2024-01-01 10:00:00",
                "b success 2024-01-01 10:00:01.500000",
            ],
        ),
        (
            format!("{a}\n{}", a.replace("run", "crash_release")),
            &["a run 2024-01-01 10:00:00", "a crash 2024-01-01 10:00:00"],
        ),
        (
            format!("{b}\n\n{a}"),
            &[
                "b success 2024-01-01 10:00:01.500000",
                "a run 2024-01-01 10:00:00",
            ],
        ),
    ];
    for (text, want) in ok {
        assert_eq!(
            logs(text),
            Ok(want.iter().map(|s| (*s).to_owned()).collect()),
            "{text}"
        );
    }
    let bad: &[(String, &str)] = &[
        (
            format!("{a}\n{}", a.replace("run", "walk")),
            "unknown action 'walk', expected run, success, fail, terminate, inaction or crash at line 2",
        ),
        (
            format!("{a}\n{}", a.replace("run", "Run")),
            "unknown action 'Run'",
        ),
        (
            format!("{a}\n{{\"task_name\": \"a\"}}"),
            "missing field `action` at line 2",
        ),
        (
            format!("{a}\n{}", a.replace("\"run\"", "7")),
            "invalid type: integer `7`",
        ),
        (
            format!("{a}\n\n{}", a.replace("10:00:00", "10 o'clock")),
            "bad timestamp '2024-01-01 10 o'clock'",
        ),
        (
            format!("{a}\n\n{}", a.replace("10:00:00", "10 o'clock")),
            "at line 3",
        ),
        (format!("[{a},\n{a},\n{{\"task_name\": 1}}]"), "at line 3"),
        (format!("[{a}"), "EOF"),
        ("nonsense".to_owned(), "at line 1 column 2"),
        (format!("{a} ]"), "line 1"),
        ("[1]".to_owned(), "invalid type"),
    ];
    for (text, want) in bad {
        let error = logs(text).expect_err("a malformed file is refused");
        assert!(error.contains(want), "{text}: {error}");
    }
}
