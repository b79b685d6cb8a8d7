//! Reading what the user gives on the command line: local times, the time zone,
//! `--param KEY=VALUE` pairs and task log files; and printing local times.

use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use engine::log::{Action, LogRecord};
use engine::time::{Side, to_instant, to_local};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::{Map, Value};

use super::Failure;

/// The zone named by `--tz`, or the machine's zone when `name` is `None`.
pub(crate) fn time_zone(name: Option<&str>) -> Result<Tz, Failure> {
    match name {
        Some(name) => parse_zone(name).ok_or_else(|| {
            Failure::Input(format!(
                "unknown time zone '{name}' for --tz, expected an IANA name such as UTC or Europe/Berlin"
            ))
        }),
        None => Ok(machine_zone()),
    }
}

/// The machine's zone: `TZ`, else the target of /etc/localtime, else
/// /etc/timezone, else UTC. A `TZ` that names no known zone means UTC, as in
/// the C library.
fn machine_zone() -> Tz {
    if let Some(tz) = std::env::var_os("TZ")
        && !tz.is_empty()
    {
        return tz.to_str().and_then(parse_zone).unwrap_or(Tz::UTC);
    }
    let from_link = std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|target| target.to_str().and_then(parse_zone));
    let from_file = || {
        std::fs::read_to_string("/etc/timezone")
            .ok()
            .and_then(|text| parse_zone(&text))
    };
    from_link.or_else(from_file).unwrap_or(Tz::UTC)
}

/// Reads a zone name: `Europe/Berlin`, `:Europe/Berlin` (the `TZ` form) or a path
/// ending in `zoneinfo/Europe/Berlin`.
fn parse_zone(text: &str) -> Option<Tz> {
    let text = text.trim();
    let text = text.strip_prefix(':').unwrap_or(text);
    let name = text
        .rfind("zoneinfo/")
        .map_or(text, |i| &text[i + "zoneinfo/".len()..]);
    name.parse().ok()
}

/// Reads a local wall-clock time: `YYYY-MM-DD HH:MM:SS[.f]`, `YYYY-MM-DD HH:MM` or
/// `YYYY-MM-DD`, with `T` allowed instead of the space. `None` when it is not one.
pub(crate) fn parse_local(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    let text = text.trim();
    let local = FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })?;
    // Four-digit years only, and no leap second (`23:59:60`).
    let plain = (1..=9999).contains(&local.year()) && local.nanosecond() < 1_000_000_000;
    plain.then_some(local)
}

/// Reads the value of a time option (`--now`, `--from`, `--started`) as a local
/// time in `tz`.
pub(crate) fn parse_time(option: &str, text: &str, tz: Tz) -> Result<DateTime<Utc>, Failure> {
    let local = parse_local(text).ok_or_else(|| {
        Failure::Input(format!(
            "bad time '{text}' for {option}, expected YYYY-MM-DD HH:MM:SS[.ffffff], YYYY-MM-DD HH:MM or YYYY-MM-DD"
        ))
    })?;
    Ok(to_instant(tz, local, Side::Start))
}

/// Prints `instant` as a local time in `tz`: `YYYY-MM-DD HH:MM:SS`, then `.ffffff`
/// when the microseconds are not zero, or `.fffffffff` when finer digits are not.
pub(crate) fn format_local(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = to_local(tz, instant);
    let nanos = local.nanosecond();
    let fraction = if nanos == 0 {
        ""
    } else if nanos.is_multiple_of(1000) {
        "%.6f"
    } else {
        "%.9f"
    };
    local
        .format(&format!("%Y-%m-%d %H:%M:%S{fraction}"))
        .to_string()
}

/// Reads `--param KEY=VALUE` pairs into session parameters: VALUE is JSON when it
/// parses as JSON, else text; a repeated key keeps its last value.
pub(crate) fn parse_params(pairs: &[String]) -> Result<Map<String, Value>, Failure> {
    let mut params = Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .filter(|(key, _)| !key.is_empty())
            .ok_or_else(|| Failure::Input(format!("bad --param '{pair}', expected KEY=VALUE")))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        params.insert(key.to_owned(), value);
    }
    Ok(params)
}

/// The records of a logs file.
#[derive(Debug, Default)]
pub(crate) struct Logs {
    /// The records, in log order.
    pub(crate) records: Vec<LogRecord>,
}

/// Reads a task log file (see [`parse_logs`]).
pub(crate) fn read_logs(path: &Path, tz: Tz) -> Result<Logs, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::Input(format!(
            "cannot read the logs file '{}': {e}",
            path.display()
        ))
    })?;
    parse_logs(&text, tz)
        .map_err(|e| Failure::Input(format!("malformed logs file '{}': {e}", path.display())))
}

/// Reads task log records, in log order, from a JSON array or from JSON lines
/// (a stream of objects) of `{task_name, action, timestamp}`; other fields are
/// ignored, timestamps are local times in `tz`. The error says where (line and
/// column) the file went wrong.
pub(crate) fn parse_logs(text: &str, tz: Tz) -> Result<Logs, serde_json::Error> {
    let raw: Vec<RawRecord> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text)?
    } else {
        serde_json::Deserializer::from_str(text)
            .into_iter()
            .collect::<Result<_, _>>()?
    };
    let records = raw
        .into_iter()
        .map(|record| {
            let timestamp = to_instant(tz, record.timestamp, Side::Start);
            LogRecord::new(record.task_name, record.action, timestamp)
        })
        .collect();
    Ok(Logs { records })
}

/// One record of a logs file as written.
#[derive(Deserialize)]
struct RawRecord {
    task_name: String,
    #[serde(deserialize_with = "action")]
    action: Action,
    #[serde(deserialize_with = "timestamp")]
    timestamp: NaiveDateTime,
}

/// Deserializes an action name. The original's reserved `crash_release` (which
/// its logs can hold) reads as `crash`: no condition counts it, but as a task's
/// latest record it ends the run for `is running`. Any other unknown name is an
/// error, so a typo such as `sucess` is caught with its line and column.
fn action<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Action, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text == "crash_release" {
        return Ok(Action::Crash);
    }
    text.parse().map_err(|_| {
        D::Error::custom(format!(
            "unknown action '{text}', expected run, success, fail, terminate, inaction or crash"
        ))
    })
}

/// Deserializes a local timestamp.
fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_local(&text).ok_or_else(|| {
        D::Error::custom(format!(
            "bad timestamp '{text}', expected YYYY-MM-DD HH:MM:SS[.ffffff]"
        ))
    })
}

#[cfg(test)]
mod tests;
