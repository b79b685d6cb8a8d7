//! The crash test: `engine run` on one state directory is killed with SIGKILL
//! at random moments while a client streams changes over HTTP and tasks run,
//! and after every restart the state is checked against what the client was
//! told.
//!
//! # What is checked after each restart
//!
//! - **Acknowledged changes**: the client keeps a model of every change that got
//!   a 2xx (for each task of a pool, its last acknowledged definition or its
//!   deletion; for each parameter, its last acknowledged value). The tasks and
//!   parameters the restarted engine shows must equal the model exactly. The
//!   one change whose answer never arrived (the client sends one change at a
//!   time) may or may not be applied: the state must equal the model without
//!   it or with it, nothing else, and the model follows what was found.
//! - **Reported records**: every log record seen in a `GET /logs` before the
//!   kill is still there, in the same order, with the same fields (the records
//!   seen are a prefix of the log after the restart, since the log only grows).
//! - **Runs end once**: each task of the config (which never overlap) has its
//!   records alternate `run`, end, `run`, end ...; a run cut by the kill ends
//!   with the `crash` record written at the next start-up.
//! - **`daily` runs once a day**: the `daily` task has one `run` record per
//!   local day, plus one more for each of its runs that ended in `crash` (a
//!   crashed run does not count as done, so `daily` starts it again).
//!
//! The session's time zone is chosen so that the local time is about noon when
//! the test starts ([`noon_zone`]): the daily check cannot straddle a midnight.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::{Rng, Server, noon_zone, try_http};

/// How long one request may take before the client gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The tasks the client creates, changes and deletes.
const POOL: &[&str] = &["t0", "t1", "t2", "t3", "t4", "t5"];

/// The parameters the client sets.
const PARAMS: &[&str] = &["p0", "p1", "p2", "p3"];

/// Start conditions of pool tasks (canonical text, as the API shows them).
const CONDITIONS: &[&str] = &[
    "every 2 seconds",
    "every 5 seconds",
    "false",
    "daily",
    "time of day between 03:00 and 03:01",
];

/// Commands of pool tasks.
const COMMANDS: &[&str] = &["true", "sleep 0.2"];

/// The config's tasks: name, command, start condition.
const FIXED: &[(&str, &str, &str)] = &[
    ("ticker", "true", "every 1 second"),
    ("sleeper", "sleep 0.2", "every 1 second"),
    ("nightly", "true", "daily"),
];

/// The config task with the `daily` condition.
const DAILY: &str = "nightly";

/// How a crash test runs.
#[derive(Debug, Clone)]
pub struct CrashConfig {
    /// The `engine` binary.
    pub engine: PathBuf,
    /// The state directory (created; it should not exist or be empty).
    pub state: PathBuf,
    /// How many times the engine is killed (each kill is followed by a restart
    /// and the checks).
    pub kills: usize,
    /// The seed of the random choices (changes, kill moments).
    pub seed: u64,
    /// How long the engine lives before it is killed: a random time in this range.
    pub uptime: (Duration, Duration),
}

/// What a crash test did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrashReport {
    /// Kills survived: after each, the restarted engine passed every check.
    pub kills: usize,
    /// Changes that got a 2xx (all found after the restarts).
    pub acknowledged: u64,
    /// Changes whose answer never arrived because of a kill.
    pub unanswered: u64,
    /// Of those, the ones found applied after the restart.
    pub unanswered_applied: u64,
    /// Log records seen before a kill and found again after it (summed over kills).
    pub records_checked: u64,
    /// Records in the log at the end.
    pub records_total: u64,
    /// `crash` records written at start-ups (runs cut by a kill).
    pub crash_records: u64,
    /// `run` records of the `daily` task.
    pub daily_runs: u64,
    /// The time zone the session ran in.
    pub zone: String,
    /// How long the test took.
    pub elapsed: Duration,
}

