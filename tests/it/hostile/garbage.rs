//! The random part of the full battery: requests built from valid ones and
//! mangled by a seeded generator (flipped, inserted, deleted and repeated
//! bytes, truncation, odd methods, lying lengths), plus pure noise, sent from
//! 48 threads at once (most of their time is spent waiting for
//! the server's 1-second timeouts on incomplete requests). Each answer must be sane (no 5xx, JSON bodies) or
//! a closed connection, and the server must keep serving.
//!
//! The session must not change, so a request that could change it if it came
//! through whole is never sent: every `POST`, `PATCH` or `DELETE` request line
//! must address a task whose name holds a single quote, which no task name may
//! hold (a `POST` is a 400, a `PATCH` or `DELETE` a 404).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use engine_tests::{Rng, par_map, try_http};

use super::raw::{SendOptions, exchange};
use super::sane;

/// The figures of a random run.
#[derive(Debug, Default)]
pub(super) struct Figures {
    /// Requests sent.
    pub(super) sent: usize,
    /// Generated requests not sent because they could change the session.
    pub(super) skipped: usize,
    /// How often each first status (or `closed`) came back.
    pub(super) statuses: BTreeMap<String, usize>,
    /// What went wrong, one line each.
    pub(super) failures: Vec<String>,
    /// The time the run took.
    pub(super) elapsed: Duration,
    /// The seed.
    pub(super) seed: u64,
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} random requests (seed {}, {} generated ones skipped as possible changes) in {:.1?}: \
             statuses {:?}; {} failures",
            self.sent,
            self.seed,
            self.skipped,
            self.elapsed,
            self.statuses,
            self.failures.len()
        )
    }
}

/// Sends `count` random requests to 127.0.0.1:`port` from 48 threads, each
/// followed by a `GET /tasks` that must succeed.
pub(super) fn run(port: u16, count: usize, seed: u64) -> Figures {
    let started = Instant::now();
    let indices: Vec<u64> = (0..u64::try_from(count).unwrap_or(u64::MAX)).collect();
    let skipped = Mutex::new(0usize);
    let outcomes = par_map(&indices, 48, |i| {
        let mut rng = Rng::new(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let request = loop {
            let candidate = generate(&mut rng);
            if !may_change_state(&candidate) {
                break candidate;
            }
            if let Ok(mut skipped) = skipped.lock() {
                *skipped += 1;
            }
        };
        let send = SendOptions {
            timeout: Duration::from_secs(10),
            heads: &[],
        };
        let reply = exchange(port, &request, send);
        let mut problems = Vec::new();
        let head_request = request.starts_with(b"HEAD ");
        let outcome = match reply.first() {
            Some(first) => first.status.to_string(),
            None if reply.closed => "closed".to_owned(),
            None => {
                problems.push("neither an answer nor a close within 10 s".to_owned());
                "no answer".to_owned()
            }
        };
        if !head_request && let Err(problem) = sane(&reply) {
            problems.push(problem);
        }
        if reply
            .first()
            .is_some_and(|r| (200..300).contains(&r.status))
            && changes_if_accepted(&request)
        {
            problems.push("a change was accepted".to_owned());
        }
        match try_http(port, "GET", "/tasks", None, Duration::from_secs(30)) {
            Ok((200, _)) => {}
            other => problems.push(format!("GET /tasks afterwards: {other:?}")),
        }
        let failures: Vec<String> = problems
            .into_iter()
            .map(|p| format!("random case {i} {:?}: {p}", shown(&request)))
            .collect();
        (outcome, failures)
    });
    let mut figures = Figures {
        sent: outcomes.len(),
        skipped: skipped.into_inner().unwrap_or(0),
        seed,
        ..Figures::default()
    };
    for (outcome, failures) in outcomes {
        *figures.statuses.entry(outcome).or_insert(0) += 1;
        figures.failures.extend(failures);
    }
    figures.elapsed = started.elapsed();
    figures
}

/// At most 200 bytes of `request`, escaped.
fn shown(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(request.get(..200).unwrap_or(request)).into_owned();
    if request.len() > 200 {
        format!("{text}...({} bytes)", request.len())
    } else {
        text
    }
}

/// Targets that only read.
const READS: &[&str] = &[
    "/tasks",
    "/tasks?name$regex=ex.*&priority$min=0",
    "/tasks?disabled=false&name$not=report",
    "/tasks/extract",
    "/task/report",
    "/logs",
    "/logs?action=run&timestamp$min=2021-01-01",
    "/logs?task_name=extract&created$max=99999999999",
    "/dependencies?parent=extract",
    "/session",
    "/parameters",
    "/configs",
    "/config",
    "/returns",
    "/openapi.json",
];

/// Task fields and other keys for random bodies.
const KEYS: &[&str] = &[
    "command",
    "code",
    "func",
    "class",
    "start_cond",
    "end_cond",
    "execution",
    "priority",
    "disabled",
    "force_run",
    "timeout",
    "parameters",
    "env",
    "cwd",
    "name",
    "status",
    "$return",
    "",
    "x",
];

/// Bytes and snippets that break things when dropped in anywhere.
const NASTY: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b"\0",
    b"%",
    b"%ff",
    b"%2F",
    b"%27",
    b"'",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b" ",
    b"\t",
    b"$",
    b"$regex",
    b"$min",
    b"&",
    b"=",
    b"?",
    b"/",
    b"..",
    b"\xc3\xa9",
    b"\xf0\x9f\x9a\x80",
    b"\xff",
    b"\xed\xa0\x80",
    b"Content-Length: 5\r\n",
    b"Content-Length: 99999999\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: keep-alive\r\n",
    b"Expect: 100-continue\r\n",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-0",
];

