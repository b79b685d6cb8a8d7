//! The config file of `engine run`: TOML read with the position of every value,
//! validated into a [`RunConfig`]. Every error names FILE:LINE:COLUMN, and a bad
//! condition also shows its caret.
//!
//! The file is parsed once into a table whose values keep their byte spans
//! (`toml::de::DeTable`); each section and each task is then read on its own
//! (serde with `deny_unknown_fields`, `toml::Spanned` fields), so one bad task
//! does not hide the errors of the next. Secrets are never read from the file
//! itself: a token or password comes from an environment variable or a file
//! it names, and an inline `token = "..."` is refused (a config file is easily
//! committed or shown; an environment variable or a file with its own
//! permissions is not).

//!
//! The parts: [`problems`] (an error's place and how it is shown), [`api`]
//! (the `[api]` section and its secrets) and [`tasks`] (task tables into
//! task definitions). The entry points, the small sections and the value
//! readers they share are here.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use engine::Session;
use engine::session::{CONFIG_KEYS, ConfigPatch};
use engine::task::TaskKind;
use engine::time::parse_duration;
use serde::Deserialize;
use serde_json::{Map, Value};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

mod api;
mod problems;
mod tasks;

pub(crate) use api::{ApiSettings, is_loopback};
#[cfg(test)]
use problems::line_column;
pub(crate) use problems::{Problem, render_all};
use problems::{serde_message, toml_problem};
use tasks::TaskDef;

/// The state argument that means "keep nothing".
pub(crate) const MEMORY: &str = "memory";

/// The key toml's serde bridge wraps a datetime in.
const TOML_DATETIME: &str = "$__toml_private_datetime";

/// A validated config file.
#[derive(Debug, Default)]
pub(crate) struct RunConfig {
    /// `[session]`: the session configuration (the time zone included).
    pub(crate) session: ConfigPatch,
    /// `[api]`.
    pub(crate) api: ApiSettings,
    /// `[state] dir`.
    pub(crate) state: Option<StateChoice>,
    /// `[parameters]`, each with the span of its value.
    pub(crate) parameters: Vec<(String, Value, Range<usize>)>,
    /// `[[tasks]]`, in file order.
    pub(crate) tasks: Vec<TaskDef>,
}

/// Where a run keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StateChoice {
    /// SQLite files in this directory.
    Dir(PathBuf),
    /// Nothing survives the process.
    Memory,
}

impl StateChoice {
    /// `memory`, else a directory (relative to `base`, when given).
    pub(crate) fn parse(text: &str, base: Option<&Path>) -> StateChoice {
        match (text, base) {
            (MEMORY, _) => StateChoice::Memory,
            (dir, Some(base)) => StateChoice::Dir(base.join(dir)),
            (dir, None) => StateChoice::Dir(PathBuf::from(dir)),
        }
    }
}
/// A config file as read: what could be read of it, and every problem found.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The file's name, as given.
    pub(crate) file: String,
    /// The file's text.
    pub(crate) source: String,
    /// The config: the sections and tasks without problems.
    pub(crate) config: RunConfig,
    /// The problems found.
    pub(crate) problems: Vec<Problem>,
}

impl Loaded {
    /// `problems` rendered against this file, in file order.
    pub(crate) fn render(&self, problems: &[Problem]) -> Vec<String> {
        render_all(problems, &self.file, &self.source)
    }
}

/// Reads and checks the config file at `path`; secrets are looked up with `env`.
///
/// # Errors
///
/// The file cannot be read.
pub(crate) fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, String> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file '{file}': {e}"))?;
    let base = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (config, problems) = parse(&source, &base, env);
    Ok(Loaded {
        file,
        source,
        config,
        problems,
    })
}

/// Checks config text; relative paths are resolved against `base`, secrets
/// looked up with `env`. Returns what could be read (sections and tasks
/// without problems) and every problem found.
pub(crate) fn parse(
    source: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> (RunConfig, Vec<Problem>) {
    let root = match DeTable::parse(source) {
        Ok(root) => root,
        Err(e) => return (RunConfig::default(), vec![toml_problem(&e, source)]),
    };
    let mut reader = Reader {
        source,
        base,
        env,
        problems: Vec::new(),
    };
    let mut config = RunConfig::default();
    for (key, value) in root.into_inner() {
        let key_span = key.span();
        match key.get_ref().as_ref() {
            "session" => config.session = reader.session(value),
            "api" => config.api = reader.api(value),
            "state" => config.state = reader.state(value),
            "parameters" => config.parameters = reader.parameters(value),
            "tasks" => config.tasks = reader.tasks(value),
            other => reader.problems.push(Problem::at(
                key_span,
                format!(
                    "unknown section '{other}', expected session, api, state, parameters or tasks"
                ),
            )),
        }
    }
    (config, reader.problems)
}

/// Creates the config's session parameters and tasks on `session`; every
/// refusal is a problem at the value the session refused.
pub(crate) fn apply(config: &RunConfig, session: &Session) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, value, span) in &config.parameters {
        let one = Map::from_iter([(key.clone(), value.clone())]);
        if let Err(e) = session.patch_parameters(one, &[]) {
            problems.push(Problem::at(span.clone(), format!("[parameters] {e}")));
        }
    }
    for task in &config.tasks {
        if let Err(e) = session.create_task(task.spec(session), None) {
            let hint = match &task.kind {
                TaskKind::Function { .. } if session.function_names().is_empty() => {
                    " (the engine binary registers no functions: a func task needs a program \
                     that embeds the engine and registers it, see the engine crate's docs)"
                }
                _ => "",
            };
            problems.push(Problem::at(
                blame(task, &e),
                format!("task '{}': {}{hint}", task.name, e.message()),
            ));
        }
    }
    problems
}

