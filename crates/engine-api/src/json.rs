//! The wire shapes: the session's values as Red Engine compatible JSON, and task
//! definitions and changes read from JSON bodies.
//!
//! Times are `YYYY-MM-DD HH:MM:SS` in the session's time zone, with `.ffffff`
//! (or nine digits for nanoseconds) only when the fraction is not zero;
//! durations are `D days HH:MM:SS` ([`format_duration`]); conditions are their
//! canonical text.
//!
//! # Task fields
//!
//! | field | JSON | note |
//! |---|---|---|
//! | `name` | string | from the path on `POST` (a string in the body is ignored); on `PATCH` it renames |
//! | `class` | `CommandTask`, `CodeTask`, `FuncTask` | optional on `POST` when `command`, `code` or `func` tells; cannot change |
//! | `command` | string (a `sh -c` line) or array of strings (program and arguments) | command tasks |
//! | `code`, `lang` | strings (`lang` default `python3`) | code tasks |
//! | `cwd`, `env` | string or null, object of strings | command and code tasks |
//! | `func` | string: a function registered on the session | function tasks |
//! | `start_cond`, `end_cond` | condition text | |
//! | `execution` | `main`, `async`, `thread`, `process` | |
//! | `priority` | integer | |
//! | `disabled`, `force_run`, `force_termination`, `on_startup`, `on_shutdown`, `permanent_task`, `allow_overlap` | booleans | |
//! | `timeout` | duration text (`10 minutes`), seconds, or null (the session's) | shown as `D days HH:MM:SS` |
//! | `parameters` | object | |
//! | `status`, `last_run`, `last_success`, `last_fail`, `last_terminate`, `last_inaction`, `last_crash`, `running` | read-only | shown, never set |

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use engine_core::Condition;
use engine_core::log::LogRecord;
use engine_core::session::{Dependency, TaskPatch, TaskView, parse_execution};
use engine_core::task::{CommandLine, TaskKind};
use engine_core::time::{format_duration, parse_duration, to_local};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ErrorKind};

#[cfg(test)]
mod tests;

/// Fields shown in a task view that a client cannot set.
const READ_ONLY: [&str; 8] = [
    "status",
    "last_run",
    "last_success",
    "last_fail",
    "last_terminate",
    "last_inaction",
    "last_crash",
    "running",
];

/// Fields that say what a task runs.
const KIND_FIELDS: [&str; 7] = ["class", "command", "code", "lang", "cwd", "env", "func"];

