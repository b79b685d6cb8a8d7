//! Property tests: no input string makes building, checking or matching a filter panic.

use engine_query::{FieldType, Filter, Schema, Value, parse_query};
use proptest::prelude::*;
use serde_json::json;

/// Text built mostly from the characters the query syntax cares about.
fn query_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z$%&=+0-9A-Fa-f.*()\\[\\]?:{} \\\\#|^-]{0,40}",
        "[a-z0-9$%=&+\u{e9}\u{1F600}\u{0}-\u{1f}]{0,30}",
        any::<String>(),
        // Well-formed-looking queries with typed values.
        (
            "[a-c]{1,2}",
            prop_oneof![
                Just(""),
                Just("$min"),
                Just("$max"),
                Just("$not"),
                Just("$regex"),
                Just("$x")
            ],
            prop_oneof![
                Just("2021-01-01".to_owned()),
                Just("2021-01-01+12:00:30.5".to_owned()),
                Just("2021-01-01T12:00%2B02:00".to_owned()),
                "-?[0-9]{1,20}(\\.[0-9]{0,3})?",
                Just("true".to_owned()),
                Just("null".to_owned()),
                "%[0-9A-Fa-fz]{0,2}",
                "[a-z.+*()]{0,5}",
            ],
        )
            .prop_map(|(k, op, v)| format!("{k}{op}={v}")),
    ]
}

/// Records of every value type.
fn records() -> Vec<serde_json::Value> {
    vec![
        json!({}),
        json!(null),
        json!({"a": "run", "b": 1, "c": 1.5}),
        json!({"a": "2021-01-01 12:00:30", "b": "2021-01-01T10:00Z", "c": null}),
        json!({"a": true, "b": [1, 2], "c": {"x": 1}}),
        json!({"a": -9_223_372_036_854_775_808_i64, "b": u64::MAX, "c": "\u{1F600}"}),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_checking_and_matching_never_panic(parts in prop::collection::vec(query_text(), 0..5)) {
        let query = parts.join("&");
        let _ = parse_query(&query);
        if let Ok(filter) = Filter::parse(&query) {
            for record in records() {
                let _ = filter.matches(&record);
            }
            let schema: Schema = [("a", FieldType::Time), ("b", FieldType::Int), ("c", FieldType::Text)].into_iter().collect();
            let _ = filter.check(&schema);
            for ty in [FieldType::Bool, FieldType::Int, FieldType::Float, FieldType::Text, FieldType::Time] {
                let _ = filter.constraint("a", ty);
            }
            // The canonical text parses back to the same canonical text.
            let canonical = filter.to_string();
            let again = Filter::parse(&canonical);
            prop_assert!(again.is_ok(), "{query:?} -> {canonical:?}: {again:?}");
            prop_assert_eq!(again.map(|f| f.to_string()).ok(), Some(canonical));
        }
    }

    #[test]
    fn pairs_never_panic(pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..4)) {
        if let Ok(filter) = Filter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            for record in records() {
                let _ = filter.matches(&record);
            }
        }
    }

    #[test]
    fn errors_point_inside_the_query(query in query_text()) {
        if let Err(error) = Filter::parse(&query) {
            let span = error.span().expect("query errors have a span");
            prop_assert!(span.start <= span.end && span.end <= query.len(), "{query:?}: {span:?}");
            prop_assert!(query.is_char_boundary(span.start) && query.is_char_boundary(span.end), "{query:?}: {span:?}");
            prop_assert!(error.key().is_some());
        }
    }

    #[test]
    fn push_down_is_necessary(
        bounds in prop::collection::vec((prop_oneof![Just(""), Just("$min"), Just("$max"), Just("$not")], -20i64..20, 0u8..3), 1..5),
        values in prop::collection::vec(-25i64..25, 1..20),
    ) {
        // Integer, half and non-numeric bounds on one field `n`.
        let query = bounds
            .iter()
            .map(|(op, n, kind)| match kind {
                0 => format!("n{op}={n}"),
                1 => format!("n{op}={n}.5"),
                _ => format!("n{op}=x{n}"),
            })
            .collect::<Vec<_>>()
            .join("&");
        let filter = Filter::parse(&query).expect("well-formed query");
        let ints = filter.constraint("n", FieldType::Int);
        let floats = filter.constraint("n", FieldType::Float);
        for v in values {
            if filter.matches(&json!({"n": v})) {
                prop_assert!(ints.admits(Value::Int(v)), "{query}: {v} matches but is not admitted by {ints:?}");
            }
            let x = v as f64 / 2.0;
            if filter.matches(&json!({"n": x})) {
                prop_assert!(floats.admits(Value::Float(x)), "{query}: {x} matches but is not admitted by {floats:?}");
            }
        }
    }
}
