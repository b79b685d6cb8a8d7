//! Lexer tests: tokens and their byte spans.

use super::{TokenKind, tokenize};

/// The tokens of `input` as `kind@start..end` (phrases show their text).
fn tokens(input: &str) -> String {
    match tokenize(input) {
        Ok(tokens) => tokens
            .iter()
            .map(|t| {
                let kind = match t.kind {
                    TokenKind::Open => "(".to_owned(),
                    TokenKind::Close => ")".to_owned(),
                    TokenKind::And => "&".to_owned(),
                    TokenKind::Or => "|".to_owned(),
                    TokenKind::Not => "~".to_owned(),
                    TokenKind::Phrase => format!("{:?}", input.get(t.span.clone()).unwrap_or("?")),
                };
                format!("{kind}@{}..{}", t.span.start, t.span.end)
            })
            .collect::<Vec<_>>()
            .join(" "),
        Err(e) => format!("error: {}", e.render()),
    }
}

#[test]
fn tokens_and_spans() {
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("  \n ", ""),
        ("true", "\"true\"@0..4"),
        ("  daily  ", "\"daily\"@2..7"),
        ("a&b", "\"a\"@0..1 &@1..2 \"b\"@2..3"),
        (
            "~(a | b)",
            "~@0..1 (@1..2 \"a\"@2..3 |@4..5 \"b\"@6..7 )@7..8",
        ),
        ("&&", "&@0..1 &@1..2"),
        (
            "after task 'a & b' failed",
            "\"after task 'a & b' failed\"@0..25",
        ),
        (
            "after task '(x)'|true",
            "\"after task '(x)'\"@0..16 |@16..17 \"true\"@17..21",
        ),
        ("x '~' y ' | ' z", "\"x '~' y ' | ' z\"@0..15"),
        (
            "after task 'a'\n  & b",
            "\"after task 'a'\"@0..14 &@17..18 \"b\"@19..20",
        ),
        ("daily between\n10:00", "\"daily between\\n10:00\"@0..19"),
        ("ä & ö", "\"ä\"@0..2 &@3..4 \"ö\"@5..7"),
        ("'  '", "\"'  '\"@0..4"),
        (
            "'a' 'b",
            "error: unclosed quote at byte 4\n  'a' 'b\n      ^^",
        ),
        (
            "task 'x) & (y",
            "error: unclosed quote at byte 5\n  task 'x) & (y\n       ^^^^^^^^",
        ),
    ];
    let mut failures = Vec::new();
    for &(input, expected) in cases {
        let got = tokens(input);
        if got != expected {
            failures.push(format!("{input:?}: expected {expected}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
