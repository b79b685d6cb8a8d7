//! Who may do what: the [`Authenticator`] trait, [`Scope`]s, and the built-ins
//! [`AllowAll`], [`LoopbackOnly`], [`BearerTokens`] and [`Basic`].
//!
//! # When the service asks
//!
//! Before every request, including those that end in 404 or 405, the service asks
//! the authenticator once, with the [`Scope`] the route needs: [`Scope::Read`]
//! for `GET`, `HEAD`, `OPTIONS` and unknown paths, [`Scope::Write`] for `POST`,
//! `PATCH` and `DELETE`, [`Scope::Admin`] for `PATCH /configs`. A refusal is
//! answered at once (401 or 403) and nothing else happens: no body is read.
//!
//! Some changes need more than their route says: creating or changing a command
//! or code task needs [`Scope::Code`], which is only known once the body is
//! parsed. For those the service asks a **second** time, with the higher scope,
//! after parsing and validating the body and before anything is stored or
//! changed. An authenticator therefore decides on the scope in
//! [`RequestInfo::scope`], not on the method alone.
//!
//! # Scopes
//!
//! `read` < `write` < `code` < `admin`: a granted scope allows itself and every
//! scope below it (so `admin` allows everything, and `code` allows writes).

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use base64::Engine as _;
use hyper::Method;
use hyper::header::{self, HeaderMap};

use crate::BoxFuture;
use crate::error::{ApiError, ErrorKind};
use crate::router::Route;

#[cfg(test)]
mod tests;

/// What a request may do, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read anything: every `GET`.
    Read,
    /// Change the session: create, change and delete tasks without code,
    /// change parameters and returns.
    Write,
    /// Create or change tasks that run commands or code on this machine.
    Code,
    /// Change the session configuration, and everything else.
    Admin,
}

impl Scope {
    /// Every scope, from least to most.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Code, Scope::Admin];

    /// The name: `read`, `write`, `code`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Code => "code",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Scope, ApiError> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Config,
                    format!("unknown scope '{text}', expected read, write, code or admin"),
                )
            })
    }
}

/// A set of granted [`Scope`]s. It [allows](Scopes::allows) a scope when it
/// holds that scope or a higher one.
///
/// ```
/// use engine_api::{Scope, Scopes};
///
/// let scopes: Scopes = "read, write".parse()?;
/// assert!(scopes.allows(Scope::Read) && scopes.allows(Scope::Write));
/// assert!(!scopes.allows(Scope::Code));
/// assert!(Scopes::of(&[Scope::Admin]).allows(Scope::Code));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// No scope: allows nothing.
    pub const NONE: Scopes = Scopes(0);
    /// Every scope.
    pub const ALL: Scopes = Scopes(0b1111);

    /// The set of `scopes`.
    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, scope| bits | scope.bit()))
    }

    /// Whether `scope` itself is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether the set allows a request that needs `required`: it holds
    /// `required` or a higher scope.
    pub fn allows(self, required: Scope) -> bool {
        Scope::ALL
            .into_iter()
            .any(|scope| scope >= required && self.contains(scope))
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes in the set, from least to most.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }

    /// The union of both sets.
    pub fn union(self, other: Scopes) -> Scopes {
        Scopes(self.0 | other.0)
    }
}

impl FromStr for Scopes {
    type Err = ApiError;

    /// Parses a comma- or space-separated list: `read,write`, `admin`.
    fn from_str(text: &str) -> Result<Scopes, ApiError> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .try_fold(Scopes::NONE, |set, part| {
                Ok(set.union(Scopes::of(&[part.parse()?])))
            })
    }
}

/// What an [`Authenticator`] sees of a request: the request line, the headers,
/// the peer, the matched route and the [`Scope`] the request needs.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    method: &'a Method,
    path: &'a str,
    headers: &'a HeaderMap,
    peer: Option<SocketAddr>,
    route: Option<&'a Route>,
    scope: Scope,
}

impl<'a> RequestInfo<'a> {
    /// A request with no known peer and no route, needing [`Scope::Read`].
    pub fn new(method: &'a Method, path: &'a str, headers: &'a HeaderMap) -> Self {
        RequestInfo {
            method,
            path,
            headers,
            peer: None,
            route: None,
            scope: Scope::Read,
        }
    }

    /// The same request, coming from `peer`.
    pub fn with_peer(self, peer: Option<SocketAddr>) -> Self {
        RequestInfo { peer, ..self }
    }

    /// The same request, matched to `route`.
    pub fn with_route(self, route: Option<&'a Route>) -> Self {
        RequestInfo { route, ..self }
    }

    /// The same request, needing `scope`.
    pub fn with_scope(self, scope: Scope) -> Self {
        RequestInfo { scope, ..self }
    }

