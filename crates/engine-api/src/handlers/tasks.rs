//! `/tasks` and `/tasks/{name}`: list, read, create, change and delete tasks.

use chrono::TimeDelta;
use engine_core::Session;
use engine_core::session::OnExists;
use engine_core::task::{TaskKind, TaskSpec};
use serde_json::{Map, Value};

use super::{filter_options, zone};
use crate::auth::Scope;
use crate::error::{ApiError, ErrorKind};
use crate::extract::Query;
use crate::json;

/// The tasks whose view matches the query, in session order.
pub(super) fn list(session: &Session, query: &Query) -> Result<Value, ApiError> {
    let tz = zone(session);
    let filter = query.filter(&filter_options(tz))?;
    let views = session
        .tasks()
        .iter()
        .map(|view| json::task_view(view, tz))
        .filter(|view| filter.matches(view))
        .collect();
    Ok(Value::Array(views))
}

/// One task.
pub(super) fn get(session: &Session, name: &str) -> Result<Value, ApiError> {
    let view = session.task(name).map_err(|_| not_found(name))?;
    Ok(json::task_view(&view, zone(session)))
}

/// Checks a new task: 409 for a taken name (under `task_pre_exist = raise`),
/// 400 for a bad definition. Creating a command or code task needs
/// [`Scope::Code`].
pub(super) fn prepare_post(
    session: &Session,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Scope, ApiError> {
    let spec = spec_of(session, name, body)?;
    if session.has_task(name) && session.config().task_pre_exist == OnExists::Raise {
        return Err(conflict(name));
    }
    validate(session, &spec)?;
    Ok(scope_of(&spec.kind))
}

/// Checks a change: 404 for an unknown task, 409 for a rename to a taken name
/// (under `raise`), 400 for a bad field. Changing what a command or code task
/// runs needs [`Scope::Code`].
pub(super) fn prepare_patch(
    session: &Session,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Scope, ApiError> {
    let current = session.task(name).map_err(|_| not_found(name))?.spec;
    let (patch, runs_changed) = json::patch_from_json(&current.kind, body, false)?;
    if let Some(new_name) = patch.name.as_deref().filter(|n| *n != name) {
        if session.has_task(new_name) && session.config().task_pre_exist == OnExists::Raise {
            return Err(conflict(new_name));
        }
    }
    let spec = json::patched(current, &patch);
    validate(session, &spec)?;
    Ok(if runs_changed {
        scope_of(&spec.kind)
    } else {
        Scope::Write
    })
}

/// Checks a deletion: 404 for an unknown task.
pub(super) fn prepare_delete(session: &Session, name: &str) -> Result<Scope, ApiError> {
    if !session.has_task(name) {
        return Err(not_found(name));
    }
    Ok(Scope::Write)
}

/// Creates the task; returns it.
pub(super) fn apply_post(
    session: &Session,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let spec = spec_of(session, name, body)?;
    if session.has_task(name) && session.config().task_pre_exist == OnExists::Raise {
        return Err(conflict(name));
    }
    let view = session.create_task(spec, None)?;
    Ok(json::task_view(&view, zone(session)))
}

/// Changes the task; returns it.
pub(super) fn apply_patch(
    session: &Session,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let current = session.task(name).map_err(|_| not_found(name))?.spec;
    let (patch, _) = json::patch_from_json(&current.kind, body, false)?;
    let view = session.update_task(name, patch)?;
    Ok(json::task_view(&view, zone(session)))
}

/// Deletes the task (terminating a run going on); returns it as it was.
pub(super) async fn apply_delete(session: &Session, name: &str) -> Result<Value, ApiError> {
    if !session.has_task(name) {
        return Err(not_found(name));
    }
    let view = session.delete_task(name).await?;
    Ok(json::task_view(&view, zone(session)))
}

/// The definition a `POST` body describes, named `name` (the path wins over a
/// `name` in the body), with the session's defaults for what it leaves out.
fn spec_of(session: &Session, name: &str, body: &Map<String, Value>) -> Result<TaskSpec, ApiError> {
    let kind = json::kind_from_json(body)?;
    let spec = session.default_spec(name, kind);
    let (patch, _) = json::patch_from_json(&spec.kind, body, true)?;
    Ok(json::patched(spec, &patch))
}

/// Checks a definition the way the session does, without changing anything.
fn validate(session: &Session, spec: &TaskSpec) -> Result<(), ApiError> {
    let function = match &spec.kind {
        TaskKind::Function { func } => Some(session.function(func).ok_or_else(|| {
            ApiError::new(ErrorKind::BadRequest, format!("unknown function '{func}'"))
                .with_field("field", "func")
        })?),
        _ => None,
    };
    spec.validate(function.as_ref())?;
    if spec.timeout.is_some_and(|t| t <= TimeDelta::zero()) {
        return Err(
            ApiError::new(ErrorKind::BadRequest, "task timeout must be more than zero")
                .with_field("field", "timeout"),
        );
    }
    for (key, value) in &spec.parameters {
        check_parameter(key, value)?;
    }
    Ok(())
}

/// A parameter `{"$return": "<task>", "default": ...}` must name a task with a
/// string and have no other key (as the session checks it).
pub(super) fn check_parameter(key: &str, value: &Value) -> Result<(), ApiError> {
    let Value::Object(map) = value else {
        return Ok(());
    };
    let Some(task) = map.get(engine_core::session::RETURN_KEY) else {
        return Ok(());
    };
    let problem = if !task.is_string() {
        Some(format!("'$return' must name a task, got {task}"))
    } else {
        map.keys()
            .find(|k| *k != "$return" && *k != "default")
            .map(|other| format!("a '$return' value takes only 'default' besides, got '{other}'"))
    };
    match problem {
        Some(problem) => Err(ApiError::new(
            ErrorKind::BadRequest,
            format!("parameter '{key}': {problem}"),
        )),
        None => Ok(()),
    }
}

/// What creating or changing what a task of `kind` runs needs.
fn scope_of(kind: &TaskKind) -> Scope {
    match kind {
        TaskKind::Function { .. } => Scope::Write,
        TaskKind::Command { .. } | TaskKind::Code { .. } => Scope::Code,
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorKind::NotFound, format!("no task named '{name}'"))
}

fn conflict(name: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        format!("a task named '{name}' already exists"),
    )
}
