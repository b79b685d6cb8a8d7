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
            "200 400 401 403 404 405 408 413 500",
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
