//! Condition parse tests: phrase errors, task phrases and their errors, and the
//! scheduler, env and param phrases.

use super::*;

#[test]
fn phrase_errors() {
    check_all(&[
        (
            "this is not valid",
            "error: unknown condition 'this is not valid', expected a phrase such as 'daily', \
             \"after task 'x'\", 'has succeeded today' at byte 0\n  this is not valid\n  ^^^^^^^^^^^^^^^^^",
        ),
        (
            "true & Daily",
            "error: unknown condition 'Daily', expected a phrase such as 'daily', \
             \"after task 'x'\", 'has succeeded today' at byte 7\n  true & Daily\n         ^^^^^",
        ),
        (
            "True",
            "error: unknown condition 'True', expected a phrase such as 'daily', \
             \"after task 'x'\", 'has succeeded today' at byte 0\n  True\n  ^^^^",
        ),
        (
            "true false",
            "error: unexpected text after 'true' at byte 4\n  true false\n      ^^^^^^",
        ),
        (
            "always maybe",
            "error: expected 'true' or 'false' after 'always' at byte 7\n  always maybe\n         ^^^^^",
        ),
        // QUIRK-C1: time periods are not conditions.
        (
            "always",
            "error: 'always' is a time period, not a condition; write e.g. 'true', 'false', \
             'has succeeded past <duration>' or 'every <duration>' at byte 0\n  always\n  ^^^^^^",
        ),
        (
            "never",
            "error: 'never' is a time period, not a condition; write e.g. 'true', 'false', \
             'has succeeded past <duration>' or 'every <duration>' at byte 0\n  never\n  ^^^^^",
        ),
        (
            "true & past 2 hours",
            "error: 'past 2 hours' is a time period, not a condition; write e.g. 'true', 'false', \
             'has succeeded past <duration>' or 'every <duration>' at byte 7\n  true & past 2 hours\n         ^^^^^^^^^^^^",
        ),
        // Strict single spaces between words; quoted text is verbatim.
        (
            "after  task 'a'",
            "error: words must be separated by a single space at byte 5\n  after  task 'a'\n       ^^",
        ),
        (
            "has failed\ttoday",
            "error: words must be separated by a single space at byte 10\n  has failed\ttoday\n            ^",
        ),
        (
            "after task 'a'\n  after task 'b'",
            "error: line break inside a phrase; join conditions with '&' or '|' at byte 14\n  after task 'a'\n                ^",
        ),
        // Quotes.
        (
            "after task 'a' failed'",
            "error: unclosed quote at byte 21\n  after task 'a' failed'\n                       ^",
        ),
        (
            "after task 'a",
            "error: unclosed quote at byte 11\n  after task 'a\n             ^^",
        ),
        (
            "after task ''",
            "error: empty task name at byte 11\n  after task ''\n             ^^",
        ),
        (
            "after task 'a\n& after task 'b'",
            "error: unclosed quote at byte 29\n  & after task 'b'\n                 ^",
        ),
        (
            "after task 'a\tb'",
            "error: task name contains a control character (is a quote missing?) at byte 11\n  after task 'a\tb'\n             ^^^^^",
        ),
        (
            "after tasks missing quotes",
            "error: expected a quoted task name after 'after tasks' at byte 12\n  after tasks missing quotes\n              ^^^^^^^",
        ),
        (
            "after task 'a', 'b'",
            "error: 'after task' takes one task; write 'after tasks' or 'after any tasks' for several \
             at byte 14\n  after task 'a', 'b'\n                ^^^^^",
        ),
        (
            "after tasks 'a','b'",
            "error: expected 'succeeded', 'failed', 'finished' or 'terminated' after \"after tasks 'a'\" \
             at byte 15\n  after tasks 'a','b'\n                 ^^^^",
        ),
    ]);
}

