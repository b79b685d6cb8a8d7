//! Daylight-saving property tests: a simulated scheduler runs tasks whose
//! conditions are true, minute by minute (and by jumping to `next_change`), over
//! the days around offset changes of many zones in 1990-2040, and checks that
//! periods follow the local calendar while `every` is elapsed time.
//!
//! * `daily` starts exactly once per local calendar day, at its first instant,
//!   also on 23- and 25-hour days;
//! * `daily between X and Y` starts once per local day, at the first instant whose
//!   local time reaches X: a window starting inside a skipped hour opens at the end
//!   of the gap; a window inside a repeated hour runs once, in its first pass;
//! * `every 2 hours` starts are 2 h + one step apart in UTC (the first step after
//!   2 h), whatever the clocks do.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use engine_core::Condition;
use engine_core::condition::eval::EvalContext;
use engine_core::log::{Action, LogRecord, MemoryLogStore};
use engine_core::time::to_local;
use proptest::prelude::*;
use serde_json::Map;

/// Zones with one-hour, half-hour, 45-minute and two-hour changes, changes at
/// midnight, southern-hemisphere summers, negative DST, and zones that dropped or
/// never had DST.
const ZONES: &[Tz] = &[
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::Santiago,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::Los_Angeles,
    chrono_tz::Australia::Sydney,
    chrono_tz::America::Havana,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Asia::Tehran,
    chrono_tz::Europe::Dublin,
    chrono_tz::Antarctica::Troll,
    chrono_tz::Pacific::Auckland,
    chrono_tz::America::St_Johns,
    chrono_tz::Europe::Moscow,
    chrono_tz::Africa::Casablanca,
];

/// How the simulated scheduler moves its clock.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Evaluate every `n` minutes.
    Step(i64),
    /// Evaluate at each `next_change`.
    Jump,
}

fn offset(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The instants in `year` at which the zone's UTC offset changes, each with the
/// offsets before and after (in seconds).
fn transitions(tz: Tz, year: i32) -> Vec<(DateTime<Utc>, i32, i32)> {
    let Some(mut day) = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    while day.year() == year {
        let next = day + Duration::days(1);
        let (before, after) = (offset(tz, day), offset(tz, next));
        if before != after {
            let (mut lo, mut hi) = (day, next);
            while hi - lo > Duration::nanoseconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset(tz, mid) == before {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            found.push((hi, before, after));
        }
        day = next;
    }
    found
}

/// Runs a scheduler from `from` to `to` that starts task `t` (a `run` and a
/// `success` record at the same instant) whenever `cond` is true.
fn simulate(
    cond: &Condition,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mode: Mode,
) -> Vec<DateTime<Utc>> {
    let log = MemoryLogStore::default();
    let params = Map::new();
    let mut starts = Vec::new();
    let mut now = from;
    while now < to {
        let ctx = EvalContext {
            now,
            tz,
            log: &log,
            task: Some("t"),
            scheduler: None,
            params: &params,
            task_exists: None,
        };
        if cond.eval(&ctx).unwrap_or_else(|e| panic!("{cond}: {e}")) {
            log.append(LogRecord::new("t", Action::Run, now));
            log.append(LogRecord::new("t", Action::Success, now));
            starts.push(now);
        }
        now = match mode {
            Mode::Step(minutes) => now + Duration::minutes(minutes),
            Mode::Jump => {
                let next = cond
                    .next_change(&ctx)
                    .unwrap_or_else(|e| panic!("{cond}: {e}"));
                match next {
                    Some(next) => {
                        assert!(next > now, "{cond}: next change {next} not after {now}");
                        next
                    }
                    None => to,
                }
            }
        };
    }
    starts
}

/// The first instant whose local time is `local` or later, computed with
/// chrono-tz directly: the earlier of a repeated time, the end of a gap.
fn first_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap: bisect for the first instant whose local time reaches
            // `local` (no other change lies within hours of a gap).
            let guess = local.and_utc();
            let (mut lo, mut hi) = (guess - Duration::hours(15), guess + Duration::hours(15));
            while hi - lo > Duration::nanoseconds(1) {
                let mid = lo + (hi - lo) / 2;
                if to_local(tz, mid) >= local {
                    hi = mid
                } else {
                    lo = mid
                }
            }
            hi
        }
    }
}

/// When the scheduler should first see local time inside `[start, end]`: the first
/// instant whose local time reaches `start` when jumping (it is reached exactly);
/// with steps, the first grid instant from there whose local time is inside (after
/// a change back, local time may leave again before the next step).
fn opens(
    tz: Tz,
    start: NaiveDateTime,
    end: NaiveDateTime,
    from: DateTime<Utc>,
    mode: Mode,
) -> Option<DateTime<Utc>> {
    let first = first_instant(tz, start);
    let Mode::Step(minutes) = mode else {
        return Some(first);
    };
    let step = Duration::minutes(minutes);
    let steps = (first - from).num_seconds().div_euclid(step.num_seconds());
    let mut at = from + step * i32::try_from(steps).unwrap_or(i32::MAX);
    // A window wholly in a gap but for its last instant can fall between steps.
    let last = first_instant(tz, end) + Duration::hours(3);
    while at <= last {
        if at >= first && (start..=end).contains(&to_local(tz, at)) {
            return Some(at);
        }
        at += step;
    }
    None
}

