//! The load test: `engine run` with many short-period command tasks, and many
//! keep-alive connections of mixed reads and writes against its HTTP API for a
//! fixed time; then the figures: requests served and failed, latency per
//! request kind, and the scheduler's due-to-run delay taken from the task log.
//!
//! # The session
//!
//! `tasks` command tasks running `true` (a program, no shell), named `job0`,
//! `job1` ...: 1 % of them `every 1 second`, 2 % `every 2 seconds`, 5 % `every 5
//! seconds`, and the rest spread over `every 10 seconds` to `every 15 seconds`,
//! about 100 runs per second for 1,000 tasks on a two-core machine. The state
//! is durable (SQLite task log and request store in a fresh directory), the
//! session zone UTC.
//!
//! By default the test starts in a steady state: before the engine starts,
//! the task log gets one earlier run of each task, ended at a random moment
//! of its last period, so runs come due spread evenly (about one every 10 ms)
//! as in a session that has been running for a while. With `synchronized`
//! every task first runs at start-up; tasks of periods with a common multiple
//! then come due together (bursts of hundreds of runs at 30 s and 60 s), where
//! the session's `max_concurrent_runs` (64) makes runs wait for a slot.
//!
//! # The load
//!
//! `connections` HTTP/1.1 keep-alive connections, one request at a time each,
//! after a warm-up (the first runs of every task start together). Each request
//! is drawn at random: `GET /tasks/{name}` (40 %), `GET /tasks?name$regex=...`
//! (about ten tasks, 10 %), `GET /logs` over a one-second window of the last
//! seconds (15 %), `PATCH /tasks/{name}` of the priority (20 %), `PATCH
//! /parameters` (15 %). Any non-2xx answer and any transport error counts as
//! failed. Only 127.0.0.1 is used, and the test stops by itself.
//!
//! # The scheduler delay
//!
//! For an `every d` task, a run may start as soon as `d` has passed since the
//! previous run ended, so the delay of a run is `run.timestamp - (previous
//! end.timestamp + d)`. It is read from the task log after the load, for the
//! runs that started during the load.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::{Rng, Server, try_http};

/// How a load test runs.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The `engine` binary.
    pub engine: PathBuf,
    /// The directory for the config and the state (created).
    pub dir: PathBuf,
    /// How long the load lasts.
    pub duration: Duration,
    /// Time between the engine's start and the load (not measured).
    pub warmup: Duration,
    /// Keep-alive connections.
    pub connections: usize,
    /// Tasks in the session.
    pub tasks: usize,
    /// The seed of the random request mix.
    pub seed: u64,
    /// How often each kind of request is drawn.
    pub mix: Mix,
    /// Start with every task due at once instead of in a steady state.
    pub synchronized: bool,
}

/// Relative weights of the request kinds, in the order of [`Kind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix(pub [u32; 5]);

impl Default for Mix {
    /// 40 % single-task reads, 10 % filtered lists, 15 % log windows, 20 % task
    /// patches, 15 % parameter patches.
    fn default() -> Mix {
        Mix([40, 10, 15, 20, 15])
    }
}

impl Mix {
    /// Reads `get=40,list=10,logs=15,patch=20,params=15` (kinds left out weigh 0).
    ///
    /// # Errors
    ///
    /// An unknown kind, a weight that is not a number, or all weights 0.
    pub fn parse(text: &str) -> Result<Mix, String> {
        let mut weights = [0u32; 5];
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("expected KIND=WEIGHT, not '{part}'"))?;
            let kind = Kind::ALL
                .iter()
                .position(|k| k.short() == name.trim())
                .ok_or_else(|| {
                    format!("unknown request kind '{name}' (get, list, logs, patch, params)")
                })?;
            weights[kind] = weight
                .trim()
                .parse()
                .map_err(|_| format!("weight of '{name}' is not a number: '{weight}'"))?;
        }
        if weights.iter().all(|w| *w == 0) {
            return Err("every weight is 0".to_owned());
        }
        Ok(Mix(weights))
    }

    /// A kind drawn with these weights.
    fn draw(&self, rng: &mut Rng) -> Kind {
        let total: u64 = self.0.iter().map(|w| u64::from(*w)).sum();
        let mut roll = rng.below(total);
        for (kind, weight) in Kind::ALL.iter().zip(self.0) {
            if roll < u64::from(weight) {
                return *kind;
            }
            roll -= u64::from(weight);
        }
        Kind::GetTask
    }
}

