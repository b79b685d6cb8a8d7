//! `cargo xtask schemathesis [--max-examples N] [--seed S]`: property-based
//! testing of the HTTP API against its own OpenAPI document with schemathesis
//! (docs/reliability.md, "Schemathesis"). Installs a pinned schemathesis into
//! a virtualenv under `target/`, starts the release `engine` on a free
//! loopback port with a temporary state, runs schemathesis against
//! `/openapi.json`, stops the engine, and fails on any failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::crash::target_dir;
use crate::{cargo, run_command};

pub(crate) const USAGE: &str = "\
cargo xtask schemathesis [--max-examples N] [--seed S] [--workers 1|2]

Installs schemathesis (pinned, from PyPI) into target/schemathesis-venv with
python3 -m venv, builds the release engine, starts `engine run` on 127.0.0.1
with a temporary state and two tasks, and runs

  schemathesis run http://127.0.0.1:PORT/openapi.json --checks all
      --exclude-checks positive_data_acceptance --max-examples N ...

every phase (examples, coverage, fuzzing, stateful), N examples per operation
(default 100), on 1 worker (default; 2 can trip a CPython 3.11 ast bug inside
hypothesis). Fails on any failed check, any error, or an engine that stopped.
Reports (JUnit, HAR) go to target/schemathesis-report.

Checks: all but positive_data_acceptance, which expects every schema-valid body
to be accepted, while task and config fields hold small languages (conditions,
durations, zone names, query keys) that a JSON Schema cannot describe.

Safety: the engine runs with PATH pointing at an empty directory and its cwd in
the temporary directory, so the commands and code the fuzzer creates cannot
start a program. Its bearer token has the read, write and code scopes but not
admin, so PATCH /configs answers 403: with silence_cond_check = false (Red
Engine's test mode) a condition that names a deleted task stops the scheduler,
and with it the engine, by design; engine-api's OpenAPI tests check the config
shapes instead.
";

/// The schemathesis release this runs (installs on Python 3.9 and later).
const VERSION: &str = "4.32.5";

/// How long the whole schemathesis run may take.
const RUN_LIMIT: Duration = Duration::from_secs(45 * 60);

/// The engine's config: two tasks that never start by themselves, a
/// parameter, and a bearer token from the environment.
const CONFIG: &str = r#"
[session]
timezone = "UTC"

[parameters]
env = "test"

[[tasks]]
name = "extract"
command = "true"
start_cond = "false"

[[tasks]]
name = "report"
code = "print(1)"
start_cond = "after task 'extract'"

[[api.tokens]]
env = "ENGINE_SCHEMATHESIS_TOKEN"
scopes = ["read", "write", "code"]
"#;

/// The parsed command line.
struct Options {
    max_examples: u64,
    seed: u64,
    workers: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        max_examples: 100,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs()),
        workers: 1,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut number = |name: &str| {
            rest.next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} needs a positive number\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--max-examples" => options.max_examples = number("--max-examples")?,
            "--seed" => options.seed = number("--seed")?,
            "--workers" => options.workers = number("--workers")?.min(2),
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    Ok(options)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let target = target_dir();
    let schemathesis = install(&target.join("schemathesis-venv"))?;
    run_command(
        &cargo(),
        &["build", "--release", "-p", "engine", "--bin", "engine"],
        &[],
    )?;
    let engine = target
        .join("release")
        .join(format!("engine{}", std::env::consts::EXE_SUFFIX));

    let dir = target.join(format!("schemathesis-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("no-programs"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = run_against(&engine, &schemathesis, &dir, &target, &options);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Starts the engine in `dir`, runs schemathesis against it, stops it.
fn run_against(
    engine: &Path,
    schemathesis: &Path,
    dir: &Path,
    target: &Path,
    options: &Options,
) -> Result<(), String> {
    let config = dir.join("engine.toml");
    std::fs::write(&config, CONFIG).map_err(|e| format!("cannot write the config: {e}"))?;
    let token = format!("xtask-{}-{}", std::process::id(), options.seed);
    let mut server = Engine::start(engine, &config, dir, &token)?;
    let url = format!("http://127.0.0.1:{}/openapi.json", server.port);
    let report = target.join("schemathesis-report");
    let (max_examples, seed, workers) = (
        options.max_examples.to_string(),
        options.seed.to_string(),
        options.workers.to_string(),
    );
    let authorization = format!("Authorization: Bearer {token}");
    let args = [
        "run",
        url.as_str(),
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        max_examples.as_str(),
        "--seed",
        seed.as_str(),
        "--workers",
        workers.as_str(),
        "--request-timeout",
        "10",
        "--max-response-time",
        "5",
        "--continue-on-failure",
        "--no-color",
        "-H",
        authorization.as_str(),
        "--report",
        "junit,har",
        "--report-dir",
        &report.to_string_lossy(),
    ];
    eprintln!(
        "\n$ schemathesis {} (engine on 127.0.0.1:{})",
        args.join(" ").replace(&token, "***"),
        server.port
    );
    let started = Instant::now();
    let outcome = run_bounded(Command::new(schemathesis).args(args), RUN_LIMIT);
    eprintln!("schemathesis: {:.1?}", started.elapsed());
    let alive = server.alive();
    let log = server.stop();
    if !alive {
        return Err(format!(
            "the engine stopped during the run; its log ends:\n{}",
            tail(&log, 30)
        ));
    }
    outcome
}

/// Runs `command` and fails on a non-zero exit or after `limit`.
fn run_bounded(command: &mut Command, limit: Duration) -> Result<(), String> {
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run schemathesis: {e}"))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("schemathesis found failures ({status})")),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("schemathesis ran longer than {limit:?}"));
            }
            Err(e) => return Err(format!("cannot wait for schemathesis: {e}")),
        }
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .get(lines.len().saturating_sub(n)..)
        .unwrap_or_default()
        .join("\n")
}

/// Makes sure `venv` holds schemathesis [`VERSION`]; returns its executable.
fn install(venv: &Path) -> Result<PathBuf, String> {
    let bin = venv.join("bin");
    let schemathesis = bin.join("schemathesis");
    let installed = Command::new(&schemathesis)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).contains(VERSION));
    if installed {
        return Ok(schemathesis);
    }
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info >= (3, 9))"])
        .output()
        .map_err(|e| format!("schemathesis needs python3 (3.9 or later): {e}"))?;
    if String::from_utf8_lossy(&python.stdout).trim() != "True" {
        return Err("schemathesis needs python3 3.9 or later".to_owned());
    }
    if !bin.join("pip").exists() {
        run_command("python3", &["-m", "venv", &venv.to_string_lossy()], &[])?;
    }
    let pip = bin.join("pip");
    run_command(
        &pip.to_string_lossy(),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={VERSION}"),
        ],
        &[],
    )?;
    Ok(schemathesis)
}

