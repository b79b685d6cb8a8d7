//! Tests of the request stores: order, numbering, persistence, torn and damaged files.

use std::io::Write as _;
use std::path::Path;

use serde_json::json;

use super::*;

/// A change to task `name` with `body`.
fn change(method: Verb, name: &str, body: Value) -> Change {
    Change {
        resource: Resource::Task,
        method,
        target: Some(name.to_owned()),
        body,
    }
}

/// Three changes in the order a client made them.
fn three() -> [Change; 3] {
    [
        change(Verb::Post, "a", json!({"command": "true"})),
        Change {
            resource: Resource::Parameters,
            method: Verb::Patch,
            target: None,
            body: json!({"x": 1}),
        },
        change(Verb::Delete, "a", Value::Null),
    ]
}

/// Records `changes` and returns the `(seq, change)` pairs replay gives back.
async fn record_all(store: &dyn RequestStore, changes: &[Change]) -> Result<Vec<u64>, ApiError> {
    let mut seqs = Vec::new();
    for change in changes {
        let stored = store.record(change).await?;
        assert_eq!(&stored.change, change);
        seqs.push(stored.seq);
    }
    Ok(seqs)
}

/// What replay gives, as `(seq, change)` pairs.
async fn replayed(store: &dyn RequestStore) -> Result<Vec<(u64, Change)>, ApiError> {
    Ok(store
        .replay()
        .await?
        .into_iter()
        .map(|r| (r.seq, r.change))
        .collect())
}

fn numbered(seqs: &[u64], changes: &[Change]) -> Vec<(u64, Change)> {
    seqs.iter().copied().zip(changes.iter().cloned()).collect()
}

fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(bytes)
}

#[tokio::test]
async fn every_store_replays_in_order_and_compacts() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let stores: Vec<Box<dyn RequestStore>> = vec![
        Box::new(MemoryStore::default()),
        Box::new(JsonLinesStore::open(dir.path().join("requests.jsonl"))?),
        Box::new(SqliteRequestStore::open(dir.path().join("engine.db"))?),
    ];
    let changes = three();
    for store in &stores {
        assert_eq!(replayed(store.as_ref()).await?, []);
        let seqs = record_all(store.as_ref(), &changes).await?;
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(replayed(store.as_ref()).await?, numbered(&seqs, &changes));

        // Keep only the parameters change; numbering goes on after 3.
        let kept: Vec<StoredRequest> = store
            .replay()
            .await?
            .into_iter()
            .filter(|r| r.seq == 2)
            .collect();
        store.compact(&kept).await?;
        assert_eq!(
            replayed(store.as_ref()).await?,
            numbered(&[2], &changes[1..2])
        );
        let again = record_all(store.as_ref(), &changes[..1]).await?;
        assert_eq!(again, [4]);
        assert_eq!(
            replayed(store.as_ref()).await?,
            vec![(2, changes[1].clone()), (4, changes[0].clone())]
        );
    }
    Ok(())
}

#[tokio::test]
async fn durable_stores_survive_reopening() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let jsonl = dir.path().join("requests.jsonl");
    let db = dir.path().join("engine.db");
    let changes = three();
    record_all(&JsonLinesStore::open(&jsonl)?, &changes[..2]).await?;
    record_all(&SqliteRequestStore::open(&db)?, &changes[..2]).await?;

    let reopened: [Box<dyn RequestStore>; 2] = [
        Box::new(JsonLinesStore::open(&jsonl)?),
        Box::new(SqliteRequestStore::open(&db)?),
    ];
    for store in &reopened {
        assert_eq!(
            replayed(store.as_ref()).await?,
            numbered(&[1, 2], &changes[..2])
        );
        assert_eq!(record_all(store.as_ref(), &changes[2..]).await?, [3]);
        assert_eq!(
            replayed(store.as_ref()).await?,
            numbered(&[1, 2, 3], &changes)
        );
    }
    Ok(())
}

#[tokio::test]
async fn jsonl_lines_are_one_stored_request_each() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("requests.jsonl");
    let store = JsonLinesStore::open(&path)?;
    record_all(&store, &three()).await?;
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(text.ends_with('\n'));
    assert_eq!(lines.len(), 3);
    let first = lines.first().cloned().unwrap_or_default();
    assert_eq!(first["seq"], 1);
    assert_eq!(first["resource"], "Task");
    assert_eq!(first["method"], "POST");
    assert_eq!(first["target"], "a");
    assert_eq!(first["body"], json!({"command": "true"}));
    assert!(
        first["at_ms"]
            .as_u64()
            .is_some_and(|ms| ms > 1_600_000_000_000)
    );
    assert_eq!(lines.get(1).map(|l| l.get("target").is_none()), Some(true));
    Ok(())
}

