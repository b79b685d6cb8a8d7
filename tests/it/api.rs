//! The HTTP API end to end: a real `engine_api::serve` on 127.0.0.1:0 over a
//! session with a running scheduler, driven over real HTTP through every route
//! and method, the query language, every error status, both authenticators and
//! the seed guide's examples; and restarts on durable stores (`restart`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use engine_api::{ApiService, Basic, BearerTokens, Scopes};
use engine_core::log::{Action, LogRecord, LogStore, MemoryLogStore};
use engine_core::{Session, SystemClock};
use serde_json::{Map, Value, json};

use self::client::{Reply, Running, holds, raw, raw_status, send};

mod client;
mod restart;

/// How long a forced task may take to be logged `success`.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// 2021-01-01 at `hour:minute` UTC.
fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 1, 1, hour, minute, 0)
        .single()
        .expect("a valid time")
}

/// The spec's log: code-task ran 12:00-12:01 and succeeded, another-task ran
/// 13:00-13:01 and failed.
fn spec_records() -> Vec<LogRecord> {
    let mut records = Vec::new();
    for (task, hour, action) in [
        ("code-task", 12, Action::Success),
        ("another-task", 13, Action::Fail),
    ] {
        let mut run = LogRecord::new(task, Action::Run, at(hour, 0));
        run.start = Some(at(hour, 0));
        let mut end = LogRecord::new(task, action, at(hour, 1));
        end.start = Some(at(hour, 0));
        end.end = Some(at(hour, 1));
        end.runtime = Some(TimeDelta::minutes(1));
        if action == Action::Fail {
            end.exc_text = Some("exit status 1".to_owned());
        }
        records.extend([run, end]);
    }
    records
}

/// A session on `log` with the system clock, in UTC, with the functions the
/// tests post tasks for: `noop`, `produce` (returns 42) and `consume`
/// (returns its parameter `x`).
pub(crate) fn session_on(log: Arc<dyn LogStore>) -> Session {
    let session = Session::new(log, Arc::new(SystemClock));
    session.register_sync("noop", |_ctx| Ok(Value::Null));
    session.register_sync("produce", |_ctx| Ok(json!(42)));
    session.register_sync("consume", |ctx| {
        Ok(ctx.params.get("x").cloned().unwrap_or_default())
    });
    let utc = Map::from_iter([("timezone".to_owned(), json!("UTC"))]);
    session.patch_config(&utc).expect("UTC is a time zone");
    session
}

/// What the API shows of the session, to check that a refused request changed
/// nothing.
async fn snapshot(running: &Running, headers: &[(&str, &str)]) -> Vec<Value> {
    let mut views = Vec::new();
    for target in ["/tasks", "/parameters", "/configs", "/returns"] {
        let reply = send(running.addr(), "GET", target, headers, "").await;
        assert_eq!(reply.status, 200, "{target}: {}", reply.text);
        views.push(reply.json);
    }
    views
}

/// One request and what its reply must hold.
struct Case {
    method: &'static str,
    target: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
    status: u16,
    /// What the JSON body holds (see [`holds`]); `Null` checks nothing.
    json: Value,
    /// A header the reply must have, with its value.
    header: Option<(&'static str, &'static str)>,
}

fn case(method: &'static str, target: &'static str, body: &'static str, status: u16) -> Case {
    Case {
        method,
        target,
        headers: Vec::new(),
        body,
        status,
        json: Value::Null,
        header: None,
    }
}

impl Case {
    fn json(self, json: Value) -> Case {
        Case { json, ..self }
    }

    fn with(mut self, name: &'static str, value: &'static str) -> Case {
        self.headers.push((name, value));
        self
    }

    fn header(self, name: &'static str, value: &'static str) -> Case {
        Case {
            header: Some((name, value)),
            ..self
        }
    }
}

