//! Hostile request bodies: wrong types and values for every task field (in a
//! POST and a PATCH), unknown and read-only fields, malformed, truncated and
//! deeply nested JSON, and bodies too large, lying about their length, never
//! ending or badly chunked.

use super::raw::{chunked, request};
use super::{Case, Expect, error_case};

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
pub(super) fn field_cases() -> Vec<Case> {
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
pub(super) fn json_cases(full: bool) -> Vec<Case> {
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
pub(super) fn body_cases() -> Vec<Case> {
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
