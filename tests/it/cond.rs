//! `engine cond {parse,eval,next}` end to end: the spec's condition vectors
//! through the real binary, `next` schedules, exit codes and help.

use std::sync::LazyLock;

use engine_tests::{Outcome, par_map, run_engine, vectors};
use serde_json::{Value, json};

/// Processes run at once by the vector tests.
const THREADS: usize = 4;

/// The QUIRK-P1 vector: v1.2.0 fails on the whitespace before `(`; DESIGN.md
/// accepts it ("whitespace around parentheses is fine").
const QUIRK_P1: &str = "\n        (time of day between 08:00 and 10:00 & time of week between Monday and Friday) \n        | (time of day between 14:00 and 16:00 & ~time of week between Monday and Friday)\n    ";

/// `cond_parse` vectors whose outcome DESIGN.md changes from v1.2.0's (the
/// parser's own vector test, `condition/tests/vectors.rs`, has the same list):
/// the input and whether it parses. The empty condition is `false` (its
/// vector's `test_expectation_ok` already says so).
const PARSE_DEVIATIONS: &[(&str, bool)] = &[(QUIRK_P1, true)];

/// Valid inputs not written canonically, with their canonical text
/// (`testdata/cond_not_canonical.json`, shared with the other `cond_parse`
/// vector test); every other valid input prints as itself.
static NOT_CANONICAL: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/cond_not_canonical.json"
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

/// Runs `engine` with `args` (TZ=UTC).
fn engine(args: &[&str]) -> Outcome {
    run_engine(args, &[])
}

/// Whether a `cond_parse` vector is meant to parse: DESIGN.md's deviations,
/// else the test's intended outcome, else v1.2.0's.
fn intended_ok(vector: &Value) -> bool {
    let input = vector["input"].as_str().unwrap_or_default();
    if let Some((_, ok)) = PARSE_DEVIATIONS.iter().find(|(text, _)| *text == input) {
        return *ok;
    }
    vector
        .get("test_expectation_ok")
        .and_then(Value::as_bool)
        .or_else(|| vector["ok"].as_bool())
        .unwrap_or(false)
}

/// Checks one `cond_parse` vector: an invalid one exits 2 with a caret; a valid
/// one prints its canonical text, which prints as itself. `Ok(true)` for a valid
/// vector, `Ok(false)` for an invalid one, `Err` says what went wrong.
fn check_parse(vector: &Value) -> Result<bool, String> {
    let input = vector["input"].as_str().ok_or("vector without input")?;
    let first = engine(&["cond", "parse", input]);
    if !intended_ok(vector) {
        return match first.code {
            Some(2) if first.stderr.contains('^') && first.stdout.is_empty() => Ok(false),
            _ => Err(format!(
                "{input:?}: want exit 2 with a caret in stderr, got {first:?}"
            )),
        };
    }
    let want = match NOT_CANONICAL.iter().find(|(text, _)| *text == input) {
        Some((_, canonical)) => canonical.as_str(),
        None => vector["canonical"]
            .as_str()
            .ok_or("valid vector without canonical")?,
    };
    if (first.code, first.stdout.as_str()) != (Some(0), format!("{want}\n").as_str()) {
        return Err(format!(
            "{input:?}: want exit 0 and {want:?}, got {first:?}"
        ));
    }
    let second = engine(&["cond", "parse", want]);
    if second.code != Some(0) || second.stdout != first.stdout {
        return Err(format!(
            "{input:?}: canonical {want:?} does not print as itself: {second:?}"
        ));
    }
    Ok(true)
}

#[test]
fn parse_vectors() {
    let cases = vectors("cond_parse");
    let results = par_map(&cases, THREADS, check_parse);
    let valid = results.iter().filter(|r| r == &&Ok(true)).count();
    let invalid = results.iter().filter(|r| r == &&Ok(false)).count();
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cond_parse vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!((cases.len(), valid, invalid), (156, 151, 5));
}

