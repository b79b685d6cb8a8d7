//! The `[[tasks]]` section: each task table checked on its own into a
//! [`TaskDef`], which becomes a `TaskSpec` with the session's defaults.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use chrono::TimeDelta;
use engine::session::parse_execution;
use engine::task::{CommandLine, Execution, TaskKind, TaskSpec};
use engine::{Condition, Session};
use serde::Deserialize;
use serde_json::{Map, Value};
use toml::Spanned;
use toml::de::DeValue;

use super::problems::{Problem, inner_span};
use super::{Reader, plain_json};

/// A `[[tasks]]` entry, checked but not yet created (a definition needs the
/// session's defaults).
#[derive(Debug, Clone)]
pub(crate) struct TaskDef {
    /// The name.
    pub(crate) name: String,
    /// The span of the name's value.
    pub(crate) name_span: Range<usize>,
    /// What it runs.
    pub(crate) kind: TaskKind,
    /// The span of what it runs (`command`, `code` or `func`).
    pub(crate) kind_span: Range<usize>,
    /// When it may start.
    pub(crate) start_cond: Option<Condition>,
    /// When a run is terminated.
    pub(crate) end_cond: Option<Condition>,
    /// How it runs (else the session's default for its kind).
    pub(crate) execution: Option<(Execution, Range<usize>)>,
    /// Its priority (else the session's `task_priority`).
    pub(crate) priority: Option<i64>,
    /// The flags: disabled, on_startup, on_shutdown, permanent_task, allow_overlap.
    pub(crate) flags: Flags,
    /// Its own timeout.
    pub(crate) timeout: Option<TimeDelta>,
    /// Its own parameters.
    pub(crate) parameters: Map<String, Value>,
    /// The span of the parameters' value.
    pub(crate) parameters_span: Option<Range<usize>>,
}

/// The boolean fields of a task.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flags {
    disabled: bool,
    on_startup: bool,
    on_shutdown: bool,
    permanent_task: bool,
    allow_overlap: bool,
}

impl TaskDef {
    /// The definition, with `session`'s defaults for what the file leaves out.
    pub(crate) fn spec(&self, session: &Session) -> TaskSpec {
        let mut spec = session.default_spec(self.name.clone(), self.kind.clone());
        if let Some(cond) = &self.start_cond {
            spec.start_cond = cond.clone();
        }
        if let Some(cond) = &self.end_cond {
            spec.end_cond = cond.clone();
        }
        if let Some((execution, _)) = self.execution {
            spec.execution = execution;
        }
        if let Some(priority) = self.priority {
            spec.priority = priority;
        }
        spec.disabled = self.flags.disabled;
        spec.on_startup = self.flags.on_startup;
        spec.on_shutdown = self.flags.on_shutdown;
        spec.permanent_task = self.flags.permanent_task;
        spec.allow_overlap = self.flags.allow_overlap;
        spec.timeout = self.timeout;
        spec.parameters = self.parameters.clone();
        spec
    }
}

/// `[[tasks]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: Spanned<String>,
    class: Option<Spanned<String>>,
    command: Option<Spanned<toml::Value>>,
    code: Option<Spanned<String>>,
    lang: Option<Spanned<String>>,
    func: Option<Spanned<String>>,
    cwd: Option<Spanned<String>>,
    env: Option<Spanned<BTreeMap<String, String>>>,
    start_cond: Option<Spanned<String>>,
    end_cond: Option<Spanned<String>>,
    execution: Option<Spanned<String>>,
    priority: Option<i64>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    on_startup: bool,
    #[serde(default)]
    on_shutdown: bool,
    #[serde(default)]
    permanent_task: bool,
    #[serde(default)]
    allow_overlap: bool,
    timeout: Option<Spanned<toml::Value>>,
    parameters: Option<Spanned<DeValueOwned>>,
}

/// A value kept as JSON (task parameters), read through serde.
struct DeValueOwned(Value);

impl<'de> Deserialize<'de> for DeValueOwned {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|v| DeValueOwned(plain_json(v)))
    }
}

