//! Benchmark of the HTTP API under load: a Rust load generator (tokio + hyper
//! client, keep-alive connections) against the engine-api server and, in the
//! same run, a bare hyper server answering a fixed small JSON body
//! (`cargo bench -p engine-api --bench http`; `BENCH_SECONDS` sets the
//! measured seconds per cell, default 2).
//!
//! Both servers and the load generator share one tokio runtime with two
//! workers on 127.0.0.1, so the figures include the client's own cost; the
//! ratio to the bare server is the telling number.
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use engine_api::{ApiService, MemoryStore, ServeConfig, serve};
use engine_core::log::{Action, LogRecord, MemoryLogConfig, MemoryLogStore};
use engine_core::task::TaskKind;
use engine_core::{Scheduler, Session, SystemClock};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Tasks in the session.
const TASKS: usize = 100;
/// Log records, spread over the tasks, one a minute.
const RECORDS: usize = 100_000;
/// The `GET /logs` query: a 100-minute window in the middle of the log.
const LOGS_QUERY: &str =
    "/logs?timestamp$min=2024-02-04%2010:00:00&timestamp$max=2024-02-04%2011:39:59";
/// Connection counts measured.
const CONNECTIONS: [usize; 2] = [1, 64];
/// Unmeasured seconds before each cell.
const WARM_UP: Duration = Duration::from_millis(300);

/// The bare server's answer to everything.
const BARE_BODY: &str = r#"{"name":"task-42","status":null,"priority":0}"#;

fn main() {
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(2.0);
    let measure = Duration::from_secs_f64(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(measure));
}

async fn run(measure: Duration) {
    let session = session();
    let (engine, stop_engine) = start_engine(session.clone()).await;
    let (bare, stop_bare) = start_bare().await;
    let scheduler = Scheduler::new(session.clone());
    let (stop_scheduler, scheduler_stopped) = oneshot::channel::<()>();
    let scheduler = tokio::spawn(async move {
        scheduler
            .run(async move {
                let _ = scheduler_stopped.await;
            })
            .await
    });

    let probe = get(engine, LOGS_QUERY).await;
    let matched = probe.as_array().map_or(0, Vec::len);
    println!(
        "engine-api over HTTP/1.1 keep-alive on 127.0.0.1: {TASKS} tasks, {RECORDS} log records \
         (MemoryLogStore), changes in a MemoryStore, scheduler running; {} s per cell after a \
         {} ms warm-up; the log query matches {matched} records",
        measure.as_secs_f64(),
        WARM_UP.as_millis()
    );
    println!();
    println!("| endpoint | response | connections | requests/s | p50 | p99 | vs bare hyper |");
    println!("|---|---|---|---|---|---|---|");
    let mut bare_rps = Vec::new();
    for connections in CONNECTIONS {
        let stats = load(bare, connections, measure, |_, _| {
            get_request("/tasks/task-42")
        })
        .await;
        println!(
            "| bare hyper, fixed body | {} B | {connections} | {} | {} | {} | 1.00 |",
            BARE_BODY.len(),
            thousands(stats.rps),
            micros(stats.p50),
            micros(stats.p99)
        );
        bare_rps.push(stats.rps);
    }
    type Make = fn(usize, u64) -> Request<Full<Bytes>>;
    let endpoints: [(&str, Make); 4] = [
        ("`GET /tasks/{name}`", |conn, _| {
            get_request(&format!("/tasks/task-{}", conn % TASKS))
        }),
        ("`GET /tasks` (100 tasks)", |_, _| get_request("/tasks")),
        ("`GET /logs` timestamp range", |_, _| {
            get_request(LOGS_QUERY)
        }),
        ("`PATCH /tasks/{name}` priority", |conn, n| {
            let body = json!({"priority": n % 10}).to_string();
            Request::builder()
                .method("PATCH")
                .uri(format!("/tasks/task-{}", conn % TASKS))
                .header("host", "127.0.0.1")
                .body(Full::new(Bytes::from(body)))
                .expect("a request")
        }),
    ];
    for (name, make) in endpoints {
        let size = body_size(engine, make(0, 0)).await;
        for (i, connections) in CONNECTIONS.into_iter().enumerate() {
            let stats = load(engine, connections, measure, make).await;
            let ratio = bare_rps.get(i).map_or(0.0, |bare| stats.rps / bare);
            println!(
                "| {name} | {} | {connections} | {} | {} | {} | {ratio:.2} |",
                bytes(size),
                thousands(stats.rps),
                micros(stats.p50),
                micros(stats.p99)
            );
        }
    }
    let _ = stop_engine.send(());
    let _ = stop_bare.send(());
    let _ = stop_scheduler.send(());
    let _ = scheduler.await;
}