#[test]
fn task_phrases() {
    check_all(&[
        ("task 'x' is running", "(running 'x')"),
        ("while task 'x' is running", "(running while 'x')"),
        ("task 'a b.c-d+e' is running", "(running 'a b.c-d+e')"),
        ("task 'x' has started", "(status started 'x')"),
        ("task 'x' has succeeded", "(status succeeded 'x')"),
        ("task 'x' has failed", "(status failed 'x')"),
        ("task 'x' has finished", "(status finished 'x')"),
        ("task 'x' has terminated", "(status terminated 'x')"),
        ("task 'x' has inacted", "(status inacted 'x')"),
        ("has started", "(status started owner)"),
        ("has succeeded", "(status succeeded owner)"),
        ("has failed", "(status failed owner)"),
        ("has finished", "(status finished owner)"),
        ("has terminated", "(status terminated owner)"),
        ("has inacted", "(status inacted owner)"),
        ("~has started", "(not (status started owner))"),
        ("after task 'a'", "(after task 'a')"),
        ("after task 'a' succeeded", "(after task 'a' succeeded)"),
        ("after task 'a' failed", "(after task 'a' failed)"),
        ("after task 'a' finished", "(after task 'a' finished)"),
        ("after task 'a' terminated", "(after task 'a' terminated)"),
        (
            "after task 'group1.group-2.mytask+'",
            "(after task 'group1.group-2.mytask+')",
        ),
        ("after task 'a  b'", "(after task 'a  b')"),
        ("after task ' a '", "(after task ' a ')"),
        ("after task 'it\"s'", "(after task 'it\"s')"),
        ("after task 'ünï cødé'", "(after task 'ünï cødé')"),
        ("after tasks 'a'", "(after tasks 'a')"),
        ("after tasks 'a', 'b', 'c'", "(after tasks 'a' 'b' 'c')"),
        (
            "after tasks 'a', 'b' succeeded",
            "(after tasks 'a' 'b' succeeded)",
        ),
        (
            "after tasks 'a', 'b' failed",
            "(after tasks 'a' 'b' failed)",
        ),
        (
            "after tasks 'a', 'b' finished",
            "(after tasks 'a' 'b' finished)",
        ),
        (
            "after tasks 'a', 'b' terminated",
            "(after tasks 'a' 'b' terminated)",
        ),
        ("after any tasks 'a', 'b'", "(after any-tasks 'a' 'b')"),
        (
            "after any tasks 'a', 'b' succeeded",
            "(after any-tasks 'a' 'b' succeeded)",
        ),
        (
            "after any tasks 'a', 'b' failed",
            "(after any-tasks 'a' 'b' failed)",
        ),
        (
            "after any tasks 'a', 'b' finished",
            "(after any-tasks 'a' 'b' finished)",
        ),
        (
            "after any tasks 'a, b', 'c' terminated",
            "(after any-tasks 'a, b' 'c' terminated)",
        ),
        (
            "after task 'a' & after task 'b' failed",
            "(all (after task 'a') (after task 'b' failed))",
        ),
    ]);
}

#[test]
fn task_phrase_errors() {
    check_all(&[
        (
            "while task 'x' has failed",
            "error: expected 'is running' after \"while task 'x'\" at byte 15\n  while task 'x' has failed\n                 ^^^",
        ),
        (
            "task 'x' is",
            "error: expected 'is running' or 'has' after \"task 'x'\" at byte 9\n  task 'x' is\n           ^^",
        ),
        (
            "task x is running",
            "error: expected a quoted task name after 'task' at byte 5\n  task x is running\n       ^",
        ),
        (
            "has",
            "error: expected 'succeeded', 'failed', 'finished', 'terminated', 'inacted' or 'started' \
             after 'has' at byte 3\n  has\n     ^",
        ),
        (
            "has won",
            "error: expected 'succeeded', 'failed', 'finished', 'terminated', 'inacted' or 'started' \
             after 'has' at byte 4\n  has won\n      ^^^",
        ),
        (
            "has failed yesterday",
            "error: expected 'today', 'this week', 'this month', 'this hour', 'this minute', \
             'past <duration>' or 'in past <duration>' after 'has failed' at byte 11\n  has failed yesterday\n             ^^^^^^^^^",
        ),
        (
            "has failedtoday",
            "error: expected 'succeeded', 'failed', 'finished', 'terminated', 'inacted' or 'started' \
             after 'has' at byte 4\n  has failedtoday\n      ^^^^^^^^^^^",
        ),
        (
            "after task 'a' succeeded today",
            "error: unexpected text after \"after task 'a' succeeded\" at byte 24\n  after task 'a' succeeded today\n                          ^^^^^^",
        ),
        (
            "after 'a'",
            "error: expected 'task', 'tasks' or 'any tasks' after 'after' at byte 6\n  after 'a'\n        ^^^",
        ),
    ]);
}

