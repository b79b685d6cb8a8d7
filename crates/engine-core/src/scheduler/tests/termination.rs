//! Scheduler tests: how runs end early: end conditions, timeouts, terminate
//! and delete requests, renames mid-run, process and thread runs, shutdown
//! grace and dropping the scheduler future.

use std::sync::Arc;

use chrono::TimeDelta;
use serde_json::json;
use tokio::sync::oneshot;

use super::{Sim, local, utc};
use crate::clock::ManualClock;
use crate::log::{Action, MemoryLogStore};
use crate::session::TaskPatch;
use crate::task::{CommandLine, Execution, TaskKind};

#[tokio::test(start_paused = true)]
async fn end_condition_and_timeout_terminate_async_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut ended = sim.task("ended", "daily", "wait");
    ended.end_cond = "time of day between 00:20 and 23:00".parse().expect("cond");
    sim.add_spec(ended);
    let mut timed = sim.task("timed", "daily", "wait");
    timed.timeout = Some(TimeDelta::minutes(5));
    sim.add_spec(timed);
    let mut permanent = sim.task("permanent", "daily", "wait");
    permanent.timeout = Some(TimeDelta::minutes(5));
    permanent.permanent_task = true;
    sim.add_spec(permanent);
    sim.run_until("2024-01-01 01:00").await;
    let terminate = |at: &str| {
        vec![
            (Action::Run, "2024-01-01 00:00".to_owned()),
            (Action::Terminate, at.to_owned()),
        ]
    };
    assert_eq!(sim.records("ended"), terminate("2024-01-01 00:20"));
    assert_eq!(sim.last("ended").exc_text.as_deref(), Some("end condition"));
    assert_eq!(sim.records("timed"), terminate("2024-01-01 00:05"));
    assert_eq!(sim.last("timed").exc_text.as_deref(), Some("timeout"));
    // A permanent task never times out; shutdown terminates it.
    assert_eq!(sim.records("permanent"), terminate("2024-01-01 01:00"));
    assert_eq!(sim.last("permanent").exc_text.as_deref(), Some("shutdown"));
}

