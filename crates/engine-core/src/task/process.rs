//! Command and code runs: one child process in a process group of its own,
//! parameters in its environment, the last bytes of its output, its return
//! file, and killing the whole group when the run is cancelled.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{CommandLine, RunOutcome};

mod group;

use group::Group;

/// How many bytes of a child's stdout and of its stderr are kept: the last ones.
pub const OUTPUT_TAIL: usize = 64 * 1024;

/// The largest return file read; a larger one fails the run.
pub const MAX_RETURN_BYTES: u64 = 16 * 1024 * 1024;

/// How long a cancelled child's main process has to exit after `SIGTERM`
/// before its process group gets `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// The longest wait for a killed group's processes to die.
const GONE_WAIT: Duration = Duration::from_secs(1);

/// How long the output pipes may stay open after the child's group is gone
/// (only a process that left the group can hold them).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// What to start.
pub(super) enum Program<'a> {
    /// `argv[0]` with the rest as arguments.
    Argv(&'a [String]),
    /// `sh -c <line>`.
    Shell(&'a str),
    /// `<lang> <file holding code>`.
    Code {
        /// The source.
        code: &'a str,
        /// The interpreter.
        lang: &'a str,
    },
}

impl<'a> Program<'a> {
    /// The program of a command task.
    pub(super) fn command(command: &'a CommandLine) -> Self {
        match command {
            CommandLine::Program(argv) => Program::Argv(argv),
            CommandLine::Shell(line) => Program::Shell(line),
        }
    }

    /// The program of a code task.
    pub(super) fn code(code: &'a str, lang: &'a str) -> Self {
        Program::Code { code, lang }
    }
}

/// Runs `program` as a child process until it exits or `cancel` fires.
pub(super) async fn run(
    task: &str,
    program: Program<'_>,
    cwd: Option<&str>,
    env: &BTreeMap<String, String>,
    params: &Map<String, Value>,
    cancel: &CancellationToken,
) -> RunOutcome {
    if let Some(dir) = cwd
        && let Err(message) = check_dir(dir)
    {
        return RunOutcome::Fail(message);
    }
    let run_dir = match RunDir::create() {
        Ok(run_dir) => run_dir,
        Err(err) => {
            return RunOutcome::Fail(format!("could not create a temporary directory: {err}"));
        }
    };
    let (name, mut command) = match prepare(program, &run_dir) {
        Ok(prepared) => prepared,
        Err(message) => return RunOutcome::Fail(message),
    };
    let return_file = run_dir.path.join("return.json");
    if let Err(err) = std::fs::File::create(&return_file) {
        return RunOutcome::Fail(format!("could not create the return file: {err}"));
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    command.envs(env);
    for (key, value) in param_env(params) {
        command.env(key, value);
    }
    command.env("ENGINE_TASK", task);
    command.env("ENGINE_PARAMS", Value::Object(params.clone()).to_string());
    command.env("ENGINE_RETURN_FILE", &return_file);

    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return RunOutcome::Fail(spawn_error(&name, &err)),
    };
    let mut group = Group::of(child.id());
    let stdout = Capture::start(child.stdout.take());
    let stderr = Capture::start(child.stderr.take());

    let waited = tokio::select! {
        biased;
        status = child.wait() => Some(status),
        () = cancel.cancelled() => None,
    };
    let outcome = match waited {
        None => {
            terminate(&mut child, &group).await;
            stdout.finish().await;
            stderr.finish().await;
            RunOutcome::Terminated
        }
        Some(Err(err)) => {
            group.kill();
            let _ = child.start_kill();
            RunOutcome::Fail(format!("could not wait for '{name}': {err}"))
        }
        Some(Ok(status)) => {
            // The run owns its group: whatever the main process left behind goes too.
            group.kill();
            group.wait_gone(GONE_WAIT).await;
            let out = stdout.finish().await;
            let err = stderr.finish().await;
            tracing::debug!(task, %status, stdout = %out, stderr = %err, "child exited");
            if status.success() {
                // Up to MAX_RETURN_BYTES of blocking file reading: off the runtime's threads.
                let path = return_file.clone();
                let read = tokio::task::spawn_blocking(move || read_return(&path)).await;
                match read {
                    Ok(Ok(value)) => RunOutcome::Success(value),
                    Ok(Err(message)) => RunOutcome::Fail(message),
                    Err(err) => RunOutcome::Fail(format!("could not read the return file: {err}")),
                }
            } else {
                let mut message = status_text(status);
                let err = err.trim_end();
                if !err.is_empty() {
                    message.push('\n');
                    message.push_str(err);
                }
                RunOutcome::Fail(message)
            }
        }
    };
    group.disarm();
    outcome
}

/// The program's name (for messages) and the command that starts it.
fn prepare(program: Program<'_>, run_dir: &RunDir) -> Result<(String, Command), String> {
    match program {
        Program::Argv(argv) => {
            let Some((first, rest)) = argv.split_first() else {
                return Err("command has no program".to_owned());
            };
            let mut command = Command::new(first);
            command.args(rest);
            Ok((first.clone(), command))
        }
        Program::Shell(line) => {
            let mut command = Command::new("sh");
            command.arg("-c").arg(line);
            Ok(("sh".to_owned(), command))
        }
        Program::Code { code, lang } => {
            let file = run_dir.path.join(format!("code{}", extension(lang)));
            std::fs::write(&file, code)
                .map_err(|err| format!("could not write the code to a file: {err}"))?;
            let mut command = Command::new(lang);
            command.arg(OsString::from(file));
            Ok((lang.to_owned(), command))
        }
    }
}

/// Stops a cancelled child: `SIGTERM` to the group; once the whole group is
/// gone, or after [`KILL_GRACE`], `SIGKILL` to what is left; then reaps the
/// child.
async fn terminate(child: &mut Child, group: &Group) {
    let started = tokio::time::Instant::now();
    if !group.terminate() {
        // No process group to signal: at least stop the child itself.
        let _ = child.start_kill();
    }
    let exited = tokio::time::timeout(KILL_GRACE, child.wait()).await.is_ok();
    if exited {
        // The rest of the group gets what is left of the grace to finish too.
        group
            .wait_gone(KILL_GRACE.saturating_sub(started.elapsed()))
            .await;
    }
    group.kill();
    if !exited {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    group.wait_gone(GONE_WAIT).await;
}

/// Checks that a working directory can be used.
fn check_dir(dir: &str) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(format!("working directory '{dir}' is not a directory")),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            Err(format!("working directory '{dir}' does not exist"))
        }
        Err(err) => Err(format!("working directory '{dir}' cannot be used: {err}")),
    }
}

