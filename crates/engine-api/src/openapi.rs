//! The OpenAPI 3.0 document of the API (`GET /openapi.json`), built from the route table.
//!
//! Paths and methods come from [`ROUTES`], so the document cannot list a route
//! the server does not serve, nor miss one (a test checks both ways). `HEAD`
//! and `OPTIONS` are implied for every path and not listed.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::router::{ROUTES, Resource, RouteSpec, Verb};

#[cfg(test)]
mod tests;

/// The OpenAPI 3.0 document describing every route, built once.
///
/// ```
/// let doc = engine_api::openapi_document();
/// assert_eq!(doc["openapi"], "3.0.3");
/// assert!(doc["paths"]["/tasks/{name}"]["post"].is_object());
/// ```
pub fn openapi_document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

fn build() -> Value {
    let mut paths = Map::new();
    for spec in ROUTES {
        paths.insert(spec.pattern().to_owned(), path_item(spec));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "engine runtime API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "List, create, change, run and delete tasks, and read the task log, \
                while the scheduler runs. Red Engine compatible routes and JSON. \
                Every error is JSON {\"error\": \"...\"}. HEAD is answered wherever GET is, \
                and OPTIONS on every path (204 with Allow). A request body is read as JSON \
                whatever its Content-Type.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "responses": error_responses(),
            "parameters": {
                "name": {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "description": "The task name: one percent-encoded path segment (%2F is a '/' in the name).",
                    "schema": {"type": "string"},
                },
                "filter": {
                    "name": "filter",
                    "in": "query",
                    "required": false,
                    "style": "form",
                    "explode": true,
                    "description": "The query language: `key=value` (equal), `key$min=` and `key$max=` \
                        (inclusive bounds; a date alone is midnight for $min and the whole day for $max), \
                        `key$not=`, `key$regex=` (anchored at the start). The same key repeated means any \
                        of its values; different keys must all hold. Values compare as times, numbers or \
                        booleans where the field is one. Another operator is a 400.",
                    "schema": {
                        "type": "object",
                        "additionalProperties": {},
                        "description": "Keys are `field` or `field$op`; values are text on the wire, \
                            read as times, numbers or booleans where the field is one.",
                    },
                    "example": {"action": "fail", "timestamp$min": "2021-01-01"},
                },
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
        "security": [{"bearer": []}, {"basic": []}, {}],
    })
}

fn path_item(spec: &RouteSpec) -> Value {
    let mut item = Map::new();
    if spec.pattern().contains("{name}") {
        item.insert(
            "parameters".to_owned(),
            json!([{"$ref": "#/components/parameters/name"}]),
        );
    }
    if let Some(target) = spec.alias_of() {
        item.insert(
            "description".to_owned(),
            format!("An alias of {target}.").into(),
        );
    }
    for verb in spec.verbs() {
        item.insert(verb.as_str().to_ascii_lowercase(), operation(spec, *verb));
    }
    Value::Object(item)
}

/// One operation: summary, parameters, body, responses.
fn operation(spec: &RouteSpec, verb: Verb) -> Value {
    let resource = spec.resource();
    let (summary, ok, filtered) = describe(resource, verb);
    let mut op = Map::new();
    let id = format!(
        "{}{}{}",
        verb.as_str().to_ascii_lowercase(),
        resource.as_str(),
        if spec.alias_of().is_some() {
            "Alias"
        } else {
            ""
        }
    );
    op.insert("operationId".to_owned(), id.into());
    op.insert("summary".to_owned(), summary.into());
    op.insert("tags".to_owned(), json!([resource.as_str()]));
    if filtered {
        op.insert(
            "parameters".to_owned(),
            json!([{"$ref": "#/components/parameters/filter"}]),
        );
    }
    if let Some(schema) = request_schema(resource, verb) {
        op.insert(
            "requestBody".to_owned(),
            json!({"required": true, "content": {"application/json": {"schema": schema}}}),
        );
    }
    let mut responses = Map::new();
    responses.insert(
        "200".to_owned(),
        json!({"description": "Success.", "content": {"application/json": {"schema": ok}}}),
    );
    let mut errors = vec!["400", "401", "403", "405", "500"];
    if resource == Resource::Task {
        errors.push("404");
    }
    if verb == Verb::Post || (resource == Resource::Task && verb == Verb::Patch) {
        errors.push("409");
    }
    if matches!(verb, Verb::Post | Verb::Patch) {
        errors.extend(["408", "413"]);
    }
    errors.sort_unstable();
    for status in errors {
        responses.insert(
            status.to_owned(),
            json!({"$ref": format!("#/components/responses/{status}")}),
        );
    }
    op.insert("responses".to_owned(), Value::Object(responses));
    Value::Object(op)
}

/// The summary, the 200 body schema, and whether the query language applies.
fn describe(resource: Resource, verb: Verb) -> (&'static str, Value, bool) {
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let list = |name: &str| json!({"type": "array", "items": schema(name)});
    match (resource, verb) {
        (Resource::Tasks, _) => (
            "The tasks matching the query, in session order.",
            list("Task"),
            true,
        ),
        (Resource::Task, Verb::Get) => ("One task.", schema("Task"), false),
        (Resource::Task, Verb::Post) => ("Create a task; returns it.", schema("Task"), false),
        (Resource::Task, Verb::Patch) => ("Change a task; returns it.", schema("Task"), false),
        (Resource::Task, _) => (
            "Delete a task; returns the removed task.",
            schema("Task"),
            false,
        ),
        (Resource::Parameters, Verb::Get) => ("The session parameters.", schema("ValueMap"), false),
        (Resource::Parameters, _) => (
            "Merge into the session parameters; returns them.",
            schema("ValueMap"),
            false,
        ),
        (Resource::Returns, Verb::Get) => (
            "The latest return value of each task.",
            schema("ValueMap"),
            false,
        ),
        (Resource::Returns, _) => (
            "Merge into the return values; returns them.",
            schema("ValueMap"),
            false,
        ),
        (Resource::Configs, Verb::Get) => ("The session configuration.", schema("Config"), false),
        (Resource::Configs, _) => (
            "Change the session configuration; returns it.",
            schema("Config"),
            false,
        ),
        (Resource::Session, _) => (
            "Config, parameters, task names and returns.",
            schema("Session"),
            false,
        ),
        (Resource::Logs, _) => (
            "The task log records matching the query, in log order.",
            list("LogRecord"),
            true,
        ),
        (Resource::Dependencies, _) => (
            "The links between tasks found in their start conditions, matching the query.",
            list("Dependency"),
            true,
        ),
        (Resource::OpenApi, _) => ("This document.", json!({"type": "object"}), false),
    }
}

/// The request body schema of a change.
fn request_schema(resource: Resource, verb: Verb) -> Option<Value> {
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    match (resource, verb) {
        (Resource::Task, Verb::Post) => Some(schema("TaskBody")),
        (Resource::Task, Verb::Patch) => Some(schema("TaskPatch")),
        (Resource::Parameters | Resource::Returns, Verb::Patch) => Some(schema("ValueMap")),
        (Resource::Configs, Verb::Patch) => Some(schema("Config")),
        _ => None,
    }
}

/// The shared error responses, one per status.
fn error_responses() -> Value {
    let statuses = [
        (
            "400",
            "Bad JSON, a bad condition, an unknown or read-only field, a bad query operator.",
        ),
        (
            "401",
            "No or wrong credentials; see the WWW-Authenticate header.",
        ),
        ("403", "The credentials do not allow this request."),
        ("404", "No such task."),
        (
            "405",
            "The path does not allow this method; see the Allow header.",
        ),
        (
            "408",
            "The request body did not all arrive within the server's body timeout.",
        ),
        (
            "409",
            "The task name is taken (a POST, or a PATCH renaming the task).",
        ),
        ("413", "The body is larger than the limit."),
        (
            "500",
            "A failure of the engine; the body says only \"internal server error\".",
        ),
    ];
    let mut responses = Map::new();
    for (status, description) in statuses {
        responses.insert(
            status.to_owned(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }),
        );
    }
    Value::Object(responses)
}