/// The command line that evaluates one `cond_eval` vector, with its log written
/// to `dir` (as a JSON array or as JSON lines, by `lines`).
fn eval_args(vector: &Value, dir: &std::path::Path, lines: bool) -> Result<Vec<String>, String> {
    let cond = vector["cond"].as_str().ok_or("vector without cond")?;
    let now = vector["now"].as_str().ok_or("vector without now")?;
    let mut args: Vec<String> = ["cond", "eval", cond, "--now", now, "--tz", "UTC"]
        .map(str::to_owned)
        .to_vec();
    if let Some(task) = vector["task"].as_str() {
        args.extend(["--task".to_owned(), task.to_owned()]);
    }
    let records = vector["logs"].as_array().ok_or("vector without logs")?;
    if !records.is_empty() {
        let text = if lines {
            records.iter().map(|r| format!("{r}\n")).collect()
        } else {
            serde_json::to_string_pretty(records).map_err(|e| e.to_string())?
        };
        let file = tempfile::Builder::new()
            .suffix(".json")
            .tempfile_in(dir)
            .map_err(|e| e.to_string())?;
        std::fs::write(file.path(), text).map_err(|e| e.to_string())?;
        let (_, path) = file.keep().map_err(|e| e.to_string())?;
        args.extend(["--logs".to_owned(), path.display().to_string()]);
    }
    if let Some(params) = vector.get("parameters").and_then(Value::as_object) {
        for (key, value) in params {
            args.extend(["--param".to_owned(), format!("{key}={value}")]);
        }
    }
    if let Some(scheduler) = vector.get("scheduler") {
        if let Some(cycles) = scheduler.get("n_cycles") {
            args.extend(["--cycles".to_owned(), cycles.to_string()]);
        }
        if let Some(started) = scheduler.get("startup_time").and_then(Value::as_str) {
            args.extend(["--started".to_owned(), started.to_owned()]);
        }
    }
    Ok(args)
}

#[test]
fn eval_vectors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let cases: Vec<(usize, Value)> = vectors("cond_eval")
        .into_iter()
        .filter(|v| v.get("compare").is_none() && v.get("retries").is_none())
        .enumerate()
        .collect();
    // 178 vectors, 10 of them with a `compare` (no string syntax).
    assert_eq!(cases.len(), 168, "cond_eval vectors with string syntax");
    let failures: Vec<String> = par_map(&cases, THREADS, |(i, vector)| {
        let args = eval_args(vector, dir.path(), i % 2 == 1)?;
        let want = vector
            .get("sensible_expected")
            .unwrap_or(&vector["expected"]);
        let got = run_engine(&args, &[]);
        if got.code == Some(0) && got.stdout == format!("{want}\n") {
            Ok(())
        } else {
            Err(format!(
                "{} ({}): want {want}, got {got:?}",
                vector["cond"], vector["now"]
            ))
        }
    })
    .into_iter()
    .filter_map(Result::err)
    .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cond_eval vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `engine cond next` with `args` after the condition: its stdout lines, after
