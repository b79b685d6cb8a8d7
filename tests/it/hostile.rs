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
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use engine_tests::{Rng, Server, par_map, poll};
use serde_json::{Value, json};

use self::raw::{Reply, SendOptions, exchange, request, request_with};

use self::raw::chunked;

mod garbage;
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

/// Bad values for each task field, as JSON text: each must be a 400 in a
/// POST (with a valid command, unless the field is what runs) and in a PATCH.
const BAD_FIELDS: &[(&str, &[&str])] = &[
    ("class", &["5", "true", "[]", "{}", "\"Nope\"", "null"]),
    (
        "start_cond",
        &[
            "5",
            "true",
            "[]",
            "{}",
            "\"daily betwen 08:00 and 10:00\"",
            "\"(\"",
            "\"true &\"",
            "\"after task 'a\"",
        ],
    ),
    (
        "end_cond",
        &["5", "false", "[\"true\"]", "\"true & & true\""],
    ),
    ("execution", &["5", "true", "\"warp\"", "\"thread\"", "[]"]),
    (
        "priority",
        &[
            "\"1\"",
            "1.5",
            "true",
            "[]",
            "{}",
            "18446744073709551616",
            "-1e3",
        ],
    ),
    ("disabled", &["\"yes\"", "1", "[]", "{}", "\"true\""]),
    ("force_run", &["\"yes\"", "0", "[true]"]),
    ("force_termination", &["\"no\"", "1"]),
    ("on_startup", &["\"yes\"", "2"]),
    ("on_shutdown", &["{}", "1"]),
    ("permanent_task", &["\"true\"", "[]"]),
    ("allow_overlap", &["\"false\"", "0"]),
    (
        "timeout",
        &["true", "[]", "{}", "\"soon\"", "-1", "\"ten minutes\""],
    ),
    (
        "parameters",
        &["5", "\"x\"", "[]", "true", "{\"x\": {\"$return\": 5}}"],
    ),
    (
        "command",
        &["5", "[]", "[5]", "{}", "true", "\"\"", "\"tr\\u0000ue\""],
    ),
    ("code", &["5", "[]", "{}", "true"]),
    ("lang", &["5", "[]", "{}"]),
    ("cwd", &["5", "[]", "true", "\"a\\u0000b\""]),
    (
        "env",
        &[
            "5",
            "\"x\"",
            "[]",
            "{\"A\": 5}",
            "{\"A=B\": \"x\"}",
            "{\"A\": \"x\\u0000\"}",
        ],
    ),
    ("func", &["5", "[]", "\"nope\""]),
];

/// Fields a PATCH may not set: the task's status and run times.
const READ_ONLY: &[&str] = &[
    "status",
    "last_run",
    "last_success",
    "last_fail",
    "last_terminate",
    "last_inaction",
    "last_crash",
];

/// The POST body that sets `field` to `value` (a JSON text).
fn post_body(field: &str, value: &str) -> String {
    match field {
        "command" | "code" | "func" => format!("{{\"{field}\": {value}}}"),
        "lang" => format!("{{\"code\": \"print(1)\", \"lang\": {value}}}"),
        _ => format!("{{\"command\": \"true\", \"{field}\": {value}}}"),
    }
}

