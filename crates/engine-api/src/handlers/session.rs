//! `/session`, `/parameters`, `/returns` and `/configs`: the session's maps.

use engine_core::Session;
use engine_core::session::ConfigPatch;
use serde_json::{Map, Value, json};

use crate::auth::Scope;
use crate::error::ApiError;

/// Config, parameters, task names (in order) and returns at once.
pub(super) fn view(session: &Session) -> Value {
    json!({
        "config": session.config().to_json(),
        "parameters": session.parameters(),
        "tasks": session.task_names(),
        "returns": session.returns(),
    })
}

/// Checks a merge into the parameters with [`Session::check_parameters`]
/// (pipelined values must be well formed).
pub(super) fn prepare_parameters(
    session: &Session,
    body: &Map<String, Value>,
) -> Result<Scope, ApiError> {
    session.check_parameters(body)?;
    Ok(Scope::Write)
}

/// A merge into the returns is always valid (a `null` removes the entry).
pub(super) fn prepare_returns() -> Scope {
    Scope::Write
}

/// Checks a configuration change: known keys, values of the right type and range.
pub(super) fn prepare_config(body: &Map<String, Value>) -> Result<Scope, ApiError> {
    ConfigPatch::from_json(body)?;
    Ok(Scope::Admin)
}

/// Merges `body` into the parameters; returns them.
pub(super) fn apply_parameters(
    session: &Session,
    body: Map<String, Value>,
) -> Result<Value, ApiError> {
    Ok(Value::Object(session.patch_parameters(body, &[])?))
}

/// Applies a configuration change; returns the configuration.
pub(super) fn apply_config(
    session: &Session,
    body: &Map<String, Value>,
) -> Result<Value, ApiError> {
    Ok(Value::Object(session.patch_config(body)?.to_json()))
}
