//! `engine run` end to end: the README's curl tour against the quickstart,
//! state that survives `kill -9`, graceful shutdown, authentication from the
//! config, `--check` on good and bad configs, the non-loopback rule, help and
//! version.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use engine_tests::{Server, example_binary, poll, run_engine_within, run_within};
use serde_json::{Value, json};

/// How long a test waits for a run it caused.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a command that should exit by itself may take.
const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// A file of the workspace.
fn workspace_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The log records of `query` (`task_name=x&action=run`) on `server`.
fn logs(server: &Server, query: &str) -> Vec<Value> {
    let (status, body) = server.http("GET", &format!("/logs?{query}"), None);
    assert_eq!(status, 200, "GET /logs?{query}: {body}");
    body.as_array().cloned().unwrap_or_default()
}

/// Waits until `task` has a record of `action`.
fn wait_for(server: &Server, task: &str, action: &str) {
    let query = format!("task_name={task}&action={action}");
    let found = poll(RUN_TIMEOUT, || {
        (!logs(server, &query).is_empty()).then_some(())
    });
    assert!(
        found.is_some(),
        "no {action} of {task} within {RUN_TIMEOUT:?}; log: {:?}\nstderr:\n{}",
        logs(server, ""),
        server.stderr()
    );
}

/// The shell commands of the README's "A tour of the HTTP API" code block, in
/// order, with `\` line continuations joined.
fn readme_tour() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace_file("README.md")).expect("read README.md");
    let section = readme
        .split_once("## A tour of the HTTP API")
        .map(|(_, rest)| rest)
        .expect("the README has a section 'A tour of the HTTP API'");
    let block = section
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(block, _)| block)
        .expect("the tour has a ```sh code block");
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in block.lines() {
        let line = line.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(line);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    commands
}

#[test]
fn the_readme_curl_tour_works_verbatim_against_the_quickstart() {
    let curl = Command::new("curl").arg("--version").output();
    assert!(
        curl.is_ok_and(|o| o.status.success()),
        "this test runs the README's curl commands: install curl (e.g. apt-get install curl)"
    );
    let tour = readme_tour();
    assert!(tour.len() >= 8, "the tour is too short: {tour:?}");
    for needed in [
        "-X POST",
        "force_run",
        "/logs?",
        "/dependencies",
        "-X DELETE",
    ] {
        assert!(
            tour.iter().any(|c| c.contains(needed)),
            "the tour has no command with {needed}: {tour:?}"
        );
    }
    let state = tempfile::tempdir().expect("temp dir");
    let quickstart = workspace_file("examples/quickstart.toml");
    let server = Server::start(
        &[
            quickstart.to_str().expect("utf-8 path"),
            "--port",
            "0",
            "--state",
            state.path().to_str().expect("utf-8 path"),
        ],
        &[],
    );
    assert!(
        server
            .ready
            .ends_with(&format!("state in {} (sqlite)", state.path().display())),
        "{}",
        server.ready
    );
    for command in &tour {
        assert!(
            command.starts_with("curl "),
            "not a curl command: {command}"
        );
        let command = command
            .replacen("curl ", "curl -sS -f --max-time 20 ", 1)
            .replace("127.0.0.1:5000", &format!("127.0.0.1:{}", server.port));
        let output = Command::new("sh")
            .args(["-c", &command])
            .output()
            .expect("run sh");
        assert!(
            output.status.success(),
            "{command}\nexit {:?}\n{}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{command}: the answer is not JSON: {e}"));
        assert!(!answer.is_null(), "{command}: null answer");
        // A reader of the tour looks at the run before deleting the task.
        if command.contains("force_run") {
            wait_for(&server, "my-task", "success");
        }
    }
    // The created task ran (its records outlive the task).
    assert_eq!(logs(&server, "task_name=my-task&action=run").len(), 1);
    assert_eq!(logs(&server, "task_name=my-task&action=success").len(), 1);
    let (status, _) = server.http("GET", "/tasks/my-task", None);
    assert_eq!(status, 404, "the tour deletes my-task");
    // The quickstart's own chain and failure handling ran too.
    for (task, action) in [
        ("extract", "success"),
        ("load", "success"),
        ("flaky", "fail"),
        ("alert", "success"),
    ] {
        wait_for(&server, task, action);
    }
    let fail = logs(&server, "task_name=flaky&action=fail");
    assert!(
        fail[0]["exc_text"]
            .as_str()
            .is_some_and(|t| t.contains("exit status 3") && t.contains("boom")),
        "{fail:?}"
    );
}