/// checking that it exited 0.
fn next(cond: &str, args: &[&str]) -> Vec<String> {
    let mut all = vec!["cond", "next", cond];
    all.extend_from_slice(args);
    let got = engine(&all);
    assert_eq!(got.code, Some(0), "{all:?}: {got:?}");
    got.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn next_daily_across_dst() {
    // 2024-03-31 has 23 hours in Berlin: one start per local day all the same.
    let berlin = [
        "--from",
        "2024-03-30 00:00",
        "--count",
        "4",
        "--tz",
        "Europe/Berlin",
    ];
    assert_eq!(
        next("daily", &berlin),
        [
            "2024-03-30 00:00:00",
            "2024-03-31 00:00:00",
            "2024-04-01 00:00:00",
            "2024-04-02 00:00:00"
        ]
    );
    // The autumn change (a 25-hour day).
    let autumn = [
        "--from",
        "2024-10-26 12:00",
        "--count",
        "3",
        "--tz",
        "Europe/Berlin",
    ];
    assert_eq!(
        next("daily", &autumn),
        [
            "2024-10-26 12:00:00",
            "2024-10-27 00:00:00",
            "2024-10-28 00:00:00"
        ]
    );
}

#[test]
fn next_schedules() {
    let utc =
        |from: &'static str, count: &'static str| ["--from", from, "--count", count, "--tz", "UTC"];
    let cases: &[(&str, [&str; 6], &[&str])] = &[
        (
            "daily between 08:00 and 10:00",
            utc("2024-01-01 09:00", "3"),
            &[
                "2024-01-01 09:00:00",
                "2024-01-02 08:00:00",
                "2024-01-03 08:00:00",
            ],
        ),
        (
            "daily between 08:00 and 10:00",
            utc("2024-01-01 10:30", "2"),
            &["2024-01-02 08:00:00", "2024-01-03 08:00:00"],
        ),
        // Friday 10:00: the next starts are on Monday, Tuesday, Wednesday.
        (
            "cron 0 9 * * MON-FRI",
            utc("2024-01-05 10:00", "3"),
            &[
                "2024-01-08 09:00:00",
                "2024-01-09 09:00:00",
                "2024-01-10 09:00:00",
            ],
        ),
        (
            "weekly on Tuesday",
            utc("2024-01-05", "2"),
            &["2024-01-09 00:00:00", "2024-01-16 00:00:00"],
        ),
        (
            "monthly",
            utc("2024-01-15 12:00", "3"),
            &[
                "2024-01-15 12:00:00",
                "2024-02-01 00:00:00",
                "2024-03-01 00:00:00",
            ],
        ),
        (
            "hourly",
            utc("2024-01-01 10:30", "3"),
            &[
                "2024-01-01 10:30:00",
                "2024-01-01 11:00:00",
                "2024-01-01 12:00:00",
            ],
        ),
        (
            "daily & time of week between Mon and Fri",
            utc("2024-01-05 12:00", "2"),
            &["2024-01-05 12:00:00", "2024-01-08 00:00:00"],
        ),
        ("true", utc("2024-01-01", "0"), &[]),
    ];
    for (cond, args, want) in cases {
        assert_eq!(next(cond, args), *want, "{cond} {args:?}");
    }
}

#[test]
fn next_every() {
    // A finish exactly 10 minutes ago still blocks (spec §5.2), so each start is
    // the first instant after that: 1 ns later than the previous start + 10 min.
    let args = ["--from", "2024-01-01 00:00", "--count", "3", "--tz", "UTC"];
    assert_eq!(
        next("every 10 minutes", &args),
        [
            "2024-01-01 00:00:00",
            "2024-01-01 00:10:00.000000001",
            "2024-01-01 00:20:00.000000002"
        ]
    );
}

#[test]
fn next_default_zone() {
    // `hourly` across the spring change: the local 02:00 hour does not exist.
    let args = [
        "cond",
        "next",
        "hourly",
        "--from",
        "2024-03-31 01:30",
        "--count",
        "3",
    ];
    let berlin = [
        "2024-03-31 01:30:00",
        "2024-03-31 03:00:00",
        "2024-03-31 04:00:00",
    ];
    let utc = [
        "2024-03-31 01:30:00",
        "2024-03-31 02:00:00",
        "2024-03-31 03:00:00",
    ];
    for (tz, want) in [
        ("Europe/Berlin", &berlin),
        (":Europe/Berlin", &berlin),
        ("UTC", &utc),
    ] {
        let got = run_engine(&args, &[("TZ", tz)]);
        assert_eq!(
            (got.code, got.stdout.lines().collect::<Vec<_>>()),
            (Some(0), want.to_vec()),
            "TZ={tz}: {got:?}"
        );
    }
    let explicit = run_engine(
        &[&args[..], &["--tz", "Europe/Berlin"]].concat(),
        &[("TZ", "UTC")],
    );
    assert_eq!(
        explicit.stdout.lines().collect::<Vec<_>>(),
        berlin,
        "--tz wins over TZ"
    );
}

#[test]
fn next_stops_early() {
    // (condition, from, stdout, a word of the note on stderr)
    let cases: &[(&str, &str, &[&str], &str)] = &[
        ("after task 'a'", "2024-01-01", &[], "events"),
        (
            "~has started",
            "2024-01-01",
            &["2024-01-01 00:00:00"],
            "events",
        ),
        ("true", "2024-01-01", &["2024-01-01 00:00:00"], "stays true"),
        (
            "time of day between 10:00 and 12:00",
            "2024-01-01",
            &["2024-01-01 10:00:00"],
            "stays true",
        ),
        ("false", "2024-01-01", &[], "events"),
        (
            "time of day between 10:00 and 12:00 & time of day between 13:00 and 14:00",
            "2024-01-01",
            &[],
            "10 years",
        ),
    ];
    for (cond, from, want, note) in cases {
        let got = engine(&[
            "cond", "next", cond, "--from", from, "--count", "3", "--tz", "UTC",
        ]);
        assert_eq!(
            (got.code, got.stdout.lines().collect::<Vec<_>>()),
            (Some(0), want.to_vec()),
            "{cond}: {got:?}"
        );
        assert!(
            got.stderr.starts_with("note: ") && got.stderr.contains(note),
            "{cond}: {got:?}"
        );
    }
}

#[test]
fn eval_world_options() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let logs = dir.path().join("logs.jsonl");
    let records = [
        json!({"task_name": "extract", "action": "run", "timestamp": "2024-01-01 07:00:00", "start": "ignored"}),
        json!({"task_name": "extract", "action": "success", "timestamp": "2024-01-01 07:30:00.5"}),
    ];
    std::fs::write(
        &logs,
        records.iter().map(|r| format!("{r}\n")).collect::<String>(),
    )
    .expect("write logs");
    let logs = logs.display().to_string();
    // (arguments after the condition, condition, stdout)
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "after task 'extract'",
            &[
                "--task",
                "load",
                "--logs",
                &logs,
                "--now",
                "2024-01-01 08:00",
            ],
            "true",
        ),
        (
            "after task 'extract'",
            &["--task", "load", "--now", "2024-01-01 08:00"],
            "false",
        ),
        (
            "task 'extract' has succeeded today",
            &["--logs", &logs, "--now", "2024-01-01T23:59:59.999999"],
            "true",
        ),
        (
            "task 'extract' has succeeded today",
            &["--logs", &logs, "--now", "2024-01-02"],
            "false",
        ),
        (
            "task 'extract' has succeeded today",
            &["--logs", &logs, "--now", "2024-01-01 07:30:00.4"],
            "false",
        ),
        ("param 'n' is '3'", &["--param", "n=\"3\""], "true"),
        ("param 'mode' is 'fast'", &["--param", "mode=fast"], "true"),
        (
            "param 'mode' is 'fast'",
            &["--param", "mode=fast", "--param", "mode=slow"],
            "false",
        ),
        ("env 'prod'", &["--param", "env=prod"], "true"),
        ("param 'x' exists", &["--param", "x=1"], "true"),
        ("param 'x' exists", &[], "false"),
        (
            "scheduler has more than 3 cycles",
            &["--cycles", "4"],
            "true",
        ),
        (
            "scheduler has 0 cycles",
            &["--started", "2024-01-01 10:00", "--now", "2024-01-01 10:00"],
            "true",
        ),
        (
            "scheduler started 1 hour ago",
            &["--started", "2024-01-01 09:30", "--now", "2024-01-01 10:00"],
            "true",
        ),
        ("scheduler started 1 hour ago", &["--cycles", "5"], "true"),
        (
            "scheduler has run over 1 hour",
            &["--started", "2024-01-01 08:30", "--now", "2024-01-01 10:00"],
            "true",
        ),
        ("true", &[], "true"),
        ("", &[], "false"),
        // One instant, two zones: 10:30 in Tokyo is 01:30 UTC.
        (
            "time of day between 10:00 and 11:00",
            &["--now", "2024-01-01 10:30", "--tz", "Asia/Tokyo"],
            "true",
        ),
    ];
    for (cond, args, want) in cases {
        let all = [&["cond", "eval", cond][..], args].concat();
        let got = engine(&all);
        assert_eq!(
            (got.code, got.stdout.as_str(), got.stderr.as_str()),
            (Some(0), format!("{want}\n").as_str(), ""),
            "{all:?}"
        );
    }
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bad_logs = dir.path().join("bad.jsonl");
    let line = r#"{"task_name": "a", "action": "run", "timestamp": "2024-01-01 10:00:00"}"#;
    std::fs::write(
        &bad_logs,
        format!("{line}\n{}\n", line.replace("10:00:00", "10:00 am")),
    )
    .expect("write logs");
    let bad_logs = bad_logs.display().to_string();
    let missing = dir.path().join("missing.json").display().to_string();
    // (arguments, exit code, what stderr contains)
    let cases: &[(&[&str], i32, &str)] = &[
        (&["cond", "parse", "daily &"], 2, "^"),
        (&["cond", "parse", "daily & & hourly"], 2, "^"),
        (&["cond", "eval", "sometimes"], 2, "^"),
        (&["cond", "next", "(daily"], 2, "^"),
        (
            &["cond", "eval", "true", "--now", "yesterday"],
            2,
            "bad time 'yesterday' for --now",
        ),
        (
            &["cond", "eval", "true", "--now", "2024-02-30 10:00"],
            2,
            "--now",
        ),
        (&["cond", "next", "daily", "--from", "10:00"], 2, "--from"),
        (
            &["cond", "eval", "true", "--started", "noon"],
            2,
            "--started",
        ),
        (
            &["cond", "eval", "true", "--tz", "Mars/Olympus"],
            2,
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            &["cond", "eval", "true", "--param", "novalue"],
            2,
            "bad --param 'novalue'",
        ),
        (
            &["cond", "eval", "true", "--logs", &missing],
            2,
            "cannot read the logs file",
        ),
        (
            &["cond", "eval", "true", "--logs", &bad_logs],
            2,
            "bad timestamp '2024-01-01 10:00 am'",
        ),
        (&["cond", "eval", "true", "--logs", &bad_logs], 2, "line 2"),
        (&["cond", "next", "daily", "--count", "many"], 2, "--count"),
        (&["cond", "eval", "true", "--cycles=-1"], 2, "--cycles"),
        (&["cond", "next", "daily", "--count=-1"], 2, "--count"),
        (&["cond", "eval"], 2, "COND"),
        (&["cond", "frobnicate", "true"], 2, "frobnicate"),
        (&["cond", "eval", "true", "--bogus"], 2, "--bogus"),
        (&["cond"], 2, "Usage"),
        (&[], 2, "Usage"),
        (
            &["cond", "eval", "has failed today", "--now", "2024-01-01"],
            1,
            "error: ",
        ),
        (
            &["cond", "eval", "daily", "--now", "2024-01-01"],
            1,
            "error: ",
        ),
        (
            &["cond", "eval", "scheduler has more than 3 cycles"],
            1,
            "error: ",
        ),
        (
            &["cond", "eval", "scheduler started 10 minutes ago"],
            1,
            "error: ",
        ),
        (
            &[
                "cond",
                "next",
                "scheduler has more than 3 cycles",
                "--from",
                "2024-01-01",
            ],
            1,
            "error: ",
        ),
    ];
    for (args, code, stderr) in cases {
        let got = engine(args);
        assert!(
            got.code == Some(*code) && got.stderr.contains(stderr) && got.stdout.is_empty(),
            "{args:?}: want exit {code} and {stderr:?} in stderr, got {got:?}"
        );
    }
    let caret = engine(&["cond", "parse", "daily & & hourly"]);
    assert!(caret.stderr.starts_with("error: "), "{caret:?}");
}

