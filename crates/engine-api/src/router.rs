//! The route table and [`route`], the pure function that matches a method and a path against it.
//!
//! Matching splits the path at `/` first and percent-decodes each segment
//! afterwards, so `%2F` inside a task name is part of the name (`/tasks/a%2Fb`
//! addresses the task `a/b`). Decoding is strict: a `%` not followed by two hex
//! digits, or bytes that are not UTF-8, make the whole path a 400, wherever they
//! are. A trailing slash is a different path (`/tasks/` is a 404), as in the
//! original, and so is an empty segment (`//tasks`).
//!
//! # HEAD and OPTIONS
//!
//! `HEAD` is allowed wherever `GET` is and is answered like it, without a body.
//! `OPTIONS` is allowed on every route and is answered `204 No Content` with the
//! `Allow` header. Neither appears in the table; [`RouteSpec::allow`] adds them.

use hyper::Method;
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// The HTTP methods the API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verb {
    /// `GET`: read.
    Get,
    /// `HEAD`: `GET` without the body (never in the table; allowed wherever `GET` is).
    Head,
    /// `POST`: create.
    Post,
    /// `PATCH`: change.
    Patch,
    /// `DELETE`: remove.
    Delete,
    /// `OPTIONS`: which methods a path allows (never in the table; allowed everywhere).
    Options,
}

impl Verb {
    /// Every verb, in the order they are listed in an `Allow` header.
    pub const ALL: [Verb; 6] = [
        Verb::Get,
        Verb::Head,
        Verb::Post,
        Verb::Patch,
        Verb::Delete,
        Verb::Options,
    ];

    /// The method name in upper case: `GET`, `POST` ...
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Head => "HEAD",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
            Verb::Options => "OPTIONS",
        }
    }

    /// Whether a request with this verb changes the session (`POST`, `PATCH`, `DELETE`).
    pub fn is_mutation(self) -> bool {
        matches!(self, Verb::Post | Verb::Patch | Verb::Delete)
    }

    /// The verb of an HTTP method, if the API knows it.
    pub fn from_method(method: &Method) -> Option<Verb> {
        Verb::ALL
            .into_iter()
            .find(|verb| verb.as_str() == method.as_str())
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a route addresses: the resources of the original API, plus the OpenAPI document.
///
/// The serialized names are the original's resource names (`Task`, `Tasks` ...),
/// which is what a [`StoredRequest`](crate::StoredRequest) keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Resource {
    /// `/tasks`: the list of tasks.
    Tasks,
    /// `/tasks/{name}`: one task.
    Task,
    /// `/parameters`: the session parameters.
    Parameters,
    /// `/returns`: the latest return value of each task.
    Returns,
    /// `/configs`: the session configuration.
    Configs,
    /// `/session`: config, parameters, task names and returns at once.
    Session,
    /// `/logs`: the task log.
    Logs,
    /// `/dependencies`: the links between tasks found in their conditions.
    Dependencies,
    /// `/openapi.json`: the OpenAPI document of this API.
    OpenApi,
}

impl Resource {
    /// The resource's name: `Tasks`, `Task`, `Parameters` ... `OpenApi`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Tasks => "Tasks",
            Resource::Task => "Task",
            Resource::Parameters => "Parameters",
            Resource::Returns => "Returns",
            Resource::Configs => "Configs",
            Resource::Session => "Session",
            Resource::Logs => "Logs",
            Resource::Dependencies => "Dependencies",
            Resource::OpenApi => "OpenApi",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the route table: a path pattern, its resource and its methods.
#[derive(Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pattern: &'static str,
    resource: Resource,
    verbs: &'static [Verb],
    alias_of: Option<&'static str>,
}

impl RouteSpec {
    /// The path pattern: literal segments and at most one `{name}` segment.
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// The resource the route addresses.
    pub fn resource(&self) -> Resource {
        self.resource
    }

