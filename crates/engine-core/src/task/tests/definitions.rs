//! Task definition tests: names, executions, kinds, whole specs, and the
//! run types being `Send + Sync`.

use super::*;

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