/// The local dates wholly inside `[from, to]`.
fn full_days(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<NaiveDate> {
    let (first, last) = (to_local(tz, from).date(), to_local(tz, to).date());
    first
        .iter_days()
        .skip(1)
        .take_while(|d| *d < last)
        .collect()
}

/// Checks `daily between x and y` (x before y, no wrap): one start per full local
/// day, when the scheduler first sees local time inside the window; none when it
/// never does (a window in a gap but for its last instant, between two steps).
fn check_window(
    tz: Tz,
    x: NaiveTime,
    y: NaiveTime,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mode: Mode,
) -> Result<(), TestCaseError> {
    let text = format!(
        "daily between {} and {}",
        x.format("%H:%M"),
        y.format("%H:%M")
    );
    let cond: Condition = text
        .parse()
        .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
    let starts = simulate(&cond, tz, from, to, mode);
    for day in full_days(tz, from, to) {
        let on_day: Vec<_> = starts
            .iter()
            .filter(|s| to_local(tz, **s).date() == day)
            .collect();
        let opens = opens(tz, day.and_time(x), day.and_time(y), from, mode);
        let want: Vec<_> = opens.iter().collect();
        prop_assert_eq!(on_day, want, "{} in {} on {}", text, tz, day);
    }
    Ok(())
}

/// Runs the checks around change number `pick` of `zone` in `year` (any day of a
/// year without changes); answers whether a window was placed in the change.
fn run_case(zone: Tz, year: i32, pick: usize, mode: Mode) -> Result<bool, TestCaseError> {
    let changes = transitions(zone, year);
    let center = match changes.get(pick % changes.len().max(1)) {
        Some((t, _, _)) => *t,
        // No change that year: any day will do.
        None => {
            Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default()
                + Duration::days(pick as i64 % 365)
        }
    };
    let from = (center - Duration::hours(30))
        .with_second(0)
        .unwrap_or(center)
        .with_nanosecond(0)
        .unwrap_or(center);
    let to = center + Duration::hours(30);

    // `daily`: once per local day, at the day's first instant.
    let daily: Condition = "daily"
        .parse()
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let starts = simulate(&daily, zone, from, to, mode);
    for day in full_days(zone, from, to) {
        let on_day: Vec<_> = starts
            .iter()
            .filter(|s| to_local(zone, **s).date() == day)
            .collect();
        prop_assert_eq!(
            on_day.len(),
            1,
            "daily in {} on {}: {:?}",
            zone,
            day,
            on_day
        );
        let end = day.and_time(NaiveTime::MIN) + Duration::days(1) - Duration::nanoseconds(1);
        let first = opens(zone, day.and_time(NaiveTime::MIN), end, from, mode);
        prop_assert_eq!(Some(*on_day[0]), first, "daily in {} on {}", zone, day);
    }
    prop_assert!(starts.len() >= 2, "daily in {}: {:?}", zone, starts);

    // `every 2 hours`: elapsed time.
    let every: Condition = "every 2 hours"
        .parse()
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let starts = simulate(&every, zone, from, to, mode);
    let gap = match mode {
        // The first grid instant after 2 h (2 h + one step when it divides 2 h).
        Mode::Step(minutes) => Duration::minutes(minutes * (120 / minutes + 1)),
        Mode::Jump => Duration::hours(2) + Duration::nanoseconds(1),
    };
    prop_assert_eq!(starts.first(), Some(&from));
    for pair in starts.windows(2) {
        prop_assert_eq!(
            pair[1] - pair[0],
            gap,
            "every 2 hours in {}: {:?}",
            zone,
            pair
        );
    }

    // The fixed window, then windows placed in the change's gap or repeated hour.
    check_window(zone, hm(1, 30), hm(3, 0), from, to, mode)?;
    if let Some((t, before, after)) = changes.get(pick % changes.len().max(1)) {
        let local_before = t.naive_utc() + Duration::seconds(i64::from(*before));
        let local_after = t.naive_utc() + Duration::seconds(i64::from(*after));
        let (lo, hi) = if after > before {
            (local_before, local_after)
        } else {
            (local_after, local_before)
        };
        let len = hi - lo;
        if after > before {
            // Skipped: start halfway into the gap, end an hour after it.
            let x = minute_of(lo + len / 2);
            let y = minute_of(hi + Duration::hours(1));
            if x < y && (lo + len / 2).date() == (hi + Duration::hours(1)).date() {
                check_window(zone, x, y, from, to, mode)?;
                return Ok(true);
            }
        } else {
            // Repeated: a window wholly inside the repeated local times.
            let x = minute_of(lo + len / 4);
            let y = minute_of(lo + len * 3 / 4);
            if x < y && (lo + len / 4).date() == (lo + len * 3 / 4).date() {
                check_window(zone, x, y, from, to, mode)?;
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The start of the minute of `t`'s time of day.
fn minute_of(t: NaiveDateTime) -> NaiveTime {
    hm(t.hour(), t.minute())
}

fn hm(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn schedules_follow_the_local_calendar_across_offset_changes(
        zone in prop::sample::select(ZONES),
        year in 1990i32..=2040,
        pick in 0usize..8,
        mode in prop_oneof![3 => Just(Mode::Jump), 1 => (1i64..=7).prop_map(Mode::Step)],
    ) {
        run_case(zone, year, pick, mode).map(|_| ())?;
    }
}

/// The named zones of the brief, each around its two 2024 changes, minute by
/// minute: a window is placed in every gap and repeated hour (Kolkata has none).
#[test]
fn named_zones_minute_by_minute() {
    let mut placed = 0;
    for zone in ZONES.iter().take(7) {
        for pick in 0..2 {
            match run_case(*zone, 2024, pick, Mode::Step(1)) {
                Ok(true) => placed += 1,
                Ok(false) => {}
                Err(e) => panic!("{zone} change {pick}: {e}"),
            }
        }
    }
    assert_eq!(placed, 12, "windows placed in gaps and repeated hours");
}