#[tokio::test(start_paused = true)]
async fn config_timeout_applies_without_a_task_timeout() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.session
        .patch_config(
            &json!({"timeout": "20 minutes"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    sim.add("t", "daily", "wait");
    sim.run_until("2024-01-01 01:00").await;
    assert_eq!(
        sim.records("t")[1],
        (Action::Terminate, "2024-01-01 00:20".to_owned())
    );
}

#[tokio::test(start_paused = true)]
async fn terminate_and_delete_requests_stop_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("stop me", "daily", "wait");
    let session = sim.session.clone();
    let started = Arc::clone(&sim.started);
    let until = local(utc(), "2024-01-01 05:00");
    let scheduler = sim.scheduler();
    let run = scheduler.run(sim.clock.sleep_until(until));
    let poke = async {
        started.notified().await;
        assert!(session.task("stop me").expect("task").state.running);
        session.terminate("stop me").expect("terminated");
        session.force_run("stop me").expect("forced");
        started.notified().await;
        let removed = session.delete_task("stop me").await.expect("deleted");
        assert_eq!(removed.spec.name, "stop me");
    };
    let (ran, ()) = tokio::join!(run, poke);
    ran.expect("ran");
    let texts: Vec<(Action, Option<String>)> = sim
        .log
        .task_records("stop me")
        .into_iter()
        .map(|r| (r.action, r.exc_text))
        .collect();
    assert_eq!(
        texts,
        [
            (Action::Run, None),
            (Action::Terminate, Some("requested".into())),
            (Action::Run, None),
            (Action::Terminate, Some("requested".into())),
        ]
    );
    assert!(!sim.session.has_task("stop me"));
    assert!(sim.session.terminate("stop me").is_err());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_scheduler_future_ends_its_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("t", "daily", "wait");
    let scheduler = sim.scheduler();
    tokio::select! {
        _ = scheduler.run(std::future::pending::<()>()) => panic!("runs until dropped"),
        () = sim.clock.sleep_until(local(utc(), "2024-01-01 00:10")) => {}
    }
    assert_eq!(
        sim.records("t")[1],
        (Action::Terminate, "2024-01-01 00:10".to_owned())
    );
    assert_eq!(sim.last("t").exc_text.as_deref(), Some("shutdown"));
    assert!(!sim.session.task("t").expect("task").state.running);
    assert_eq!(sim.session.scheduler_state(), None);
    // The session takes a new scheduler.
    sim.run_until("2024-01-02 01:00").await;
    assert_eq!(sim.runs("t").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_task_renamed_while_running_ends_under_its_new_name() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("old", "daily", "slow90s");
    let session = sim.session.clone();
    let at = local(utc(), "2024-01-01 00:01");
    let scheduler = sim.scheduler();
    let run = scheduler.run(sim.clock.sleep_until(local(utc(), "2024-01-01 01:00")));
    let rename = async {
        sim.clock.sleep_until(at).await;
        let patch = TaskPatch {
            name: Some("new".into()),
            ..TaskPatch::default()
        };
        let view = session.update_task("old", patch).expect("renamed");
        assert!(view.state.running);
    };
    let (ran, ()) = tokio::join!(run, rename);
    ran.expect("ran");
    assert_eq!(
        sim.records("old"),
        [(Action::Run, "2024-01-01 00:00".to_owned())]
    );
    assert_eq!(
        sim.records("new"),
        [(Action::Success, "2024-01-01 00:01".to_owned())]
    );
    let state = sim.session.task("new").expect("task").state;
    assert_eq!(state.status, Some(Action::Success));
    assert!(!state.running);
}

#[tokio::test(start_paused = true)]
async fn end_condition_terminates_a_process_run() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut program = sim.session.default_spec(
        "program",
        TaskKind::Command {
            command: CommandLine::Program(vec!["sleep".into(), "30".into()]),
            cwd: None,
            env: Default::default(),
        },
    );
    assert_eq!(program.execution, Execution::Process);
    program.start_cond = "daily".parse().expect("cond");
    program.end_cond = "time of day after 00:02".parse().expect("cond");
    sim.add_spec(program);
    sim.run_until("2024-01-01 00:10").await;
    assert_eq!(
        sim.records("program")[1],
        (Action::Terminate, "2024-01-01 00:02".to_owned())
    );
    assert_eq!(
        sim.last("program").exc_text.as_deref(),
        Some("end condition")
    );
}

/// On `ManualClock`: the shell must have started its child before the timeout.
#[tokio::test]
async fn timeout_terminates_a_shell_command_with_its_children() {
    let dir = std::env::temp_dir().join(format!("engine-sched-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pid_file = dir.join("child.pid");
    let _ = std::fs::remove_file(&pid_file);
    let clock = Arc::new(ManualClock::new(local(utc(), "2024-01-01 00:00")));
    let sim = Sim::with_clock(utc(), clock.clone(), Arc::new(MemoryLogStore::default()));
    let line = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let mut shell = sim.session.default_spec(
        "shell",
        TaskKind::Command {
            command: CommandLine::Shell(line),
            cwd: None,
            env: Default::default(),
        },
    );
    shell.start_cond = "daily".parse().expect("cond");
    shell.timeout = Some(TimeDelta::minutes(1));
    sim.add_spec(shell);
    let (stop, stopped) = oneshot::channel::<()>();
    let scheduler = sim.scheduler();
    let session = sim.session.clone();
    let drive = async {
        let mut ends = session.runs_ended();
        let pid = loop {
            match std::fs::read_to_string(&pid_file) {
                Ok(pid) if pid.ends_with('\n') => break pid,
                _ => tokio::task::yield_now().await,
            }
        };
        clock.advance(TimeDelta::minutes(2));
        ends.changed().await.expect("the run ended");
        let _ = stop.send(());
        pid
    };
    let (ran, pid) = tokio::join!(scheduler.run(stopped), drive);
    ran.expect("ran");
    assert_eq!(
        sim.records("shell")[1],
        (Action::Terminate, "2024-01-01 00:02".to_owned())
    );
    assert_eq!(sim.last("shell").exc_text.as_deref(), Some("timeout"));
    assert!(process_gone(pid.trim()), "the shell's child {pid} survived");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether process `pid` has exited (gone, or a zombie), polling for a while:
/// signal delivery is asynchronous.
fn process_gone(pid: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        let gone = match stat {
            Err(_) => true,
            Ok(text) => text
                .rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
                .unwrap_or(false),
        };
        if gone || std::time::Instant::now() > deadline {
            return gone;
        }
        std::thread::yield_now();
    }
}

/// Thread runs on `ManualClock`: tokio's paused clock would jump while a thread
/// works, so time moves only when the test says.
#[tokio::test]
async fn end_condition_and_timeout_terminate_thread_runs() {
    let start = local(utc(), "2024-01-01 00:00");
    let clock = Arc::new(ManualClock::new(start));
    let sim = Sim::with_clock(utc(), clock.clone(), Arc::new(MemoryLogStore::default()));
    let mut timed = sim.task("timed", "daily", "wait_thread");
    timed.timeout = Some(TimeDelta::minutes(5));
    assert_eq!(timed.execution, Execution::Thread);
    sim.add_spec(timed);
    let mut ended = sim.task("ended", "daily", "wait_thread");
    ended.end_cond = "time of day after 00:10".parse().expect("cond");
    sim.add_spec(ended);

    let (stop, stopped) = oneshot::channel::<()>();
    let scheduler = sim.scheduler();
    let session = sim.session.clone();
    let started = Arc::clone(&sim.started);
    let drive = async {
        started.notified().await;
        started.notified().await;
        let mut ends = session.runs_ended();
        clock.advance(TimeDelta::minutes(6));
        ends.changed().await.expect("a run ended");
        clock.advance(TimeDelta::minutes(6));
        ends.changed().await.expect("a run ended");
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(scheduler.run(stopped), drive);
    ran.expect("ran");
    assert_eq!(
        sim.records("timed")[1],
        (Action::Terminate, "2024-01-01 00:06".to_owned())
    );
    assert_eq!(sim.last("timed").exc_text.as_deref(), Some("timeout"));
    assert_eq!(
        sim.records("ended")[1],
        (Action::Terminate, "2024-01-01 00:12".to_owned())
    );
    assert_eq!(sim.last("ended").exc_text.as_deref(), Some("end condition"));
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_the_grace_then_terminates() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.session
        .patch_config(
            &json!({"shutdown_grace": 60})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    sim.add("forever", "daily", "wait");
    sim.add("slow", "daily", "slow90s");
    sim.run_until("2024-01-01 00:01").await;
    assert_eq!(
        sim.records("slow")[1],
        (Action::Success, "2024-01-01 00:01".to_owned())
    );
    assert_eq!(
        sim.records("forever")[1],
        (Action::Terminate, "2024-01-01 00:02".to_owned())
    );
    assert_eq!(sim.last("forever").exc_text.as_deref(), Some("shutdown"));
    let state = sim.session.task("forever").expect("task").state;
    assert_eq!(state.status, Some(Action::Terminate));
    assert!(!state.running);
}

/// Dropping the future on a multi-threaded runtime ends the loop on its thread
/// before the drop returns: runs terminated, the session free for a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_future_ends_the_loop_thread_and_its_runs() {
    let clock = Arc::new(ManualClock::new(local(utc(), "2024-01-01 00:00")));
    let sim = Sim::with_clock(utc(), clock, Arc::new(MemoryLogStore::default()));
    sim.add("t", "daily", "wait");
    let scheduler = sim.scheduler();
    tokio::select! {
        _ = scheduler.run(std::future::pending::<()>()) => panic!("runs until dropped"),
        () = sim.started.notified() => {}
    }
    assert_eq!(
        sim.records("t").iter().map(|r| r.0).collect::<Vec<_>>(),
        [Action::Run, Action::Terminate]
    );
    assert_eq!(sim.last("t").exc_text.as_deref(), Some("shutdown"));
    assert!(!sim.session.task("t").expect("task").state.running);
    assert_eq!(sim.session.scheduler_state(), None);
    // The session takes a new scheduler at once.
    sim.scheduler()
        .run(async {})
        .await
        .expect("a second scheduler runs");
}
