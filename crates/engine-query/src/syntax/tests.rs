//! Unit tests of query-string splitting, percent-decoding, key syntax and spans.

use crate::{ErrorKind, parse_query};

/// Parses `query` and renders each parameter as `key|field|op|value|key span|value span`,
/// or the error as `kind key span: display`.
fn render(query: &str) -> String {
    match parse_query(query) {
        Ok(params) => params
            .iter()
            .map(|p| {
                format!(
                    "{}|{}|{}|{}|{:?}|{:?}",
                    p.key(),
                    p.field(),
                    p.op(),
                    p.value(),
                    p.key_span(),
                    p.value_span()
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("{:?} {:?} {:?}: {e}", e.kind(), e.key(), e.span()),
    }
}

/// Checks every `(query, expected rendering)` row and reports all failures at once.
fn check(rows: &[(&str, &str)]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(query, expected)| {
            let got = render(query);
            (got != *expected)
                .then(|| format!("query {query:?}\n  expected {expected:?}\n  got      {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pairs_and_spans() {
    check(&[
        ("", ""),
        ("?", ""),
        ("&&", ""),
        ("a=1", "a|a|=|1|Some(0..1)|Some(2..3)"),
        ("?a=1", "a|a|=|1|Some(1..2)|Some(3..4)"),
        (
            "a=1&&b$min=2",
            "a|a|=|1|Some(0..1)|Some(2..3)\nb$min|b|$min|2|Some(5..10)|Some(11..12)",
        ),
        ("action", "action|action|=||Some(0..6)|Some(6..6)"),
        ("a=", "a|a|=||Some(0..1)|Some(2..2)"),
        ("a=b=c", "a|a|=|b=c|Some(0..1)|Some(2..5)"),
        (
            "a$not=x&a$regex=y&a$max=z",
            "a$not|a|$not|x|Some(0..5)|Some(6..7)\na$regex|a|$regex|y|Some(8..15)|Some(16..17)\na$max|a|$max|z|Some(18..23)|Some(24..25)",
        ),
        (
            "a=1&a=2",
            "a|a|=|1|Some(0..1)|Some(2..3)\na|a|=|2|Some(4..5)|Some(6..7)",
        ),
    ]);
}

#[test]
fn percent_decoding() {
    check(&[
        ("a=x+y", "a|a|=|x y|Some(0..1)|Some(2..5)"),
        ("a=x%2By", "a|a|=|x+y|Some(0..1)|Some(2..7)"),
        ("a%24min=1", "a$min|a|$min|1|Some(0..7)|Some(8..9)"),
        ("a=%C3%A9", "a|a|=|é|Some(0..1)|Some(2..8)"),
        ("a=é", "a|a|=|é|Some(0..1)|Some(2..4)"),
        ("a=%26%3D", "a|a|=|&=|Some(0..1)|Some(2..8)"),
        (
            "a=%zz",
            "InvalidEncoding Some(\"a\") Some(2..5): invalid percent-encoding '%zz' in the value of key 'a' at byte 2",
        ),
        (
            "a=%",
            "InvalidEncoding Some(\"a\") Some(2..3): invalid percent-encoding '%' in the value of key 'a' at byte 2",
        ),
        (
            "a=x%4",
            "InvalidEncoding Some(\"a\") Some(3..5): invalid percent-encoding '%4' in the value of key 'a' at byte 3",
        ),
        (
            "a=%é",
            "InvalidEncoding Some(\"a\") Some(2..3): invalid percent-encoding '%' in the value of key 'a' at byte 2",
        ),
        (
            "a%zz=1",
            "InvalidEncoding Some(\"a%zz\") Some(1..4): invalid percent-encoding '%zz' in key 'a%zz' at byte 1",
        ),
        (
            "a=ok%E9",
            "InvalidEncoding Some(\"a\") Some(4..7): percent-decoded bytes are not UTF-8 in the value of key 'a' at byte 4",
        ),
        (
            "b=1&a=%C3%28",
            "InvalidEncoding Some(\"a\") Some(6..9): percent-decoded bytes are not UTF-8 in the value of key 'a' at byte 6",
        ),
        (
            "%FF=1",
            "InvalidEncoding Some(\"%FF\") Some(0..3): percent-decoded bytes are not UTF-8 in key '%FF' at byte 0",
        ),
    ]);
}

#[test]
fn key_errors() {
    let unknown = |op: &str, key: &str, span: &str, at: usize| {
        format!(
            "UnknownOperator Some({key:?}) Some({span}): unknown operator '{op}' in key '{key}', expected $min, $max, $not or $regex at byte {at}"
        )
    };
    check(&[
        ("a$foo=1", &unknown("$foo", "a$foo", "1..5", 1)),
        ("a$=1", &unknown("$", "a$", "1..2", 1)),
        ("x=1&a%24foo=1", &unknown("$foo", "a$foo", "5..11", 5)),
        ("a$MIN=1", &unknown("$MIN", "a$MIN", "1..5", 1)),
        (
            "a$b$c=1",
            "UnknownOperator Some(\"a$b$c\") Some(3..5): key 'a$b$c' has more than one '$' at byte 3",
        ),
        (
            "=run",
            "EmptyKey Some(\"\") Some(0..4): empty key at byte 0",
        ),
        (
            "x=1&=",
            "EmptyKey Some(\"\") Some(4..5): empty key at byte 4",
        ),
        (
            "$min=1",
            "EmptyKey Some(\"$min\") Some(0..4): key '$min' has no field name at byte 0",
        ),
    ]);
}

#[test]
fn param_new_checks_keys_without_spans() {
    let error = crate::Param::new("a$foo", crate::Literal::Int(1)).err();
    assert_eq!(
        error.as_ref().map(crate::Error::kind),
        Some(ErrorKind::UnknownOperator)
    );
    assert_eq!(error.as_ref().and_then(crate::Error::span), None);
    let error = crate::Param::new("", crate::Literal::Null).err();
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::EmptyKey));
}