/// Wrong types and values for every task field, in a POST and a PATCH; unknown
/// and read-only fields.
fn field_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (field, values) in BAD_FIELDS {
        for value in *values {
            let post = post_body(field, value);
            cases.push(error_case(400, "POST", "/tasks/hostile", Some(&post)));
            let patch = format!("{{\"{field}\": {value}}}");
            cases.push(error_case(400, "PATCH", "/tasks/extract", Some(&patch)));
        }
    }
    for field in READ_ONLY {
        let body = format!("{{\"{field}\": null}}");
        cases.push(error_case(400, "PATCH", "/tasks/extract", Some(&body)));
        let body = format!("{{\"command\": \"true\", \"{field}\": \"run\"}}");
        cases.push(error_case(400, "POST", "/tasks/hostile", Some(&body)));
    }
    for (method, target, body) in [
        (
            "POST",
            "/tasks/hostile",
            r#"{"command": "true", "bogus": 1}"#,
        ),
        (
            "POST",
            "/task/hostile",
            r#"{"command": "true", "Priority": 1}"#,
        ),
        ("PATCH", "/tasks/extract", r#"{"bogus": 1}"#),
        (
            "PATCH",
            "/tasks/extract",
            r#"{"priority": 1, "start_cnd": "true"}"#,
        ),
        ("PATCH", "/configs", r#"{"bogus": 1}"#),
        ("PATCH", "/config", r#"{"timezone": "Mars/Olympus_Mons"}"#),
        ("PATCH", "/configs", r#"{"timezone": 5}"#),
        ("PATCH", "/configs", r#"{"task_pre_exist": "maybe"}"#),
        ("PATCH", "/configs", r#"{"max_concurrent_runs": "many"}"#),
        ("PATCH", "/parameters", r#"{"x": {"$return": 5}}"#),
        (
            "PATCH",
            "/parameters",
            r#"{"x": {"$return": "extract", "y": 1}}"#,
        ),
        ("PATCH", "/tasks/extract", r#"{"name": ""}"#),
        ("PATCH", "/tasks/extract", r#"{"name": 5}"#),
        ("PATCH", "/tasks/extract", r#"{"name": "it's"}"#),
        ("PATCH", "/tasks/extract", r#"{"name": " padded"}"#),
        ("PATCH", "/tasks/extract", r#"{"name": "a\nb"}"#),
        (
            "POST",
            "/tasks/hostile",
            r#"{"command": "true", "code": "print(1)"}"#,
        ),
        (
            "POST",
            "/tasks/hostile",
            r#"{"class": "FuncTask", "command": "true"}"#,
        ),
        ("POST", "/tasks/hostile", r#"{"func": "nope"}"#),
        ("POST", "/tasks/hostile", "{}"),
        ("POST", "/tasks/extract", r#"{"command": "true"}"#),
    ] {
        let status = if target == "/tasks/extract" && method == "POST" {
            409
        } else {
            400
        };
        cases.push(error_case(status, method, target, Some(body)));
    }
    for method in ["PATCH", "DELETE", "GET"] {
        cases.push(error_case(404, method, "/tasks/no-such-task", Some("{}")));
    }
    cases
}

/// Malformed, truncated, non-object, deeply nested and non-UTF-8 JSON bodies.
fn json_cases(full: bool) -> Vec<Case> {
    let mut cases = Vec::new();
    let valid = r#"{"command": "true", "start_cond": "false", "parameters": {"a": [1, 2.5, "x"]}}"#;
    // Every proper prefix of a valid body is refused.
    let step = if full { 1 } else { 7 };
    for end in (0..valid.len()).step_by(step) {
        let prefix = valid.get(..end).unwrap_or_default();
        cases.push(error_case(400, "POST", "/tasks/hostile", Some(prefix)));
    }
    let bodies: Vec<String> = vec![
        "{".into(),
        "}".into(),
        "{\"command\": }".into(),
        "{\"command\": \"true\",}".into(),
        "{'command': 'true'}".into(),
        "{command: \"true\"}".into(),
        "{\"command\": \"true\"} {}".into(),
        "{\"command\": \"true\"}]".into(),
        "[{\"command\": \"true\"}]".into(),
        "\"command\"".into(),
        "null".into(),
        "true".into(),
        "42".into(),
        "NaN".into(),
        "{\"priority\": 1e400}".into(),
        "{\"priority\": 01}".into(),
        "{\"command\": \"\\ud800\"}".into(),
        "{\"command\": \"\\x41\"}".into(),
        "{\"command\": \"tab\there\"}".into(),
        "\u{feff}{\"command\": \"true\"}".into(),
        "{\"a\":".repeat(100_000),
        "[".repeat(100_000),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!(
            "{{\"command\": \"true\", \"parameters\": {}1{}}}",
            "{\"a\": ".repeat(200),
            "}".repeat(200)
        ),
        " \r\n\t ".into(),
    ];
    for body in &bodies {
        cases.push(error_case(400, "POST", "/tasks/hostile", Some(body)));
        cases.push(error_case(400, "PATCH", "/parameters", Some(body)));
    }
    for bytes in [
        &b"{\"command\": \"\xff\"}"[..],
        b"{\"command\": \"\xc3\x28\"}",
        b"{\"\xed\xa0\x80\": 1}",
        b"\xff\xfe{\x00}\x00",
        b"{\"command\": \"true\"\x00}",
    ] {
        cases.push(Case::new(
            format!("POST invalid UTF-8 {}", String::from_utf8_lossy(bytes)),
            request("POST", "/tasks/hostile", Some(bytes)),
            Expect::Error(400),
        ));
    }
    cases
}

/// Bodies over the 1 MiB limit (with and without `Content-Length`), lying
/// lengths, bodies that never end, bad chunking.
fn body_cases() -> Vec<Case> {
    let big = format!("{{\"command\": \"{}\"}}", "a".repeat(2 << 20));
    let head = "POST /tasks/hostile HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    let with = |headers: &str, body: &[u8]| {
        let mut bytes = format!("{head}{headers}\r\n").into_bytes();
        bytes.extend_from_slice(body);
        bytes
    };
    vec![
        Case::new(
            "2 MiB body with Content-Length",
            request("POST", "/tasks/hostile", Some(big.as_bytes())),
            Expect::Error(413),
        ),
        Case::new(
            "Content-Length over the limit, no body sent",
            with("Content-Length: 1048577\r\n", b""),
            Expect::Error(413),
        ),
        Case::new(
            "Content-Length of 2^64",
            with("Content-Length: 18446744073709551616\r\n", b""),
            Expect::StatusOrClose(&[400, 413]),
        ),
        Case::new(
            "2 MiB chunked body",
            with(
                "Transfer-Encoding: chunked\r\n",
                &chunked(big.as_bytes(), 64 * 1024, true),
            ),
            Expect::Error(413),
        ),
        Case::new(
            "one chunk declared larger than the limit",
            with("Transfer-Encoding: chunked\r\n", b"200000\r\n{\"a\": 1}"),
            Expect::StatusOrClose(&[408, 413]),
        ),
        Case::new(
            "chunked body without its last chunk",
            with(
                "Transfer-Encoding: chunked\r\n",
                &chunked(br#"{"command": "true"}"#, 4, false),
            ),
            Expect::Error(408),
        ),
        Case::new(
            "Content-Length larger than the body sent",
            with("Content-Length: 100\r\n", br#"{"command": "true"}"#),
            Expect::Error(408),
        ),
        Case::new(
            "bad chunk size",
            with("Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n"),
            Expect::StatusOrClose(&[400]),
        ),
        Case::new(
            "negative Content-Length",
            with("Content-Length: -1\r\n", b"{}"),
            Expect::StatusOrClose(&[400]),
        ),
        Case::new(
            "two different Content-Lengths",
            with("Content-Length: 2\r\nContent-Length: 3\r\n", b"{} "),
            Expect::StatusOrClose(&[400]),
        ),
        Case::new(
            "Content-Length and Transfer-Encoding",
            with(
                "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
                b"2\r\n{}\r\n0\r\n\r\n",
            ),
            Expect::StatusOrClose(&[400]),
        ),
        Case::new(
            "Transfer-Encoding gzip",
            with("Transfer-Encoding: gzip\r\n", b"{}"),
            Expect::StatusOrClose(&[400, 501]),
        ),
        Case::new(
            "Expect 100-continue with a body over the limit",
            with("Content-Length: 5000000\r\nExpect: 100-continue\r\n", b""),
            Expect::Error(413),
        ),
        Case::new(
            "a PATCH with no body",
            request("PATCH", "/parameters", None),
            Expect::Error(400),
        ),
    ]
}

/// Paths and names: bad percent-encoding, invalid UTF-8, very long URLs and
/// names, quotes, control characters, unknown routes.
fn path_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (status, method, target) in [
        (400, "GET", "/tasks/%ff"),
        (400, "GET", "/tasks/%c3%28"),
        (400, "GET", "/tasks/%zz"),
        (400, "GET", "/tasks/abc%"),
        (400, "GET", "/tasks/abc%4"),
        (400, "DELETE", "/task/%ed%a0%80"),
        (400, "POST", "/tasks/%e2%82"),
        (400, "GET", "/tasks?name=%ff"),
        (400, "GET", "/logs?task_name=%"),
        (400, "GET", "/logs?task_name%zz=1"),
        (400, "POST", "/tasks/it's"),
        (400, "POST", "/tasks/it%27s"),
        (400, "POST", "/tasks/%20padded"),
        (400, "POST", "/tasks/padded%09"),
        (400, "POST", "/tasks/line%0Abreak"),
        (400, "POST", "/tasks/nul%00"),
        (404, "GET", "/tasks/"),
        (404, "GET", "//tasks"),
        (404, "GET", "/tasks/a/b"),
        (404, "GET", "/TASKS"),
        (404, "GET", "/tasks/extract/"),
        (404, "GET", "/nope"),
        (404, "GET", "/tasks/no%2Fsuch"),
        (404, "GET", "/tasks/%2E%2E"),
        (404, "GET", "/tasks/.."),
        (404, "GET", "/tasks/."),
    ] {
        let body = (method == "POST").then_some(r#"{"command": "true"}"#);
        cases.push(error_case(status, method, target, body));
    }
    let ten_kb = "n".repeat(10 * 1024);
    cases.push(error_case(404, "GET", &format!("/tasks/{ten_kb}"), None));
    cases.push(error_case(
        400,
        "POST",
        &format!("/tasks/{ten_kb}"),
        Some(r#"{"command": "true"}"#),
    ));
    cases.push(error_case(
        400,
        "POST",
        &format!("/tasks/{}", "%C3%A9".repeat(129)),
        Some(r#"{"command": "true"}"#),
    ));
    let one_mb = "m".repeat(1 << 20);
    for target in [format!("/tasks/{one_mb}"), format!("/tasks?name={one_mb}")] {
        cases.push(Case::new(
            format!("GET a 1 MiB URL {}", short(&target)),
            request("GET", &target, None),
            Expect::StatusOrClose(&[400, 414, 431]),
        ));
    }
    for raw in [
        &b"GET /tasks/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
        b"GET /tasks/caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /tasks?name=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /tasks/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /tasks/a\x00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        cases.push(Case::new(
            format!("raw bytes in the target {}", String::from_utf8_lossy(raw)),
            raw.to_vec(),
            Expect::StatusOrClose(&[400, 404]),
        ));
    }
    cases
}

/// Bad queries: unknown operators, invalid regexes, values that do not fit
/// their field, empty keys.
fn query_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for target in [
        "/tasks?name$foo=1",
        "/tasks?name$=1",
        "/tasks?name$MIN=1",
        "/tasks?name$min$max=1",
        "/tasks?$regex=a",
        "/tasks?=1",
        "/tasks?name$regex=(",
        "/tasks?name$regex=[z-a]",
        "/tasks?name$regex=(a{1000}){1000}",
        "/tasks?name$regex=x{99999999}",
        "/tasks?name$regex=%5C",
        "/logs?task_name$regex=(a",
        "/logs?timestamp$min=yesterday",
        "/logs?timestamp$max=2021-13-45",
        "/logs?timestamp$min=99999-01-01",
        "/logs?created$min=abc",
        "/logs?created$min=NaN",
        "/logs?created$max=1e400",
        "/logs?action$regex=*",
        "/logs?bogus$gt=1",
        "/dependencies?parent$foo=x",
        "/dependencies?child$regex=)",
    ] {
        cases.push(error_case(400, "GET", target, None));
    }
    cases
}

/// Methods the API does not answer, protocol versions, pipelining, broken
/// request lines and headers.
fn protocol_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (method, target, status) in [
        ("BREW", "/tasks", 405),
        ("PROPFIND", "/tasks/extract", 405),
        ("TRACE", "/tasks", 405),
        ("PUT", "/tasks/extract", 405),
        ("get", "/tasks", 405),
        ("POST", "/tasks", 405),
        ("DELETE", "/logs", 405),
        ("PATCH", "/session", 405),
        ("POST", "/openapi.json", 405),
        ("BREW", "/coffee", 404),
    ] {
        cases.push(error_case(status, method, target, None));
    }
    let mut plain = |label: &str, bytes: &[u8], expect: Expect| {
        cases.push(Case::new(label, bytes.to_vec(), expect));
    };
    plain(
        "HTTP/1.0 GET",
        b"GET /tasks HTTP/1.0\r\n\r\n",
        Expect::StatusOrClose(&[200]),
    );
    plain(
        "HTTP/1.0 POST without Content-Length",
        b"POST /tasks/hostile HTTP/1.0\r\n\r\n{\"command\": \"true\"}",
        Expect::Error(400),
    );
    plain(
        "three pipelined requests",
        b"GET /tasks HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n\
          DELETE /logs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Expect::Statuses(vec![200, 404, 405]),
    );
    plain(
        "pipelined: a refused change, then a read",
        b"PATCH /parameters HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{\
          GET /parameters HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Expect::Statuses(vec![400, 200]),
    );
    plain(
        "no Host header",
        b"GET /tasks HTTP/1.1\r\nConnection: close\r\n\r\n",
        Expect::StatusOrClose(&[200, 400]),
    );
    for (label, bytes) in [
        ("HTTP/2.0 request line", &b"GET /tasks HTTP/2.0\r\n\r\n"[..]),
        ("HTTP/9.9", b"GET /tasks HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("no version", b"GET /tasks\r\n\r\n"),
        ("garbage line", b"GARBAGE\r\n\r\n"),
        (
            "a control byte in the method",
            b"G\x01T /tasks HTTP/1.1\r\n\r\n",
        ),
        (
            "a TLS client hello",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
        ),
        ("the HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        (
            "OPTIONS *",
            b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        (
            "CONNECT",
            b"CONNECT x:1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        (
            "a header name with a space",
            b"GET /tasks HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ),
        (
            "a NUL in a header",
            b"GET /tasks HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        ),
        ("a bare LF line", b"GET /tasks HTTP/1.1\nHost: x\n\n"),
        (
            "obsolete line folding",
            b"GET /tasks HTTP/1.1\r\nX: a\r\n b\r\nConnection: close\r\n\r\n",
        ),
        ("only line breaks", b"\r\n\r\n\r\n"),
    ] {
        plain(
            label,
            bytes,
            Expect::StatusOrClose(&[200, 400, 404, 405, 431, 505]),
        );
    }
    let mut many = b"GET /tasks HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..300 {
        many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    plain("300 headers", &many, Expect::StatusOrClose(&[431]));
    let mut long = b"GET /tasks HTTP/1.1\r\nHost: x\r\nX-Long: ".to_vec();
    long.extend_from_slice(&vec![b'a'; 1 << 20]);
    long.extend_from_slice(b"\r\n\r\n");
    plain("a 1 MiB header", &long, Expect::StatusOrClose(&[431]));
    plain(
        "a bad bearer token without auth configured",
        &request_with(
            "GET",
            "/tasks/no-such",
            &["Authorization: Bearer \u{1}"],
            None,
        ),
        Expect::StatusOrClose(&[400, 404]),
    );
    cases
}

/// Names that are fine but odd: created, read back under the same name,
/// listed, deleted; the round trip leaves the session as it was.
fn odd_names(full: bool, rng: &mut Rng) -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = [
        (".", "."),
        ("..", ".."),
        ("...", "%2E%2E%2E"),
        ("a/b", "a%2Fb"),
        ("/", "%2F"),
        ("a\\b", "a%5Cb"),
        ("say \"hi\"", "say%20%22hi%22"),
        (
            "load: a & b | (c) ~d",
            "load%3A%20a%20%26%20b%20%7C%20(c)%20~d",
        ),
        ("日本語 ✓", "%E6%97%A5%E6%9C%AC%E8%AA%9E%20%E2%9C%93"),
        ("🚀", "%F0%9F%9A%80"),
        ("?#[]@!$&()*+,;=", "%3F%23%5B%5D%40!$&()*+,;="),
        ("100%", "100%25"),
    ]
    .into_iter()
    .map(|(n, p)| (n.to_owned(), p.to_owned()))
    .collect();
    let longest = "é".repeat(128);
    names.push((longest.clone(), percent_encode(&longest)));
    if full {
        // Random names from awkward characters, percent-encoded.
        let pool: Vec<char> = "aZ09 ./\\\"&|()~%?#é日🚀-_:;,=+*!@$^`{}[]<>"
            .chars()
            .collect();
        for _ in 0..200 {
            let len = 1 + rng.below(20);
            let mut name: String = (0..len).filter_map(|_| rng.pick(&pool).copied()).collect();
            name = name.trim().to_owned();
            if name.is_empty() || names.iter().any(|(n, _)| *n == name) {
                continue;
            }
            let path = percent_encode(&name);
            names.push((name, path));
        }
    }
    names
}

/// Percent-encodes every byte of `text` but unreserved ASCII.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Creates, reads, lists and deletes a task with each odd name.
fn round_trip_names(server: &Server, names: &[(String, String)]) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, path) in names {
        let target = format!("/tasks/{path}");
        let body = json!({"command": "true", "start_cond": "false"});
        let (status, created) = server.http("POST", &target, Some(&body));
        if status != 200 || created["name"] != json!(name) {
            failures.push(format!("POST {target}: {status} {created}"));
            continue;
        }
        let (status, read) = server.http("GET", &format!("/task/{path}"), None);
        if status != 200 || read["name"] != json!(name) {
            failures.push(format!("GET /task/{path}: {status} {read}"));
        }
        let (_, listed) = server.http("GET", "/tasks", None);
        let found = listed
            .as_array()
            .is_some_and(|tasks| tasks.iter().any(|t| t["name"] == json!(name)));
        if !found {
            failures.push(format!("{name:?} is not listed"));
        }
        let (status, deleted) = server.http("DELETE", &target, None);
        if status != 200 || deleted["name"] != json!(name) {
            failures.push(format!("DELETE {target}: {status} {deleted}"));
        }
        let (status, _) = server.http("GET", &target, None);
        if status != 404 {
            failures.push(format!("GET {target} after DELETE: {status}"));
        }
    }
    failures
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

/// Reads one response on `stream`, waiting at most `timeout` for the server
/// to answer and close; `None` when it closed without answering.
fn answer(stream: &mut TcpStream, timeout: Duration) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let (bytes, _) = raw::read_until_close(stream, started + timeout);
    let (responses, _) = raw::split_responses(&bytes, &[]);
    (responses.first().map(|r| r.status), started.elapsed())
}

#[test]
fn slow_clients_are_cut_off_by_the_header_and_body_timeouts() {
    // One connection slot: a client holding it blocks everyone else, so each
    // check below would hang without the timeout it is about.
    let (server, _dir) = start(&config("max_connections = 1"));
    let before = snapshot(&server);
    let limit = Duration::from_secs(10);
    let connect = || TcpStream::connect(("127.0.0.1", server.port)).expect("connect");

    // Headers that never end: closed without an answer after header_timeout.
    let mut slow = connect();
    slow.write_all(b"GET /tasks HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("send");
    let (status, waited) = answer(&mut slow, limit);
    assert_eq!(status, None);
    assert!(
        waited >= Duration::from_millis(900) && waited < limit,
        "{waited:?}"
    );

    // A connection that sends nothing at all.
    let mut silent = connect();
    let (status, waited) = answer(&mut silent, limit);
    assert_eq!(status, None);
    assert!(waited < limit, "{waited:?}");

    // Headers sent a byte at a time, never finished.
    let mut trickle = connect();
    let started = Instant::now();
    let mut cut_off = false;
    for byte in b"GET /tasks HTTP/1.1\r\nHost: x\r\nX-Trickle: "
        .iter()
        .cycle()
    {
        if trickle.write_all(&[*byte]).is_err() {
            cut_off = true;
            break;
        }
        if started.elapsed() > limit {
            break;
        }
        // A slow client's pace, not a wait for the server.
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        cut_off,
        "a trickling client was not cut off within {limit:?}"
    );

    // A body that never arrives, whole or chunked: 408 after body_timeout.
    for request in [
        &b"POST /tasks/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"command\""[..],
        b"PATCH /parameters HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n",
    ] {
        let mut stalled = connect();
        stalled.write_all(request).expect("send");
        let (status, waited) = answer(&mut stalled, limit);
        assert_eq!(status, Some(408), "{}", String::from_utf8_lossy(request));
        assert!(waited < limit, "{waited:?}");
    }

    assert_eq!(snapshot(&server), before);
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_client_that_stops_reading_is_cut_off_by_the_write_timeout() {
    let (server, _dir) = start(&config("max_connections = 1\nbody_limit = 16777216"));
    let limit = Duration::from_secs(10);
    let big = json!({"big": "x".repeat(8 << 20)});
    let (status, _) = server.http("PATCH", "/parameters", Some(&big));
    assert_eq!(status, 200);
    let (status, _) = server.http("GET", "/tasks", None);
    assert_eq!(status, 200);

    // Asks for an 8 MB response (far more than the socket buffers hold) and
    // never reads it: the connection stays busy, so with the one slot taken a
    // normal request is served only once the server gives up on it.
    let mut stalled = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stalled
        .write_all(b"GET /parameters HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let started = Instant::now();
    let served = engine_tests::try_http(server.port, "GET", "/tasks", None, limit * 3);
    assert_eq!(
        served.as_ref().map(|(s, _)| *s).ok(),
        Some(200),
        "{served:?}"
    );
    assert!(started.elapsed() < limit * 2, "{:?}", started.elapsed());
    let (bytes, closed) = raw::read_until_close(&mut stalled, Instant::now() + limit);
    assert!(closed, "the stalled connection is still open");
    assert!(bytes.len() < 8 << 20, "all {} bytes arrived", bytes.len());
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Opens `count` idle connections (connected, nothing sent), scaled down to
/// what the open-file limit allows; returns them and the count asked for.
fn idle_connections(port: u16, count: usize) -> Vec<TcpStream> {
    let allowed = open_file_limit().map_or(count, |limit| {
        // Both ends of each connection are in processes with this limit
        // (the engine inherits it); keep room for everything else.
        usize::try_from(limit.saturating_sub(256) / 2).unwrap_or(count)
    });
    let count = count.min(allowed);
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => streams.push(stream),
            Err(error) => {
                report(&format!(
                    "stopped opening idle connections at {}: {error}",
                    streams.len()
                ));
                break;
            }
        }
    }
    streams
}

/// The soft limit on open files of this process (Linux), if it can be read.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[test]
fn idle_connections_do_not_lock_out_normal_requests() {
    let full = full();
    // Idle connections are cut off only at the header timeout of 30 s here, so
    // only the cap's making room can let normal requests through quickly.
    let (cap, idle) = if full { (1024, 2000) } else { (32, 300) };
    let extra = format!("max_connections = {cap}");
    let config = config(&extra).replace(
        "header_timeout = \"1 second\"",
        "header_timeout = \"30 seconds\"",
    );
    let (server, _dir) = start(&config);
    let before = snapshot(&server);
    let started = Instant::now();
    let streams = idle_connections(server.port, idle);
    let opened = started.elapsed();

    // Normal requests, from a few threads at once, are all served promptly.
    let port = server.port;
    let requests: Vec<usize> = (0..if full { 200 } else { 40 }).collect();
    let latencies = par_map(&requests, 4, |i| {
        let path = if i % 2 == 0 {
            "/tasks"
        } else {
            "/logs?action=run"
        };
        let sent = Instant::now();
        let outcome = engine_tests::try_http(port, "GET", path, None, Duration::from_secs(25));
        (outcome.map(|(status, _)| status), sent.elapsed())
    });
    let failed: Vec<_> = latencies
        .iter()
        .filter(|(outcome, _)| outcome.as_ref().ok() != Some(&200))
        .collect();
    let mut times: Vec<Duration> = latencies.iter().map(|(_, t)| *t).collect();
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let slowest = times.last().copied().unwrap_or_default();
    report(&format!(
        "{} idle connections (cap {cap}) opened in {opened:.1?}; {} normal requests: {} failed, \
         median {median:.1?}, slowest {slowest:.1?}",
        streams.len(),
        requests.len(),
        failed.len()
    ));
    assert!(failed.is_empty(), "{failed:?}");
    // Without making room, they would wait for the 30 s header timeout.
    assert!(
        slowest < Duration::from_secs(15),
        "slowest normal request {slowest:?}"
    );
    drop(streams);
    assert_eq!(snapshot(&server), before);
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