/// What must survive a restart: the tasks, every log record, the parameters.
fn snapshot(server: &Server, ignore: &str) -> (Value, Vec<Value>, Value) {
    let (status, tasks) = server.http("GET", "/tasks", None);
    assert_eq!(status, 200);
    let tasks = Value::Array(
        tasks
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t["name"] != ignore)
            .collect(),
    );
    let records = logs(server, "")
        .into_iter()
        .filter(|r| r["task_name"] != ignore)
        .collect();
    let (status, parameters) = server.http("GET", "/parameters", None);
    assert_eq!(status, 200);
    (tasks, records, parameters)
}

#[test]
fn state_survives_kill_9() {
    let state = tempfile::tempdir().expect("temp dir");
    let dir = state.path().to_str().expect("utf-8 path");
    let args = ["--port", "0", "--state", dir];
    // Local noon: the daily check cannot straddle a midnight between the runs.
    let zone = engine_tests::noon_zone();
    let env = [("TZ", zone.as_str())];
    let server = Server::start(&args, &env);
    let changes = [
        (
            "POST",
            "/tasks/nightly",
            json!({"command": "echo nightly", "start_cond": "daily"}),
        ),
        (
            "POST",
            "/tasks/once",
            json!({"command": ["sh", "-c", "echo once"], "start_cond": "false"}),
        ),
        ("PATCH", "/tasks/once", json!({"force_run": true})),
        (
            "POST",
            "/tasks/idle",
            json!({"command": "true", "start_cond": "time of day between 03:00 and 03:01"}),
        ),
        (
            "PATCH",
            "/tasks/idle",
            json!({"priority": 5, "disabled": true, "parameters": {"k": 1}}),
        ),
        ("POST", "/tasks/gone", json!({"command": "true"})),
        ("DELETE", "/tasks/gone", Value::Null),
        (
            "PATCH",
            "/parameters",
            json!({"env": "prod", "rows": [1, 2, 3]}),
        ),
    ];
    for (method, path, body) in &changes {
        let body = (!body.is_null()).then_some(body);
        let (status, answer) = server.http(method, path, body);
        assert_eq!(status, 200, "{method} {path}: {answer}");
    }
    wait_for(&server, "nightly", "success");
    wait_for(&server, "once", "success");
    let before = snapshot(&server, "");
    let (tasks, records, parameters) = &before;
    let names: Vec<&str> = tasks
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["nightly", "once", "idle"]);
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(parameters, &json!({"env": "prod", "rows": [1, 2, 3]}));
    assert_eq!(tasks[2]["priority"], 5);
    assert_eq!(tasks[2]["disabled"], true);
    assert_eq!(tasks[0]["status"], "success");
    assert!(tasks[0]["last_run"].is_string() && tasks[0]["last_success"].is_string());

    server.kill();
    let server = Server::start(&args, &env);
    // A task forced after the restart: once it has run, the scheduler's
    // start-up cycle (where `nightly` or `once` would start again) is over.
    for (method, path, body) in [
        ("POST", "/tasks/probe", json!({"command": "true"})),
        ("PATCH", "/tasks/probe", json!({"force_run": true})),
    ] {
        let (status, answer) = server.http(method, path, Some(&body));
        assert_eq!(status, 200, "{method} {path}: {answer}");
    }
    wait_for(&server, "probe", "success");
    let after = snapshot(&server, "probe");
    assert_eq!(after.0, before.0, "tasks after the restart");
    assert_eq!(after.1, before.1, "log records after the restart");
    assert_eq!(after.2, before.2, "parameters after the restart");
    assert_eq!(
        logs(&server, "task_name=nightly&action=run").len(),
        1,
        "the daily task ran a second time"
    );
    let (status, _) = server.http("GET", "/tasks/gone", None);
    assert_eq!(status, 404, "the deleted task came back");
}

