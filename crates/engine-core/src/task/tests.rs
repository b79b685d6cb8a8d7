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

// ---------------------------------------------------------------------------
// Function runs.

#[tokio::test(start_paused = true)]
async fn function_outcomes() {
    let here = format!("{:?}", std::thread::current().id());
    let here_too = here.clone();
    let ran = Arc::new(AtomicBool::new(false));
    let ran_flag = Arc::clone(&ran);
    let mut cases = vec![];
    for execution in [Execution::Main, Execution::Thread] {
        cases.extend([
            Case {
                execution,
                ..case(
                    "sync ok",
                    function_kind(),
                    Some(sync(|_| Ok(json!(1)))),
                    success(json!(1)),
                )
            },
            Case {
                execution,
                ..case(
                    "sync fail",
                    function_kind(),
                    Some(sync(|_| Err(RunError::Fail("no data".into())))),
                    fail("no data"),
                )
            },
            Case {
                execution,
                ..case(
                    "sync inaction",
                    function_kind(),
                    Some(sync(|_| Err(RunError::Inaction))),
                    Expect::Is(RunOutcome::Inaction),
                )
            },
            Case {
                execution,
                ..case(
                    "sync terminated",
                    function_kind(),
                    Some(sync(|_| Err(RunError::Terminated))),
                    Expect::Is(RunOutcome::Terminated),
                )
            },
            Case {
                execution,
                ..case(
                    "sync panic str",
                    function_kind(),
                    Some(sync(|_| panic!("static boom"))),
                    fail("panicked: static boom"),
                )
            },
            Case {
                execution,
                ..case(
                    "sync panic string",
                    function_kind(),
                    Some(sync(|ctx| panic!("boom in {}", ctx.task))),
                    fail("panicked: boom in sync panic string"),
                )
            },
            Case {
                execution,
                ..case(
                    "sync panic other",
                    function_kind(),
                    Some(sync(|_| std::panic::panic_any(42_u8))),
                    fail("panicked: (a panic payload that is not text)"),
                )
            },
        ]);
    }
    for execution in [Execution::Main, Execution::Async] {
        cases.extend([
            Case {
                execution,
                ..case(
                    "async ok",
                    function_kind(),
                    Some(async_fn(|_| async {
                        tokio::task::yield_now().await;
                        Ok(json!("x"))
                    })),
                    success(json!("x")),
                )
            },
            Case {
                execution,
                ..case(
                    "async fail",
                    function_kind(),
                    Some(async_fn(|_| async { Err(RunError::Fail("bad".into())) })),
                    fail("bad"),
                )
            },
            Case {
                execution,
                ..case(
                    "async inaction",
                    function_kind(),
                    Some(async_fn(|_| async { Err(RunError::Inaction) })),
                    Expect::Is(RunOutcome::Inaction),
                )
            },
            Case {
                execution,
                ..case(
                    "async panic while polled",
                    function_kind(),
                    Some(async_fn(|_| async {
                        tokio::task::yield_now().await;
                        panic!("async boom")
                    })),
                    fail("panicked: async boom"),
                )
            },
            Case {
                execution,
                ..case(
                    "async panic before the future",
                    function_kind(),
                    Some(TaskFn::Async(Arc::new(|_| panic!("eager boom")))),
                    fail("panicked: eager boom"),
                )
            },
        ]);
    }
    cases.extend([
        Case {
            params: json!({"a": 1, "b": "two"}),
            ..case(
                "context",
                function_kind(),
                Some(sync(|ctx| Ok(json!({"task": ctx.task, "params": ctx.params})))),
                success(json!({"task": "context", "params": {"a": 1, "b": "two"}})),
            )
        },
        Case {
            execution: Execution::Main,
            ..case(
                "main runs on the calling thread",
                function_kind(),
                Some(sync(move |_| Ok(json!(format!("{:?}", std::thread::current().id()) == here)))),
                success(json!(true)),
            )
        },
        case(
            "thread runs on a thread named after the task",
            function_kind(),
            Some(sync(move |_| {
                let me = std::thread::current();
                Ok(json!([me.name(), format!("{:?}", me.id()) == here_too]))
            })),
            success(json!(["thread runs on a thread named after the task", false])),
        ),
        Case {
            function: None,
            ..case("missing function", function_kind(), None, fail("no function is registered as 'f'"))
        },
        Case {
            execution: Execution::Async,
            ..case(
                "blocking function as async",
                function_kind(),
                Some(sync(move |_| {
                    ran_flag.store(true, Ordering::SeqCst);
                    Ok(Value::Null)
                })),
                fail(
                    "execution 'async' is not allowed for a blocking function task; allowed: thread, main",
                ),
            )
        },
        Case {
            execution: Execution::Process,
            ..case(
                "async function as process",
                function_kind(),
                Some(async_fn(|_| async { Ok(Value::Null) })),
                fail(
                    "execution 'process' is not allowed for an async function task; allowed: async, main",
                ),
            )
        },
    ]);
    check_runs(cases).await;
    assert!(
        !ran.load(Ordering::SeqCst),
        "a refused run must not call the function"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_token_starts_nothing() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    let req = request(
        "t",
        function_kind(),
        Execution::Thread,
        Some(sync(move |_| {
            flag.store(true, Ordering::SeqCst);
            Ok(Value::Null)
        })),
        json!({}),
    );
    req.cancel.cancel();
    assert_eq!(execute(req).await, RunOutcome::Terminated);
    assert!(!ran.load(Ordering::SeqCst));
}

/// How an async function reacts to its token.
#[derive(Debug, Clone, Copy)]
enum Reaction {
    /// Returns `Err(Terminated)` as soon as the token fires.
    Cooperates,
    /// Never looks at the token.
    Ignores,
    /// Returns a value a little after the token fires (within the grace).
    FinishesLate,
}

#[tokio::test(start_paused = true)]
async fn cancelling_async_runs() {
    for execution in [Execution::Async, Execution::Main] {
        for reaction in [
            Reaction::Cooperates,
            Reaction::Ignores,
            Reaction::FinishesLate,
        ] {
            let dropped = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&dropped);
            let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
            let started_tx = Arc::new(parking_lot::Mutex::new(Some(started_tx)));
            let function = async_fn(move |ctx| {
                let guard = DropFlag(Arc::clone(&flag));
                let started = started_tx.lock().take();
                async move {
                    let _guard = guard;
                    if let Some(started) = started {
                        let _ = started.send(());
                    }
                    match reaction {
                        Reaction::Cooperates => {
                            ctx.cancel.cancelled().await;
                            Err(RunError::Terminated)
                        }
                        Reaction::Ignores => {
                            std::future::pending::<()>().await;
                            Ok(Value::Null)
                        }
                        Reaction::FinishesLate => {
                            ctx.cancel.cancelled().await;
                            tokio::time::sleep(CANCEL_GRACE / 4).await;
                            Ok(json!("late"))
                        }
                    }
                }
            });
            let req = request("a", function_kind(), execution, Some(function), json!({}));
            let cancel = req.cancel.clone();
            let run = tokio::spawn(execute(req));
            started_rx.await.expect("the function started");
            let cancelled_at = tokio::time::Instant::now();
            cancel.cancel();
            let outcome = run.await.expect("the run ends");
            let took = cancelled_at.elapsed();
            let label = format!("{execution} {reaction:?}");
            match reaction {
                Reaction::Cooperates => {
                    assert_eq!(outcome, RunOutcome::Terminated, "{label}");
                    assert!(took < CANCEL_GRACE, "{label}: took {took:?}");
                }
                Reaction::Ignores => {
                    assert_eq!(outcome, RunOutcome::Terminated, "{label}");
                    assert!(took >= CANCEL_GRACE, "{label}: took {took:?}");
                }
                Reaction::FinishesLate => {
                    assert_eq!(outcome, RunOutcome::Success(json!("late")), "{label}");
                }
            }
            assert!(
                dropped.load(Ordering::SeqCst),
                "{label}: the function's future is dropped"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_an_async_run_aborts_the_function() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&dropped);
    let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
    let dropped_tx = Arc::new(parking_lot::Mutex::new(Some(dropped_tx)));
    let function = async_fn(move |_| {
        let guard = DropFlag(Arc::clone(&flag));
        let on_drop = dropped_tx.lock().take();
        async move {
            let _guard = guard;
            let _on_drop = on_drop;
            std::future::pending::<()>().await;
            Ok(Value::Null)
        }
    });
    let req = request(
        "a",
        function_kind(),
        Execution::Async,
        Some(function),
        json!({}),
    );
    let run = tokio::spawn(execute(req));
    tokio::task::yield_now().await;
    run.abort();
    let _ = run.await;
    // The oneshot sender lives in the function's future: its drop closes the channel.
    let closed = tokio::time::timeout(Duration::from_secs(60), dropped_rx).await;
    assert!(closed.is_ok(), "the spawned function was never dropped");
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn cancelling_thread_runs_is_cooperative() {
    for (name, cooperates, expected) in [
        ("cooperates", true, RunOutcome::Terminated),
        (
            "ignores",
            false,
            RunOutcome::Success(json!("finished anyway")),
        ),
    ] {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let started_tx = Arc::new(parking_lot::Mutex::new(Some(started_tx)));
        let function = sync(move |ctx| {
            if let Some(started) = started_tx.lock().take() {
                let _ = started.send(());
            }
            // A blocking body that polls its token (real time, a few ms).
            while !ctx.cancel.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            if cooperates {
                Err(RunError::Terminated)
            } else {
                Ok(json!("finished anyway"))
            }
        });
        let req = request(
            name,
            function_kind(),
            Execution::Thread,
            Some(function),
            json!({}),
        );
        let cancel = req.cancel.clone();
        let run = tokio::spawn(execute(req));
        started_rx.await.expect("the thread started");
        cancel.cancel();
        assert_eq!(run.await.expect("the run ends"), expected, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Command and code runs.

#[tokio::test]
async fn command_and_code_outcomes() {
    let params = json!({"max-rows": 3, "name": "x y", "flag": true, "list": [1, 2], "none": null});
    let all_params = params.clone();
    check_runs(vec![
        case("program", program(&["true"]), None, success(Value::Null)),
        case(
            "program arguments are not shell words",
            program(&["sh", "-c", "printf '%s' \"$1\" > \"$ENGINE_RETURN_FILE\"", "sh", "a b; $HOME"]),
            None,
            success(json!("a b; $HOME")),
        ),
        case(
            "shell line",
            shell("echo hi | tr a-z A-Z > \"$ENGINE_RETURN_FILE\""),
            None,
            success(json!("HI")),
        ),
        case("exit code and stderr", shell("echo boom >&2; exit 3"), None, fail("exit status 3\nboom")),
        case("exit code alone", program(&["sh", "-c", "exit 4"]), None, fail("exit status 4")),
        case(
            "stderr tail",
            shell("echo first >&2; echo second >&2; exit 1"),
            None,
            fail("exit status 1\nfirst\nsecond"),
        ),
        case("killed by a signal", shell("kill -9 $$"), None, fail("killed by signal 9 (SIGKILL)")),
        case(
            "json return",
            shell("echo '{\"a\": [1, 2]}' > \"$ENGINE_RETURN_FILE\""),
            None,
            success(json!({"a": [1, 2]})),
        ),
        case("return file removed", shell("rm \"$ENGINE_RETURN_FILE\""), None, success(Value::Null)),
        case("stdout is not the return", shell("echo out"), None, success(Value::Null)),
        case(
            "return file too large",
            shell("head -c 16777217 /dev/zero > \"$ENGINE_RETURN_FILE\""),
            None,
            fail("the return file has 16777217 bytes, at most 16777216 are read"),
        ),
        case(
            "env",
            with_env(shell("printf '%s' \"$FOO\" > \"$ENGINE_RETURN_FILE\""), &[("FOO", "bar")]),
            None,
            success(json!("bar")),
        ),
        case(
            "engine variables win over env",
            with_env(
                shell("printf '%s' \"$ENGINE_TASK\" > \"$ENGINE_RETURN_FILE\""),
                &[("ENGINE_TASK", "not me")],
            ),
            None,
            success(json!("engine variables win over env")),
        ),
        case("cwd", with_cwd(shell("pwd > \"$ENGINE_RETURN_FILE\""), "/"), None, success(json!("/"))),
        case(
            "missing cwd",
            with_cwd(shell("true"), "/nonexistent-engine-dir"),
            None,
            fail("working directory '/nonexistent-engine-dir' does not exist"),
        ),
        case(
            "cwd is a file",
            with_cwd(shell("true"), "/dev/null"),
            None,
            fail("working directory '/dev/null' is not a directory"),
        ),
        case(
            "missing program",
            program(&["engine-no-such-program"]),
            None,
            fail("program 'engine-no-such-program' not found"),
        ),
        case("empty program list", program(&[]), None, fail("command has no program")),
        Case {
            params,
            ..case(
                "params",
                shell(
                    "printf '{\"rows\":\"%s\",\"name\":\"%s\",\"flag\":\"%s\",\"list\":\"%s\",\
                     \"none\":\"%s\",\"all\":%s}' \"$ENGINE_PARAM_MAX_ROWS\" \"$ENGINE_PARAM_NAME\" \
                     \"$ENGINE_PARAM_FLAG\" \"$ENGINE_PARAM_LIST\" \"$ENGINE_PARAM_NONE\" \
                     \"$ENGINE_PARAMS\" > \"$ENGINE_RETURN_FILE\"",
                ),
                None,
                success(json!({
                    "rows": "3", "name": "x y", "flag": "true", "list": "[1,2]", "none": "null",
                    "all": all_params,
                })),
            )
        },
        Case {
            execution: Execution::Main,
            ..case("command in main", program(&["true"]), None, success(Value::Null))
        },
        Case {
            execution: Execution::Thread,
            ..case(
                "command on a thread",
                program(&["true"]),
                None,
                fail("execution 'thread' is not allowed for a command task; allowed: process, main"),
            )
        },
        case(
            "sh code",
            code("sh", "echo \"$ENGINE_TASK\" > \"$ENGINE_RETURN_FILE\""),
            None,
            success(json!("sh code")),
        ),
        case("python code (the seed)", code("python3", "print('Hello World')"), None, success(Value::Null)),
        Case {
            params: json!({"a": 2}),
            ..case(
                "python code returns",
                code(
                    "python3",
                    "import json, os\n\
                     with open(os.environ['ENGINE_RETURN_FILE'], 'w') as f:\n    \
                     json.dump({'sum': int(os.environ['ENGINE_PARAM_A']) + 1}, f)\n",
                ),
                None,
                success(json!({"sum": 3})),
            )
        },
        case(
            "python code fails",
            code("python3", "import sys\nprint('to stdout')\n1 / 0\n"),
            None,
            Expect::FailWith(&["exit status 1\n", "ZeroDivisionError"]),
        ),
        case(
            "missing interpreter",
            code("engine-no-such-interpreter", "x"),
            None,
            fail("program 'engine-no-such-interpreter' not found"),
        ),
    ])
    .await;
}

#[tokio::test]
async fn code_files_and_return_files_are_removed() {
    let kind = code(
        "sh",
        "printf '{\"code\":\"%s\",\"ret\":\"%s\"}' \"$0\" \"$ENGINE_RETURN_FILE\" > \"$ENGINE_RETURN_FILE\"",
    );
    let outcome = execute(request("files", kind, Execution::Process, None, json!({}))).await;
    let RunOutcome::Success(value) = outcome else {
        panic!("expected a success, got {outcome:?}")
    };
    let code_file = PathBuf::from(value["code"].as_str().expect("code path"));
    let return_file = PathBuf::from(value["ret"].as_str().expect("return path"));
    assert_eq!(code_file.extension().and_then(|e| e.to_str()), Some("sh"));
    assert_eq!(code_file.parent(), return_file.parent());
    assert!(!code_file.exists() && !return_file.exists());
    assert!(
        !code_file.parent().is_some_and(Path::exists),
        "the run directory is removed"
    );
}

#[tokio::test]
async fn output_is_bounded() {
    // 200 kB of stderr: the failure text holds only the last OUTPUT_TAIL bytes.
    let kind = shell("head -c 200000 /dev/zero | tr '\\0' x >&2; printf END >&2; exit 1");
    let outcome = execute(request("loud", kind, Execution::Process, None, json!({}))).await;
    let RunOutcome::Fail(text) = outcome else {
        panic!("expected a failure, got {outcome:?}")
    };
    assert!(
        text.starts_with("exit status 1\n...xxx"),
        "{}",
        text.get(..40).unwrap_or(&text)
    );
    assert!(text.ends_with("xxxEND"));
    assert!(
        text.len() <= OUTPUT_TAIL + "exit status 1\n...".len(),
        "{}",
        text.len()
    );
    // 5 MB of stdout: read as it comes, so the child never blocks on a full pipe.
    let kind = shell("head -c 5000000 /dev/zero");
    let outcome = execute(request("chatty", kind, Execution::Process, None, json!({}))).await;
    assert_eq!(outcome, RunOutcome::Success(Value::Null));
}

#[test]
fn tails_keep_the_last_bytes() {
    let chunks: [(&str, Vec<&[u8]>, usize, &str); 6] = [
        ("short", vec![b"abc"], 4, "abc"),
        ("exact", vec![b"ab", b"cd"], 4, "abcd"),
        ("cut", vec![b"abc", b"def"], 4, "...cdef"),
        ("many chunks", vec![b"ab"; 50], 3, "...bab"),
        ("cut inside a character", vec!["aéé".as_bytes()], 3, "...é"),
        ("invalid utf-8 replaced", vec![b"a\xffb"], 16, "a\u{FFFD}b"),
    ];
    for (name, chunks, cap, expected) in chunks {
        let mut tail = Tail::default();
        for chunk in chunks {
            tail.push(chunk, cap);
        }
        assert_eq!(tail.text(cap), expected, "{name}");
    }
}

#[test]
fn parameter_variable_names() {
    for (name, expected) in [
        ("a", "ENGINE_PARAM_A"),
        ("max-rows", "ENGINE_PARAM_MAX_ROWS"),
        ("a.b c", "ENGINE_PARAM_A_B_C"),
        ("x9_", "ENGINE_PARAM_X9_"),
        ("ünï", "ENGINE_PARAM__N_"),
        ("", "ENGINE_PARAM_"),
    ] {
        assert_eq!(param_env_name(name), expected, "{name:?}");
    }
}

#[tokio::test]
async fn cancelling_a_shell_kills_its_children() {
    let dir = Scratch::new("children");
    let kind = with_env(
        // The pid files are written once each process's signal handling is
        // settled. A child of a trapping shell that gets SIGTERM between fork
        // and exec runs its copy of the trap handler and loses the signal, so
        // that child writes its own pid, after exec.
        shell(
            r#"sleep 30 & echo $! > "$D/bg.pid"
               sh -c 'trap "echo term > \"$D/got-term\"; exit 0" TERM
                      sh -c "echo \$\$ > \"\$D/fgchild.pid\"; exec sleep 30" &
                      echo $$ > "$D/fg.pid"; wait' &
               echo $$ > "$D/sh.pid"
               sleep 30; wait"#,
        ),
        &[("D", dir.to_str().expect("utf-8 temp dir"))],
    );
    let req = request("children", kind, Execution::Process, None, json!({}));
    let cancel = req.cancel.clone();
    let run = tokio::spawn(execute(req));
    let files = ["bg.pid", "fg.pid", "fgchild.pid", "sh.pid"];
    let pids = wait_for_pids(files.iter().map(|file| dir.join(file)).collect()).await;
    assert!(
        pids.iter().all(|&pid| running(pid)),
        "all started: {pids:?}"
    );
    let cancelled_at = std::time::Instant::now();
    cancel.cancel();
    assert_eq!(run.await.expect("the run ends"), RunOutcome::Terminated);
    // They all die of SIGTERM: no wait for the SIGKILL grace.
    assert!(
        cancelled_at.elapsed() < KILL_GRACE,
        "took {:?}",
        cancelled_at.elapsed()
    );
    let alive: Vec<i32> = pids.iter().copied().filter(|&pid| running(pid)).collect();
    assert!(
        alive.is_empty(),
        "still running after Terminated: {alive:?}"
    );
    // The group got SIGTERM first: the child that traps it had time to say so.
    let said = std::fs::read_to_string(dir.join("got-term")).unwrap_or_default();
    assert_eq!(said, "term\n", "the trapping child saw no SIGTERM");
}

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_sigterm_gets_sigkill() {
    // Paused tokio time: the SIGKILL grace passes at once; the processes are real.
    let dir = Scratch::new("stubborn");
    let kind = with_env(
        shell("trap '' TERM; sleep 30 & echo $! > \"$D/bg.pid\"; echo $$ > \"$D/sh.pid\"; wait"),
        &[("D", dir.to_str().expect("utf-8 temp dir"))],
    );
    let req = request("stubborn", kind, Execution::Process, None, json!({}));
    let cancel = req.cancel.clone();
    let run = tokio::spawn(execute(req));
    let pids = wait_for_pids(vec![dir.join("bg.pid"), dir.join("sh.pid")]).await;
    let cancelled_at = tokio::time::Instant::now();
    cancel.cancel();
    assert_eq!(run.await.expect("the run ends"), RunOutcome::Terminated);
    assert!(
        cancelled_at.elapsed() >= KILL_GRACE,
        "SIGTERM alone stopped it"
    );
    let alive: Vec<i32> = pids.iter().copied().filter(|&pid| running(pid)).collect();
    assert!(
        alive.is_empty(),
        "still running after Terminated: {alive:?}"
    );
}

#[tokio::test]
async fn leftovers_die_with_the_main_process() {
    // The background sleep keeps stdout open: the run would hang for 30 s if the
    // group were not killed when the shell exits.
    let dir = Scratch::new("leftover");
    let kind = with_env(
        shell("sleep 30 & echo $! > \"$D/bg.pid\"; exit 0"),
        &[("D", dir.to_str().expect("utf-8 temp dir"))],
    );
    let started = std::time::Instant::now();
    let outcome = execute(request(
        "leftover",
        kind,
        Execution::Process,
        None,
        json!({}),
    ))
    .await;
    assert_eq!(outcome, RunOutcome::Success(Value::Null));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let pids = wait_for_pids(vec![dir.join("bg.pid")]).await;
    assert!(
        pids.iter().all(|&pid| !running(pid)),
        "left running: {pids:?}"
    );
}

#[tokio::test]
async fn dropping_a_process_run_kills_the_group() {
    let dir = Scratch::new("dropped");
    let kind = with_env(
        shell("sleep 30 & echo $! > \"$D/bg.pid\"; echo $$ > \"$D/sh.pid\"; wait"),
        &[("D", dir.to_str().expect("utf-8 temp dir"))],
    );
    let run = tokio::spawn(execute(request(
        "dropped",
        kind,
        Execution::Process,
        None,
        json!({}),
    )));
    let pids = wait_for_pids(vec![dir.join("bg.pid"), dir.join("sh.pid")]).await;
    run.abort();
    assert!(run.await.is_err_and(|err| err.is_cancelled()));
    // The drop sends SIGKILL and does not wait: give the kernel a moment.
    assert_eq!(wait_dead(pids).await, Vec::<i32>::new());
}

// ---------------------------------------------------------------------------
// Definitions.

#[test]
fn names() {
    let long = "n".repeat(MAX_NAME_BYTES);
    let too_long = "n".repeat(MAX_NAME_BYTES + 1);
    for (name, expected) in [
        ("extract", Ok(())),
        ("a task", Ok(())),
        ("path.to.file:main", Ok(())),
        ("load/a & b | (c) ~d \"quoted\"", Ok(())),
        ("ünïcode ✓", Ok(())),
        (long.as_str(), Ok(())),
        ("", Err("task name is empty")),
        (
            too_long.as_str(),
            Err("task name is 257 bytes long, at most 256 are allowed"),
        ),
        (
            "a\nb",
            Err("task name contains the control character '\\n' at byte 1"),
        ),
        (
            "tab\t",
            Err("task name contains the control character '\\t' at byte 3"),
        ),
        (
            "it's",
            Err("task name contains a single quote, which conditions cannot quote at byte 2"),
        ),
        (
            " lead",
            Err("task name starts or ends with whitespace at byte 0"),
        ),
        (
            "trail ",
            Err("task name starts or ends with whitespace at byte 5"),
        ),
    ] {
        let got = validate_name(name).map_err(|err| err.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "{name:?}");
    }
}

#[test]
fn executions() {
    let sync_fn = sync(|_| Ok(Value::Null));
    let async_f = async_fn(|_| async { Ok(Value::Null) });
    let function = function_kind();
    let command = program(&["true"]);
    let script = code("python3", "pass");
    let all = [
        Execution::Main,
        Execution::Async,
        Execution::Thread,
        Execution::Process,
    ];
    for (label, kind, f, default, allowed) in [
        (
            "sync",
            &function,
            Some(&sync_fn),
            Execution::Thread,
            "main thread",
        ),
        (
            "async",
            &function,
            Some(&async_f),
            Execution::Async,
            "main async",
        ),
        (
            "unknown function",
            &function,
            None,
            Execution::Thread,
            "main async thread",
        ),
        (
            "command",
            &command,
            None,
            Execution::Process,
            "main process",
        ),
        ("code", &script, None, Execution::Process, "main process"),
    ] {
        assert_eq!(kind.default_execution(f), default, "{label}");
        assert_eq!(
            kind.allowed_executions(f).first(),
            Some(&default),
            "{label}: default first"
        );
        let ok: Vec<&str> = all
            .iter()
            .filter(|e| validate_execution(kind, **e, f).is_ok())
            .map(|e| e.as_str())
            .collect();
        assert_eq!(ok.join(" "), allowed, "{label}");
    }
    let err = validate_execution(&command, Execution::Async, None).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "execution 'async' is not allowed for a command task; allowed: process, main"
    );
}

#[test]
fn kinds() {
    let bad_env = |name: &str, value: &str| with_env(program(&["true"]), &[(name, value)]);
    for (label, kind, expected) in [
        ("function", function_kind(), Ok(())),
        (
            "empty function",
            TaskKind::Function {
                func: String::new(),
            },
            Err("function name is empty"),
        ),
        ("program", program(&["echo", "hi"]), Ok(())),
        ("no program", program(&[]), Err("command has no program")),
        (
            "empty program",
            program(&["", "x"]),
            Err("command program is empty"),
        ),
        (
            "nul argument",
            program(&["echo", "a\0b"]),
            Err("command argument contains a NUL byte"),
        ),
        ("shell", shell("echo hi"), Ok(())),
        ("blank shell", shell("  "), Err("command line is empty")),
        (
            "nul shell",
            shell("echo \0"),
            Err("command line contains a NUL byte"),
        ),
        ("code", code("python3", ""), Ok(())),
        (
            "no interpreter",
            code(" ", "x"),
            Err("code interpreter is empty"),
        ),
        (
            "empty cwd",
            with_cwd(shell("true"), ""),
            Err("working directory is empty"),
        ),
        ("env", bad_env("FOO", "bar"), Ok(())),
        (
            "empty env name",
            bad_env("", "x"),
            Err("environment variable name is empty"),
        ),
        (
            "env name with =",
            bad_env("A=B", "x"),
            Err("environment variable name \"A=B\" contains '=' or a NUL byte"),
        ),
        (
            "env value with nul",
            bad_env("A", "\0"),
            Err("environment variable A contains a NUL byte"),
        ),
    ] {
        let got = kind.validate().map_err(|err| err.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "{label}");
    }
}

#[test]
fn specs() {
    let spec = |name: &str, kind: TaskKind, execution: Execution| TaskSpec {
        name: name.to_owned(),
        kind,
        start_cond: crate::Condition::Constant {
            value: false,
            always: false,
        },
        end_cond: crate::Condition::Constant {
            value: false,
            always: false,
        },
        execution,
        priority: 0,
        disabled: false,
        force_run: false,
        force_termination: false,
        on_startup: false,
        on_shutdown: false,
        permanent_task: false,
        timeout: None,
        parameters: Map::new(),
        allow_overlap: false,
    };
    let sync_fn = sync(|_| Ok(Value::Null));
    for (label, task, f, expected) in [
        (
            "valid",
            spec("t", shell("true"), Execution::Process),
            None,
            Ok(()),
        ),
        (
            "bad name",
            spec("", shell("true"), Execution::Process),
            None,
            Err("task name is empty"),
        ),
        (
            "bad kind",
            spec("t", shell(""), Execution::Process),
            None,
            Err("command line is empty"),
        ),
        (
            "bad execution",
            spec("t", function_kind(), Execution::Async),
            Some(&sync_fn),
            Err(
                "execution 'async' is not allowed for a blocking function task; allowed: thread, main",
            ),
        ),
    ] {
        let got = task.validate(f).map_err(|err| err.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "{label}");
    }
}

#[test]
fn run_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<RunRequest>();
    assert_send_sync::<RunOutcome>();
    let req = request("t", function_kind(), Execution::Main, None, json!({}));
    assert_send(&execute(req));
}
