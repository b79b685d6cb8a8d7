//! Unit tests of time text, zones and exact number comparison.

use std::cmp::Ordering;

use chrono::{FixedOffset, NaiveDate};

use super::time::{Parsed, Zone, parse};
use super::{cmp_f64_i64, cmp_i64_f64};

/// Parses `text` and renders the first and last instants in UTC (RFC 3339), or `none`.
fn render(text: &str, zone: &Zone) -> String {
    match parse(text) {
        None => "none".into(),
        Some(parsed) => {
            let show =
                |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".into(), |t| t.to_rfc3339());
            format!(
                "{} {}",
                show(parsed.first_instant(zone)),
                show(parsed.last_instant(zone))
            )
        }
    }
}

/// Checks every `(text, expected rendering)` row in `zone`, reporting all failures.
fn check(zone: &Zone, rows: &[(&str, &str)]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(text, expected)| {
            let got = render(text, zone);
            (got != *expected).then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn accepted_time_forms() {
    check(
        &Zone::default(),
        &[
            (
                "2021-01-01",
                "2021-01-01T00:00:00+00:00 2021-01-01T23:59:59.999999999+00:00",
            ),
            (
                "2021-01-01 12:00",
                "2021-01-01T12:00:00+00:00 2021-01-01T12:00:00+00:00",
            ),
            (
                "2021-01-01T12:00:30",
                "2021-01-01T12:00:30+00:00 2021-01-01T12:00:30+00:00",
            ),
            (
                "2021-01-01t12:00:30",
                "2021-01-01T12:00:30+00:00 2021-01-01T12:00:30+00:00",
            ),
            (
                "2021-01-01 12:00:30.5",
                "2021-01-01T12:00:30.500+00:00 2021-01-01T12:00:30.500+00:00",
            ),
            (
                "2021-01-01 02:00:00,000",
                "2021-01-01T02:00:00+00:00 2021-01-01T02:00:00+00:00",
            ),
            (
                "2021-01-01 12:00:30.1234567891",
                "2021-01-01T12:00:30.123456789+00:00 2021-01-01T12:00:30.123456789+00:00",
            ),
            (
                "2021-01-01T12:00:00Z",
                "2021-01-01T12:00:00+00:00 2021-01-01T12:00:00+00:00",
            ),
            (
                "2021-01-01T12:00:00+02:00",
                "2021-01-01T10:00:00+00:00 2021-01-01T10:00:00+00:00",
            ),
            (
                "2021-01-01T12:00-0130",
                "2021-01-01T13:30:00+00:00 2021-01-01T13:30:00+00:00",
            ),
            (
                "2021-01-01T12:00+02",
                "2021-01-01T10:00:00+00:00 2021-01-01T10:00:00+00:00",
            ),
            (
                "2020-02-29",
                "2020-02-29T00:00:00+00:00 2020-02-29T23:59:59.999999999+00:00",
            ),
            (
                "2021-12-31",
                "2021-12-31T00:00:00+00:00 2021-12-31T23:59:59.999999999+00:00",
            ),
        ],
    );
}

#[test]
fn rejected_time_forms() {
    let none = "none";
    check(
        &Zone::default(),
        &[
            ("", none),
            ("yesterday", none),
            ("2021", none),
            ("2021-1-01", none),
            ("20210101", none),
            ("01/02/2021", none),
            ("Jan 1 2021 12:00", none),
            ("2021-02-29", none),
            ("2021-13-01", none),
            ("2021-01-01 24:00", none),
            ("2021-01-01 12:60", none),
            ("2021-01-01 12:00:60", none),
            ("2021-01-01 12", none),
            ("2021-01-01 12:00:", none),
            ("2021-01-01 12:00:00.", none),
            ("2021-01-01 ", none),
            ("2021-01-01Z", none),
            ("2021-01-01 12:00 +02:00", none),
            ("2021-01-01T12:00+2", none),
            ("2021-01-01T12:00+24:00", none),
            ("2021-01-01T12:00+02:60", none),
            ("2021-01-01T12:00Zx", none),
            ("２０２１-01-01", none),
            ("2021-01-01x", none),
        ],
    );
}

#[test]
fn local_times_use_the_zone() {
    let plus_two = Zone::Fixed(FixedOffset::east_opt(7200).expect("valid offset"));
    check(
        &plus_two,
        &[
            (
                "2021-01-01",
                "2020-12-31T22:00:00+00:00 2021-01-01T21:59:59.999999999+00:00",
            ),
            (
                "2021-01-01 12:00",
                "2021-01-01T10:00:00+00:00 2021-01-01T10:00:00+00:00",
            ),
            (
                "2021-01-01 12:00Z",
                "2021-01-01T12:00:00+00:00 2021-01-01T12:00:00+00:00",
            ),
        ],
    );
    // A zone where 2021-03-28 00:00 does not exist: the date has no first instant,
    // and the day before has no last one.
    let gap = NaiveDate::from_ymd_opt(2021, 3, 28).and_then(|d| d.and_hms_opt(0, 0, 0));
    let custom = Zone::Custom(std::sync::Arc::new(move |naive| {
        (Some(naive) != gap).then(|| naive.and_utc())
    }));
    check(
        &custom,
        &[
            ("2021-03-28", "- 2021-03-28T23:59:59.999999999+00:00"),
            ("2021-03-27", "2021-03-27T00:00:00+00:00 -"),
        ],
    );
}

#[test]
fn parsed_kinds() {
    assert!(matches!(parse("2021-01-01"), Some(Parsed::Date(_))));
    assert!(matches!(parse("2021-01-01 00:00"), Some(Parsed::Local(_))));
    assert!(matches!(
        parse("2021-01-01 00:00Z"),
        Some(Parsed::Instant(_))
    ));
}

#[test]
fn exact_int_float_comparison() {
    use Ordering::*;
    let rows: &[(i64, f64, Option<Ordering>)] = &[
        (1, 1.0, Some(Equal)),
        (1, 1.5, Some(Less)),
        (2, 1.5, Some(Greater)),
        (-1, -1.5, Some(Greater)),
        (-2, -1.5, Some(Less)),
        (
            9_007_199_254_740_993,
            9_007_199_254_740_992.0,
            Some(Greater),
        ),
        (i64::MAX, 9_223_372_036_854_775_808.0, Some(Less)),
        (i64::MIN, -9_223_372_036_854_775_808.0, Some(Equal)),
        (i64::MIN, -1e30, Some(Greater)),
        (0, f64::NAN, None),
        (0, f64::INFINITY, Some(Less)),
        (0, f64::NEG_INFINITY, Some(Greater)),
        (0, -0.0, Some(Equal)),
    ];
    for &(i, f, expected) in rows {
        assert_eq!(cmp_i64_f64(i, f), expected, "{i} vs {f}");
        assert_eq!(
            cmp_f64_i64(f, i),
            expected.map(Ordering::reverse),
            "{f} vs {i}"
        );
    }
}
