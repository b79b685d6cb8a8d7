//! Tests of `cargo xtask fuzz`: the command line, libFuzzer's figures and
//! crash report, the JSON reader and the seed corpora.

use std::path::Path;

use super::json::{self, Json};
use super::{Options, Stats, failure_report, seeds};

/// Output of a libFuzzer run that stopped on its time limit.
const FINISHED: &str = "\
INFO: Seed: 123
#2\tINITED cov: 310 ft: 311 corp: 1/1b exec/s: 0 rss: 30Mb
#1024\tpulse  cov: 410 ft: 600 corp: 40/900b lim: 14 exec/s: 512 rss: 35Mb
#1781127\tDONE   cov: 1234 ft: 5678 corp: 2185/45Kb lim: 4096 exec/s: 161920 rss: 41Mb
Done 1781127 runs in 11 second(s)
stat::number_of_executed_units: 1781127
stat::average_exec_per_sec:     161920
stat::new_units_added:          2185
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              41
";

/// Output of a libFuzzer run that found a panic.
const CRASHED: &str = "\
#500\tNEW    cov: 200 ft: 250 corp: 20/300b lim: 8 exec/s: 0 rss: 30Mb L: 3/8 MS: 1 ChangeBit-
thread '<unnamed>' panicked at fuzz_targets/condition.rs:30:13:
canonical text \"a\" of \"b\" does not parse
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
==1234== ERROR: libFuzzer: deadly signal
SUMMARY: libFuzzer: deadly signal
MS: 1 ChangeBit-; base unit: 0000
0x62,
artifact_prefix='/w/fuzz/artifacts/condition/'; Test unit written to /w/fuzz/artifacts/condition/crash-abc
Base64: Yg==
";

