//! Tests of task runs (functions, commands, code, cancellation) and of task
//! definition checks.
//!
//! Function runs go through [`check_runs`] under tokio's paused clock. Process
//! runs are real child processes (`sh`, `python3`), so they use the real clock
//! and stay short; the few that wait for a child to get going poll for a pid
//! file it writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::process::{Tail, param_env_name};
use super::*;

// ---------------------------------------------------------------------------
// Helpers.

/// What a case expects of a run.
#[derive(Debug)]
enum Expect {
    /// Exactly this outcome.
    Is(RunOutcome),
    /// A failure whose text contains each of these, in order.
    FailWith(&'static [&'static str]),
}

/// One run to make.
struct Case {
    name: &'static str,
    kind: TaskKind,
    execution: Execution,
    function: Option<TaskFn>,
    params: Value,
    expect: Expect,
}

/// Runs every case (one after another) and reports all mismatches at once.
async fn check_runs(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let req = request(
            case.name,
            case.kind,
            case.execution,
            case.function,
            case.params,
        );
        let outcome = execute(req).await;
        if let Some(problem) = mismatch(&outcome, &case.expect) {
            failures.push(format!("{}: {problem}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Why `outcome` does not meet `expect`, if it does not.
fn mismatch(outcome: &RunOutcome, expect: &Expect) -> Option<String> {
    match expect {
        Expect::Is(expected) if outcome == expected => None,
        Expect::Is(expected) => Some(format!("expected {expected:?}, got {outcome:?}")),
        Expect::FailWith(parts) => {
            let RunOutcome::Fail(text) = outcome else {
                return Some(format!(
                    "expected a failure with {parts:?}, got {outcome:?}"
                ));
            };
            let mut rest = text.as_str();
            for part in *parts {
                let Some(at) = rest.find(part) else {
                    return Some(format!("expected {part:?} (in order) in {text:?}"));
                };
                rest = rest.get(at + part.len()..).unwrap_or_default();
            }
            None
        }
    }
}

/// A run request with a fresh token.
fn request(
    task: &str,
    kind: TaskKind,
    execution: Execution,
    function: Option<TaskFn>,
    params: Value,
) -> RunRequest {
    let params = match params {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    RunRequest {
        task: task.to_owned(),
        kind,
        execution,
        params,
        function,
        cancel: CancellationToken::new(),
    }
}

fn function_kind() -> TaskKind {
    TaskKind::Function {
        func: "f".to_owned(),
    }
}

fn sync(f: impl Fn(TaskContext) -> RunResult + Send + Sync + 'static) -> TaskFn {
    TaskFn::Sync(Arc::new(f))
}

fn async_fn<F, Fut>(f: F) -> TaskFn
where
    F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = RunResult> + Send + 'static,
{
    TaskFn::Async(Arc::new(move |ctx| Box::pin(f(ctx))))
}

fn shell(line: &str) -> TaskKind {
    TaskKind::Command {
        command: CommandLine::Shell(line.to_owned()),
        cwd: None,
        env: BTreeMap::new(),
    }
}

fn program(argv: &[&str]) -> TaskKind {
    TaskKind::Command {
        command: CommandLine::Program(argv.iter().map(|s| (*s).to_owned()).collect()),
        cwd: None,
        env: BTreeMap::new(),
    }
}

fn code(lang: &str, source: &str) -> TaskKind {
    TaskKind::Code {
        code: source.to_owned(),
        lang: lang.to_owned(),
        cwd: None,
        env: BTreeMap::new(),
    }
}

fn with_cwd(mut kind: TaskKind, dir: &str) -> TaskKind {
    if let TaskKind::Command { cwd, .. } | TaskKind::Code { cwd, .. } = &mut kind {
        *cwd = Some(dir.to_owned());
    }
    kind
}

fn with_env(mut kind: TaskKind, vars: &[(&str, &str)]) -> TaskKind {
    if let TaskKind::Command { env, .. } | TaskKind::Code { env, .. } = &mut kind {
        env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    }
    kind
}

fn case(name: &'static str, kind: TaskKind, function: Option<TaskFn>, expect: Expect) -> Case {
    let execution = kind.default_execution(function.as_ref());
    Case {
        name,
        kind,
        execution,
        function,
        params: json!({}),
        expect,
    }
}

fn success(value: Value) -> Expect {
    Expect::Is(RunOutcome::Success(value))
}

fn fail(text: &str) -> Expect {
    Expect::Is(RunOutcome::Fail(text.to_owned()))
}

/// Sets a flag when dropped: shows that a run's future was dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A fresh scratch directory for one process test, removed when dropped (also
/// when the test fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("engine-task-test-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }
}

impl std::ops::Deref for Scratch {
    type Target = PathBuf;

    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits (real time, at most 10 s) until every file holds a pid and a line
/// break; the pids.
async fn wait_for_pids(files: Vec<PathBuf>) -> Vec<i32> {
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let pids: Vec<Option<i32>> = files
                .iter()
                .map(|file| {
                    let text = std::fs::read_to_string(file).ok()?;
                    if !text.ends_with('\n') {
                        return None;
                    }
                    text.trim().parse().ok()
                })
                .collect();
            if pids.iter().all(Option::is_some) {
                return pids.into_iter().flatten().collect();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the child never wrote {files:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    })
    .await
    .expect("pid wait")
}

/// Whether process `pid` still runs (a zombie does not: it is dead and waits
/// for a parent that may never reap it).
fn running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 1..))
        .and_then(|rest| rest.split_whitespace().next().map(str::to_owned));
    !matches!(state.as_deref(), Some("Z" | "X" | "x") | None)
}

/// Waits (real time, at most 5 s) until none of `pids` runs; the ones still running.
async fn wait_dead(pids: Vec<i32>) -> Vec<i32> {
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let alive: Vec<i32> = pids.iter().copied().filter(|&pid| running(pid)).collect();
            if alive.is_empty() || std::time::Instant::now() >= deadline {
                return alive;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
    .await
    .expect("death wait")
}

mod commands;
mod definitions;
mod functions;
