//! The session side of the service: [`SessionDispatch`] answers reads and
//! prepares and applies changes against an [`engine_core::Session`].
//!
//! Changes are checked with the session's own dry runs
//! ([`Session::check_task`], [`Session::check_patch`],
//! [`Session::check_parameters`]), so a change accepted here is one the session
//! will accept; the session's error kinds give the status (not found 404, name
//! taken 409, invalid 400).

use chrono_tz::Tz;
use engine_core::Session;
use engine_core::time::{Side, to_instant};
use engine_query::FilterOptions;
use serde_json::{Map, Value};

use crate::BoxFuture;
use crate::error::{ApiError, ErrorKind};
use crate::extract::Query;
use crate::router::{Resource, Route, Verb};
use crate::service::{Dispatch, Prepared};
use crate::store::{Change, StoredRequest};

mod logs;
mod session;
mod tasks;

#[cfg(test)]
mod tests;

/// Serves the API's resources from a session.
pub(crate) struct SessionDispatch {
    session: Session,
}

impl SessionDispatch {
    /// Serves `session`.
    pub(crate) fn new(session: Session) -> SessionDispatch {
        SessionDispatch { session }
    }
}

impl Dispatch for SessionDispatch {
    fn read(&self, route: &Route, query: &Query) -> Result<Value, ApiError> {
        let session = &self.session;
        match (route.resource(), route.name()) {
            (Resource::Tasks, _) => tasks::list(session, query),
            (Resource::Task, Some(name)) => tasks::get(session, name),
            (Resource::Parameters, _) => Ok(Value::Object(session.parameters())),
            (Resource::Returns, _) => Ok(Value::Object(session.returns())),
            (Resource::Configs, _) => Ok(Value::Object(session.config().to_json())),
            (Resource::Session, _) => Ok(session::view(session)),
            (Resource::Logs, _) => logs::logs(session, query),
            (Resource::Dependencies, _) => logs::dependencies(session, query),
            _ => Err(unserved(route.resource(), route.verb())),
        }
    }

    fn prepare(
        &self,
        route: &Route,
        body: Option<Map<String, Value>>,
    ) -> Result<Prepared, ApiError> {
        let session = &self.session;
        let body = body.unwrap_or_default();
        let prepared = match (route.resource(), route.verb(), route.name()) {
            (Resource::Task, Verb::Post, Some(name)) => tasks::prepare_post(session, name, &body)?,
            (Resource::Task, Verb::Patch, Some(name)) => {
                tasks::prepare_patch(session, name, &body)?
            }
            (Resource::Task, Verb::Delete, Some(name)) => tasks::prepare_delete(session, name)?,
            (Resource::Parameters, Verb::Patch, _) => session::prepare_parameters(session, &body)?,
            (Resource::Returns, Verb::Patch, _) => session::prepare_returns(),
            (Resource::Configs, Verb::Patch, _) => session::prepare_config(&body)?,
            (resource, verb, _) => return Err(unserved(resource, verb)),
        };
        let body = match route.verb() {
            Verb::Delete => Value::Null,
            _ => Value::Object(body),
        };
        Ok(Prepared {
            change: Change {
                resource: route.resource(),
                method: route.verb(),
                target: route.name().map(str::to_owned),
                body,
            },
            scope: prepared,
        })
    }

    fn apply<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<Value, ApiError>> {
        Box::pin(async move {
            let session = &self.session;
            let body = match &change.body {
                Value::Object(map) => map.clone(),
                Value::Null => Map::new(),
                _ => {
                    return Err(ApiError::new(
                        ErrorKind::BadRequest,
                        "expected a JSON object",
                    ));
                }
            };
            let target = change.target.as_deref();
            match (change.resource, change.method, target) {
                (Resource::Task, Verb::Post, Some(name)) => tasks::apply_post(session, name, &body),
                (Resource::Task, Verb::Patch, Some(name)) => {
                    tasks::apply_patch(session, name, &body)
                }
                (Resource::Task, Verb::Delete, Some(name)) => {
                    tasks::apply_delete(session, name).await
                }
                (Resource::Parameters, Verb::Patch, _) => session::apply_parameters(session, body),
                (Resource::Returns, Verb::Patch, _) => {
                    Ok(Value::Object(session.patch_returns(body, &[])))
                }
                (Resource::Configs, Verb::Patch, _) => session::apply_config(session, &body),
                (resource, verb, _) => Err(unserved(resource, verb)),
            }
        })
    }

    fn replayed(&self, stored: &StoredRequest) -> Change {
        let mut change = stored.change.clone();
        if let (Resource::Task, Verb::Post | Verb::Patch, Some(target), Value::Object(body)) = (
            change.resource,
            change.method,
            change.target.as_deref(),
            &mut change.body,
        ) {
            tasks::drop_served_requests(&self.session, target, body, stored.at_ms);
        }
        change
    }
}

/// The zone of the session, for showing and reading times.
fn zone(session: &Session) -> Tz {
    session.config().timezone
}

/// Filter options reading times without an offset in the session's zone.
fn filter_options(tz: Tz) -> FilterOptions {
    FilterOptions::default().with_local(move |naive| Some(to_instant(tz, naive, Side::Start)))
}

/// A route the table has but the handlers do not serve: a bug, so a 500.
fn unserved(resource: Resource, verb: Verb) -> ApiError {
    ApiError::new(
        ErrorKind::Internal,
        format!("no handler for {verb} on {resource}"),
    )
}
