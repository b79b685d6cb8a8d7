//! `engine run`: a session with its scheduler, its HTTP API and its state.
//!
//! Start-up order: the config file, the session (store, zone, config,
//! parameters), the config's tasks, the stored API changes replayed, the
//! scheduler, the API. Shutdown (Ctrl-C or SIGTERM): the API stops accepting
//! and drains, then the scheduler shuts down (on_shutdown tasks, grace,
//! terminate records); a second signal exits at once.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use engine::api::{
    ApiService, AuthDecision, Authenticator, Basic, BearerTokens, BoxFuture, MemoryStore,
    RequestInfo, RequestStore, ServeConfig, SqliteRequestStore, serve,
};
use engine::log::{LogStore, MemoryLogStore, SqliteLogStore};
use engine::session::Config;
use engine::{Scheduler, Session, SystemClock};
use tokio::net::TcpListener;

use super::args::RunArgs;
use super::config::{self, MEMORY, RunConfig, StateChoice};
use super::input::time_zone;
use super::{Failure, Streams};

/// The address served when neither `--host` nor `[api] host` says otherwise.
const DEFAULT_HOST: &str = "127.0.0.1";

/// The port served when neither `--port` nor `[api] port` says otherwise.
const DEFAULT_PORT: u16 = 5000;

/// The state directory when neither `--state` nor `[state] dir` says otherwise.
const DEFAULT_STATE: &str = ".engine";

/// The task log's file in the state directory.
const LOG_FILE: &str = "log.sqlite";

/// The API request store's file in the state directory.
const REQUESTS_FILE: &str = "requests.sqlite";

/// The lock file that keeps a second engine off the same state directory.
const LOCK_FILE: &str = "lock";

/// Runs `engine run`.
pub(crate) fn run(args: RunArgs, streams: &mut Streams<'_>) -> Result<(), Failure> {
    let env = |name: &str| std::env::var(name).ok();
    let mut loaded = match &args.config {
        Some(path) => Some(config::load(path, &env).map_err(Failure::Input)?),
        None => None,
    };
    let (config, mut problems) = match &mut loaded {
        Some(loaded) => (
            std::mem::take(&mut loaded.config),
            std::mem::take(&mut loaded.problems),
        ),
        None => (RunConfig::default(), Vec::new()),
    };
    let file_problems = |problems: Vec<config::Problem>| match &loaded {
        Some(loaded) => Failure::Inputs(loaded.render(&problems)),
        None => Failure::Inputs(problems.into_iter().map(|p| p.message).collect()),
    };
    let host = exposed_host(&args, &config).unwrap_or_else(|problem| {
        problems.push(problem);
        String::new()
    });
    let session_config = session_config(&config)?;
    // The tasks are built in a throwaway in-memory session first, so a bad
    // config stops everything before any state is touched.
    let scratch = Session::with_config(
        Arc::new(MemoryLogStore::default()),
        Arc::new(SystemClock),
        session_config.clone(),
    );
    problems.extend(config::apply(&config, &scratch));
    if !problems.is_empty() {
        return Err(file_problems(problems));
    }
    if args.check {
        let n = config.tasks.len();
        writeln!(streams.out, "ok: {n} task{}", if n == 1 { "" } else { "s" })?;
        return Ok(());
    }

    init_tracing(args.verbose);
    let state = match (&args.state, &config.state) {
        (Some(text), _) => StateChoice::parse(text, None),
        (None, Some(state)) => state.clone(),
        (None, None) => StateChoice::Dir(PathBuf::from(DEFAULT_STATE)),
    };
    let port = args.port.or(config.api.port).unwrap_or(DEFAULT_PORT);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve_session(Plan {
        config,
        session_config,
        state,
        host,
        port,
        file_problems: &file_problems,
        out: streams.out,
    }))
}

/// Everything `serve_session` needs.
struct Plan<'a> {
    config: RunConfig,
    session_config: Config,
    state: StateChoice,
    host: String,
    port: u16,
    file_problems: &'a dyn Fn(Vec<config::Problem>) -> Failure,
    out: &'a mut dyn Write,
}