#[tokio::test]
async fn jsonl_ignores_and_cuts_a_torn_last_line() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let changes = three();
    // Each tail is what a crash in the middle of an append could leave.
    let tails: [&[u8]; 5] = [
        b"{\"seq\":3,\"at_ms\":1,\"resou",
        b"{\"seq\":3,\"at_ms\":1,\"resource\":\"Task\",\"method\":\"DELETE\",\"target\":\"a\",\"body\":null}",
        b"garbage\n",
        b"\x00\x00\x00\x00",
        b"{\"seq\":3,\"at_ms\":1,\"resou\n\n  \n",
    ];
    for (i, tail) in tails.iter().enumerate() {
        let path = dir.path().join(format!("torn-{i}.jsonl"));
        record_all(&JsonLinesStore::open(&path)?, &changes[..2]).await?;
        let whole = std::fs::read(&path)?;
        append(&path, tail)?;

        let store = JsonLinesStore::open(&path)?;
        assert_eq!(std::fs::read(&path)?, whole, "tail {i} was not cut");
        assert_eq!(
            replayed(&store).await?,
            numbered(&[1, 2], &changes[..2]),
            "tail {i}"
        );
        assert_eq!(record_all(&store, &changes[2..]).await?, [3], "tail {i}");

        // A torn line appearing while the store is open is cut at replay.
        append(&path, tail)?;
        assert_eq!(
            replayed(&store).await?,
            numbered(&[1, 2, 3], &changes),
            "tail {i}"
        );
        assert_eq!(record_all(&store, &changes[..1]).await?, [4], "tail {i}");
        assert_eq!(
            JsonLinesStore::open(&path)?.replay().await?.len(),
            4,
            "tail {i}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn jsonl_reports_a_damaged_line_before_the_last() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let line = |seq: u64| {
        format!(
            "{{\"seq\":{seq},\"at_ms\":1,\"resource\":\"Returns\",\"method\":\"PATCH\",\"body\":{{}}}}\n"
        )
    };
    let cases = [
        (
            format!("{}oops\n{}", line(1), line(2)),
            Some("line 2 of {} is not a stored request"),
        ),
        (format!("{}\n\n{}{}", line(1), line(2), line(3)), None),
        (
            format!("{}{}{}", line(1), line(3), line(2)),
            Some("line 3 of {} has seq 2 after seq 3"),
        ),
        (
            format!("{}{{\"seq\":2}}\n{}", line(1), line(3)),
            Some("line 2 of {} is not a stored request"),
        ),
        (
            format!("{}{}", line(1), line(1)),
            Some("line 2 of {} has seq 1 after seq 1"),
        ),
    ];
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("damaged-{i}.jsonl"));
        std::fs::write(&path, &text)?;
        let opened = JsonLinesStore::open(&path);
        match expected {
            Some(message) => {
                let error = opened.err().map(|e| (e.kind(), e.message().to_owned()));
                let message = message.replace("{}", &path.display().to_string());
                assert_eq!(error, Some((ErrorKind::Store, message)), "case {i}");
                assert_eq!(
                    std::fs::read_to_string(&path)?,
                    text,
                    "case {i} changed the file"
                );
            }
            None => assert_eq!(opened?.replay().await?.len(), 3, "case {i}"),
        }
    }
    Ok(())
}

#[tokio::test]
async fn stores_that_cannot_open_say_so() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let error = JsonLinesStore::open(dir.path()).err();
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::Store));
    let error = SqliteRequestStore::open(dir.path()).err();
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::Store));
    let missing = dir.path().join("no/such/dir/requests.jsonl");
    let error = JsonLinesStore::open(&missing).err();
    assert_eq!(
        error.map(|e| e.message().to_owned()),
        Some(format!("cannot open {}", missing.display()))
    );
    Ok(())
}

#[tokio::test]
async fn sqlite_shares_its_file_and_uses_wal() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("engine.db");
    // Another user of the same file (the task log), with its own connection.
    let other = rusqlite::Connection::open(&db)?;
    other.execute_batch(
        "CREATE TABLE task_log (task_name TEXT); INSERT INTO task_log VALUES ('a');",
    )?;

    let store = SqliteRequestStore::open(&db)?;
    assert_eq!(store.path(), db.as_path());
    record_all(&store, &three()).await?;
    other.execute("INSERT INTO task_log VALUES ('b')", [])?;
    let logged: i64 = other.query_row("SELECT count(*) FROM task_log", [], |r| r.get(0))?;
    assert_eq!(logged, 2);
    let mode: String = other.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    assert_eq!(replayed(&store).await?.len(), 3);

    store.compact(&[]).await?;
    assert_eq!(replayed(&store).await?, []);
    assert_eq!(sqlite::last_seq(&store)?, Some(3));

    // A row that does not decode is reported with its number.
    other.execute(
        "INSERT INTO api_requests (at_ms, resource, method, target, body) VALUES (1, 'Nope', 'GET', NULL, 'null')",
        [],
    )?;
    let error = store.replay().await.err().map(|e| e.message().to_owned());
    assert_eq!(
        error.as_deref(),
        Some("row 4 of the request store has a bad resource")
    );
    Ok(())
}

#[tokio::test]
async fn the_default_compact_refuses() {
    struct Plain;
    impl RequestStore for Plain {
        fn record<'a>(
            &'a self,
            change: &'a Change,
        ) -> BoxFuture<'a, Result<StoredRequest, ApiError>> {
            let stored = StoredRequest {
                seq: 1,
                at_ms: 0,
                change: change.clone(),
            };
            Box::pin(async move { Ok(stored) })
        }
        fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
    }
    let error = Plain
        .compact(&[])
        .await
        .err()
        .map(|e| (e.kind(), e.message().to_owned()));
    assert_eq!(
        error,
        Some((
            ErrorKind::Store,
            "this request store cannot compact".to_owned()
        ))
    );
}