#[test]
fn help_and_version() {
    // (arguments, texts the help must contain)
    let cases: &[(&[&str], &[&str])] = &[
        (&["--help"], &["cond", "Exit codes", "--version"]),
        (&["help"], &["cond", "Exit codes"]),
        (
            &["cond", "--help"],
            &["eval", "parse", "next", "Exit codes"],
        ),
        (
            &["cond", "parse", "--help"],
            &["COND", "canonical", "Exit codes"],
        ),
        (
            &["cond", "eval", "--help"],
            &[
                "COND",
                "--now",
                "--task",
                "--logs",
                "--param",
                "--tz",
                "--cycles",
                "--started",
                "KEY=VALUE",
                "JSON lines",
                "task_name",
                "YYYY-MM-DD HH:MM:SS",
                "TZ",
                "Exit codes",
                "2  bad input",
            ],
        ),
        (
            &["cond", "next", "--help"],
            &[
                "COND",
                "--from",
                "--count",
                "--task",
                "--logs",
                "--param",
                "--tz",
                "10 years",
                "YYYY-MM-DD HH:MM:SS",
                "Exit codes",
            ],
        ),
    ];
    for (args, texts) in cases {
        let got = engine(args);
        assert_eq!(got.code, Some(0), "{args:?}: {got:?}");
        for text in *texts {
            assert!(
                got.stdout.contains(text),
                "{args:?} help lacks {text:?}:\n{}",
                got.stdout
            );
        }
    }
    let version = engine(&["--version"]);
    let number = version
        .stdout
        .trim()
        .strip_prefix("engine ")
        .unwrap_or_default();
    assert!(
        version.code == Some(0)
            && number.split('.').count() == 3
            && number.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{version:?}"
    );
}

