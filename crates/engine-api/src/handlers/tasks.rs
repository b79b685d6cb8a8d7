//! `/tasks` and `/tasks/{name}`: list, read, create, change and delete tasks.

use chrono::{DateTime, Utc};
use engine_core::Session;
use engine_core::log::Action;
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

/// Removes from a stored task body (`POST` or `PATCH` of `target`, stored at
/// `at_ms`) the one-off requests a replay must not repeat: `force_termination`
/// always (it was about a run of the earlier process), `force_run` when the
/// task has started a run since (the run consumed it). The run may be logged
/// under `target` or under the new name the body gives.
pub(super) fn drop_served_requests(
    session: &Session,
    target: &str,
    body: &mut Map<String, Value>,
    at_ms: u64,
) {
    if body.get("force_termination") == Some(&Value::Bool(true)) {
        body.remove("force_termination");
    }
    if body.get("force_run") != Some(&Value::Bool(true)) {
        return;
    }
    let Some(at) = i64::try_from(at_ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
    else {
        return;
    };
    let renamed = body.get("name").and_then(Value::as_str);
    let ran = std::iter::once(target)
        .chain(renamed)
        .filter_map(|name| last_run(session, name))
        .any(|last| last >= at);
    if ran {
        body.remove("force_run");
    }
}

/// The latest start of a run of the task `name`: in the session's state (which
/// a rename carries over) or in the log (runs under this name).
fn last_run(session: &Session, name: &str) -> Option<DateTime<Utc>> {
    let in_state = session.task(name).ok().and_then(|view| view.state.last_run);
    let logged = match session.log().summary(name) {
        Ok(summary) => summary.last(Action::Run),
        Err(error) => {
            tracing::warn!(task = name, %error, "cannot read the log at replay; a stored force_run is kept");
            None
        }
    };
    in_state.max(logged)
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
