//! One run of a task: the request, the outcome, and running a function inline,
//! on a thread or as a tokio task (command and code runs are in `process.rs`).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::{AbortHandle, JoinError};
use tokio_util::sync::CancellationToken;

use super::{
    BoxFuture, Execution, RunError, RunResult, TaskContext, TaskFn, TaskKind, process,
    validate_execution,
};

/// How long an async function may take to return after its token was
/// cancelled before it is dropped.
pub const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The task's name (the thread name, `ENGINE_TASK`, [`TaskContext::task`]).
    pub task: String,
    /// What the task runs.
    pub kind: TaskKind,
    /// How it runs; checked with [`validate_execution`] before anything starts.
    pub execution: Execution,
    /// The resolved parameters of this run.
    pub params: Map<String, Value>,
    /// The registered function of a function task (`None` for other kinds).
    pub function: Option<TaskFn>,
    /// Cancelled when the run must stop (see the module docs, "Cancellation").
    pub cancel: CancellationToken,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// It succeeded with this return value (`Value::Null`: nothing to store).
    Success(Value),
    /// It failed (or could not start) with this message.
    Fail(String),
    /// It found nothing to do.
    Inaction,
    /// It stopped because its token was cancelled.
    Terminated,
}

impl From<RunResult> for RunOutcome {
    fn from(result: RunResult) -> Self {
        match result {
            Ok(value) => RunOutcome::Success(value),
            Err(RunError::Fail(message)) => RunOutcome::Fail(message),
            Err(RunError::Inaction) => RunOutcome::Inaction,
            Err(RunError::Terminated) => RunOutcome::Terminated,
        }
    }
}

/// Runs one run of a task and says how it ended.
///
/// An execution mode the kind does not allow (see [`validate_execution`]), a
/// function task without its function, or a child that cannot start ends the run
/// as [`RunOutcome::Fail`] without running anything. A [`Execution::Main`] run of
/// a blocking function blocks the calling thread until the function returns. See
/// the module docs for threads, processes, parameters and cancellation.
///
/// ```
/// use engine_core::task::{CommandLine, Execution, RunOutcome, RunRequest, TaskKind, execute};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let line = r#"echo "{\"greeting\": \"hello $ENGINE_PARAM_WHO\"}" > "$ENGINE_RETURN_FILE""#;
/// let req = RunRequest {
///     task: "greet".to_owned(),
///     kind: TaskKind::Command {
///         command: CommandLine::Shell(line.to_owned()),
///         cwd: None,
///         env: Default::default(),
///     },
///     execution: Execution::Process,
///     params: json!({"who": "world"}).as_object().cloned().unwrap_or_default(),
///     function: None,
///     cancel: Default::default(),
/// };
/// assert_eq!(execute(req).await, RunOutcome::Success(json!({"greeting": "hello world"})));
/// # }
/// ```
pub async fn execute(req: RunRequest) -> RunOutcome {
    let RunRequest {
        task,
        kind,
        execution,
        params,
        function,
        cancel,
    } = req;
    if let Err(err) = validate_execution(&kind, execution, function.as_ref()) {
        return RunOutcome::Fail(err.to_string());
    }
    if cancel.is_cancelled() {
        return RunOutcome::Terminated;
    }
    match kind {
        TaskKind::Function { func } => {
            let Some(function) = function else {
                return RunOutcome::Fail(format!("no function is registered as '{func}'"));
            };
            run_function(
                function,
                execution,
                TaskContext {
                    task,
                    params,
                    cancel,
                },
            )
            .await
        }
        TaskKind::Command { command, cwd, env } => {
            let program = process::Program::command(&command);
            process::run(&task, program, cwd.as_deref(), &env, &params, &cancel).await
        }
        TaskKind::Code {
            code,
            lang,
            cwd,
            env,
        } => {
            let program = process::Program::code(&code, &lang);
            process::run(&task, program, cwd.as_deref(), &env, &params, &cancel).await
        }
    }
}

