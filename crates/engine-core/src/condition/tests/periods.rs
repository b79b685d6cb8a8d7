//! Phrases with periods and durations: execution, status windows, `time of`,
//! and scheduler durations. Offsets come from [`crate::time`]; these tables pin
//! how phrases hand their literals over and how errors inside literals point at
//! the literal.

use super::{check_all, check_canonical, parse};
use crate::ErrorKind;

/// Every form of every period family.
#[test]
fn period_phrases() {
    check_all(&[
        (
            "minutely",
            "(exec (minute whole 00:00:00..00:00:59.999999999))",
        ),
        ("hourly", "(exec (hour whole 00:00:00..00:59:59.999999999))"),
        ("daily", "(exec (day whole 00:00:00..23:59:59.999999999))"),
        (
            "weekly",
            "(exec (week whole 00:00:00..6d23:59:59.999999999))",
        ),
        (
            "monthly",
            "(exec (month whole 00:00:00..30d23:59:59.999999999))",
        ),
        (
            "run daily",
            "(exec run (day whole 00:00:00..23:59:59.999999999))",
        ),
        (
            "minutely starting 30",
            "(exec (minute starting \"30\" 00:00:30..00:00:30))",
        ),
        (
            "hourly starting 45:00",
            "(exec (hour starting \"45:00\" 00:45:00..00:45:00))",
        ),
        (
            "daily starting 10:00",
            "(exec (day starting \"10:00\" 10:00:00..10:00:00))",
        ),
        (
            "weekly starting Tue",
            "(exec (week starting \"Tue\" 1d00:00:00..1d00:00:00))",
        ),
        (
            "monthly starting 3rd 12:00",
            "(exec (month starting \"3rd 12:00\" 2d12:00:00..2d12:00:00))",
        ),
        (
            "daily between 10:00 and 12:00",
            "(exec (day between \"10:00\" \"12:00\" 10:00:00..12:00:00))",
        ),
        (
            "daily between 22:00 and 02:00",
            "(exec (day between \"22:00\" \"02:00\" 22:00:00..02:00:00))",
        ),
        (
            "weekly between Mon and Fri",
            "(exec (week between \"Mon\" \"Fri\" 00:00:00..4d23:59:59.999999999))",
        ),
        (
            "monthly between 1st and 5th",
            "(exec (month between \"1st\" \"5th\" 00:00:00..4d23:59:59.999999999))",
        ),
        (
            "hourly between 1 quarter and 3 quarter",
            "(exec (hour between \"1 quarter\" \"3 quarter\" 00:15:00..00:45:00))",
        ),
        (
            "minutely between 15 and 30.5",
            "(exec (minute between \"15\" \"30.5\" 00:00:15..00:00:30.500000000))",
        ),
        (
            "daily after 10:00",
            "(exec (day after \"10:00\" 10:00:00..23:59:59.999999999))",
        ),
        (
            "weekly after Tue 10:00",
            "(exec (week after \"Tue 10:00\" 1d10:00:00..6d23:59:59.999999999))",
        ),
        (
            "monthly after 5th",
            "(exec (month after \"5th\" 4d00:00:00..30d23:59:59.999999999))",
        ),
        (
            "hourly before 45:00",
            "(exec (hour before \"45:00\" 00:00:00..00:45:00))",
        ),
        (
            "weekly before Fri",
            "(exec (week before \"Fri\" 00:00:00..4d23:59:59.999999999))",
        ),
        (
            "monthly before 1.",
            "(exec (month before \"1.\" 00:00:00..23:59:59.999999999))",
        ),
        (
            "minutely on 30",
            "(exec (minute on \"30\" 00:00:30..00:00:30.999999999))",
        ),
        (
            "hourly on 10:00",
            "(exec (hour on \"10:00\" 00:10:00..00:10:59.999999999))",
        ),
        (
            "daily on 10:00",
            "(exec (day on \"10:00\" 10:00:00..10:59:59.999999999))",
        ),
        (
            "weekly on Tue",
            "(exec (week on \"Tue\" 1d00:00:00..1d23:59:59.999999999))",
        ),
        (
            "weekly on Tue 10:00",
            "(exec (week on \"Tue 10:00\" 1d10:00:00..2d09:59:59.999999999))",
        ),
        (
            "monthly on 5th",
            "(exec (month on \"5th\" 4d00:00:00..4d23:59:59.999999999))",
        ),
        (
            "run weekly on Friday",
            "(exec run (week on \"Friday\" 4d00:00:00..4d23:59:59.999999999))",
        ),
        ("every 10 minutes", "(exec (every \"10 minutes\" 600s))"),
        ("run every 1h30m", "(exec run (every \"1h30m\" 5400s))"),
        (
            "every 1 day, 12 hour, 30 min, 20 sec",
            "(exec (every \"1 day, 12 hour, 30 min, 20 sec\" 131420s))",
        ),
        ("every 0.5h", "(exec (every \"0.5h\" 1800s))"),
        (
            "every 10 minutes 10 minutes",
            "(exec (every \"10 minutes 10 minutes\" 1200s))",
        ),
        (
            "has succeeded today",
            "(status succeeded owner (day whole 00:00:00..23:59:59.999999999))",
        ),
        (
            "has failed this week before Fri",
            "(status failed owner (week before \"Fri\" 00:00:00..4d23:59:59.999999999))",
        ),
        (
            "task 'x' has started this month on 5th",
            "(status started 'x' (month on \"5th\" 4d00:00:00..4d23:59:59.999999999))",
        ),
        (
            "has succeeded this hour starting 15:00",
            "(status succeeded owner (hour starting \"15:00\" 00:15:00..00:15:00))",
        ),
        (
            "has inacted this minute between 10 and 20",
            "(status inacted owner (minute between \"10\" \"20\" 00:00:10..00:00:20))",
        ),
        (
            "has terminated today after 08:00",
            "(status terminated owner (day after \"08:00\" 08:00:00..23:59:59.999999999))",
        ),
        (
            "has finished this month",
            "(status finished owner (month whole 00:00:00..30d23:59:59.999999999))",
        ),
        (
            "has started this week",
            "(status started owner (week whole 00:00:00..6d23:59:59.999999999))",
        ),
        (
            "has succeeded this minute",
            "(status succeeded owner (minute whole 00:00:00..00:00:59.999999999))",
        ),
        (
            "has succeeded past 2 hours",
            "(status succeeded owner (past \"2 hours\" 7200s))",
        ),
        (
            "has succeeded in past 1 day",
            "(status succeeded owner (in-past \"1 day\" 86400s))",
        ),
        (
            "task 'x' has failed past 2 hours, 30 minutes",
            "(status failed 'x' (past \"2 hours, 30 minutes\" 9000s))",
        ),
        (
            "time of day between 10:00 and 14:00",
            "(time-of (day between \"10:00\" \"14:00\" 10:00:00..14:00:00))",
        ),
        (
            "time of week on Monday",
            "(time-of (week on \"Monday\" 00:00:00..23:59:59.999999999))",
        ),
        (
            "time of month on 1st",
            "(time-of (month on \"1st\" 00:00:00..23:59:59.999999999))",
        ),
        (
            "time of hour after 15:00",
            "(time-of (hour after \"15:00\" 00:15:00..00:59:59.999999999))",
        ),
        (
            "time of minute before 30",
            "(time-of (minute before \"30\" 00:00:00..00:00:30))",
        ),
        (
            "time of week between Monday and Friday",
            "(time-of (week between \"Monday\" \"Friday\" 00:00:00..4d23:59:59.999999999))",
        ),
        (
            "time of month after 5th",
            "(time-of (month after \"5th\" 4d00:00:00..30d23:59:59.999999999))",
        ),
        (
            "scheduler started 10 minutes ago",
            "(started-ago \"10 minutes\" 600s)",
        ),
        (
            "scheduler has run over 20 minutes",
            "(run-over \"20 minutes\" 1200s)",
        ),
        (
            "hourly on 1 quarter",
            "(exec (hour on \"1 quarter\" 00:15:00..00:15:59.999999999))",
        ),
    ]);
}

