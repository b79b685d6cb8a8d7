//! Restarts on durable stores: changes made over HTTP survive a hard stop (no
//! graceful shutdown, a torn last line in the JSON-lines file) and are
//! replayed into a new session, without running a forced task again.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use engine_api::{ApiService, JsonLinesStore, RequestStore, SqliteRequestStore};
use engine_core::log::{LogStore, SqliteLogStore};
use serde_json::{Value, json};

use super::client::{Running, holds, send};
use super::{RUN_DEADLINE, case, check, session_on, snapshot, wait_for};

/// The durable request stores under test.
#[derive(Debug, Clone, Copy)]
enum Kind {
    JsonLines,
    Sqlite,
}

/// Opens the request store of `kind` in `dir`.
fn open_store(kind: Kind, dir: &Path) -> Arc<dyn RequestStore> {
    match kind {
        Kind::JsonLines => {
            Arc::new(JsonLinesStore::open(dir.join("requests.jsonl")).expect("open"))
        }
        Kind::Sqlite => {
            Arc::new(SqliteRequestStore::open(dir.join("requests.sqlite")).expect("open"))
        }
    }
}

/// Opens the task log in `dir`.
fn open_log(dir: &Path) -> Arc<dyn LogStore> {
    Arc::new(SqliteLogStore::open(dir.join("log.sqlite")).expect("open the log"))
}

/// How many `run` records task `name` has in the log, as `/logs` shows.
async fn runs(running: &Running, name: &str) -> usize {
    let target = format!("/logs?task_name={name}&action=run");
    let reply = send(running.addr(), "GET", &target, &[], "").await;
    reply.json.as_array().map_or(0, Vec::len)
}

/// Starts a session with the API over `kind`'s store in `dir`, replays, serves.
async fn start(kind: Kind, dir: &Path) -> (Running, engine_api::ReplaySummary) {
    let session = session_on(open_log(dir));
    let api = ApiService::new(session.clone()).with_store(open_store(kind, dir));
    let summary = api.replay().await.expect("replay");
    (Running::start(&session, api).await, summary)
}

async fn survives_a_hard_restart(kind: Kind) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (running, summary) = start(kind, dir.path()).await;
    assert_eq!(
        (summary.applied, summary.skipped),
        (0, 0),
        "{kind:?}: a new store is empty"
    );
    check(
        &running,
        &[],
        vec![
            case(
                "POST",
                "/tasks/keep",
                r#"{"func": "noop", "disabled": true, "start_cond": "daily"}"#,
                200,
            ),
            case(
                "POST",
                "/tasks/gone",
                r#"{"func": "noop", "disabled": true}"#,
                200,
            ),
            case("POST", "/tasks/forced", r#"{"func": "noop"}"#, 200),
            case(
                "PATCH",
                "/tasks/keep",
                r#"{"priority": 4, "name": "kept"}"#,
                200,
            ),
            case("DELETE", "/tasks/gone", "", 200),
            case(
                "PATCH",
                "/parameters",
                r#"{"x": 1, "rows": {"$return": "forced", "default": []}}"#,
                200,
            ),
            case(
                "PATCH",
                "/configs",
                r#"{"task_priority": 2, "task_pre_exist": "raise"}"#,
                200,
            ),
            case("PATCH", "/returns", r#"{"kept": "r"}"#, 200),
            case(
                "POST",
                "/tasks/late",
                r#"{"func": "noop", "disabled": true}"#,
                200,
            )
            .json(json!({"priority": 2})),
            // Refused changes are not stored.
            case("POST", "/tasks/kept", r#"{"func": "noop"}"#, 409),
            case("PATCH", "/tasks/gone", r#"{"priority": 1}"#, 404),
            case("PATCH", "/tasks/forced", r#"{"force_run": true}"#, 200),
        ],
    )
    .await;
    wait_for(
        &running,
        "/logs?task_name=forced&action=success",
        RUN_DEADLINE,
        |logs| logs.as_array().is_some_and(|records| !records.is_empty()),
    )
    .await;
    let forced = send(running.addr(), "GET", "/tasks/forced", &[], "").await;
    assert!(
        holds(
            &forced.json,
            &json!({"force_run": false, "status": "success"})
        ),
        "{}",
        forced.text
    );
    let before = snapshot(&running, &[]).await;
    assert_eq!(runs(&running, "forced").await, 1);

    // A crash: no drain, no shutdown, and for the JSON-lines file a write torn
    // half-way through the next line.
    running.kill().await;
    if let Kind::JsonLines = kind {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("requests.jsonl"))
            .expect("open the file");
        file.write_all(br#"{"seq":11,"at_ms":1,"resource":"Task","method":"POST","targ"#)
            .expect("append half a line");
    }

    let (running, summary) = start(kind, dir.path()).await;
    assert_eq!(
        (summary.applied, summary.adjusted, summary.skipped),
        (10, 1, 0),
        "{kind:?}: every stored change applies again, the served force_run is dropped"
    );
    assert_eq!(
        snapshot(&running, &[]).await,
        before,
        "{kind:?}: the state is as before the crash"
    );
    let tasks = send(running.addr(), "GET", "/tasks", &[], "").await;
    assert!(
        holds(
            &tasks.json,
            &json!([
                {"name": "forced", "force_run": false, "status": "success", "priority": 0},
                {"name": "kept", "priority": 4, "start_cond": "daily", "disabled": true},
                {"name": "late", "priority": 2},
            ])
        ),
        "{kind:?}: {}",
        tasks.text
    );
    // A probe forced now runs; the scheduler looked at every task meanwhile,
    // and `forced` did not run again.
    check(
        &running,
        &[],
        vec![case(
            "POST",
            "/tasks/probe",
            r#"{"func": "noop", "force_run": true}"#,
            200,
        )],
    )
    .await;
    wait_for(
        &running,
        "/logs?task_name=probe&action=success",
        RUN_DEADLINE,
        |logs| logs.as_array().is_some_and(|records| !records.is_empty()),
    )
    .await;
    assert_eq!(
        runs(&running, "forced").await,
        1,
        "{kind:?}: the forced task ran again"
    );
    let session = send(running.addr(), "GET", "/session", &[], "").await;
    assert_eq!(
        session.json["tasks"],
        json!(["forced", "kept", "late", "probe"]),
        "{kind:?}"
    );
    assert_eq!(session.json["returns"]["kept"], "r");
    assert_eq!(
        session.json["parameters"],
        json!({"x": 1, "rows": {"$return": "forced", "default": []}})
    );
    running.stop().await;

    // The torn line was cut and the probe stored after the last whole line.
    let stored = open_store(kind, dir.path())
        .replay()
        .await
        .expect("read the store");
    let targets: Vec<Value> = stored
        .iter()
        .map(|r| json!([r.change.method.as_str(), r.change.target]))
        .collect();
    assert_eq!(stored.len(), 11, "{kind:?}: {targets:?}");
    assert_eq!(targets.last(), Some(&json!(["POST", "probe"])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_changes_survive_a_hard_restart() {
    survives_a_hard_restart(Kind::JsonLines).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_changes_survive_a_hard_restart() {
    survives_a_hard_restart(Kind::Sqlite).await;
}
