//! Filter tests: pair and JSON forms, JSON records, canonical text, fields and emptiness.

use super::*;

#[test]
fn pairs_and_json_forms() {
    let pairs = Filter::from_pairs([("mykey", "bad"), ("mykey", "good")]).expect("valid pairs");
    assert!(pairs.matches(&json!({"mykey": "good"})));
    assert!(!pairs.matches(&json!({"mykey": "neutral"})));
    // Pair values are decoded already: `+` and `%` stay as they are.
    let pairs = Filter::from_pairs([("f$regex", ".+task"), ("g", "%41")]).expect("valid pairs");
    assert!(pairs.matches(&json!({"f": "code-task", "g": "%41"})));

    // JSON values keep their types.
    let map = json!({"n$min": 10, "n$max": 20});
    let numeric = Filter::from_json(map.as_object().expect("object")).expect("valid map");
    let kept: Vec<i64> = [5, 30, 15, 10, 20]
        .into_iter()
        .filter(|n| numeric.matches(&json!({"n": n})))
        .collect();
    assert_eq!(kept, [15, 10, 20]);
    assert!(!numeric.matches(&json!({"n": "15"})));
    let typed = json!({"b": true, "z": null, "s": "0", "f": 1.5});
    let typed = Filter::from_json(typed.as_object().expect("object")).expect("valid map");
    assert!(typed.matches(&json!({"b": true, "z": null, "s": 0, "f": 1.5})));
    assert!(!typed.matches(&json!({"b": "true", "z": null, "s": 0, "f": 1.5})));
    assert!(!typed.matches(&json!({"b": true, "z": "null", "s": 0, "f": 1.5})));

    // An array is the key repeated.
    let any = json!({"action": ["run", "fail"]});
    let any = Filter::from_json(any.as_object().expect("object")).expect("valid map");
    assert_eq!(any.to_string(), "action=run&action=fail");

    for (bad, kind) in [
        (json!({"a": {"b": 1}}), ErrorKind::InvalidValue),
        (json!({"a": [[1]]}), ErrorKind::InvalidValue),
        (json!({"a": []}), ErrorKind::InvalidValue),
        (json!({"a$regex": 1}), ErrorKind::InvalidValue),
        (json!({"a$regex": "["}), ErrorKind::InvalidRegex),
        (json!({"a$x": 1}), ErrorKind::UnknownOperator),
        (json!({"": 1}), ErrorKind::EmptyKey),
    ] {
        let error = Filter::from_json(bad.as_object().expect("object")).expect_err("invalid map");
        assert_eq!((error.kind(), error.span()), (kind, None), "{bad}: {error}");
        assert!(error.key().is_some(), "{bad}: {error}");
    }
}

#[test]
fn json_records() {
    let record = json!({"s": "run", "i": 3, "u": u64::MAX, "f": 2.5, "b": false, "n": null, "a": [1], "o": {}});
    check_json(
        &record,
        &[
            ("s=run", true),
            ("i=3", true),
            ("u$min=1e19", true),
            ("u$min=20000000000000000000", false),
            ("f$min=2.5", true),
            ("b=false", true),
            ("n=null", true),
            ("a=1", false),
            ("a$not=1", true),
            ("o$not=x", true),
            ("missing$not=x", false),
        ],
    );
    assert!(
        !Filter::parse("s=run")
            .expect("valid")
            .matches(&json!("run"))
    );
    assert!(Filter::parse("").expect("valid").matches(&json!(null)));
}

/// Checks each query's verdict on one JSON record.
fn check_json(record: &serde_json::Value, rows: &[(&str, bool)]) {
    for (query, expected) in rows {
        let filter = Filter::parse(query).expect("valid query");
        assert_eq!(filter.matches(record), *expected, "{query} on {record}");
        let map = record.as_object().expect("object");
        assert_eq!(
            filter.matches(map),
            *expected,
            "{query} on the map {record}"
        );
    }
}

#[test]
fn canonical_text_round_trips() {
    let rows = [
        ("", ""),
        ("?a=1", "a=1"),
        ("b=2&a=1&b=3", "b=2&b=3&a=1"),
        (
            "t$min=2021-01-01+12:00&t$max=2021-01-01T13:00:00%2B02:00",
            "t$min=2021-01-01%2012:00&t$max=2021-01-01T13:00:00%2B02:00",
        ),
        ("f$regex=.%2B+or+%26=%25", "f$regex=.%2B%20or%20%26%3D%25"),
        ("a%24not=%C3%A9", "a$not=%C3%A9"),
    ];
    for (query, canonical) in rows {
        let filter = Filter::parse(query).expect("valid query");
        assert_eq!(filter.to_string(), canonical, "{query}");
        let again = Filter::parse(canonical).expect("canonical text parses");
        assert_eq!(again.to_string(), canonical, "{query}");
    }
    let parsed: Filter = "a=1".parse().expect("FromStr");
    assert_eq!(parsed.to_string(), "a=1");
}

#[test]
fn fields_and_emptiness() {
    let filter = Filter::parse("b=1&a$min=2&b$not=3&a=4").expect("valid");
    assert_eq!(filter.fields(), ["b", "a"]);
    assert!(!filter.is_empty());
    assert!(Filter::parse("?&").expect("valid").is_empty());
    assert!(Filter::default().matches(&json!({})));
}
