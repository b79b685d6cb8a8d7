//! `cargo xtask hostile [--cases N] [--seed S] [--release]`: the full
//! hostile-input battery (`tests/it/hostile.rs` with `ENGINE_HOSTILE_FULL=1`):
//! every deterministic case, thousands of idle connections and N seeded random
//! requests against the `engine` binary, one test at a time, with the figures
//! printed (docs/reliability.md, "Hostile input").

use std::time::Instant;

use crate::{cargo, run_command};

pub(crate) const USAGE: &str = "\
cargo xtask hostile [--cases N] [--seed S] [--release]

Runs the hostile-input battery in full against `engine run` on 127.0.0.1:
every deterministic case (malformed JSON, wrong types, huge and unfinished
bodies, bad encodings, long URLs, odd names, bad queries, unknown methods,
HTTP/1.0, pipelining), slow and stalled clients, 2,000 idle connections
(fewer if the open-file limit is low) while normal requests are served, and N
random garbage requests (default 20000) from seed S (default: the clock).
Prints the cases tried, the statuses seen and the time; fails on any 5xx, any
wrong status, a server that stops serving, or a session that changed.
--release builds the engine and the tests in release mode.
";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut env: Vec<(&str, String)> = vec![("ENGINE_HOSTILE_FULL", "1".to_owned())];
    let mut release = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .filter(|v| v.parse::<u64>().is_ok())
                .cloned()
                .ok_or_else(|| format!("{name} needs a number\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--cases" => env.push(("ENGINE_HOSTILE_CASES", value("--cases")?)),
            "--seed" => env.push(("ENGINE_HOSTILE_SEED", value("--seed")?)),
            "--release" => release = true,
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    let mut test = vec!["test", "-p", "engine-tests", "--test", "it"];
    if release {
        test.push("--release");
    }
    test.extend(["hostile::", "--", "--nocapture", "--test-threads", "1"]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = Instant::now();
    let result = run_command(&cargo(), &test, &env);
    eprintln!("hostile: the full battery took {:.1?}", started.elapsed());
    result
}