/// A running `engine run`, killed when stopped or dropped.
struct Engine {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
}

impl Engine {
    /// Starts `engine run CONFIG --port 0 --state DIR/state` with no programs
    /// on its PATH and waits for its ready line.
    fn start(engine: &Path, config: &Path, dir: &Path, token: &str) -> Result<Engine, String> {
        let log = dir.join("engine.log");
        let stderr = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut child = Command::new(engine)
            .arg("run")
            .arg(config)
            .args(["--port", "0", "--state"])
            .arg(dir.join("state"))
            .current_dir(dir)
            .env("PATH", dir.join("no-programs"))
            .env("TZ", "UTC")
            .env("RUST_LOG", "warn")
            .env("ENGINE_SCHEMATHESIS_TOKEN", token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", engine.display()))?;
        let (lines, ready) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
        }
        let mut server = Engine {
            child: Some(child),
            port: 0,
            log,
        };
        let line = ready.recv_timeout(Duration::from_secs(60)).map_err(|_| {
            format!(
                "the engine printed no ready line; its log:\n{}",
                tail(&server.read_log(), 30)
            )
        })?;
        // `engine: API on http://127.0.0.1:PORT, state in ...`
        server.port = line
            .split_once("http://")
            .and_then(|(_, rest)| rest.split_once(','))
            .and_then(|(address, _)| address.rsplit_once(':'))
            .and_then(|(_, port)| port.parse().ok())
            .ok_or_else(|| format!("not a ready line: {line}"))?;
        Ok(server)
    }

    /// Whether the engine is still running.
    fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Kills the engine and returns its log.
    fn stop(mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.read_log()
    }

    fn read_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
