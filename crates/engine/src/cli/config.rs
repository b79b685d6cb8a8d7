//! The config file of `engine run`: TOML read with the position of every value,
//! validated into a [`RunConfig`]. Every error names FILE:LINE:COLUMN, and a bad
//! condition also shows its caret.
//!
//! The file is parsed once into a table whose values keep their byte spans
//! (`toml::de::DeTable`); each section and each task is then read on its own
//! (serde with `deny_unknown_fields`, `toml::Spanned` fields), so one bad task
//! does not hide the errors of the next. Secrets are never read from the file
//! itself: a token or password comes from an environment variable or a file
//! it names, and an inline `token = "..."` is refused (a config file is easily
//! committed or shown; an environment variable or a file with its own
//! permissions is not).

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use engine::api::{Scope, Scopes};
use engine::session::{CONFIG_KEYS, ConfigPatch, parse_execution};
use engine::task::{CommandLine, Execution, TaskKind, TaskSpec};
use engine::time::parse_duration;
use engine::{Condition, Session};
use serde::Deserialize;
use serde_json::{Map, Value};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// The state argument that means "keep nothing".
pub(crate) const MEMORY: &str = "memory";

/// The key toml's serde bridge wraps a datetime in.
const TOML_DATETIME: &str = "$__toml_private_datetime";

/// A validated config file.
#[derive(Debug, Default)]
pub(crate) struct RunConfig {
    /// `[session]`: the session configuration (the time zone included).
    pub(crate) session: ConfigPatch,
    /// `[api]`.
    pub(crate) api: ApiSettings,
    /// `[state] dir`.
    pub(crate) state: Option<StateChoice>,
    /// `[parameters]`, each with the span of its value.
    pub(crate) parameters: Vec<(String, Value, Range<usize>)>,
    /// `[[tasks]]`, in file order.
    pub(crate) tasks: Vec<TaskDef>,
}

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

/// Where a run keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StateChoice {
    /// SQLite files in this directory.
    Dir(PathBuf),
    /// Nothing survives the process.
    Memory,
}

impl StateChoice {
    /// `memory`, else a directory (relative to `base`, when given).
    pub(crate) fn parse(text: &str, base: Option<&Path>) -> StateChoice {
        match (text, base) {
            (MEMORY, _) => StateChoice::Memory,
            (dir, Some(base)) => StateChoice::Dir(base.join(dir)),
            (dir, None) => StateChoice::Dir(PathBuf::from(dir)),
        }
    }
}

/// A `[[tasks]]` entry, checked but not yet created (a definition needs the
/// session's defaults).
#[derive(Debug, Clone)]
pub(crate) struct TaskDef {
    /// The name.
    pub(crate) name: String,
    /// The span of the name's value.
    pub(crate) name_span: Range<usize>,
    /// What it runs.
    pub(crate) kind: TaskKind,
    /// The span of what it runs (`command`, `code` or `func`).
    pub(crate) kind_span: Range<usize>,
    /// When it may start.
    pub(crate) start_cond: Option<Condition>,
    /// When a run is terminated.
    pub(crate) end_cond: Option<Condition>,
    /// How it runs (else the session's default for its kind).
    pub(crate) execution: Option<(Execution, Range<usize>)>,
    /// Its priority (else the session's `task_priority`).
    pub(crate) priority: Option<i64>,
    /// The flags: disabled, on_startup, on_shutdown, permanent_task, allow_overlap.
    pub(crate) flags: Flags,
    /// Its own timeout.
    pub(crate) timeout: Option<TimeDelta>,
    /// Its own parameters.
    pub(crate) parameters: Map<String, Value>,
    /// The span of the parameters' value.
    pub(crate) parameters_span: Option<Range<usize>>,
}

/// The boolean fields of a task.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flags {
    disabled: bool,
    on_startup: bool,
    on_shutdown: bool,
    permanent_task: bool,
    allow_overlap: bool,
}

