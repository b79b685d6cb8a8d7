//! Example: a custom `RequestStore` in a few lines: every accepted change is
//! appended to a `Vec` behind a mutex, and a second session is rebuilt from it
//! with `ApiService::replay` (as a restart would).
//!
//! ```text
//! cargo run -p engine-examples --example custom_store            # serves on 127.0.0.1:5000 until Ctrl-C
//! cargo run -p engine-examples --example custom_store -- --once  # any free port; makes a few changes and stops
//! ```
//!
//! After Ctrl-C (or `--once`) it prints the stored changes and the tasks of the
//! session rebuilt from them. A real store writes somewhere durable before it
//! returns (a file it fsyncs, a database); `engine run` uses the built-in
//! `SqliteRequestStore`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use engine::api::{
    ApiError, ApiService, BoxFuture, Change, RequestStore, ServeConfig, StoredRequest, serve,
};
use engine::log::MemoryLogStore;
use engine::{Session, SystemClock};

/// Keeps every change in memory, numbered from 1.
#[derive(Default)]
struct VecStore {
    changes: Mutex<Vec<StoredRequest>>,
}

impl RequestStore for VecStore {
    fn record<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<StoredRequest, ApiError>> {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let stored = StoredRequest {
            seq: changes.len() as u64 + 1,
            at_ms: 0,
            change: change.clone(),
        };
        changes.push(stored.clone());
        Box::pin(async move { Ok(stored) })
    }

    fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>> {
        let changes = self
            .changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Box::pin(async move { Ok(changes) })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(engine_examples::once()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custom_store: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A fresh session with a memory log.
fn new_session() -> Session {
    Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock))
}

async fn run(once: bool) -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(VecStore::default());
    let api = ApiService::new(new_session()).with_store(store.clone());

    let address = if once {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:5000"
    };
    let listener = tokio::net::TcpListener::bind(address).await?;
    let port = listener.local_addr()?.port();
    println!("custom_store: API on http://127.0.0.1:{port}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, api, ServeConfig::default(), async move {
        if once {
            let _ = stopped.await;
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
    }));
    if once {
        let changes = [
            (
                "POST",
                "/tasks/report",
                r#"{"command": "echo report", "start_cond": "daily"}"#,
            ),
            ("PATCH", "/tasks/report", r#"{"priority": 3}"#),
            ("POST", "/tasks/scratch", r#"{"command": "true"}"#),
            ("DELETE", "/tasks/scratch", ""),
            ("PATCH", "/parameters", r#"{"env": "dev"}"#),
            // Refused (bad condition): not stored.
            (
                "POST",
                "/tasks/bad",
                r#"{"command": "true", "start_cond": "daily betwen"}"#,
            ),
        ];
        for (method, path, body) in changes {
            let (status, _) = engine_examples::request(port, method, path, &[], body).await?;
            println!("{method} {path} -> {status}");
        }
        let _ = stop.send(());
    }
    server.await??;

    let stored = store.replay().await?;
    println!("{} stored changes:", stored.len());
    for request in &stored {
        let change = &request.change;
        println!(
            "  {} {} {} {}",
            request.seq,
            change.method,
            change.target.as_deref().unwrap_or(""),
            change.body
        );
    }

    // A new session, rebuilt from the stored changes.
    let rebuilt = new_session();
    let summary = ApiService::new(rebuilt.clone())
        .with_store(store)
        .replay()
        .await?;
    let tasks: Vec<String> = rebuilt
        .tasks()
        .iter()
        .map(|t| format!("{} (priority {})", t.spec.name, t.spec.priority))
        .collect();
    println!(
        "rebuilt: {} changes applied, tasks {tasks:?}, parameters {:?}",
        summary.applied,
        rebuilt.parameters()
    );
    if once && (stored.len() != 5 || tasks != ["report (priority 3)"]) {
        return Err("the rebuilt session differs from the served one".into());
    }
    Ok(())
}