/// The message for a child that could not start.
fn spawn_error(program: &str, err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => format!("program '{program}' not found"),
        io::ErrorKind::PermissionDenied => {
            format!("program '{program}' cannot be executed: permission denied")
        }
        _ => format!("could not start '{program}': {err}"),
    }
}

/// `exit status N`, or `killed by signal N (SIGNAME)`.
fn status_text(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    if let Some(text) = group::signal_text(status) {
        return text;
    }
    format!("ended with {status}")
}

/// The `ENGINE_PARAM_<NAME>` variables, in name order (a later name that maps to
/// the same variable wins).
pub(super) fn param_env(params: &Map<String, Value>) -> Vec<(String, String)> {
    let mut entries: Vec<(&String, &Value)> = params.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (param_env_name(name), value)
        })
        .collect()
}

/// `ENGINE_PARAM_` and the name in upper case, other characters as `_`.
pub(super) fn param_env_name(name: &str) -> String {
    let mut var = String::from("ENGINE_PARAM_");
    var.extend(name.chars().map(|c| {
        let c = c.to_ascii_uppercase();
        if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    var
}

/// The return value in the return file (see the module docs).
pub(super) fn read_return(path: &Path) -> Result<Value, String> {
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Value::Null),
        Err(err) => return Err(format!("could not read the return file: {err}")),
    };
    if size > MAX_RETURN_BYTES {
        return Err(format!(
            "the return file has {size} bytes, at most {MAX_RETURN_BYTES} are read"
        ));
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Value::Null),
        Err(err) => return Err(format!("could not read the return file: {err}")),
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(&text)
        .unwrap_or_else(|_| Value::String(text.trim_end_matches(['\n', '\r']).to_owned())))
}

