//! Condition parse tests: cron phrases and their fields.

use super::*;

#[test]
fn cron_phrases() {
    check_all(&[
        (
            "cron * * * * *",
            "(exec (cron \"* * * * *\" m=0-59 h=0-23 dom=1-31* mon=1-12 dow=0-6*))",
        ),
        (
            "cron 0 9 * * MON-FRI",
            "(exec (cron \"0 9 * * MON-FRI\" m=0 h=9 dom=1-31* mon=1-12 dow=1-5))",
        ),
        (
            "run cron 0 0 * * *",
            "(exec run (cron \"0 0 * * *\" m=0 h=0 dom=1-31* mon=1-12 dow=0-6*))",
        ),
        (
            "cron */15 */6 1,15 * *",
            "(exec (cron \"*/15 */6 1,15 * *\" m=0,15,30,45 h=0,6,12,18 dom=1,15 mon=1-12 dow=0-6*))",
        ),
        (
            "cron 5-10/2 1-3 */10 jan-mar/2 sun",
            "(exec (cron \"5-10/2 1-3 */10 jan-mar/2 sun\" m=5,7,9 h=1-3 dom=1,11,21,31* mon=1,3 dow=0))",
        ),
        (
            "cron 0 0 * DEC,Nov 5-7",
            "(exec (cron \"0 0 * DEC,Nov 5-7\" m=0 h=0 dom=1-31* mon=11-12 dow=0,5-6))",
        ),
        (
            "cron 0 0 */2 * mon",
            "(exec (cron \"0 0 */2 * mon\" m=0 h=0 dom=1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31* mon=1-12 dow=1))",
        ),
        (
            "cron 0 0 1 * */2",
            "(exec (cron \"0 0 1 * */2\" m=0 h=0 dom=1 mon=1-12 dow=0,2,4,6*))",
        ),
        (
            "cron 0 0 * * 7",
            "(exec (cron \"0 0 * * 7\" m=0 h=0 dom=1-31* mon=1-12 dow=0))",
        ),
        (
            "cron 0 0 * * 0,7",
            "(exec (cron \"0 0 * * 0,7\" m=0 h=0 dom=1-31* mon=1-12 dow=0))",
        ),
        (
            "cron 59 23 31 12 6",
            "(exec (cron \"59 23 31 12 6\" m=59 h=23 dom=31 mon=12 dow=6))",
        ),
        (
            "cron 0 12 * * sat | true",
            "(any (exec (cron \"0 12 * * sat\" m=0 h=12 dom=1-31* mon=1-12 dow=6)) true)",
        ),
    ]);
    check_all(&[
        (
            "cron",
            "error: expected five cron fields after 'cron' at byte 4\n  cron\n      ^",
        ),
        (
            "cron * * * *",
            "error: expected 5 cron fields (minute hour day-of-month month day-of-week), found 4 \
             at byte 5\n  cron * * * *\n       ^^^^^^^",
        ),
        (
            "cron * * * * * *",
            "error: expected 5 cron fields (minute hour day-of-month month day-of-week), found 6 \
             at byte 5\n  cron * * * * * *\n       ^^^^^^^^^^^",
        ),
        (
            "cron 60 * * * *",
            "error: minute 60 is out of range 0-59 in cron field at byte 5\n  cron 60 * * * *\n       ^^",
        ),
        (
            "cron * 24 * * *",
            "error: hour 24 is out of range 0-23 in cron field at byte 7\n  cron * 24 * * *\n         ^^",
        ),
        (
            "cron * * 0 * *",
            "error: day of month 0 is out of range 1-31 in cron field at byte 9\n  cron * * 0 * *\n           ^",
        ),
        (
            "cron * * * 13 *",
            "error: month 13 is out of range 1-12 in cron field at byte 11\n  cron * * * 13 *\n             ^^",
        ),
        (
            "cron * * * * 8",
            "error: day of week 8 is out of range 0-7 in cron field at byte 13\n  cron * * * * 8\n               ^",
        ),
        (
            "cron * * * * 1-8",
            "error: day of week 8 is out of range 0-7 in cron field at byte 15\n  cron * * * * 1-8\n                 ^",
        ),
        (
            "cron */0 * * * *",
            "error: invalid step '0' in cron minute field at byte 7\n  cron */0 * * * *\n         ^",
        ),
        (
            "cron */x * * * *",
            "error: invalid step 'x' in cron minute field at byte 7\n  cron */x * * * *\n         ^",
        ),
        (
            "cron */ * * * *",
            "error: invalid step '' in cron minute field at byte 7\n  cron */ * * * *\n         ^",
        ),
        (
            "cron 5/2 * * * *",
            "error: a step needs '*' or a range before '/' in cron minute field at byte 5\n  cron 5/2 * * * *\n       ^^^",
        ),
        (
            "cron 10-5 * * * *",
            "error: range '10-5' in cron minute field goes backwards at byte 5\n  cron 10-5 * * * *\n       ^^^^",
        ),
        (
            "cron a * * * *",
            "error: invalid minute 'a' in cron field at byte 5\n  cron a * * * *\n       ^",
        ),
        (
            "cron 1,,2 * * * *",
            "error: empty item in cron minute field at byte 7\n  cron 1,,2 * * * *\n         ^",
        ),
        (
            "cron 1- * * * *",
            "error: invalid minute '' in cron field at byte 7\n  cron 1- * * * *\n         ^",
        ),
        (
            "cron * * * * MONDAY",
            "error: invalid day of week 'MONDAY' in cron field at byte 13\n  cron * * * * MONDAY\n               ^^^^^^",
        ),
        (
            "cron * * * mon *",
            "error: invalid month 'mon' in cron field at byte 11\n  cron * * * mon *\n             ^^^",
        ),
        (
            "cron * * * * +1",
            "error: invalid day of week '+1' in cron field at byte 13\n  cron * * * * +1\n               ^^",
        ),
        (
            "cron 0 0  * * *",
            "error: words must be separated by a single space at byte 8\n  cron 0 0  * * *\n          ^^",
        ),
    ]);
}
