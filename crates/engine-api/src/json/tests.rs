//! Tests of the wire shapes: time formats, reading task kinds and changes from JSON.

use chrono::{NaiveDate, TimeZone};
use engine_core::task::TaskSpec;
use serde_json::json;

use super::*;

#[test]
fn times_show_a_fraction_only_when_there_is_one() {
    let base = Utc
        .with_ymd_and_hms(2021, 1, 1, 12, 0, 0)
        .single()
        .unwrap_or_default();
    let cases = [
        (base, Tz::UTC, "2021-01-01 12:00:00"),
        (
            base + TimeDelta::microseconds(5),
            Tz::UTC,
            "2021-01-01 12:00:00.000005",
        ),
        (
            base + TimeDelta::nanoseconds(1),
            Tz::UTC,
            "2021-01-01 12:00:00.000000001",
        ),
        (
            base + TimeDelta::milliseconds(250),
            Tz::UTC,
            "2021-01-01 12:00:00.250000",
        ),
        (base, Tz::Europe__Helsinki, "2021-01-01 14:00:00"),
        (base, Tz::America__New_York, "2021-01-01 07:00:00"),
    ];
    for (instant, tz, expected) in cases {
        assert_eq!(time(instant, tz), expected, "{instant} {tz}");
    }
    let summer = NaiveDate::from_ymd_opt(2021, 7, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|n| n.and_utc());
    assert_eq!(
        summer.map(|t| time(t, Tz::Europe__Helsinki)).as_deref(),
        Some("2021-07-01 15:00:00")
    );
    // Years outside 0..=9999 carry a sign, as chrono's `%Y` writes them.
    for (year, expected) in [
        (10_000, "+10000-01-01 00:00:00"),
        (-1, "-0001-01-01 00:00:00"),
        (0, "0000-01-01 00:00:00"),
        (9999, "9999-01-01 00:00:00"),
    ] {
        let instant = NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc());
        let chrono = instant.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        assert_eq!(chrono.as_deref(), Some(expected), "chrono's own text");
        assert_eq!(instant.map(|t| time(t, Tz::UTC)).as_deref(), Some(expected));
    }
}

/// Reads a kind from `body` and shows it as the task view shows it, or the error.
fn kind(body: Value) -> String {
    let map = body.as_object().cloned().unwrap_or_default();
    match kind_from_json(&map) {
        Ok(kind) => format!("{} {kind:?}", class_of(&kind)),
        Err(error) => format!("{} {}", error.status().as_u16(), error.message()),
    }
}

