//! Table-driven tests of the router: paths, methods, aliases, decoding, and the table check.

use hyper::Method;

use super::*;

/// Routes `method path` and prints the outcome in one line:
/// `Task PATCH name="my task"`, `404`, `405 GET, HEAD, OPTIONS`, `400 @5 <message>`.
fn show(method: &str, path: &str) -> String {
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
    match route(&method, path) {
        Ok(found) => match found.name() {
            Some(name) => format!("{} {} name={name:?}", found.resource(), found.verb()),
            None => format!("{} {}", found.resource(), found.verb()),
        },
        Err(RouteError::NotFound) => "404".to_owned(),
        Err(RouteError::MethodNotAllowed { spec }) => format!("405 {}", spec.allow()),
        Err(RouteError::InvalidPath { message, position }) => format!("400 @{position} {message}"),
    }
}

#[test]
fn routes_match_the_table() {
    let cases = [
        ("GET", "/tasks", "Tasks GET"),
        ("HEAD", "/tasks", "Tasks HEAD"),
        ("OPTIONS", "/tasks", "Tasks OPTIONS"),
        ("POST", "/tasks", "405 GET, HEAD, OPTIONS"),
        ("GET", "/tasks/a", r#"Task GET name="a""#),
        ("POST", "/tasks/a", r#"Task POST name="a""#),
        ("PATCH", "/tasks/a", r#"Task PATCH name="a""#),
        ("DELETE", "/tasks/a", r#"Task DELETE name="a""#),
        (
            "PUT",
            "/tasks/a",
            "405 GET, HEAD, POST, PATCH, DELETE, OPTIONS",
        ),
        ("GET", "/task/a", r#"Task GET name="a""#),
        ("DELETE", "/task/a", r#"Task DELETE name="a""#),
        ("GET", "/parameters", "Parameters GET"),
        ("PATCH", "/parameters", "Parameters PATCH"),
        ("DELETE", "/parameters", "405 GET, HEAD, PATCH, OPTIONS"),
        ("GET", "/returns", "Returns GET"),
        ("PATCH", "/returns", "Returns PATCH"),
        ("GET", "/configs", "Configs GET"),
        ("PATCH", "/configs", "Configs PATCH"),
        ("PATCH", "/config", "Configs PATCH"),
        ("POST", "/config", "405 GET, HEAD, PATCH, OPTIONS"),
        ("GET", "/session", "Session GET"),
        ("PATCH", "/session", "405 GET, HEAD, OPTIONS"),
        ("GET", "/logs", "Logs GET"),
        ("GET", "/dependencies", "Dependencies GET"),
        ("GET", "/openapi.json", "OpenApi GET"),
        ("BREW", "/logs", "405 GET, HEAD, OPTIONS"),
        ("get", "/logs", "405 GET, HEAD, OPTIONS"),
    ];
    for (method, path, expected) in cases {
        assert_eq!(show(method, path), expected, "{method} {path}");
    }
}

#[test]
fn unknown_paths_are_404() {
    for path in [
        "",
        "*",
        "/",
        "tasks",
        "/tasks/",
        "/task",
        "/task/",
        "//tasks",
        "/tasks//",
        "/tasks/a/",
        "/tasks/a/b",
        "/Tasks",
        "/tasks.json",
        "/openapi",
        "/config/x",
        "/logs?x=1",
    ] {
        assert_eq!(show("GET", path), "404", "{path:?}");
        assert_eq!(show("DELETE", path), "404", "{path:?}");
    }
}

#[test]
fn names_are_one_decoded_segment() {
    let cases = [
        ("/tasks/my%20task", r#"Task GET name="my task""#),
        ("/tasks/a%2Fb", r#"Task GET name="a/b""#),
        ("/tasks/a%2fb", r#"Task GET name="a/b""#),
        ("/tasks/%C3%A9t%C3%A9", r#"Task GET name="été""#),
        ("/tasks/été", r#"Task GET name="été""#),
        ("/tasks/a+b", r#"Task GET name="a+b""#),
        ("/tasks/%25", r#"Task GET name="%""#),
        ("/tasks/'x'%20%26%20(y)", r#"Task GET name="'x' & (y)""#),
        ("/tasks/%2F", r#"Task GET name="/""#),
        ("/t%61sks", "Tasks GET"),
        ("/tasks%2Fa", "404"),
        (
            "/tasks/%",
            "400 @7 '%' in the path is not followed by two hex digits",
        ),
        (
            "/tasks/a%2",
            "400 @8 '%' in the path is not followed by two hex digits",
        ),
        (
            "/tasks/a%zz",
            "400 @8 '%' in the path is not followed by two hex digits",
        ),
        (
            "/nope/%g0",
            "400 @6 '%' in the path is not followed by two hex digits",
        ),
        (
            "/tasks/ok%FF",
            "400 @9 the percent-decoded path is not valid UTF-8",
        ),
        (
            "/tasks/%C3",
            "400 @7 the percent-decoded path is not valid UTF-8",
        ),
        (
            "/tasks/é%C3%28",
            "400 @9 the percent-decoded path is not valid UTF-8",
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(show("GET", path), expected, "{path}");
    }
}

#[test]
fn the_table_is_valid_and_the_check_finds_bad_rows() {
    assert_eq!(validate(ROUTES), Ok(()));
    let row = |pattern, verbs, alias_of| RouteSpec {
        pattern,
        resource: Resource::Task,
        verbs,
        alias_of,
    };
    let get: &'static [Verb] = &[Verb::Get];
    let cases = [
        (
            vec![row("tasks", get, None)],
            "route 'tasks' does not start with '/'",
        ),
        (
            vec![row("/a//b", get, None)],
            "route '/a//b' has an empty segment",
        ),
        (
            vec![row("/a/", get, None)],
            "route '/a/' has an empty segment",
        ),
        (
            vec![row("/a/{id}", get, None)],
            "route '/a/{id}' has a parameter other than {name}",
        ),
        (
            vec![row("/{name}/{name}", get, None)],
            "route '/{name}/{name}' has more than one parameter",
        ),
        (vec![row("/a", &[], None)], "route '/a' has no methods"),
        (
            vec![row("/a", &[Verb::Head], None)],
            "route '/a' lists HEAD or OPTIONS, which are implied",
        ),
        (
            vec![row("/a/b", get, None), row("/a/{name}", get, None)],
            "route '/a/{name}' overlaps an earlier route",
        ),
        (
            vec![row("/b", get, Some("/a"))],
            "route '/b' is an alias of a missing route '/a'",
        ),
        (
            vec![row("/a", get, None), row("/b", &[Verb::Post], Some("/a"))],
            "route '/b' differs from the route it is an alias of",
        ),
    ];
    for (table, expected) in cases {
        assert_eq!(validate(&table), Err(expected.to_owned()));
    }
}

#[test]
fn verbs_and_resources_have_their_wire_names() {
    for verb in Verb::ALL {
        let method = Method::from_bytes(verb.as_str().as_bytes()).ok();
        assert_eq!(method.as_ref().and_then(Verb::from_method), Some(verb));
        assert_eq!(serde_json::to_value(verb).ok(), Some(verb.as_str().into()));
    }
    assert!(Verb::Post.is_mutation() && Verb::Delete.is_mutation() && !Verb::Head.is_mutation());
    for spec in ROUTES {
        let name = spec.resource().as_str();
        assert_eq!(
            serde_json::to_value(spec.resource()).ok(),
            Some(name.into())
        );
    }
}

proptest::proptest! {
    /// No path, however odd, makes the router panic, and a matched name decodes
    /// back from the path's last segment.
    #[test]
    fn any_path_routes_without_panicking(path in "(/[a-z%0-9A-F\u{e9}/]{0,6}){0,4}") {
        if let Ok(found) = route(&Method::GET, &path)
            && let Some(name) = found.name()
        {
            let last = path.rsplit('/').next().unwrap_or_default();
            let decoded = decode_segment(last, 0).ok();
            proptest::prop_assert_eq!(decoded.as_deref(), Some(name));
        }
    }
}
