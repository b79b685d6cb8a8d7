//! The scheduler loop on a thread of its own: on a multi-threaded tokio runtime
//! [`Scheduler::run`](super::Scheduler::run) moves the loop to a dedicated
//! thread with a single-threaded runtime, so a runtime kept busy by other work
//! (HTTP requests, the runs themselves) does not delay its wake-ups, while runs
//! are still spawned on the caller's runtime.
//!
//! The caller's future keeps the shutdown future (which need not be `Send`):
//! when it completes, the loop is told to shut down gracefully. Dropping the
//! caller's future mid-way aborts the loop as dropping the inline loop does
//! (runs terminated, the event receiver given back), and waits for the thread.

use std::future::Future;
use std::sync::mpsc as std_mpsc;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::oneshot;

use super::runner::Runner;
use crate::Error;

/// The name of the scheduler's thread.
pub(super) const THREAD_NAME: &str = "engine-scheduler";

/// Whether the loop should get a thread of its own: on a multi-threaded tokio
/// runtime. A current-thread runtime (tests with paused time among them) runs
/// it in place.
pub(super) fn wanted() -> bool {
    Handle::try_current()
        .is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Runs `runner` until `shutdown` completes, on a thread of its own when one
/// can be started (else in place).
pub(super) async fn run<F: Future>(mut runner: Runner, shutdown: F) -> Result<(), Error> {
    let Ok(caller) = Handle::try_current() else {
        return inline(runner, shutdown).await;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::warn!("cannot build the scheduler thread's runtime; the loop runs in place");
        return inline(runner, shutdown).await;
    };
    let (hand_over, take) = std_mpsc::channel::<Runner>();
    let (stop, stopped) = oneshot::channel::<()>();
    let (abort, aborted) = oneshot::channel::<()>();
    let (done, finished) = oneshot::channel::<Result<(), Error>>();
    let spawned = std::thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || {
            let Ok(mut runner) = take.recv() else {
                return;
            };
            let result = runtime.block_on(async move {
                let result = tokio::select! {
                    biased;
                    _ = aborted => None,
                    result = runner.run(async {
                        let _ = stopped.await;
                    }) => Some(result),
                };
                // Dropping the runner ends what is left (see its Drop).
                drop(runner);
                result
            });
            if let Some(result) = result {
                let _ = done.send(result);
            }
        });
    let thread = match spawned {
        Ok(thread) => thread,
        Err(error) => {
            tracing::warn!(%error, "cannot start the scheduler thread; the loop runs in place");
            return inline(runner, shutdown).await;
        }
    };
    runner.spawn_runs_on(caller);
    if let Err(std_mpsc::SendError(runner)) = hand_over.send(runner) {
        // The thread is gone already: run here.
        let _ = thread.join();
        return inline(runner, shutdown).await;
    }
    let mut guard = Joined {
        abort: Some(abort),
        thread: Some(thread),
    };
    tokio::pin!(shutdown);
    let mut finished = finished;
    let mut stop = Some(stop);
    let result = loop {
        tokio::select! {
            result = &mut finished => break result.ok(),
            _ = &mut shutdown, if stop.is_some() => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
            }
        }
    };
    // The loop has ended (or its thread panicked): join, passing a panic on.
    guard.abort = None;
    if let Some(thread) = guard.thread.take()
        && let Err(panic) = thread.join()
    {
        std::panic::resume_unwind(panic);
    }
    // Not reached: the thread sends a result unless it panicked (passed on
    // above) or was aborted (only by `Joined`, still held here).
    result.unwrap_or_else(|| {
        Err(Error::new(
            crate::ErrorKind::Internal,
            "the scheduler thread ended without a result",
        ))
    })
}

/// The loop in place, on the caller's runtime.
pub(super) async fn inline<F: Future>(mut runner: Runner, shutdown: F) -> Result<(), Error> {
    let result = runner.run(shutdown).await;
    drop(runner);
    result
}

/// Aborts the loop and waits for its thread when the caller's future is
/// dropped before the loop ended.
struct Joined {
    abort: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Joined {
    fn drop(&mut self) {
        if let Some(abort) = self.abort.take() {
            let _ = abort.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The loop's own end (terminate records, the event receiver given
            // back) takes milliseconds; a later `Scheduler::run` relies on it.
            let _ = thread.join();
        }
    }
}