/// Runs a function in the (already validated) execution mode.
async fn run_function(function: TaskFn, execution: Execution, ctx: TaskContext) -> RunOutcome {
    match function {
        TaskFn::Sync(f) if execution == Execution::Thread => run_on_thread(f, ctx).await,
        TaskFn::Sync(f) => caught(catch_unwind(AssertUnwindSafe(|| f(ctx)))),
        TaskFn::Async(f) => {
            let cancel = ctx.cancel.clone();
            let future = match catch_unwind(AssertUnwindSafe(|| f(ctx))) {
                Ok(future) => future,
                Err(payload) => return panicked(payload.as_ref()),
            };
            if execution == Execution::Async {
                run_spawned(future, &cancel).await
            } else {
                run_inline(future, &cancel).await
            }
        }
    }
}

/// A blocking function on a thread of its own; awaited until it returns.
async fn run_on_thread(
    f: Arc<dyn Fn(TaskContext) -> RunResult + Send + Sync>,
    ctx: TaskContext,
) -> RunOutcome {
    let (sender, receiver) = oneshot::channel();
    let name = ctx.task.replace('\0', " ");
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| f(ctx)));
        // The receiver is gone only when the run was dropped; nobody wants the result then.
        let _ = sender.send(result);
    });
    if let Err(err) = spawned {
        return RunOutcome::Fail(format!("could not start a thread: {err}"));
    }
    match receiver.await {
        Ok(result) => caught(result),
        Err(_) => RunOutcome::Fail("the thread ended without a result".to_owned()),
    }
}

/// An async function as a tokio task; aborted when it outlives the grace after
/// cancellation, or when this future is dropped.
async fn run_spawned(future: BoxFuture<RunResult>, cancel: &CancellationToken) -> RunOutcome {
    let mut handle = tokio::spawn(future);
    let _abort = AbortOnDrop(handle.abort_handle());
    tokio::select! {
        biased;
        joined = &mut handle => joined_outcome(joined),
        () = cancel.cancelled() => {
            match tokio::time::timeout(CANCEL_GRACE, &mut handle).await {
                Ok(joined) => joined_outcome(joined),
                Err(_) => {
                    handle.abort();
                    // Wait for the abort to take effect (the task may be mid-poll).
                    let _ = handle.await;
                    RunOutcome::Terminated
                }
            }
        }
    }
}

/// An async function awaited in place; dropped when it outlives the grace after
/// cancellation.
async fn run_inline(future: BoxFuture<RunResult>, cancel: &CancellationToken) -> RunOutcome {
    let mut future = CatchUnwind(future);
    tokio::select! {
        biased;
        result = &mut future => caught(result),
        () = cancel.cancelled() => {
            match tokio::time::timeout(CANCEL_GRACE, &mut future).await {
                Ok(result) => caught(result),
                Err(_) => RunOutcome::Terminated,
            }
        }
    }
}

/// The outcome of a function call that may have panicked.
fn caught(result: Result<RunResult, Box<dyn Any + Send>>) -> RunOutcome {
    match result {
        Ok(result) => result.into(),
        Err(payload) => panicked(payload.as_ref()),
    }
}

/// The outcome of a joined tokio task.
fn joined_outcome(joined: Result<RunResult, JoinError>) -> RunOutcome {
    match joined {
        Ok(result) => result.into(),
        Err(err) if err.is_panic() => panicked(err.into_panic().as_ref()),
        Err(_) => RunOutcome::Terminated,
    }
}

/// `Fail("panicked: <message>")` for a panic payload.
fn panicked(payload: &(dyn Any + Send)) -> RunOutcome {
    let message = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic payload that is not text)".to_owned()
    };
    RunOutcome::Fail(format!("panicked: {message}"))
}

/// Aborts a tokio task when dropped.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A future that turns a panic while polling into an `Err` with the payload.
struct CatchUnwind(BoxFuture<RunResult>);

impl Future for CatchUnwind {
    type Output = Result<RunResult, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