impl fmt::Display for CrashReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "kills survived:            {}", self.kills)?;
        writeln!(
            f,
            "acknowledged changes:      {} (every one found after the restarts)",
            self.acknowledged
        )?;
        writeln!(
            f,
            "unanswered changes:        {} ({} found applied, {} not)",
            self.unanswered,
            self.unanswered_applied,
            self.unanswered - self.unanswered_applied
        )?;
        writeln!(
            f,
            "reported records checked:  {} (seen before a kill, found after it)",
            self.records_checked
        )?;
        writeln!(
            f,
            "log records at the end:    {} ({} crash records for runs cut by a kill)",
            self.records_total, self.crash_records
        )?;
        writeln!(
            f,
            "daily task runs:           {} (session zone {})",
            self.daily_runs, self.zone
        )?;
        write!(f, "time:                      {:.1?}", self.elapsed)
    }
}

/// Runs the crash test and returns its figures, or the first violation found
/// (with the seed, so it can be repeated).
///
/// # Errors
///
/// A check failed, the engine did not start, or a request got an answer the
/// model does not allow (the message says which).
pub fn run(config: &CrashConfig) -> Result<CrashReport, String> {
    let started = Instant::now();
    let zone = noon_zone();
    std::fs::create_dir_all(&config.state)
        .map_err(|e| format!("cannot create {}: {e}", config.state.display()))?;
    let config_file = write_config(&config.state, &zone)?;
    let state_dir = config.state.join("state");
    let args = [
        config_file.to_string_lossy().into_owned(),
        "--port".to_owned(),
        "0".to_owned(),
        "--state".to_owned(),
        state_dir.to_string_lossy().into_owned(),
    ];
    let mut rng = Rng::new(config.seed);
    let mut client = Client::default();
    let mut report = CrashReport {
        zone,
        ..CrashReport::default()
    };
    let fail = |round: usize, message: String| {
        format!(
            "crash test (seed {}) after kill {round}: {message}",
            config.seed
        )
    };
    let mut server = Server::start_binary(&config.engine, &args, &[]);
    for round in 0..=config.kills {
        if round > 0 {
            // A restart: check everything before changing anything.
            let checked = client
                .check_restart(server.port)
                .map_err(|e| fail(round, format!("{e}\nengine stderr:\n{}", server.stderr())))?;
            report.records_checked += checked;
            report.kills = round;
        }
        if round == config.kills {
            break;
        }
        let uptime = rng.between(config.uptime.0, config.uptime.1);
        let stop = Arc::new(AtomicBool::new(false));
        let mut stream = Stream {
            port: server.port,
            client: std::mem::take(&mut client),
            rng: Rng::new(rng.next_u64()),
            stop: Arc::clone(&stop),
        };
        let worker = std::thread::spawn(move || {
            let result = stream.run();
            (stream.client, result)
        });
        std::thread::sleep(uptime);
        server.kill();
        stop.store(true, Ordering::SeqCst);
        let (back, result) = worker
            .join()
            .map_err(|_| fail(round, "the client thread panicked".to_owned()))?;
        client = back;
        result.map_err(|e| fail(round, e))?;
        server = Server::start_binary(&config.engine, &args, &[]);
    }
    let records = logs(server.port)?;
    report.records_total = records.len() as u64;
    report.crash_records = records.iter().filter(|r| r["action"] == "crash").count() as u64;
    report.daily_runs = records
        .iter()
        .filter(|r| r["task_name"] == DAILY && r["action"] == "run")
        .count() as u64;
    report.acknowledged = client.acknowledged;
    report.unanswered = client.unanswered_total;
    report.unanswered_applied = client.unanswered_applied;
    report.elapsed = started.elapsed();
    if report.daily_runs == 0 {
        return Err(format!(
            "crash test (seed {}): the daily task never ran",
            config.seed
        ));
    }
    drop(server);
    Ok(report)
}

