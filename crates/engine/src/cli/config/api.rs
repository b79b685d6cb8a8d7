//! The `[api]` section: where and how the API is served, and the credentials
//! of its users, whose secrets come from environment variables or files.

use std::net::IpAddr;
use std::ops::Range;
use std::time::Duration;

use engine::api::{Scope, Scopes};
use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::Reader;

/// `[api]`: where and how the API is served, and who may use it.
#[derive(Debug, Default)]
pub(crate) struct ApiSettings {
    /// The address to listen on, with the span of its value.
    pub(crate) host: Option<(String, Range<usize>)>,
    /// The port.
    pub(crate) port: Option<u16>,
    /// The largest request body, in bytes.
    pub(crate) body_limit: Option<usize>,
    /// How long a client may take to send its request headers.
    pub(crate) header_timeout: Option<Duration>,
    /// How long a client may take to send a request body, after its headers.
    pub(crate) body_timeout: Option<Duration>,
    /// How long a response may make no progress (the client stopped reading).
    pub(crate) write_timeout: Option<Duration>,
    /// The most connections served at once.
    pub(crate) max_connections: Option<usize>,
    /// How long requests in flight may take at shutdown.
    pub(crate) shutdown_grace: Option<Duration>,
    /// Serve a non-loopback address without authentication.
    pub(crate) allow_unauthenticated_remote: bool,
    /// Bearer tokens (the secret, its scopes).
    pub(crate) tokens: Vec<(String, Scopes)>,
    /// Basic users (name, password, scopes).
    pub(crate) users: Vec<(String, String, Scopes)>,
}

impl ApiSettings {
    /// Whether any credentials are configured.
    pub(crate) fn has_auth(&self) -> bool {
        !self.tokens.is_empty() || !self.users.is_empty()
    }
}

/// `[api]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    host: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    body_limit: Option<Spanned<i64>>,
    header_timeout: Option<Spanned<toml::Value>>,
    body_timeout: Option<Spanned<toml::Value>>,
    write_timeout: Option<Spanned<toml::Value>>,
    max_connections: Option<Spanned<i64>>,
    shutdown_grace: Option<Spanned<toml::Value>>,
    #[serde(default)]
    allow_unauthenticated_remote: bool,
    #[serde(default)]
    tokens: Vec<Spanned<RawToken>>,
    #[serde(default)]
    users: Vec<Spanned<RawUser>>,
}

/// `[[api.tokens]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    scopes: Spanned<Vec<Spanned<String>>>,
    env: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    token: Option<Spanned<toml::Value>>,
}

/// `[[api.users]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    user: Spanned<String>,
    scopes: Spanned<Vec<Spanned<String>>>,
    password_env: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    password: Option<Spanned<toml::Value>>,
}