/// Builds the session, replays, starts the scheduler, serves until a signal.
async fn serve_session(plan: Plan<'_>) -> Result<(), Failure> {
    let Plan {
        config,
        session_config,
        state,
        host,
        port,
        file_problems,
        out,
    } = plan;
    // The address first: a port in use fails before any state is touched.
    let bind = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {bind}: {e}")))?;
    let local: SocketAddr = listener
        .local_addr()
        .map_err(|e| Failure::Runtime(format!("cannot read the listening address: {e}")))?;
    let opened = open_state(&state)?;
    let session = Session::with_config(opened.log, Arc::new(SystemClock), session_config);
    let problems = config::apply(&config, &session);
    if !problems.is_empty() {
        return Err(file_problems(problems));
    }
    tracing::info!(
        tasks = config.tasks.len(),
        parameters = config.parameters.len(),
        "session ready"
    );

    let mut api = ApiService::new(session.clone()).with_store(opened.requests);
    if let Some(limit) = config.api.body_limit {
        api = api.with_body_limit(limit);
    }
    if config.api.has_auth() {
        api = api.with_authenticator(Arc::new(Credentials::new(&config.api)));
    }
    let replayed = api
        .replay()
        .await
        .map_err(|e| Failure::Runtime(format!("cannot replay the stored API changes: {e}")))?;
    if replayed.skipped > 0 {
        tracing::warn!(
            skipped = replayed.skipped,
            "some stored API changes no longer apply"
        );
    }

    let mut signals =
        Signals::new().map_err(|e| Failure::Runtime(format!("cannot listen for signals: {e}")))?;

    // The scheduler runs until told to stop, after the API has drained.
    let (stop_scheduler, scheduler_stop) = tokio::sync::oneshot::channel::<()>();
    let (scheduler_ended, mut scheduler_end) = tokio::sync::oneshot::channel::<()>();
    let scheduler = Scheduler::new(session.clone());
    let scheduler = tokio::spawn(async move {
        let result = scheduler
            .run(async {
                let _ = scheduler_stop.await;
            })
            .await;
        let _ = scheduler_ended.send(());
        result
    });

    // A closed stdout (a daemon, `| head -1` gone) must not stop the engine.
    let ready = writeln!(
        out,
        "engine: API on http://{local}, state in {} ({})",
        opened.shown, opened.kind
    )
    .and_then(|()| out.flush());
    if let Err(error) = ready {
        tracing::warn!(%error, "cannot print the ready line");
    }
    tracing::info!(address = %local, state = %opened.shown, "engine ready");

    let shutdown = async move {
        tokio::select! {
            signal = signals.recv() => {
                tracing::info!(signal, "shutting down: draining the API, then the scheduler");
                tokio::spawn(async move {
                    let signal = signals.recv().await;
                    tracing::warn!(signal, "second signal: exiting now");
                    std::process::exit(130);
                });
            }
            _ = &mut scheduler_end => {
                tracing::error!("the scheduler stopped; shutting the API down");
            }
        }
    };
    let served = serve(listener, api, serve_config(&config), shutdown).await;
    let _ = stop_scheduler.send(());
    let scheduled = scheduler.await;
    served.map_err(|e| Failure::Runtime(format!("the API failed: {e}")))?;
    match scheduled {
        Ok(Ok(stats)) => {
            tracing::info!(
                runs_started = stats.runs_started,
                runs_finished = stats.runs_finished,
                "stopped"
            );
            Ok(())
        }
        Ok(Err(e)) => Err(Failure::Runtime(format!("the scheduler stopped: {e}"))),
        Err(e) => Err(Failure::Runtime(format!("the scheduler failed: {e}"))),
    }
}

/// The session configuration: the machine's zone, then `[session]`.
fn session_config(config: &RunConfig) -> Result<Config, Failure> {
    let defaults = Config {
        timezone: time_zone(None)?,
        ..Config::default()
    };
    Ok(defaults.patched(&config.session))
}

/// The host to listen on; refused when it is not a loopback address, no
/// credentials are configured and `allow_unauthenticated_remote` is not set.
fn exposed_host(args: &RunArgs, config: &RunConfig) -> Result<String, config::Problem> {
    let (host, span) = match (&args.host, &config.api.host) {
        (Some(host), _) => (host.clone(), None),
        (None, Some((host, span))) => (host.clone(), Some(span.clone())),
        (None, None) => (DEFAULT_HOST.to_owned(), None),
    };
    if config.api.has_auth()
        || config.api.allow_unauthenticated_remote
        || config::is_loopback(&host)
    {
        return Ok(host);
    }
    let message = format!(
        "refusing to listen on {host} without authentication: anyone who can reach it could run \
         commands; add [[api.tokens]] or [[api.users]], listen on 127.0.0.1, or set \
         allow_unauthenticated_remote = true in [api]"
    );
    Err(config::Problem {
        span,
        message,
        detail: None,
    })
}

