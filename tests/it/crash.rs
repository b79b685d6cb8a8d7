//! Reliability end to end: the crash test (SIGKILL at random moments while
//! changes stream in; every acknowledged change and reported record survives)
//! and a load smoke test (mixed API traffic while tasks run; no request fails),
//! both short here; `cargo xtask crash` and `cargo xtask load` run them in full.

use std::time::Duration;

use engine_tests::crash::{self, CrashConfig};
use engine_tests::engine_binary;
use engine_tests::load::{self, LoadConfig};

#[test]
fn acknowledged_changes_and_reported_records_survive_two_kills() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let config = CrashConfig {
        engine: engine_binary(),
        state: dir.path().to_path_buf(),
        kills: 2,
        seed,
        uptime: (Duration::from_millis(500), Duration::from_millis(1500)),
    };
    let report = crash::run(&config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.kills, 2);
    assert!(
        report.acknowledged > 0,
        "no change was acknowledged: {report}"
    );
    assert!(
        report.records_checked > 0,
        "no record was checked: {report}"
    );
    assert_eq!(report.daily_runs, 1, "{report}");
}

#[test]
fn a_short_load_fails_no_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = LoadConfig {
        engine: engine_binary(),
        dir: dir.path().to_path_buf(),
        duration: Duration::from_secs(3),
        warmup: Duration::from_millis(500),
        connections: 8,
        tasks: 100,
        seed: 1,
        mix: load::Mix::default(),
        synchronized: false,
    };
    let report = load::run(&config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.failed(), 0, "{report}");
    for (kind, latency) in &report.latency {
        assert!(
            latency.served > 0,
            "no {} was served: {report}",
            kind.label()
        );
    }
    assert!(report.runs > 0, "no task ran during the load: {report}");
}