#[test]
fn eval_unknown_actions() {
    // The original's reserved `crash_release` reads as `crash`: it counts for
    // nothing, but as the latest record it ends a run. Any other unknown action
    // is bad input (exit 2) naming the action and where it is.
    let dir = tempfile::tempdir().expect("temporary directory");
    let run = json!({"task_name": "a", "action": "run", "timestamp": "2024-01-01 10:00:00"});
    let other =
        json!({"task_name": "a", "action": "crash_release", "timestamp": "2024-01-01 10:05:00"});
    let typo = json!({"task_name": "a", "action": "sucess", "timestamp": "2024-01-01 10:05:00"});
    // (records, condition, exit code, stdout, text stderr must contain)
    let cases = [
        (vec![run.clone()], "task 'a' is running", 0, "true", ""),
        (
            vec![run.clone(), other.clone()],
            "task 'a' is running",
            0,
            "false",
            "",
        ),
        (
            vec![run.clone(), other.clone()],
            "task 'a' has finished",
            0,
            "false",
            "",
        ),
        (
            vec![run.clone(), other],
            "task 'a' has started",
            0,
            "true",
            "",
        ),
        (
            vec![run, typo],
            "task 'a' is running",
            2,
            "",
            "unknown action 'sucess'",
        ),
    ];
    for (i, (records, cond, code, want, stderr)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("{i}.json"));
        std::fs::write(&path, Value::Array(records).to_string()).expect("write logs");
        let path = path.display().to_string();
        let args = [
            "cond",
            "eval",
            cond,
            "--logs",
            &path,
            "--now",
            "2024-01-01 11:00",
        ];
        let got = engine(&args);
        assert_eq!(
            (got.code, got.stdout.trim_end()),
            (Some(code), want),
            "{cond}: {got:?}"
        );
        assert!(got.stderr.contains(stderr), "{cond}: {got:?}");
        if code == 0 {
            assert!(got.stderr.is_empty(), "{cond}: {got:?}");
        }
    }
}
