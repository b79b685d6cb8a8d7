//! `cargo xtask load [--seconds 60] [--connections 64] [--tasks 1000]`: builds
//! `engine` and the load generator (`engine-tests`' `loadgen` binary) in release
//! mode and runs the load test: the tasks run while the connections send mixed
//! reads and writes; then requests served and failed, latency per request kind
//! and the scheduler's delay (docs/reliability.md, "Load test").

use crate::crash::target_dir;
use crate::{cargo, run_command};

pub(crate) const USAGE: &str = "\
cargo xtask load [--seconds 60] [--connections 64] [--tasks 1000] [--warmup 5] [--seed S]
                 [--mix get=40,list=10,logs=15,patch=20,params=15] [--synchronized] [--dir DIR]

Builds the engine and the load generator in release mode, starts `engine run`
on 127.0.0.1 with TASKS command tasks (periods of 1 to 15 seconds, about 100
runs/s for 1,000), and after WARMUP seconds loads the API from CONNECTIONS
keep-alive connections for SECONDS. Prints requests served and failed, p50/p99/max
latency per request kind, and the scheduler's due-to-run delay from the task
log (target: p99 under 10 ms). The log starts in a steady state (runs come due
spread out); --synchronized makes every task due at start-up (bursts). --mix weighs the request kinds; --connections 0
measures the scheduler alone; --dir keeps the state for a look afterwards. Fails
when a request failed.
";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut pass: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" | "--connections" | "--tasks" | "--warmup" | "--seed" | "--mix"
            | "--dir" => {
                let value = rest
                    .next()
                    .ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))?;
                pass.extend([arg.as_str(), value.as_str()]);
            }
            "--synchronized" => pass.push(arg.as_str()),
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    let cargo = cargo();
    run_command(
        &cargo,
        &["build", "--release", "-p", "engine", "--bin", "engine"],
        &[],
    )?;
    run_command(
        &cargo,
        &[
            "build",
            "--release",
            "-p",
            "engine-tests",
            "--bin",
            "loadgen",
        ],
        &[],
    )?;
    let dir = target_dir().join("release");
    let engine = dir.join(format!("engine{}", std::env::consts::EXE_SUFFIX));
    let generator = dir.join(format!("loadgen{}", std::env::consts::EXE_SUFFIX));
    let engine = engine.to_string_lossy().into_owned();
    let mut generator_args = vec!["--engine", engine.as_str()];
    generator_args.extend(pass);
    run_command(&generator.to_string_lossy(), &generator_args, &[])
}
