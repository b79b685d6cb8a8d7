//! Checks on a task definition before it is accepted: the name, the kind's
//! fields, and which execution modes a kind of task allows.

use std::collections::BTreeMap;

use crate::{Error, ErrorKind};

use super::{CommandLine, Execution, TaskFn, TaskKind, TaskSpec};

/// The longest task name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// Checks a task name.
///
/// A name is any text of 1 to [`MAX_NAME_BYTES`] bytes without control
/// characters, without a single quote (`'`) and without whitespace at either
/// end. Spaces, dots, slashes, colons, double quotes and the condition
/// operators `& | ( ) ~` are fine: conditions write a name inside single quotes
/// (`after task 'load: a & b'`) and quoted text cannot contain a quote, so a name
/// with one could never be named in a condition. Whitespace at the ends is
/// refused because it is invisible in listings and in `after task 'x '`. A name
/// with `/` or other reserved characters must be percent-encoded in a URL.
///
/// ```
/// use engine_core::task::validate_name;
///
/// assert!(validate_name("load: a & b").is_ok());
/// assert!(validate_name("it's").is_err());
/// ```
pub fn validate_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(invalid_task("task name is empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(invalid_task(format!(
            "task name is {} bytes long, at most {MAX_NAME_BYTES} are allowed",
            name.len()
        )));
    }
    if let Some((at, c)) = name.char_indices().find(|&(_, c)| c.is_control()) {
        return Err(
            invalid_task(format!("task name contains the control character {c:?}"))
                .with_span(name, at..at + c.len_utf8()),
        );
    }
    if let Some(at) = name.find('\'') {
        return Err(invalid_task(
            "task name contains a single quote, which conditions cannot quote",
        )
        .with_span(name, at..at + 1));
    }
    let trimmed = name.trim();
    if trimmed.len() != name.len() {
        let at = if name.starts_with(char::is_whitespace) {
            0..name.len() - name.trim_start().len()
        } else {
            trimmed.len()..name.len()
        };
        return Err(invalid_task("task name starts or ends with whitespace").with_span(name, at));
    }
    Ok(())
}

/// Checks that a task of `kind` may run with `execution`.
///
/// `function` is the function registered for a function task, when it is
/// known. The rules:
///
/// | task | allowed |
/// |---|---|
/// | function, blocking ([`TaskFn::Sync`]) | `main`, `thread` |
/// | function, async ([`TaskFn::Async`]) | `main`, `async` |
/// | function, not registered yet | `main`, `thread`, `async` |
/// | command, code | `process`, `main` |
///
/// A command or code task always runs as a child process; `main` makes the
/// scheduler wait for it, `process` lets the scheduler go on meanwhile.
pub fn validate_execution(
    kind: &TaskKind,
    execution: Execution,
    function: Option<&TaskFn>,
) -> Result<(), Error> {
    let allowed = kind.allowed_executions(function);
    if allowed.contains(&execution) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|e| e.as_str()).collect();
    Err(invalid_task(format!(
        "execution '{execution}' is not allowed for {}; allowed: {}",
        describe(kind, function),
        names.join(", ")
    )))
}

impl TaskKind {
    /// The execution mode of a task that does not set one: a blocking function
    /// runs on a thread, an async function as a tokio task, a command or code
    /// task as a child process.
    ///
    /// A function task whose function is not known yet gets
    /// [`Execution::Thread`]; check it again with [`validate_execution`] once the
    /// function is registered.
    pub fn default_execution(&self, function: Option<&TaskFn>) -> Execution {
        match (self, function) {
            (TaskKind::Function { .. }, Some(TaskFn::Async(_))) => Execution::Async,
            (TaskKind::Function { .. }, _) => Execution::Thread,
            (TaskKind::Command { .. } | TaskKind::Code { .. }, _) => Execution::Process,
        }
    }

