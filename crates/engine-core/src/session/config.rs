//! The session configuration: typed keys (spec §1.1 plus the engine's own), their
//! JSON form, and validated patches.
//!
//! Durations (`cycle_sleep`, `timeout`, `shutdown_grace`) are shown as seconds
//! (a number) and accepted as seconds or as a duration string (`"30 minutes"`).

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use chrono_tz::Tz;
use serde_json::{Map, Number, Value};

use super::invalid;
use crate::Error;
use crate::task::Execution;
use crate::time::parse_duration;

/// What happens when a task is created (or renamed) under a name already taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnExists {
    /// Refuse with an error; the existing task stays.
    #[default]
    Raise,
    /// The new definition replaces the old one (its runs and state are kept).
    Replace,
    /// The new definition is dropped; the existing task stays.
    Ignore,
    /// Append the smallest integer (no separator) that makes the name unique:
    /// `a task` -> `a task0`.
    Rename,
}

impl OnExists {
    /// The wire name: `raise`, `replace`, `ignore`, `rename`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnExists::Raise => "raise",
            OnExists::Replace => "replace",
            OnExists::Ignore => "ignore",
            OnExists::Rename => "rename",
        }
    }
}

impl fmt::Display for OnExists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OnExists {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        [
            OnExists::Raise,
            OnExists::Replace,
            OnExists::Ignore,
            OnExists::Rename,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
        .ok_or_else(|| {
            invalid(format!(
                "unknown name policy '{text}', expected raise, replace, ignore or rename"
            ))
        })
    }
}

/// The session configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Name tasks created without a name after their id (`task-<n>`) instead of
    /// their kind's default name.
    pub use_instance_naming: bool,
    /// The priority [`Session::default_spec`](super::Session::default_spec) gives.
    pub task_priority: i64,
    /// The execution [`Session::default_spec`](super::Session::default_spec)
    /// gives; `None`: by kind (async functions `async`, blocking functions
    /// `thread`, commands and code `process`).
    pub task_execution: Option<Execution>,
    /// The policy for a name already taken, when the call gives none.
    pub task_pre_exist: OnExists,
    /// Kept for compatibility; status always comes from the log here.
    pub force_status_from_logs: bool,
    /// Errors before a task body runs (a `$return` of an unknown task, a missing
    /// function) are logged `run` + `fail` and the scheduler goes on; when
    /// false, the scheduler also stops with the error.
    pub silence_task_prerun: bool,
    /// A condition that cannot be evaluated counts as false (with a warning);
    /// when false, the scheduler stops with the error.
    pub silence_cond_check: bool,
    /// The longest the scheduler sleeps without an event; `None`: it sleeps
    /// until the next instant a condition can change.
    pub cycle_sleep: Option<TimeDelta>,
    /// No effect in the core.
    pub debug: bool,
    /// The zone periods (`daily`, `time of day ...`) are evaluated in.
    pub timezone: Tz,
    /// The most runs (other than `main` runs) going on at once.
    pub max_concurrent_runs: usize,
    /// The run time after which a task without its own timeout is terminated.
    pub timeout: TimeDelta,
    /// How long shutdown waits for running runs before it terminates them.
    pub shutdown_grace: TimeDelta,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            use_instance_naming: false,
            task_priority: 0,
            task_execution: None,
            task_pre_exist: OnExists::Raise,
            force_status_from_logs: false,
            silence_task_prerun: true,
            silence_cond_check: true,
            cycle_sleep: None,
            debug: false,
            timezone: default_timezone(),
            max_concurrent_runs: 64,
            timeout: TimeDelta::minutes(30),
            shutdown_grace: TimeDelta::seconds(10),
        }
    }
}