/// The session: `TASKS` disabled function tasks and `RECORDS` log records.
fn session() -> Session {
    let log = Arc::new(MemoryLogStore::with_config(MemoryLogConfig {
        max_records_per_task: RECORDS,
    }));
    let start: DateTime<Utc> = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    log.extend((0..RECORDS).map(|i| {
        let minutes = i64::try_from(i).unwrap_or_default();
        let action = if i % 2 == 0 {
            Action::Run
        } else {
            Action::Success
        };
        LogRecord::new(
            format!("task-{}", (i / 2) % TASKS),
            action,
            start + TimeDelta::minutes(minutes),
        )
    }));
    let session = Session::new(log, Arc::new(SystemClock));
    session.register_sync("noop", |_ctx| Ok(Value::Null));
    let utc = serde_json::Map::from_iter([("timezone".to_owned(), json!("UTC"))]);
    session.patch_config(&utc).expect("UTC");
    for i in 0..TASKS {
        let mut spec = session.default_spec(
            format!("task-{i}"),
            TaskKind::Function {
                func: "noop".into(),
            },
        );
        spec.disabled = true;
        spec.start_cond = "daily".parse().expect("a condition");
        session.create_task(spec, None).expect("a task");
    }
    session
}

async fn start_engine(session: Session) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let api = ApiService::new(session).with_store(Arc::new(MemoryStore::default()));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, api, ServeConfig::default(), async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

async fn start_bare() -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut stopped => break,
            };
            let Ok((stream, _)) = accepted else { continue };
            tokio::spawn(async move {
                let service = service_fn(|_request: Request<hyper::body::Incoming>| async {
                    let mut response =
                        Response::new(Full::new(Bytes::from_static(BARE_BODY.as_bytes())));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, stop)
}

/// Throughput and latency of one cell.
struct Stats {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `connections` keep-alive connections, each sending the requests
/// `make(connection, n)` one after another, for a warm-up and then `measure`.
async fn load<F>(addr: SocketAddr, connections: usize, measure: Duration, make: F) -> Stats
where
    F: Fn(usize, u64) -> Request<Full<Bytes>> + Copy + Send + 'static,
{
    let begin = Instant::now() + WARM_UP;
    let end = begin + measure;
    let workers: Vec<_> = (0..connections)
        .map(|conn| tokio::spawn(worker(addr, conn, begin, end, make)))
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("a load worker"));
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(index).copied().unwrap_or_default()
    };
    Stats {
        rps: latencies.len() as f64 / measure.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// One connection's loop; returns the latencies of the requests that started
/// and ended within `[begin, end]`.
async fn worker<F>(
    addr: SocketAddr,
    conn: usize,
    begin: Instant,
    end: Instant,
    make: F,
) -> Vec<Duration>
where
    F: Fn(usize, u64) -> Request<Full<Bytes>> + Send + 'static,
{
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let connection = tokio::spawn(connection);
    let mut latencies = Vec::new();
    let mut n = 0u64;
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let response = sender
            .send_request(make(conn, n))
            .await
            .expect("a response");
        let status = response.status();
        let body = response.into_body().collect().await.expect("a body");
        assert!(
            status.is_success(),
            "status {status}: {:?}",
            body.to_bytes()
        );
        let done = Instant::now();
        if sent >= begin && done <= end {
            latencies.push(done - sent);
        }
        n += 1;
    }
    drop(sender);
    connection.abort();
    latencies
}

fn get_request(target: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .uri(target)
        .header("host", "127.0.0.1")
        .body(Full::new(Bytes::new()))
        .expect("a request")
}

/// One GET's JSON body.
async fn get(addr: SocketAddr, target: &str) -> Value {
    serde_json::from_slice(&exchange(addr, get_request(target)).await).unwrap_or(Value::Null)
}

/// The size of the body `request` gets.
async fn body_size(addr: SocketAddr, request: Request<Full<Bytes>>) -> usize {
    exchange(addr, request).await.len()
}

/// Sends one request on a new connection and returns the body.
async fn exchange(addr: SocketAddr, request: Request<Full<Bytes>>) -> Bytes {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let connection = tokio::spawn(connection);
    let response = sender.send_request(request).await.expect("a response");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    connection.abort();
    bytes
}

/// `45 B` or `70.2 kB`.
fn bytes(size: usize) -> String {
    if size < 1000 {
        format!("{size} B")
    } else {
        format!("{:.1} kB", size as f64 / 1000.0)
    }
}

/// `12,345` for 12345.4.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `123 µs` or `1.23 ms`.
fn micros(duration: Duration) -> String {
    let us = duration.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}