/// The kinds of requests, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `GET /tasks/{name}`.
    GetTask,
    /// `GET /tasks?name$regex=...`.
    ListTasks,
    /// `GET /logs` over a one-second window.
    Logs,
    /// `PATCH /tasks/{name}` with a new priority.
    PatchTask,
    /// `PATCH /parameters`.
    PatchParams,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 5] = [
        Kind::GetTask,
        Kind::ListTasks,
        Kind::Logs,
        Kind::PatchTask,
        Kind::PatchParams,
    ];

    /// The name `--mix` uses: `get`, `list`, `logs`, `patch`, `params`.
    pub fn short(self) -> &'static str {
        match self {
            Kind::GetTask => "get",
            Kind::ListTasks => "list",
            Kind::Logs => "logs",
            Kind::PatchTask => "patch",
            Kind::PatchParams => "params",
        }
    }

    /// The request as the report shows it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::GetTask => "GET /tasks/{name}",
            Kind::ListTasks => "GET /tasks?name$regex=..",
            Kind::Logs => "GET /logs (1 s window)",
            Kind::PatchTask => "PATCH /tasks/{name}",
            Kind::PatchParams => "PATCH /parameters",
        }
    }
}

/// Latency figures of one request kind.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Requests answered with a 2xx.
    pub served: u64,
    /// Requests that failed (non-2xx or transport error).
    pub failed: u64,
    /// Median latency of the served requests.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// The slowest.
    pub max: Duration,
}

/// What a load test measured.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Tasks in the session.
    pub tasks: usize,
    /// Connections.
    pub connections: usize,
    /// The measured time.
    pub duration: Duration,
    /// Per request kind.
    pub latency: Vec<(Kind, Latency)>,
    /// The first few failures, as text.
    pub failures: Vec<String>,
    /// Runs started during the load.
    pub runs: u64,
    /// Runs whose delay was measured (those after an earlier run of the task).
    pub delays_measured: u64,
    /// Scheduler delay, median.
    pub delay_p50: Duration,
    /// Scheduler delay, 99th percentile.
    pub delay_p99: Duration,
    /// Scheduler delay, the largest.
    pub delay_max: Duration,
    /// Runs that ended `fail` or `terminate` during the load.
    pub failed_runs: u64,
}

impl LoadReport {
    /// Requests served, all kinds.
    pub fn served(&self) -> u64 {
        self.latency.iter().map(|(_, l)| l.served).sum()
    }

    /// Requests failed, all kinds.
    pub fn failed(&self) -> u64 {
        self.latency.iter().map(|(_, l)| l.failed).sum()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.duration.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "{} tasks, {} connections, {:.0} s: {} requests served ({:.0}/s), {} failed",
            self.tasks,
            self.connections,
            secs,
            self.served(),
            self.served() as f64 / secs,
            self.failed()
        )?;
        writeln!(
            f,
            "| request | served | failed | p50 | p99 | max |\n|---|---|---|---|---|---|"
        )?;
        for (kind, l) in &self.latency {
            writeln!(
                f,
                "| `{}` | {} | {} | {} | {} | {} |",
                kind.label(),
                l.served,
                l.failed,
                ms(l.p50),
                ms(l.p99),
                ms(l.max)
            )?;
        }
        writeln!(
            f,
            "runs during the load: {} ({:.0}/s), {} failed or terminated",
            self.runs,
            self.runs as f64 / secs,
            self.failed_runs
        )?;
        write!(
            f,
            "scheduler delay (run start - (previous end + period)), {} runs: p50 {}, p99 {}, max {}",
            self.delays_measured,
            ms(self.delay_p50),
            ms(self.delay_p99),
            ms(self.delay_max)
        )?;
        for failure in &self.failures {
            write!(f, "\nfailure: {failure}")?;
        }
        Ok(())
    }
}

/// A duration in milliseconds with two decimals.
fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The period of task `i` of `n`, in seconds (see the module docs).
pub fn period_of(i: usize, n: usize) -> u64 {
    let share = |percent: usize| n * percent / 100;
    if i < share(1) {
        1
    } else if i < share(3) {
        2
    } else if i < share(8) {
        5
    } else {
        10 + (i % 6) as u64
    }
}

