//! Test harness shared by the end-to-end tests: building and running the `engine`
//! binary, loading the spec's test vectors, and running many cases on a few
//! threads.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The path of the `engine` binary, built once per test run with the same cargo
/// and profile as the tests (a separate package cannot see `CARGO_BIN_EXE_*`).
pub fn engine_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test executable path");
            // target/<profile>/deps/it-xxxx -> target/<profile>
            let profile_dir = exe
                .parent()
                .and_then(|p| p.parent())
                .expect("target profile directory");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "engine", "--bin", "engine"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build
                .status()
                .expect("run cargo build for the engine binary");
            assert!(status.success(), "building the engine binary failed");
            profile_dir.join(format!("engine{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

/// What one run of the `engine` binary did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code (`None` when killed by a signal, e.g. a panic with abort).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the `engine` binary with `args`, with `TZ=UTC` unless `env` sets it, and
/// with `env` added to the environment.
pub fn run_engine<S: AsRef<str>>(args: &[S], env: &[(&str, &str)]) -> Outcome {
    let mut command = Command::new(engine_binary());
    command
        .args(args.iter().map(AsRef::as_ref))
        .env("TZ", "UTC")
        .env_remove("RUST_BACKTRACE");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the engine binary");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The spec's test vectors of `kind` (`cond_parse`, `cond_eval` ...), from
/// `testdata/vectors.json` at the workspace root.
pub fn vectors(kind: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let all: Vec<Value> = serde_json::from_str(&text).expect("vectors.json is a JSON array");
    all.into_iter().filter(|v| v["kind"] == kind).collect()
}

/// `f` applied to every item on `threads` threads, results in item order.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker thread"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
