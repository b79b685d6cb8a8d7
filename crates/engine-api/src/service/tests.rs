//! In-process tests of the service with a fake session: statuses, auth, store order, replay.
//!
//! [`Fake`] stands in for the session handlers: tasks are JSON objects by name,
//! a body with `command` or `code` needs [`Scope::Code`], a body field `bad` is
//! an unknown field (400), and every step is written to a shared journal so the
//! order of recording and applying can be checked.

use std::sync::Arc;

use engine_query::FilterOptions;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderValue};
use parking_lot::Mutex;
use serde_json::json;

use super::*;
use crate::auth::{BearerTokens, Scopes};
use crate::store::StoredRequest;

/// A fake session: tasks, parameters and config as JSON, and a journal of steps.
#[derive(Default)]
pub(crate) struct Fake {
    tasks: Mutex<Vec<(String, Value)>>,
    parameters: Mutex<Map<String, Value>>,
    config: Mutex<Map<String, Value>>,
    /// `record <seq>` and `apply <method> <resource> <target>` lines, in order.
    pub(crate) journal: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn task(&self, name: &str) -> Option<Value> {
        self.tasks
            .lock()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.tasks.lock().iter().map(|(n, _)| n.clone()).collect()
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorKind::NotFound, format!("no task named '{name}'"))
}

fn conflict(name: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        format!("a task named '{name}' already exists"),
    )
}

impl Dispatch for Fake {
    fn read(&self, route: &Route, query: &Query) -> Result<Value, ApiError> {
        let filter = query.filter(&FilterOptions::default())?;
        Ok(match (route.resource(), route.name()) {
            (Resource::Task, Some(name)) => self.task(name).ok_or_else(|| not_found(name))?,
            (Resource::Tasks, _) => Value::Array(
                self.tasks
                    .lock()
                    .iter()
                    .map(|(_, t)| t.clone())
                    .filter(|t| filter.matches(t))
                    .collect(),
            ),
            (Resource::Parameters, _) => Value::Object(self.parameters.lock().clone()),
            (Resource::Configs, _) => Value::Object(self.config.lock().clone()),
            (Resource::Session, _) => json!({"tasks": self.names()}),
            _ => json!([]),
        })
    }

    fn prepare(
        &self,
        route: &Route,
        body: Option<Map<String, Value>>,
    ) -> Result<Prepared, ApiError> {
        let body = body.unwrap_or_default();
        if body.contains_key("bad") {
            return Err(ApiError::new(ErrorKind::BadRequest, "unknown field 'bad'"));
        }
        let name = route.name().map(str::to_owned);
        let exists = name.as_deref().is_some_and(|n| self.task(n).is_some());
        let scope = match (route.resource(), route.verb()) {
            (Resource::Task, Verb::Post) if exists => {
                return Err(conflict(name.as_deref().unwrap_or_default()));
            }
            (Resource::Task, Verb::Patch | Verb::Delete) if !exists => {
                return Err(not_found(name.as_deref().unwrap_or_default()));
            }
            (Resource::Configs, _) => Scope::Admin,
            _ if body.contains_key("command") || body.contains_key("code") => Scope::Code,
            _ => Scope::Write,
        };
        let body = match route.verb() {
            Verb::Delete => Value::Null,
            _ => Value::Object(body),
        };
        Ok(Prepared {
            change: Change {
                resource: route.resource(),
                method: route.verb(),
                target: name,
                body,
            },
            scope,
        })
    }