    /// The methods of the table (without the implied `HEAD` and `OPTIONS`).
    pub fn verbs(&self) -> &'static [Verb] {
        self.verbs
    }

    /// For an alias (`/task/{name}`), the pattern it stands for (`/tasks/{name}`).
    pub fn alias_of(&self) -> Option<&'static str> {
        self.alias_of
    }

    /// Every verb the route answers, `HEAD` and `OPTIONS` included, in `Allow` order.
    pub fn allowed(&self) -> Vec<Verb> {
        Verb::ALL
            .into_iter()
            .filter(|verb| self.allows(*verb))
            .collect()
    }

    /// The value of the `Allow` header: `GET, HEAD, OPTIONS`.
    pub fn allow(&self) -> String {
        let names: Vec<&str> = self.allowed().into_iter().map(Verb::as_str).collect();
        names.join(", ")
    }

    /// Whether the route answers `verb`.
    pub fn allows(&self, verb: Verb) -> bool {
        match verb {
            Verb::Options => true,
            Verb::Head => self.verbs.contains(&Verb::Get),
            verb => self.verbs.contains(&verb),
        }
    }

    /// The name the `{name}` segment matched, or `None` when the pattern has no
    /// parameter; `Err(())` when the segments do not fit the pattern.
    fn capture(&self, segments: &[String]) -> Result<Option<String>, ()> {
        let mut pattern = self.pattern.split('/').skip(1);
        let mut name = None;
        for segment in segments {
            match pattern.next() {
                Some("{name}") if !segment.is_empty() => name = Some(segment.clone()),
                Some(literal) if literal == segment => {}
                _ => return Err(()),
            }
        }
        match pattern.next() {
            Some(_) => Err(()),
            None => Ok(name),
        }
    }
}

/// The route table: every path the API serves, aliases as rows of their own.
pub static ROUTES: &[RouteSpec] = &[
    RouteSpec {
        pattern: "/tasks",
        resource: Resource::Tasks,
        verbs: &[Verb::Get],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/tasks/{name}",
        resource: Resource::Task,
        verbs: &[Verb::Get, Verb::Post, Verb::Patch, Verb::Delete],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/task/{name}",
        resource: Resource::Task,
        verbs: &[Verb::Get, Verb::Post, Verb::Patch, Verb::Delete],
        alias_of: Some("/tasks/{name}"),
    },
    RouteSpec {
        pattern: "/parameters",
        resource: Resource::Parameters,
        verbs: &[Verb::Get, Verb::Patch],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/returns",
        resource: Resource::Returns,
        verbs: &[Verb::Get, Verb::Patch],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/configs",
        resource: Resource::Configs,
        verbs: &[Verb::Get, Verb::Patch],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/config",
        resource: Resource::Configs,
        verbs: &[Verb::Get, Verb::Patch],
        alias_of: Some("/configs"),
    },
    RouteSpec {
        pattern: "/session",
        resource: Resource::Session,
        verbs: &[Verb::Get],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/logs",
        resource: Resource::Logs,
        verbs: &[Verb::Get],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/dependencies",
        resource: Resource::Dependencies,
        verbs: &[Verb::Get],
        alias_of: None,
    },
    RouteSpec {
        pattern: "/openapi.json",
        resource: Resource::OpenApi,
        verbs: &[Verb::Get],
        alias_of: None,
    },
];

/// A request matched against the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    spec: &'static RouteSpec,
    verb: Verb,
    name: Option<String>,
}

impl Route {
    /// The table row that matched.
    pub fn spec(&self) -> &'static RouteSpec {
        self.spec
    }

    /// The resource addressed.
    pub fn resource(&self) -> Resource {
        self.spec.resource
    }

    /// The request's verb.
    pub fn verb(&self) -> Verb {
        self.verb
    }

    /// The percent-decoded `{name}` segment, for routes that have one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Why a request matched no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No pattern matches the path: 404.
    NotFound,
    /// A pattern matches but does not allow the method: 405 with `Allow`.
    MethodNotAllowed {
        /// The row that matched the path.
        spec: &'static RouteSpec,
    },
    /// The path is not valid percent-encoded UTF-8: 400.
    InvalidPath {
        /// What is wrong, one lowercase clause.
        message: String,
        /// The byte offset in the path of the offending `%`.
        position: usize,
    },
}

/// Matches `method` and the raw (still percent-encoded) `path` against [`ROUTES`].
///
/// ```
/// use engine_api::{ApiError, Resource, Verb, route};
/// use hyper::Method;
///
/// let found = route(&Method::PATCH, "/task/my%20task").map_err(ApiError::from)?;
/// assert_eq!((found.resource(), found.verb(), found.name()), (Resource::Task, Verb::Patch, Some("my task")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`RouteError::InvalidPath`] for bad percent-encoding, [`RouteError::NotFound`]
/// for an unknown path and [`RouteError::MethodNotAllowed`] for a known path with
/// a method it does not answer.
pub fn route(method: &Method, path: &str) -> Result<Route, RouteError> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(RouteError::NotFound);
    };
    let mut segments = Vec::new();
    let mut offset = 1;
    for raw in rest.split('/') {
        segments.push(decode_segment(raw, offset)?);
        offset += raw.len() + 1;
    }
    let Some((spec, name)) = ROUTES
        .iter()
        .find_map(|spec| spec.capture(&segments).ok().map(|name| (spec, name)))
    else {
        return Err(RouteError::NotFound);
    };
    match Verb::from_method(method) {
        Some(verb) if spec.allows(verb) => Ok(Route { spec, verb, name }),
        _ => Err(RouteError::MethodNotAllowed { spec }),
    }
}