fn args(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn options(seconds: u64, merge: bool, seed: bool, sanitizer: &str, targets: &[&str]) -> Options {
    Options {
        seconds,
        merge,
        seed,
        list: false,
        sanitizer: sanitizer.to_owned(),
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
    }
}

#[test]
fn command_line() {
    let cases: Vec<(&str, Result<Options, &str>)> = vec![
        ("", Ok(options(10, false, false, "none", &[]))),
        (
            "--seconds 120 query condition",
            Ok(options(120, false, false, "none", &["query", "condition"])),
        ),
        (
            "--seconds=5 --merge --sanitizer=address query",
            Ok(options(5, true, false, "address", &["query"])),
        ),
        ("--seed", Ok(options(10, false, true, "none", &[]))),
        ("--seconds", Err("--seconds needs a value")),
        (
            "--seconds 0",
            Err("--seconds takes a positive number, not '0'"),
        ),
        (
            "--seconds ten",
            Err("--seconds takes a positive number, not 'ten'"),
        ),
        (
            "--sanitizer memory",
            Err("--sanitizer is none or address, not 'memory'"),
        ),
        ("--fast", Err("unknown option '--fast'")),
    ];
    for (line, want) in cases {
        let got = Options::parse(&args(line));
        match (&got, &want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{line:?}"),
            (Err(got), Err(want)) => assert!(got.starts_with(want), "{line:?}: {got}"),
            _ => panic!("{line:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn libfuzzer_figures() {
    let cases = [
        (
            FINISHED,
            Stats {
                executions: Some(1_781_127),
                exec_per_sec: Some(161_920),
                cov: Some(1234),
                features: Some(5678),
                corpus_units: Some(2185),
                corpus_size: Some("45Kb".to_owned()),
            },
        ),
        (
            CRASHED,
            Stats {
                cov: Some(200),
                features: Some(250),
                corpus_units: Some(20),
                corpus_size: Some("300b".to_owned()),
                ..Stats::default()
            },
        ),
        ("", Stats::default()),
    ];
    for (output, want) in cases {
        assert_eq!(Stats::parse(output), want, "{output}");
    }
}

#[test]
fn crash_report() {
    let cases = [
        (
            CRASHED,
            vec![
                "SUMMARY: libFuzzer: deadly signal",
                "panicked at fuzz_targets/condition.rs:30:13:",
                "canonical text \"a\" of \"b\" does not parse",
                "input: /w/fuzz/artifacts/condition/crash-abc",
                "cargo fuzz run --sanitizer none condition /w/fuzz/artifacts/condition/crash-abc",
                "full output: fuzz/target/logs/condition.log",
            ],
        ),
        (FINISHED, vec!["no input was written", "stat::peak_rss_mb"]),
    ];
    for (output, wants) in cases {
        let report = failure_report(
            "condition",
            output,
            Path::new("fuzz/target/logs/condition.log"),
        );
        for want in wants {
            assert!(report.contains(want), "{want:?} not in:\n{report}");
        }
    }
    let report = failure_report("condition", CRASHED, Path::new("x.log"));
    assert!(
        !report.contains("RUST_BACKTRACE"),
        "the note is cut:\n{report}"
    );
}

#[test]
fn json_reader() {
    let object = |members: &[(&str, Json)]| {
        Json::Object(
            members
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    };
    let text = |s: &str| Json::String(s.to_owned());
    let deep = "[".repeat(200);
    let cases: Vec<(&str, Result<Json, &str>)> = vec![
        ("null", Ok(Json::Null)),
        (
            " [true, false, -1.5e3] ",
            Ok(Json::Array(vec![
                Json::Bool(true),
                Json::Bool(false),
                Json::Number("-1.5e3".to_owned()),
            ])),
        ),
        (
            r#"{"a": {"b": []}, "c": "d"}"#,
            Ok(object(&[
                ("a", object(&[("b", Json::Array(vec![]))])),
                ("c", text("d")),
            ])),
        ),
        (
            r#""q\"\\\/\n\t\u00e9\ud83d\ude00""#,
            Ok(text("q\"\\/\n\té😀")),
        ),
        (r#""\ud83d""#, Ok(text("\u{FFFD}"))),
        ("\"ünï ✓\"", Ok(text("ünï ✓"))),
        ("", Err("unexpected end of JSON at byte 0")),
        ("[1,", Err("unexpected end of JSON at byte 3")),
        ("[1 2]", Err("expected ',' or ']' at byte 4")),
        ("{1: 2}", Err("expected a member name at byte 1")),
        (r#"{"a" 2}"#, Err("expected ':' at byte 6")),
        ("\"abc", Err("unterminated string at byte 4")),
        (r#""\x""#, Err("bad escape at byte 3")),
        (r#""\u+fff""#, Err("bad \\u escape at byte 3")),
        (r#""\u12""#, Err("short \\u escape at byte 3")),
        ("nul", Err("unexpected character at byte 0")),
        ("1 2", Err("trailing text after the JSON value at byte 2")),
        (&deep, Err("JSON nested too deeply at byte 129")),
    ];
    for (input, want) in cases {
        assert_eq!(json::parse(input), want.map_err(str::to_owned), "{input:?}");
    }
    let round = r#"{"k":["a\"b",1,null,{"x":"\n\u0001"}]}"#;
    assert_eq!(
        json::parse(round).map(|j| j.to_json()),
        Ok(round.to_owned())
    );
}

#[test]
fn seed_corpora() {
    let vectors = r#"[
        {"kind": "cond_parse", "input": " daily", "ok": true, "canonical": "daily"},
        {"kind": "cond_parse", "input": "true &", "ok": false},
        {"kind": "cond_eval", "cond": "every 10 min & true", "task": null, "now": "2020-01-01 07:30:00", "logs": []},
        {"kind": "period", "period": "time of day before 02:00"},
        {"kind": "roll", "period": null},
        {"kind": "anchor", "cls": "TimeOfDay", "start": "10:00", "end": "12:00"},
        {"kind": "query", "pairs": [["a$min", 10], ["b", "x y&z"], ["a$min", "ü"]]}
    ]"#;
    let Ok(vectors) = json::parse(vectors) else {
        panic!("test vectors are JSON")
    };
    let seeds = seeds::seeds(&vectors);
    let cases: [(&str, &[&str], &[&str]); 4] = [
        (
            "condition",
            &[
                " daily",
                "daily",
                "true &",
                "every 10 min & true",
                "cron */15 * * * *",
            ],
            &[],
        ),
        (
            "condition_eval",
            &["daily", "every 10 min & true"],
            &[" daily", "true &"],
        ),
        (
            "duration_and_period",
            &[
                "time of day before 02:00",
                "10:00",
                "12:00",
                "10:00|12:00",
                "10 min",
                "PT1H2M3.5S",
            ],
            &["null"],
        ),
        (
            "query",
            &[
                "a$min=10&b=x%20y%26z&a$min=%C3%BC",
                r#"{"a$min":[10,"ü"],"b":"x y&z"}"#,
                "action$foo=run",
            ],
            &[],
        ),
    ];
    for (target, present, absent) in cases {
        let Some(got) = seeds.get(target) else {
            panic!("no seeds for {target}")
        };
        for want in present {
            assert!(
                got.iter().any(|s| s == want),
                "{target}: {want:?} missing from {got:?}"
            );
        }
        for unwanted in absent {
            assert!(
                !got.iter().any(|s| s == unwanted),
                "{target}: {unwanted:?} present"
            );
        }
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "{target}: seeds sorted and distinct"
        );
    }
}