/// The zone named by the `TZ` environment variable, else UTC.
fn default_timezone() -> Tz {
    std::env::var("TZ")
        .ok()
        .and_then(|name| name.trim_start_matches(':').parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

/// The configuration keys, in display order.
pub const CONFIG_KEYS: [&str; 13] = [
    "use_instance_naming",
    "task_priority",
    "task_execution",
    "task_pre_exist",
    "force_status_from_logs",
    "silence_task_prerun",
    "silence_cond_check",
    "cycle_sleep",
    "debug",
    "timezone",
    "max_concurrent_runs",
    "timeout",
    "shutdown_grace",
];

impl Config {
    /// The configuration as a JSON object (keys in [`CONFIG_KEYS`] order;
    /// durations in seconds).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for key in CONFIG_KEYS {
            let value = match key {
                "use_instance_naming" => Value::Bool(self.use_instance_naming),
                "task_priority" => Value::from(self.task_priority),
                "task_execution" => self
                    .task_execution
                    .map_or(Value::Null, |e| Value::from(e.as_str())),
                "task_pre_exist" => Value::from(self.task_pre_exist.as_str()),
                "force_status_from_logs" => Value::Bool(self.force_status_from_logs),
                "silence_task_prerun" => Value::Bool(self.silence_task_prerun),
                "silence_cond_check" => Value::Bool(self.silence_cond_check),
                "cycle_sleep" => self.cycle_sleep.map_or(Value::Null, seconds),
                "debug" => Value::Bool(self.debug),
                "timezone" => Value::from(self.timezone.name()),
                "max_concurrent_runs" => Value::from(self.max_concurrent_runs),
                "timeout" => seconds(self.timeout),
                _ => seconds(self.shutdown_grace),
            };
            map.insert(key.to_owned(), value);
        }
        map
    }

    /// The configuration with `patch` applied.
    pub fn patched(&self, patch: &ConfigPatch) -> Config {
        let mut config = self.clone();
        let ConfigPatch {
            use_instance_naming,
            task_priority,
            task_execution,
            task_pre_exist,
            force_status_from_logs,
            silence_task_prerun,
            silence_cond_check,
            cycle_sleep,
            debug,
            timezone,
            max_concurrent_runs,
            timeout,
            shutdown_grace,
        } = patch.clone();
        set(&mut config.use_instance_naming, use_instance_naming);
        set(&mut config.task_priority, task_priority);
        set(&mut config.task_execution, task_execution);
        set(&mut config.task_pre_exist, task_pre_exist);
        set(&mut config.force_status_from_logs, force_status_from_logs);
        set(&mut config.silence_task_prerun, silence_task_prerun);
        set(&mut config.silence_cond_check, silence_cond_check);
        set(&mut config.cycle_sleep, cycle_sleep);
        set(&mut config.debug, debug);
        set(&mut config.timezone, timezone);
        set(&mut config.max_concurrent_runs, max_concurrent_runs);
        set(&mut config.timeout, timeout);
        set(&mut config.shutdown_grace, shutdown_grace);
        config
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// Seconds as a JSON number (whole seconds as an integer).
fn seconds(d: TimeDelta) -> Value {
    if d.subsec_nanos() == 0 {
        return Value::from(d.num_seconds());
    }
    let secs = d.num_seconds() as f64 + f64::from(d.subsec_nanos()) / 1e9;
    Number::from_f64(secs).map_or(Value::Null, Value::Number)
}

/// A change to the configuration: `Some` fields are set, the rest kept.
///
/// Every field is validated when the patch is built ([`ConfigPatch::from_json`])
/// or applied ([`Session::patch_config`](super::Session::patch_config)).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigPatch {
    /// See [`Config::use_instance_naming`].
    pub use_instance_naming: Option<bool>,
    /// See [`Config::task_priority`].
    pub task_priority: Option<i64>,
    /// See [`Config::task_execution`] (`Some(None)` resets it to "by kind").
    pub task_execution: Option<Option<Execution>>,
    /// See [`Config::task_pre_exist`].
    pub task_pre_exist: Option<OnExists>,
    /// See [`Config::force_status_from_logs`].
    pub force_status_from_logs: Option<bool>,
    /// See [`Config::silence_task_prerun`].
    pub silence_task_prerun: Option<bool>,
    /// See [`Config::silence_cond_check`].
    pub silence_cond_check: Option<bool>,
    /// See [`Config::cycle_sleep`] (`Some(None)` removes the bound).
    pub cycle_sleep: Option<Option<TimeDelta>>,
    /// See [`Config::debug`].
    pub debug: Option<bool>,
    /// See [`Config::timezone`].
    pub timezone: Option<Tz>,
    /// See [`Config::max_concurrent_runs`]; at least 1.
    pub max_concurrent_runs: Option<usize>,
    /// See [`Config::timeout`]; more than zero.
    pub timeout: Option<TimeDelta>,
    /// See [`Config::shutdown_grace`].
    pub shutdown_grace: Option<TimeDelta>,
}

impl ConfigPatch {
    /// Reads a patch from a JSON object. Unknown keys and values of the wrong
    /// type are errors naming the key.
    ///
    /// # Errors
    ///
    /// An unknown key, a value of the wrong type or out of range.
    pub fn from_json(json: &Map<String, Value>) -> Result<ConfigPatch, Error> {
        let mut patch = ConfigPatch::default();
        for (key, value) in json {
            match key.as_str() {
                "use_instance_naming" => patch.use_instance_naming = Some(boolean(key, value)?),
                "task_priority" => {
                    patch.task_priority = Some(
                        value
                            .as_i64()
                            .ok_or_else(|| wrong_type(key, "an integer", value))?,
                    );
                }
                "task_execution" => {
                    patch.task_execution = Some(match value {
                        Value::Null => None,
                        Value::String(text) => Some(parse_execution(text)?),
                        _ => return Err(wrong_type(key, "an execution name or null", value)),
                    });
                }
                "task_pre_exist" => {
                    let text = value
                        .as_str()
                        .ok_or_else(|| wrong_type(key, "a name policy", value))?;
                    patch.task_pre_exist = Some(text.parse()?);
                }
                "force_status_from_logs" => {
                    patch.force_status_from_logs = Some(boolean(key, value)?);
                }
                "silence_task_prerun" => patch.silence_task_prerun = Some(boolean(key, value)?),
                "silence_cond_check" => patch.silence_cond_check = Some(boolean(key, value)?),
                "cycle_sleep" => {
                    patch.cycle_sleep = Some(match value {
                        Value::Null => None,
                        value => Some(duration(key, value)?),
                    });
                }
                "debug" => patch.debug = Some(boolean(key, value)?),
                "timezone" => {
                    let text = value
                        .as_str()
                        .ok_or_else(|| wrong_type(key, "a time zone name", value))?;
                    patch.timezone = Some(text.parse::<Tz>().map_err(|_| {
                        invalid(format!(
                            "unknown time zone '{text}' for config key 'timezone'"
                        ))
                    })?);
                }
                "max_concurrent_runs" => {
                    let n = value
                        .as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| wrong_type(key, "a positive integer", value))?;
                    patch.max_concurrent_runs = Some(n);
                }
                "timeout" => patch.timeout = Some(duration(key, value)?),
                "shutdown_grace" => patch.shutdown_grace = Some(duration(key, value)?),
                _ => {
                    return Err(invalid(format!(
                        "unknown config key '{key}', expected one of {}",
                        CONFIG_KEYS.join(", ")
                    )));
                }
            }
        }
        patch.validate()?;
        Ok(patch)
    }

    /// Checks the ranges of the set fields.
    ///
    /// # Errors
    ///
    /// `max_concurrent_runs` of 0, a `timeout` or `cycle_sleep` that is not
    /// positive, a negative `shutdown_grace`.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_concurrent_runs == Some(0) {
            return Err(invalid(
                "config key 'max_concurrent_runs' must be at least 1",
            ));
        }
        if self.timeout.is_some_and(|t| t <= TimeDelta::zero()) {
            return Err(invalid("config key 'timeout' must be more than zero"));
        }
        if self
            .cycle_sleep
            .flatten()
            .is_some_and(|t| t <= TimeDelta::zero())
        {
            return Err(invalid("config key 'cycle_sleep' must be more than zero"));
        }
        if self.shutdown_grace.is_some_and(|t| t < TimeDelta::zero()) {
            return Err(invalid("config key 'shutdown_grace' must not be negative"));
        }
        Ok(())
    }
}

