//! Hostile request targets: bad percent-encodings, invalid UTF-8, very long
//! URLs and names, unknown routes and bad queries; and odd names that are
//! valid, round-tripped through create, read, list and delete.

use engine_tests::{Rng, Server};
use serde_json::json;

use super::raw::request;
use super::{Case, Expect, error_case, short};

/// Paths and names: bad percent-encoding, invalid UTF-8, very long URLs and
/// names, quotes, control characters, unknown routes.
pub(super) fn path_cases() -> Vec<Case> {
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
pub(super) fn query_cases() -> Vec<Case> {
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

/// Names that are fine but odd: created, read back under the same name,
/// listed, deleted; the round trip leaves the session as it was.
pub(super) fn odd_names(full: bool, rng: &mut Rng) -> Vec<(String, String)> {
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
pub(super) fn round_trip_names(server: &Server, names: &[(String, String)]) -> Vec<String> {
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
