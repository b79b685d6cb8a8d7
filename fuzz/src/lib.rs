//! Shared fixtures and checks of the fuzz targets in `fuzz_targets/`: fixed
//! instants to evaluate at, the time zones, and the error-span check.
//!
//! Every check here is a documented property of the code under test; a
//! failing one panics, which libFuzzer reports as a crash with the input.

use std::ops::Range;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// Local times to roll periods from: a Monday midnight, a leap day's last
/// nanosecond, month ends, and the daylight-saving changes of Europe/Helsinki
/// (a skipped and a repeated hour).
pub fn local_times() -> Vec<NaiveDateTime> {
    [
        (2024, 1, 1, 0, 0, 0, 0),
        (2024, 2, 29, 23, 59, 59, 999_999_999),
        (2024, 3, 31, 3, 30, 0, 0),
        (2023, 10, 29, 3, 30, 0, 0),
        (2021, 12, 31, 12, 0, 0, 0),
        (2024, 6, 15, 10, 15, 30, 500_000_000),
    ]
    .into_iter()
    .filter_map(|(y, mo, d, h, mi, s, ns)| {
        NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_nano_opt(h, mi, s, ns)
    })
    .collect()
}

/// The instants of [`local_times`] read as UTC.
pub fn instants() -> Vec<DateTime<Utc>> {
    local_times().into_iter().map(|t| t.and_utc()).collect()
}

/// The zones to evaluate in: UTC and one with daylight saving.
pub const ZONES: [Tz; 2] = [Tz::UTC, Tz::Europe__Helsinki];

/// Checks that an error span lies inside `input` on character boundaries.
///
/// # Panics
///
/// When it does not (the property the fuzz targets check).
pub fn check_span(input: &str, span: Option<Range<usize>>) {
    let Some(span) = span else { return };
    assert!(
        span.start <= span.end && span.end <= input.len(),
        "span {span:?} outside the input of {} bytes",
        input.len()
    );
    assert!(
        input.is_char_boundary(span.start) && input.is_char_boundary(span.end),
        "span {span:?} not on character boundaries of {input:?}"
    );
}
