//! Example: a custom `Authenticator` in a few lines: anyone may read, changes
//! need the header `X-Engine-Key` with the key from `ENGINE_KEY` (default
//! `let-me-in`).
//!
//! ```text
//! cargo run -p engine-examples --example custom_auth            # serves on 127.0.0.1:5000 until Ctrl-C
//! cargo run -p engine-examples --example custom_auth -- --once  # any free port; tries a few requests and stops
//! ```
//!
//! While it serves:
//!
//! ```text
//! curl http://127.0.0.1:5000/tasks                                                     # 200
//! curl -X PATCH http://127.0.0.1:5000/parameters -d '{"a": 1}'                          # 401
//! curl -X PATCH -H 'X-Engine-Key: let-me-in' http://127.0.0.1:5000/parameters -d '{"a": 1}'  # 200
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;

use engine::api::{
    ApiService, AuthDecision, Authenticator, BoxFuture, RequestInfo, Scope, ServeConfig, serve,
};
use engine::log::MemoryLogStore;
use engine::{Session, SystemClock};

/// Reads for everyone; changes with the right `X-Engine-Key` header only.
struct KeyForChanges {
    key: String,
}

impl Authenticator for KeyForChanges {
    fn authenticate<'a>(&'a self, request: &'a RequestInfo<'a>) -> BoxFuture<'a, AuthDecision> {
        // Decide on the scope the request needs, not on the method alone:
        // creating a command task asks again with `Scope::Code`.
        let allowed = request.scope() == Scope::Read
            || request
                .headers()
                .get("x-engine-key")
                .is_some_and(|given| given.as_bytes() == self.key.as_bytes());
        Box::pin(async move {
            if allowed {
                AuthDecision::Allow
            } else {
                AuthDecision::Unauthorized {
                    challenge: "X-Engine-Key".to_owned(),
                    reason: "changes need the X-Engine-Key header".to_owned(),
                }
            }
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(engine_examples::once()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custom_auth: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(once: bool) -> Result<(), Box<dyn std::error::Error>> {
    let key = std::env::var("ENGINE_KEY").unwrap_or_else(|_| "let-me-in".to_owned());
    let session = Session::new(Arc::new(MemoryLogStore::default()), Arc::new(SystemClock));
    let api =
        ApiService::new(session).with_authenticator(Arc::new(KeyForChanges { key: key.clone() }));

    let address = if once {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:5000"
    };
    let listener = tokio::net::TcpListener::bind(address).await?;
    let port = listener.local_addr()?.port();
    println!("custom_auth: API on http://127.0.0.1:{port}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, api, ServeConfig::default(), async move {
        if once {
            let _ = stopped.await;
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
    }));

    if once {
        let body = r#"{"a": 1}"#;
        let tries = [
            ("GET", "/tasks", None, "", 200),
            ("PATCH", "/parameters", None, body, 401),
            ("PATCH", "/parameters", Some("wrong"), body, 401),
            ("PATCH", "/parameters", Some(key.as_str()), body, 200),
        ];
        for (method, path, key, body, expected) in tries {
            let headers: Vec<(&str, &str)> = key.map(|k| ("X-Engine-Key", k)).into_iter().collect();
            let (status, answer) =
                engine_examples::request(port, method, path, &headers, body).await?;
            println!("{method} {path} with key {key:?} -> {status} {answer}");
            if status != expected {
                return Err(format!("{method} {path}: expected {expected}, got {status}").into());
            }
        }
        let _ = stop.send(());
    }
    server.await??;
    Ok(())
}