/// Checks the table the way the server relies on it: patterns are absolute with
/// non-empty segments, `{name}` is the only parameter, no two rows match the same
/// paths, every row has methods, and an alias has the same resource and methods
/// as the row it stands for.
///
/// # Errors
///
/// A sentence naming the first bad row.
pub(crate) fn validate(table: &[RouteSpec]) -> Result<(), String> {
    for (i, spec) in table.iter().enumerate() {
        let pattern = spec.pattern;
        let Some(rest) = pattern.strip_prefix('/') else {
            return Err(format!("route '{pattern}' does not start with '/'"));
        };
        let params = rest.split('/').filter(|s| s.starts_with('{')).count();
        if rest.split('/').any(|s| s.is_empty()) {
            return Err(format!("route '{pattern}' has an empty segment"));
        }
        if rest
            .split('/')
            .any(|s| (s.contains('{') || s.contains('}') || s.contains('%')) && s != "{name}")
        {
            return Err(format!(
                "route '{pattern}' has a parameter other than {{name}}"
            ));
        }
        if params > 1 {
            return Err(format!("route '{pattern}' has more than one parameter"));
        }
        if spec.verbs.is_empty() {
            return Err(format!("route '{pattern}' has no methods"));
        }
        if spec
            .verbs
            .iter()
            .any(|v| matches!(v, Verb::Head | Verb::Options))
        {
            return Err(format!(
                "route '{pattern}' lists HEAD or OPTIONS, which are implied"
            ));
        }
        if table
            .get(..i)
            .unwrap_or_default()
            .iter()
            .any(|earlier| same_shape(earlier.pattern, pattern))
        {
            return Err(format!("route '{pattern}' overlaps an earlier route"));
        }
        if let Some(target) = spec.alias_of {
            let Some(original) = table.iter().find(|s| s.pattern == target) else {
                return Err(format!(
                    "route '{pattern}' is an alias of a missing route '{target}'"
                ));
            };
            if original.alias_of.is_some()
                || original.resource != spec.resource
                || original.verbs != spec.verbs
            {
                return Err(format!(
                    "route '{pattern}' differs from the route it is an alias of"
                ));
            }
        }
    }
    Ok(())
}

/// Whether two patterns match some path in common (a parameter matches any segment).
fn same_shape(a: &str, b: &str) -> bool {
    let a: Vec<&str> = a.split('/').collect();
    let b: Vec<&str> = b.split('/').collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || *x == "{name}" || *y == "{name}")
}

/// Strictly percent-decodes one path segment that starts at byte `offset` of the path.
fn decode_segment(raw: &str, offset: usize) -> Result<String, RouteError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'%' {
            out.push(byte);
            i += 1;
            continue;
        }
        let hex = |j: usize| bytes.get(j).and_then(|b| char::from(*b).to_digit(16));
        let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
            return Err(RouteError::InvalidPath {
                message: "'%' in the path is not followed by two hex digits".to_owned(),
                position: offset + i,
            });
        };
        // Two hex digits make at most 0xff, so the narrowing cannot lose bits.
        out.push(u8::try_from(high * 16 + low).unwrap_or(u8::MAX));
        i += 3;
    }
    String::from_utf8(out).map_err(|error| {
        let bad = error.utf8_error().valid_up_to();
        RouteError::InvalidPath {
            message: "the percent-decoded path is not valid UTF-8".to_owned(),
            position: offset + raw_offset(raw, bad),
        }
    })
}

/// The byte offset in the raw segment of the `decoded`-th decoded byte.
fn raw_offset(raw: &str, decoded: usize) -> usize {
    let bytes = raw.as_bytes();
    let (mut i, mut seen) = (0, 0);
    while seen < decoded && i < bytes.len() {
        i += if bytes.get(i) == Some(&b'%') { 3 } else { 1 };
        seen += 1;
    }
    i.min(raw.len())
}
