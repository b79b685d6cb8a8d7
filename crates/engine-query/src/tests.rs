//! Unit tests of compiled filters: operators, typing, grouping, options, errors, check, push-down.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;

use crate::{ErrorKind, FieldType, Filter, FilterOptions, MAX_REGEXES, Record, Schema, Value};

/// A record given as a list of fields.
struct Fields(Vec<(&'static str, Value<'static>)>);

impl Record for Fields {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// An instant from RFC 3339 text.
fn t(text: &str) -> Value<'static> {
    Value::Time(text.parse::<DateTime<Utc>>().expect("test time"))
}

/// One row: query, record fields, whether the filter keeps the record.
type Row = (&'static str, Vec<(&'static str, Value<'static>)>, bool);

/// Compiles each query with `options` and checks the verdict on its record; all
/// failures are reported together.
fn check_with(options: &FilterOptions, rows: &[Row]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(query, fields, expected)| {
            let record = Fields(fields.clone());
            match options.parse(query) {
                Ok(filter) if filter.matches(&record) == *expected => None,
                Ok(_) => Some(format!("{query:?} on {fields:?}: expected {expected}")),
                Err(e) => Some(format!("{query:?}: unexpected error {e}")),
            }
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// [`check_with`] with default options (times in UTC).
fn check(rows: &[Row]) {
    check_with(&FilterOptions::default(), rows);
}

use Value::{Bool, Float, Int, Null, Other, Str};

#[test]
fn equality_not_and_missing_fields() {
    check(&[
        ("", vec![], true),
        ("f=x", vec![("f", Str("x"))], true),
        ("f=x", vec![("f", Str("y"))], false),
        ("f=x", vec![("f", Str("X"))], false),
        ("F=x", vec![("f", Str("x"))], false),
        ("f=", vec![("f", Str(""))], true),
        ("f", vec![("f", Str(""))], true),
        ("f$not=x", vec![("f", Str("y"))], true),
        ("f$not=x", vec![("f", Str("x"))], false),
        // A record without the field matches nothing on it, `$not` included.
        ("g=x", vec![("f", Str("x"))], false),
        ("g$not=x", vec![("f", Str("x"))], false),
        ("g$min=a", vec![("f", Str("x"))], false),
        ("g$regex=", vec![("f", Str("x"))], false),
        // Null equals only `null`; `$not` is the negation of `=`.
        ("f=null", vec![("f", Null)], true),
        ("f=x", vec![("f", Null)], false),
        ("f$not=x", vec![("f", Null)], true),
        ("f$not=null", vec![("f", Null)], false),
        ("f$min=a", vec![("f", Null)], false),
        ("f$max=z", vec![("f", Null)], false),
        ("f$min=null", vec![("f", Null)], false),
        ("f$regex=.*", vec![("f", Null)], false),
        ("f=null", vec![("f", Str("null"))], true),
        // Other values equal nothing.
        ("f=x", vec![("f", Other)], false),
        ("f$min=a", vec![("f", Other)], false),
        ("f$not=x", vec![("f", Other)], true),
    ]);
}

#[test]
fn numbers_and_booleans() {
    check(&[
        ("f=0", vec![("f", Int(0))], true),
        ("f=0", vec![("f", Int(1))], false),
        ("f=%2B0", vec![("f", Int(0))], true),
        // `+` is a space, and " 0" is not a number.
        ("f=+0", vec![("f", Int(0))], false),
        ("f=-3", vec![("f", Int(-3))], true),
        ("f=0", vec![("f", Float(0.0))], true),
        ("f=0.0", vec![("f", Int(0))], true),
        ("f=1.5", vec![("f", Float(1.5))], true),
        ("f=1.5", vec![("f", Int(1))], false),
        ("f=1e3", vec![("f", Int(1000))], true),
        ("f=.5", vec![("f", Float(0.5))], true),
        ("f$min=1.5", vec![("f", Int(2))], true),
        ("f$min=1.5", vec![("f", Int(1))], false),
        ("f$max=1.5", vec![("f", Int(1))], true),
        ("f$min=10&f$max=20", vec![("f", Int(10))], true),
        ("f$min=10&f$max=20", vec![("f", Int(20))], true),
        ("f$min=10&f$max=20", vec![("f", Int(21))], false),
        ("f$min=10&f$max=20", vec![("f", Int(9))], false),
        ("f$min=9", vec![("f", Int(10))], true),
        ("f$not=10", vec![("f", Int(5))], true),
        ("f$not=10", vec![("f", Int(10))], false),
        ("f$not=abc", vec![("f", Int(10))], true),
        ("f=abc", vec![("f", Int(10))], false),
        ("f$min=abc", vec![("f", Int(10))], false),
        (
            "f=9007199254740993",
            vec![("f", Int(9_007_199_254_740_993))],
            true,
        ),
        (
            "f=9007199254740993",
            vec![("f", Float(9_007_199_254_740_992.0))],
            false,
        ),
        (
            "f$max=9223372036854775807",
            vec![("f", Int(i64::MAX))],
            true,
        ),
        ("f$min=1e30", vec![("f", Int(i64::MAX))], false),
        ("f=nan", vec![("f", Float(f64::NAN))], false),
        ("f$not=nan", vec![("f", Float(f64::NAN))], true),
        ("f$min=0", vec![("f", Float(f64::NAN))], false),
        ("f=inf", vec![("f", Float(f64::INFINITY))], false),
        ("f=infinity", vec![("f", Float(f64::INFINITY))], false),
        ("f=true", vec![("f", Bool(true))], true),
        ("f=false", vec![("f", Bool(true))], false),
        ("f=false", vec![("f", Bool(false))], true),
        ("f=True", vec![("f", Bool(true))], false),
        ("f=1", vec![("f", Bool(true))], false),
        ("f$not=false", vec![("f", Bool(true))], true),
        ("f$min=false", vec![("f", Bool(true))], true),
        ("f$max=false", vec![("f", Bool(true))], false),
    ]);
}

#[test]
fn text_compares_by_code_point() {
    check(&[
        ("f=10", vec![("f", Str("10"))], true),
        ("f=10", vec![("f", Str("10.0"))], false),
        ("f$min=10", vec![("f", Str("9"))], true),
        ("f$min=b", vec![("f", Str("b"))], true),
        ("f$min=b", vec![("f", Str("abc"))], false),
        ("f$min=b", vec![("f", Str("é"))], true),
        ("f$max=b", vec![("f", Str("B"))], true),
        ("f$min=%E2%82%AC", vec![("f", Str("\u{1F600}"))], true),
        ("f$max=%EF%BF%BF", vec![("f", Str("\u{10000}"))], false),
        ("f=true", vec![("f", Str("true"))], true),
        ("f=a+b", vec![("f", Str("a b"))], true),
        ("f=a%2Bb", vec![("f", Str("a+b"))], true),
        ("f=%C3%A9", vec![("f", Str("é"))], true),
        ("f=é", vec![("f", Str("é"))], true),
    ]);
}

#[test]
fn times() {
    check(&[
        ("f=2021-01-01", vec![("f", t("2021-01-01T00:00:00Z"))], true),
        (
            "f=2021-01-01",
            vec![("f", t("2021-01-01T00:00:01Z"))],
            false,
        ),
        (
            "f$not=2021-01-01",
            vec![("f", t("2021-01-01T00:00:01Z"))],
            true,
        ),
        (
            "f$min=2021-01-01",
            vec![("f", t("2021-01-01T00:00:00Z"))],
            true,
        ),
        (
            "f$min=2021-01-01",
            vec![("f", t("2020-12-31T23:59:59.999999999Z"))],
            false,
        ),
        (
            "f$max=2021-01-01",
            vec![("f", t("2021-01-01T23:59:59.999999999Z"))],
            true,
        ),
        (
            "f$max=2021-01-01",
            vec![("f", t("2021-01-02T00:00:00Z"))],
            false,
        ),
        (
            "f$max=2021-01-01 12:00",
            vec![("f", t("2021-01-01T12:00:00Z"))],
            true,
        ),
        (
            "f$max=2021-01-01 12:00",
            vec![("f", t("2021-01-01T12:00:00.000001Z"))],
            false,
        ),
        (
            "f$min=2021-01-01 13:01:00",
            vec![("f", t("2021-01-01T13:01:00Z"))],
            true,
        ),
        (
            "f$min=2021-01-01T12:00:00%2B02:00",
            vec![("f", t("2021-01-01T10:00:00Z"))],
            true,
        ),
        (
            "f$min=2021-01-01T12:00:00%2B02:00",
            vec![("f", t("2021-01-01T09:59:59Z"))],
            false,
        ),
        (
            "f=2021-01-01T12:00:00.5Z",
            vec![("f", t("2021-01-01T12:00:00.5Z"))],
            true,
        ),
        // A bound that is not a time does not match a time field (only `$not` does).
        ("f=yesterday", vec![("f", t("2021-01-01T00:00:00Z"))], false),
        (
            "f$min=yesterday",
            vec![("f", t("2021-01-01T00:00:00Z"))],
            false,
        ),
        (
            "f$not=yesterday",
            vec![("f", t("2021-01-01T00:00:00Z"))],
            true,
        ),
        // A time bound does not match numbers or booleans.
        ("f$min=2021-01-01", vec![("f", Int(1_609_459_200))], false),
        // Text that reads as a time compares as a time with a time bound.
        (
            "f=2021-01-01",
            vec![("f", Str("2021-01-01 00:00:00"))],
            true,
        ),
        (
            "f=2021-01-01",
            vec![("f", Str("2021-01-01T00:00:00Z"))],
            true,
        ),
        (
            "f$max=2021-01-01",
            vec![("f", Str("2021-01-01T23:00:00"))],
            true,
        ),
        ("f$max=2021-01-01", vec![("f", Str("2021-01-02"))], false),
        (
            "f$min=2021-01-01 00:00:00.5",
            vec![("f", Str("2021-01-01 00:00:00.4"))],
            false,
        ),
        (
            "f$min=2021-01-01T01:00:00%2B01:00",
            vec![("f", Str("2021-01-01 00:00:00"))],
            true,
        ),
        // Otherwise text compares as text.
        ("f$min=2021-01-01", vec![("f", Str("3000"))], true),
        ("f$min=2021", vec![("f", Str("2021-01-01 00:00:00"))], true),
    ]);
}

#[test]
fn times_in_a_zone() {
    let plus_two =
        FilterOptions::default().with_offset(FixedOffset::east_opt(7200).expect("valid offset"));
    check_with(
        &plus_two,
        &[
            ("f=2021-01-01", vec![("f", t("2020-12-31T22:00:00Z"))], true),
            (
                "f$max=2021-01-01",
                vec![("f", t("2021-01-01T21:59:59Z"))],
                true,
            ),
            (
                "f$max=2021-01-01",
                vec![("f", t("2021-01-01T22:00:00Z"))],
                false,
            ),
            (
                "f$min=2021-01-01 12:00",
                vec![("f", t("2021-01-01T10:00:00Z"))],
                true,
            ),
            (
                "f$min=2021-01-01 12:00",
                vec![("f", t("2021-01-01T09:59:59Z"))],
                false,
            ),
            (
                "f$min=2021-01-01T12:00Z",
                vec![("f", t("2021-01-01T11:59:59Z"))],
                false,
            ),
            // Text fields without an offset are read in the same zone.
            (
                "f=2021-01-01 12:00",
                vec![("f", Str("2021-01-01 12:00:00"))],
                true,
            ),
            (
                "f=2021-01-01T10:00Z",
                vec![("f", Str("2021-01-01 12:00"))],
                true,
            ),
        ],
    );
    // A caller's zone function; a local time it says does not exist matches nothing.
    let custom = FilterOptions::default().with_local(|naive| {
        (naive.and_utc().timestamp() != 0).then(|| naive.and_utc() - chrono::TimeDelta::hours(1))
    });
    check_with(
        &custom,
        &[
            (
                "f=2021-01-01 01:00",
                vec![("f", t("2021-01-01T00:00:00Z"))],
                true,
            ),
            (
                "f$min=1970-01-01",
                vec![("f", t("2021-01-01T00:00:00Z"))],
                false,
            ),
            (
                "f$min=1970-01-01T00:00Z",
                vec![("f", t("2021-01-01T00:00:00Z"))],
                true,
            ),
        ],
    );
}

#[test]
fn regex_is_anchored_at_the_start_only() {
    check(&[
        ("f$regex=r", vec![("f", Str("run"))], true),
        ("f$regex=un", vec![("f", Str("run"))], false),
        ("f$regex=.%2Btask", vec![("f", Str("code-task"))], true),
        // `+` is a space in a query string: the regex is `. task`.
        ("f$regex=.+task", vec![("f", Str("code-task"))], false),
        ("f$regex=.+task", vec![("f", Str("a task"))], true),
        ("f$regex=fail$", vec![("f", Str("fail"))], true),
        ("f$regex=fail$", vec![("f", Str("failed"))], false),
        ("f$regex=(?i)RUN", vec![("f", Str("run"))], true),
        ("f$regex=", vec![("f", Str(""))], true),
        ("f$regex=", vec![("f", Str("x"))], true),
        ("f$regex=a|b", vec![("f", Str("xb"))], false),
        ("f$regex=a|b", vec![("f", Str("bx"))], true),
        ("f$regex=.%2B or .%2B", vec![("f", Str("foo or bar"))], true),
        (
            "f$regex=.%2B or .%2B",
            vec![("f", Str("foo and bar"))],
            false,
        ),
        ("f$regex=.%2B or .%2B", vec![("f", Str(""))], false),
        ("f$regex=(?x)r+%23+comment", vec![("f", Str("run"))], true),
        ("f$regex=(?x)u+%23+comment", vec![("f", Str("run"))], false),
        ("f$regex=1", vec![("f", Int(1))], false),
        (
            "f$regex=2021",
            vec![("f", t("2021-01-01T00:00:00Z"))],
            false,
        ),
        ("f$regex=a&f$regex=b", vec![("f", Str("bc"))], true),
    ]);
}

#[test]
fn repeated_keys_or_different_keys_and() {
    check(&[
        ("a=1&a=2", vec![("a", Int(2))], true),
        ("a=1&a=2", vec![("a", Int(3))], false),
        ("a=1&b=2", vec![("a", Int(1)), ("b", Int(2))], true),
        ("a=1&b=2", vec![("a", Int(1)), ("b", Int(3))], false),
        // Per-key grouping, not v1.2.0's QUIRK-Q1 (which ORs all repeated keys together).
        (
            "a=1&a=2&b=x&b=y",
            vec![("a", Int(1)), ("b", Str("z"))],
            false,
        ),
        (
            "a=1&a=2&b=x&b=y",
            vec![("a", Int(2)), ("b", Str("y"))],
            true,
        ),
        ("a$min=5&a$min=1", vec![("a", Int(3))], true),
        ("a$min=5&a$min=1&a$max=2", vec![("a", Int(3))], false),
        ("a=1&a$not=1", vec![("a", Int(1))], false),
        // Repeated `$not` ORs too: "not run, or not fail" holds for every value.
        ("a$not=run&a$not=fail", vec![("a", Str("run"))], true),
        (
            "mykey1=bad&mykey1=good&mykey2=happy",
            vec![("mykey1", Str("good")), ("mykey2", Str("happy"))],
            true,
        ),
        (
            "mykey1=bad&mykey1=good&mykey2=happy",
            vec![("mykey1", Str("bad")), ("mykey2", Str("sad"))],
            false,
        ),
        (
            "mykey1=bad&mykey1=good&mykey2=happy",
            vec![("mykey1", Str("neutral")), ("mykey2", Str("happy"))],
            false,
        ),
    ]);
}

/// Checks that each query fails with `kind`, `key` and `span`.
fn check_errors(rows: &[(&str, ErrorKind, &str, Option<std::ops::Range<usize>>)]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(query, kind, key, span)| match Filter::parse(query) {
            Ok(filter) => Some(format!(
                "{query:?}: expected {kind:?}, compiled to {filter}"
            )),
            Err(e) if e.kind() == *kind && e.key() == Some(key) && e.span() == *span => None,
            Err(e) => Some(format!(
                "{query:?}: expected {kind:?} {key:?} {span:?}, got {e:?}"
            )),
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn compile_errors() {
    check_errors(&[
        ("a$foo=1", ErrorKind::UnknownOperator, "a$foo", Some(1..5)),
        ("a$=1", ErrorKind::UnknownOperator, "a$", Some(1..2)),
        ("a$b$c=1", ErrorKind::UnknownOperator, "a$b$c", Some(3..5)),
        ("=run", ErrorKind::EmptyKey, "", Some(0..4)),
        ("a=%zz", ErrorKind::InvalidEncoding, "a", Some(2..5)),
        ("a=%E9", ErrorKind::InvalidEncoding, "a", Some(2..5)),
        ("a$regex=[", ErrorKind::InvalidRegex, "a$regex", Some(8..9)),
        (
            "x=1&a$regex=a)|(b",
            ErrorKind::InvalidRegex,
            "a$regex",
            Some(12..17),
        ),
        (
            "a$regex=(?<=a)b",
            ErrorKind::InvalidRegex,
            "a$regex",
            Some(8..15),
        ),
        (
            "a$regex=a{1000}{1000}{1000}",
            ErrorKind::InvalidRegex,
            "a$regex",
            Some(8..27),
        ),
        // Unicode classes repeated many times compile to megabytes, and
        // compiling costs time in proportion: refused by the size limit.
        (
            "a$regex=\\w{200}",
            ErrorKind::InvalidRegex,
            "a$regex",
            Some(8..15),
        ),
    ]);
}

#[test]
fn regex_compile_cost_is_bounded() {
    // The fuzzer's input: many large `$regex` values in one query used to take
    // seconds and hundreds of MB to compile. Now the first is refused by the
    // size limit, and the count is capped.
    let big = "k$regex=\\w{200}&".repeat(60);
    let started = std::time::Instant::now();
    let error = Filter::parse(&big).expect_err("too large");
    assert_eq!(error.kind(), ErrorKind::InvalidRegex);
    assert!(error.to_string().contains("too large"), "{error}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let ascii = "(?-u:\\w){200}";
    let ok = format!("k$regex={ascii}&").repeat(MAX_REGEXES);
    Filter::parse(&ok).expect("ASCII classes are small");
    let too_many = format!("k$regex={ascii}&").repeat(MAX_REGEXES + 1);
    let error = Filter::parse(&too_many).expect_err("too many");
    assert!(
        error.to_string().starts_with("too many $regex parameters"),
        "{error}"
    );
}

#[test]
fn error_display_and_source() {
    let error = Filter::parse("x=1&a$regex=[").expect_err("invalid regex");
    assert_eq!(
        error.to_string(),
        "invalid regex '[' for key 'a$regex': unclosed character class at byte 12"
    );
    let error = Filter::from_pairs([("a$foo", "1")]).expect_err("unknown operator");
    assert_eq!(
        error.to_string(),
        "unknown operator '$foo' in key 'a$foo', expected $min, $max, $not or $regex"
    );
    assert_eq!(error.span(), None);
    assert!(std::error::Error::source(&error).is_none());
}

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

#[test]
fn check_against_a_schema() {
    let schema: Schema = [
        ("timestamp", FieldType::Time),
        ("priority", FieldType::Int),
        ("ratio", FieldType::Float),
        ("disabled", FieldType::Bool),
        ("name", FieldType::Text),
    ]
    .into_iter()
    .collect();
    let ok = [
        "timestamp$min=2021-01-01&timestamp$max=2021-01-01+12:00:00&timestamp=2021-01-01T00:00Z",
        "timestamp=null&timestamp$not=null",
        "priority=0&priority$min=-1.5&ratio$max=1e3&disabled=true&disabled$not=false",
        "name=x&name$min=2021-01-01&name$regex=a.*&name=null",
        "unknown$regex=x&unknown$min=anything",
    ];
    for query in ok {
        let filter = Filter::parse(query).expect("valid query");
        assert_eq!(filter.check(&schema), Ok(()), "{query}");
    }
    let bad = [
        (
            "timestamp$min=yesterday",
            "value 'yesterday' of key 'timestamp$min' is not a time like 2021-01-01 or 2021-01-01 12:00:00 at byte 14",
        ),
        (
            "x=1&timestamp=2021-01-01&timestamp=soon",
            "value 'soon' of key 'timestamp' is not a time like 2021-01-01 or 2021-01-01 12:00:00 at byte 35",
        ),
        (
            "timestamp$max=null",
            "value 'null' of key 'timestamp$max' is not a time like 2021-01-01 or 2021-01-01 12:00:00 at byte 14",
        ),
        (
            "timestamp$regex=2021",
            "value '2021' of key 'timestamp$regex' is a regex, but the field is a time, not text at byte 16",
        ),
        (
            "priority=high",
            "value 'high' of key 'priority' is not a number at byte 9",
        ),
        (
            "ratio$min=nan",
            "value 'nan' of key 'ratio$min' is not a number at byte 10",
        ),
        (
            "disabled=yes",
            "value 'yes' of key 'disabled' is not a boolean (true or false) at byte 9",
        ),
    ];
    for (query, message) in bad {
        let error = Filter::parse(query)
            .expect("valid query")
            .check(&schema)
            .expect_err("mismatch");
        assert_eq!(
            (error.kind(), error.to_string().as_str()),
            (ErrorKind::TypeMismatch, message),
            "{query}"
        );
    }
    let json = json!({"name": 5});
    let error = Filter::from_json(json.as_object().expect("object"))
        .expect("valid")
        .check(&schema);
    assert_eq!(
        error.map_err(|e| e.to_string()),
        Err("value '5' of key 'name' is not text".to_owned())
    );
    let gap = FilterOptions::default()
        .with_local(|_| None)
        .parse("timestamp$min=2021-01-01")
        .expect("valid");
    let error = gap.check(&schema).expect_err("no such local time");
    assert!(error.message().contains("does not exist"), "{error}");
    let schema = Schema::default()
        .with_field("a", FieldType::Int)
        .with_field("a", FieldType::Text);
    assert_eq!(schema.field_type("a"), Some(FieldType::Text));
}

/// Renders a constraint as `values [..] min .. max ..` with `*` for "none".
fn render_constraint(query: &str, field: &str, field_type: FieldType) -> String {
    let filter = Filter::parse(query).expect("valid query");
    let c = filter.constraint(field, field_type);
    let show = |v: Option<Value<'_>>| v.map_or("*".to_owned(), |v| v.to_string());
    let values = c.values().map_or("*".to_owned(), |vs| {
        format!(
            "[{}]",
            vs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    });
    format!(
        "values {values} min {} max {}",
        show(c.min()),
        show(c.max())
    )
}

#[test]
fn push_down_constraints() {
    use FieldType::*;
    let rows: &[(&str, &str, FieldType, &str)] = &[
        ("", "a", Text, "values * min * max *"),
        ("a=x&a=y&a=x", "a", Text, "values [x,y] min * max *"),
        ("a=x&b=y", "b", Text, "values [y] min * max *"),
        ("a$not=x&a$regex=y", "a", Text, "values * min * max *"),
        (
            "a$min=b&a$min=a&a$max=y&a$max=z",
            "a",
            Text,
            "values * min a max z",
        ),
        ("a=c&a=x&a$max=m", "a", Text, "values [c] min * max m"),
        ("a=x&a=null", "a", Text, "values * min * max *"),
        // Text that reads as a time compares as a time: no text constraint.
        ("a=2021-01-01&a=x", "a", Text, "values * min * max *"),
        (
            "t$min=2021-01-01&t$max=2021-01-02",
            "t",
            Time,
            "values * min 2021-01-01T00:00:00Z max 2021-01-02T23:59:59.999999999Z",
        ),
        (
            "t=2021-01-01+12:00&t=soon",
            "t",
            Time,
            "values [2021-01-01T12:00:00Z] min * max *",
        ),
        ("t$min=soon", "t", Time, "values [] min * max *"),
        (
            "t$min=2021-02-01&t$max=2021-01-01",
            "t",
            Time,
            "values [] min 2021-02-01T00:00:00Z max 2021-01-01T23:59:59.999999999Z",
        ),
        ("n=1&n=1.0&n=1.5&n=x", "n", Int, "values [1] min * max *"),
        ("n$min=1.5&n$max=7.5", "n", Int, "values * min 2 max 7"),
        (
            "n$min=-1e30&n$max=1e30",
            "n",
            Int,
            "values * min -9223372036854775808 max 9223372036854775807",
        ),
        ("n$min=1e30", "n", Int, "values [] min * max *"),
        ("n=1&n=2.5", "n", Float, "values [1,2.5] min * max *"),
        ("n$min=1&n$max=2.5", "n", Float, "values * min 1 max 2.5"),
        ("b=true&b=yes", "b", Bool, "values [true] min * max *"),
        ("b$min=true", "b", Bool, "values * min true max *"),
    ];
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(query, field, ty, expected)| {
            let got = render_constraint(query, field, *ty);
            (got != *expected)
                .then(|| format!("{query} {field} {ty:?}: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn push_down_is_necessary() {
    // Every value that matches a one-field filter is admitted by its constraint.
    let queries = [
        "n$min=1.5&n$max=7.5",
        "n=3&n=4.0&n=x",
        "n$min=-2&n$not=0",
        "n$max=0.5&n$max=-3",
    ];
    for query in queries {
        let filter = Filter::parse(query).expect("valid query");
        let ints = filter.constraint("n", FieldType::Int);
        let floats = filter.constraint("n", FieldType::Float);
        for i in -10..10 {
            if filter.matches(&Fields(vec![("n", Int(i64::from(i)))])) {
                assert!(ints.admits(Int(i64::from(i))), "{query}: {i}");
            }
            let x = f64::from(i) / 4.0;
            if filter.matches(&Fields(vec![("n", Float(x))])) {
                assert!(floats.admits(Float(x)), "{query}: {x}");
            }
        }
    }
    let filter = Filter::parse("n$min=5&n$max=1").expect("valid query");
    assert!(filter.constraint("n", FieldType::Int).is_unsatisfiable());
    assert!(filter.constraint("m", FieldType::Int).is_unconstrained());
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    send_sync::<Filter>();
    send_sync::<FilterOptions>();
    send_sync::<crate::Error>();
}
