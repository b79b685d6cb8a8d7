//! Test harness shared by the end-to-end tests: building and running the `engine`
//! binary (once, or as a server killed when the test drops it), a small HTTP
//! client, loading the spec's test vectors, and running many cases on a few
//! threads; the crash test ([`crash`]) and the load generator ([`load`]), which
//! the tests run briefly and `cargo xtask crash` / `cargo xtask load` in full.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod crash;
pub mod load;

/// The path of the `engine` binary, built once per test run with the same cargo
/// and profile as the tests (a separate package cannot see `CARGO_BIN_EXE_*`).
pub fn engine_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test executable path");
            // target/<profile>/deps/it-xxxx -> target/<profile>
            let profile_dir = exe
                .parent()
                .and_then(|p| p.parent())
                .expect("target profile directory");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "engine", "--bin", "engine"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build
                .status()
                .expect("run cargo build for the engine binary");
            assert!(status.success(), "building the engine binary failed");
            profile_dir.join(format!("engine{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

/// The path of the example `name` of the `engine-examples` package, with every
/// example built once per test run (same cargo and profile as the tests).
pub fn example_binary(name: &str) -> PathBuf {
    static EXAMPLES: OnceLock<PathBuf> = OnceLock::new();
    let dir = EXAMPLES.get_or_init(|| {
        let engine = engine_binary();
        let profile_dir = engine.parent().expect("target profile directory");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "engine-examples", "--examples"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build for the examples");
        assert!(status.success(), "building the examples failed");
        profile_dir.join("examples")
    });
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// What one run of the `engine` binary did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code (`None` when killed by a signal, e.g. a panic with abort).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the `engine` binary with `args`, with `TZ=UTC` unless `env` sets it, and
/// with `env` added to the environment.
pub fn run_engine<S: AsRef<str>>(args: &[S], env: &[(&str, &str)]) -> Outcome {
    let mut command = Command::new(engine_binary());
    command
        .args(args.iter().map(AsRef::as_ref))
        .env("TZ", "UTC")
        .env_remove("RUST_BACKTRACE");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the engine binary");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the `engine` binary like [`run_engine`], but kills it when it has not
/// exited within `timeout` (a command that should refuse to start must not hang
/// the test when it starts after all). `code` is `None` when it was killed.
pub fn run_engine_within<S: AsRef<str>>(
    args: &[S],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Outcome {
    run_within(Command::new(engine_binary()), args, env, timeout)
}

/// Runs `program` with `args` like [`run_engine_within`].
pub fn run_within<S: AsRef<str>>(
    mut command: Command,
    args: &[S],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Outcome {
    command
        .args(args.iter().map(AsRef::as_ref))
        .env("TZ", "UTC")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start the engine binary");
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    Outcome {
        code,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// The spec's test vectors of `kind` (`cond_parse`, `cond_eval` ...), from
/// `testdata/vectors.json` at the workspace root.
pub fn vectors(kind: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let all: Vec<Value> = serde_json::from_str(&text).expect("vectors.json is a JSON array");
    all.into_iter().filter(|v| v["kind"] == kind).collect()
}

/// `f` applied to every item on `threads` threads, results in item order.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker thread"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// How long a server may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `engine run`, killed (SIGKILL) and reaped when dropped, so a failed
/// test never leaves a server behind.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    /// The port from the ready line.
    pub port: u16,
    /// The ready line.
    pub ready: String,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `engine run` with `args` (TZ=UTC) and waits for its ready line
    /// (`engine: API on http://HOST:PORT, ...`).
    ///
    /// # Panics
    ///
    /// The binary cannot start, or exits or stays silent for [`READY_TIMEOUT`]
    /// before its ready line (the panic shows its stderr).
    pub fn start<S: AsRef<str>>(args: &[S], env: &[(&str, &str)]) -> Server {
        Server::start_binary(&engine_binary(), args, env)
    }

    /// [`Server::start`] with the `engine` binary at `binary` (a program outside
    /// the test harness, such as `cargo xtask crash`, names the one it built).
    ///
    /// # Panics
    ///
    /// As [`Server::start`].
    pub fn start_binary<S: AsRef<str>>(
        binary: &std::path::Path,
        args: &[S],
        env: &[(&str, &str)],
    ) -> Server {
        let mut command = Command::new(binary);
        command
            .arg("run")
            .args(args.iter().map(AsRef::as_ref))
            .env("TZ", "UTC")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start the engine binary");
        let (lines, stdout) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut text) = sink.lock() {
                        text.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }
        let mut server = Server {
            child: Some(child),
            port: 0,
            ready: String::new(),
            stdout,
            stderr,
        };
        let ready = match server.stdout.recv_timeout(READY_TIMEOUT) {
            Ok(line) => line,
            Err(_) => panic!(
                "no ready line within {READY_TIMEOUT:?}; stderr:\n{}",
                server.stderr()
            ),
        };
        server.port = ready_port(&ready)
            .unwrap_or_else(|| panic!("not a ready line: {ready:?}; stderr:\n{}", server.stderr()));
        server.ready = ready;
        server
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `method path` with a JSON `body` on this server (see [`http`]).
    pub fn http(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        http(self.port, method, path, body)
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`TERM`, `INT`) with `kill(1)` and waits up to `timeout` for
    /// the process to exit; `None` if it did not (it is killed on drop).
    pub fn signal_and_wait(&mut self, signal: &str, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.pid().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("run kill(1)");
        assert!(sent.success(), "kill -{signal} {pid} failed");
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The lines printed to stdout after the ready line, so far.
    pub fn more_stdout(&self) -> Vec<String> {
        self.stdout.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The port of a ready line `engine: API on http://HOST:PORT, state in ...`.
pub fn ready_port(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("engine: API on http://")?;
    let (address, _) = rest.split_once(',')?;
    address.rsplit_once(':')?.1.parse().ok()
}

/// One HTTP/1.1 request to 127.0.0.1:`port` with `Connection: close`: the status
/// and the body parsed as JSON (`Value::Null` for an empty body, the text as a
/// JSON string when it is not JSON). Waits at most 30 seconds.
///
/// # Panics
///
/// The connection fails or the answer is not HTTP.
pub fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the engine");
    let timeout = Some(Duration::from_secs(30));
    stream.set_read_timeout(timeout).expect("read timeout");
    stream.set_write_timeout(timeout).expect("write timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the response");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, text) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {answer:?}"));
    let value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
    };
    (status, value)
}

/// Calls `probe` until it returns `Some`, for at most `timeout`; `None` when it
/// never did.
pub fn poll<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`http`] without panicking, for servers that may die mid-request: the status
/// and the JSON body, or an error when the connection fails, times out after
/// `timeout`, or the answer is cut short (no status line, fewer body bytes than
/// its `Content-Length`, a body that is not JSON).
///
/// # Errors
///
/// Any of the above, as text.
pub fn try_http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> Result<(u16, Value), String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("set timeouts: {e}"))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("receive: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let Some((head, payload)) = text.split_once("\r\n\r\n") else {
        return Err(format!("cut short before the body: {text:?}"));
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {head:?}"))?;
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    if length.is_some_and(|n| n != payload.len()) {
        return Err(format!(
            "body cut short: {} of {length:?} bytes",
            payload.len()
        ));
    }
    let value = if payload.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(payload).map_err(|e| format!("body is not JSON ({e}): {payload:?}"))?
    };
    Ok((status, value))
}

/// The name of a fixed-offset zone (`Etc/GMT-N` is UTC+N) in which the local
/// time is now between 12:00 and 13:00, so a test that counts runs per local
/// day has eleven hours before the next local midnight, whenever it runs.
pub fn noon_zone() -> String {
    let hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| (d.as_secs() / 3600) % 24);
    // Local = UTC + offset, with offset = 12 - hour in -11..=12.
    let offset = 12 - i64::try_from(hour).unwrap_or(0);
    match offset {
        0 => "Etc/GMT".to_owned(),
        // The POSIX sign convention: Etc/GMT-3 is three hours ahead of UTC.
        n if n > 0 => format!("Etc/GMT-{n}"),
        n => format!("Etc/GMT+{}", -n),
    }
}

/// A small deterministic random number generator (xorshift64*), so a failing
/// randomized run can be repeated from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a fixed non-zero value).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (`None` when empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let n = u64::try_from(items.len()).unwrap_or(u64::MAX);
        items.get(usize::try_from(self.below(n)).unwrap_or(0))
    }

    /// A duration in `low..high`, to the millisecond.
    pub fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = u64::try_from(high.saturating_sub(low).as_millis()).unwrap_or(u64::MAX);
        low + Duration::from_millis(self.below(span.max(1)))
    }
}