    /// The HTTP method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The raw path (still percent-encoded, without the query).
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The request headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The address of the client, when the request came over a socket.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The route, or `None` for a path or method that has none (404, 405, 400).
    pub fn route(&self) -> Option<&'a Route> {
        self.route
    }

    /// What the request needs to be allowed.
    pub fn scope(&self) -> Scope {
        self.scope
    }
}

/// An [`Authenticator`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// Go on with the request.
    Allow,
    /// 401: no or wrong credentials.
    Unauthorized {
        /// The `WWW-Authenticate` header value, such as `Bearer realm="engine"`.
        challenge: String,
        /// Why, for the JSON body (`missing bearer token`).
        reason: String,
    },
    /// 403: the credentials are known but do not allow this request.
    Forbidden {
        /// Why, for the JSON body (`the credentials do not allow code`).
        reason: String,
    },
}

impl AuthDecision {
    /// The error a refusal answers with, or `Ok(())` for [`AuthDecision::Allow`].
    pub(crate) fn into_result(self) -> Result<(), ApiError> {
        match self {
            AuthDecision::Allow => Ok(()),
            AuthDecision::Unauthorized { challenge, reason } => {
                Err(ApiError::unauthorized(reason, &challenge))
            }
            AuthDecision::Forbidden { reason } => Err(ApiError::new(ErrorKind::Forbidden, reason)),
        }
    }
}

/// Decides, per request, whether it may go on.
///
/// Stored as `Arc<dyn Authenticator>`. The service asks before every request,
/// including those that end in 404 or 405, with the [`Scope`] the route needs:
/// [`Scope::Read`] for `GET`, `HEAD`, `OPTIONS` and unknown paths,
/// [`Scope::Write`] for `POST`, `PATCH` and `DELETE`, [`Scope::Admin`] for
/// `PATCH /configs`. A refusal is answered at once (401 or 403): no body is read.
///
/// Creating or changing a command or code task needs [`Scope::Code`], which is
/// only known once the body is parsed. For such a change the service asks a
/// **second** time, with the higher scope, after validating the body and before
/// anything is stored or changed (changes are handled one at a time, so keep
/// this call fast). Decide on [`RequestInfo::scope`], not on the method alone.
///
/// ```
/// use engine_api::{AuthDecision, Authenticator, BoxFuture, RequestInfo, Scope};
///
/// /// Everyone may read; nobody may change anything.
/// struct ReadOnly;
///
/// impl Authenticator for ReadOnly {
///     fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
///         Box::pin(async move {
///             if request.scope() == Scope::Read {
///                 AuthDecision::Allow
///             } else {
///                 AuthDecision::Forbidden { reason: "this API is read-only".into() }
///             }
///         })
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// Whether `request` may go on.
    fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision>;

    /// Whether this authenticator refuses unauthenticated clients on other
    /// machines. [`serve`](crate::serve) refuses to listen on a non-loopback
    /// address with one that does not, unless
    /// [`ServeConfig::allow_unauthenticated_remote`](crate::ServeConfig::allow_unauthenticated_remote)
    /// is set. The default is `true`.
    fn guards_remote_access(&self) -> bool {
        true
    }
}

/// Allows every request. The default, fit for a loopback address only.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Authenticator for AllowAll {
    fn authenticate<'a>(&'a self, _request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
        Box::pin(async { AuthDecision::Allow })
    }

    fn guards_remote_access(&self) -> bool {
        false
    }
}

/// Allows every request from a loopback address (and from no socket at all,
/// in-process); refuses others with 403.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopbackOnly;

impl Authenticator for LoopbackOnly {
    fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
        let local = request
            .peer()
            .is_none_or(|peer| peer.ip().to_canonical().is_loopback());
        Box::pin(async move {
            if local {
                AuthDecision::Allow
            } else {
                AuthDecision::Forbidden {
                    reason: "only clients on this machine may use this API".to_owned(),
                }
            }
        })
    }
}

/// The realm named in every challenge.
const REALM: &str = "engine";

/// `Authorization: Bearer <token>` against configured tokens, each with its scopes.
///
/// Every configured token is compared with the presented one, in time that
/// depends on their lengths but never on their contents, and without stopping
/// at a match, so timing tells nothing about which bytes or which token matched.
/// A missing or unknown token is a 401 with `WWW-Authenticate: Bearer ...`; a
/// known token without the needed scope is a 403.
///
/// ```
/// use engine_api::{BearerTokens, Scopes};
///
/// let auth = BearerTokens::default()
///     .with_token("reader-secret", "read".parse()?)
///     .with_token("ops-secret", Scopes::ALL);
/// assert_eq!(auth.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct BearerTokens {
    tokens: Vec<(Vec<u8>, Scopes)>,
}

impl BearerTokens {
    /// The same tokens plus `token`, granting `scopes`.
    pub fn with_token(mut self, token: &str, scopes: Scopes) -> Self {
        self.tokens.push((token.as_bytes().to_vec(), scopes));
        self
    }

