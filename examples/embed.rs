//! Example: the engine inside your own program: two Rust closures as tasks (the
//! second after the first, fed with its return value), the scheduler, and the
//! HTTP API on 127.0.0.1.
//!
//! ```text
//! cargo run -p engine-examples --example embed            # serves on 127.0.0.1:5000 until Ctrl-C
//! cargo run -p engine-examples --example embed -- --once  # any free port; stops once `load` succeeded
//! ```
//!
//! While it serves: `curl http://127.0.0.1:5000/tasks`, or run the chain again
//! with `curl -X PATCH http://127.0.0.1:5000/tasks/extract -d '{"force_run": true}'`.
//! Tasks posted over HTTP may name the registered functions:
//! `curl -X POST http://127.0.0.1:5000/tasks/again -d '{"func": "extract"}'`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;

use engine::api::{ApiService, ServeConfig, serve};
use engine::log::MemoryLogStore;
use engine::{RunError, Scheduler, Session, SystemClock, TaskKind};
use serde_json::json;

#[tokio::main]
async fn main() -> ExitCode {
    match run(engine_examples::once()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(once: bool) -> Result<(), Box<dyn std::error::Error>> {
    let session = Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock));

    // A blocking function runs on a thread of its own; its return value is kept
    // in the session's returns.
    session.register_sync("extract", |ctx| {
        let limit = ctx
            .params
            .get("limit")
            .and_then(|v| v.as_u64())
            .unwrap_or(3);
        Ok(json!((1..=limit).collect::<Vec<u64>>()))
    });
    // An async function runs as a tokio task and can watch for cancellation.
    session.register_async("load", |ctx| async move {
        if ctx.cancel.is_cancelled() {
            return Err(RunError::Terminated);
        }
        let rows = ctx.params.get("rows").cloned().unwrap_or_default();
        let count = rows.as_array().map_or(0, Vec::len);
        if count == 0 {
            return Err(RunError::Inaction);
        }
        println!("load: {count} rows: {rows}");
        Ok(json!({ "loaded": count }))
    });

    session.patch_parameters([("limit".to_owned(), json!(5))].into_iter().collect(), &[])?;

    let mut extract = session.default_spec(
        "extract",
        TaskKind::Function {
            func: "extract".into(),
        },
    );
    extract.start_cond = "daily".parse()?;
    session.create_task(extract, None)?;

    let mut load = session.default_spec(
        "load",
        TaskKind::Function {
            func: "load".into(),
        },
    );
    load.start_cond = "after task 'extract'".parse()?;
    // `{"$return": "<task>"}` is replaced by that task's latest return value.
    load.parameters
        .insert("rows".into(), json!({ "$return": "extract" }));
    session.create_task(load, None)?;

    let address = if once {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:5000"
    };
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("embed: API on http://{}", listener.local_addr()?);
    let api = ApiService::new(session.clone());
    let (stop_api, api_stop) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, api, ServeConfig::default(), async {
        let _ = api_stop.await;
    }));

    let mut scheduler = Scheduler::new(session.clone());
    if once {
        scheduler = scheduler.with_shut_cond("task 'load' has succeeded".parse()?);
    }
    let stats = scheduler
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    let _ = stop_api.send(());
    server.await??;
    println!(
        "embed: {} runs; load returned {}",
        stats.runs_finished,
        session.returns().get("load").cloned().unwrap_or_default()
    );
    Ok(())
}
