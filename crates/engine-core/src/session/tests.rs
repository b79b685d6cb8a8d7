//! Tests of the session: task definitions and names, updates, configuration,
//! parameters, returns, the dependencies view and state from the log.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::{
    Config, ConfigPatch, DependencyType, OnExists, Relation, Session, TaskPatch, TaskView,
};
use crate::clock::ManualClock;
use crate::condition::Condition;
use crate::log::{Action, LogRecord, MemoryLogStore};
use crate::task::{CommandLine, Execution, TaskKind, TaskSpec};

fn session() -> Session {
    session_on(Arc::new(MemoryLogStore::default()))
}

fn session_on(log: Arc<MemoryLogStore>) -> Session {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap());
    let session = Session::with_config(log, Arc::new(clock), Config::default());
    session.register_sync("sync", |_| Ok(Value::Null));
    session.register_async("async", |_| async { Ok(Value::Null) });
    session
}

fn func(name: &str) -> TaskKind {
    TaskKind::Function {
        func: name.to_owned(),
    }
}

fn shell(line: &str) -> TaskKind {
    TaskKind::Command {
        command: CommandLine::Shell(line.to_owned()),
        cwd: None,
        env: Default::default(),
    }
}

fn spec(session: &Session, name: &str, kind: TaskKind) -> TaskSpec {
    session.default_spec(name, kind)
}

