//! Tests of the OpenAPI document: it matches the route table both ways, and every reference resolves.

use std::collections::BTreeSet;

use super::*;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every `$ref` in `value`, as found.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[test]
fn paths_and_methods_equal_the_route_table() {
    let doc = openapi_document();
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .flat_map(|spec| {
            spec.verbs().iter().map(|verb| {
                (
                    spec.pattern().to_owned(),
                    verb.as_str().to_ascii_lowercase(),
                )
            })
        })
        .collect();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            let methods: Vec<String> = item
                .as_object()
                .map(|ops| {
                    ops.keys()
                        .filter(|k| METHODS.contains(&k.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            methods.into_iter().map(move |m| (path.clone(), m))
        })
        .collect();
    assert_eq!(
        table.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served but not documented"
    );
    assert_eq!(
        documented.difference(&table).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not served"
    );
    assert_eq!(table.len(), 21);
}

#[test]
fn every_reference_resolves() {
    let doc = openapi_document();
    let mut found = Vec::new();
    refs(doc, &mut found);
    assert!(found.len() > 50, "{}", found.len());
    for target in found {
        let pointer = target.strip_prefix('#').unwrap_or("not local");
        assert!(doc.pointer(pointer).is_some(), "unresolved {target}");
    }
}

#[test]
fn operations_describe_parameters_bodies_and_errors() {
    let doc = openapi_document();
    let paths = &doc["paths"];
    let cases = [
        ("/tasks", "get", true, false, "200 400 401 403 405 500"),
        (
            "/tasks/{name}",
            "get",
            false,
            false,
            "200 400 401 403 404 405 500",
        ),
        (
            "/tasks/{name}",
            "post",
            false,
            true,
            "200 400 401 403 404 405 408 409 413 500",
        ),
        (
            "/task/{name}",
            "patch",
            false,
            true,
            "200 400 401 403 404 405 408 409 413 500",
        ),
        (
            "/tasks/{name}",
            "delete",
            false,
            false,
            "200 400 401 403 404 405 500",
        ),
        (
            "/parameters",
            "patch",
            false,
            true,
            "200 400 401 403 405 408 413 500",
        ),
        (
            "/config",
            "patch",
            false,
            true,
            "200 400 401 403 405 408 413 500",
        ),
        ("/logs", "get", true, false, "200 400 401 403 405 500"),
        (
            "/dependencies",
            "get",
            true,
            false,
            "200 400 401 403 405 500",
        ),
        (
            "/openapi.json",
            "get",
            false,
            false,
            "200 400 401 403 405 500",
        ),
    ];
    for (path, method, filtered, body, statuses) in cases {
        let op = &paths[path][method];
        let has_filter = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        assert_eq!(has_filter, filtered, "{method} {path} filter");
        assert_eq!(op["requestBody"].is_object(), body, "{method} {path} body");
        let codes: Vec<&str> = op["responses"]
            .as_object()
            .map(|r| r.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(codes.join(" "), statuses, "{method} {path}");
        assert_eq!(
            paths[path]["parameters"].is_array(),
            path.contains("{name}"),
            "{path}"
        );
    }
    let ids: Vec<&str> = ROUTES
        .iter()
        .flat_map(|spec| {
            spec.verbs()
                .iter()
                .map(move |v| &paths[spec.pattern()][v.as_str().to_ascii_lowercase()])
        })
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids repeat: {ids:?}");
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .map(|s| s.len());
    assert_eq!(schemes, Some(2));
    let filter = &doc["components"]["parameters"]["filter"];
    assert_eq!(
        (filter["style"].as_str(), filter["explode"].as_bool()),
        (Some("form"), Some(true))
    );
}

/// The first way `value` breaks `schema` (the subset of JSON Schema the document
/// uses: `$ref`, `type` with `nullable`, `enum`, `properties`,
/// `additionalProperties`, `required`, `items`, `anyOf`, `oneOf`, `minimum` with
/// OpenAPI 3.0's boolean `exclusiveMinimum`), with the JSON pointer of the part;
/// `None` when it conforms.
fn violation(doc: &Value, schema: &Value, value: &Value, at: &str) -> Option<String> {
    if let Some(target) = schema["$ref"].as_str() {
        let resolved = doc.pointer(target.strip_prefix('#').unwrap_or(target));
        return match resolved {
            Some(resolved) => violation(doc, resolved, value, at),
            None => Some(format!("{at}: unresolved {target}")),
        };
    }
    if value.is_null() && schema["nullable"] == json!(true) {
        return None;
    }
    if let Some(branches) = schema["anyOf"].as_array()
        && branches
            .iter()
            .all(|b| violation(doc, b, value, at).is_some())
    {
        return Some(format!("{at}: {value} fits no branch of anyOf"));
    }
    if let Some(branches) = schema["oneOf"].as_array() {
        let fits = branches
            .iter()
            .filter(|b| violation(doc, b, value, at).is_none())
            .count();
        if fits != 1 {
            return Some(format!("{at}: {value} fits {fits} branches of oneOf"));
        }
    }
    if let Some(kind) = schema["type"].as_str() {
        let fits = match kind {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        };
        if !fits {
            return Some(format!("{at}: {value} is not of type {kind}"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Some(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(minimum), Some(number)) = (schema["minimum"].as_f64(), value.as_f64()) {
        let exclusive = schema["exclusiveMinimum"] == json!(true);
        if number < minimum || (exclusive && number <= minimum) {
            return Some(format!("{at}: {value} is below the minimum {minimum}"));
        }
    }
    if let Some(items) = value.as_array()
        && !schema["items"].is_null()
    {
        let problem = items
            .iter()
            .enumerate()
            .find_map(|(i, item)| violation(doc, &schema["items"], item, &format!("{at}/{i}")));
        if problem.is_some() {
            return problem;
        }
    }
    if let Some(map) = value.as_object() {
        let required = schema["required"].as_array().into_iter().flatten();
        if let Some(key) = required
            .filter_map(Value::as_str)
            .find(|key| !map.contains_key(*key))
        {
            return Some(format!("{at}: required '{key}' is missing"));
        }
        for (key, item) in map {
            let inner = format!("{at}/{key}");
            let problem = match (&schema["properties"][key], &schema["additionalProperties"]) {
                (Value::Null, Value::Bool(false)) => Some(format!("{inner}: not allowed")),
                (Value::Null, Value::Object(extra)) => {
                    violation(doc, &Value::Object(extra.clone()), item, &inner)
                }
                (Value::Null, _) => None,
                (property, _) => violation(doc, property, item, &inner),
            };
            if problem.is_some() {
                return problem;
            }
        }
    }
    None
}

#[test]
fn the_validator_sees_what_breaks_a_schema() {
    let doc = openapi_document();
    let task_patch = json!({"$ref": "#/components/schemas/TaskPatch"});
    let config = json!({"$ref": "#/components/schemas/Config"});
    let cases = [
        (&task_patch, json!({"priority": 1, "timeout": null}), true),
        (
            &task_patch,
            json!({"timeout": 1.5, "command": ["a", "b"]}),
            true,
        ),
        (&task_patch, json!({"priority": 1.5}), false),
        (&task_patch, json!({"timeout": 0}), false),
        (&task_patch, json!({"command": [1]}), false),
        (&task_patch, json!({"status": "run"}), false),
        (&task_patch, json!({"execution": "warp"}), false),
        (
            &config,
            json!({"task_execution": null, "cycle_sleep": null}),
            true,
        ),
        (&config, json!({"max_concurrent_runs": 0}), false),
        (&config, json!({"bogus": 1}), false),
    ];
    for (schema, value, fits) in cases {
        let found = violation(doc, schema, &value, "");
        assert_eq!(found.is_none(), fits, "{value}: {found:?}");
    }
}

/// The session the conformance tests drive: one command task that never
/// starts by itself, a parameter, and one log record.
fn conformance_service() -> crate::ApiService {
    use engine_core::log::{Action, LogRecord, MemoryLogStore};
    use std::sync::Arc;

    let log = Arc::new(MemoryLogStore::default());
    let mut record = LogRecord::new("extract", Action::Fail, chrono::Utc::now());
    record.exc_text = Some("exit status 1".to_owned());
    log.append(record);
    let session = engine_core::Session::new(log, Arc::new(engine_core::SystemClock));
    let setup = crate::ApiService::new(session);
    let runtime = runtime();
    for (method, uri, body) in [
        ("PATCH", "/configs", r#"{"timezone": "UTC"}"#),
        (
            "POST",
            "/tasks/extract",
            r#"{"command": "true", "start_cond": "false"}"#,
        ),
        ("PATCH", "/parameters", r#"{"env": "test"}"#),
    ] {
        let (status, body, _) =
            runtime.block_on(crate::service::tests::send(&setup, method, uri, None, body));
        assert_eq!(status, 200, "{method} {uri}: {body}");
    }
    setup
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => panic!("no runtime: {error}"),
    }
}

/// The schema the document gives for `status` of `method path`, and whether
/// the status is documented at all.
fn documented(doc: &Value, method: &str, path: &str, status: u16) -> Option<Value> {
    let method = hyper::Method::from_bytes(method.as_bytes()).ok()?;
    let found = crate::route(&method, path).ok()?;
    let operation =
        &doc["paths"][found.spec().pattern()][found.verb().as_str().to_ascii_lowercase()];
    let mut response = &operation["responses"][status.to_string()];
    if let Some(target) = response["$ref"].as_str() {
        response = doc.pointer(target.strip_prefix('#').unwrap_or(target))?;
    }
    response
        .pointer("/content/application~1json/schema")
        .cloned()
}

#[test]
fn responses_have_documented_statuses_and_shapes() {
    let doc = openapi_document();
    let service = conformance_service();
    let runtime = runtime();
    let cases: [(&str, &str, &str, u16); 23] = [
        ("GET", "/tasks", "", 200),
        ("GET", "/tasks?name$regex=ex", "", 200),
        ("GET", "/tasks?name$bogus=1", "", 400),
        ("GET", "/tasks/extract", "", 200),
        ("GET", "/task/nope", "", 404),
        (
            "POST",
            "/tasks/new",
            r#"{"command": ["sh", "-c", "exit 0"], "start_cond": "false", "timeout": "10 minutes"}"#,
            200,
        ),
        ("POST", "/tasks/new", r#"{"command": "true"}"#, 409),
        (
            "POST",
            "/tasks/other",
            r#"{"command": "true", "bogus": 1}"#,
            400,
        ),
        (
            "PATCH",
            "/tasks/new",
            r#"{"priority": 3, "timeout": null}"#,
            200,
        ),
        ("PATCH", "/tasks/new", r#"{"name": "extract"}"#, 409),
        ("PATCH", "/tasks/new", r#"{"priority": "high"}"#, 400),
        ("PATCH", "/tasks/nope", r#"{"priority": 1}"#, 404),
        ("GET", "/configs", "", 200),
        (
            "PATCH",
            "/config",
            r#"{"cycle_sleep": null, "timeout": "10 minutes", "task_execution": null}"#,
            200,
        ),
        ("PATCH", "/configs", r#"{"timezone": "Nowhere/Land"}"#, 400),
        ("GET", "/session", "", 200),
        ("GET", "/logs", "", 200),
        ("GET", "/logs?created$min=abc", "", 400),
        ("GET", "/dependencies", "", 200),
        ("PATCH", "/parameters", r#"{"x": [1, {"y": null}]}"#, 200),
        ("PATCH", "/returns", r#"{"extract": 1}"#, 200),
        ("DELETE", "/tasks/new", "", 200),
        ("GET", "/openapi.json", "", 200),
    ];
    for (method, uri, body, expected) in cases {
        let (status, value, _) = runtime.block_on(crate::service::tests::send(
            &service,
            method,
            uri,
            None,
            body.to_owned(),
        ));
        assert_eq!(status, expected, "{method} {uri}: {value}");
        let path = uri.split('?').next().unwrap_or(uri);
        let Some(schema) = documented(doc, method, path, status) else {
            panic!("{method} {uri}: status {status} is not documented");
        };
        let problem = violation(doc, &schema, &value, "");
        assert_eq!(problem, None, "{method} {uri}: {value}");
    }
}

#[test]
fn values_the_body_schemas_refuse_are_refused() {
    let doc = openapi_document();
    let service = conformance_service();
    let runtime = runtime();
    let candidates = [
        json!(true),
        json!(12345),
        json!(0),
        json!(-1),
        json!(1.5),
        json!("text"),
        json!([]),
        json!({}),
        Value::Null,
    ];
    let mut checked = 0;
    for (method, uri, schema) in [
        ("POST", "/tasks/fresh", "TaskBody"),
        ("PATCH", "/tasks/extract", "TaskPatch"),
        ("PATCH", "/configs", "Config"),
    ] {
        let schema = &doc["components"]["schemas"][schema];
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut bodies = vec![json!({"x-unknown": 1})];
        for (key, property) in &properties {
            for candidate in &candidates {
                if violation(doc, property, candidate, key).is_some() {
                    bodies.push(json!({key.as_str(): candidate}));
                }
            }
        }
        for mut body in bodies {
            // A new task needs something to run; the key under test wins.
            if method == "POST"
                && let Some(map) = body.as_object_mut()
            {
                map.entry("command").or_insert_with(|| json!("true"));
            }
            assert!(violation(doc, schema, &body, "").is_some(), "{body}");
            let (status, value, _) = runtime.block_on(crate::service::tests::send(
                &service,
                method,
                uri,
                None,
                body.to_string(),
            ));
            assert_eq!(status, 400, "{method} {uri} {body}: {value}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} bodies checked");
}
