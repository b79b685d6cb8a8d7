//! `cargo xtask fuzz --seed`: the seed corpora of the fuzz targets, made from
//! `testdata/vectors.json` (condition inputs and canonical texts, evaluation
//! conditions, time periods, anchored literals, query pairs) and from the
//! phrase examples below, one file per distinct input named `seed-<hash>`.

use std::collections::BTreeMap;
use std::path::Path;

use super::json::{self, Json};

/// One example of every condition phrase family (conditions.md §3), including
/// the forms the vectors do not cover (cron, parameters, `starting`, `on`,
/// quoted names with operators inside).
const PHRASES: &[&str] = &[
    "while task 'extract' is running",
    "task 'a & b | (c)' is running",
    "run daily starting 10:00",
    "run hourly between 15:00 and 45:00",
    "minutely after 30",
    "minutely between 15.5 and 45",
    "hourly on 1 quarter",
    "hourly between 1q and 3 quarter",
    "daily between 10:30 pm and 2am",
    "daily on 23:30",
    "daily after 10:00:30.123456789",
    "weekly between Mon 10:00 and Fri 18:00",
    "weekly starting Sunday 23:59",
    "monthly on 31st",
    "monthly between 5th 12:30 and 2nd",
    "monthly after Jan 5th",
    "every 1h30m",
    "every PT10M",
    "every 1 day 02:00:00",
    "every 1.5 hours",
    "every 2 weeks",
    "every 500 ms",
    "cron */15 * * * *",
    "cron 0 9-17 * * MON-FRI",
    "cron 30 2 1,15 JAN-JUN/2 7",
    "run cron 0 0 29 2 *",
    "after task 'a' terminated",
    "after tasks 'a', 'b' succeeded",
    "after any tasks 'a', 'b', 'ghost' terminated",
    "task 'a' has finished this hour before 30:00",
    "task 'b' has inacted this minute after 30",
    "has started today on 10:00",
    "has failed this week on Fri",
    "has succeeded this month starting 15th",
    "has terminated in past 1 day",
    "scheduler has more than 3 cycles",
    "scheduler has 4 cycles",
    "scheduler started 2 hours ago",
    "param 'k' exists",
    "param 'k' is 'v'",
    "param 'missing' is ''",
    "env 'prod'",
    "time of minute between 10 and 20",
    "time of hour after 45:00",
    "time of month on 1st",
    "time of week before Sun",
    "always false | ~(true & ~false)",
    "(daily | weekly) & ~(env 'test' | param 'k' exists)",
    "task 'ünïcode ✓' has succeeded",
];

/// Time periods (time.md §7) and durations the vectors do not cover.
const PERIODS: &[&str] = &[
    "always",
    "never",
    "every 10 minutes",
    "past 2 hours, 30 minutes",
    "time of year between Jan and Mar",
    "time of year after Jun 15th",
    "time of minute between 10 and 20.5",
    "time of hour between 3 quarter and 15:00",
    "time of month between 28th and 3rd",
    "time of week on Fri",
    "time of day after 22:00 & time of week before Fri",
    "(time of day before 02:00 | time of day after 22:00) & time of month after 15th",
    "10 minutes",
    "1h30m",
    "PT1H2M3.5S",
    "P2W3D",
    "1 day 02:00:00",
    "-2 days, 4 hours",
    "0 days 00:00:00.000000001",
    "106751 days 23:47:16.854775807",
    "1.5 hours 30 secs 10 ms 5 us 3 ns",
    "10:00",
    "10:30 pm",
    "15:00",
    "1 quarter",
    "Tue 10:00",
    "Tuesday",
    "5th",
    "31st 23:59:59.999999999",
    "30.25",
    "Mon|Fri",
    "22:00|02:00",
    "1st|15th 12:00",
];

/// Queries (query.md, DESIGN.md "Query language") the vectors do not cover.
const QUERIES: &[&str] = &[
    "action=run&action=fail&timestamp$max=2021-01-01&priority=0",
    "task_name$regex=ext.*&timestamp$min=2021-01-01 00:00",
    "timestamp$min=2020-12-31T23:00:00Z&timestamp$max=2021-01-01T02:00:00%2B02:00",
    "priority$not=0&disabled=false&exc_text=null",
    "runtime$min=1.5&runtime$max=1e3&created$min=1609502400",
    "task_name=%C3%BCn%C3%AFcode%20%E2%9C%93",
    "mydate=2021-01-01&mykey$min=10&mykey$max=20",
    "action$foo=run",
    "=run",
    "a%zz=1",
    "task_name$regex=(",
    "{\"task_name\": \"extract\", \"priority$min\": 0, \"action\": [\"run\", \"fail\"]}",
    "{\"timestamp$max\": \"2021-01-01\", \"disabled\": false, \"exc_text\": null}",
];