    /// The execution modes a task of this kind allows (see
    /// [`validate_execution`]), the default first.
    pub fn allowed_executions(&self, function: Option<&TaskFn>) -> &'static [Execution] {
        match (self, function) {
            (TaskKind::Function { .. }, Some(TaskFn::Sync(_))) => {
                &[Execution::Thread, Execution::Main]
            }
            (TaskKind::Function { .. }, Some(TaskFn::Async(_))) => {
                &[Execution::Async, Execution::Main]
            }
            (TaskKind::Function { .. }, None) => {
                &[Execution::Thread, Execution::Main, Execution::Async]
            }
            (TaskKind::Command { .. } | TaskKind::Code { .. }, _) => {
                &[Execution::Process, Execution::Main]
            }
        }
    }

    /// Checks the kind's own fields: a function name is not empty; a program
    /// list has a non-empty program; a shell line is not blank; an interpreter
    /// is named; a working directory is not empty; environment names are not
    /// empty and have no `=`; no argument, line, name or value contains a NUL
    /// byte (the operating system cannot pass one).
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            TaskKind::Function { func } => {
                if func.is_empty() {
                    return Err(invalid_task("function name is empty"));
                }
                Ok(())
            }
            TaskKind::Command { command, cwd, env } => {
                match command {
                    CommandLine::Program(argv) => {
                        let Some(program) = argv.first() else {
                            return Err(invalid_task("command has no program"));
                        };
                        if program.is_empty() {
                            return Err(invalid_task("command program is empty"));
                        }
                        if argv.iter().any(|arg| arg.contains('\0')) {
                            return Err(invalid_task("command argument contains a NUL byte"));
                        }
                    }
                    CommandLine::Shell(line) => {
                        if line.trim().is_empty() {
                            return Err(invalid_task("command line is empty"));
                        }
                        if line.contains('\0') {
                            return Err(invalid_task("command line contains a NUL byte"));
                        }
                    }
                }
                validate_process_fields(cwd.as_deref(), env)
            }
            TaskKind::Code { lang, cwd, env, .. } => {
                if lang.trim().is_empty() {
                    return Err(invalid_task("code interpreter is empty"));
                }
                if lang.contains('\0') {
                    return Err(invalid_task("code interpreter contains a NUL byte"));
                }
                validate_process_fields(cwd.as_deref(), env)
            }
        }
    }
}

impl TaskSpec {
    /// Checks the whole definition: [`validate_name`], [`TaskKind::validate`]
    /// and [`validate_execution`] (with the registered function, if known).
    pub fn validate(&self, function: Option<&TaskFn>) -> Result<(), Error> {
        validate_name(&self.name)?;
        self.kind.validate()?;
        validate_execution(&self.kind, self.execution, function)
    }
}

/// An invalid task definition.
/// An error about a task definition.
pub(super) fn invalid_task(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidTask, message)
}

/// The working directory and environment of a command or code task.
fn validate_process_fields(cwd: Option<&str>, env: &BTreeMap<String, String>) -> Result<(), Error> {
    match cwd {
        Some("") => return Err(invalid_task("working directory is empty")),
        Some(dir) if dir.contains('\0') => {
            return Err(invalid_task("working directory contains a NUL byte"));
        }
        _ => {}
    }
    for (name, value) in env {
        if name.is_empty() {
            return Err(invalid_task("environment variable name is empty"));
        }
        if name.contains('=') || name.contains('\0') {
            return Err(invalid_task(format!(
                "environment variable name {name:?} contains '=' or a NUL byte"
            )));
        }
        if value.contains('\0') {
            return Err(invalid_task(format!(
                "environment variable {name} contains a NUL byte"
            )));
        }
    }
    Ok(())
}

/// How an error names a kind of task.
fn describe(kind: &TaskKind, function: Option<&TaskFn>) -> &'static str {
    match (kind, function) {
        (TaskKind::Function { .. }, Some(TaskFn::Sync(_))) => "a blocking function task",
        (TaskKind::Function { .. }, Some(TaskFn::Async(_))) => "an async function task",
        (TaskKind::Function { .. }, None) => "a function task",
        (TaskKind::Command { .. }, _) => "a command task",
        (TaskKind::Code { .. }, _) => "a code task",
    }
}
