//! `cargo xtask crash [--kills N] [--seed S]`: builds `engine` and the crash
//! test driver (`engine-tests`' `crash` binary) and runs the crash test in
//! full: N SIGKILLs (default 20) at random moments while changes stream in,
//! each followed by a restart and the checks, then the figures
//! (docs/reliability.md, "Crash test").

use crate::{cargo, run_command, workspace_root};

pub(crate) const USAGE: &str = "\
cargo xtask crash [--kills N] [--seed S] [--state DIR]

Builds the engine and the crash-test driver, then kills `engine run` N times
(default 20) at random moments while a client streams changes over HTTP; after
each restart it checks that every acknowledged change and every reported log
record is there and that the daily task ran once. Prints kills survived,
changes and records checked, and the time. --seed repeats a run.
";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut pass: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--kills" | "--seed" | "--state" => {
                let value = rest
                    .next()
                    .ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))?;
                pass.extend([arg.as_str(), value.as_str()]);
            }
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    let cargo = cargo();
    run_command(&cargo, &["build", "-p", "engine", "--bin", "engine"], &[])?;
    run_command(
        &cargo,
        &["build", "-p", "engine-tests", "--bin", "crash"],
        &[],
    )?;
    let dir = target_dir().join("debug");
    let engine = dir.join(format!("engine{}", std::env::consts::EXE_SUFFIX));
    let driver = dir.join(format!("crash{}", std::env::consts::EXE_SUFFIX));
    let engine = engine.to_string_lossy().into_owned();
    let mut driver_args = vec!["--engine", engine.as_str()];
    driver_args.extend(pass);
    run_command(&driver.to_string_lossy(), &driver_args, &[])
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `target` in the workspace.
pub(crate) fn target_dir() -> std::path::PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("target"),
    }
}