    /// How many tokens are configured.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether no token is configured (then every request is a 401).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The scopes granted to `presented`: the union over every configured token
    /// equal to it, all compared in constant time.
    fn scopes_of(&self, presented: &[u8]) -> Scopes {
        self.tokens
            .iter()
            .fold(Scopes::NONE, |granted, (token, scopes)| {
                let mask = 0u8.wrapping_sub(u8::from(ct_eq(presented, token)));
                Scopes(granted.0 | (scopes.0 & mask))
            })
    }
}

impl fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerTokens")
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

impl Authenticator for BearerTokens {
    fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
        let decision = match credentials(request.headers(), "Bearer") {
            None => challenge_bearer(None, "missing bearer token"),
            Some(token) => decide(
                self.scopes_of(token.trim().as_bytes()),
                request.scope(),
                || challenge_bearer(Some("invalid_token"), "invalid bearer token"),
            ),
        };
        Box::pin(async move { decision })
    }
}

/// HTTP Basic authentication (RFC 7617) against configured users, each with a
/// plain-text password and scopes.
///
/// Passwords are kept as given (no hashing), so the configuration holding them
/// must be protected like the passwords themselves; prefer [`BearerTokens`] with
/// long random tokens. Every configured user name and password is compared with
/// the presented ones in constant time (per length), without stopping at a
/// match. Basic sends the password in the clear: use it behind TLS.
///
/// ```
/// use engine_api::{Basic, Scopes};
///
/// let auth = Basic::default().with_user("ops", "correct horse", Scopes::ALL);
/// assert_eq!(auth.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Basic {
    users: Vec<(Vec<u8>, Vec<u8>, Scopes)>,
}

impl Basic {
    /// The same users plus `user` with `password`, granting `scopes`.
    pub fn with_user(mut self, user: &str, password: &str, scopes: Scopes) -> Self {
        self.users.push((
            user.as_bytes().to_vec(),
            password.as_bytes().to_vec(),
            scopes,
        ));
        self
    }

    /// How many users are configured.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user is configured (then every request is a 401).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The scopes granted to `user` with `password`, all users compared in constant time.
    fn scopes_of(&self, user: &[u8], password: &[u8]) -> Scopes {
        self.users
            .iter()
            .fold(Scopes::NONE, |granted, (u, p, scopes)| {
                let both = u8::from(ct_eq(user, u)) & u8::from(ct_eq(password, p));
                Scopes(granted.0 | (scopes.0 & 0u8.wrapping_sub(both)))
            })
    }
}

impl fmt::Debug for Basic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Basic")
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

impl Authenticator for Basic {
    fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
        let decision = match credentials(request.headers(), "Basic") {
            None => challenge_basic("missing basic credentials"),
            Some(encoded) => match base64::engine::general_purpose::STANDARD.decode(encoded.trim())
            {
                Err(_) => challenge_basic("basic credentials are not valid base64"),
                Ok(decoded) => {
                    let (user, password) = match decoded.iter().position(|b| *b == b':') {
                        Some(colon) => (decoded.get(..colon), decoded.get(colon + 1..)),
                        None => (None, None),
                    };
                    match (user, password) {
                        (Some(user), Some(password)) => {
                            decide(self.scopes_of(user, password), request.scope(), || {
                                challenge_basic("invalid user name or password")
                            })
                        }
                        _ => challenge_basic("basic credentials have no ':'"),
                    }
                }
            },
        };
        Box::pin(async move { decision })
    }
}

/// The credentials after `scheme ` in the first `Authorization` header, when
/// it uses `scheme` (compared case-insensitively).
fn credentials<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    let value = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim_start();
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// Allow when `granted` allows `required`; 403 when it is not empty; else `unknown()`.
fn decide(
    granted: Scopes,
    required: Scope,
    unknown: impl FnOnce() -> AuthDecision,
) -> AuthDecision {
    if granted.allows(required) {
        AuthDecision::Allow
    } else if granted.is_empty() {
        unknown()
    } else {
        AuthDecision::Forbidden {
            reason: format!("the credentials do not allow {required}"),
        }
    }
}

fn challenge_bearer(error: Option<&str>, reason: &str) -> AuthDecision {
    let challenge = match error {
        Some(error) => format!("Bearer realm=\"{REALM}\", error=\"{error}\""),
        None => format!("Bearer realm=\"{REALM}\""),
    };
    AuthDecision::Unauthorized {
        challenge,
        reason: reason.to_owned(),
    }
}

fn challenge_basic(reason: &str) -> AuthDecision {
    AuthDecision::Unauthorized {
        challenge: format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
        reason: reason.to_owned(),
    }
}

/// Whether `a == b`, in time that depends on the lengths only: every byte
/// position up to the longer length is visited, and differences are
/// accumulated without branching.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}