impl TaskDef {
    /// The definition, with `session`'s defaults for what the file leaves out.
    pub(crate) fn spec(&self, session: &Session) -> TaskSpec {
        let mut spec = session.default_spec(self.name.clone(), self.kind.clone());
        if let Some(cond) = &self.start_cond {
            spec.start_cond = cond.clone();
        }
        if let Some(cond) = &self.end_cond {
            spec.end_cond = cond.clone();
        }
        if let Some((execution, _)) = self.execution {
            spec.execution = execution;
        }
        if let Some(priority) = self.priority {
            spec.priority = priority;
        }
        spec.disabled = self.flags.disabled;
        spec.on_startup = self.flags.on_startup;
        spec.on_shutdown = self.flags.on_shutdown;
        spec.permanent_task = self.flags.permanent_task;
        spec.allow_overlap = self.flags.allow_overlap;
        spec.timeout = self.timeout;
        spec.parameters = self.parameters.clone();
        spec
    }
}

/// One error in a config file: where, what, and an optional caret drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The byte span in the file (`None`: the file as a whole).
    pub(crate) span: Option<Range<usize>>,
    /// What is wrong, one clause.
    pub(crate) message: String,
    /// Lines to show under the message (a condition's caret drawing); `None`:
    /// the file's line with a caret under the span.
    pub(crate) detail: Option<String>,
}

impl Problem {
    /// A problem at `span`.
    pub(crate) fn at(span: Range<usize>, message: impl Into<String>) -> Problem {
        Problem {
            span: Some(span),
            message: message.into(),
            detail: None,
        }
    }

    /// The problem as shown: `FILE:LINE:COLUMN: message`, then the caret lines.
    pub(crate) fn render(&self, file: &str, source: &str) -> String {
        let Some(span) = &self.span else {
            return format!("{file}: {}", self.message);
        };
        let start = floor_char_boundary(source, span.start);
        let (line, column) = line_column(source, start);
        let detail = match &self.detail {
            Some(detail) => detail.clone(),
            None => caret(source, start..span.end.max(start)),
        };
        format!("{file}:{line}:{column}: {}\n{detail}", self.message)
    }
}

/// A config file as read: what could be read of it, and every problem found.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The file's name, as given.
    pub(crate) file: String,
    /// The file's text.
    pub(crate) source: String,
    /// The config: the sections and tasks without problems.
    pub(crate) config: RunConfig,
    /// The problems found.
    pub(crate) problems: Vec<Problem>,
}

impl Loaded {
    /// `problems` rendered against this file, in file order.
    pub(crate) fn render(&self, problems: &[Problem]) -> Vec<String> {
        render_all(problems, &self.file, &self.source)
    }
}

/// Reads and checks the config file at `path`; secrets are looked up with `env`.
///
/// # Errors
///
/// The file cannot be read.
pub(crate) fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, String> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file '{file}': {e}"))?;
    let base = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (config, problems) = parse(&source, &base, env);
    Ok(Loaded {
        file,
        source,
        config,
        problems,
    })
}

/// Every problem rendered, in file order.
pub(crate) fn render_all(problems: &[Problem], file: &str, source: &str) -> Vec<String> {
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by_key(|p| p.span.as_ref().map_or(0, |s| s.start));
    sorted.iter().map(|p| p.render(file, source)).collect()
}

/// Checks config text; relative paths are resolved against `base`, secrets
/// looked up with `env`. Returns what could be read (sections and tasks
/// without problems) and every problem found.
pub(crate) fn parse(
    source: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> (RunConfig, Vec<Problem>) {
    let root = match DeTable::parse(source) {
        Ok(root) => root,
        Err(e) => return (RunConfig::default(), vec![toml_problem(&e, source)]),
    };
    let mut reader = Reader {
        source,
        base,
        env,
        problems: Vec::new(),
    };
    let mut config = RunConfig::default();
    for (key, value) in root.into_inner() {
        let key_span = key.span();
        match key.get_ref().as_ref() {
            "session" => config.session = reader.session(value),
            "api" => config.api = reader.api(value),
            "state" => config.state = reader.state(value),
            "parameters" => config.parameters = reader.parameters(value),
            "tasks" => config.tasks = reader.tasks(value),
            other => reader.problems.push(Problem::at(
                key_span,
                format!(
                    "unknown section '{other}', expected session, api, state, parameters or tasks"
                ),
            )),
        }
    }
    (config, reader.problems)
}

/// Creates the config's session parameters and tasks on `session`; every
/// refusal is a problem at the value the session refused.
pub(crate) fn apply(config: &RunConfig, session: &Session) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, value, span) in &config.parameters {
        let one = Map::from_iter([(key.clone(), value.clone())]);
        if let Err(e) = session.patch_parameters(one, &[]) {
            problems.push(Problem::at(span.clone(), format!("[parameters] {e}")));
        }
    }
    for task in &config.tasks {
        if let Err(e) = session.create_task(task.spec(session), None) {
            let hint = match &task.kind {
                TaskKind::Function { .. } if session.function_names().is_empty() => {
                    " (the engine binary registers no functions: a func task needs a program \
                     that embeds the engine and registers it, see the engine crate's docs)"
                }
                _ => "",
            };
            problems.push(Problem::at(
                blame(task, &e),
                format!("task '{}': {}{hint}", task.name, e.message()),
            ));
        }
    }
    problems
}

