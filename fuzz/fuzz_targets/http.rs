#![no_main]
//! Fuzz target `http`: arbitrary bytes as HTTP requests through the API's
//! router and handlers (`ApiService::handle`), against one session per process
//! that keeps the changes the inputs make.
//!
//! An even first byte reads the rest as raw HTTP/1.1 (request line, headers,
//! blank line, body) with a tolerant parser; an odd one splits it: the first
//! byte picks the method from a table (unusual ones included), then come the
//! path up to `?` or a newline, the query up to a newline, and the body. A
//! request hyper's `Request::builder` refuses (bad method, URI or header bytes)
//! is skipped: no client can send it.
//!
//! Properties: nothing panics; no status is 5xx (the session is in memory, so
//! a 500 is a bug); every response says `Content-Type: application/json`; a
//! body that is not empty parses as JSON, and is empty for `204`; an error
//! body is an object with a string `error`; a 405 has an `Allow` header.
//!
//! With `HTTP_FUZZ_TRACE` set, each request and its answer are printed.

use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use engine_api::{ApiService, MemoryStore};
use engine_core::log::{Action, LogRecord, MemoryLogStore};
use engine_core::{ManualClock, Session};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The largest body the service reads: small, so the 413 path is reachable.
const BODY_LIMIT: usize = 2048;

/// Past this many tasks (or parameters), those the inputs created are deleted.
const MAX_TASKS: usize = 200;

/// After this many changes the service starts over with an empty request
/// store (the session stays), so the store does not grow without bound.
const CHANGES_PER_STORE: u64 = 20_000;

/// The tasks created at start-up; never deleted by the growth cap.
const FIXED_TASKS: [&str; 5] = ["command", "code", "daily", "extract", "my-task"];

/// The methods of the structured form, picked by the first byte.
const METHODS: [&str; 16] = [
    "GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS", "PUT", "TRACE", "CONNECT", "PROPFIND",
    "get", "PoSt", "M-SEARCH", "BREW", "GET", "POST",
];

/// What the inputs share: the runtime, the session and the service over it.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    session: Session,
    service: Mutex<(ApiService, u64)>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let start: DateTime<Utc> = DateTime::from_timestamp(1_609_502_400, 0).unwrap_or_default();
    let log = MemoryLogStore::default();
    for (i, task) in ["command", "code", "daily", "extract", "gone"]
        .into_iter()
        .enumerate()
    {
        for (j, action) in Action::ALL.into_iter().enumerate() {
            let minutes = i64::try_from(i * 10 + j).unwrap_or(0);
            let at = start - TimeDelta::minutes(90 - minutes);
            let mut record = LogRecord::new(task, action, at);
            if action != Action::Run {
                record.start = Some(at - TimeDelta::seconds(30));
                record.end = Some(at);
                record.runtime = Some(TimeDelta::seconds(30));
            }
            if action == Action::Fail {
                record.exc_text = Some("exit status 1".to_owned());
            }
            log.append(record);
        }
    }
    let session = Session::new(Arc::new(log), Arc::new(ManualClock::new(start)));
    session.register_sync("extract", |_| Ok(serde_json::json!([1, 2, 3])));
    let service = new_service(&session);
    let setup = [
        (
            "POST",
            "/tasks/command",
            r#"{"command": "echo hi", "start_cond": "every 10 minutes", "timeout": "1 minute"}"#,
        ),
        (
            "POST",
            "/tasks/code",
            r#"{"class": "CodeTask", "code": "print('x')", "start_cond": "after task 'command'"}"#,
        ),
        (
            "POST",
            "/tasks/daily",
            r#"{"command": ["true"], "start_cond": "daily between 10:00 and 12:00", "priority": 3}"#,
        ),
        (
            "POST",
            "/tasks/extract",
            r#"{"func": "extract", "start_cond": "daily", "execution": "main"}"#,
        ),
        (
            "POST",
            "/task/my-task",
            r#"{"code": "print(\"Hello World\")", "end_cond": "true"}"#,
        ),
        (
            "PATCH",
            "/parameters",
            r#"{"env": "prod", "n": 1, "rows": {"$return": "extract", "default": []}}"#,
        ),
        ("PATCH", "/returns", r#"{"extract": [1, 2, 3]}"#),
    ];
    for (method, path, body) in setup {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .expect("a valid set-up request");
        let status = runtime.block_on(service.handle(request)).status();
        assert_eq!(status, StatusCode::OK, "set-up {method} {path}");
    }
    Fixture {
        runtime,
        session,
        service: Mutex::new((service, 0)),
    }
});

fn new_service(session: &Session) -> ApiService {
    ApiService::new(session.clone())
        .with_store(Arc::new(MemoryStore::default()))
        .with_body_limit(BODY_LIMIT)
}

/// A request read from the input: method, target, headers, body (all bytes).
struct Raw<'a> {
    method: &'a [u8],
    target: Vec<u8>,
    headers: Vec<(&'a [u8], &'a [u8])>,
    body: &'a [u8],
}