/// Sends every case in order and checks its reply; a 4xx must leave what the
/// API shows unchanged (read with `admin` headers).
async fn check(running: &Running, admin: &[(&str, &str)], cases: Vec<Case>) {
    for case in cases {
        let what = format!("{} {} {}", case.method, case.target, case.body);
        let before = if case.status >= 400 {
            Some(snapshot(running, admin).await)
        } else {
            None
        };
        let reply = send(
            running.addr(),
            case.method,
            case.target,
            &case.headers,
            case.body,
        )
        .await;
        assert_eq!(reply.status, case.status, "{what}: {}", reply.text);
        assert!(
            case.json.is_null() || holds(&reply.json, &case.json),
            "{what}: got {}, expected it to hold {}",
            reply.text,
            case.json
        );
        if let Some((name, value)) = case.header {
            assert_eq!(reply.header(name), value, "{what}: header {name}");
        }
        if case.status >= 400 && case.method != "HEAD" {
            assert!(
                reply.json["error"].is_string(),
                "{what}: an error is JSON: {}",
                reply.text
            );
        }
        if reply.status < 300 && case.method != "HEAD" && reply.status != 204 {
            assert_eq!(reply.header("content-type"), "application/json", "{what}");
        }
        if let Some(before) = before {
            assert_eq!(
                snapshot(running, admin).await,
                before,
                "{what}: a refused request changed the session"
            );
        }
    }
}

