//! Filter tests: compile errors, the regex cost bound, and error display.

use super::*;

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