#[test]
fn scheduler_env_param_phrases() {
    check_all(&[
        ("scheduler has more than 3 cycles", "(cycles > 3)"),
        ("scheduler has less than 3 cycles", "(cycles < 3)"),
        ("scheduler has 3 cycles", "(cycles = 3)"),
        ("scheduler has 0 cycles", "(cycles = 0)"),
        ("scheduler has 007 cycles", "(cycles = 7)"),
        (
            "scheduler has 18446744073709551615 cycles",
            "(cycles = 18446744073709551615)",
        ),
        ("env 'prod'", "(env 'prod')"),
        ("env 'a & b'", "(env 'a & b')"),
        ("param 'mode' exists", "(param-exists 'mode')"),
        ("param 'k' is 'v'", "(param-is 'k' 'v')"),
        ("param 'k' is '5'", "(param-is 'k' '5')"),
        (
            "param 'a key' is 'a | value'",
            "(param-is 'a key' 'a | value')",
        ),
    ]);
    check_all(&[
        (
            "scheduler had more than 3 cycles",
            "error: expected 'has' or 'started' after 'scheduler' at byte 10\n  scheduler had more than 3 cycles\n            ^^^",
        ),
        (
            "scheduler has 18446744073709551616 cycles",
            "error: number of cycles too large at byte 14\n  scheduler has 18446744073709551616 cycles\n                ^^^^^^^^^^^^^^^^^^^^",
        ),
        (
            "scheduler has -1 cycles",
            "error: expected 'more than', 'less than', 'run over' or a number of cycles after \
             'scheduler has' at byte 14\n  scheduler has -1 cycles\n                ^^",
        ),
        (
            "scheduler has more than x cycles",
            "error: expected a number of cycles after 'scheduler has more than' at byte 24\n  scheduler has more than x cycles\n                          ^",
        ),
        (
            "scheduler has 3 cycle",
            "error: expected 'cycles' after 'scheduler has 3' at byte 16\n  scheduler has 3 cycle\n                  ^^^^^",
        ),
        (
            "scheduler has 3cycles",
            "error: expected 'cycles' after 'scheduler has 3' at byte 15\n  scheduler has 3cycles\n                 ^^^^^^",
        ),
        (
            "scheduler started 10 minutes",
            "error: expected '<duration> ago' after 'scheduler started' at byte 18\n  scheduler started 10 minutes\n                    ^^^^^^^^^^",
        ),
        (
            "env prod",
            "error: expected a quoted environment name after 'env' at byte 4\n  env prod\n      ^^^^",
        ),
        (
            "env ''",
            "error: empty environment name at byte 4\n  env ''\n      ^^",
        ),
        (
            "param 'k'",
            "error: expected 'exists' or 'is' after \"param 'k'\" at byte 9\n  param 'k'\n           ^",
        ),
        (
            "param 'k' is ''",
            "error: empty parameter value at byte 13\n  param 'k' is ''\n               ^^",
        ),
        (
            "param 'k' is v",
            "error: expected a quoted parameter value after \"param 'k' is\" at byte 13\n  param 'k' is v\n               ^",
        ),
        (
            "param 'a', 'b' exists",
            "error: expected 'exists' or 'is' after \"param 'a'\" at byte 9\n  param 'a', 'b' exists\n           ^",
        ),
    ]);
}