/// Writes the config (zone and fixed tasks) into `dir`; returns its path.
fn write_config(dir: &Path, zone: &str) -> Result<PathBuf, String> {
    let mut text = format!("[session]\ntimezone = \"{zone}\"\n");
    for (name, command, cond) in FIXED {
        text.push_str(&format!(
            "\n[[tasks]]\nname = \"{name}\"\ncommand = \"{command}\"\nstart_cond = \"{cond}\"\n"
        ));
    }
    let path = dir.join("engine.toml");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// A pool task as the client defined it.
#[derive(Debug, Clone, PartialEq)]
struct TaskDef {
    command: String,
    start_cond: String,
    priority: i64,
    disabled: bool,
    parameters: Value,
}

impl TaskDef {
    /// The fields of the task JSON this definition fixes.
    fn json(&self) -> Value {
        json!({
            "command": self.command,
            "start_cond": self.start_cond,
            "priority": self.priority,
            "disabled": self.disabled,
            "parameters": self.parameters,
        })
    }
}

/// What the client believes: pool tasks (absent ones are missing) and parameters.
#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    tasks: BTreeMap<String, TaskDef>,
    params: Map<String, Value>,
}

/// One change the client sends.
#[derive(Debug, Clone)]
enum Change {
    Post(String, TaskDef),
    Patch(String, Map<String, Value>),
    Delete(String),
    Params(Map<String, Value>),
}

impl Change {
    /// Method, path and body.
    fn request(&self) -> (&'static str, String, Option<Value>) {
        match self {
            Change::Post(name, def) => ("POST", format!("/tasks/{name}"), Some(def.json())),
            Change::Patch(name, patch) => (
                "PATCH",
                format!("/tasks/{name}"),
                Some(Value::Object(patch.clone())),
            ),
            Change::Delete(name) => ("DELETE", format!("/tasks/{name}"), None),
            Change::Params(set) => (
                "PATCH",
                "/parameters".to_owned(),
                Some(Value::Object(set.clone())),
            ),
        }
    }
}

impl Model {
    /// The model after `change`.
    fn applied(&self, change: &Change) -> Model {
        let mut next = self.clone();
        match change {
            Change::Post(name, def) => {
                next.tasks.insert(name.clone(), def.clone());
            }
            Change::Patch(name, patch) => {
                if let Some(def) = next.tasks.get_mut(name) {
                    for (key, value) in patch {
                        match key.as_str() {
                            "command" => {
                                def.command = value.as_str().unwrap_or_default().to_owned()
                            }
                            "start_cond" => {
                                def.start_cond = value.as_str().unwrap_or_default().to_owned();
                            }
                            "priority" => def.priority = value.as_i64().unwrap_or_default(),
                            "disabled" => def.disabled = value.as_bool().unwrap_or_default(),
                            "parameters" => def.parameters = value.clone(),
                            _ => {}
                        }
                    }
                }
            }
            Change::Delete(name) => {
                next.tasks.remove(name);
            }
            Change::Params(set) => {
                for (key, value) in set {
                    next.params.insert(key.clone(), value.clone());
                }
            }
        }
        next
    }

    /// A random change that the engine must accept given this model.
    fn random_change(&self, rng: &mut Rng) -> Change {
        let present: Vec<&String> = self.tasks.keys().collect();
        let absent: Vec<&&str> = POOL
            .iter()
            .filter(|n| !self.tasks.contains_key(**n))
            .collect();
        let roll = rng.below(100);
        if roll < 30 {
            let key = rng.pick(PARAMS).copied().unwrap_or("p0");
            let value = if rng.chance(50) {
                json!(rng.below(1000))
            } else {
                json!(format!("v{}", rng.below(1000)))
            };
            let mut set = Map::new();
            set.insert(key.to_owned(), value);
            return Change::Params(set);
        }
        if let (true, Some(name)) = (roll < 55 || present.is_empty(), rng.pick(&absent)) {
            return Change::Post((**name).to_owned(), random_def(rng));
        }
        let Some(name) = rng.pick(&present).map(|n| (*n).clone()) else {
            let name = rng.pick(POOL).copied().unwrap_or("t0");
            return Change::Post(name.to_owned(), random_def(rng));
        };
        if roll < 70 {
            return Change::Delete(name);
        }
        let mut patch = Map::new();
        while patch.is_empty() {
            let fresh = random_def(rng);
            for (key, value) in fresh.json().as_object().into_iter().flatten() {
                if rng.chance(35) {
                    patch.insert(key.clone(), value.clone());
                }
            }
        }
        Change::Patch(name, patch)
    }
}

