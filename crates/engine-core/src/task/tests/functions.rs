//! Task run tests: function runs (sync, async, thread, main) and their
//! cancellation.

use super::*;

#[tokio::test(start_paused = true)]
async fn function_outcomes() {
    let here = format!("{:?}", std::thread::current().id());
    let here_too = here.clone();
    let ran = Arc::new(AtomicBool::new(false));
    let ran_flag = Arc::clone(&ran);
    let mut cases = vec![];
    for execution in [Execution::Main, Execution::Thread] {
        cases.extend([
            Case {
                execution,
                ..case(
                    "sync ok",
                    function_kind(),
                    Some(sync(|_| Ok(json!(1)))),
                    success(json!(1)),
                )
            },
            Case {
                execution,
                ..case(
                    "sync fail",
                    function_kind(),
                    Some(sync(|_| Err(RunError::Fail("no data".into())))),
                    fail("no data"),
                )
            },
            Case {
                execution,
                ..case(
                    "sync inaction",
                    function_kind(),
                    Some(sync(|_| Err(RunError::Inaction))),
                    Expect::Is(RunOutcome::Inaction),
                )
            },
            Case {
                execution,
                ..case(
                    "sync terminated",
                    function_kind(),
                    Some(sync(|_| Err(RunError::Terminated))),
                    Expect::Is(RunOutcome::Terminated),
                )
            },
            Case {
                execution,
                ..case(
                    "sync panic str",
                    function_kind(),
                    Some(sync(|_| panic!("static boom"))),
                    fail("panicked: static boom"),
                )
            },
            Case {
                execution,
                ..case(
                    "sync panic string",
                    function_kind(),
                    Some(sync(|ctx| panic!("boom in {}", ctx.task))),
                    fail("panicked: boom in sync panic string"),
                )
            },
            Case {
                execution,
                ..case(
                    "sync panic other",
                    function_kind(),
                    Some(sync(|_| std::panic::panic_any(42_u8))),
                    fail("panicked: (a panic payload that is not text)"),
                )
            },
        ]);
    }
    for execution in [Execution::Main, Execution::Async] {
        cases.extend([
            Case {
                execution,
                ..case(
                    "async ok",
                    function_kind(),
                    Some(async_fn(|_| async {
                        tokio::task::yield_now().await;
                        Ok(json!("x"))
                    })),
                    success(json!("x")),
                )
            },
            Case {
                execution,
                ..case(
                    "async fail",
                    function_kind(),
                    Some(async_fn(|_| async { Err(RunError::Fail("bad".into())) })),
                    fail("bad"),
                )
            },
            Case {
                execution,
                ..case(
                    "async inaction",
                    function_kind(),
                    Some(async_fn(|_| async { Err(RunError::Inaction) })),
                    Expect::Is(RunOutcome::Inaction),
                )
            },
            Case {
                execution,
                ..case(
                    "async panic while polled",
                    function_kind(),
                    Some(async_fn(|_| async {
                        tokio::task::yield_now().await;
                        panic!("async boom")
                    })),
                    fail("panicked: async boom"),
                )
            },
            Case {
                execution,
                ..case(
                    "async panic before the future",
                    function_kind(),
                    Some(TaskFn::Async(Arc::new(|_| panic!("eager boom")))),
                    fail("panicked: eager boom"),
                )
            },
        ]);
    }
    cases.extend([
        Case {
            params: json!({"a": 1, "b": "two"}),
            ..case(
                "context",
                function_kind(),
                Some(sync(|ctx| Ok(json!({"task": ctx.task, "params": ctx.params})))),
                success(json!({"task": "context", "params": {"a": 1, "b": "two"}})),
            )
        },
        Case {
            execution: Execution::Main,
            ..case(
                "main runs on the calling thread",
                function_kind(),
                Some(sync(move |_| Ok(json!(format!("{:?}", std::thread::current().id()) == here)))),
                success(json!(true)),
            )
        },
        case(
            "thread runs on a thread named after the task",
            function_kind(),
            Some(sync(move |_| {
                let me = std::thread::current();
                Ok(json!([me.name(), format!("{:?}", me.id()) == here_too]))
            })),
            success(json!(["thread runs on a thread named after the task", false])),
        ),
        Case {
            function: None,
            ..case("missing function", function_kind(), None, fail("no function is registered as 'f'"))
        },
        Case {
            execution: Execution::Async,
            ..case(
                "blocking function as async",
                function_kind(),
                Some(sync(move |_| {
                    ran_flag.store(true, Ordering::SeqCst);
                    Ok(Value::Null)
                })),
                fail(
                    "execution 'async' is not allowed for a blocking function task; allowed: thread, main",
                ),
            )
        },
        Case {
            execution: Execution::Process,
            ..case(
                "async function as process",
                function_kind(),
                Some(async_fn(|_| async { Ok(Value::Null) })),
                fail(
                    "execution 'process' is not allowed for an async function task; allowed: async, main",
                ),
            )
        },
    ]);
    check_runs(cases).await;
    assert!(
        !ran.load(Ordering::SeqCst),
        "a refused run must not call the function"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_token_starts_nothing() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    let req = request(
        "t",
        function_kind(),
        Execution::Thread,
        Some(sync(move |_| {
            flag.store(true, Ordering::SeqCst);
            Ok(Value::Null)
        })),
        json!({}),
    );
    req.cancel.cancel();
    assert_eq!(execute(req).await, RunOutcome::Terminated);
    assert!(!ran.load(Ordering::SeqCst));
}

/// How an async function reacts to its token.
#[derive(Debug, Clone, Copy)]
enum Reaction {
    /// Returns `Err(Terminated)` as soon as the token fires.
    Cooperates,
    /// Never looks at the token.
    Ignores,
    /// Returns a value a little after the token fires (within the grace).
    FinishesLate,
}

#[tokio::test(start_paused = true)]
async fn cancelling_async_runs() {
    for execution in [Execution::Async, Execution::Main] {
        for reaction in [
            Reaction::Cooperates,
            Reaction::Ignores,
            Reaction::FinishesLate,
        ] {
            let dropped = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&dropped);
            let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
            let started_tx = Arc::new(parking_lot::Mutex::new(Some(started_tx)));
            let function = async_fn(move |ctx| {
                let guard = DropFlag(Arc::clone(&flag));
                let started = started_tx.lock().take();
                async move {
                    let _guard = guard;
                    if let Some(started) = started {
                        let _ = started.send(());
                    }
                    match reaction {
                        Reaction::Cooperates => {
                            ctx.cancel.cancelled().await;
                            Err(RunError::Terminated)
                        }
                        Reaction::Ignores => {
                            std::future::pending::<()>().await;
                            Ok(Value::Null)
                        }
                        Reaction::FinishesLate => {
                            ctx.cancel.cancelled().await;
                            tokio::time::sleep(CANCEL_GRACE / 4).await;
                            Ok(json!("late"))
                        }
                    }
                }
            });
            let req = request("a", function_kind(), execution, Some(function), json!({}));
            let cancel = req.cancel.clone();
            let run = tokio::spawn(execute(req));
            started_rx.await.expect("the function started");
            let cancelled_at = tokio::time::Instant::now();
            cancel.cancel();
            let outcome = run.await.expect("the run ends");
            let took = cancelled_at.elapsed();
            let label = format!("{execution} {reaction:?}");
            match reaction {
                Reaction::Cooperates => {
                    assert_eq!(outcome, RunOutcome::Terminated, "{label}");
                    assert!(took < CANCEL_GRACE, "{label}: took {took:?}");
                }
                Reaction::Ignores => {
                    assert_eq!(outcome, RunOutcome::Terminated, "{label}");
                    assert!(took >= CANCEL_GRACE, "{label}: took {took:?}");
                }
                Reaction::FinishesLate => {
                    assert_eq!(outcome, RunOutcome::Success(json!("late")), "{label}");
                }
            }
            assert!(
                dropped.load(Ordering::SeqCst),
                "{label}: the function's future is dropped"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_an_async_run_aborts_the_function() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&dropped);
    let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
    let dropped_tx = Arc::new(parking_lot::Mutex::new(Some(dropped_tx)));
    let function = async_fn(move |_| {
        let guard = DropFlag(Arc::clone(&flag));
        let on_drop = dropped_tx.lock().take();
        async move {
            let _guard = guard;
            let _on_drop = on_drop;
            std::future::pending::<()>().await;
            Ok(Value::Null)
        }
    });
    let req = request(
        "a",
        function_kind(),
        Execution::Async,
        Some(function),
        json!({}),
    );
    let run = tokio::spawn(execute(req));
    tokio::task::yield_now().await;
    run.abort();
    let _ = run.await;
    // The oneshot sender lives in the function's future: its drop closes the channel.
    let closed = tokio::time::timeout(Duration::from_secs(60), dropped_rx).await;
    assert!(closed.is_ok(), "the spawned function was never dropped");
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn cancelling_thread_runs_is_cooperative() {
    for (name, cooperates, expected) in [
        ("cooperates", true, RunOutcome::Terminated),
        (
            "ignores",
            false,
            RunOutcome::Success(json!("finished anyway")),
        ),
    ] {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let started_tx = Arc::new(parking_lot::Mutex::new(Some(started_tx)));
        let function = sync(move |ctx| {
            if let Some(started) = started_tx.lock().take() {
                let _ = started.send(());
            }
            // A blocking body that polls its token (real time, a few ms).
            while !ctx.cancel.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            if cooperates {
                Err(RunError::Terminated)
            } else {
                Ok(json!("finished anyway"))
            }
        });
        let req = request(
            name,
            function_kind(),
            Execution::Thread,
            Some(function),
            json!({}),
        );
        let cancel = req.cancel.clone();
        let run = tokio::spawn(execute(req));
        started_rx.await.expect("the thread started");
        cancel.cancel();
        assert_eq!(run.await.expect("the run ends"), expected, "{name}");
    }
}
