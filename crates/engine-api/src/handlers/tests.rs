//! The API over a real session (in-process): the spec's endpoint examples,
//! statuses of refused requests, scopes of code tasks, and replay.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use engine_core::log::{Action, LogRecord, MemoryLogStore};
use engine_core::{ManualClock, Session};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::auth::{BearerTokens, Scope, Scopes};
use crate::service::ApiService;
use crate::store::{MemoryStore, RequestStore};

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 1, 1, hour, minute, 0)
        .single()
        .unwrap_or_default()
}

/// A session in UTC with the spec's log: code-task ran 12:00-12:01 and
/// succeeded, another-task ran 13:00-13:01 and failed.
fn session() -> Session {
    session_on(Arc::new(MemoryLogStore::default()))
}

/// [`session`] on `log` (the spec's records are added to it).
fn session_on(log: Arc<MemoryLogStore>) -> Session {
    let mut records = Vec::new();
    for (task, start, action) in [
        ("code-task", 12, Action::Success),
        ("another-task", 13, Action::Fail),
    ] {
        let mut run = LogRecord::new(task, Action::Run, at(start, 0));
        run.start = Some(at(start, 0));
        let mut end = LogRecord::new(task, action, at(start, 1));
        end.start = Some(at(start, 0));
        end.end = Some(at(start, 1));
        end.runtime = Some(TimeDelta::minutes(1));
        if action == Action::Fail {
            end.exc_text = Some("exit status 1".to_owned());
        }
        records.extend([run, end]);
    }
    log.extend(records);
    session_after(log)
}

/// A session in UTC on `log` as it is.
fn session_after(log: Arc<MemoryLogStore>) -> Session {
    let session = Session::new(log, Arc::new(ManualClock::new(at(14, 0))));
    session.register_sync("noop", |_ctx| Ok(Value::Null));
    let utc = serde_json::Map::from_iter([("timezone".to_owned(), json!("UTC"))]);
    session.patch_config(&utc).expect("UTC");
    session
}

/// Sends a request and returns the status and JSON body.
async fn send(
    api: &ApiService,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .expect("request");
    let response = api.handle(request).await;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Picks `fields` of a task view (or of each view of a list).
fn pick(value: &Value, fields: &[&str]) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|item| pick(item, fields)).collect()),
        Value::Object(map) => Value::Object(
            fields
                .iter()
                .filter_map(|f| map.get(*f).map(|v| ((*f).to_owned(), v.clone())))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test]