fn obj(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// The names in order, for compact comparisons.
fn names(session: &Session) -> Vec<String> {
    session.task_names()
}

/// Creating a task: the spec (changed by `edit`), the policy, and the expected
/// outcome: the final name, or an error containing the text.
struct Create {
    name: &'static str,
    kind: TaskKind,
    edit: fn(&mut TaskSpec),
    on_exists: Option<OnExists>,
    expect: Result<&'static str, &'static str>,
}

fn check_create(session: &Session, case: Create) {
    let before = session.tasks();
    let mut spec = spec(session, case.name, case.kind);
    (case.edit)(&mut spec);
    // The dry run agrees with the creation under the config's policy.
    let policy = session.config().task_pre_exist;
    let dry = session.check_task(&spec).map_err(|e| e.to_string());
    let result = session.create_task(spec, case.on_exists);
    if case.on_exists.is_none_or(|p| p == policy) {
        assert_eq!(
            dry,
            result.as_ref().map(|_| ()).map_err(|e| e.to_string()),
            "check_task disagrees on {}",
            case.name
        );
        assert_eq!(session.tasks().len(), session.task_names().len());
    }
    match (result, case.expect) {
        (Ok(view), Ok(name)) => assert_eq!(view.spec.name, name),
        (Err(e), Err(text)) => {
            assert!(e.message().contains(text), "{e} does not say {text}");
            assert_eq!(
                session.tasks(),
                before,
                "a refused creation changed nothing"
            );
        }
        (got, want) => panic!("{}: got {got:?}, want {want:?}", case.name),
    }
}

fn keep(_: &mut TaskSpec) {}

#[test]
fn creation_names_and_policies() {
    let session = session();
    let cases = [
        Create {
            name: "a task",
            kind: func("sync"),
            edit: keep,
            on_exists: None,
            expect: Ok("a task"),
        },
        Create {
            name: "a task",
            kind: func("sync"),
            edit: keep,
            on_exists: None,
            expect: Err("task 'a task' already exists"),
        },
        Create {
            name: "a task",
            kind: func("sync"),
            edit: keep,
            on_exists: Some(OnExists::Rename),
            expect: Ok("a task0"),
        },
        Create {
            name: "a task",
            kind: func("sync"),
            edit: keep,
            on_exists: Some(OnExists::Rename),
            expect: Ok("a task1"),
        },
        Create {
            name: "a task",
            kind: func("async"),
            edit: |s| s.priority = 7,
            on_exists: Some(OnExists::Ignore),
            expect: Ok("a task"),
        },
        Create {
            name: "a task",
            kind: func("async"),
            edit: |s| s.priority = 9,
            on_exists: Some(OnExists::Replace),
            expect: Ok("a task"),
        },
        // Default names: the function, the command text.
        Create {
            name: "",
            kind: func("sync"),
            edit: keep,
            on_exists: None,
            expect: Ok("sync"),
        },
        Create {
            name: "",
            kind: shell("echo hi"),
            edit: keep,
            on_exists: None,
            expect: Ok("echo hi"),
        },
        Create {
            name: "",
            kind: TaskKind::Code {
                code: "print(1)".into(),
                lang: "python3".into(),
                cwd: None,
                env: Default::default(),
            },
            edit: keep,
            on_exists: None,
            expect: Err("a code task needs a name"),
        },
        // Invalid definitions.
        Create {
            name: "x",
            kind: func("nope"),
            edit: keep,
            on_exists: None,
            expect: Err("unknown function 'nope'"),
        },
        Create {
            name: "x",
            kind: func("sync"),
            edit: |s| s.execution = Execution::Process,
            on_exists: None,
            expect: Err("execution 'process' is not allowed"),
        },
        Create {
            name: "x",
            kind: shell("true"),
            edit: |s| s.execution = Execution::Thread,
            on_exists: None,
            expect: Err("execution 'thread' is not allowed"),
        },
        Create {
            name: "it's",
            kind: func("sync"),
            edit: keep,
            on_exists: None,
            expect: Err("quote"),
        },
        Create {
            name: "x",
            kind: func("sync"),
            edit: |s| s.timeout = Some(TimeDelta::zero()),
            on_exists: None,
            expect: Err("timeout must be more than zero"),
        },
        Create {
            name: "x",
            kind: func("sync"),
            edit: |s| {
                s.parameters.insert("p".into(), json!({"$return": 5}));
            },
            on_exists: None,
            expect: Err("parameter 'p': '$return' must name a task"),
        },
        Create {
            name: "x",
            kind: func("sync"),
            edit: |s| {
                s.parameters
                    .insert("p".into(), json!({"$return": "a", "other": 1}));
            },
            on_exists: None,
            expect: Err("takes only 'default'"),
        },
    ];
    for case in cases {
        check_create(&session, case);
    }
    assert_eq!(
        names(&session),
        ["a task", "a task0", "a task1", "sync", "echo hi"]
    );
    // `ignore` kept the old definition, `replace` swapped it in place.
    let replaced = session.task("a task").expect("task");
    assert_eq!(replaced.spec.priority, 9);
    assert_eq!(replaced.spec.execution, Execution::Async);
}

#[test]
fn config_policy_and_instance_naming() {
    let session = session();
    session
        .patch_config(&obj(
            json!({"task_pre_exist": "rename", "use_instance_naming": true}),
        ))
        .expect("config");
    let first = session
        .create_task(spec(&session, "", func("sync")), None)
        .expect("created");
    assert_eq!(first.spec.name, "task-0");
    let again = session
        .create_task(spec(&session, "task-0", func("sync")), None)
        .expect("created");
    assert_eq!(again.spec.name, "task-00");
}

#[test]
fn a_new_task_never_starts_out_terminated() {
    let session = session();
    let mut created = spec(&session, "a", func("sync"));
    created.force_termination = true;
    let view = session.create_task(created, None).expect("created");
    assert!(!view.spec.force_termination);
}

#[test]
fn defaults_come_from_the_config() {
    let session = session();
    assert_eq!(
        spec(&session, "a", func("sync")).execution,
        Execution::Thread
    );
    assert_eq!(
        spec(&session, "a", func("async")).execution,
        Execution::Async
    );
    assert_eq!(
        spec(&session, "a", shell("true")).execution,
        Execution::Process
    );
    session
        .patch_config(&obj(json!({"task_execution": "main", "task_priority": 3})))
        .expect("config");
    let defaulted = spec(&session, "a", func("sync"));
    assert_eq!(defaulted.execution, Execution::Main);
    assert_eq!(defaulted.priority, 3);
    assert_eq!(defaulted.start_cond.to_string(), "false");
}

/// A config patch and the error it gives (or `None`: accepted).
fn check_config(session: &Session, patch: Value, error: Option<&str>) {
    let before = session.config();
    match (session.patch_config(&obj(patch.clone())), error) {
        (Ok(_), None) => {}
        (Err(e), Some(text)) => {
            assert!(e.message().contains(text), "{patch}: {e}");
            assert_eq!(session.config(), before, "{patch}: nothing changes");
        }
        (got, want) => panic!("{patch}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn config_patches_are_validated() {
    let session = session();
    let cases = [
        (json!({"debug": true, "cycle_sleep": 2.5}), None),
        (json!({"timeout": "1 hour", "shutdown_grace": 0}), None),
        (
            json!({"timezone": "Europe/Berlin", "cycle_sleep": null}),
            None,
        ),
        (
            json!({"task_execution": null, "max_concurrent_runs": 8}),
            None,
        ),
        (json!({"nope": 1}), Some("unknown config key 'nope'")),
        (
            json!({"debug": true, "nope": 1}),
            Some("unknown config key 'nope'"),
        ),
        (
            json!({"debug": "yes"}),
            Some("config key 'debug' expects true or false"),
        ),
        (json!({"task_priority": 1.5}), Some("expects an integer")),
        (
            json!({"task_execution": "fork"}),
            Some("unknown execution 'fork'"),
        ),
        (
            json!({"task_pre_exist": "merge"}),
            Some("unknown name policy 'merge'"),
        ),
        (
            json!({"timezone": "Mars/Olympus"}),
            Some("unknown time zone"),
        ),
        (json!({"max_concurrent_runs": 0}), Some("at least 1")),
        (
            json!({"max_concurrent_runs": -1}),
            Some("a positive integer"),
        ),
        (json!({"timeout": 0}), Some("more than zero")),
        (json!({"timeout": "soon"}), Some("config key 'timeout'")),
        (json!({"cycle_sleep": -1}), Some("seconds")),
        (
            json!({"shutdown_grace": [1]}),
            Some("seconds or a duration string"),
        ),
    ];
    for (patch, error) in cases {
        check_config(&session, patch, error);
    }
    let config = session.config();
    assert!(config.debug);
    assert_eq!(config.cycle_sleep, None);
    assert_eq!(config.timeout, TimeDelta::hours(1));
    assert_eq!(config.timezone, Tz::Europe__Berlin);
    assert_eq!(config.max_concurrent_runs, 8);
    let json = config.to_json();
    assert_eq!(json.get("timeout"), Some(&json!(3600)));
    assert_eq!(json.get("timezone"), Some(&json!("Europe/Berlin")));
    assert_eq!(json.get("task_pre_exist"), Some(&json!("raise")));
    // The JSON form reads back to the same configuration.
    let again = ConfigPatch::from_json(&json).expect("round trip");
    assert_eq!(Config::default().patched(&again), config);
}

#[test]
fn updates_are_validated_and_renames_move_to_the_end() {
    let session = session();
    for name in ["a", "b", "c"] {
        session
            .create_task(spec(&session, name, func("sync")), None)
            .expect("created");
    }
    let patch = |f: fn(&mut TaskPatch)| {
        let mut patch = TaskPatch::default();
        f(&mut patch);
        patch
    };
    let errors = [
        (
            "a",
            patch(|p| p.name = Some("b".into())),
            "task 'b' already exists",
        ),
        (
            "a",
            patch(|p| p.execution = Some(Execution::Async)),
            "not allowed",
        ),
        (
            "a",
            patch(|p| p.kind = Some(func("nope"))),
            "unknown function 'nope'",
        ),
        ("a", patch(|p| p.name = Some(" a".into())), "whitespace"),
        ("zz", patch(|p| p.priority = Some(1)), "unknown task 'zz'"),
    ];
    let before = session.tasks();
    for (name, patch, text) in errors {
        let dry = session.check_patch(name, &patch).expect_err("refused");
        assert!(dry.message().contains(text), "{dry}");
        assert_eq!(session.tasks(), before, "a dry run changes nothing");
        let e = session.update_task(name, patch).expect_err("refused");
        assert_eq!(e, dry, "the dry run and the update agree");
        assert!(e.message().contains(text), "{e}");
        assert_eq!(session.tasks(), before);
    }
    let rename = patch(|p| {
        p.name = Some("a2".into());
        p.start_cond = Some("daily".parse().expect("cond"));
        p.force_termination = Some(true);
    });
    session.check_patch("a", &rename).expect("would update");
    assert_eq!(session.tasks(), before, "a dry run changes nothing");
    let renamed = session.update_task("a", rename).expect("updated");
    assert_eq!(renamed.spec.start_cond.to_string(), "daily");
    // Not running: nothing to terminate.
    assert!(!renamed.spec.force_termination);
    assert_eq!(names(&session), ["b", "c", "a2"]);
    session
        .patch_config(&obj(json!({"task_pre_exist": "replace"})))
        .expect("config");
    session
        .update_task("a2", patch(|p| p.name = Some("b".into())))
        .expect("replaces b");
    assert_eq!(names(&session), ["c", "b"]);
    session
        .patch_config(&obj(json!({"task_pre_exist": "ignore"})))
        .expect("config");
    session
        .check_patch("b", &patch(|p| p.name = Some("c".into())))
        .expect("an ignored rename is no error");
    let ignored = session
        .update_task(
            "b",
            patch(|p| {
                p.name = Some("c".into());
                p.priority = Some(5);
            }),
        )
        .expect("ignored");
    assert_eq!(ignored.spec.priority, 0);
    assert_eq!(names(&session), ["c", "b"]);
}

#[tokio::test]
async fn delete_force_run_and_terminate() {
    let session = session();
    session
        .create_task(spec(&session, "a", func("sync")), None)
        .expect("created");
    let forced = session.force_run("a").expect("forced");
    assert!(forced.spec.force_run);
    let e = session.terminate("a").expect_err("not running");
    assert!(e.message().contains("not running"), "{e}");
    assert!(session.force_run("b").is_err());
    let removed = session.delete_task("a").await.expect("deleted");
    assert_eq!(removed.spec.name, "a");
    assert!(session.tasks().is_empty());
    assert!(session.delete_task("a").await.is_err());
}

#[test]
fn parameters_and_returns_patches() {
    let session = session();
    let params = session
        .patch_parameters(obj(json!({"a": 1, "b": {"$return": "t"}})), &[])
        .expect("set");
    assert_eq!(
        Value::Object(params),
        json!({"a": 1, "b": {"$return": "t"}})
    );
    let params = session
        .patch_parameters(obj(json!({"c": "x"})), &["a".to_owned()])
        .expect("set");
    assert_eq!(
        Value::Object(params),
        json!({"b": {"$return": "t"}, "c": "x"})
    );
    let e = session
        .patch_parameters(obj(json!({"d": {"$return": null}})), &["c".to_owned()])
        .expect_err("malformed");
    assert!(e.message().contains("parameter 'd'"), "{e}");
    assert_eq!(session.parameters().len(), 2, "nothing changed");
    let dry = session.check_parameters(&obj(json!({"d": {"$return": null}})));
    assert_eq!(dry, Err(e), "the dry run and the patch agree");
    session
        .check_parameters(&obj(json!({"e": {"$return": "t", "default": 0}})))
        .expect("well formed");

    let returns = session.patch_returns(obj(json!({"t": [1], "u": 2})), &[]);
    assert_eq!(Value::Object(returns), json!({"t": [1], "u": 2}));
    let returns = session.patch_returns(obj(json!({"u": null})), &["t".to_owned()]);
    assert!(returns.is_empty());
}

#[test]
fn run_parameters_resolve_returns() {
    let session = session();
    session
        .create_task(spec(&session, "t", func("sync")), None)
        .expect("created");
    session
        .patch_parameters(obj(json!({"a": 1, "b": 2})), &[])
        .expect("set");
    session.patch_returns(obj(json!({"t": "out"})), &[]);
    let own = obj(json!({"b": 3, "r": {"$return": "t"}}));
    let params = session.run_params(&own).expect("resolved");
    assert_eq!(Value::Object(params), json!({"a": 1, "b": 3, "r": "out"}));
    let missing = obj(json!({"r": {"$return": "gone"}}));
    let e = session.run_params(&missing).expect_err("unknown task");
    assert_eq!(e.message(), "unknown task 'gone' in parameter 'r'");
}

#[test]
fn dependencies_view() {
    let session = session();
    let conds = [
        ("a", "daily"),
        ("b", "after task 'a'"),
        ("c", "after task 'a' & after task 'b' failed"),
        ("d", "after task 'a' | after task 'b'"),
        ("e", "after tasks 'a', 'b' & daily"),
        ("f", "after any tasks 'a', 'b'"),
        ("g", "(after task 'a' | after task 'b') & daily"),
        ("h", "after task 'ghost' terminated"),
        ("no link", "daily"),
    ];
    for (name, cond) in conds {
        let mut spec = spec(&session, name, func("sync"));
        spec.start_cond = cond.parse().expect("cond");
        session.create_task(spec, None).expect("created");
    }
    let links: Vec<String> = session
        .dependencies()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d,
                d.relation,
                d.kind.map_or("null", DependencyType::as_str)
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            "'a' -> 'b' DependSuccess null",
            "'a' -> 'c' (multi) DependSuccess All",
            "'b' -> 'c' (multi) DependFailure All",
            "'a' -> 'd' DependSuccess Any",
            "'b' -> 'd' DependSuccess Any",
            "'a' -> 'e' (multi) DependSuccess All",
            "'b' -> 'e' (multi) DependSuccess All",
            "'a' -> 'f' DependSuccess Any",
            "'b' -> 'f' DependSuccess Any",
            "'ghost' -> 'h' DependTerminate null",
        ]
    );
    assert_eq!(Relation::DependFinish.as_str(), "DependFinish");
}

#[test]
fn state_comes_from_the_log() {
    let log = Arc::new(MemoryLogStore::default());
    let at = |h: u32| Utc.with_ymd_and_hms(2024, 1, 1, h, 0, 0).unwrap();
    log.append(LogRecord::new("t", Action::Run, at(1)));
    log.append(LogRecord::new("t", Action::Fail, at(2)));
    log.append(LogRecord::new("t", Action::Run, at(3)));
    log.append(LogRecord::new("t", Action::Success, at(4)));
    log.append(LogRecord::new("other", Action::Inaction, at(5)));
    let session = session_on(Arc::clone(&log));
    let view: TaskView = session
        .create_task(spec(&session, "t", func("sync")), None)
        .expect("created");
    assert_eq!(view.state.status, Some(Action::Success));
    assert_eq!(view.state.last_run, Some(at(3)));
    assert_eq!(view.state.last_fail, Some(at(2)));
    assert_eq!(view.state.last_success, Some(at(4)));
    assert_eq!(view.state.last_inaction, None);
    assert!(!view.state.running);
    let fresh = session
        .create_task(spec(&session, "new", func("sync")), None)
        .expect("created");
    assert_eq!(fresh.state.status, None);
}

#[test]
fn owner_is_filled_for_evaluation_not_for_display() {
    let session = session();
    let mut spec = spec(&session, "t", func("sync"));
    spec.start_cond = "daily & ~has failed today".parse().expect("cond");
    let view = session.create_task(spec, None).expect("created");
    assert_eq!(
        view.spec.start_cond.to_string(),
        "daily & ~has failed today"
    );
    let snapshot = session.snapshot_all();
    let owned = snapshot.first().map(|t| t.start.to_string());
    assert_eq!(owned.as_deref(), Some("daily & ~task 't' has failed today"));
    let expected: Condition = "daily & ~task 't' has failed today".parse().expect("cond");
    assert_eq!(
        snapshot.first().map(|t| t.start.as_ref()),
        Some(&expected.with_owner("t"))
    );
}