/// `properties` with `name` added.
fn with_name(properties: &Value) -> Value {
    let mut properties = properties.as_object().cloned().unwrap_or_default();
    properties.insert("name".to_owned(), json!({"type": "string"}));
    Value::Object(properties)
}

/// The session configuration, as shown and as changed: every key, with its type.
fn config_schema() -> Value {
    let flag = json!({"type": "boolean"});
    let seconds = |nullable: bool, positive: bool| {
        json!({"anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMinimum": positive, "nullable": nullable},
                {"type": "string"},
            ],
            "description": "Seconds, or a duration text when changed (\"10 minutes\")."})
    };
    json!({
        "type": "object",
        "description": "Shown whole; a PATCH changes the keys it gives. Unknown keys are a 400.",
        "properties": {
            "use_instance_naming": flag,
            "task_priority": {"type": "integer", "format": "int64"},
            "task_execution": {"type": "string", "nullable": true,
                "enum": ["main", "async", "thread", "process", null]},
            "task_pre_exist": {"type": "string", "enum": ["raise", "replace", "ignore", "rename"]},
            "force_status_from_logs": flag,
            "silence_task_prerun": flag,
            "silence_cond_check": flag,
            "cycle_sleep": seconds(true, true),
            "debug": flag,
            "timezone": {"type": "string", "example": "Europe/Helsinki"},
            "max_concurrent_runs": {"type": "integer", "minimum": 1},
            "timeout": seconds(false, true),
            "shutdown_grace": seconds(false, false),
        },
        "additionalProperties": false,
    })
}