#[test]
fn sigterm_shuts_down_gracefully_and_runs_on_shutdown_tasks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("bye.toml");
    std::fs::write(
        &config,
        "[[tasks]]\nname = \"bye\"\ncommand = \"true\"\non_shutdown = true\n\n[state]\ndir = \"state\"\n",
    )
    .expect("write config");
    let args = [config.to_str().expect("utf-8 path"), "--port", "0"];
    let mut server = Server::start(&args, &[]);
    assert!(
        server.ready.ends_with("state (sqlite)"),
        "the state dir is relative to the config: {}",
        server.ready
    );
    assert!(logs(&server, "task_name=bye").is_empty());
    let status = server.signal_and_wait("TERM", EXIT_TIMEOUT);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "stderr:\n{}",
        server.stderr()
    );
    drop(server);
    let server = Server::start(&args, &[]);
    let actions: Vec<Value> = logs(&server, "task_name=bye")
        .iter()
        .map(|r| r["action"].clone())
        .collect();
    assert_eq!(actions, [json!("run"), json!("success")]);
}

#[test]
fn memory_state_and_tokens_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("auth.toml");
    std::fs::write(
        &config,
        "[[api.tokens]]\nscopes = [\"read\"]\nenv = \"READ_TOKEN\"\n\n\
         [[api.users]]\nuser = \"ops\"\nscopes = [\"admin\"]\npassword_file = \"ops.password\"\n",
    )
    .expect("write config");
    std::fs::write(dir.path().join("ops.password"), "hunter2\n").expect("write password");
    let server = Server::start(
        &[
            config.to_str().expect("utf-8 path"),
            "--port",
            "0",
            "--state",
            "memory",
        ],
        &[("READ_TOKEN", "r3ad")],
    );
    assert!(
        server.ready.ends_with("state in memory (memory)"),
        "{}",
        server.ready
    );
    let request = |method: &str, path: &str, auth: Option<&str>, body: &str| {
        let mut command = Command::new("curl");
        command.args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
            "-X",
            method,
        ]);
        if let Some(auth) = auth {
            command.args(["-H", &format!("Authorization: {auth}")]);
        }
        if !body.is_empty() {
            command.args(["-d", body]);
        }
        let url = format!("http://127.0.0.1:{}{path}", server.port);
        let output = command.arg(url).output().expect("run curl");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let cases = [
        ("GET", "/tasks", None, "", "401"),
        ("GET", "/tasks", Some("Bearer wrong"), "", "401"),
        ("GET", "/tasks", Some("Bearer r3ad"), "", "200"),
        (
            "POST",
            "/tasks/x",
            Some("Bearer r3ad"),
            r#"{"command": "true"}"#,
            "403",
        ),
        // ops:hunter2 (the file's line break is not part of the password).
        (
            "POST",
            "/tasks/x",
            Some("Basic b3BzOmh1bnRlcjI="),
            r#"{"command": "true"}"#,
            "200",
        ),
        ("GET", "/tasks/x", Some("Basic b3BzOmh1bnRlcjI="), "", "200"),
    ];
    for (method, path, auth, body, expected) in cases {
        assert_eq!(
            request(method, path, auth, body),
            expected,
            "{method} {path} with {auth:?}"
        );
    }
}

#[test]
fn check_accepts_good_configs_and_shows_every_error_with_its_place() {
    let quickstart = workspace_file("examples/quickstart.toml");
    let out = run_engine_within(
        &["run", "--check", quickstart.to_str().expect("utf-8 path")],
        &[],
        EXIT_TIMEOUT,
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "ok: 6 tasks\n"),
        "{}",
        out.stderr
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "cond.toml",
            "[[tasks]]\nname = \"a\"\ncommand = \"true\"\nstart_cond = \"daily betwen 08:00 and 10:00\"\n",
            &[
                "error: {file}:4:21: task 'a': bad start_cond:",
                "  daily betwen 08:00 and 10:00",
                "        ^^^^^^",
            ],
        ),
        (
            "many.toml",
            "[session]\ntimezone = \"Mars/Base\"\n\n[[tasks]]\nname = \"a\"\ncommand = \"true\"\n\
             execution = \"sideways\"\n\n[[tasks]]\nname = \"a\"\ncommand = \"true\"\nbad = 1\n",
            &[
                "error: {file}:2:12: [session] unknown time zone 'Mars/Base'",
                "error: {file}:7:13: task 'a': unknown execution 'sideways'",
                "error: {file}:10:8: duplicate task name 'a'",
                "error: {file}:12:1: task 'a': unknown field `bad`",
                "4 errors",
            ],
        ),
        ("syntax.toml", "[tasks\n", &["error: {file}:1:7: bad TOML:"]),
        (
            "host.toml",
            "[api]\nhost = \"0.0.0.0\"\n",
            &[
                "error: {file}:2:8: refusing to listen on 0.0.0.0 without authentication",
                "  host = \"0.0.0.0\"",
            ],
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write config");
        let file = path.to_str().expect("utf-8 path");
        let out = run_engine_within(&["run", "--check", file], &[], EXIT_TIMEOUT);
        assert_eq!(out.code, Some(2), "{name}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{name}");
        let mut lines = out.stderr.lines();
        for want in *expected {
            let want = want.replace("{file}", file);
            assert!(
                lines.any(|line| line.starts_with(&want)),
                "{name}: no line starting with {want:?} (in order) in:\n{}",
                out.stderr
            );
        }
    }

    // The same host is fine with credentials or an explicit opt-in.
    for (name, text) in [
        (
            "token.toml",
            "[api]\nhost = \"0.0.0.0\"\n[[api.tokens]]\nscopes = [\"read\"]\nenv = \"T\"\n",
        ),
        (
            "open.toml",
            "[api]\nhost = \"0.0.0.0\"\nallow_unauthenticated_remote = true\n",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write config");
        let out = run_engine_within(
            &["run", "--check", path.to_str().expect("utf-8 path")],
            &[("T", "t0ken")],
            EXIT_TIMEOUT,
        );
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), "ok: 0 tasks\n"),
            "{name}: {}",
            out.stderr
        );
    }
}