/// A random pool task definition.
fn random_def(rng: &mut Rng) -> TaskDef {
    TaskDef {
        command: rng.pick(COMMANDS).copied().unwrap_or("true").to_owned(),
        start_cond: rng.pick(CONDITIONS).copied().unwrap_or("false").to_owned(),
        priority: i64::try_from(rng.below(10)).unwrap_or(0),
        disabled: rng.chance(20),
        parameters: json!({"n": rng.below(100)}),
    }
}

/// The client's memory across restarts.
#[derive(Debug, Default)]
struct Client {
    model: Model,
    /// The change sent when the engine was killed, its answer never read.
    unanswered: Option<Change>,
    /// The log as last seen.
    seen: Vec<Value>,
    acknowledged: u64,
    unanswered_total: u64,
    unanswered_applied: u64,
}

impl Client {
    /// The checks after a restart (see the module docs); returns how many
    /// records seen before the kill were found again.
    fn check_restart(&mut self, port: u16) -> Result<u64, String> {
        // Records first: the scheduler may write new ones meanwhile, which is fine.
        let records = logs(port)?;
        check_prefix(&self.seen, &records, "after the restart")?;
        let checked = self.seen.len() as u64;
        check_runs(&records)?;
        self.seen = records;

        let observed = observe(port)?;
        let without = diff(&self.model, &observed);
        match self.unanswered.take() {
            None => {
                if let Some(problem) = without {
                    return Err(format!(
                        "the state differs from the acknowledged changes: {problem}"
                    ));
                }
            }
            Some(change) => {
                self.unanswered_total += 1;
                let with_model = self.model.applied(&change);
                match (without, diff(&with_model, &observed)) {
                    (None, _) => {}
                    (Some(_), None) => {
                        self.unanswered_applied += 1;
                        self.model = with_model;
                    }
                    (Some(a), Some(b)) => {
                        return Err(format!(
                            "the state matches neither the acknowledged changes ({a}) nor them plus the unanswered {change:?} ({b})"
                        ));
                    }
                }
            }
        }
        Ok(checked)
    }
}

/// Streams random changes (and log reads) until the engine dies or `stop` is set.
struct Stream {
    port: u16,
    client: Client,
    rng: Rng,
    stop: Arc<AtomicBool>,
}