/// The part of a task a creation error is about.
fn blame(task: &TaskDef, error: &engine::Error) -> Range<usize> {
    let message = error.message();
    if message.contains("execution")
        && let Some((_, span)) = &task.execution
    {
        return span.clone();
    }
    if message.contains("parameter")
        && let Some(span) = &task.parameters_span
    {
        return span.clone();
    }
    if message.starts_with("task name") || message.contains("already exists") {
        return task.name_span.clone();
    }
    task.kind_span.clone()
}

/// Reads sections, collecting problems.
struct Reader<'s> {
    source: &'s str,
    base: &'s Path,
    env: &'s dyn Fn(&str) -> Option<String>,
    problems: Vec<Problem>,
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

/// `[state]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    dir: Spanned<String>,
}

/// `[[tasks]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: Spanned<String>,
    class: Option<Spanned<String>>,
    command: Option<Spanned<toml::Value>>,
    code: Option<Spanned<String>>,
    lang: Option<Spanned<String>>,
    func: Option<Spanned<String>>,
    cwd: Option<Spanned<String>>,
    env: Option<Spanned<BTreeMap<String, String>>>,
    start_cond: Option<Spanned<String>>,
    end_cond: Option<Spanned<String>>,
    execution: Option<Spanned<String>>,
    priority: Option<i64>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    on_startup: bool,
    #[serde(default)]
    on_shutdown: bool,
    #[serde(default)]
    permanent_task: bool,
    #[serde(default)]
    allow_overlap: bool,
    timeout: Option<Spanned<toml::Value>>,
    parameters: Option<Spanned<DeValueOwned>>,
}

/// A value kept as JSON (task parameters), read through serde.
struct DeValueOwned(Value);

impl<'de> Deserialize<'de> for DeValueOwned {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|v| DeValueOwned(plain_json(v)))
    }
}

