//! Filter tests: verdicts of operators, numbers, text, times, zones, regexes and key grouping.

use super::*;

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