/// Writes the seed corpora under `corpus_root/<target>/`, replacing earlier
/// `seed-*` files (inputs libFuzzer added by `--merge` stay).
pub(crate) fn write(vectors: &Path, corpus_root: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(vectors)
        .map_err(|e| format!("cannot read {}: {e}", vectors.display()))?;
    let vectors = json::parse(&text).map_err(|e| format!("{}: {e}", vectors.display()))?;
    for (target, seeds) in seeds(&vectors) {
        let dir = corpus_root.join(target);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        remove_seeds(&dir)?;
        for seed in &seeds {
            let path = dir.join(format!("seed-{:016x}", fnv1a(seed.as_bytes())));
            std::fs::write(&path, seed)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        eprintln!("xtask fuzz: {} seeds in {}", seeds.len(), dir.display());
    }
    Ok(())
}

fn remove_seeds(dir: &Path) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("seed-") {
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The seeds of each target, sorted and without duplicates.
pub(crate) fn seeds(vectors: &Json) -> BTreeMap<&'static str, Vec<String>> {
    let mut conditions: Vec<String> = PHRASES.iter().map(|s| (*s).to_owned()).collect();
    let mut evaluated: Vec<String> = PHRASES.iter().map(|s| (*s).to_owned()).collect();
    let mut periods: Vec<String> = PERIODS.iter().map(|s| (*s).to_owned()).collect();
    let mut queries: Vec<String> = QUERIES.iter().map(|s| (*s).to_owned()).collect();
    let text = |v: &Json, key: &str| v.get(key).and_then(Json::as_str).map(str::to_owned);
    for vector in vectors.items() {
        match vector.get("kind").and_then(Json::as_str) {
            Some("cond_parse") => {
                conditions.extend(text(vector, "input"));
                conditions.extend(text(vector, "canonical"));
                if vector.get("ok") == Some(&Json::Bool(true)) {
                    evaluated.extend(text(vector, "canonical"));
                }
            }
            Some("cond_eval") => {
                let cond = text(vector, "cond");
                periods.extend(cond.as_deref().and_then(duration_of));
                conditions.extend(cond.clone());
                evaluated.extend(cond);
            }
            Some("period" | "roll") => periods.extend(text(vector, "period")),
            Some("anchor") => {
                let (start, end) = (text(vector, "start"), text(vector, "end"));
                if let (Some(start), Some(end)) = (&start, &end) {
                    periods.push(format!("{start}|{end}"));
                }
                periods.extend(start);
                periods.extend(end);
            }
            Some("query") => {
                let pairs = vector.get("pairs").map(Json::items).unwrap_or_default();
                queries.push(query_string(pairs));
                queries.push(json_query(pairs));
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for (target, mut seeds) in [
        ("condition", conditions),
        ("condition_eval", evaluated),
        ("duration_and_period", periods),
        ("query", queries),
    ] {
        seeds.sort();
        seeds.dedup();
        out.insert(target, seeds);
    }
    out
}

/// The duration of an `every`, `past`, `started ... ago` or `run over` phrase.
fn duration_of(cond: &str) -> Option<String> {
    let rest = ["every ", "past ", "started ", "run over "]
        .iter()
        .find_map(|word| cond.split_once(word).map(|(_, rest)| rest))?;
    let end = rest.find(['&', '|', ')']).unwrap_or(rest.len());
    let duration = rest[..end].trim();
    let duration = duration.strip_suffix(" ago").unwrap_or(duration);
    (!duration.is_empty()).then(|| duration.to_owned())
}

/// `[[key, value], ...]` as a raw query string, percent-encoding what must be.
fn query_string(pairs: &[Json]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|pair| match pair.items() {
            [key, value] => Some(format!(
                "{}={}",
                encode(&scalar_text(key)),
                encode(&scalar_text(value))
            )),
            _ => None,
        })
        .collect();
    parts.join("&")
}

/// `[[key, value], ...]` as a JSON query object (a repeated key as an array).
fn json_query(pairs: &[Json]) -> String {
    let mut members: Vec<(String, Vec<Json>)> = Vec::new();
    for pair in pairs {
        if let [key, value] = pair.items() {
            let key = scalar_text(key);
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value.clone()),
                None => members.push((key, vec![value.clone()])),
            }
        }
    }
    let members = members
        .into_iter()
        .map(|(key, mut values)| {
            let value = if values.len() == 1 {
                values.remove(0)
            } else {
                Json::Array(values)
            };
            (key, value)
        })
        .collect();
    Json::Object(members).to_json()
}

/// A JSON scalar as the text a URL would carry.
fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_json(),
    }
}

/// Percent-encodes every byte but ASCII letters, digits and `-._~:$`.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:$".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// FNV-1a, 64 bits: a stable file name for a seed.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
