//! Tests of the config file reader: every kind of error with its position,
//! and what a good file turns into.

use std::path::Path;
use std::sync::Arc;

use engine::api::{Scope, Scopes};
use engine::log::MemoryLogStore;
use engine::task::{CommandLine, Execution, TaskKind};
use engine::{Session, SystemClock};
use serde_json::json;

use super::{RunConfig, StateChoice, apply, is_loopback, line_column, parse, render_all};

/// The file name errors are rendered with.
const FILE: &str = "t.toml";

/// The problems a case expects: `(line, column, part of the message)`.
type Expected = &'static [(usize, usize, &'static str)];

/// The environment the tests see.
fn env(name: &str) -> Option<String> {
    match name {
        "TOKEN" => Some("s3cret".to_owned()),
        "EMPTY" => Some("  ".to_owned()),
        _ => None,
    }
}

/// Reads `source` and builds its tasks in a throwaway session, as `engine run
/// --check` does; returns the config and every problem rendered.
fn read(source: &str) -> (RunConfig, Vec<String>) {
    let (config, mut problems) = parse(source, Path::new("/base"), &env);
    let session = Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock));
    problems.extend(apply(&config, &session));
    (config, render_all(&problems, FILE, source))
}

/// Checks that `source` gives exactly the `expected` problems: each is
/// `(line, column, part of the message)`, in file order; for a condition,
/// the caret drawing is checked too.
fn check(source: &str, expected: &[(usize, usize, &str)]) {
    let (_, rendered) = read(source);
    let found: Vec<String> = rendered
        .iter()
        .map(|r| r.lines().next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        found.len(),
        expected.len(),
        "problems of\n{source}\nfound:\n{}",
        rendered.join("\n")
    );
    for ((line, column, part), (first, full)) in expected.iter().zip(found.iter().zip(&rendered)) {
        let at = format!("{FILE}:{line}:{column}: ");
        assert!(
            first.starts_with(&at) && first.contains(part),
            "expected {at}...{part}..., found:\n{full}"
        );
        assert!(
            full.lines()
                .nth(2)
                .is_some_and(|caret| caret.trim().starts_with('^')),
            "no caret line in:\n{full}"
        );
    }
}