/// The file name extension for code run by `lang`, so that interpreters that
/// care (and people reading error messages) see the usual one.
fn extension(lang: &str) -> &'static str {
    let base = Path::new(lang)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or(lang);
    if base.starts_with("python") {
        ".py"
    } else if base.starts_with("node") {
        ".js"
    } else if matches!(base, "sh" | "bash" | "dash" | "zsh" | "ksh") {
        ".sh"
    } else if base.starts_with("ruby") {
        ".rb"
    } else if base.starts_with("perl") {
        ".pl"
    } else {
        ""
    }
}

/// A private temporary directory for one run (code file, return file), removed
/// when dropped.
struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `engine-run-<pid>-<n>` under the temporary directory, readable by
    /// this user only.
    fn create() -> io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let base = std::path::absolute(std::env::temp_dir())?;
        for _ in 0..1000 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("engine-run-{}-{n}", std::process::id()));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary directory name",
        ))
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir harms nobody.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The last bytes of a stream, kept as they are read.
#[derive(Debug, Default)]
pub(super) struct Tail {
    bytes: Vec<u8>,
    cut: bool,
}

impl Tail {
    /// Appends `chunk`, keeping at most about twice `cap` bytes in memory.
    pub(super) fn push(&mut self, chunk: &[u8], cap: usize) {
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > cap.saturating_mul(2) {
            self.keep_last(cap);
        }
    }

    /// The last `cap` bytes as text (invalid UTF-8 replaced; a character cut at
    /// the start dropped), `...` first when something was cut.
    pub(super) fn text(&mut self, cap: usize) -> String {
        self.keep_last(cap);
        let mut bytes = self.bytes.as_slice();
        if self.cut {
            // Skip the rest of a character cut in two (at most three bytes).
            for _ in 0..3 {
                match bytes.split_first() {
                    Some((&byte, rest)) if byte & 0xC0 == 0x80 => bytes = rest,
                    _ => break,
                }
            }
        }
        let text = String::from_utf8_lossy(bytes);
        if self.cut {
            format!("...{text}")
        } else {
            text.into_owned()
        }
    }

    /// Drops all but the last `cap` bytes.
    fn keep_last(&mut self, cap: usize) {
        if self.bytes.len() > cap {
            let excess = self.bytes.len() - cap;
            self.bytes.drain(..excess);
            self.cut = true;
        }
    }
}

/// A pipe being read into a [`Tail`] by a tokio task.
struct Capture {
    tail: Arc<Mutex<Tail>>,
    reader: Option<JoinHandle<()>>,
}

impl Capture {
    /// Starts reading `pipe` (nothing to read if there is none).
    fn start<R: AsyncRead + Unpin + Send + 'static>(pipe: Option<R>) -> Self {
        let tail = Arc::new(Mutex::new(Tail::default()));
        let reader = pipe.map(|mut pipe| {
            let tail = Arc::clone(&tail);
            tokio::spawn(async move {
                let mut chunk = vec![0u8; 8 * 1024];
                loop {
                    match pipe.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let read = chunk.get(..n).unwrap_or_default();
                            tail.lock().push(read, OUTPUT_TAIL);
                        }
                    }
                }
            })
        });
        Capture { tail, reader }
    }

    /// Waits (at most [`DRAIN_GRACE`]) for the pipe to close; the text read.
    async fn finish(mut self) -> String {
        if let Some(reader) = self.reader.take() {
            let abort = reader.abort_handle();
            if tokio::time::timeout(DRAIN_GRACE, reader).await.is_err() {
                abort.abort();
            }
        }
        self.tail.lock().text(OUTPUT_TAIL)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(reader) = &self.reader {
            reader.abort();
        }
    }
}
