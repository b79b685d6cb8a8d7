//! Hostile input over real HTTP against the `engine` binary: malformed and
//! truncated JSON, wrong types for every task field, unknown fields, huge and
//! never-ending bodies, deep nesting, bad percent-encodings and invalid UTF-8,
//! very long URLs and names, odd names, bad queries, unknown methods, HTTP/1.0
//! and pipelining, slow and stalled clients, and many idle connections. Every
//! request gets the right 4xx (or a closed connection, where hyper refuses it
//! before the API sees it), the server keeps serving after each, never answers
//! 5xx or panics, and a snapshot of the session taken before the battery equals
//! the one taken after it.
//!
//! The quick battery runs with the normal `cargo test`. `ENGINE_HOSTILE_FULL=1`
//! (what `cargo xtask hostile` sets) adds more cases, 2,000 idle connections and
//! 20,000 random garbage requests (`ENGINE_HOSTILE_CASES`) from a seeded
//! generator (`ENGINE_HOSTILE_SEED` repeats a run), and prints the figures (see
//! docs/reliability.md, "Hostile input").

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use engine_tests::{Rng, Server, par_map, poll};
use serde_json::{Value, json};

use self::bodies::{body_cases, field_cases, json_cases};
use self::connections::protocol_cases;
use self::names::{odd_names, path_cases, query_cases, round_trip_names};
use self::raw::{Reply, SendOptions, exchange, request};

mod bodies;
mod connections;
mod garbage;
mod names;
mod raw;

/// Whether the full battery runs (`ENGINE_HOSTILE_FULL=1`).
fn full() -> bool {
    std::env::var("ENGINE_HOSTILE_FULL").is_ok_and(|v| v == "1")
}