/// Runs the load test (see the module docs).
///
/// # Errors
///
/// The engine cannot be started or its log cannot be read afterwards.
pub fn run(config: &LoadConfig) -> Result<LoadReport, String> {
    std::fs::create_dir_all(&config.dir)
        .map_err(|e| format!("cannot create {}: {e}", config.dir.display()))?;
    let mut text = String::from("[session]\ntimezone = \"UTC\"\n");
    for i in 0..config.tasks {
        text.push_str(&format!(
            "\n[[tasks]]\nname = \"job{i}\"\ncommand = [\"true\"]\nstart_cond = \"every {} seconds\"\n",
            period_of(i, config.tasks)
        ));
    }
    let file = config.dir.join("load.toml");
    std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let state = config.dir.join("state");
    if !config.synchronized {
        seed_log(&state, config.tasks, config.seed)?;
    }
    let args = [
        file.to_string_lossy().into_owned(),
        "--port".to_owned(),
        "0".to_owned(),
        "--state".to_owned(),
        state.to_string_lossy().into_owned(),
    ];
    let server = Server::start_binary(&config.engine, &args, &[("RUST_LOG", "warn")]);
    std::thread::sleep(config.warmup);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the client runtime: {e}"))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], server.port));
    let load_start = unix_now();
    let began = Instant::now();
    let results = runtime.block_on(load(addr, config));
    let elapsed = began.elapsed();
    let load_end = unix_now();

    let mut report = LoadReport {
        tasks: config.tasks,
        connections: config.connections,
        duration: elapsed,
        ..LoadReport::default()
    };
    let mut by_kind: HashMap<Kind, (Vec<Duration>, u64)> = HashMap::new();
    for result in results {
        for (kind, latency) in result.latencies {
            by_kind.entry(kind).or_default().0.push(latency);
        }
        for (kind, failure) in result.failures {
            by_kind.entry(kind).or_default().1 += 1;
            if report.failures.len() < 10 {
                report.failures.push(failure);
            }
        }
    }
    for kind in Kind::ALL {
        let (mut latencies, failed) = by_kind.remove(&kind).unwrap_or_default();
        latencies.sort_unstable();
        report.latency.push((
            kind,
            Latency {
                served: latencies.len() as u64,
                failed,
                p50: quantile(&latencies, 0.50),
                p99: quantile(&latencies, 0.99),
                max: latencies.last().copied().unwrap_or_default(),
            },
        ));
    }

    let (status, records) = try_http(server.port, "GET", "/logs", None, Duration::from_secs(120))?;
    let Value::Array(records) = records else {
        return Err(format!("GET /logs after the load: {status}"));
    };
    measure_delays(&records, config.tasks, (load_start, load_end), &mut report);
    drop(server);
    Ok(report)
}

/// Writes one earlier run of each task into the task log under `state`, ended
/// at a random moment of the task's last period (see the module docs).
fn seed_log(state: &std::path::Path, tasks: usize, seed: u64) -> Result<(), String> {
    use engine_core::log::{Action, LogRecord, LogStore, SqliteLogStore};
    std::fs::create_dir_all(state)
        .map_err(|e| format!("cannot create {}: {e}", state.display()))?;
    let store = SqliteLogStore::open(state.join("log.sqlite")).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let mut rng = Rng::new(seed ^ 0x5EED);
    let mut records = Vec::with_capacity(2 * tasks);
    for i in 0..tasks {
        let period_ms = period_of(i, tasks) * 1000;
        let ago = i64::try_from(rng.below(period_ms)).unwrap_or(0);
        let end = now - chrono::TimeDelta::milliseconds(ago);
        let start = end - chrono::TimeDelta::milliseconds(5);
        let name = format!("job{i}");
        let mut run = LogRecord::new(name.clone(), Action::Run, start);
        run.start = Some(start);
        let mut success = LogRecord::new(name, Action::Success, end);
        success.start = Some(start);
        success.end = Some(end);
        success.runtime = Some(end - start);
        records.extend([run, success]);
    }
    // In time order, as the engine would have written them.
    records.sort_by_key(|r| r.timestamp);
    store.append_batch(records).map_err(|e| e.to_string())
}

/// The scheduler delays of the runs that started in `window` (Unix seconds).
fn measure_delays(records: &[Value], tasks: usize, window: (f64, f64), report: &mut LoadReport) {
    let mut last_end: HashMap<&str, f64> = HashMap::new();
    let mut delays = Vec::new();
    for record in records {
        let (Some(name), Some(action), Some(at)) = (
            record["task_name"].as_str(),
            record["action"].as_str(),
            record["created"].as_f64(),
        ) else {
            continue;
        };
        let inside = at >= window.0 && at <= window.1;
        if action == "run" {
            if !inside {
                continue;
            }
            report.runs += 1;
            let period = name
                .strip_prefix("job")
                .and_then(|i| i.parse::<usize>().ok())
                .map(|i| period_of(i, tasks) as f64);
            if let (Some(end), Some(period)) = (last_end.get(name), period) {
                let delay = (at - (end + period)).max(0.0);
                delays.push(Duration::from_secs_f64(delay));
            }
        } else {
            last_end.insert(name, at);
            if inside && (action == "fail" || action == "terminate") {
                report.failed_runs += 1;
            }
        }
    }
    delays.sort_unstable();
    report.delays_measured = delays.len() as u64;
    report.delay_p50 = quantile(&delays, 0.50);
    report.delay_p99 = quantile(&delays, 0.99);
    report.delay_max = delays.last().copied().unwrap_or_default();
}