/// Methods, known and not.
const METHODS: &[&str] = &[
    "GET", "HEAD", "OPTIONS", "POST", "PATCH", "DELETE", "PUT", "BREW", "get", "G ET", "",
];

/// One random request.
fn generate(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(3) {
        let len = rng.below(300);
        return (0..len).map(|_| byte(rng)).collect();
    }
    let mut request = template(rng);
    for _ in 0..=rng.below(3) {
        mutate(rng, &mut request);
    }
    request
}

/// A random byte.
fn byte(rng: &mut Rng) -> u8 {
    u8::try_from(rng.below(256)).unwrap_or(0)
}

/// A well-formed request to start from.
fn template(rng: &mut Rng) -> Vec<u8> {
    let quoted = format!("/tasks/h'{}", rng.below(1000));
    let (method, target, body) = match rng.below(10) {
        0..=3 => (
            "GET",
            (*rng.pick(READS).unwrap_or(&"/tasks")).to_owned(),
            None,
        ),
        4 => (
            "HEAD",
            (*rng.pick(READS).unwrap_or(&"/tasks")).to_owned(),
            None,
        ),
        5 => (
            "OPTIONS",
            (*rng.pick(READS).unwrap_or(&"/tasks")).to_owned(),
            None,
        ),
        6 | 7 => ("POST", quoted, Some(json_object(rng, 0))),
        8 => ("PATCH", quoted, Some(json_object(rng, 0))),
        _ => ("DELETE", quoted, None),
    };
    let mut bytes =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
            .into_bytes();
    match body {
        Some(body) if rng.chance(20) => {
            bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let size = 1 + usize::try_from(rng.below(16)).unwrap_or(0);
            bytes.extend_from_slice(&super::raw::chunked(body.as_bytes(), size, true));
        }
        Some(body) => {
            bytes.extend_from_slice(
                format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes(),
            );
        }
        None => bytes.extend_from_slice(b"\r\n"),
    }
    bytes
}