impl Reader<'_> {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem::at(span, message));
    }

    /// Reads `value` with serde; a failure is a problem.
    fn read<T: for<'de> Deserialize<'de>>(
        &mut self,
        section: &str,
        value: Spanned<DeValue<'_>>,
    ) -> Option<T> {
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(read) => Some(read),
            Err(e) => {
                let at = e.span().unwrap_or(span);
                let message = format!("{section} {}", serde_message(&e));
                self.problem(at, message);
                None
            }
        }
    }

    /// `[session]`: each key is checked on its own by the session's own rules.
    fn session(&mut self, value: Spanned<DeValue<'_>>) -> ConfigPatch {
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.problem(span, "[session] must be a table");
            return ConfigPatch::default();
        };
        let mut accepted = Map::new();
        for (key, value) in table {
            let name = key.get_ref().to_string();
            if !CONFIG_KEYS.contains(&name.as_str()) {
                self.problem(
                    key.span(),
                    format!(
                        "[session] unknown key '{name}', expected one of {}",
                        CONFIG_KEYS.join(", ")
                    ),
                );
                continue;
            }
            let value_span = value.span();
            let Some(json) = self.json("[session]", value) else {
                continue;
            };
            let one = Map::from_iter([(name.clone(), json.clone())]);
            match ConfigPatch::from_json(&one) {
                Ok(_) => {
                    accepted.insert(name, json);
                }
                Err(e) => self.problem(value_span, format!("[session] {}", e.message())),
            }
        }
        match ConfigPatch::from_json(&accepted) {
            Ok(patch) => patch,
            Err(e) => {
                self.problem(span, format!("[session] {}", e.message()));
                ConfigPatch::default()
            }
        }
    }

    /// `[api]`.
    fn api(&mut self, value: Spanned<DeValue<'_>>) -> ApiSettings {
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

    /// `[state]`.
    fn state(&mut self, value: Spanned<DeValue<'_>>) -> Option<StateChoice> {
        let raw = self.read::<RawState>("[state]", value)?;
        if raw.dir.get_ref().is_empty() {
            self.problem(raw.dir.span(), "[state] dir is empty");
            return None;
        }
        Some(StateChoice::parse(raw.dir.get_ref(), Some(self.base)))
    }

    /// `[parameters]`.
    fn parameters(&mut self, value: Spanned<DeValue<'_>>) -> Vec<(String, Value, Range<usize>)> {
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.problem(span, "[parameters] must be a table");
            return Vec::new();
        };
        let mut parameters = Vec::new();
        for (key, value) in table {
            let value_span = value.span();
            if let Some(json) = self.json("[parameters]", value) {
                parameters.push((key.get_ref().to_string(), json, value_span));
            }
        }
        parameters
    }

    /// `[[tasks]]`: each task on its own; duplicate names are problems.
    fn tasks(&mut self, value: Spanned<DeValue<'_>>) -> Vec<TaskDef> {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.problem(
                span,
                "tasks must be an array of tables: write each task under [[tasks]]",
            );
            return Vec::new();
        };
        let mut tasks: Vec<TaskDef> = Vec::new();
        let mut names = HashSet::new();
        for item in items.iter().cloned() {
            let named = item
                .get_ref()
                .as_table()
                .and_then(|t| t.get("name"))
                .and_then(|n| n.get_ref().as_str().map(|text| (text.to_owned(), n.span())));
            let mut duplicate = false;
            let section = match &named {
                Some((name, span)) => {
                    if !names.insert(name.clone()) {
                        self.problem(span.clone(), format!("duplicate task name '{name}'"));
                        duplicate = true;
                    }
                    format!("task '{name}':")
                }
                None => "[[tasks]]".to_owned(),
            };
            let Some(raw) = self.read::<RawTask>(&section, item) else {
                continue;
            };
            // A duplicate is still checked, but only the first one is kept.
            if let Some(task) = self.task(raw).filter(|_| !duplicate) {
                tasks.push(task);
            }
        }
        tasks
    }

    /// One task.
    fn task(&mut self, raw: RawTask) -> Option<TaskDef> {
        let before = self.problems.len();
        let name_span = raw.name.span();
        let name = raw.name.get_ref().clone();
        let section = format!("task '{name}':");
        let kind = self.kind(&section, &raw);
        let start_cond = raw
            .start_cond
            .as_ref()
            .and_then(|c| self.condition(&section, "start_cond", c));
        let end_cond = raw
            .end_cond
            .as_ref()
            .and_then(|c| self.condition(&section, "end_cond", c));
        let execution = raw
            .execution
            .as_ref()
            .and_then(|e| match parse_execution(e.get_ref()) {
                Ok(execution) => Some((execution, e.span())),
                Err(error) => {
                    self.problem(e.span(), format!("{section} {}", error.message()));
                    None
                }
            });
        let timeout = match &raw.timeout {
            Some(t) => {
                let timeout = self.duration(&format!("{section} timeout"), t);
                if timeout.is_some_and(|d| d <= TimeDelta::zero()) {
                    self.problem(
                        t.span(),
                        format!("{section} timeout must be more than zero"),
                    );
                }
                timeout
            }
            None => None,
        };
        let parameters_span = raw.parameters.as_ref().map(Spanned::span);
        let parameters = match raw.parameters.map(Spanned::into_inner) {
            None => Map::new(),
            Some(DeValueOwned(Value::Object(map))) => map,
            Some(_) => {
                self.problem(
                    parameters_span.clone().unwrap_or(name_span.clone()),
                    format!("{section} parameters must be a table"),
                );
                Map::new()
            }
        };
        let (kind, kind_span) = kind?;
        if self.problems.len() > before {
            return None;
        }
        Some(TaskDef {
            name,
            name_span,
            kind,
            kind_span,
            start_cond,
            end_cond,
            execution,
            priority: raw.priority,
            flags: Flags {
                disabled: raw.disabled,
                on_startup: raw.on_startup,
                on_shutdown: raw.on_shutdown,
                permanent_task: raw.permanent_task,
                allow_overlap: raw.allow_overlap,
            },
            timeout,
            parameters,
            parameters_span,
        })
    }

    /// What a task runs: its class, or the one of `command`, `code`, `func` given.
    fn kind(&mut self, section: &str, raw: &RawTask) -> Option<(TaskKind, Range<usize>)> {
        let given: Vec<(&str, Range<usize>)> = [
            ("command", raw.command.as_ref().map(Spanned::span)),
            ("code", raw.code.as_ref().map(Spanned::span)),
            ("func", raw.func.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(key, span)| span.map(|s| (key, s)))
        .collect();
        let implied = match given.as_slice() {
            [(key, _)] => *key,
            [] => {
                let at = raw.class.as_ref().map_or(raw.name.span(), Spanned::span);
                self.problem(
                    at,
                    format!("{section} needs command = \"...\", code = \"...\" or func = \"...\""),
                );
                return None;
            }
            [_, (_, second), ..] => {
                self.problem(
                    second.clone(),
                    format!("{section} give only one of command, code and func"),
                );
                return None;
            }
        };
        if let Some(class) = &raw.class {
            let expected = match class.get_ref().as_str() {
                "CommandTask" => "command",
                "CodeTask" => "code",
                "FuncTask" => "func",
                other => {
                    self.problem(
                        class.span(),
                        format!(
                            "{section} unknown class '{other}', expected CommandTask, CodeTask or FuncTask"
                        ),
                    );
                    return None;
                }
            };
            if expected != implied {
                self.problem(
                    class.span(),
                    format!(
                        "{section} a {} needs {expected}, not {implied}",
                        class.get_ref()
                    ),
                );
                return None;
            }
        }
        let cwd = raw.cwd.as_ref().map(|cwd| {
            let path = self.base.join(cwd.get_ref());
            path.to_string_lossy().into_owned()
        });
        let env = raw
            .env
            .as_ref()
            .map(|e| e.get_ref().clone())
            .unwrap_or_default();
        if implied != "code"
            && let Some(lang) = &raw.lang
        {
            self.problem(lang.span(), format!("{section} lang applies to code only"));
        }
        if implied == "func" {
            for (key, span) in [
                ("cwd", raw.cwd.as_ref().map(Spanned::span)),
                ("env", raw.env.as_ref().map(Spanned::span)),
            ] {
                if let Some(span) = span {
                    self.problem(
                        span,
                        format!("{section} {key} applies to command and code only"),
                    );
                }
            }
        }
        match implied {
            "command" => {
                let command = raw.command.as_ref()?;
                let line = match command.get_ref() {
                    toml::Value::String(line) => CommandLine::Shell(line.clone()),
                    toml::Value::Array(items) => {
                        let Some(argv) = items
                            .iter()
                            .map(|item| item.as_str().map(str::to_owned))
                            .collect::<Option<Vec<String>>>()
                        else {
                            self.problem(
                                command.span(),
                                format!(
                                    "{section} command must be a string or an array of strings"
                                ),
                            );
                            return None;
                        };
                        CommandLine::Program(argv)
                    }
                    _ => {
                        self.problem(
                            command.span(),
                            format!("{section} command must be a string or an array of strings"),
                        );
                        return None;
                    }
                };
                let kind = TaskKind::Command {
                    command: line,
                    cwd,
                    env,
                };
                Some((kind, command.span()))
            }
            "code" => {
                let code = raw.code.as_ref()?;
                let kind = TaskKind::Code {
                    code: code.get_ref().clone(),
                    lang: raw
                        .lang
                        .as_ref()
                        .map_or_else(|| "python3".to_owned(), |l| l.get_ref().clone()),
                    cwd,
                    env,
                };
                Some((kind, code.span()))
            }
            _ => {
                let func = raw.func.as_ref()?;
                let kind = TaskKind::Function {
                    func: func.get_ref().clone(),
                };
                Some((kind, func.span()))
            }
        }
    }

    /// A condition; a parse error points into the file and shows the caret.
    fn condition(&mut self, section: &str, key: &str, text: &Spanned<String>) -> Option<Condition> {
        match text.get_ref().parse::<Condition>() {
            Ok(cond) => Some(cond),
            Err(e) => {
                let value = text.span();
                let at = e
                    .span()
                    .and_then(|inner| inner_span(self.source, &value, text.get_ref(), inner))
                    .unwrap_or(value);
                let detail = e
                    .render()
                    .split_once('\n')
                    .map(|(_, caret)| caret.to_owned());
                self.problems.push(Problem {
                    span: Some(at),
                    message: format!("{section} bad {key}: {e}"),
                    detail,
                });
                None
            }
        }
    }

    /// A duration: text (`"30 minutes"`) or seconds (a number, not negative).
    fn duration(&mut self, what: &str, value: &Spanned<toml::Value>) -> Option<TimeDelta> {
        let seconds = match value.get_ref() {
            toml::Value::String(text) => {
                return match parse_duration(text) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        self.problem(value.span(), format!("{what}: {}", e.message()));
                        None
                    }
                };
            }
            toml::Value::Integer(n) => *n as f64,
            toml::Value::Float(f) => *f,
            _ => f64::NAN,
        };
        if !(seconds.is_finite() && (0.0..9.0e9).contains(&seconds)) {
            self.problem(
                value.span(),
                format!("{what} must be a duration text (\"30 minutes\") or a number of seconds"),
            );
            return None;
        }
        Some(TimeDelta::nanoseconds((seconds * 1e9).round() as i64))
    }

    /// A duration that is not negative, as a `std` one.
    fn std_duration(&mut self, what: &str, value: &Spanned<toml::Value>) -> Option<Duration> {
        let d = self.duration(what, value)?;
        match d.to_std() {
            Ok(d) => Some(d),
            Err(_) => {
                self.problem(value.span(), format!("{what} must not be negative"));
                None
            }
        }
    }

    /// A positive integer.
    fn positive(&mut self, what: &str, n: &Spanned<i64>) -> Option<usize> {
        match usize::try_from(*n.get_ref()) {
            Ok(v) if v > 0 => Some(v),
            _ => {
                self.problem(n.span(), format!("{what} must be a positive integer"));
                None
            }
        }
    }

    /// A TOML value as JSON (datetimes as their text).
    fn json(&mut self, section: &str, value: Spanned<DeValue<'_>>) -> Option<Value> {
        let span = value.span();
        match Value::deserialize(ValueDeserializer::from(value)) {
            Ok(json) => Some(plain_json(json)),
            Err(e) => {
                self.problem(
                    e.span().unwrap_or(span),
                    format!("{section} {}", e.message()),
                );
                None
            }
        }
    }
}

