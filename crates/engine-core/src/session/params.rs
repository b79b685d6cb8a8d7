//! Parameter pipelining: `{"$return": "<task>"}` values, checked when set and
//! resolved to the task's latest return value when a run starts.

use serde_json::{Map, Value};

use super::invalid;
use crate::Error;

/// The key of a pipelined parameter value: `{"$return": "<task>"}`, optionally
/// with `"default": <value>` (used while the task has returned nothing).
pub const RETURN_KEY: &str = "$return";

/// The optional fallback key of a pipelined value.
const DEFAULT_KEY: &str = "default";

/// Checks a parameter value: an object with [`RETURN_KEY`] must name a task by
/// a string and have no key other than `default`.
pub(super) fn check(key: &str, value: &Value) -> Result<(), Error> {
    match pipelined(value) {
        Ok(_) => Ok(()),
        Err(message) => Err(invalid(format!("parameter '{key}': {message}"))),
    }
}

/// Replaces every pipelined value of `params` by its return value.
///
/// `returns(task)` is `Ok(Some(value))` for a task with a return value,
/// `Ok(None)` for a task without one, `Err(())` for a task that does not exist.
pub(super) fn resolve(
    mut params: Map<String, Value>,
    returns: &dyn Fn(&str) -> Result<Option<Value>, ()>,
) -> Result<Map<String, Value>, Error> {
    for (key, value) in params.iter_mut() {
        let (task, default) = match pipelined(value) {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(message) => return Err(invalid(format!("parameter '{key}': {message}"))),
        };
        let resolved = match returns(task) {
            Ok(Some(returned)) => returned,
            Ok(None) => default.cloned().unwrap_or(Value::Null),
            Err(()) => {
                return Err(invalid(format!(
                    "unknown task '{task}' in parameter '{key}'"
                )));
            }
        };
        *value = resolved;
    }
    Ok(params)
}

/// `Some((task, default))` for a pipelined value, `None` for plain data.
fn pipelined(value: &Value) -> Result<Option<(&str, Option<&Value>)>, String> {
    let Value::Object(map) = value else {
        return Ok(None);
    };
    let Some(task) = map.get(RETURN_KEY) else {
        return Ok(None);
    };
    let Value::String(task) = task else {
        return Err(format!("'{RETURN_KEY}' must name a task, got {task}"));
    };
    if let Some(other) = map.keys().find(|k| *k != RETURN_KEY && *k != DEFAULT_KEY) {
        return Err(format!(
            "a '{RETURN_KEY}' value takes only '{DEFAULT_KEY}' besides, got '{other}'"
        ));
    }
    Ok(Some((task, map.get(DEFAULT_KEY))))
}