    fn apply<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<Value, ApiError>> {
        let result = (|| {
            let target = change.target.clone().unwrap_or_default();
            self.journal.lock().push(format!(
                "apply {} {} {target}",
                change.method, change.resource
            ));
            let body = change.body.as_object().cloned().unwrap_or_default();
            match (change.resource, change.method) {
                (Resource::Task, Verb::Post) => {
                    if self.task(&target).is_some() {
                        return Err(conflict(&target));
                    }
                    let mut task = body;
                    task.insert("name".to_owned(), target.clone().into());
                    self.tasks
                        .lock()
                        .push((target, Value::Object(task.clone())));
                    Ok(Value::Object(task))
                }
                (Resource::Task, Verb::Patch) => {
                    let mut tasks = self.tasks.lock();
                    let (_, task) = tasks
                        .iter_mut()
                        .find(|(n, _)| *n == target)
                        .ok_or_else(|| not_found(&target))?;
                    if let Value::Object(fields) = task {
                        fields.extend(body);
                    }
                    Ok(task.clone())
                }
                (Resource::Task, Verb::Delete) => {
                    let removed = self.task(&target).ok_or_else(|| not_found(&target))?;
                    self.tasks.lock().retain(|(n, _)| *n != target);
                    Ok(removed)
                }
                (Resource::Parameters, _) => {
                    let mut parameters = self.parameters.lock();
                    parameters.extend(body);
                    Ok(Value::Object(parameters.clone()))
                }
                (Resource::Configs, _) => {
                    let mut config = self.config.lock();
                    config.extend(body);
                    Ok(Value::Object(config.clone()))
                }
                _ => Err(ApiError::new(
                    ErrorKind::Internal,
                    "the fake cannot apply this",
                )),
            }
        })();
        Box::pin(async move { result })
    }
}

/// A store that journals every record into the fake's journal, or fails.
struct JournalStore {
    inner: MemoryStore,
    journal: Arc<Mutex<Vec<String>>>,
    fail: bool,
}

impl RequestStore for JournalStore {
    fn record<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<StoredRequest, ApiError>> {
        Box::pin(async move {
            if self.fail {
                self.journal.lock().push("record failed".to_owned());
                return Err(ApiError::new(ErrorKind::Store, "the disk is full"));
            }
            let stored = self.inner.record(change).await?;
            self.journal.lock().push(format!("record {}", stored.seq));
            Ok(stored)
        })
    }

    fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>> {
        self.inner.replay()
    }
}

/// A service over a fresh fake, with `auth`, and a journaling store.
pub(crate) fn fake_service(
    auth: Arc<dyn Authenticator>,
    fail_store: bool,
) -> (ApiService, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let store = JournalStore {
        inner: MemoryStore::default(),
        journal: Arc::clone(&fake.journal),
        fail: fail_store,
    };
    let service = ApiService::from_dispatch(fake.clone())
        .with_authenticator(auth)
        .with_store(Arc::new(store));
    (service, fake)
}

/// Sends `method uri` with `body` and an optional bearer `token` and returns the
/// status, the JSON body (`null` when empty) and the `Allow` / `WWW-Authenticate`
/// headers, checking that the content type is JSON.
pub(crate) async fn send(
    service: &ApiService,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: impl Into<Bytes>,
) -> (u16, Value, [Option<String>; 2]) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(body.into()))
        .expect("a valid request");
    let response = service.handle(request).await;
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE),
        Some(&HeaderValue::from_static("application/json")),
        "{method} {uri}"
    );
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let headers = [header(header::ALLOW), header(header::WWW_AUTHENTICATE)];
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, body, headers)
}

