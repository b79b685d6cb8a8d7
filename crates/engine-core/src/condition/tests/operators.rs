//! Condition parse tests: operators, their errors, and nesting limits.

use super::*;

#[test]
fn operators() {
    check_all(&[
        ("true", "true"),
        ("false", "false"),
        ("always true", "(always true)"),
        ("always false", "(always false)"),
        ("~true", "(not true)"),
        ("~ always false", "(not (always false))"),
        ("~~true", "true"),
        ("~ ~ true", "true"),
        ("~~~true", "(not true)"),
        ("~(~true)", "true"),
        ("~(~(~true))", "(not true)"),
        ("true & false", "(all true false)"),
        ("true|false", "(any true false)"),
        (
            "true & false & always true",
            "(all true false (always true))",
        ),
        (
            "(true & false) & always true",
            "(all true false (always true))",
        ),
        (
            "true & (false & always true)",
            "(all true false (always true))",
        ),
        (
            "(true | false) | (always true | always false)",
            "(any true false (always true) (always false))",
        ),
        (
            "true | false & always true",
            "(any true (all false (always true)))",
        ),
        (
            "true & false | always true",
            "(any (all true false) (always true))",
        ),
        (
            "(true | false) & always true",
            "(all (any true false) (always true))",
        ),
        ("~(true & false)", "(not (all true false))"),
        ("~true & false", "(all (not true) false)"),
        (
            "~true | ~false & ~true",
            "(any (not true) (all (not false) (not true)))",
        ),
        ("(((true)))", "true"),
        ("~((true))", "(not true)"),
        ("", "false"),
        (" \n\t ", "false"),
        // QUIRK-P1 fixed: whitespace around parentheses is fine.
        (
            "\n  (true & false)\n | (true)",
            "(any (all true false) true)",
        ),
        ("(true) & (false)", "(all true false)"),
        ("(true)|(false)", "(any true false)"),
        (
            "(true & true)\n   | (false & ~\n   false)",
            "(any (all true true) (all false (not false)))",
        ),
        // Quoted text is one token: names may hold operator characters.
        (
            "after task 'a&b' & after task 'x|y(z)~'",
            "(all (after task 'a&b') (after task 'x|y(z)~'))",
        ),
        (
            "after task '(' | task ')' is running",
            "(any (after task '(') (running ')'))",
        ),
    ]);
}

#[test]
fn operator_errors() {
    check_all(&[
        (
            "true &",
            "error: expected a condition after '&' at byte 5\n  true &\n       ^",
        ),
        (
            "true |",
            "error: expected a condition after '|' at byte 5\n  true |\n       ^",
        ),
        (
            "& true",
            "error: expected a condition before '&' at byte 0\n  & true\n  ^",
        ),
        (
            "| true",
            "error: expected a condition before '|' at byte 0\n  | true\n  ^",
        ),
        (
            "~",
            "error: expected a condition after '~' at byte 0\n  ~\n  ^",
        ),
        (
            "true & ~",
            "error: expected a condition after '~' at byte 7\n  true & ~\n         ^",
        ),
        ("()", "error: empty parentheses at byte 0\n  ()\n  ^^"),
        (
            "true & ( )",
            "error: empty parentheses at byte 7\n  true & ( )\n         ^^^",
        ),
        ("(true", "error: unclosed '(' at byte 0\n  (true\n  ^"),
        (
            "true & (false",
            "error: unclosed '(' at byte 7\n  true & (false\n         ^",
        ),
        ("((true)", "error: unclosed '(' at byte 0\n  ((true)\n  ^"),
        ("true)", "error: unmatched ')' at byte 4\n  true)\n      ^"),
        (
            "(true))",
            "error: unmatched ')' at byte 6\n  (true))\n        ^",
        ),
        (
            ")",
            "error: expected a condition before ')' at byte 0\n  )\n  ^",
        ),
        // QUIRK-P2 fixed: items side by side are an error.
        (
            "(true)(false)",
            "error: expected '&' or '|' between two conditions at byte 6\n  (true)(false)\n        ^",
        ),
        (
            "true (false)",
            "error: expected '&' or '|' between two conditions at byte 5\n  true (false)\n       ^",
        ),
        (
            "(true) false",
            "error: expected '&' or '|' between two conditions at byte 7\n  (true) false\n         ^^^^^",
        ),
        (
            "(true ~false)",
            "error: expected '&' or '|' between two conditions at byte 6\n  (true ~false)\n        ^",
        ),
        (
            "true ~false",
            "error: expected '&' or '|' between two conditions at byte 5\n  true ~false\n       ^",
        ),
        // QUIRK-P3 fixed: doubled operators are an error.
        (
            "true && false",
            "error: expected a condition between '&' and '&' at byte 5\n  true && false\n       ^^",
        ),
        (
            "true & & false",
            "error: expected a condition between '&' and '&' at byte 5\n  true & & false\n       ^^^",
        ),
        (
            "true || false",
            "error: expected a condition between '|' and '|' at byte 5\n  true || false\n       ^^",
        ),
        (
            "true & | false",
            "error: expected a condition between '&' and '|' at byte 5\n  true & | false\n       ^^^",
        ),
        (
            "true ~& false",
            "error: expected '&' or '|' between two conditions at byte 5\n  true ~& false\n       ^",
        ),
        (
            "~& false",
            "error: expected a condition between '~' and '&' at byte 0\n  ~& false\n  ^^",
        ),
        (
            "(true &)",
            "error: expected a condition between '&' and ')' at byte 6\n  (true &)\n        ^^",
        ),
        (
            "(~)",
            "error: expected a condition between '~' and ')' at byte 1\n  (~)\n   ^^",
        ),
        (
            "(& true)",
            "error: expected a condition between '(' and '&' at byte 0\n  (& true)\n  ^^",
        ),
        // Errors on a later line show that line.
        (
            "true\n& false &",
            "error: expected a condition after '&' at byte 13\n  & false &\n          ^",
        ),
    ]);
}

#[test]
fn nesting_is_capped_and_long_chains_work() {
    let ok = format!("{}true{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(show(&ok), "true");
    let deep = format!("{}true{}", "(".repeat(65), ")".repeat(65));
    assert_eq!(
        show(&deep).lines().next(),
        Some("error: parentheses nested deeper than 64 levels at byte 64")
    );
    let unclosed = "(".repeat(100_000);
    assert!(show(&unclosed).starts_with("error: parentheses nested deeper than 64 levels"));
    let nots = format!("{}true", "~".repeat(100_001));
    assert_eq!(show(&nots), "(not true)");
    let spaced_nots = format!("{}false", "~ ".repeat(100_000));
    assert_eq!(show(&spaced_nots), "false");
    let chain = format!("{}true", "true & ".repeat(50_000));
    match parse(&chain) {
        Ok(Condition::All(items)) => assert_eq!(items.len(), 50_001),
        other => panic!("unexpected {other:?}"),
    }
    let nested_and = format!("{}true{}", "(true & ".repeat(64), ")".repeat(64));
    match parse(&nested_and) {
        Ok(Condition::All(items)) => assert_eq!(items.len(), 65),
        other => panic!("unexpected {other:?}"),
    }
    let mixed = format!("{}true", "true | ~true & ".repeat(20_000));
    assert!(parse(&mixed).is_ok());
}
