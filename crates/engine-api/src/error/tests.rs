//! Tests of `ApiError`: statuses, JSON bodies, headers, conversions and caret rendering.

use http_body_util::BodyExt;
use hyper::Method;
use serde_json::json;

use super::*;
use crate::router::route;

/// Turns `error` into a response and returns its status, JSON body and the
/// `Allow`, `WWW-Authenticate` and `Content-Type` headers.
fn check(error: ApiError) -> (u16, Value, [Option<String>; 3]) {
    let response = error.into_response();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let headers = [
        header(header::ALLOW),
        header(header::WWW_AUTHENTICATE),
        header(header::CONTENT_TYPE),
    ];
    let status = response.status().as_u16();
    let Ok(collected) = block_on(response.into_body().collect());
    let bytes = collected.to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body, headers)
}

/// Polls a future that never pends (a `Full` body) to completion.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread().build();
    match runtime {
        Ok(runtime) => runtime.block_on(future),
        Err(error) => panic!("no runtime: {error}"),
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

#[test]
fn errors_become_json_responses() {
    let json_type = some("application/json");
    let not_allowed = route(&Method::POST, "/logs").map(|_| ()).unwrap_err();
    let cases = [
        (
            ApiError::new(ErrorKind::BadRequest, "expected a JSON object"),
            400,
            json!({"error": "expected a JSON object"}),
            [None, None],
        ),
        (
            ApiError::unauthorized("missing bearer token", r#"Bearer realm="engine""#),
            401,
            json!({"error": "missing bearer token"}),
            [None, some(r#"Bearer realm="engine""#)],
        ),
        (
            ApiError::new(ErrorKind::Forbidden, "the token does not allow writes"),
            403,
            json!({"error": "the token does not allow writes"}),
            [None, None],
        ),
        (
            ApiError::from(RouteError::NotFound),
            404,
            json!({"error": "no route matches this path"}),
            [None, None],
        ),
        (
            ApiError::from(not_allowed),
            405,
            json!({
                "error": "this path does not allow this method, only GET, HEAD, OPTIONS",
                "allowed": ["GET", "HEAD", "OPTIONS"],
            }),
            [some("GET, HEAD, OPTIONS"), None],
        ),
        (
            ApiError::new(ErrorKind::Conflict, "a task named 'a' already exists")
                .with_field("error", "ignored"),
            409,
            json!({"error": "a task named 'a' already exists"}),
            [None, None],
        ),
        (
            ApiError::new(
                ErrorKind::PayloadTooLarge,
                "the body is larger than 1048576 bytes",
            )
            .with_field("limit", 1_048_576),
            413,
            json!({"error": "the body is larger than 1048576 bytes", "limit": 1_048_576}),
            [None, None],
        ),
        (
            ApiError::new(
                ErrorKind::Internal,
                "the session lock is poisoned: secret detail",
            )
            .with_field("secret", "x")
            .with_source(std::io::Error::other("disk on fire")),
            500,
            json!({"error": "internal server error"}),
            [None, None],
        ),
        (
            ApiError::new(ErrorKind::Store, "cannot append to requests.jsonl"),
            500,
            json!({"error": "internal server error"}),
            [None, None],
        ),
        (
            ApiError::from(RouteError::InvalidPath {
                message: "bad %".to_owned(),
                position: 7,
            }),
            400,
            json!({"error": "bad %", "position": 7}),
            [None, None],
        ),
    ];
    for (error, status, body, [allow, challenge]) in cases {
        let message = error.to_string();
        assert_eq!(
            check(error),
            (status, body, [allow, challenge, json_type.clone()]),
            "{message}"
        );
    }
}

#[test]
fn core_errors_map_to_statuses_with_position_and_caret() {
    let condition = "daily between 10:00 and";
    let Err(error) = condition.parse::<engine_core::Condition>() else {
        panic!("'{condition}' parsed");
    };
    let (status, body, _) = check(ApiError::from(error.clone()));
    assert_eq!(status, 400);
    assert_eq!(body["error"], error.to_string());
    let position = error.span().map(|s| s.start);
    assert_eq!(
        body["position"].as_u64(),
        position.and_then(|p| u64::try_from(p).ok())
    );
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with(&error.to_string()), "{detail}");
    assert!(detail.contains(&format!("\n  {condition}\n  ")), "{detail}");
    assert!(detail.ends_with('^'), "{detail}");
}

#[test]
fn query_errors_are_400_with_key_and_position() {
    let query = "action=run&action$foo=x";
    let Err(error) = engine_query::Filter::parse(query) else {
        panic!("'{query}' compiled");
    };
    let span = error.span().unwrap_or_default();
    let api = ApiError::from(error).with_position(query, span);
    let (status, body, _) = check(api);
    assert_eq!(status, 400);
    assert_eq!(body["key"], "action$foo");
    assert_eq!(body["position"], 17);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.ends_with("\n  action=run&action$foo=x\n                   ^^^^"),
        "{detail}"
    );
}

#[test]
fn carets_never_panic_and_point_at_the_span() {
    let cases = [
        ("abc", 1..2, "  abc\n   ^"),
        ("abc", 3..3, "  abc\n     ^"),
        ("abc", 7..9, "  abc\n     ^"),
        ("abc", Range { start: 2, end: 1 }, "  abc\n    ^"),
        ("été x", 1..3, "  été x\n  ^^"),
        ("été x", 2..7, "  été x\n   ^^^^"),
        ("one\ntwo three", 8..13, "  two three\n      ^^^^^"),
        ("one\ntwo", 0..7, "  one\n  ^^^"),
        ("", 0..0, "  \n  ^"),
    ];
    for (input, span, expected) in cases {
        assert_eq!(caret(input, span.clone()), expected, "{input:?} {span:?}");
    }
}

#[test]
fn server_side_kinds_are_500_and_client_kinds_are_4xx() {
    let kinds = [
        (ErrorKind::BadRequest, 400),
        (ErrorKind::Unauthorized, 401),
        (ErrorKind::Forbidden, 403),
        (ErrorKind::NotFound, 404),
        (ErrorKind::MethodNotAllowed, 405),
        (ErrorKind::Conflict, 409),
        (ErrorKind::PayloadTooLarge, 413),
        (ErrorKind::Internal, 500),
        (ErrorKind::Store, 500),
        (ErrorKind::Config, 500),
        (ErrorKind::Io, 500),
    ];
    for (kind, status) in kinds {
        assert_eq!(kind.status().as_u16(), status, "{kind:?}");
    }
}