#[tokio::test]
async fn requests_get_their_status_and_json() {
    let (service, fake) = fake_service(Arc::new(AllowAll), false);
    let cases: Vec<(&str, &str, &str, u16, Value)> = vec![
        (
            "POST",
            "/tasks/a",
            r#"{"start_cond": "daily"}"#,
            200,
            json!({"name": "a", "start_cond": "daily"}),
        ),
        (
            "POST",
            "/task/b%20c",
            r#"{"priority": 1}"#,
            200,
            json!({"name": "b c", "priority": 1}),
        ),
        (
            "POST",
            "/tasks/a",
            r#"{}"#,
            409,
            json!({"error": "a task named 'a' already exists"}),
        ),
        (
            "GET",
            "/tasks/a",
            "",
            200,
            json!({"name": "a", "start_cond": "daily"}),
        ),
        (
            "GET",
            "/tasks",
            "",
            200,
            json!([{"name": "a", "start_cond": "daily"}, {"name": "b c", "priority": 1}]),
        ),
        (
            "GET",
            "/tasks?priority=1",
            "",
            200,
            json!([{"name": "b c", "priority": 1}]),
        ),
        (
            "GET",
            "/tasks?name$regex=b",
            "",
            200,
            json!([{"name": "b c", "priority": 1}]),
        ),
        (
            "PATCH",
            "/tasks/a",
            r#"{"disabled": true}"#,
            200,
            json!({"name": "a", "start_cond": "daily", "disabled": true}),
        ),
        (
            "PATCH",
            "/tasks/zz",
            r#"{"disabled": true}"#,
            404,
            json!({"error": "no task named 'zz'"}),
        ),
        (
            "PATCH",
            "/tasks/a",
            r#"{"bad": 1}"#,
            400,
            json!({"error": "unknown field 'bad'"}),
        ),
        (
            "PATCH",
            "/tasks/a",
            "",
            400,
            json!({"error": "expected a JSON object, found an empty body"}),
        ),
        (
            "PATCH",
            "/tasks/a",
            "[1]",
            400,
            json!({"error": "expected a JSON object, found an array"}),
        ),
        (
            "DELETE",
            "/tasks/b%20c",
            "ignored, not JSON",
            200,
            json!({"name": "b c", "priority": 1}),
        ),
        (
            "DELETE",
            "/tasks/b%20c",
            "",
            404,
            json!({"error": "no task named 'b c'"}),
        ),
        (
            "PATCH",
            "/parameters",
            r#"{"x": [1, 2]}"#,
            200,
            json!({"x": [1, 2]}),
        ),
        ("GET", "/parameters", "", 200, json!({"x": [1, 2]})),
        (
            "PATCH",
            "/config",
            r#"{"debug": true}"#,
            200,
            json!({"debug": true}),
        ),
        ("GET", "/configs", "", 200, json!({"debug": true})),
        ("GET", "/session", "", 200, json!({"tasks": ["a"]})),
        (
            "GET",
            "/logs?action$foo=run",
            "",
            400,
            json!({
                "error": "unknown operator '$foo' in key 'action$foo', expected $min, $max, $not or $regex at byte 6",
                "key": "action$foo",
                "position": 6,
                "detail": "unknown operator '$foo' in key 'action$foo', expected $min, $max, $not or $regex at byte 6\n  action$foo=run\n        ^^^^",
            }),
        ),
        (
            "GET",
            "/nope",
            "",
            404,
            json!({"error": "no route matches this path"}),
        ),
        (
            "GET",
            "/tasks/",
            "",
            404,
            json!({"error": "no route matches this path"}),
        ),
        (
            "GET",
            "/tasks/%zz",
            "",
            400,
            json!({"error": "'%' in the path is not followed by two hex digits", "position": 7}),
        ),
    ];
    for (method, uri, body, status, expected) in cases {
        let (got_status, got_body, _) = send(&service, method, uri, None, body).await;
        assert_eq!(
            (got_status, got_body),
            (status, expected),
            "{method} {uri} {body}"
        );
    }
    assert_eq!(fake.names(), ["a"]);
    // Only accepted changes reached the store, each recorded before it was applied.
    assert_eq!(
        *fake.journal.lock(),
        [
            "record 1",
            "apply POST Task a",
            "record 2",
            "apply POST Task b c",
            "record 3",
            "apply PATCH Task a",
            "record 4",
            "apply DELETE Task b c",
            "record 5",
            "apply PATCH Parameters ",
            "record 6",
            "apply PATCH Configs ",
        ]
    );
}