/// Bad qualifiers, and errors of the time module shown at the literal.
#[test]
fn period_phrase_errors() {
    check_all(&[
        (
            "daily between 10:00 and 12:00 and 14:00",
            "error: expected a time of day like 10:00, 10:00:30 or 10pm, found '10:00 and 12:00' at byte 14\n  daily between 10:00 and 12:00 and 14:00\n                ^^^^^^^^^^^^^^^",
        ),
        (
            "daily between 25:00 and 12:00",
            "error: expected a time of day like 10:00, 10:00:30 or 10pm, found '25:00' at byte 14\n  daily between 25:00 and 12:00\n                ^^^^^",
        ),
        (
            "daily between 10:00 and 12:60",
            "error: expected a time of day like 10:00, 10:00:30 or 10pm, found '12:60' at byte 24\n  daily between 10:00 and 12:60\n                          ^^^^^",
        ),
        (
            "daily after",
            "error: expected a time after 'daily after' at byte 11\n  daily after\n             ^",
        ),
        (
            "daily between 10:00",
            "error: expected '<start> and <end>' after 'between' at byte 14\n  daily between 10:00\n                ^^^^^",
        ),
        (
            "daily at 10:00",
            "error: expected 'starting', 'between', 'after', 'before' or 'on' after 'daily' at byte 6\n  daily at 10:00\n        ^^",
        ),
        (
            "weekly on monday",
            "error: expected a day of the week like Mon or Tuesday 10:00, found 'monday' at byte 10\n  weekly on monday\n            ^^^^^^",
        ),
        (
            "monthly on 32nd",
            "error: expected a day of the month like 1st, 15 or 5th 12:30, found '32nd' at byte 11\n  monthly on 32nd\n             ^^^^",
        ),
        (
            "time of day",
            "error: expected 'between', 'after' or 'before' after 'time of day' at byte 11\n  time of day\n             ^",
        ),
        (
            "time of day on 10:00",
            "error: expected 'between', 'after' or 'before' after 'time of day' at byte 12\n  time of day on 10:00\n              ^^",
        ),
        (
            "time of day starting 10:00",
            "error: expected 'between', 'after' or 'before' after 'time of day' at byte 12\n  time of day starting 10:00\n              ^^^^^^^^",
        ),
        (
            "time of year between Jan and Feb",
            "error: expected 'minute', 'hour', 'day', 'week' or 'month' after 'time of' at byte 8\n  time of year between Jan and Feb\n          ^^^^",
        ),
        (
            "time of hour on 15:00",
            "error: expected 'between', 'after' or 'before' after 'time of hour' at byte 13\n  time of hour on 15:00\n               ^^",
        ),
        (
            "every",
            "error: expected a duration after 'every' at byte 5\n  every\n       ^",
        ),
        (
            "every 10",
            "error: missing unit after '10' in '10' (write e.g. '10 seconds') at byte 6\n  every 10\n        ^^",
        ),
        (
            "every 1 fortnight",
            "error: unknown duration unit 'fortnight' in '1 fortnight' (use weeks, days, hours, minutes, seconds, ms, us or ns) at byte 6\n  every 1 fortnight\n        ^^^^^^^^^^^",
        ),
        (
            "every 10 minutes ago",
            "error: expected a duration like '10 minutes', '1h30m', '02:00:00' or 'PT10M' in '10 minutes ago', found 'ago' at byte 6\n  every 10 minutes ago\n        ^^^^^^^^^^^^^^",
        ),
        (
            "has succeeded past",
            "error: expected a duration after 'has succeeded past' at byte 18\n  has succeeded past\n                    ^",
        ),
        (
            "has succeeded in past 2 hours ago",
            "error: expected a duration like '10 minutes', '1h30m', '02:00:00' or 'PT10M' in '2 hours ago', found 'ago' at byte 22\n  has succeeded in past 2 hours ago\n                        ^^^^^^^^^^^",
        ),
        (
            "has failed today before",
            "error: expected a time after 'has failed today before' at byte 23\n  has failed today before\n                         ^",
        ),
        (
            "scheduler started forever ago",
            "error: expected a duration like '10 minutes', '1h30m', '02:00:00' or 'PT10M' in 'forever', found 'forever' at byte 18\n  scheduler started forever ago\n                    ^^^^^^^",
        ),
        (
            "scheduler has run over",
            "error: expected a duration after 'scheduler has run over' at byte 22\n  scheduler has run over\n                        ^",
        ),
        (
            "run",
            "error: expected 'minutely', 'hourly', 'daily', 'weekly', 'monthly', 'every' or 'cron' after 'run' at byte 3\n  run\n     ^",
        ),
        (
            "run has failed",
            "error: expected 'minutely', 'hourly', 'daily', 'weekly', 'monthly', 'every' or 'cron' after 'run' at byte 4\n  run has failed\n      ^^^",
        ),
        (
            "daily between 10 and 12",
            "error: expected a time of day like 10:00, 10:00:30 or 10pm, found '10' at byte 14\n  daily between 10 and 12\n                ^^",
        ),
    ]);
}

