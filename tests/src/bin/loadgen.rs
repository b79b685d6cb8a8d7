//! The load test in full (`cargo xtask load [--seconds 60] [--connections 64]
//! [--tasks 1000]`): starts `engine run` with many short-period tasks, loads its
//! HTTP API with mixed reads and writes, and prints the figures (see
//! `engine_tests::load`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use engine_tests::load::{LoadConfig, Mix, run};

const USAGE: &str = "\
loadgen --engine PATH [--seconds 60] [--connections 64] [--tasks 1000] [--warmup 5] [--seed S]
        [--mix get=40,list=10,logs=15,patch=20,params=15] [--synchronized] [--dir DIR]

Starts `engine run` (127.0.0.1, port 0, a fresh state directory) with TASKS
command tasks on periods of 1 to 15 seconds (about 100 runs/s for 1,000 tasks),
waits WARMUP seconds, loads the API with CONNECTIONS keep-alive connections of
mixed reads and writes for SECONDS, then prints requests served and failed,
latency per request kind, and the scheduler's delay read from the task log.
The task log starts in a steady state (one earlier run of each task, ended at a
random moment of its period); --synchronized starts every task at once instead.
--mix weighs the request kinds (left out: 0). --connections 0 measures the
scheduler alone. --dir keeps the config and the state (log.sqlite) in DIR for a
look afterwards. Exits 1 when a request failed.
";

/// The scheduler delay the engine aims under (p99).
const DELAY_TARGET: Duration = Duration::from_millis(10);

fn main() -> ExitCode {
    match main_inner() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner() -> Result<bool, String> {
    let mut engine = None;
    let mut seconds = 60u64;
    let mut connections = 64usize;
    let mut tasks = 1000usize;
    let mut warmup = 5u64;
    let mut seed = 1u64;
    let mut mix = Mix::default();
    let mut keep = None;
    let mut synchronized = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--engine" => engine = Some(PathBuf::from(value("--engine")?)),
            "--seconds" => seconds = number(&value("--seconds")?, "--seconds")?,
            "--connections" => connections = number(&value("--connections")?, "--connections")?,
            "--tasks" => tasks = number(&value("--tasks")?, "--tasks")?,
            "--warmup" => warmup = number(&value("--warmup")?, "--warmup")?,
            "--seed" => seed = number(&value("--seed")?, "--seed")?,
            "--mix" => mix = Mix::parse(&value("--mix")?)?,
            "--dir" => keep = Some(PathBuf::from(value("--dir")?)),
            "--synchronized" => synchronized = true,
            "--help" | "-h" => {
                print!("{USAGE}");
                return Ok(true);
            }
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    let engine = engine.ok_or_else(|| format!("--engine is required\n\n{USAGE}"))?;
    let temporary = keep.is_none();
    let dir = keep.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("engine-load-{}", std::process::id()))
    });
    println!(
        "load test: {tasks} tasks ({}), {connections} connections, {seconds} s after {warmup} s of warm-up",
        if synchronized {
            "all due at start-up"
        } else {
            "steady state"
        }
    );
    let config = LoadConfig {
        engine,
        dir: dir.clone(),
        duration: Duration::from_secs(seconds),
        warmup: Duration::from_secs(warmup),
        connections,
        tasks,
        seed,
        mix,
        synchronized,
    };
    let report = run(&config);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report = report?;
    println!("{report}");
    println!(
        "scheduler delay p99 target (< {} ms): {}",
        DELAY_TARGET.as_millis(),
        if report.delay_p99 < DELAY_TARGET {
            "met"
        } else {
            "MISSED"
        }
    );
    Ok(report.failed() == 0)
}

fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name} expects a number, not '{text}'"))
}
