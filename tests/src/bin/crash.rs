//! The crash test in full (`cargo xtask crash [--kills N] [--seed S]`): kills
//! `engine run` with SIGKILL at random moments while changes stream in, and
//! checks the state after every restart (see `engine_tests::crash`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use engine_tests::crash::{CrashConfig, run};

const USAGE: &str = "\
crash --engine PATH [--kills N] [--seed S] [--state DIR]

Kills `engine run` N times (default 20) at random moments while a client streams
changes, and checks after each restart that every acknowledged change and every
reported log record survived and that the daily task ran once a day. The seed
(default: from the clock) repeats a run. The state goes to DIR (default: a new
directory under the system's temporary directory, removed when all passed).
";

fn main() -> ExitCode {
    match main_inner() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("crash: {message}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner() -> Result<(), String> {
    let mut engine = None;
    let mut kills = 20usize;
    let mut seed = None;
    let mut state = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--engine" => engine = Some(PathBuf::from(value("--engine")?)),
            "--kills" => kills = number(&value("--kills")?, "--kills")?,
            "--seed" => seed = Some(number(&value("--seed")?, "--seed")?),
            "--state" => state = Some(PathBuf::from(value("--state")?)),
            "--help" | "-h" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    let engine = engine.ok_or_else(|| format!("--engine is required\n\n{USAGE}"))?;
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    let temporary = state.is_none();
    let state = state.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("engine-crash-{}-{seed}", std::process::id()))
    });
    println!(
        "crash test: {kills} kills, seed {seed}, state in {}",
        state.display()
    );
    let config = CrashConfig {
        engine,
        state: state.clone(),
        kills,
        seed,
        uptime: (Duration::from_millis(300), Duration::from_millis(3000)),
    };
    let report = run(&config).map_err(|e| format!("{e}\n(state kept in {})", state.display()))?;
    println!("{report}");
    if temporary {
        let _ = std::fs::remove_dir_all(&state);
    }
    Ok(())
}

fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name} expects a number, not '{text}'"))
}