#[test]
fn a_non_loopback_host_without_auth_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let out = run_engine_within(
        &[
            "run",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--state",
            state.to_str().expect("utf-8 path"),
        ],
        &[],
        EXIT_TIMEOUT,
    );
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .starts_with("error: refusing to listen on 0.0.0.0 without authentication"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert!(!state.exists(), "the state directory was created");
}

#[test]
fn a_port_in_use_fails_before_the_state_is_touched() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken
        .local_addr()
        .expect("local address")
        .port()
        .to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let out = run_engine_within(
        &[
            "run",
            "--port",
            &port,
            "--state",
            state.to_str().expect("utf-8 path"),
        ],
        &[],
        EXIT_TIMEOUT,
    );
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains(&format!("error: cannot listen on 127.0.0.1:{port}: ")),
        "{}",
        out.stderr
    );
    assert!(!state.exists(), "the state directory was created");
}

#[test]
fn a_second_engine_on_the_same_state_is_refused_until_the_first_is_gone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let state = state.to_str().expect("utf-8 path");
    let first = Server::start(&["--port", "0", "--state", state], &[]);
    let second = run_engine_within(&["run", "--port", "0", "--state", state], &[], EXIT_TIMEOUT);
    assert_eq!(second.code, Some(1), "{}{}", second.stdout, second.stderr);
    assert!(
        second.stderr.contains("is in use by another engine"),
        "{}",
        second.stderr
    );
    // The lock dies with its holder, also on kill -9.
    first.kill();
    let third = Server::start(&["--port", "0", "--state", state], &[]);
    assert!(third.ready.contains("(sqlite)"), "{}", third.ready);
}

#[test]
fn help_and_version() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--help"], &["run", "cond", "--version"]),
        (
            &["run", "--help"],
            &[
                "--host",
                "--port",
                "--state",
                "--check",
                "--verbose",
                "[[api.tokens]]",
                "[[tasks]]",
                "allow_unauthenticated_remote",
                "Exit codes:",
            ],
        ),
        (&["cond", "--help"], &["eval", "parse", "next"]),
        (
            &["--version"],
            &[concat!("engine ", env!("CARGO_PKG_VERSION"))],
        ),
    ];
    for (args, expected) in cases {
        let out = run_engine_within(args, &[], EXIT_TIMEOUT);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        for want in *expected {
            assert!(
                out.stdout.contains(want),
                "{args:?} lacks {want:?}:\n{}",
                out.stdout
            );
        }
    }
    let out = run_engine_within(&["run", "--bogus"], &[], EXIT_TIMEOUT);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn the_serving_examples_stop_by_themselves_with_once() {
    let cases = [
        ("embed", "load returned {\"loaded\":5}"),
        (
            "custom_auth",
            "PATCH /parameters with key Some(\"let-me-in\") -> 200",
        ),
        (
            "custom_store",
            "rebuilt: 5 changes applied, tasks [\"report (priority 3)\"]",
        ),
    ];
    for (name, expected) in cases {
        let out = run_within(
            Command::new(example_binary(name)),
            &["--once"],
            &[],
            EXIT_TIMEOUT,
        );
        assert_eq!(out.code, Some(0), "{name}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(expected), "{name}:\n{}", out.stdout);
    }
}