/// The schemas of the JSON shapes.
fn schemas() -> Value {
    let text = json!({"type": "string"});
    let nullable_text = json!({"type": "string", "nullable": true});
    let time = json!({"type": "string", "nullable": true, "example": "2021-01-01 12:00:00",
        "description": "YYYY-MM-DD HH:MM:SS[.ffffff] in the session's time zone"});
    let flag = json!({"type": "boolean"});
    let definition = json!({
        "class": {"type": "string", "enum": ["CommandTask", "CodeTask", "FuncTask"]},
        "start_cond": {"type": "string", "example": "daily between 08:00 and 10:00 & after task 'extract'"},
        "end_cond": text,
        "execution": {"type": "string", "enum": ["main", "async", "thread", "process"]},
        "priority": {"type": "integer", "format": "int64"},
        "disabled": flag,
        "force_run": flag,
        "force_termination": flag,
        "on_startup": flag,
        "on_shutdown": flag,
        "permanent_task": flag,
        "timeout": {"anyOf": [{"type": "string", "nullable": true}, {"type": "number", "exclusiveMinimum": true, "minimum": 0}],
            "example": "10 minutes",
            "description": "A duration text, a number of seconds, or null for the session's timeout."},
        "parameters": {"$ref": "#/components/schemas/ValueMap"},
        "allow_overlap": flag,
        "command": {"oneOf": [text, {"type": "array", "items": text}],
            "description": "A line for sh -c, or a program and its arguments (CommandTask)."},
        "code": {"type": "string", "description": "Source code run by `lang` (CodeTask)."},
        "lang": {"type": "string", "example": "python3"},
        "cwd": nullable_text,
        "env": {"type": "object", "additionalProperties": text},
        "func": {"type": "string", "description": "A function registered on the session (FuncTask)."},
    });
    let mut task = definition.as_object().cloned().unwrap_or_default();
    task.insert("name".to_owned(), text.clone());
    task.insert(
        "status".to_owned(),
        json!({"type": "string", "nullable": true,
            "enum": ["run", "success", "fail", "terminate", "inaction", "crash", null]}),
    );
    for field in [
        "last_run",
        "last_success",
        "last_fail",
        "last_terminate",
        "last_inaction",
        "last_crash",
    ] {
        task.insert(field.to_owned(), time.clone());
    }
    task.insert("running".to_owned(), flag.clone());
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string", "description": "What went wrong, one clause."},
                "position": {"type": "integer", "description": "Byte offset of the problem in the input."},
                "detail": {"type": "string", "description": "The message, the input line and a caret line."},
                "key": {"type": "string", "description": "The query key the problem is about."},
                "allowed": {"type": "array", "items": text, "description": "The methods the path allows."},
                "line": {"type": "integer"},
                "column": {"type": "integer"},
                "limit": {"type": "integer", "description": "The body limit in bytes."},
                "timeout_seconds": {"type": "number", "description": "The body timeout in seconds."},
            },
        },
        "Task": {"type": "object", "properties": task, "additionalProperties": true},
        "TaskBody": {
            "type": "object",
            "description": "A new task: `class` (or one of `command`, `code`, `func`) and its fields. \
                The name comes from the path (a `name` in the body is ignored). Unknown and \
                read-only fields are a 400.",
            "properties": with_name(&definition),
            "additionalProperties": false,
        },
        "TaskPatch": {
            "type": "object",
            "description": "Fields to change; `name` renames the task. Unknown and read-only fields \
                (status, last_run ...) are a 400.",
            "properties": with_name(&definition),
            "additionalProperties": false,
        },
        "ValueMap": {"type": "object", "additionalProperties": {}},
        "Config": config_schema(),
        "Session": {
            "type": "object",
            "properties": {
                "config": {"$ref": "#/components/schemas/Config"},
                "parameters": {"$ref": "#/components/schemas/ValueMap"},
                "tasks": {"type": "array", "items": text},
                "returns": {"$ref": "#/components/schemas/ValueMap"},
            },
        },
        "LogRecord": {
            "type": "object",
            "required": ["task_name", "action", "timestamp", "created"],
            "properties": {
                "task_name": text,
                "action": {"type": "string", "enum": ["run", "success", "fail", "terminate", "inaction", "crash"]},
                "timestamp": time,
                "start": time,
                "end": time,
                "runtime": {"type": "string", "example": "0 days 00:01:00"},
                "created": {"type": "number", "description": "Unix seconds."},
                "exc_text": nullable_text,
            },
        },
        "Dependency": {
            "type": "object",
            "properties": {
                "parent": text,
                "child": text,
                "relation": {"type": "string", "enum": ["DependSuccess", "DependFailure", "DependFinish"]},
                "type": {"type": "string", "nullable": true, "enum": ["All", "Any", null]},
            },
        },
    })
}