#[test]
fn kinds_come_from_class_or_the_field_that_tells() {
    let cases = [
        (
            json!({"command": "echo hi"}),
            r#"CommandTask Command { command: Shell("echo hi"), cwd: None, env: {} }"#,
        ),
        (
            json!({"command": ["ls", "-l"], "cwd": "/tmp"}),
            r#"CommandTask Command { command: Program(["ls", "-l"]), cwd: Some("/tmp"), env: {} }"#,
        ),
        (
            json!({"class": "CodeTask", "code": "print(1)", "env": {"A": "b"}}),
            r#"CodeTask Code { code: "print(1)", lang: "python3", cwd: None, env: {"A": "b"} }"#,
        ),
        (
            json!({"code": "echo 1", "lang": "sh"}),
            r#"CodeTask Code { code: "echo 1", lang: "sh", cwd: None, env: {} }"#,
        ),
        (
            json!({"func": "main"}),
            r#"FuncTask Function { func: "main" }"#,
        ),
        (
            json!({"class": "FuncTask", "func": "main", "path": "x.py"}),
            r#"FuncTask Function { func: "main" }"#,
        ),
        (
            json!({}),
            "400 a new task needs 'command', 'code' or 'func' (or 'class')",
        ),
        (
            json!({"command": "a", "code": "b"}),
            "400 give only one of 'command', 'code' and 'func'",
        ),
        (
            json!({"class": "CommandTask"}),
            "400 a CommandTask needs 'command'",
        ),
        (
            json!({"class": "CodeTask", "code": "x", "command": "y"}),
            "400 field 'command' does not apply to a CodeTask",
        ),
        (
            json!({"func": "f", "lang": "sh"}),
            "400 field 'lang' does not apply to a FuncTask",
        ),
        (
            json!({"command": 5}),
            "400 field 'command' must be a string or an array of strings",
        ),
        (
            json!({"command": ["ls", 5]}),
            "400 field 'command' must be a string or an array of strings",
        ),
        (
            json!({"code": "x", "env": {"A": 1}}),
            "400 field 'env' must be an object of strings",
        ),
        (
            json!({"class": 3, "code": "x"}),
            "400 field 'class' must be a string",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(kind(body.clone()), expected, "{body}");
    }
}

/// Reads a change of a command task from `body` and shows what it sets, or the error.
fn patch(body: Value) -> String {
    let current = TaskKind::Command {
        command: CommandLine::Shell("true".to_owned()),
        cwd: None,
        env: Default::default(),
    };
    let map = body.as_object().cloned().unwrap_or_default();
    match patch_from_json(&current, &map, false) {
        Ok((patch, runs_changed)) => {
            let spec = TaskSpec {
                name: "t".to_owned(),
                kind: current.clone(),
                start_cond: Condition::Constant {
                    value: false,
                    always: false,
                },
                end_cond: Condition::Constant {
                    value: false,
                    always: false,
                },
                execution: engine_core::task::Execution::Process,
                priority: 0,
                disabled: false,
                force_run: false,
                force_termination: false,
                on_startup: false,
                on_shutdown: false,
                permanent_task: false,
                timeout: None,
                parameters: Map::new(),
                allow_overlap: false,
            };
            let changed = patch.apply(spec.clone());
            format!(
                "{} {} {} {:?} {:?} runs_changed={runs_changed}",
                changed.name,
                changed.start_cond,
                changed.priority,
                changed.timeout,
                changed.kind == spec.kind
            )
        }
        Err(error) => {
            let field = error
                .fields()
                .get("field")
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_owned();
            format!("{} {} [{field}]", error.status().as_u16(), error.message())
        }
    }
}

#[test]
fn changes_are_read_field_by_field() {
    let cases = [
        (json!({}), "t false 0 None true runs_changed=false"),
        (
            json!({"name": "u", "priority": 3}),
            "u false 3 None true runs_changed=false",
        ),
        (
            json!({"start_cond": "daily", "timeout": "10 minutes"}),
            "t daily 0 Some(TimeDelta { secs: 600, nanos: 0 }) true runs_changed=false",
        ),
        (
            json!({"timeout": 1.5}),
            "t false 0 Some(TimeDelta { secs: 1, nanos: 500000000 }) true runs_changed=false",
        ),
        (
            json!({"timeout": null}),
            "t false 0 None true runs_changed=false",
        ),
        (
            json!({"command": "true"}),
            "t false 0 None true runs_changed=false",
        ),
        (
            json!({"command": "false"}),
            "t false 0 None false runs_changed=true",
        ),
        (
            json!({"class": "CommandTask"}),
            "t false 0 None true runs_changed=false",
        ),
        (
            json!({"class": "CodeTask"}),
            "400 a CommandTask cannot become a CodeTask; delete the task and create it again [-]",
        ),
        (
            json!({"timeout": -1}),
            "400 field 'timeout' must be a positive number of seconds [-]",
        ),
        (
            json!({"timeout": true}),
            "400 field 'timeout' must be a duration text, a number of seconds or null [timeout]",
        ),
        (
            json!({"execution": "fork"}),
            "400 unknown execution 'fork', expected main, async, thread or process [execution]",
        ),
        (
            json!({"disabled": "yes"}),
            "400 field 'disabled' must be a boolean [disabled]",
        ),
        (
            json!({"parameters": [1]}),
            "400 field 'parameters' must be an object [parameters]",
        ),
        (
            json!({"status": "run"}),
            "400 field 'status' is read-only [status]",
        ),
        (
            json!({"running": true}),
            "400 field 'running' is read-only [running]",
        ),
        (
            json!({"daemon": true}),
            "400 unknown field 'daemon' [daemon]",
        ),
        (
            json!({"func": "f"}),
            "400 field 'func' does not apply to a CommandTask [-]",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(patch(body.clone()), expected, "{body}");
    }
}