impl Reader<'_> {
    /// `[[tasks]]`: each task on its own; duplicate names are problems.
    pub(super) fn tasks(&mut self, value: Spanned<DeValue<'_>>) -> Vec<TaskDef> {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.problem(
                span,
                "tasks must be an array of tables: write each task under [[tasks]]",
            );
            return Vec::new();
        };
        let mut tasks: Vec<TaskDef> = Vec::new();
        let mut names = HashSet::new();
        for item in items.iter().cloned() {
            let named = item
                .get_ref()
                .as_table()
                .and_then(|t| t.get("name"))
                .and_then(|n| n.get_ref().as_str().map(|text| (text.to_owned(), n.span())));
            let mut duplicate = false;
            let section = match &named {
                Some((name, span)) => {
                    if !names.insert(name.clone()) {
                        self.problem(span.clone(), format!("duplicate task name '{name}'"));
                        duplicate = true;
                    }
                    format!("task '{name}':")
                }
                None => "[[tasks]]".to_owned(),
            };
            let Some(raw) = self.read::<RawTask>(&section, item) else {
                continue;
            };
            // A duplicate is still checked, but only the first one is kept.
            if let Some(task) = self.task(raw).filter(|_| !duplicate) {
                tasks.push(task);
            }
        }
        tasks
    }

    /// One task.
    fn task(&mut self, raw: RawTask) -> Option<TaskDef> {
        let before = self.problems.len();
        let name_span = raw.name.span();
        let name = raw.name.get_ref().clone();
        let section = format!("task '{name}':");
        let kind = self.kind(&section, &raw);
        let start_cond = raw
            .start_cond
            .as_ref()
            .and_then(|c| self.condition(&section, "start_cond", c));
        let end_cond = raw
            .end_cond
            .as_ref()
            .and_then(|c| self.condition(&section, "end_cond", c));
        let execution = raw
            .execution
            .as_ref()
            .and_then(|e| match parse_execution(e.get_ref()) {
                Ok(execution) => Some((execution, e.span())),
                Err(error) => {
                    self.problem(e.span(), format!("{section} {}", error.message()));
                    None
                }
            });
        let timeout = match &raw.timeout {
            Some(t) => {
                let timeout = self.duration(&format!("{section} timeout"), t);
                if timeout.is_some_and(|d| d <= TimeDelta::zero()) {
                    self.problem(
                        t.span(),
                        format!("{section} timeout must be more than zero"),
                    );
                }
                timeout
            }
            None => None,
        };
        let parameters_span = raw.parameters.as_ref().map(Spanned::span);
        let parameters = match raw.parameters.map(Spanned::into_inner) {
            None => Map::new(),
            Some(DeValueOwned(Value::Object(map))) => map,
            Some(_) => {
                self.problem(
                    parameters_span.clone().unwrap_or(name_span.clone()),
                    format!("{section} parameters must be a table"),
                );
                Map::new()
            }
        };
        let (kind, kind_span) = kind?;
        if self.problems.len() > before {
            return None;
        }
        Some(TaskDef {
            name,
            name_span,
            kind,
            kind_span,
            start_cond,
            end_cond,
            execution,
            priority: raw.priority,
            flags: Flags {
                disabled: raw.disabled,
                on_startup: raw.on_startup,
                on_shutdown: raw.on_shutdown,
                permanent_task: raw.permanent_task,
                allow_overlap: raw.allow_overlap,
            },
            timeout,
            parameters,
            parameters_span,
        })
    }

    /// What a task runs: its class, or the one of `command`, `code`, `func` given.
    fn kind(&mut self, section: &str, raw: &RawTask) -> Option<(TaskKind, Range<usize>)> {
        let given: Vec<(&str, Range<usize>)> = [
            ("command", raw.command.as_ref().map(Spanned::span)),
            ("code", raw.code.as_ref().map(Spanned::span)),
            ("func", raw.func.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(key, span)| span.map(|s| (key, s)))
        .collect();
        let implied = match given.as_slice() {
            [(key, _)] => *key,
            [] => {
                let at = raw.class.as_ref().map_or(raw.name.span(), Spanned::span);
                self.problem(
                    at,
                    format!("{section} needs command = \"...\", code = \"...\" or func = \"...\""),
                );
                return None;
            }
            [_, (_, second), ..] => {
                self.problem(
                    second.clone(),
                    format!("{section} give only one of command, code and func"),
                );
                return None;
            }
        };
        if let Some(class) = &raw.class {
            let expected = match class.get_ref().as_str() {
                "CommandTask" => "command",
                "CodeTask" => "code",
                "FuncTask" => "func",
                other => {
                    self.problem(
                        class.span(),
                        format!(
                            "{section} unknown class '{other}', expected CommandTask, CodeTask or FuncTask"
                        ),
                    );
                    return None;
                }
            };
            if expected != implied {
                self.problem(
                    class.span(),
                    format!(
                        "{section} a {} needs {expected}, not {implied}",
                        class.get_ref()
                    ),
                );
                return None;
            }
        }
        let cwd = raw.cwd.as_ref().map(|cwd| {
            let path = self.base.join(cwd.get_ref());
            path.to_string_lossy().into_owned()
        });
        let env = raw
            .env
            .as_ref()
            .map(|e| e.get_ref().clone())
            .unwrap_or_default();
        if implied != "code"
            && let Some(lang) = &raw.lang
        {
            self.problem(lang.span(), format!("{section} lang applies to code only"));
        }
        if implied == "func" {
            for (key, span) in [
                ("cwd", raw.cwd.as_ref().map(Spanned::span)),
                ("env", raw.env.as_ref().map(Spanned::span)),
            ] {
                if let Some(span) = span {
                    self.problem(
                        span,
                        format!("{section} {key} applies to command and code only"),
                    );
                }
            }
        }
        match implied {
            "command" => {
                let command = raw.command.as_ref()?;
                let line = match command.get_ref() {
                    toml::Value::String(line) => CommandLine::Shell(line.clone()),
                    toml::Value::Array(items) => {
                        let Some(argv) = items
                            .iter()
                            .map(|item| item.as_str().map(str::to_owned))
                            .collect::<Option<Vec<String>>>()
                        else {
                            self.problem(
                                command.span(),
                                format!(
                                    "{section} command must be a string or an array of strings"
                                ),
                            );
                            return None;
                        };
                        CommandLine::Program(argv)
                    }
                    _ => {
                        self.problem(
                            command.span(),
                            format!("{section} command must be a string or an array of strings"),
                        );
                        return None;
                    }
                };
                let kind = TaskKind::Command {
                    command: line,
                    cwd,
                    env,
                };
                Some((kind, command.span()))
            }
            "code" => {
                let code = raw.code.as_ref()?;
                let kind = TaskKind::Code {
                    code: code.get_ref().clone(),
                    lang: raw
                        .lang
                        .as_ref()
                        .map_or_else(|| "python3".to_owned(), |l| l.get_ref().clone()),
                    cwd,
                    env,
                };
                Some((kind, code.span()))
            }
            _ => {
                let func = raw.func.as_ref()?;
                let kind = TaskKind::Function {
                    func: func.get_ref().clone(),
                };
                Some((kind, func.span()))
            }
        }
    }

    /// A condition; a parse error points into the file and shows the caret.
    fn condition(&mut self, section: &str, key: &str, text: &Spanned<String>) -> Option<Condition> {
        match text.get_ref().parse::<Condition>() {
            Ok(cond) => Some(cond),
            Err(e) => {
                let value = text.span();
                let at = e
                    .span()
                    .and_then(|inner| inner_span(self.source, &value, text.get_ref(), inner))
                    .unwrap_or(value);
                let detail = e
                    .render()
                    .split_once('\n')
                    .map(|(_, caret)| caret.to_owned());
                self.problems.push(Problem {
                    span: Some(at),
                    message: format!("{section} bad {key}: {e}"),
                    detail,
                });
                None
            }
        }
    }
}