/// Parses an execution name: `main`, `async`, `thread` or `process`.
///
/// # Errors
///
/// Any other text.
pub fn parse_execution(text: &str) -> Result<Execution, Error> {
    [
        Execution::Main,
        Execution::Async,
        Execution::Thread,
        Execution::Process,
    ]
    .into_iter()
    .find(|e| e.as_str() == text)
    .ok_or_else(|| {
        invalid(format!(
            "unknown execution '{text}', expected main, async, thread or process"
        ))
    })
}

fn boolean(key: &str, value: &Value) -> Result<bool, Error> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(key, "true or false", value))
}

/// Seconds (a non-negative number) or a duration string.
fn duration(key: &str, value: &Value) -> Result<TimeDelta, Error> {
    match value {
        Value::String(text) => parse_duration(text)
            .map_err(|e| invalid(format!("config key '{key}': {}", e.message()))),
        Value::Number(n) => {
            let secs = n
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0 && *s < 9.0e9)
                .ok_or_else(|| wrong_type(key, "a number of seconds", value))?;
            // Below 9e9 s the nanosecond count fits an i64.
            Ok(TimeDelta::nanoseconds((secs * 1e9).round() as i64))
        }
        _ => Err(wrong_type(key, "seconds or a duration string", value)),
    }
}

fn wrong_type(key: &str, expected: &str, found: &Value) -> Error {
    invalid(format!(
        "config key '{key}' expects {expected}, got {found}"
    ))
}