#[tokio::test]
async fn head_options_and_method_not_allowed() {
    let (service, _) = fake_service(Arc::new(AllowAll), false);
    let allow_task = Some("GET, HEAD, POST, PATCH, DELETE, OPTIONS".to_owned());
    let cases = [
        (
            "OPTIONS",
            "/tasks/x",
            204,
            Value::Null,
            [allow_task.clone(), None],
        ),
        (
            "OPTIONS",
            "/logs",
            204,
            Value::Null,
            [Some("GET, HEAD, OPTIONS".to_owned()), None],
        ),
        ("HEAD", "/session", 200, json!({"tasks": []}), [None, None]),
        (
            "PUT",
            "/tasks/x",
            405,
            json!({
                "error": "this path does not allow this method, only GET, HEAD, POST, PATCH, DELETE, OPTIONS",
                "allowed": ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
            }),
            [allow_task.clone(), None],
        ),
        (
            "OPTIONS",
            "/nope",
            404,
            json!({"error": "no route matches this path"}),
            [None, None],
        ),
    ];
    for (method, uri, status, body, headers) in cases {
        assert_eq!(
            send(&service, method, uri, None, "").await,
            (status, body, headers),
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn bearer_scopes_guard_every_step() {
    let auth = BearerTokens::default()
        .with_token("r", Scopes::of(&[Scope::Read]))
        .with_token("w", Scopes::of(&[Scope::Write]))
        .with_token("c", Scopes::of(&[Scope::Code]))
        .with_token("a", Scopes::ALL);
    let (service, fake) = fake_service(Arc::new(auth), false);
    let challenge = Some(r#"Bearer realm="engine""#.to_owned());
    let invalid = Some(r#"Bearer realm="engine", error="invalid_token""#.to_owned());
    let code = r#"{"command": "rm -rf /tmp/x"}"#;
    let cases = [
        ("GET", "/tasks", None, "", 401, challenge.clone()),
        ("GET", "/nope", None, "", 401, challenge.clone()),
        ("PUT", "/tasks", None, "", 401, challenge.clone()),
        ("GET", "/tasks", Some("nope"), "", 401, invalid.clone()),
        ("GET", "/nope", Some("r"), "", 404, None),
        ("GET", "/tasks", Some("r"), "", 200, None),
        ("OPTIONS", "/tasks", Some("r"), "", 204, None),
        ("POST", "/tasks/t", Some("r"), "{}", 403, None),
        ("POST", "/tasks/t", Some("w"), code, 403, None),
        ("POST", "/tasks/t", Some("w"), "{}", 200, None),
        ("PATCH", "/tasks/t", Some("w"), code, 403, None),
        ("PATCH", "/tasks/t", Some("c"), code, 200, None),
        ("POST", "/tasks/u", Some("c"), code, 200, None),
        ("PATCH", "/configs", Some("c"), "{}", 403, None),
        (
            "PATCH",
            "/configs",
            Some("a"),
            r#"{"debug": false}"#,
            200,
            None,
        ),
        ("DELETE", "/tasks/t", Some("r"), "", 403, None),
        ("DELETE", "/tasks/t", Some("w"), "", 200, None),
    ];
    for (method, uri, token, body, status, header) in cases {
        let (got, _, [_, challenge]) = send(&service, method, uri, token, body).await;
        assert_eq!(
            (got, challenge),
            (status, header),
            "{method} {uri} {token:?} {body}"
        );
    }
    assert_eq!(fake.names(), ["u"]);
    assert_eq!(
        *fake.journal.lock(),
        [
            "record 1",
            "apply POST Task t",
            "record 2",
            "apply PATCH Task t",
            "record 3",
            "apply POST Task u",
            "record 4",
            "apply PATCH Configs ",
            "record 5",
            "apply DELETE Task t",
        ]
    );
}

#[tokio::test]
async fn a_failing_store_refuses_the_change() {
    let (service, fake) = fake_service(Arc::new(AllowAll), true);
    let (status, body, _) = send(&service, "POST", "/tasks/a", None, "{}").await;
    assert_eq!(
        (status, body),
        (500, json!({"error": "internal server error"}))
    );
    assert_eq!(fake.names(), Vec::<String>::new());
    assert_eq!(*fake.journal.lock(), ["record failed"]);
}

#[tokio::test]
async fn large_and_deep_bodies_are_refused_before_anything_happens() {
    let (service, fake) = fake_service(Arc::new(AllowAll), false);
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(2 << 20));
    let (status, body, _) = send(&service, "POST", "/tasks/a", None, big.clone()).await;
    assert_eq!((status, body["limit"].clone()), (413, json!(1_048_576)));
    let small = service.clone().with_body_limit(10);
    let (status, _, _) = send(&small, "PATCH", "/parameters", None, r#"{"x": 12345}"#).await;
    assert_eq!(status, 413);
    let roomy = service.clone().with_body_limit(4 << 20);
    let (status, _, _) = send(&roomy, "POST", "/tasks/a", None, big).await;
    assert_eq!(status, 200);

    let deep = format!("{{\"x\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, body, _) = send(&service, "POST", "/tasks/b", None, deep).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("recursion limit exceeded"),
        "{body}"
    );
    assert_eq!(fake.names(), ["a"]);
    assert_eq!(*fake.journal.lock(), ["record 1", "apply POST Task a"]);
}

#[tokio::test]
async fn replay_applies_stored_changes_in_order_and_skips_stale_ones() {
    let (first, _) = fake_service(Arc::new(AllowAll), false);
    let store: Arc<dyn RequestStore> = Arc::new(MemoryStore::default());
    let first = first.with_store(Arc::clone(&store));
    for (method, uri, body) in [
        ("POST", "/tasks/a", "{}"),
        ("POST", "/tasks/b", "{}"),
        ("PATCH", "/tasks/a", r#"{"priority": 3}"#),
        ("DELETE", "/tasks/b", ""),
        ("PATCH", "/parameters", r#"{"p": 1}"#),
    ] {
        assert_eq!(
            send(&first, method, uri, None, body).await.0,
            200,
            "{method} {uri}"
        );
    }

    let fake = Arc::new(Fake::default());
    let second = ApiService::from_dispatch(fake.clone()).with_store(Arc::clone(&store));
    assert_eq!(
        second.replay().await.ok(),
        Some(ReplaySummary {
            applied: 5,
            adjusted: 0,
            skipped: 0
        })
    );
    assert_eq!(fake.names(), ["a"]);
    assert_eq!(
        send(&second, "GET", "/tasks/a", None, "").await.1,
        json!({"name": "a", "priority": 3})
    );
    assert_eq!(
        send(&second, "GET", "/parameters", None, "").await.1,
        json!({"p": 1})
    );

    // Replaying again ends in the same state: posting 'a' no longer applies, and
    // 'b' is created and deleted again.
    assert_eq!(
        second.replay().await.ok(),
        Some(ReplaySummary {
            applied: 4,
            adjusted: 0,
            skipped: 1
        })
    );
    assert_eq!(fake.names(), ["a"]);
    assert_eq!(
        send(&second, "GET", "/tasks/a", None, "").await.1,
        json!({"name": "a", "priority": 3})
    );
}

#[tokio::test]
async fn openapi_json_is_served() {
    let (service, _) = fake_service(Arc::new(AllowAll), false);
    let (status, body, _) = send(&service, "GET", "/openapi.json", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(&body, crate::openapi::openapi_document());
}

#[test]
fn route_scopes() {
    let cases = [
        ("GET", "/configs", Scope::Read),
        ("HEAD", "/tasks", Scope::Read),
        ("OPTIONS", "/configs", Scope::Read),
        ("PATCH", "/configs", Scope::Admin),
        ("PATCH", "/config", Scope::Admin),
        ("PATCH", "/parameters", Scope::Write),
        ("POST", "/tasks/x", Scope::Write),
        ("DELETE", "/task/x", Scope::Write),
    ];
    for (method, path, scope) in cases {
        let method = hyper::Method::from_bytes(method.as_bytes()).expect("a method");
        let found = route(&method, path).expect("a route");
        assert_eq!(route_scope(&found), scope, "{method} {path}");
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ApiService>();
    assert_send_sync::<ApiError>();
    assert_send_sync::<crate::JsonLinesStore>();
    assert_send_sync::<crate::SqliteRequestStore>();
    assert_send_sync::<crate::BearerTokens>();
}