/// JSON with toml's datetime wrappers replaced by the datetime's text.
fn plain_json(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(text)) = map.get(TOML_DATETIME)
            {
                return Value::String(text.clone());
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, plain_json(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(plain_json).collect()),
        other => other,
    }
}

/// The message of a toml error, without its position.
fn serde_message(e: &toml::de::Error) -> String {
    e.message().trim_end().to_owned()
}

/// A TOML syntax error as a problem.
fn toml_problem(e: &toml::de::Error, source: &str) -> Problem {
    Problem {
        span: Some(e.span().unwrap_or(source.len()..source.len())),
        message: format!("bad TOML: {}", serde_message(e)),
        detail: None,
    }
}

/// Where `inner` (a byte span of the string value `text`) lies in the file,
/// when the value is written without escapes on one line (`"..."` or `'...'`).
fn inner_span(
    source: &str,
    value: &Range<usize>,
    text: &str,
    inner: Range<usize>,
) -> Option<Range<usize>> {
    let raw = source.get(value.clone())?;
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let body = raw.get(quote..raw.len().checked_sub(quote)?)?;
    (body == text).then(|| value.start + quote + inner.start..value.start + quote + inner.end)
}

/// The 1-based line and column (in characters) of byte `at`.
pub(crate) fn line_column(source: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(source, at);
    let before = source.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The file's line holding `span.start`, with carets under the span.
fn caret(source: &str, span: Range<usize>) -> String {
    let start = floor_char_boundary(source, span.start);
    let line_start = source
        .get(..start)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = source
        .get(start..)
        .and_then(|s| s.find('\n'))
        .map_or(source.len(), |i| start + i);
    let line = source.get(line_start..line_end).unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    let pad = source
        .get(line_start..start)
        .map_or(0, |s| s.chars().count());
    let end = floor_char_boundary(source, span.end.min(line_end).max(start));
    let width = source
        .get(start..end)
        .map_or(1, |s| s.chars().count())
        .max(1);
    format!("  {line}\n  {}{}", " ".repeat(pad), "^".repeat(width))
}

/// The largest char boundary at or before `at` (clamped to the text).
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
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

#[cfg(test)]
mod tests;
