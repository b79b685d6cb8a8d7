//! Scheduler tests: time-based schedules, dependencies, priority, forced runs,
//! the concurrency cap, overlap and pipelined return values.

use std::sync::Arc;

use serde_json::json;

use super::{Case, Sim, berlin, check, local, utc};
use crate::log::Action;

#[tokio::test(start_paused = true)]
async fn time_based_schedules() {
    let cases = [
        Case {
            cond: "daily",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 10:00",
            until: "2024-01-04 00:00",
            runs: &["2024-01-01 10:00", "2024-01-02 00:00", "2024-01-03 00:00"],
            count: None,
        },
        Case {
            cond: "daily between 08:00 and 10:00",
            func: "ok",
            tz: berlin(),
            from: "2024-01-01 09:30",
            until: "2024-01-04 12:00",
            runs: &[
                "2024-01-01 09:30",
                "2024-01-02 08:00",
                "2024-01-03 08:00",
                "2024-01-04 08:00",
            ],
            count: None,
        },
        Case {
            cond: "daily between 08:00 and 10:00",
            func: "ok",
            tz: berlin(),
            from: "2024-01-01 10:30",
            until: "2024-01-02 07:59",
            runs: &[],
            count: None,
        },
        Case {
            cond: "hourly",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:30",
            until: "2024-01-01 03:00",
            runs: &["2024-01-01 00:30", "2024-01-01 01:00", "2024-01-01 02:00"],
            count: None,
        },
        // `every` counts from the last finish: 3 minutes of run + 10 minutes.
        Case {
            cond: "every 10 minutes",
            func: "slow180s",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-01 00:50",
            runs: &[
                "2024-01-01 00:00",
                "2024-01-01 00:13",
                "2024-01-01 00:26",
                "2024-01-01 00:39",
            ],
            count: None,
        },
        // A failure today stops the hourly reruns until midnight.
        Case {
            cond: "every 1 hour & ~has failed today",
            func: "fail_third",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-02 01:30",
            runs: &[
                "2024-01-01 00:00",
                "2024-01-01 01:00",
                "2024-01-01 02:00",
                "2024-01-02 00:00",
                "2024-01-02 01:00",
            ],
            count: None,
        },
        Case {
            cond: "cron 15 */6 * * *",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-02 00:00",
            runs: &[
                "2024-01-01 00:15",
                "2024-01-01 06:15",
                "2024-01-01 12:15",
                "2024-01-01 18:15",
            ],
            count: None,
        },
        Case {
            cond: "weekly on Mon",
            func: "ok",
            tz: utc(),
            from: "2024-01-03 00:00",
            until: "2024-01-30 00:00",
            runs: &[
                "2024-01-08 00:00",
                "2024-01-15 00:00",
                "2024-01-22 00:00",
                "2024-01-29 00:00",
            ],
            count: None,
        },
        Case {
            cond: "time of day between 10:00 and 10:05 & every 1 minute",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-01-02 00:00",
            runs: &[],
            count: Some(5),
        },
        Case {
            cond: "false",
            func: "ok",
            tz: utc(),
            from: "2024-01-01 00:00",
            until: "2024-02-01 00:00",
            runs: &[],
            count: None,
        },
    ];
    for case in cases {
        check(case).await;
    }
}