#[test]
fn problems_are_found_with_their_positions() {
    let cases: &[(&str, Expected)] = &[
        // TOML syntax.
        ("[session\n", &[(1, 9, "bad TOML")]),
        ("x = \n", &[(1, 5, "bad TOML")]),
        // Sections.
        ("[extra]\n", &[(1, 2, "unknown section 'extra'")]),
        ("session = 1\n", &[(1, 11, "[session] must be a table")]),
        // [session]: every key through the session's own rules.
        (
            "[session]\ntimezone = \"Mars/Base\"\n",
            &[(2, 12, "unknown time zone 'Mars/Base'")],
        ),
        (
            "[session]\nbogus = true\n",
            &[(2, 1, "unknown key 'bogus'")],
        ),
        (
            "[session]\ncycle_sleep = \"3 fortnights\"\n",
            &[(2, 15, "cycle_sleep")],
        ),
        (
            "[session]\nmax_concurrent_runs = 0\n",
            &[(2, 23, "at least 1")],
        ),
        (
            "[session]\ntask_execution = \"sideways\"\n",
            &[(2, 18, "unknown execution")],
        ),
        (
            "[session]\ntask_priority = \"high\"\n",
            &[(2, 17, "an integer")],
        ),
        (
            "[session]\ntimezone = 1\nbogus = 2\ntimeout = -1\n",
            &[(2, 12, "time zone"), (3, 1, "bogus"), (4, 11, "timeout")],
        ),
        // [api].
        (
            "[api]\nport = 70000\n",
            &[(2, 8, "port must be from 0 to 65535")],
        ),
        ("[api]\nport = \"80\"\n", &[(2, 8, "invalid type")]),
        ("[api]\nhots = \"x\"\n", &[(2, 1, "unknown field `hots`")]),
        ("[api]\nbody_limit = 0\n", &[(2, 14, "positive integer")]),
        (
            "[api]\nheader_timeout = \"soon\"\n",
            &[(2, 18, "header_timeout")],
        ),
        (
            "[api]\nshutdown_grace = true\n",
            &[(2, 18, "duration text")],
        ),
        (
            "[api]\nbody_timeout = -1\nwrite_timeout = \"soon\"\n",
            &[(2, 16, "body_timeout"), (3, 17, "write_timeout")],
        ),
        (
            "[[api.tokens]]\nscopes = [\"read\"]\ntoken = \"inline\"\n",
            &[(3, 9, "an inline token is refused")],
        ),
        (
            "[[api.tokens]]\nscopes = [\"read\", \"root\"]\nenv = \"TOKEN\"\n",
            &[(2, 19, "unknown scope 'root'")],
        ),
        (
            "[[api.tokens]]\nscopes = []\nenv = \"TOKEN\"\n",
            &[(2, 10, "scopes is empty")],
        ),
        (
            "[[api.tokens]]\nscopes = [\"read\"]\nenv = \"UNSET\"\n",
            &[(3, 7, "UNSET is not set")],
        ),
        (
            "[[api.tokens]]\nscopes = [\"read\"]\nenv = \"EMPTY\"\n",
            &[(3, 7, "the secret is empty")],
        ),
        (
            "[[api.tokens]]\nscopes = [\"read\"]\n",
            &[(1, 1, "needs env = \"VAR\" or file = \"path\"")],
        ),
        (
            "[[api.tokens]]\nscopes = [\"read\"]\nenv = \"TOKEN\"\nfile = \"t\"\n",
            &[(4, 8, "either env or file")],
        ),
        (
            "[[api.tokens]]\nscopes = [\"read\"]\nfile = \"no/such/file\"\n",
            &[(3, 8, "cannot read")],
        ),
        (
            "[[api.users]]\nuser = \"ops\"\nscopes = [\"admin\"]\npassword = \"x\"\n",
            &[(4, 12, "an inline password is refused")],
        ),
        (
            "[[api.users]]\nuser = \"a:b\"\nscopes = [\"admin\"]\npassword_env = \"TOKEN\"\n",
            &[(2, 8, "without ':'")],
        ),
        // [state].
        ("[state]\ndir = \"\"\n", &[(2, 7, "dir is empty")]),
        ("[state]\npath = \"x\"\n", &[(2, 1, "unknown field `path`")]),
        // [parameters].
        (
            "[parameters]\nrows = { \"$return\" = 1 }\n",
            &[(2, 8, "'$return' must name a task")],
        ),
        // [[tasks]].
        ("tasks = 1\n", &[(1, 9, "array of tables")]),
        (
            "[[tasks]]\ncommand = \"x\"\n",
            &[(1, 1, "missing field `name`")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncomand = \"x\"\n",
            &[(3, 1, "task 'a': unknown field `comand`")],
        ),
        ("[[tasks]]\nname = \"a\"\n", &[(2, 8, "needs command")]),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\ncode = \"y\"\n",
            &[(4, 8, "only one of command, code and func")],
        ),
        (
            "[[tasks]]\nname = \"a\"\nclass = \"CodeTask\"\ncommand = \"x\"\n",
            &[(3, 9, "a CodeTask needs code, not command")],
        ),
        (
            "[[tasks]]\nname = \"a\"\nclass = \"ShellTask\"\ncommand = \"x\"\n",
            &[(3, 9, "unknown class 'ShellTask'")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = [\"ls\", 1]\n",
            &[(3, 11, "a string or an array of strings")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nlang = \"sh\"\n",
            &[(4, 8, "lang applies to code only")],
        ),
        (
            "[[tasks]]\nname = \"a\"\nfunc = \"f\"\ncwd = \"/tmp\"\n",
            &[(4, 7, "cwd applies to command and code only")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nstart_cond = \"daily betwen 08:00 and 10:00\"\n",
            &[(4, 21, "task 'a': bad start_cond")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nend_cond = 'true &'\n",
            &[(4, 18, "bad end_cond")],
        ),
        (
            // An escape in the text: the error points at the start of the value.
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nstart_cond = \"after task \\u0027x\\u0027 &\"\n",
            &[(4, 14, "bad start_cond")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nexecution = \"sideways\"\n",
            &[(4, 13, "unknown execution 'sideways'")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nexecution = \"thread\"\n",
            &[(4, 13, "execution 'thread' is not allowed")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\ntimeout = \"soon\"\n",
            &[(4, 11, "timeout")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\ntimeout = 0\n",
            &[(4, 11, "timeout must be more than zero")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\npriority = 1.5\n",
            &[(4, 12, "invalid type")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nparameters = 3\n",
            &[(4, 14, "parameters must be a table")],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nparameters = { p = { \"$return\" = \"t\", x = 1 } }\n",
            &[(4, 14, "takes only 'default'")],
        ),
        (
            "[[tasks]]\nname = \"it's\"\ncommand = \"x\"\n",
            &[(2, 8, "single quote")],
        ),
        (
            "[[tasks]]\nname = \"f\"\nfunc = \"nope\"\n",
            &[(
                3,
                8,
                "unknown function 'nope' (the engine binary registers no functions",
            )],
        ),
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\n[[tasks]]\nname = \"a\"\ncommand = \"y\"\n",
            &[(5, 8, "duplicate task name 'a'")],
        ),
        // Several tasks, several problems, all reported.
        (
            "[[tasks]]\nname = \"a\"\ncommand = \"x\"\nstart_cond = \"dialy\"\n\
             [[tasks]]\nname = \"b\"\nbad = 1\n\
             [[tasks]]\nname = \"c\"\ncommand = \"x\"\nexecution = \"async\"\n",
            &[
                (4, 15, "bad start_cond"),
                (7, 1, "unknown field `bad`"),
                (11, 13, "execution 'async' is not allowed"),
            ],
        ),
        // Non-ASCII text before the error: columns count characters.
        (
            "[[tasks]]\nname = \"é\"\ncommand = \"x\"\nstart_cond = \"time of day between 08:00 and é\"\n",
            &[(4, 45, "bad start_cond")],
        ),
    ];
    for (source, expected) in cases {
        check(source, expected);
    }
}

#[test]
fn a_good_file_is_read_completely() {
    let source = r#"
[session]
timezone = "Europe/Helsinki"
task_priority = 3
cycle_sleep = "1 second"
shutdown_grace = 2.5

[api]
host = "0.0.0.0"
port = 8080
body_limit = 4096
header_timeout = "5 seconds"
body_timeout = "20 seconds"
write_timeout = 15
max_connections = 8
shutdown_grace = 1
allow_unauthenticated_remote = false

[[api.tokens]]
scopes = ["read", "write"]
env = "TOKEN"

[[api.users]]
user = "ops"
scopes = ["admin"]
password_env = "TOKEN"

[state]
dir = "state"

[parameters]
env = "prod"
when = 2024-01-01T10:00:00Z
limits = { rows = 10 }

[[tasks]]
name = "shell"
command = "echo hi"
start_cond = "daily between 08:00 and 10:00"
cwd = "work"
env = { A = "1" }
timeout = "10 minutes"
disabled = true

[[tasks]]
name = "argv"
class = "CommandTask"
command = ["ls", "-l"]
execution = "main"
priority = 7
parameters = { rows = { "$return" = "shell", default = [] } }

[[tasks]]
name = "script"
code = "print(1)"
lang = "python3"
end_cond = "task 'script' is running"
on_startup = true
allow_overlap = true
"#;
    let (config, problems) = read(source);
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(
        config.session.timezone.map(|tz| tz.name()),
        Some("Europe/Helsinki")
    );
    assert_eq!(config.session.task_priority, Some(3));
    assert_eq!(
        config.session.shutdown_grace,
        Some(chrono::TimeDelta::milliseconds(2500))
    );
    let api = &config.api;
    assert_eq!(api.host.as_ref().map(|(h, _)| h.as_str()), Some("0.0.0.0"));
    assert_eq!(api.port, Some(8080));
    assert_eq!(api.body_limit, Some(4096));
    assert_eq!(api.header_timeout, Some(std::time::Duration::from_secs(5)));
    assert_eq!(api.body_timeout, Some(std::time::Duration::from_secs(20)));
    assert_eq!(api.write_timeout, Some(std::time::Duration::from_secs(15)));
    assert_eq!(api.max_connections, Some(8));
    assert_eq!(api.shutdown_grace, Some(std::time::Duration::from_secs(1)));
    assert_eq!(
        api.tokens,
        vec![(
            "s3cret".to_owned(),
            Scopes::of(&[Scope::Read, Scope::Write])
        )]
    );
    assert_eq!(
        api.users,
        vec![(
            "ops".to_owned(),
            "s3cret".to_owned(),
            Scopes::of(&[Scope::Admin])
        )]
    );
    assert!(api.has_auth());
    assert_eq!(
        config.state,
        Some(StateChoice::Dir(Path::new("/base").join("state")))
    );
    let parameters: Vec<_> = config
        .parameters
        .iter()
        .map(|(k, v, _)| (k.as_str(), v.clone()))
        .collect();
    assert_eq!(
        parameters,
        vec![
            ("env", json!("prod")),
            ("limits", json!({"rows": 10})),
            ("when", json!("2024-01-01T10:00:00Z")),
        ]
    );

    let session = Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock));
    assert!(apply(&config, &session).is_empty());
    let names: Vec<String> = session.tasks().into_iter().map(|t| t.spec.name).collect();
    assert_eq!(names, ["shell", "argv", "script"]);

    let shell = session.task("shell").expect("shell").spec;
    assert_eq!(
        shell.kind,
        TaskKind::Command {
            command: CommandLine::Shell("echo hi".to_owned()),
            cwd: Some("/base/work".to_owned()),
            env: [("A".to_owned(), "1".to_owned())].into(),
        }
    );
    assert_eq!(
        shell.start_cond.to_string(),
        "daily between 08:00 and 10:00"
    );
    assert_eq!(shell.timeout, Some(chrono::TimeDelta::minutes(10)));
    assert!(shell.disabled);
    assert_eq!(shell.execution, Execution::Process);

    let argv = session.task("argv").expect("argv").spec;
    assert_eq!(
        argv.kind,
        TaskKind::Command {
            command: CommandLine::Program(vec!["ls".to_owned(), "-l".to_owned()]),
            cwd: None,
            env: Default::default(),
        }
    );
    assert_eq!(argv.execution, Execution::Main);
    assert_eq!(argv.priority, 7);
    assert_eq!(
        argv.parameters["rows"],
        json!({"$return": "shell", "default": []})
    );

    let script = session.task("script").expect("script").spec;
    assert!(matches!(script.kind, TaskKind::Code { ref lang, .. } if lang == "python3"));
    assert_eq!(script.end_cond.to_string(), "task 'script' is running");
    assert!(script.on_startup && script.allow_overlap && !script.disabled);
}

#[test]
fn secrets_come_from_files_without_their_line_break() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("token"), "from-file\r\n").expect("write token");
    let source = "[[api.tokens]]\nscopes = [\"read\"]\nfile = \"token\"\n";
    let (config, problems) = parse(source, dir.path(), &env);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        config.api.tokens,
        vec![("from-file".to_owned(), Scopes::of(&[Scope::Read]))]
    );
}

#[test]
fn state_memory_and_directories() {
    let cases = [
        ("memory", None, StateChoice::Memory),
        ("memory", Some("/base"), StateChoice::Memory),
        ("st", None, StateChoice::Dir("st".into())),
        ("st", Some("/base"), StateChoice::Dir("/base/st".into())),
        ("./memory", None, StateChoice::Dir("./memory".into())),
        ("/abs", Some("/base"), StateChoice::Dir("/abs".into())),
    ];
    for (text, base, expected) in cases {
        assert_eq!(
            StateChoice::parse(text, base.map(Path::new)),
            expected,
            "{text}"
        );
    }
}

#[test]
fn positions_and_loopback_hosts() {
    let cases = [
        ("abc", 0, (1, 1)),
        ("abc", 2, (1, 3)),
        ("a\nbc", 3, (2, 2)),
        ("é\né", 5, (2, 2)),
        ("é\né", 4, (2, 1)),
        // Inside a character, and past the end: clamped, no panic.
        ("é", 1, (1, 1)),
        ("ab", 99, (1, 3)),
    ];
    for (text, at, expected) in cases {
        assert_eq!(line_column(text, at), expected, "{text:?} at {at}");
    }
    for (host, loopback) in [
        ("127.0.0.1", true),
        ("127.1.2.3", true),
        ("::1", true),
        ("[::1]", true),
        ("localhost", true),
        ("0.0.0.0", false),
        ("10.1.2.3", false),
        ("::", false),
        ("no-such-host.invalid", false),
    ] {
        assert_eq!(is_loopback(host), loopback, "{host}");
    }
}