async fn tasks_are_created_read_changed_and_deleted() {
    let api = ApiService::new(session());
    let fields = [
        "name",
        "class",
        "start_cond",
        "execution",
        "force_run",
        "timeout",
        "status",
        "last_run",
        "last_success",
    ];
    let cases: Vec<(&str, &str, &str, u16, Value)> = vec![
        (
            "POST",
            "/tasks/code-task",
            r#"{"class": "CodeTask", "code": "print('hello world')", "start_cond": "time of day between 12:00 and 14:00", "timeout": "10 minutes"}"#,
            200,
            json!({"name": "code-task", "class": "CodeTask", "start_cond": "time of day between 12:00 and 14:00",
                   "execution": "process", "force_run": false, "timeout": "0 days 00:10:00", "status": "success",
                   "last_run": "2021-01-01 12:00:00", "last_success": "2021-01-01 12:01:00"}),
        ),
        (
            "POST",
            "/tasks/another-task",
            r#"{"command": ["false"], "name": "ignored"}"#,
            200,
            json!({"name": "another-task", "class": "CommandTask", "start_cond": "false", "execution": "process",
                   "force_run": false, "timeout": null, "status": "fail", "last_run": "2021-01-01 13:00:00",
                   "last_success": null}),
        ),
        (
            "POST",
            "/task/f",
            r#"{"func": "noop", "start_cond": "after task 'code-task'", "execution": "main"}"#,
            200,
            json!({"name": "f", "class": "FuncTask", "start_cond": "after task 'code-task'", "execution": "main",
                   "force_run": false, "timeout": null, "status": null, "last_run": null, "last_success": null}),
        ),
        (
            "POST",
            "/tasks/code-task",
            r#"{"code": "x"}"#,
            409,
            json!({"error": "task 'code-task' already exists"}),
        ),
        (
            "POST",
            "/tasks/g",
            r#"{"func": "missing"}"#,
            400,
            json!({"error": "unknown function 'missing'"}),
        ),
        (
            "POST",
            "/tasks/g",
            r#"{"priority": 1}"#,
            400,
            json!({"error": "a new task needs 'command', 'code' or 'func' (or 'class')"}),
        ),
        (
            "POST",
            "/tasks/g",
            r#"{"class": "Restart"}"#,
            400,
            json!({"error": "unknown task class 'Restart', expected CommandTask, CodeTask or FuncTask"}),
        ),
        (
            "POST",
            "/tasks/g",
            r#"{"command": "true", "wat": 1}"#,
            400,
            json!({"error": "unknown field 'wat'"}),
        ),
        (
            "GET",
            "/tasks?name$regex=.%2Btask",
            "",
            200,
            json!([{"name": "code-task"}, {"name": "another-task"}]),
        ),
        (
            "GET",
            "/tasks?status=fail",
            "",
            200,
            json!([{"name": "another-task"}]),
        ),
        (
            "GET",
            "/tasks?force_run=false&execution=main",
            "",
            200,
            json!([{"name": "f"}]),
        ),
        (
            "GET",
            "/tasks?last_run$min=2021-01-01+12:30",
            "",
            200,
            json!([{"name": "another-task"}]),
        ),
        (
            "PATCH",
            "/tasks/f",
            r#"{"force_run": true, "start_cond": "daily"}"#,
            200,
            json!({"name": "f", "class": "FuncTask", "start_cond": "daily", "execution": "main", "force_run": true,
                   "timeout": null, "status": null, "last_run": null, "last_success": null}),
        ),
        (
            "PATCH",
            "/tasks/f",
            r#"{"last_run": "2021-01-01"}"#,
            400,
            json!({"error": "field 'last_run' is read-only"}),
        ),
        (
            "PATCH",
            "/tasks/f",
            r#"{"priority": "high"}"#,
            400,
            json!({"error": "field 'priority' must be an integer"}),
        ),
        (
            "PATCH",
            "/tasks/f",
            r#"{"class": "CodeTask"}"#,
            400,
            json!({"error": "a FuncTask cannot become a CodeTask; delete the task and create it again"}),
        ),
        (
            "PATCH",
            "/tasks/f",
            r#"{"name": "code-task"}"#,
            409,
            json!({"error": "task 'code-task' already exists"}),
        ),
        (
            "PATCH",
            "/tasks/nope",
            r#"{"force_run": true}"#,
            404,
            json!({"error": "no task named 'nope'"}),
        ),
        (
            "GET",
            "/tasks/nope",
            "",
            404,
            json!({"error": "no task named 'nope'"}),
        ),
        (
            "DELETE",
            "/tasks/another-task",
            "",
            200,
            json!({"name": "another-task", "class": "CommandTask", "start_cond": "false",
            "execution": "process", "force_run": false, "timeout": null, "status": "fail",
            "last_run": "2021-01-01 13:00:00", "last_success": null}),
        ),
        (
            "DELETE",
            "/tasks/another-task",
            "",
            404,
            json!({"error": "no task named 'another-task'"}),
        ),
        (
            "GET",
            "/tasks",
            "",
            200,
            json!([{"name": "code-task"}, {"name": "f"}]),
        ),
    ];
    for (method, uri, body, status, expected) in cases {
        let (got_status, got) = send(&api, method, uri, None, body).await;
        let shown = if got_status == 200 {
            match &expected {
                Value::Array(items) => {
                    let keys: Vec<&str> = items
                        .first()
                        .and_then(Value::as_object)
                        .map(|m| m.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    pick(&got, &keys)
                }
                _ => pick(&got, &fields),
            }
        } else {
            json!({"error": got["error"]})
        };
        assert_eq!(
            (got_status, shown),
            (status, expected),
            "{method} {uri} {body}"
        );
    }
}

#[tokio::test]
async fn bad_conditions_are_400_with_a_caret() {
    let api = ApiService::new(session());
    let (status, body) = send(
        &api,
        "POST",
        "/tasks/x",
        None,
        r#"{"func": "noop", "start_cond": "daily between 10:00 and"}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "start_cond");
    assert!(body["position"].is_u64(), "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("\n  daily between 10:00 and\n  "),
        "{detail}"
    );
    assert!(detail.ends_with('^'), "{detail}");
    let (status, _) = send(&api, "GET", "/tasks/x", None, "").await;
    assert_eq!(status, 404, "a refused request created the task");
}

#[tokio::test]
async fn logs_and_dependencies_are_filtered() {
    let session = session();
    let api = ApiService::new(session.clone());
    for (name, cond) in [
        ("a", "daily"),
        ("b", "after task 'a'"),
        ("c", "after task 'a' & after task 'b' failed"),
    ] {
        let body = json!({"func": "noop", "start_cond": cond}).to_string();
        assert_eq!(
            send(&api, "POST", &format!("/tasks/{name}"), None, &body)
                .await
                .0,
            200
        );
    }
    let (status, logs) = send(&api, "GET", "/logs", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        logs.get(1).cloned().unwrap_or_default(),
        json!({"task_name": "code-task", "action": "success", "timestamp": "2021-01-01 12:01:00",
               "start": "2021-01-01 12:00:00", "end": "2021-01-01 12:01:00", "runtime": "0 days 00:01:00",
               "created": 1_609_502_460.0})
    );
    let actions = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {}",
                            r["task_name"].as_str().unwrap_or(""),
                            r["action"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let cases = [
        (
            "/logs?action=run",
            vec!["code-task run", "another-task run"],
        ),
        (
            "/logs?timestamp$min=2021-01-01%2011:00:00&timestamp$max=2021-01-01+12:00:30",
            vec!["code-task run"],
        ),
        (
            "/logs?timestamp$min=2021-01-01+13:01:00",
            vec!["another-task fail"],
        ),
        (
            "/logs?action=run&action=fail",
            vec!["code-task run", "another-task run", "another-task fail"],
        ),
        (
            "/logs?end$min=2021-01-01",
            vec!["code-task success", "another-task fail"],
        ),
    ];
    for (uri, expected) in cases {
        let (status, body) = send(&api, "GET", uri, None, "").await;
        assert_eq!(
            (status, actions(&body)),
            (
                200,
                expected.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
            ),
            "{uri}"
        );
    }
    let (status, body) = send(&api, "GET", "/logs?timestamp$min=yesterday", None, "").await;
    assert_eq!(
        (status, body["key"].clone()),
        (400, json!("timestamp$min")),
        "{body}"
    );
    let (status, body) = send(&api, "GET", "/logs?action$nope=run", None, "").await;
    assert_eq!(
        (status, body["position"].clone()),
        (400, json!(6)),
        "{body}"
    );

    let (status, deps) = send(&api, "GET", "/dependencies?child=c", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        deps,
        json!([{"parent": "a", "child": "c", "relation": "DependSuccess", "type": "All"},
               {"parent": "b", "child": "c", "relation": "DependFailure", "type": "All"}])
    );
    let (_, all) = send(&api, "GET", "/dependencies", None, "").await;
    assert_eq!(all.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn parameters_returns_configs_and_session() {
    let session = session();
    let api = ApiService::new(session.clone());
    let cases: Vec<(&str, &str, &str, u16, Value)> = vec![
        (
            "PATCH",
            "/parameters",
            r#"{"pre_existing": 1, "overridden": "original"}"#,
            200,
            json!({"pre_existing": 1, "overridden": "original"}),
        ),
        (
            "PATCH",
            "/parameters",
            r#"{"myparam1": "a value", "overridden": "new"}"#,
            200,
            json!({"pre_existing": 1, "overridden": "new", "myparam1": "a value"}),
        ),
        (
            "PATCH",
            "/parameters",
            r#"{"bad": {"$return": 5}}"#,
            400,
            json!({"error": "parameter 'bad': '$return' must name a task, got 5"}),
        ),
        (
            "PATCH",
            "/returns",
            r#"{"code-task": "a return value"}"#,
            200,
            json!({"code-task": "a return value"}),
        ),
        (
            "GET",
            "/returns",
            "",
            200,
            json!({"code-task": "a return value"}),
        ),
        (
            "PATCH",
            "/config",
            r#"{"task_pre_exist": "rename"}"#,
            200,
            Value::Null,
        ),
        (
            "PATCH",
            "/configs",
            r#"{"no_such_key": 1}"#,
            400,
            Value::Null,
        ),
        (
            "PATCH",
            "/configs",
            r#"{"max_concurrent_runs": 0}"#,
            400,
            json!({"error": "config key 'max_concurrent_runs' must be at least 1"}),
        ),
        ("GET", "/session", "", 200, Value::Null),
    ];
    for (method, uri, body, status, expected) in cases {
        let (got_status, got) = send(&api, method, uri, None, body).await;
        assert_eq!(got_status, status, "{method} {uri} {body}: {got}");
        match (status, expected) {
            (_, Value::Null) => {}
            (200, expected) => assert_eq!(got, expected, "{method} {uri}"),
            (_, expected) => assert_eq!(json!({"error": got["error"]}), expected, "{method} {uri}"),
        }
    }
    let (_, config) = send(&api, "GET", "/configs", None, "").await;
    assert_eq!(
        (config["task_pre_exist"].clone(), config["timezone"].clone()),
        (json!("rename"), json!("UTC"))
    );
    let (_, view) = send(&api, "GET", "/session", None, "").await;
    assert_eq!(view["tasks"], json!([]));
    assert_eq!(view["returns"], json!({"code-task": "a return value"}));
    assert_eq!(view["config"], config);
    assert_eq!(view["parameters"]["overridden"], "new");

    // Under `rename`, posting a taken name creates a renamed task instead of a 409.
    assert_eq!(
        send(&api, "POST", "/tasks/t", None, r#"{"func": "noop"}"#)
            .await
            .0,
        200
    );
    let (status, second) = send(&api, "POST", "/tasks/t", None, r#"{"func": "noop"}"#).await;
    assert_eq!((status, second["name"].clone()), (200, json!("t0")));
}

#[tokio::test]
async fn code_needs_the_code_scope() {
    let auth = BearerTokens::default()
        .with_token("w", Scopes::of(&[Scope::Write]))
        .with_token("c", Scopes::of(&[Scope::Code]));
    let api = ApiService::new(session()).with_authenticator(Arc::new(auth));
    let cases = [
        ("POST", "/tasks/f", "w", r#"{"func": "noop"}"#, 200),
        ("POST", "/tasks/sh", "w", r#"{"command": "echo hi"}"#, 403),
        ("POST", "/tasks/py", "w", r#"{"code": "print(1)"}"#, 403),
        ("POST", "/tasks/sh", "c", r#"{"command": "echo hi"}"#, 200),
        ("PATCH", "/tasks/sh", "w", r#"{"disabled": true}"#, 200),
        ("PATCH", "/tasks/sh", "w", r#"{"command": "rm -rf /"}"#, 403),
        ("PATCH", "/tasks/sh", "w", r#"{"env": {"X": "1"}}"#, 403),
        ("PATCH", "/tasks/sh", "w", r#"{"command": "echo hi"}"#, 200),
        ("PATCH", "/tasks/sh", "c", r#"{"command": "echo bye"}"#, 200),
        ("PATCH", "/tasks/f", "w", r#"{"func": "noop"}"#, 200),
        ("DELETE", "/tasks/sh", "w", "", 200),
    ];
    for (method, uri, token, body, status) in cases {
        let (got, response) = send(&api, method, uri, Some(token), body).await;
        assert_eq!(got, status, "{method} {uri} {token} {body}: {response}");
    }
    let (_, tasks) = send(&api, "GET", "/tasks", Some("w"), "").await;
    assert_eq!(pick(&tasks, &["name"]), json!([{"name": "f"}]));
}

#[tokio::test]
async fn a_new_session_replays_the_stored_changes() {
    let store: Arc<dyn RequestStore> = Arc::new(MemoryStore::default());
    let first = ApiService::new(session()).with_store(Arc::clone(&store));
    for (method, uri, body) in [
        (
            "POST",
            "/tasks/a",
            r#"{"func": "noop", "start_cond": "daily"}"#,
        ),
        ("POST", "/tasks/b", r#"{"command": "true"}"#),
        ("PATCH", "/tasks/a", r#"{"priority": 5, "name": "renamed"}"#),
        ("DELETE", "/tasks/b", ""),
        ("PATCH", "/parameters", r#"{"x": 1}"#),
        ("PATCH", "/configs", r#"{"task_priority": 2}"#),
    ] {
        assert_eq!(
            send(&first, method, uri, None, body).await.0,
            200,
            "{method} {uri}"
        );
    }
    let (_, before) = send(&first, "GET", "/session", None, "").await;

    let second = ApiService::new(session()).with_store(Arc::clone(&store));
    let summary = second.replay().await.expect("replayed");
    assert_eq!((summary.applied, summary.skipped), (6, 0));
    let (_, after) = send(&second, "GET", "/session", None, "").await;
    assert_eq!(after, before);
    let (_, task) = send(&second, "GET", "/tasks/renamed", None, "").await;
    assert_eq!(
        pick(&task, &["name", "priority", "start_cond"]),
        json!({"name": "renamed", "priority": 5, "start_cond": "daily"})
    );
    assert_eq!(store.replay().await.map(|r| r.len()).ok(), Some(6));

    // Replay is meant for a fresh session. Onto the same session again, the
    // stale changes are skipped (the rename onto the taken 'renamed' is a 409),
    // but posting 'a' creates the old name again: the documented limit.
    let again = second.replay().await.expect("replayed again");
    assert_eq!(
        (again.applied, again.adjusted, again.skipped),
        (5, 0, 1),
        "{again:?}"
    );
    let (_, after_again) = send(&second, "GET", "/session", None, "").await;
    assert_eq!(after_again["tasks"], json!(["renamed", "a"]));
    assert_eq!(after_again["parameters"], before["parameters"]);
    assert_eq!(after_again["config"], before["config"]);
}

#[tokio::test]
async fn replay_does_not_repeat_served_one_off_requests() {
    let log = Arc::new(MemoryLogStore::default());
    let store: Arc<dyn RequestStore> = Arc::new(MemoryStore::default());
    let first = ApiService::new(session_on(Arc::clone(&log))).with_store(Arc::clone(&store));
    for (method, uri, body) in [
        (
            "POST",
            "/tasks/ran",
            r#"{"func": "noop", "force_run": true}"#,
        ),
        ("POST", "/tasks/ran-before", r#"{"func": "noop"}"#),
        ("PATCH", "/tasks/ran-before", r#"{"force_run": true}"#),
        ("POST", "/tasks/waiting", r#"{"func": "noop"}"#),
        (
            "PATCH",
            "/tasks/waiting",
            r#"{"force_run": true, "force_termination": true, "priority": 3}"#,
        ),
        ("POST", "/tasks/old-name", r#"{"func": "noop"}"#),
        (
            "PATCH",
            "/tasks/old-name",
            r#"{"force_run": true, "name": "new-name"}"#,
        ),
        ("PATCH", "/tasks/ran", r#"{"disabled": true}"#),
    ] {
        assert_eq!(
            send(&first, method, uri, None, body).await.0,
            200,
            "{method} {uri}"
        );
    }
    // What the scheduler did before the crash: `ran` and `new-name` started
    // after their changes were stored; `ran-before` only has a run from before.
    let now = Utc::now();
    log.extend([
        LogRecord::new("ran", Action::Run, now),
        LogRecord::new("new-name", Action::Run, now),
        LogRecord::new("ran-before", Action::Run, at(9, 0)),
    ]);

    let second = ApiService::new(session_after(Arc::clone(&log))).with_store(Arc::clone(&store));
    let summary = second.replay().await.expect("replayed");
    assert_eq!(
        (summary.applied, summary.adjusted, summary.skipped),
        (8, 3, 0),
        "{summary:?}"
    );
    let (_, tasks) = send(&second, "GET", "/tasks", None, "").await;
    assert_eq!(
        pick(
            &tasks,
            &[
                "name",
                "force_run",
                "force_termination",
                "priority",
                "disabled"
            ]
        ),
        json!([
            {"name": "ran", "force_run": false, "force_termination": false, "priority": 0, "disabled": true},
            {"name": "ran-before", "force_run": true, "force_termination": false, "priority": 0, "disabled": false},
            {"name": "waiting", "force_run": true, "force_termination": false, "priority": 3, "disabled": false},
            {"name": "new-name", "force_run": false, "force_termination": false, "priority": 0, "disabled": false},
        ])
    );
    // The store keeps the changes as accepted; only their replay is adjusted.
    let stored = store.replay().await.expect("stored");
    assert_eq!(
        stored.first().map(|r| r.change.body["force_run"].clone()),
        Some(json!(true))
    );
}

#[tokio::test]
async fn the_openapi_schemas_name_every_field_the_api_shows() {
    let api = ApiService::new(session());
    for (name, body) in [
        ("c", r#"{"command": "true"}"#),
        ("p", r#"{"code": "print(1)"}"#),
        ("f", r#"{"func": "noop"}"#),
    ] {
        assert_eq!(
            send(&api, "POST", &format!("/tasks/{name}"), None, body)
                .await
                .0,
            200
        );
    }
    let doc = crate::openapi::openapi_document();
    let schemas = &doc["components"]["schemas"];
    let (_, tasks) = send(&api, "GET", "/tasks", None, "").await;
    let (_, logs) = send(&api, "GET", "/logs", None, "").await;
    for (schema, items) in [("Task", &tasks), ("LogRecord", &logs)] {
        let items = items.as_array().cloned().unwrap_or_default();
        assert!(!items.is_empty(), "{schema}");
        for item in items {
            for key in item
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                assert!(
                    schemas[schema]["properties"].get(&key).is_some(),
                    "{schema} lacks '{key}'"
                );
            }
        }
    }
}