/// A time as `YYYY-MM-DD HH:MM:SS[.ffffff]` in `tz`.
pub(crate) fn time(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = to_local(tz, instant);
    // Written field by field: a `format("%Y-...")` parses its pattern on every
    // call, which showed in the profile of `GET /tasks` and `GET /logs`.
    let (year, month, day) = (local.year(), local.month(), local.day());
    let (hour, minute, second) = (local.hour(), local.minute(), local.second());
    let base = if (0..=9999).contains(&year) {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    } else {
        format!("{year:+05}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    };
    let nanos = local.nanosecond() % 1_000_000_000;
    if nanos == 0 {
        base
    } else if nanos.is_multiple_of(1000) {
        format!("{base}.{:06}", nanos / 1000)
    } else {
        format!("{base}.{nanos:09}")
    }
}

fn optional_time(instant: Option<DateTime<Utc>>, tz: Tz) -> Value {
    instant.map_or(Value::Null, |t| Value::String(time(t, tz)))
}

/// The class name of a kind: `FuncTask`, `CommandTask`, `CodeTask`.
pub(crate) fn class_of(kind: &TaskKind) -> &'static str {
    match kind {
        TaskKind::Function { .. } => "FuncTask",
        TaskKind::Command { .. } => "CommandTask",
        TaskKind::Code { .. } => "CodeTask",
    }
}

/// A task as the API shows it.
pub(crate) fn task_view(view: &TaskView, tz: Tz) -> Value {
    let spec = &view.spec;
    let state = &view.state;
    let mut task = Map::new();
    let mut put = |key: &str, value: Value| {
        task.insert(key.to_owned(), value);
    };
    put("name", spec.name.clone().into());
    put("class", class_of(&spec.kind).into());
    match &spec.kind {
        TaskKind::Function { func } => put("func", func.clone().into()),
        TaskKind::Command { command, cwd, env } => {
            put(
                "command",
                match command {
                    CommandLine::Shell(line) => line.clone().into(),
                    CommandLine::Program(args) => args.clone().into(),
                },
            );
            put("cwd", cwd.clone().into());
            put("env", json!(env));
        }
        TaskKind::Code {
            code,
            lang,
            cwd,
            env,
        } => {
            put("code", code.clone().into());
            put("lang", lang.clone().into());
            put("cwd", cwd.clone().into());
            put("env", json!(env));
        }
    }
    put("start_cond", spec.start_cond.to_string().into());
    put("end_cond", spec.end_cond.to_string().into());
    put("execution", spec.execution.as_str().into());
    put("priority", spec.priority.into());
    put("disabled", spec.disabled.into());
    put("force_run", spec.force_run.into());
    put("force_termination", spec.force_termination.into());
    put("on_startup", spec.on_startup.into());
    put("on_shutdown", spec.on_shutdown.into());
    put("permanent_task", spec.permanent_task.into());
    put("allow_overlap", spec.allow_overlap.into());
    put(
        "timeout",
        spec.timeout
            .map_or(Value::Null, |t| format_duration(t).into()),
    );
    put("parameters", Value::Object(spec.parameters.clone()));
    put(
        "status",
        state.status.map_or(Value::Null, |a| a.as_str().into()),
    );
    put("last_run", optional_time(state.last_run, tz));
    put("last_success", optional_time(state.last_success, tz));
    put("last_fail", optional_time(state.last_fail, tz));
    put("last_terminate", optional_time(state.last_terminate, tz));
    put("last_inaction", optional_time(state.last_inaction, tz));
    put("last_crash", optional_time(state.last_crash, tz));
    put("running", state.running.into());
    Value::Object(task)
}

/// A log record: `task_name`, `action`, `timestamp`, `start`, `created`, and
/// `end`, `runtime`, `exc_text` when the record has them.
pub(crate) fn log_record(record: &LogRecord, tz: Tz) -> Value {
    let mut out = Map::new();
    out.insert("task_name".to_owned(), record.task_name.clone().into());
    out.insert("action".to_owned(), record.action.as_str().into());
    out.insert("timestamp".to_owned(), time(record.timestamp, tz).into());
    out.insert("start".to_owned(), optional_time(record.start, tz));
    if let Some(end) = record.end {
        out.insert("end".to_owned(), time(end, tz).into());
    }
    if let Some(runtime) = record.runtime {
        out.insert("runtime".to_owned(), format_duration(runtime).into());
    }
    out.insert("created".to_owned(), json!(record.created()));
    if let Some(text) = &record.exc_text {
        out.insert("exc_text".to_owned(), text.clone().into());
    }
    Value::Object(out)
}

/// A dependency link: `parent`, `child`, `relation`, `type`.
pub(crate) fn dependency(link: &Dependency) -> Value {
    json!({
        "parent": link.parent,
        "child": link.child,
        "relation": link.relation.as_str(),
        "type": link.kind.map(|k| k.as_str()),
    })
}

/// A new task's kind from a `POST` body: its `class`, or the one `command`,
/// `code` or `func` implies, with `lang`, `cwd` and `env`.
pub(crate) fn kind_from_json(body: &Map<String, Value>) -> Result<TaskKind, ApiError> {
    let given: Vec<&str> = ["command", "code", "func"]
        .into_iter()
        .filter(|key| body.contains_key(*key))
        .collect();
    let class = match body.get("class") {
        Some(value) => text("class", value)?,
        None => match given.as_slice() {
            ["command"] => "CommandTask",
            ["code"] => "CodeTask",
            ["func"] => "FuncTask",
            [] => {
                return Err(bad(
                    "a new task needs 'command', 'code' or 'func' (or 'class')",
                ));
            }
            _ => return Err(bad("give only one of 'command', 'code' and 'func'")),
        },
    };
    let empty = match class {
        "CommandTask" => TaskKind::Command {
            command: CommandLine::Shell(String::new()),
            cwd: None,
            env: Default::default(),
        },
        "CodeTask" => TaskKind::Code {
            code: String::new(),
            lang: "python3".to_owned(),
            cwd: None,
            env: Default::default(),
        },
        "FuncTask" => TaskKind::Function {
            func: String::new(),
        },
        other => {
            return Err(bad(format!(
                "unknown task class '{other}', expected CommandTask, CodeTask or FuncTask"
            )));
        }
    };
    let required = match empty {
        TaskKind::Command { .. } => "command",
        TaskKind::Code { .. } => "code",
        TaskKind::Function { .. } => "func",
    };
    if !body.contains_key(required) {
        return Err(bad(format!("a {class} needs '{required}'")));
    }
    let mut kind = empty;
    for (key, value) in body {
        if KIND_FIELDS.contains(&key.as_str()) && key != "class" {
            set_kind_field(&mut kind, key, value)?;
        }
    }
    Ok(kind)
}

/// Sets one of `command`, `code`, `lang`, `cwd`, `env`, `func` on `kind`.
fn set_kind_field(kind: &mut TaskKind, key: &str, value: &Value) -> Result<(), ApiError> {
    let class = class_of(kind);
    let misplaced = || bad(format!("field '{key}' does not apply to a {class}"));
    match (kind, key) {
        (TaskKind::Function { func }, "func") => *func = text(key, value)?.to_owned(),
        (TaskKind::Command { command, .. }, "command") => {
            *command = match value {
                Value::String(line) => CommandLine::Shell(line.clone()),
                Value::Array(items) => CommandLine::Program(
                    items
                        .iter()
                        .map(|item| item.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| wrong_type(key, "a string or an array of strings"))?,
                ),
                _ => return Err(wrong_type(key, "a string or an array of strings")),
            };
        }
        (TaskKind::Code { code, .. }, "code") => *code = text(key, value)?.to_owned(),
        (TaskKind::Code { lang, .. }, "lang") => *lang = text(key, value)?.to_owned(),
        (TaskKind::Command { cwd, .. } | TaskKind::Code { cwd, .. }, "cwd") => {
            *cwd = match value {
                Value::Null => None,
                value => Some(text(key, value)?.to_owned()),
            };
        }
        (TaskKind::Command { env, .. } | TaskKind::Code { env, .. }, "env") => {
            let Value::Object(map) = value else {
                return Err(wrong_type(key, "an object of strings"));
            };
            *env = map
                .iter()
                .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect::<Option<_>>()
                .ok_or_else(|| wrong_type(key, "an object of strings"))?;
        }
        _ => return Err(misplaced()),
    }
    Ok(())
}

/// A change of a task from a `PATCH` body (or the non-kind fields of a `POST`
/// body, with `name` and kind fields skipped), given the task's current kind.
///
/// Returns the patch and whether it changes what the task runs.
pub(crate) fn patch_from_json(
    current: &TaskKind,
    body: &Map<String, Value>,
    creating: bool,
) -> Result<(TaskPatch, bool), ApiError> {
    let mut patch = TaskPatch::default();
    let mut kind = current.clone();
    let mut kind_changed = false;
    for (key, value) in body {
        let key = key.as_str();
        match key {
            // The path names a new task; a `name` in the body must still be text.
            "name" if creating => {
                text(key, value)?;
            }
            "name" => patch.name = Some(text(key, value)?.to_owned()),
            "class" | "command" | "code" | "lang" | "cwd" | "env" | "func" if creating => {}
            "class" => {
                let class = text(key, value)?;
                if class != class_of(current) {
                    return Err(bad(format!(
                        "a {} cannot become a {class}; delete the task and create it again",
                        class_of(current)
                    )));
                }
            }
            "command" | "code" | "lang" | "cwd" | "env" | "func" => {
                set_kind_field(&mut kind, key, value)?;
                kind_changed = true;
            }
            "start_cond" => patch.start_cond = Some(condition(key, value)?),
            "end_cond" => patch.end_cond = Some(condition(key, value)?),
            "execution" => {
                let name = text(key, value)?;
                patch.execution = Some(parse_execution(name).map_err(|e| field_error(key, e))?);
            }
            "priority" => {
                patch.priority = Some(
                    value
                        .as_i64()
                        .ok_or_else(|| wrong_type(key, "an integer"))?,
                );
            }
            "disabled" => patch.disabled = Some(boolean(key, value)?),
            "force_run" => patch.force_run = Some(boolean(key, value)?),
            "force_termination" => patch.force_termination = Some(boolean(key, value)?),
            "on_startup" => patch.on_startup = Some(boolean(key, value)?),
            "on_shutdown" => patch.on_shutdown = Some(boolean(key, value)?),
            "permanent_task" => patch.permanent_task = Some(boolean(key, value)?),
            "allow_overlap" => patch.allow_overlap = Some(boolean(key, value)?),
            "timeout" => patch.timeout = Some(timeout(key, value)?),
            "parameters" => {
                let Value::Object(map) = value else {
                    return Err(wrong_type(key, "an object"));
                };
                patch.parameters = Some(map.clone());
            }
            key if READ_ONLY.contains(&key) => {
                return Err(bad(format!("field '{key}' is read-only")).with_field("field", key));
            }
            key => {
                return Err(bad(format!("unknown field '{key}'")).with_field("field", key));
            }
        }
    }
    let runs_changed = kind_changed && kind != *current;
    if kind_changed {
        patch.kind = Some(kind);
    }
    Ok((patch, runs_changed))
}

fn condition(key: &str, value: &Value) -> Result<Condition, ApiError> {
    text(key, value)?
        .parse::<Condition>()
        .map_err(|e| field_error(key, e))
}

fn timeout(key: &str, value: &Value) -> Result<Option<TimeDelta>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => parse_duration(text)
            .map(Some)
            .map_err(|e| field_error(key, e)),
        Value::Number(number) => number
            .as_f64()
            .filter(|seconds| *seconds > 0.0)
            .and_then(|seconds| std::time::Duration::try_from_secs_f64(seconds).ok())
            .and_then(|duration| TimeDelta::from_std(duration).ok())
            .map(Some)
            .ok_or_else(|| {
                bad(format!(
                    "field '{key}' must be a positive number of seconds"
                ))
            }),
        _ => Err(wrong_type(
            key,
            "a duration text, a number of seconds or null",
        )),
    }
}

fn text<'v>(key: &str, value: &'v Value) -> Result<&'v str, ApiError> {
    value.as_str().ok_or_else(|| wrong_type(key, "a string"))
}

fn boolean(key: &str, value: &Value) -> Result<bool, ApiError> {
    value.as_bool().ok_or_else(|| wrong_type(key, "a boolean"))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::BadRequest, message)
}

fn wrong_type(key: &str, expected: &str) -> ApiError {
    bad(format!("field '{key}' must be {expected}")).with_field("field", key)
}

/// An engine error about the value of `key`, as a 400 naming the field.
fn field_error(key: &str, error: engine_core::Error) -> ApiError {
    ApiError::from(error).with_field("field", key)
}