impl Stream {
    fn run(&mut self) -> Result<(), String> {
        let mut sent = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            if sent.is_multiple_of(4) {
                match try_http(self.port, "GET", "/logs", None, REQUEST_TIMEOUT) {
                    Ok((200, Value::Array(records))) => {
                        check_prefix(&self.client.seen, &records, "between two reads")?;
                        self.client.seen = records;
                    }
                    Ok((status, body)) => return Err(format!("GET /logs: {status} {body}")),
                    // The engine is gone.
                    Err(_) => return Ok(()),
                }
            }
            sent += 1;
            let change = self.client.model.random_change(&mut self.rng);
            let (method, path, body) = change.request();
            match try_http(self.port, method, &path, body.as_ref(), REQUEST_TIMEOUT) {
                Ok((200, _)) => {
                    self.client.model = self.client.model.applied(&change);
                    self.client.acknowledged += 1;
                }
                Ok((status, answer)) => {
                    return Err(format!(
                        "{method} {path} {body:?} was refused with {status}: {answer}"
                    ));
                }
                Err(_) => {
                    // Killed mid-request: it may or may not have been applied.
                    self.client.unanswered = Some(change);
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// The whole log.
fn logs(port: u16) -> Result<Vec<Value>, String> {
    match try_http(port, "GET", "/logs", None, REQUEST_TIMEOUT)? {
        (200, Value::Array(records)) => Ok(records),
        (status, body) => Err(format!("GET /logs: {status} {body}")),
    }
}

/// The pool tasks (the fixed ones checked to be there) and the parameters.
fn observe(port: u16) -> Result<Model, String> {
    let (status, tasks) = try_http(port, "GET", "/tasks", None, REQUEST_TIMEOUT)?;
    let Value::Array(tasks) = tasks else {
        return Err(format!("GET /tasks: {status} {tasks}"));
    };
    let mut model = Model::default();
    let mut fixed = Vec::new();
    for task in &tasks {
        let name = task["name"].as_str().unwrap_or_default().to_owned();
        if FIXED.iter().any(|(n, _, _)| *n == name) {
            fixed.push(name);
            continue;
        }
        let def = TaskDef {
            command: task["command"].as_str().unwrap_or_default().to_owned(),
            start_cond: task["start_cond"].as_str().unwrap_or_default().to_owned(),
            priority: task["priority"].as_i64().unwrap_or(i64::MIN),
            disabled: task["disabled"].as_bool().unwrap_or_default(),
            parameters: task["parameters"].clone(),
        };
        model.tasks.insert(name, def);
    }
    if fixed.len() != FIXED.len() {
        return Err(format!("the config's tasks are not all there: {fixed:?}"));
    }
    match try_http(port, "GET", "/parameters", None, REQUEST_TIMEOUT)? {
        (200, Value::Object(params)) => model.params = params,
        (status, body) => return Err(format!("GET /parameters: {status} {body}")),
    }
    Ok(model)
}

/// How `observed` differs from `expected`, or `None`.
fn diff(expected: &Model, observed: &Model) -> Option<String> {
    let mut problems = Vec::new();
    for name in POOL {
        match (expected.tasks.get(*name), observed.tasks.get(*name)) {
            (Some(e), Some(o)) if e != o => {
                problems.push(format!(
                    "task {name} is {} instead of {}",
                    o.json(),
                    e.json()
                ));
            }
            (Some(_), None) => problems.push(format!("task {name} is missing")),
            (None, Some(_)) => problems.push(format!("task {name} should not exist")),
            _ => {}
        }
    }
    for name in observed.tasks.keys() {
        if !POOL.contains(&name.as_str()) {
            problems.push(format!("unknown task {name}"));
        }
    }
    if expected.params != observed.params {
        problems.push(format!(
            "parameters are {} instead of {}",
            Value::Object(observed.params.clone()),
            Value::Object(expected.params.clone())
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// `seen` must be a prefix of `now`.
fn check_prefix(seen: &[Value], now: &[Value], when: &str) -> Result<(), String> {
    if now.len() < seen.len() {
        return Err(format!(
            "{when}: the log has {} records, {} were seen before",
            now.len(),
            seen.len()
        ));
    }
    for (i, (before, after)) in seen.iter().zip(now).enumerate() {
        if before != after {
            return Err(format!(
                "{when}: record {i} was {before} and is now {after}"
            ));
        }
    }
    Ok(())
}

/// The config's tasks alternate `run` and an end record; the daily task has
/// one run per local day (plus one per crashed run).
fn check_runs(records: &[Value]) -> Result<(), String> {
    for (name, _, _) in FIXED {
        let mut running = false;
        for (i, record) in records.iter().enumerate() {
            if record["task_name"] != *name {
                continue;
            }
            let is_run = record["action"] == "run";
            if is_run == running {
                return Err(format!(
                    "task {name}: record {i} {record} {}",
                    if is_run {
                        "starts a run while one goes on"
                    } else {
                        "ends no run"
                    }
                ));
            }
            running = is_run;
        }
    }
    let mut per_day: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut last_day = String::new();
    for record in records.iter().filter(|r| r["task_name"] == DAILY) {
        match record["action"].as_str() {
            Some("run") => {
                let day: String = record["timestamp"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(10)
                    .collect();
                per_day.entry(day.clone()).or_default().0 += 1;
                last_day = day;
            }
            Some("crash") => per_day.entry(last_day.clone()).or_default().1 += 1,
            _ => {}
        }
    }
    for (day, (runs, crashed)) in per_day {
        if runs > 1 + crashed {
            return Err(format!(
                "the daily task ran {runs} times on {day} ({crashed} of its runs crashed)"
            ));
        }
    }
    Ok(())
}