#[tokio::test(start_paused = true)]
async fn daily_runs_once_a_day_through_a_dst_month() {
    let sim = Sim::simulated(berlin(), "2024-03-01 00:00");
    sim.add("d", "daily", "ok");
    let stats = sim.run_until("2024-04-01 00:00").await;
    let runs = sim.runs("d");
    let expected: Vec<String> = (1..=31)
        .map(|day| format!("2024-03-{day:02} 00:00"))
        .collect();
    assert_eq!(runs, expected);
    assert_eq!(stats.runs_finished, 31);
    // Woken once per due day and once per finished run (and at the end): not
    // polled.
    assert!(stats.wakes <= 2 * 31 + 1, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn dependency_chain_runs_in_order() {
    let sim = Sim::simulated(utc(), "2024-01-01 06:00");
    sim.add("c", "after task 'b' failed", "ok");
    sim.add("b", "after task 'a'", "fail");
    sim.add("a", "daily", "ok");
    sim.run_until("2024-01-02 12:00").await;
    let all: Vec<(String, Action)> = sim
        .log
        .records()
        .into_iter()
        .map(|r| (r.task_name, r.action))
        .collect();
    let day = [
        ("a", Action::Run),
        ("a", Action::Success),
        ("b", Action::Run),
        ("b", Action::Fail),
        ("c", Action::Run),
        ("c", Action::Success),
    ];
    let expected: Vec<(String, Action)> = day
        .iter()
        .chain(day.iter())
        .map(|(t, a)| ((*t).to_owned(), *a))
        .collect();
    assert_eq!(all, expected);
    assert_eq!(sim.last("b").exc_text.as_deref(), Some("boom"));
}

#[tokio::test(start_paused = true)]
async fn panicking_function_is_a_failure() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("p", "daily", "panic");
    sim.add("after", "after task 'p' failed", "ok");
    sim.run_until("2024-01-01 01:00").await;
    let record = sim.last("p");
    assert_eq!(record.action, Action::Fail);
    assert!(record.exc_text.unwrap_or_default().contains("kaboom"));
    assert_eq!(sim.runs("after").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn higher_priority_starts_first() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    for (name, priority) in [
        ("p0", 0),
        ("p10", 10),
        ("p100", 100),
        ("p50", 50),
        ("q50", 50),
    ] {
        let mut spec = sim.task(name, "daily", "ok");
        spec.priority = priority;
        sim.add_spec(spec);
    }
    sim.run_until("2024-01-01 01:00").await;
    let order: Vec<String> = sim
        .log
        .records()
        .into_iter()
        .filter(|r| r.action == Action::Run)
        .map(|r| r.task_name)
        .collect();
    assert_eq!(order, ["p100", "p50", "q50", "p10", "p0"]);
}

#[tokio::test(start_paused = true)]
async fn force_run_is_consumed_and_disabled_skips() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    let mut forced = sim.task("forced", "false", "ok");
    forced.disabled = true;
    forced.force_run = true;
    sim.add_spec(forced);
    let mut disabled = sim.task("disabled", "daily", "ok");
    disabled.disabled = true;
    sim.add_spec(disabled);
    sim.run_until("2024-01-03 00:00").await;
    assert_eq!(sim.runs("forced"), ["2024-01-01 00:00"]);
    assert!(!sim.session.task("forced").expect("task").spec.force_run);
    assert!(sim.runs("disabled").is_empty());
}

#[tokio::test(start_paused = true)]
async fn force_run_while_the_scheduler_runs() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("t", "false", "ok");
    let session = sim.session.clone();
    let clock = Arc::clone(&sim.clock);
    let until = local(utc(), "2024-01-01 05:00");
    let at = local(utc(), "2024-01-01 02:00");
    let scheduler = sim.scheduler();
    let run = scheduler.run(clock.sleep_until(until));
    let poke = async {
        clock.sleep_until(at).await;
        session.force_run("t").expect("forced");
    };
    let (ran, ()) = tokio::join!(run, poke);
    ran.expect("ran");
    assert_eq!(sim.runs("t"), ["2024-01-01 02:00"]);
}

#[tokio::test(start_paused = true)]
async fn concurrency_cap_holds_runs_back() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.session
        .patch_config(
            &json!({"max_concurrent_runs": 2, "timeout": "1 day"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("config");
    for name in ["a", "b", "c", "d", "e"] {
        sim.add(name, "daily", "slow3600s");
    }
    sim.run_until("2024-01-01 05:00").await;
    let mut starts: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .flat_map(|t| sim.runs(t))
        .collect();
    starts.sort();
    assert_eq!(
        starts,
        [
            "2024-01-01 00:00",
            "2024-01-01 00:00",
            "2024-01-01 01:00",
            "2024-01-01 01:00",
            "2024-01-01 02:00"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_is_opt_in() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    // Runs of 2.5 minutes, due every minute.
    sim.add("single", "minutely", "slow150s");
    let mut overlap = sim.task("overlap", "minutely", "slow150s");
    overlap.allow_overlap = true;
    sim.add_spec(overlap);
    sim.run_until("2024-01-01 00:05").await;
    assert_eq!(sim.runs("single"), ["2024-01-01 00:00", "2024-01-01 00:03"]);
    assert_eq!(
        sim.runs("overlap"),
        [
            "2024-01-01 00:00",
            "2024-01-01 00:01",
            "2024-01-01 00:02",
            "2024-01-01 00:03",
            "2024-01-01 00:04"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn returns_are_pipelined_into_parameters() {
    let sim = Sim::simulated(utc(), "2024-01-01 00:00");
    sim.add("a", "daily", "ret");
    let mut b = sim.task("b", "after task 'a'", "echo");
    b.parameters.insert("p".into(), json!({"$return": "a"}));
    sim.add_spec(b);
    let mut c = sim.task("c", "after task 'a'", "echo");
    c.parameters
        .insert("p".into(), json!({"$return": "nobody"}));
    sim.add_spec(c);
    let mut d = sim.task("d", "after task 'a'", "echo");
    d.parameters
        .insert("p".into(), json!({"$return": "c", "default": 7}));
    sim.add_spec(d);
    let mut session_param = serde_json::Map::new();
    session_param.insert("p".into(), json!("from session"));
    sim.session
        .patch_parameters(session_param, &[])
        .expect("params");
    sim.add("e", "after task 'a'", "echo");
    sim.run_until("2024-01-01 01:00").await;
    let returns = sim.session.returns();
    assert_eq!(returns.get("a"), Some(&json!("x")));
    assert_eq!(returns.get("b"), Some(&json!("x")));
    assert_eq!(returns.get("d"), Some(&json!(7)));
    assert_eq!(returns.get("e"), Some(&json!("from session")));
    assert_eq!(
        sim.records("c").iter().map(|r| r.0).collect::<Vec<_>>(),
        [Action::Run, Action::Fail]
    );
    assert_eq!(
        sim.last("c").exc_text.as_deref(),
        Some("unknown task 'nobody' in parameter 'p'")
    );
}