/// Polls `target` until `done` holds for its JSON, or fails after `deadline`.
async fn wait_for(
    running: &Running,
    target: &str,
    deadline: Duration,
    done: impl Fn(&Value) -> bool,
) -> Reply {
    let start = Instant::now();
    loop {
        let reply = send(running.addr(), "GET", target, &[], "").await;
        if done(&reply.json) {
            return reply;
        }
        assert!(
            start.elapsed() < deadline,
            "{target} did not get there within {deadline:?}: {}",
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The names of a list of tasks, or `task_name action` of log records.
fn names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| match (item.get("name"), item.get("task_name")) {
                    (Some(name), _) => name.as_str().unwrap_or_default().to_owned(),
                    (None, Some(task)) => format!(
                        "{} {}",
                        task.as_str().unwrap_or_default(),
                        item["action"].as_str().unwrap_or_default()
                    ),
                    (None, None) => item.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_method_query_and_error_over_http() {
    let log = Arc::new(MemoryLogStore::default());
    log.extend(spec_records());
    let session = session_on(log);
    let running = Running::start(&session, ApiService::new(session.clone())).await;

    check(&running, &[], vec![
        // The seed guide: `curl http://localhost:5000/tasks`.
        case("GET", "/tasks", "", 200).json(json!([])),
        // The seed guide's POST, verbatim (curl --data sends a form content
        // type): its `start_cond` "another value" is no condition, so 400.
        case("POST", "/tasks/my-new-task",
             r#"{"class": "CodeTask", "start_cond":"another value", "code": "print('Hello World')"}"#, 400)
            .with("content-type", "application/x-www-form-urlencoded")
            .json(json!({"field": "start_cond"})),
        // Without the bad condition and without any content type, it creates the task.
        case("POST", "/tasks/my-task", r#"{"class": "CodeTask", "code": "print('Hello World')"}"#, 200)
            .json(json!({"name": "my-task", "class": "CodeTask", "code": "print('Hello World')",
                         "start_cond": "false", "execution": "process", "force_run": false, "status": null})),
        // The alias `/task/{name}`; the state comes from the log.
        case("POST", "/task/code-task", r#"{"func": "noop", "disabled": true}"#, 200)
            .json(json!({"name": "code-task", "class": "FuncTask", "status": "success",
                         "last_run": "2021-01-01 12:00:00", "last_success": "2021-01-01 12:01:00"})),
        case("POST", "/tasks/another-task", r#"{"func": "noop", "disabled": true, "priority": 3}"#, 200)
            .json(json!({"name": "another-task", "status": "fail", "last_fail": "2021-01-01 13:01:00"})),
        case("POST", "/tasks/scraper-1", r#"{"func": "noop", "disabled": true}"#, 200),
        case("POST", "/tasks/scraper-2", r#"{"func": "noop", "disabled": true, "timeout": "10 minutes"}"#, 200)
            .json(json!({"timeout": "0 days 00:10:00"})),
        case("POST", "/tasks/a", r#"{"func": "noop", "disabled": true, "start_cond": "daily"}"#, 200),
        case("POST", "/tasks/b", r#"{"func": "noop", "disabled": true, "start_cond": "after task 'a'"}"#, 200),
        case("POST", "/tasks/c",
             r#"{"func": "noop", "disabled": true, "start_cond": "after task 'a' & after task 'b' failed"}"#, 200)
            .json(json!({"start_cond": "after task 'a' & after task 'b' failed"})),
        case("GET", "/task/code-task", "", 200).json(json!({"name": "code-task", "priority": 0})),
        case("PATCH", "/task/code-task", r#"{"priority": 2}"#, 200).json(json!({"priority": 2})),
        case("GET", "/tasks/code-task", "", 200).json(json!({"priority": 2})),
        // HEAD is GET without a body; OPTIONS answers 204 with Allow.
        case("HEAD", "/tasks", "", 200),
        case("HEAD", "/tasks/nope", "", 404),
        case("OPTIONS", "/tasks/anything", "", 204).header("allow", "GET, HEAD, POST, PATCH, DELETE, OPTIONS"),
        case("OPTIONS", "/logs", "", 204).header("allow", "GET, HEAD, OPTIONS"),
        // 404 and 405.
        case("GET", "/nope", "", 404).json(json!({"error": "no route matches this path"})),
        case("GET", "/tasks/", "", 404),
        case("POST", "/logs", "{}", 405).header("allow", "GET, HEAD, OPTIONS")
            .json(json!({"allowed": ["GET", "HEAD", "OPTIONS"]})),
        case("DELETE", "/tasks", "", 405).header("allow", "GET, HEAD, OPTIONS"),
        case("PUT", "/tasks/a", "{}", 405).header("allow", "GET, HEAD, POST, PATCH, DELETE, OPTIONS"),
        case("PATCH", "/session", "{}", 405),
        // The query language on /tasks.
        case("GET", "/tasks?name$regex=scraper.%2B", "", 200)
            .json(json!([{"name": "scraper-1"}, {"name": "scraper-2"}])),
        // The seed's own example, verbatim: `%2` is no escape, so 400 at the `%`.
        case("GET", "/tasks?name$regex=scraper.%2", "", 400).json(json!({"position": 19})),
        case("GET", "/tasks?priority$min=2&priority$max=3", "", 200)
            .json(json!([{"name": "code-task"}, {"name": "another-task"}])),
        case("GET", "/tasks?name=a&name=b", "", 200).json(json!([{"name": "a"}, {"name": "b"}])),
        case("GET", "/tasks?disabled=false", "", 200).json(json!([{"name": "my-task"}])),
        case("GET", "/tasks?class=FuncTask&name$not=a&priority=0&name$regex=[ab]", "", 200)
            .json(json!([{"name": "b"}])),
        case("GET", "/tasks?last_success$min=2021-01-01&last_success$max=2021-01-01", "", 200)
            .json(json!([{"name": "code-task"}])),
        case("GET", "/tasks?name$between=a", "", 400),
        case("GET", "/tasks?last_run$min=not-a-time", "", 200).json(json!([])),
        // The query language on /logs: the seed's examples verbatim, bare dates, bounds.
        case("GET", "/logs?timestamp$min=2021-01-01&timestamp$max=2021-12-31", "", 200)
            .json(json!([{"task_name": "code-task", "action": "run"}, {"task_name": "code-task", "action": "success"},
                         {"task_name": "another-task", "action": "run"}, {"task_name": "another-task", "action": "fail",
                          "exc_text": "exit status 1", "runtime": "0 days 00:01:00", "created": 1_609_506_060.0}])),
        case("GET", "/logs?action=fail&action=terminate", "", 200)
            .json(json!([{"task_name": "another-task", "action": "fail"}])),
        case("GET", "/logs?timestamp$max=2021-01-01&action=success", "", 200)
            .json(json!([{"task_name": "code-task", "action": "success", "timestamp": "2021-01-01 12:01:00"}])),
        case("GET", "/logs?timestamp$min=2021-01-01%2013:00:30", "", 200)
            .json(json!([{"task_name": "another-task", "action": "fail"}])),
        case("GET", "/logs?timestamp$min=2021-01-01+11:00&timestamp$max=2021-01-01+12:00:30&task_name$regex=code", "", 200)
            .json(json!([{"task_name": "code-task", "action": "run"}])),
        case("GET", "/logs?timestamp$min=2021-01-02", "", 200).json(json!([])),
        case("GET", "/logs?action$not=run&task_name=code-task", "", 200)
            .json(json!([{"action": "success"}])),
        case("GET", "/logs?action$nope=run", "", 400).json(json!({"position": 6})),
        case("GET", "/logs?timestamp$min=yesterday", "", 400).json(json!({"key": "timestamp$min"})),
        // The query language on /dependencies.
        case("GET", "/dependencies?child=c", "", 200)
            .json(json!([{"parent": "a", "child": "c", "relation": "DependSuccess", "type": "All"},
                         {"parent": "b", "child": "c", "relation": "DependFailure", "type": "All"}])),
        case("GET", "/dependencies?parent$regex=a&relation=DependSuccess", "", 200)
            .json(json!([{"child": "b", "type": null}, {"child": "c"}])),
        case("GET", "/dependencies?type$max=x&type$wat=1", "", 400),
        // Parameters, returns, configs (and the alias), session, OpenAPI.
        case("PATCH", "/parameters", r#"{"x": 1, "overridden": "original"}"#, 200)
            .json(json!({"x": 1, "overridden": "original"})),
        case("PATCH", "/parameters", r#"{"overridden": "new"}"#, 200)
            .json(json!({"x": 1, "overridden": "new"})),
        case("GET", "/parameters", "", 200).json(json!({"x": 1, "overridden": "new"})),
        case("PATCH", "/parameters", r#"{"bad": {"$return": 5}}"#, 400),
        case("PATCH", "/returns", r#"{"code-task": "a return value"}"#, 200)
            .json(json!({"code-task": "a return value"})),
        case("GET", "/returns", "", 200).json(json!({"code-task": "a return value"})),
        case("PATCH", "/config", r#"{"task_execution": "thread"}"#, 200).json(json!({"task_execution": "thread"})),
        case("GET", "/config", "", 200).json(json!({"task_execution": "thread", "timezone": "UTC"})),
        case("GET", "/configs", "", 200).json(json!({"task_execution": "thread", "task_pre_exist": "raise"})),
        case("PATCH", "/configs", r#"{"no_such_key": 1}"#, 400),
        case("PATCH", "/configs", r#"{"task_priority": "high"}"#, 400),
        case("GET", "/session", "", 200)
            .json(json!({"tasks": ["my-task", "code-task", "another-task", "scraper-1", "scraper-2", "a", "b", "c"],
                         "returns": {"code-task": "a return value"}, "parameters": {"x": 1, "overridden": "new"},
                         "config": {"timezone": "UTC"}})),
        case("GET", "/openapi.json", "", 200).json(json!({"paths": {"/tasks": {}, "/task/{name}": {}}})),
        // Each error status; none changes anything (checked by `check`).
        case("POST", "/tasks/x", r#"{"func": "noop", "start_cond": "daily between 10:00 and"}"#, 400)
            .json(json!({"field": "start_cond", "position": 14})),
        case("POST", "/tasks/x", r#"{"func": "noop", "#, 400).json(json!({"position": 16})),
        case("POST", "/tasks/x", "[1, 2]", 400),
        case("POST", "/tasks/x", "", 400),
        case("POST", "/tasks/x", r#"{"func": "noop", "wat": 1}"#, 400)
            .json(json!({"error": "unknown field 'wat'", "field": "wat"})),
        case("POST", "/tasks/x", r#"{"func": "missing"}"#, 400),
        case("POST", "/tasks/x", r#"{"func": "noop", "execution": "sometimes"}"#, 400),
        case("PATCH", "/tasks/code-task", r#"{"status": "success"}"#, 400)
            .json(json!({"error": "field 'status' is read-only", "field": "status"})),
        case("PATCH", "/tasks/code-task", r#"{"last_run": "2021-01-01"}"#, 400),
        case("PATCH", "/tasks/code-task", r#"{"priority": 7, "timeout": -1}"#, 400),
        case("PATCH", "/tasks/code-task", r#"{"class": "CodeTask"}"#, 400),
        case("GET", "/tasks/nope", "", 404).json(json!({"error": "no task named 'nope'"})),
        case("GET", "/tasks/my%20task", "", 404).json(json!({"error": "no task named 'my task'"})),
        case("PATCH", "/tasks/nope", r#"{"force_run": true}"#, 404),
        case("DELETE", "/task/nope", "", 404),
        case("POST", "/tasks/code-task", r#"{"func": "noop"}"#, 409),
        case("PATCH", "/tasks/scraper-1", r#"{"name": "scraper-2"}"#, 409),
        // Deletion answers the task as it was, through both paths.
        case("DELETE", "/tasks/scraper-2", "", 200).json(json!({"name": "scraper-2", "disabled": true})),
        case("DELETE", "/task/scraper-1", "", 200).json(json!({"name": "scraper-1"})),
        case("GET", "/tasks?name$regex=scraper", "", 200).json(json!([])),
        // A rename moves the task to the end.
        case("PATCH", "/tasks/a", r#"{"name": "a2", "start_cond": "weekly"}"#, 200)
            .json(json!({"name": "a2", "start_cond": "weekly"})),
        case("GET", "/session", "", 200)
            .json(json!({"tasks": ["my-task", "code-task", "another-task", "b", "c", "a2"]})),
    ])
    .await;

    // Malformed and oversized requests, on raw sockets.
    let addr = running.addr();
    let before = snapshot(&running, &[]).await;
    let reply = raw(
        addr,
        b"GET /tasks HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    )
    .await;
    assert_eq!(raw_status(&reply), 400, "{reply}");
    let reply = raw(
        addr,
        b"BREW /tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(raw_status(&reply), 405, "{reply}");
    let reply = raw(
        addr,
        b"POST /tasks/big HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n{\"func\"",
    )
    .await;
    assert_eq!(raw_status(&reply), 413, "{reply}");
    assert!(reply.contains(r#""error""#), "{reply}");
    let mut chunked =
        b"POST /tasks/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec();
    let chunk = vec![b' '; 600 * 1024];
    for _ in 0..2 {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let reply = raw(addr, &chunked).await;
    assert_eq!(raw_status(&reply), 413, "{reply}");
    let reply = raw(
        addr,
        b"POST /tasks/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\": }",
    )
    .await;
    assert_eq!(raw_status(&reply), 400, "{reply}");
    assert_eq!(
        snapshot(&running, &[]).await,
        before,
        "a refused request changed the session"
    );
    let body = br#"{"func": "noop", "disabled": true}"#;
    let mut request = format!(
        "POST /tasks/raw HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let reply = raw(addr, &request).await;
    assert_eq!(raw_status(&reply), 200, "{reply}");

    // The seed's flow: force the code task, wait for its success in /logs.
    check(
        &running,
        &[],
        vec![
            case("PATCH", "/tasks/my-task", r#"{"force_run": true}"#, 200)
                .json(json!({"force_run": true})),
        ],
    )
    .await;
    let logged = wait_for(&running, "/logs?task_name=my-task", RUN_DEADLINE, |logs| {
        logs.as_array()
            .is_some_and(|records| records.iter().any(|r| r["action"] != "run"))
    })
    .await;
    assert_eq!(
        names(&logged.json),
        ["my-task run", "my-task success"],
        "{}",
        logged.text
    );
    let logged = send(addr, "GET", "/logs?action=run", &[], "").await;
    assert_eq!(
        names(&logged.json),
        ["code-task run", "another-task run", "my-task run"],
        "the seed's `GET /logs?action=run`"
    );
    let task = send(addr, "GET", "/tasks/my-task", &[], "").await;
    assert!(
        holds(
            &task.json,
            &json!({"status": "success", "force_run": false})
        ),
        "{}",
        task.text
    );

    // Pipelining: `consume` gets what `produce` returned through `$return`.
    check(&running, &[], vec![
        case("POST", "/tasks/consume",
             r#"{"func": "consume", "start_cond": "after task 'produce'", "parameters": {"x": {"$return": "produce", "default": 0}}}"#,
             200),
        case("POST", "/tasks/produce", r#"{"func": "produce", "force_run": true}"#, 200),
    ])
    .await;
    let returns = wait_for(&running, "/returns", RUN_DEADLINE, |returns| {
        returns.get("consume").is_some()
    })
    .await;
    assert_eq!(
        returns.json,
        json!({"code-task": "a return value", "produce": 42, "consume": 42})
    );

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_and_basic_users_get_their_scopes() {
    let session = session_on(Arc::new(MemoryLogStore::default()));
    let tokens = BearerTokens::default()
        .with_token("reader", Scopes::of(&[engine_api::Scope::Read]))
        .with_token("writer", Scopes::of(&[engine_api::Scope::Write]))
        .with_token("coder", Scopes::of(&[engine_api::Scope::Code]))
        .with_token("admin", Scopes::ALL);
    let api = ApiService::new(session.clone()).with_authenticator(Arc::new(tokens));
    let running = Running::start(&session, api).await;
    let bearer = r#"Bearer realm="engine""#;
    let invalid = r#"Bearer realm="engine", error="invalid_token""#;
    let admin = [("authorization", "Bearer admin")];
    check(
        &running,
        &admin,
        vec![
            // No or wrong credentials: 401 with a challenge, also for unknown paths.
            case("GET", "/tasks", "", 401).header("www-authenticate", bearer),
            case("GET", "/nope", "", 401).header("www-authenticate", bearer),
            case("GET", "/tasks", "", 401)
                .with("authorization", "Bearer wrong")
                .header("www-authenticate", invalid),
            case("GET", "/tasks", "", 401).with("authorization", "Basic YWRtaW46YWRtaW4="),
            // read: every GET, nothing else.
            case("GET", "/tasks", "", 200).with("authorization", "Bearer reader"),
            case("GET", "/logs?action=run", "", 200).with("authorization", "Bearer reader"),
            case("GET", "/nope", "", 404).with("authorization", "Bearer reader"),
            case("POST", "/tasks/f", r#"{"func": "noop"}"#, 403)
                .with("authorization", "Bearer reader"),
            case("PATCH", "/parameters", r#"{"x": 1}"#, 403).with("authorization", "Bearer reader"),
            // write: tasks without code, parameters, returns; not code, not config.
            case(
                "POST",
                "/tasks/f",
                r#"{"func": "noop", "disabled": true}"#,
                200,
            )
            .with("authorization", "Bearer writer"),
            case("POST", "/tasks/py", r#"{"code": "print(1)"}"#, 403)
                .with("authorization", "Bearer writer"),
            case("POST", "/tasks/sh", r#"{"command": "true"}"#, 403)
                .with("authorization", "Bearer writer"),
            case("PATCH", "/parameters", r#"{"x": 1}"#, 200).with("authorization", "Bearer writer"),
            case("PATCH", "/returns", r#"{"f": 1}"#, 200).with("authorization", "Bearer writer"),
            case("PATCH", "/configs", r#"{"task_priority": 1}"#, 403)
                .with("authorization", "Bearer writer"),
            // code: command and code tasks, and what they run; not config.
            case(
                "POST",
                "/tasks/sh",
                r#"{"command": "true", "disabled": true}"#,
                200,
            )
            .with("authorization", "Bearer coder"),
            case("PATCH", "/tasks/sh", r#"{"command": "false"}"#, 403)
                .with("authorization", "Bearer writer"),
            case("PATCH", "/tasks/sh", r#"{"priority": 1}"#, 200)
                .with("authorization", "Bearer writer"),
            case("PATCH", "/tasks/sh", r#"{"command": "false"}"#, 200)
                .with("authorization", "Bearer coder"),
            case("PATCH", "/config", r#"{"task_priority": 1}"#, 403)
                .with("authorization", "Bearer coder"),
            // admin: everything.
            case("PATCH", "/config", r#"{"task_priority": 1}"#, 200)
                .with("authorization", "Bearer admin")
                .json(json!({"task_priority": 1})),
            case("DELETE", "/tasks/sh", "", 200).with("authorization", "Bearer admin"),
            case("GET", "/session", "", 200)
                .with("authorization", "Bearer admin")
                .json(json!({"tasks": ["f"], "parameters": {"x": 1}, "returns": {"f": 1}})),
        ],
    )
    .await;
    running.stop().await;

    let session = session_on(Arc::new(MemoryLogStore::default()));
    let users = Basic::default()
        .with_user("ops", "correct horse", Scopes::ALL)
        .with_user(
            "viewer",
            "battery staple",
            Scopes::of(&[engine_api::Scope::Read]),
        );
    let api = ApiService::new(session.clone()).with_authenticator(Arc::new(users));
    let running = Running::start(&session, api).await;
    // "ops:correct horse", "viewer:battery staple", "ops:wrong".
    let ops = "Basic b3BzOmNvcnJlY3QgaG9yc2U=";
    let viewer = "Basic dmlld2VyOmJhdHRlcnkgc3RhcGxl";
    let challenge = r#"Basic realm="engine", charset="UTF-8""#;
    check(
        &running,
        &[("authorization", ops)],
        vec![
            case("GET", "/tasks", "", 401).header("www-authenticate", challenge),
            case("GET", "/tasks", "", 401).with("authorization", "Basic b3BzOndyb25n"),
            case("GET", "/tasks", "", 401).with("authorization", "Basic !!!"),
            case("GET", "/tasks", "", 401).with("authorization", "Bearer admin"),
            case("GET", "/tasks", "", 200).with("authorization", viewer),
            case("POST", "/tasks/f", r#"{"func": "noop"}"#, 403).with("authorization", viewer),
            case(
                "POST",
                "/tasks/f",
                r#"{"func": "noop", "disabled": true}"#,
                200,
            )
            .with("authorization", ops),
            case("PATCH", "/configs", r#"{"task_priority": 2}"#, 200).with("authorization", ops),
            case("GET", "/tasks/f", "", 200)
                .with("authorization", viewer)
                .json(json!({"name": "f"})),
        ],
    )
    .await;
    running.stop().await;
}