/// Canonical text keeps literal and duration texts as written, and the spelling
/// choices (`run `, `in past`, `succeeded`, `while `).
#[test]
fn canonical_text() {
    check_canonical(&[
        // Already canonical: printed as is.
        ("run daily", "run daily"),
        ("daily", "daily"),
        ("run every 1h30m", "run every 1h30m"),
        (
            "every 1 day, 12 hour, 30 min, 20 sec",
            "every 1 day, 12 hour, 30 min, 20 sec",
        ),
        ("weekly between Mon and Fri", "weekly between Mon and Fri"),
        (
            "weekly between Monday and Friday",
            "weekly between Monday and Friday",
        ),
        ("monthly starting 3rd 12:00", "monthly starting 3rd 12:00"),
        (
            "daily between 10:30 pm and 1am",
            "daily between 10:30 pm and 1am",
        ),
        ("has succeeded past 1 day", "has succeeded past 1 day"),
        ("has succeeded in past 1 day", "has succeeded in past 1 day"),
        (
            "task 'x' has failed today after 10:00",
            "task 'x' has failed today after 10:00",
        ),
        ("after task 'a'", "after task 'a'"),
        ("after task 'a' succeeded", "after task 'a' succeeded"),
        ("after tasks 'a', 'b' failed", "after tasks 'a', 'b' failed"),
        ("while task 'x' is running", "while task 'x' is running"),
        ("time of week on Monday", "time of week on Monday"),
        ("param 'k' is 'v'", "param 'k' is 'v'"),
        ("cron 0 9 * * mon-fri", "cron 0 9 * * mon-fri"),
        (
            "scheduler started 10 minutes ago",
            "scheduler started 10 minutes ago",
        ),
        ("~(true | false)", "~(true | false)"),
        ("~(true & false) | ~true", "~(true & false) | ~true"),
        (
            "(true | false) & always true",
            "(true | false) & always true",
        ),
        ("true | false & true", "true | false & true"),
        // Not canonical: whitespace, redundant parentheses, double negation.
        ("", "false"),
        (
            "  daily \n  &   ~  has failed today  ",
            "daily & ~has failed today",
        ),
        ("(daily)", "daily"),
        ("~ ~ true", "true"),
        ("~(~(true & false))", "true & false"),
        ("(true|false)&always true", "(true | false) & always true"),
        ("true|(false&true)", "true | false & true"),
        ("((true | false) | true)", "true | false | true"),
        (
            "(true & (false | (true & (false))))",
            "true & (false | true & false)",
        ),
        ("~((true) & (~false))", "~(true & ~false)"),
        ("scheduler has 007 cycles", "scheduler has 7 cycles"),
    ]);
}

/// Syntax errors are `InvalidCondition`; errors inside a literal or a duration keep
/// the time module's kind.
#[test]
fn error_kinds() {
    let cases = [
        ("true &", ErrorKind::InvalidCondition),
        ("daily at 10:00", ErrorKind::InvalidCondition),
        ("cron 60 * * * *", ErrorKind::InvalidCondition),
        ("daily between 25:00 and 12:00", ErrorKind::InvalidTime),
        ("weekly on monday", ErrorKind::InvalidTime),
        ("every 10", ErrorKind::InvalidDuration),
        ("has failed past 1 fortnight", ErrorKind::InvalidDuration),
    ];
    for (input, kind) in cases {
        match parse(input) {
            Err(e) => assert_eq!(e.kind(), kind, "{input:?}: {}", e.render()),
            Ok(tree) => panic!("{input:?} parsed as {tree:?}"),
        }
    }
}