impl Reader<'_> {
    /// `[api]`.
    pub(super) fn api(&mut self, value: Spanned<DeValue<'_>>) -> ApiSettings {
        let Some(raw) = self.read::<RawApi>("[api]", value) else {
            return ApiSettings::default();
        };
        let mut api = ApiSettings {
            allow_unauthenticated_remote: raw.allow_unauthenticated_remote,
            ..ApiSettings::default()
        };
        if let Some(host) = raw.host {
            let span = host.span();
            let host = host.into_inner();
            if host.trim().is_empty() {
                self.problem(span, "[api] host is empty");
            } else {
                api.host = Some((host, span));
            }
        }
        if let Some(port) = raw.port {
            match u16::try_from(*port.get_ref()) {
                Ok(p) => api.port = Some(p),
                Err(_) => self.problem(port.span(), "[api] port must be from 0 to 65535"),
            }
        }
        api.body_limit = raw
            .body_limit
            .and_then(|n| self.positive("[api] body_limit", &n));
        api.max_connections = raw
            .max_connections
            .and_then(|n| self.positive("[api] max_connections", &n));
        api.header_timeout = raw
            .header_timeout
            .and_then(|d| self.std_duration("[api] header_timeout", &d));
        api.body_timeout = raw
            .body_timeout
            .and_then(|d| self.std_duration("[api] body_timeout", &d));
        api.write_timeout = raw
            .write_timeout
            .and_then(|d| self.std_duration("[api] write_timeout", &d));
        api.shutdown_grace = raw
            .shutdown_grace
            .and_then(|d| self.std_duration("[api] shutdown_grace", &d));
        for token in raw.tokens {
            let span = token.span();
            let token = token.into_inner();
            if let Some(inline) = &token.token {
                self.problem(
                    inline.span(),
                    "[[api.tokens]] an inline token is refused: put it in an environment variable \
                     (env = \"VAR\") or a file (file = \"path\")",
                );
                continue;
            }
            let scopes = self.scopes("[[api.tokens]]", &token.scopes);
            let secret = self.secret("[[api.tokens]]", span, token.env, token.file, "env", "file");
            if let (Some(scopes), Some(secret)) = (scopes, secret) {
                api.tokens.push((secret, scopes));
            }
        }
        for user in raw.users {
            let span = user.span();
            let user = user.into_inner();
            if let Some(inline) = &user.password {
                self.problem(
                    inline.span(),
                    "[[api.users]] an inline password is refused: put it in an environment \
                     variable (password_env = \"VAR\") or a file (password_file = \"path\")",
                );
                continue;
            }
            let name = user.user.get_ref().clone();
            if name.is_empty() || name.contains(':') {
                self.problem(
                    user.user.span(),
                    "[[api.users]] user must be non-empty and without ':'",
                );
                continue;
            }
            let scopes = self.scopes("[[api.users]]", &user.scopes);
            let secret = self.secret(
                "[[api.users]]",
                span,
                user.password_env,
                user.password_file,
                "password_env",
                "password_file",
            );
            if let (Some(scopes), Some(secret)) = (scopes, secret) {
                api.users.push((name, secret, scopes));
            }
        }
        api
    }

    /// A list of scope names.
    fn scopes(&mut self, section: &str, scopes: &Spanned<Vec<Spanned<String>>>) -> Option<Scopes> {
        if scopes.get_ref().is_empty() {
            self.problem(
                scopes.span(),
                format!("{section} scopes is empty, expected some of read, write, code, admin"),
            );
            return None;
        }
        let mut granted = Vec::new();
        let mut ok = true;
        for scope in scopes.get_ref() {
            match scope.get_ref().parse::<Scope>() {
                Ok(scope) => granted.push(scope),
                Err(e) => {
                    self.problem(scope.span(), format!("{section} {e}"));
                    ok = false;
                }
            }
        }
        ok.then(|| Scopes::of(&granted))
    }

    /// A secret from an environment variable or a file: exactly one of them.
    fn secret(
        &mut self,
        section: &str,
        span: Range<usize>,
        env: Option<Spanned<String>>,
        file: Option<Spanned<String>>,
        env_key: &str,
        file_key: &str,
    ) -> Option<String> {
        let (value, at) = match (env, file) {
            (Some(_), Some(file)) => {
                self.problem(
                    file.span(),
                    format!("{section} give either {env_key} or {file_key}, not both"),
                );
                return None;
            }
            (None, None) => {
                self.problem(
                    span,
                    format!("{section} needs {env_key} = \"VAR\" or {file_key} = \"path\""),
                );
                return None;
            }
            (Some(var), None) => {
                let at = var.span();
                let name = var.into_inner();
                match (self.env)(&name) {
                    Some(value) => (value, at),
                    None => {
                        self.problem(
                            at,
                            format!("{section} the environment variable {name} is not set"),
                        );
                        return None;
                    }
                }
            }
            (None, Some(file)) => {
                let at = file.span();
                let path = self.base.join(file.get_ref());
                match std::fs::read_to_string(&path) {
                    // One trailing line break is not part of the secret.
                    Ok(text) => (
                        text.strip_suffix('\n')
                            .map(|t| t.strip_suffix('\r').unwrap_or(t))
                            .unwrap_or(&text)
                            .to_owned(),
                        at,
                    ),
                    Err(e) => {
                        self.problem(at, format!("{section} cannot read {}: {e}", path.display()));
                        return None;
                    }
                }
            }
        };
        if value.trim().is_empty() {
            self.problem(at, format!("{section} the secret is empty"));
            return None;
        }
        Some(value)
    }
}

/// Whether `host` is a loopback address, or a name that only resolves to
/// loopback addresses (`localhost`).
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return ip.to_canonical().is_loopback();
    }
    use std::net::ToSocketAddrs;
    match (bare, 0u16).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().to_canonical().is_loopback())
        }
        Err(_) => false,
    }
}