/// The `q` quantile of sorted `values` (nearest rank; zero when empty).
fn quantile(values: &[Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((values.len() as f64) * q).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// Seconds since the Unix epoch.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What one connection saw.
#[derive(Default)]
struct ConnResult {
    latencies: Vec<(Kind, Duration)>,
    failures: Vec<(Kind, String)>,
}

/// Runs every connection until the end of the load.
async fn load(addr: SocketAddr, config: &LoadConfig) -> Vec<ConnResult> {
    let end = Instant::now() + config.duration;
    let mut seeds = Rng::new(config.seed);
    let workers: Vec<_> = (0..config.connections)
        .map(|_| {
            let rng = Rng::new(seeds.next_u64());
            tokio::spawn(connection(addr, end, config.tasks, config.mix, rng))
        })
        .collect();
    if workers.is_empty() {
        // No connections: the scheduler alone, for a baseline.
        tokio::time::sleep_until(end.into()).await;
    }
    let mut results = Vec::new();
    for worker in workers {
        match worker.await {
            Ok(result) => results.push(result),
            Err(e) => results.push(ConnResult {
                latencies: Vec::new(),
                failures: vec![(Kind::GetTask, format!("a connection task failed: {e}"))],
            }),
        }
    }
    results
}

/// One keep-alive connection (reconnecting after a transport error).
async fn connection(
    addr: SocketAddr,
    end: Instant,
    tasks: usize,
    mix: Mix,
    mut rng: Rng,
) -> ConnResult {
    let mut result = ConnResult::default();
    let mut sender: Option<http1::SendRequest<Full<Bytes>>> = None;
    while Instant::now() < end {
        let (kind, method, path, body) = random_request(&mut rng, tasks, &mix);
        let started = Instant::now();
        if sender.is_none() {
            match connect(addr).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    result.failures.push((kind, format!("connect: {e}")));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(open) = sender.as_mut() else {
            continue;
        };
        match exchange(open, method, &path, body).await {
            Ok((status, _)) if (200..300).contains(&status) => {
                result.latencies.push((kind, started.elapsed()));
            }
            Ok((status, answer)) => {
                result
                    .failures
                    .push((kind, format!("{method} {path}: {status} {answer}")));
            }
            Err(e) => {
                result
                    .failures
                    .push((kind, format!("{method} {path}: {e}")));
                sender = None;
            }
        }
    }
    result
}

/// A new keep-alive connection.
async fn connect(addr: SocketAddr) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One request on `sender`: the status and the body as text.
async fn exchange(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, String), String> {
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1")
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// A random request of the mix (see the module docs).
fn random_request(
    rng: &mut Rng,
    tasks: usize,
    mix: &Mix,
) -> (Kind, &'static str, String, Option<String>) {
    let tasks = u64::try_from(tasks.max(1)).unwrap_or(1);
    let task = rng.below(tasks);
    match mix.draw(rng) {
        Kind::GetTask => (Kind::GetTask, "GET", format!("/tasks/job{task}"), None),
        Kind::ListTasks => {
            // `job12[0-9]$`: job120 to job129, ten tasks.
            let prefix = 1 + rng.below((tasks / 10).saturating_sub(1));
            let path = format!("/tasks?name$regex=job{prefix}%5B0-9%5D%24");
            (Kind::ListTasks, "GET", path, None)
        }
        Kind::Logs => {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let from = utc_text(now.saturating_sub(2));
            let to = utc_text(now.saturating_sub(1));
            (
                Kind::Logs,
                "GET",
                format!("/logs?timestamp$min={from}&timestamp$max={to}"),
                None,
            )
        }
        Kind::PatchTask => (
            Kind::PatchTask,
            "PATCH",
            format!("/tasks/job{task}"),
            Some(format!("{{\"priority\": {}}}", rng.below(10))),
        ),
        Kind::PatchParams => (
            Kind::PatchParams,
            "PATCH",
            "/parameters".to_owned(),
            Some(format!("{{\"p{}\": {}}}", rng.below(20), rng.below(1000))),
        ),
    }
}

/// `YYYY-MM-DD%20HH:MM:SS` (UTC, the space percent-encoded) for Unix second `secs`.
fn utc_text(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}%20{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
