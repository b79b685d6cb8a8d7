//! Tests of body and query extraction: limits, JSON errors with positions, nesting, queries.

use http_body_util::Full;
use hyper::header::HeaderValue;
use serde_json::json;

use super::*;

/// Extracts a JSON object from `body` (declaring `content_length` if given)
/// with `limit`, and prints the outcome: the object as JSON, or
/// `<status> <message> @<position>`.
fn check(body: &[u8], content_length: Option<&str>, limit: usize) -> String {
    let mut headers = HeaderMap::new();
    if let Some(len) = content_length.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::CONTENT_LENGTH, len);
    }
    let body = Full::new(Bytes::copy_from_slice(body));
    let runtime = tokio::runtime::Builder::new_current_thread().build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(json_object(&headers, body, limit, None)),
        Err(error) => panic!("no runtime: {error}"),
    };
    match result {
        Ok(map) => Value::Object(map).to_string(),
        Err(error) => {
            let position = error
                .fields()
                .get("position")
                .map(|p| format!(" @{p}"))
                .unwrap_or_default();
            format!("{} {}{position}", error.status().as_u16(), error.message())
        }
    }
}

#[test]
fn bodies_must_be_one_json_object() {
    let cases: [(&[u8], &str); 12] = [
        (br#"{"a": 1}"#, r#"{"a":1}"#),
        (b" \n{}\n", "{}"),
        (
            br#"{"a": {"b": [1, {"c": null}]}}"#,
            r#"{"a":{"b":[1,{"c":null}]}}"#,
        ),
        (b"", "400 expected a JSON object, found an empty body"),
        (
            b"  \r\n ",
            "400 expected a JSON object, found an empty body",
        ),
        (b"[1, 2]", "400 expected a JSON object, found an array"),
        (b"\"text\"", "400 expected a JSON object, found a string"),
        (b"null", "400 expected a JSON object, found null"),
        (
            b"{\"a\": }",
            "400 the body is not valid JSON: expected value at line 1 column 7 @6",
        ),
        (
            b"{\"a\": 1,\n \"b\" 2}",
            "400 the body is not valid JSON: expected `:` at line 2 column 6 @14",
        ),
        (
            b"{\"a\": 1} x",
            "400 the body is not valid JSON: trailing characters at line 1 column 10 @9",
        ),
        (
            b"{\"a\": \"\xff\"}",
            "400 the body is not valid JSON: invalid unicode code point at line 1 column 8 @7",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            check(body, None, DEFAULT_BODY_LIMIT),
            expected,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn json_errors_carry_a_caret_rendering() {
    let Err(error) = parse_object(b"{\"start_cond\": daily}") else {
        panic!("parsed");
    };
    let detail = error
        .fields()
        .get("detail")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert_eq!(
        detail,
        "the body is not valid JSON: expected value at line 1 column 16\n  {\"start_cond\": daily}\n                 ^"
    );
    assert_eq!(error.fields().get("line"), Some(&json!(1)));
    assert_eq!(error.fields().get("column"), Some(&json!(16)));
}

#[test]
fn bodies_over_the_limit_are_413_without_reading_on() {
    let big = vec![b' '; 2 << 20];
    let too_large = "413 the request body is larger than the limit of 1048576 bytes";
    let cases: [(&[u8], Option<&str>, usize, &str); 6] = [
        (&big, None, DEFAULT_BODY_LIMIT, too_large),
        (&big, Some("2097152"), DEFAULT_BODY_LIMIT, too_large),
        // Content-Length alone decides, before any byte is read.
        (b"{}", Some("1048577"), DEFAULT_BODY_LIMIT, too_large),
        (b"{}", Some("1048576"), DEFAULT_BODY_LIMIT, "{}"),
        (br#"{"a": 1}"#, None, 8, r#"{"a":1}"#),
        (
            br#"{"a": 10}"#,
            None,
            8,
            "413 the request body is larger than the limit of 8 bytes",
        ),
    ];
    for (body, declared, limit, expected) in cases {
        assert_eq!(
            check(body, declared, limit),
            expected,
            "{} bytes, {declared:?}, limit {limit}",
            body.len()
        );
    }
}

#[test]
fn deep_nesting_is_a_400_not_a_stack_overflow() {
    let shallow = format!("{{\"a\": {}1{}}}", "[".repeat(100), "]".repeat(100));
    assert!(check(shallow.as_bytes(), None, DEFAULT_BODY_LIMIT).starts_with("{\"a\":[[[["));
    for depth in [200, 100_000, 500_000] {
        let deep = format!("{{\"a\": {}1{}}}", "[".repeat(depth), "]".repeat(depth));
        let outcome = check(deep.as_bytes(), None, 4 << 20);
        assert_eq!(
            outcome,
            "400 the body is not valid JSON: recursion limit exceeded at line 1 column 133 @132",
            "depth {depth}"
        );
        let objects = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let outcome = check(objects.as_bytes(), None, 8 << 20);
        assert!(
            outcome.starts_with("400 the body is not valid JSON: recursion limit exceeded"),
            "{outcome}"
        );
    }
}

#[test]
fn queries_become_parameters_or_positioned_400s() {
    let cases = [
        (None, Ok(vec![])),
        (Some(""), Ok(vec![])),
        (
            Some("action=run&action=fail"),
            Ok(vec!["action=run", "action=fail"]),
        ),
        (
            Some("name$regex=.%2Btask&x"),
            Ok(vec!["name$regex=.+task", "x="]),
        ),
        (
            Some("timestamp$min=2021-01-01+10:00"),
            Ok(vec!["timestamp$min=2021-01-01 10:00"]),
        ),
        (
            Some("action$foo=run"),
            Err(
                "unknown operator '$foo' in key 'action$foo', expected $min, $max, $not or $regex at byte 6 @6 key=action$foo",
            ),
        ),
        (
            Some("a=%zz"),
            Err("invalid percent-encoding '%zz' in the value of key 'a' at byte 2 @2 key=a"),
        ),
        (Some("=x"), Err("empty key at byte 0 @0 key=")),
    ];
    for (raw, expected) in cases {
        let got = query(raw).map(|q| {
            q.params()
                .iter()
                .map(|p| format!("{}={}", p.key(), p.value()))
                .collect::<Vec<_>>()
        });
        match (got, expected) {
            (Ok(params), Ok(expected)) => assert_eq!(params, expected, "{raw:?}"),
            (Err(error), Err(expected)) => {
                assert_eq!(error.status().as_u16(), 400, "{raw:?}");
                let position = error
                    .fields()
                    .get("position")
                    .map(|p| format!("@{p}"))
                    .unwrap_or_default();
                let key = error
                    .fields()
                    .get("key")
                    .and_then(Value::as_str)
                    .map(|k| format!(" key={k}"))
                    .unwrap_or_default();
                let shown = format!("{} {position}{key}", error.message());
                assert_eq!(shown, expected, "{raw:?}");
                assert!(error.fields().contains_key("detail"), "{raw:?}");
            }
            (got, _) => panic!("{raw:?}: unexpected {got:?}"),
        }
    }
}

#[test]
fn a_bad_regex_is_a_400_when_the_filter_is_compiled() {
    let parsed = query(Some("action=run&name$regex=(")).map_err(|e| e.to_string());
    let filter = parsed
        .as_ref()
        .map(|q| q.filter(&FilterOptions::default()).map(|_| ()));
    let Ok(Err(error)) = filter else {
        panic!("the regex compiled: {parsed:?}");
    };
    assert_eq!(error.status().as_u16(), 400);
    assert_eq!(error.fields().get("key"), Some(&json!("name$regex")));
    assert_eq!(error.fields().get("position"), Some(&json!(22)));
    let Ok(query) = parsed else { return };
    assert_eq!(query.raw(), "action=run&name$regex=(");
    assert!(!query.is_empty());
    assert!(query.filter(&FilterOptions::default()).is_err());
    assert!(matches!(
        super::query(Some("action=run")).map(|q| q.filter(&FilterOptions::default()).is_ok()),
        Ok(true)
    ));
}

/// A body that sends `head` and then nothing more, ever (a client that
/// stalls mid-body, or a chunked body without its last chunk).
struct Stalled {
    head: Option<Bytes>,
}

impl Body for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        match self.head.take() {
            Some(head) => std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(head)))),
            None => std::task::Poll::Pending,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stops_arriving_is_a_408_after_the_timeout() {
    for (head, timeout) in [
        (None, Duration::from_secs(30)),
        (Some("{\"a\": "), Duration::from_secs(30)),
        (Some("{"), Duration::from_millis(1500)),
    ] {
        let started = tokio::time::Instant::now();
        let body = Stalled {
            head: head.map(|h: &'static str| Bytes::from_static(h.as_bytes())),
        };
        let Err(error) =
            json_object(&HeaderMap::new(), body, DEFAULT_BODY_LIMIT, Some(timeout)).await
        else {
            panic!("a stalled body was read: {head:?}");
        };
        assert_eq!(error.status().as_u16(), 408, "{head:?}");
        assert_eq!(
            error.message(),
            format!(
                "the request body did not arrive within {} seconds",
                timeout.as_secs_f64()
            )
        );
        assert_eq!(
            error.fields().get("timeout_seconds"),
            Some(&json!(timeout.as_secs_f64()))
        );
        assert_eq!(started.elapsed(), timeout, "{head:?}");
    }
    // A body that is all there is read, however short the timeout.
    let body = Full::new(Bytes::from_static(b"{\"a\": 1}"));
    let headers = HeaderMap::new();
    let timeout = Some(Duration::from_millis(1));
    let read = json_object(&headers, body, DEFAULT_BODY_LIMIT, timeout).await;
    assert_eq!(read.map(Value::Object).ok(), Some(json!({"a": 1})));
}