/// How many random requests the full battery sends: `ENGINE_HOSTILE_CASES`,
/// else 20,000.
fn random_cases() -> usize {
    std::env::var("ENGINE_HOSTILE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

/// The seed of the random parts: `ENGINE_HOSTILE_SEED`, else the clock.
fn seed() -> u64 {
    std::env::var("ENGINE_HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        })
}

/// The session every battery runs against: two tasks that never start by
/// themselves, a parameter, and short timeouts so slow clients are cut off
/// quickly. `{extra}` adds `[api]` keys.
fn config(extra: &str) -> String {
    format!(
        r#"
[api]
header_timeout = "1 second"
body_timeout = "1 second"
write_timeout = "1 second"
{extra}

[session]
timezone = "UTC"

[parameters]
env = "test"

[[tasks]]
name = "extract"
command = "true"
start_cond = "false"

[[tasks]]
name = "report"
command = ["sh", "-c", "exit 0"]
start_cond = "false"
priority = 2
"#
    )
}

/// A server started from `config` with its state in a temporary directory.
fn start(config: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("engine.toml");
    std::fs::write(&path, config).expect("write the config");
    let state = dir.path().join("state");
    let server = Server::start(&[utf8(&path), "--port", "0", "--state", utf8(&state)], &[]);
    (server, dir)
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// What the API shows of the session: every readable resource, and the number
/// of log records.
fn snapshot(server: &Server) -> BTreeMap<&'static str, Value> {
    let mut views = BTreeMap::new();
    for path in [
        "/tasks",
        "/parameters",
        "/configs",
        "/returns",
        "/session",
        "/dependencies",
    ] {
        let (status, body) = server.http("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        views.insert(path, body);
    }
    let (status, logs) = server.http("GET", "/logs", None);
    assert_eq!(status, 200, "GET /logs: {logs}");
    views.insert("/logs count", json!(logs.as_array().map_or(0, Vec::len)));
    views
}

/// Runs `extract` once, so the log is not empty and the snapshot has records
/// to count.
fn run_extract_once(server: &Server) {
    let (status, body) = server.http("PATCH", "/tasks/extract", Some(&json!({"force_run": true})));
    assert_eq!(status, 200, "{body}");
    let done = poll(Duration::from_secs(30), || {
        let (_, logs) = server.http("GET", "/logs?task_name=extract&action=success", None);
        logs.as_array().is_some_and(|l| !l.is_empty()).then_some(())
    });
    assert!(done.is_some(), "extract did not run: {}", server.stderr());
}

/// What a hostile request must get.
#[derive(Debug, Clone)]
enum Expect {
    /// The API's JSON error with this status.
    Error(u16),
    /// One of these statuses, with or without a JSON body (hyper answers some
    /// requests itself, with an empty body), or a closed connection.
    StatusOrClose(&'static [u16]),
    /// These statuses, in this order (pipelining).
    Statuses(Vec<u16>),
}

/// One hostile request.
#[derive(Debug, Clone)]
struct Case {
    label: String,
    request: Vec<u8>,
    expect: Expect,
}

impl Case {
    fn new(label: impl Into<String>, request: Vec<u8>, expect: Expect) -> Case {
        Case {
            label: label.into(),
            request,
            expect,
        }
    }
}

/// Checks what every response must be, whatever the request: never a 5xx,
/// and a body, when there is one, is JSON with the JSON content type.
fn sane(reply: &Reply) -> Result<(), String> {
    for response in &reply.responses {
        if response.status >= 500 {
            return Err(format!("a server error: {}", reply.describe()));
        }
        if !response.body.is_empty() {
            if response.header("content-type") != Some("application/json") {
                return Err(format!("a body that is not JSON: {}", reply.describe()));
            }
            if serde_json::from_slice::<Value>(&response.body).is_err() {
                return Err(format!("a body that does not parse: {}", reply.describe()));
            }
        }
    }
    if reply.trailing > 0 && reply.responses.is_empty() {
        return Err(format!("an answer that is not HTTP: {}", reply.describe()));
    }
    Ok(())
}

/// Whether `reply` is what `expect` says.
fn meets(reply: &Reply, expect: &Expect) -> Result<(), String> {
    sane(reply)?;
    let ok = match expect {
        Expect::Error(status) => {
            reply.responses.len() == 1
                && reply
                    .first()
                    .is_some_and(|r| r.status == *status && r.is_json_error())
        }
        Expect::StatusOrClose(statuses) => match reply.first() {
            Some(first) => statuses.contains(&first.status),
            None => reply.closed,
        },
        Expect::Statuses(statuses) => reply.statuses() == *statuses,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {}", reply.describe()))
    }
}

/// Sends every case (from four threads), checks its answer and that the
/// server still serves `GET /tasks` afterwards; returns the failures and the
/// status counts.
fn run_cases(server: &Server, cases: &[Case]) -> (Vec<String>, BTreeMap<String, usize>) {
    let port = server.port;
    let outcomes = par_map(cases, 4, |case| {
        let reply = exchange(port, &case.request, SendOptions::default());
        let outcome = match reply.first() {
            Some(first) => first.status.to_string(),
            None if reply.closed => "closed".to_owned(),
            None => "no answer".to_owned(),
        };
        let mut failures = Vec::new();
        if let Err(problem) = meets(&reply, &case.expect) {
            failures.push(format!("{}: {problem}", case.label));
        }
        let (status, body) = engine_tests::http(port, "GET", "/tasks", None);
        if status != 200 {
            failures.push(format!(
                "after {}: GET /tasks is {status} {body}",
                case.label
            ));
        }
        (outcome, failures)
    });
    let mut all = Vec::new();
    let mut seen = BTreeMap::new();
    for (outcome, failures) in outcomes {
        *seen.entry(outcome).or_insert(0) += 1;
        all.extend(failures);
    }
    (all, seen)
}

/// A JSON error for `method target` with `body`.
fn error_case(status: u16, method: &str, target: &str, body: Option<&str>) -> Case {
    Case::new(
        format!(
            "{method} {} {}",
            short(target),
            short(body.unwrap_or_default())
        ),
        request(method, target, body.map(str::as_bytes)),
        Expect::Error(status),
    )
}

/// At most 80 characters of `text`, for labels.
fn short(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push_str(&format!("...({} bytes)", text.len()));
    }
    out
}

/// Every deterministic case of the battery.
fn battery(full: bool) -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(field_cases());
    cases.extend(json_cases(full));
    cases.extend(body_cases());
    cases.extend(path_cases());
    cases.extend(query_cases());
    cases.extend(protocol_cases());
    cases
}

/// Prints a figure line of the full battery.
fn report(line: &str) {
    if full() {
        println!("hostile: {line}");
    }
}

#[test]
fn hostile_requests_get_4xx_and_change_nothing() {
    let started = Instant::now();
    let full = full();
    let seed = seed();
    let mut rng = Rng::new(seed);
    let (server, _dir) = start(&config(""));
    run_extract_once(&server);
    let before = snapshot(&server);

    let cases = battery(full);
    let (mut failures, seen) = run_cases(&server, &cases);
    let names = odd_names(full, &mut rng);
    failures.extend(round_trip_names(&server, &names));
    let mut garbage_figures = None;
    if full {
        let figures = garbage::run(server.port, random_cases(), seed);
        failures.extend(figures.failures.iter().cloned());
        garbage_figures = Some(figures);
    }

    let after = snapshot(&server);
    for (key, value) in &before {
        if after.get(key) != Some(value) {
            failures.push(format!(
                "{key} changed:\n  before {value}\n  after  {}",
                after.get(key).unwrap_or(&Value::Null)
            ));
        }
    }
    let stderr = server.stderr();
    if stderr.contains("panicked") || stderr.contains(" ERROR ") {
        failures.push(format!("the server logged a panic or an error:\n{stderr}"));
    }
    report(&format!(
        "{} deterministic cases, statuses {seen:?}; {} odd names round-tripped; seed {seed}",
        cases.len(),
        names.len()
    ));
    if let Some(figures) = &garbage_figures {
        report(&figures.to_string());
    }
    report(&format!("battery time {:.1?}", started.elapsed()));
    assert!(
        failures.is_empty(),
        "{} of {} cases failed (seed {seed}):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