/// Splits at the first `byte`: before it, and after it (`None` without one).
fn split_at_byte(data: &[u8], byte: u8) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|b| *b == byte) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_spaces(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// Raw HTTP/1.1, read tolerantly: `METHOD TARGET [VERSION]`, then `name: value`
/// lines up to an empty one (lines without a colon are skipped), then the body.
/// Lines end with `\n` or `\r\n`.
fn parse_raw(data: &[u8]) -> Option<Raw<'_>> {
    let (line, mut rest) = split_at_byte(data, b'\n');
    let line = trim_cr(line);
    let mut words = line.split(|b| *b == b' ').filter(|w| !w.is_empty());
    let method = words.next()?;
    let target = words.next().unwrap_or(b"/").to_vec();
    let mut headers = Vec::new();
    let mut body: &[u8] = &[];
    while let Some(remaining) = rest {
        let (line, next) = split_at_byte(remaining, b'\n');
        let line = trim_cr(line);
        if line.is_empty() {
            body = next.unwrap_or_default();
            break;
        }
        if let (name, Some(value)) = split_at_byte(line, b':') {
            headers.push((trim_spaces(name), trim_spaces(value)));
        }
        rest = next;
    }
    Some(Raw {
        method,
        target,
        headers,
        body,
    })
}

/// The structured form: method from the table by `selector`, then the path up to
/// `?` or a newline (a `/` is put in front when missing), the query up to a
/// newline, and the body.
fn parse_structured(selector: u8, data: &[u8]) -> Raw<'_> {
    let method = METHODS[usize::from(selector >> 1) % METHODS.len()].as_bytes();
    let end = data
        .iter()
        .position(|b| matches!(b, b'?' | b'\n'))
        .unwrap_or(data.len());
    let mut target = Vec::with_capacity(data.len() + 1);
    if data.first() != Some(&b'/') {
        target.push(b'/');
    }
    target.extend_from_slice(&data[..end]);
    let mut body: &[u8] = &[];
    match data.get(end) {
        Some(b'?') => {
            let (query, rest) = split_at_byte(&data[end + 1..], b'\n');
            target.push(b'?');
            target.extend_from_slice(query);
            body = rest.unwrap_or_default();
        }
        Some(_) => body = &data[end + 1..],
        None => {}
    }
    Raw {
        method,
        target,
        headers: Vec::new(),
        body,
    }
}

/// The request hyper builds from `raw`, if it accepts the bytes.
fn build(raw: &Raw<'_>) -> Option<Request<Full<Bytes>>> {
    let method = Method::from_bytes(raw.method).ok()?;
    let mut builder = Request::builder().method(method).uri(raw.target.as_slice());
    for (name, value) in &raw.headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(Bytes::copy_from_slice(raw.body)))
        .ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let raw = if selector % 2 == 0 {
        match parse_raw(rest) {
            Some(raw) => raw,
            None => return,
        }
    } else {
        parse_structured(selector, rest)
    };
    let Some(request) = build(&raw) else {
        return;
    };
    let fixture = &*FIXTURE;
    let method = request.method().clone();
    let shown = format!("{} {}", request.method(), request.uri());
    let service = {
        let mut guard = fixture
            .service
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if matches!(method, Method::POST | Method::PATCH | Method::DELETE) {
            guard.1 += 1;
            if guard.1 > CHANGES_PER_STORE {
                *guard = (new_service(&fixture.session), 0);
            }
        }
        guard.0.clone()
    };
    let (status, headers, body) = fixture.runtime.block_on(async {
        let response = service.handle(request).await;
        let (parts, body) = response.into_parts();
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        };
        (parts.status, parts.headers, bytes)
    });
    if std::env::var_os("HTTP_FUZZ_TRACE").is_some() {
        eprintln!("{shown} -> {status} {}", String::from_utf8_lossy(&body));
    }
    check(&shown, status, &headers, &body);
    cap_growth(fixture);
});

/// The properties of one response.
fn check(shown: &str, status: StatusCode, headers: &hyper::HeaderMap, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    assert!(
        !status.is_server_error(),
        "{shown} answered {status}: {text}"
    );
    assert_eq!(
        headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{shown} answered {status} without the JSON content type"
    );
    if status == StatusCode::NO_CONTENT {
        assert!(body.is_empty(), "{shown}: a 204 with a body: {text}");
        return;
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        assert!(headers.contains_key(ALLOW), "{shown}: a 405 without Allow");
    }
    if body.is_empty() {
        return;
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            panic!("{shown} answered {status} with a body that is not JSON ({error}): {text}")
        }
    };
    if status.is_client_error() {
        assert!(
            value.get("error").is_some_and(Value::is_string),
            "{shown} answered {status} without a string 'error': {text}"
        );
    } else {
        assert!(
            status.is_success(),
            "{shown} answered {status}, neither a success nor an error"
        );
    }
}

/// Deletes the tasks the inputs created once there are more than [`MAX_TASKS`],
/// and the parameters they set once there are more than [`MAX_TASKS`] of those.
fn cap_growth(fixture: &Fixture) {
    let params = fixture.session.parameters();
    if params.len() > MAX_TASKS {
        let extra: Vec<String> = params
            .keys()
            .filter(|k| !["env", "n", "rows"].contains(&k.as_str()))
            .cloned()
            .collect();
        let _ = fixture
            .session
            .patch_parameters(serde_json::Map::new(), &extra);
    }
    let names = fixture.session.task_names();
    if names.len() <= MAX_TASKS {
        return;
    }
    fixture.runtime.block_on(async {
        for name in names.iter().filter(|n| !FIXED_TASKS.contains(&n.as_str())) {
            let _ = fixture.session.delete_task(name).await;
        }
    });
}