/// The part of a task a creation error is about.
fn blame(task: &TaskDef, error: &engine::Error) -> Range<usize> {
    let message = error.message();
    if message.contains("execution")
        && let Some((_, span)) = &task.execution
    {
        return span.clone();
    }
    if message.contains("parameter")
        && let Some(span) = &task.parameters_span
    {
        return span.clone();
    }
    if message.starts_with("task name") || message.contains("already exists") {
        return task.name_span.clone();
    }
    task.kind_span.clone()
}

/// Reads sections, collecting problems.
struct Reader<'s> {
    source: &'s str,
    base: &'s Path,
    env: &'s dyn Fn(&str) -> Option<String>,
    problems: Vec<Problem>,
}
/// `[state]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    dir: Spanned<String>,
}
impl Reader<'_> {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem::at(span, message));
    }

    /// Reads `value` with serde; a failure is a problem.
    fn read<T: for<'de> Deserialize<'de>>(
        &mut self,
        section: &str,
        value: Spanned<DeValue<'_>>,
    ) -> Option<T> {
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(read) => Some(read),
            Err(e) => {
                let at = e.span().unwrap_or(span);
                let message = format!("{section} {}", serde_message(&e));
                self.problem(at, message);
                None
            }
        }
    }

    /// `[session]`: each key is checked on its own by the session's own rules.
    fn session(&mut self, value: Spanned<DeValue<'_>>) -> ConfigPatch {
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.problem(span, "[session] must be a table");
            return ConfigPatch::default();
        };
        let mut accepted = Map::new();
        for (key, value) in table {
            let name = key.get_ref().to_string();
            if !CONFIG_KEYS.contains(&name.as_str()) {
                self.problem(
                    key.span(),
                    format!(
                        "[session] unknown key '{name}', expected one of {}",
                        CONFIG_KEYS.join(", ")
                    ),
                );
                continue;
            }
            let value_span = value.span();
            let Some(json) = self.json("[session]", value) else {
                continue;
            };
            let one = Map::from_iter([(name.clone(), json.clone())]);
            match ConfigPatch::from_json(&one) {
                Ok(_) => {
                    accepted.insert(name, json);
                }
                Err(e) => self.problem(value_span, format!("[session] {}", e.message())),
            }
        }
        match ConfigPatch::from_json(&accepted) {
            Ok(patch) => patch,
            Err(e) => {
                self.problem(span, format!("[session] {}", e.message()));
                ConfigPatch::default()
            }
        }
    }

    /// `[state]`.
    fn state(&mut self, value: Spanned<DeValue<'_>>) -> Option<StateChoice> {
        let raw = self.read::<RawState>("[state]", value)?;
        if raw.dir.get_ref().is_empty() {
            self.problem(raw.dir.span(), "[state] dir is empty");
            return None;
        }
        Some(StateChoice::parse(raw.dir.get_ref(), Some(self.base)))
    }

    /// `[parameters]`.
    fn parameters(&mut self, value: Spanned<DeValue<'_>>) -> Vec<(String, Value, Range<usize>)> {
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.problem(span, "[parameters] must be a table");
            return Vec::new();
        };
        let mut parameters = Vec::new();
        for (key, value) in table {
            let value_span = value.span();
            if let Some(json) = self.json("[parameters]", value) {
                parameters.push((key.get_ref().to_string(), json, value_span));
            }
        }
        parameters
    }

    /// A duration: text (`"30 minutes"`) or seconds (a number, not negative).
    fn duration(&mut self, what: &str, value: &Spanned<toml::Value>) -> Option<TimeDelta> {
        let seconds = match value.get_ref() {
            toml::Value::String(text) => {
                return match parse_duration(text) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        self.problem(value.span(), format!("{what}: {}", e.message()));
                        None
                    }
                };
            }
            toml::Value::Integer(n) => *n as f64,
            toml::Value::Float(f) => *f,
            _ => f64::NAN,
        };
        if !(seconds.is_finite() && (0.0..9.0e9).contains(&seconds)) {
            self.problem(
                value.span(),
                format!("{what} must be a duration text (\"30 minutes\") or a number of seconds"),
            );
            return None;
        }
        Some(TimeDelta::nanoseconds((seconds * 1e9).round() as i64))
    }

    /// A duration that is not negative, as a `std` one.
    fn std_duration(&mut self, what: &str, value: &Spanned<toml::Value>) -> Option<Duration> {
        let d = self.duration(what, value)?;
        match d.to_std() {
            Ok(d) => Some(d),
            Err(_) => {
                self.problem(value.span(), format!("{what} must not be negative"));
                None
            }
        }
    }

    /// A positive integer.
    fn positive(&mut self, what: &str, n: &Spanned<i64>) -> Option<usize> {
        match usize::try_from(*n.get_ref()) {
            Ok(v) if v > 0 => Some(v),
            _ => {
                self.problem(n.span(), format!("{what} must be a positive integer"));
                None
            }
        }
    }

    /// A TOML value as JSON (datetimes as their text).
    fn json(&mut self, section: &str, value: Spanned<DeValue<'_>>) -> Option<Value> {
        let span = value.span();
        match Value::deserialize(ValueDeserializer::from(value)) {
            Ok(json) => Some(plain_json(json)),
            Err(e) => {
                self.problem(
                    e.span().unwrap_or(span),
                    format!("{section} {}", e.message()),
                );
                None
            }
        }
    }
}

/// JSON with toml's datetime wrappers replaced by the datetime's text.
fn plain_json(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(text)) = map.get(TOML_DATETIME)
            {
                return Value::String(text.clone());
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, plain_json(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(plain_json).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