/// How the API is served.
fn serve_config(config: &RunConfig) -> ServeConfig {
    let api = &config.api;
    let mut serve =
        ServeConfig::default().allow_unauthenticated_remote(api.allow_unauthenticated_remote);
    if let Some(timeout) = api.header_timeout {
        serve = serve.with_header_read_timeout(timeout);
    }
    if let Some(timeout) = api.body_timeout {
        serve = serve.with_body_read_timeout(timeout);
    }
    if let Some(timeout) = api.write_timeout {
        serve = serve.with_write_timeout(timeout);
    }
    if let Some(max) = api.max_connections {
        serve = serve.with_max_connections(max);
    }
    if let Some(grace) = api.shutdown_grace {
        serve = serve.with_shutdown_grace(grace);
    }
    serve
}

/// The opened state: the task log, the request store, and how to name them.
struct Opened {
    /// Held for the life of the process: one engine per state directory.
    _lock: Option<std::fs::File>,
    log: Arc<dyn LogStore>,
    requests: Arc<dyn RequestStore>,
    shown: String,
    kind: &'static str,
}

/// Opens (creating) the state directory's SQLite files, or memory stores.
fn open_state(state: &StateChoice) -> Result<Opened, Failure> {
    match state {
        StateChoice::Memory => Ok(Opened {
            _lock: None,
            log: Arc::new(MemoryLogStore::default()),
            requests: Arc::new(MemoryStore::default()),
            shown: MEMORY.to_owned(),
            kind: "memory",
        }),
        StateChoice::Dir(dir) => {
            let shown = dir.display().to_string();
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::Runtime(format!("cannot create the state directory {shown}: {e}"))
            })?;
            let lock = lock_state_dir(dir)?;
            let log = SqliteLogStore::open(dir.join(LOG_FILE))
                .map_err(|e| Failure::Runtime(format!("cannot open the task log: {e}")))?;
            let requests = SqliteRequestStore::open(dir.join(REQUESTS_FILE))
                .map_err(|e| Failure::Runtime(format!("cannot open the API request store: {e}")))?;
            Ok(Opened {
                _lock: Some(lock),
                log: Arc::new(log),
                requests: Arc::new(requests),
                shown,
                kind: "sqlite",
            })
        }
    }
}

/// Takes the state directory's exclusive lock (`DIR/lock`), so two engines
/// never run the same tasks from one state. The operating system releases it
/// when the process ends, also on `kill -9`.
fn lock_state_dir(dir: &std::path::Path) -> Result<std::fs::File, Failure> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            Failure::Runtime(format!("cannot open the lock file {}: {e}", path.display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::Runtime(format!(
            "the state directory {} is in use by another engine (it holds {})",
            dir.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::Runtime(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// Installs the stderr log: `RUST_LOG` when set, else info (-v debug, -vv
/// trace) for the engine's crates and warn for the rest.
fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let fallback = || {
        EnvFilter::new(format!(
            "warn,engine={level},engine_core={level},engine_api={level}"
        ))
    };
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => match EnvFilter::try_new(&text) {
            Ok(filter) => (filter, None),
            Err(e) => (fallback(), Some(format!("ignoring RUST_LOG={text}: {e}"))),
        },
        _ => (fallback(), None),
    };
    // Only fails when a subscriber is installed already; then that one logs.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
    if let Some(bad) = bad {
        tracing::warn!("{bad}");
    }
}

/// Bearer tokens and Basic users together: a request with `Authorization:
/// Basic` is checked against the users, any other against the tokens (or the
/// users, when there are no tokens).
struct Credentials {
    bearer: BearerTokens,
    basic: Basic,
}

impl Credentials {
    fn new(api: &config::ApiSettings) -> Credentials {
        let bearer = api
            .tokens
            .iter()
            .fold(BearerTokens::default(), |auth, (token, scopes)| {
                auth.with_token(token, *scopes)
            });
        let basic = api
            .users
            .iter()
            .fold(Basic::default(), |auth, (user, password, scopes)| {
                auth.with_user(user, password, *scopes)
            });
        Credentials { bearer, basic }
    }
}

impl Authenticator for Credentials {
    fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
        let says_basic = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim_start().split_once(' '))
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"));
        if self.bearer.is_empty() || (says_basic && !self.basic.is_empty()) {
            self.basic.authenticate(request)
        } else {
            self.bearer.authenticate(request)
        }
    }
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), registered up front so a signal that
/// arrives right after the ready line is not lost.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Waits for the next signal and names it.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