/// A random JSON object (as text) of task-like fields, nested up to 3 levels.
fn json_object(rng: &mut Rng, depth: u64) -> String {
    let fields: Vec<String> = (0..rng.below(5))
        .map(|_| {
            let key = rng.pick(KEYS).copied().unwrap_or("x");
            format!("\"{key}\": {}", json_value(rng, depth + 1))
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// A random JSON value (as text).
fn json_value(rng: &mut Rng, depth: u64) -> String {
    let pick = if depth >= 3 {
        rng.below(6)
    } else {
        rng.below(8)
    };
    match pick {
        0 => "null".to_owned(),
        1 => if rng.chance(50) { "true" } else { "false" }.to_owned(),
        2 => (rng.next_u64() >> rng.below(64)).to_string(),
        3 => format!("-{}.{}e{}", rng.below(100), rng.below(100), rng.below(400)),
        4 => format!(
            "\"{}\"",
            rng.pick(&[
                "true",
                "false",
                "daily",
                "every 10 seconds",
                "after task 'extract'",
                "x'y",
                "10 minutes",
                "process",
                "CommandTask",
                ""
            ])
            .copied()
            .unwrap_or("")
        ),
        5 => "\"\\u00e9\\n\\\"\"".to_owned(),
        6 => format!(
            "[{}]",
            (0..rng.below(4))
                .map(|_| json_value(rng, depth + 1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => json_object(rng, depth),
    }
}

/// One random change to `request`.
fn mutate(rng: &mut Rng, request: &mut Vec<u8>) {
    let len = u64::try_from(request.len()).unwrap_or(0);
    let at = usize::try_from(rng.below(len + 1)).unwrap_or(0);
    match rng.below(8) {
        0 => {
            let value = byte(rng);
            if let Some(b) = request.get_mut(at) {
                *b = value;
            }
        }
        1 | 2 => {
            let nasty = rng.pick(NASTY).copied().unwrap_or(b"");
            let at = at.min(request.len());
            request.splice(at..at, nasty.iter().copied());
        }
        3 => {
            let end = (at + usize::try_from(rng.below(16)).unwrap_or(0)).min(request.len());
            if at < end {
                request.drain(at..end);
            }
        }
        4 => {
            let end = (at + usize::try_from(rng.below(32)).unwrap_or(0)).min(request.len());
            if let Some(copy) = request.get(at..end).map(<[u8]>::to_vec) {
                request.splice(at..at, copy);
            }
        }
        5 => request.truncate(at),
        6 => {
            let method = rng.pick(METHODS).copied().unwrap_or("GET");
            if let Some(space) = request.iter().position(|&b| b == b' ') {
                request.splice(..space, method.bytes());
            }
        }
        _ => {
            let value = format!("Content-Length: {}", rng.below(1 << 21));
            let name = b"Content-Length: ";
            if let Some(start) = request.windows(name.len()).position(|w| w == name) {
                let end = request
                    .get(start..)
                    .and_then(|rest| rest.windows(2).position(|w| w == b"\r\n"))
                    .map_or(request.len(), |end| start + end);
                request.splice(start..end, value.bytes());
            }
        }
    }
}

/// Whether some line of `request` is a `POST`, `PATCH` or `DELETE` request
/// line that does not address a task whose name holds a single quote: such a
/// request could change the session if it came through whole. Every line is
/// checked, not only the first, since bytes after a complete request are read
/// as the next one.
fn may_change_state(request: &[u8]) -> bool {
    request.split(|&b| b == b'\n').any(|line| {
        let line = line.strip_prefix(b"\r").unwrap_or(line);
        let mut words = line.split(|&b| b == b' ');
        let method = words.next().unwrap_or_default();
        if !matches!(method, b"POST" | b"PATCH" | b"DELETE" | b"PUT") {
            return false;
        }
        let target = words.next().unwrap_or_default();
        !names_a_quoted_task(target)
    })
}

/// Whether a `POST`, `PATCH` or `DELETE` with this raw request line would
/// change the session if accepted (for the check that none is).
fn changes_if_accepted(request: &[u8]) -> bool {
    let method = request.split(|&b| b == b' ').next().unwrap_or_default();
    matches!(method, b"POST" | b"PATCH" | b"DELETE")
}

/// Whether `target` (origin or absolute form) is `/tasks/NAME` or
/// `/task/NAME` with a single quote in NAME once percent-decoded.
fn names_a_quoted_task(target: &[u8]) -> bool {
    let path = match target.windows(3).position(|w| w == b"://") {
        Some(scheme) => {
            let after = target.get(scheme + 3..).unwrap_or_default();
            let slash = after.iter().position(|&b| b == b'/').unwrap_or(after.len());
            after.get(slash..).unwrap_or_default()
        }
        None => target,
    };
    let path = path.split(|&b| b == b'?').next().unwrap_or_default();
    let Some(name) = path
        .strip_prefix(b"/tasks/")
        .or_else(|| path.strip_prefix(b"/task/"))
    else {
        return false;
    };
    !name.contains(&b'/') && decode(name).contains(&b'\'')
}

/// Percent-decodes leniently (a bad escape stays as it is).
fn decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        let hex = |j: usize| text.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(0));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}
