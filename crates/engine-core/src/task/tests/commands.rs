//! Task run tests: command and code runs: outcomes, temporary files, bounded
//! output, parameter variables, and killing process groups.

use super::*;

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
