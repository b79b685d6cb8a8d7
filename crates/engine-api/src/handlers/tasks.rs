//! `/tasks` and `/tasks/{name}`: list, read, create, change and delete tasks.

use engine_core::Session;
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

/// Checks a new task with [`Session::check_task`]: 409 for a taken name
/// (under `task_pre_exist = raise`), 400 for a bad definition. Creating a
/// command or code task needs [`Scope::Code`].
pub(super) fn prepare_post(
    session: &Session,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Scope, ApiError> {
    let spec = spec_of(session, name, body)?;
    session.check_task(&spec)?;
    Ok(scope_of(&spec.kind))
}

/// Checks a change with [`Session::check_patch`]: 404 for an unknown task,
/// 409 for a rename to a taken name (under `raise`), 400 for a bad field.
/// Changing what a command or code task runs needs [`Scope::Code`].
pub(super) fn prepare_patch(
    session: &Session,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Scope, ApiError> {
    let current = session.task(name).map_err(|_| not_found(name))?.spec;
    let (patch, runs_changed) = json::patch_from_json(&current.kind, body, false)?;
    session.check_patch(name, &patch)?;
    Ok(if runs_changed {
        scope_of(patch.kind.as_ref().unwrap_or(&current.kind))
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
    Ok(patch.apply(spec))
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
