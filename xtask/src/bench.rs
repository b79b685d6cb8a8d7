//! `cargo xtask bench [NAME]`: runs the benchmarks in release mode and prints their
//! figures (see docs/benchmarks.md for the latest numbers).

use crate::{cargo, run_command};

/// Name -> (package, bench target).
const BENCHES: &[(&str, &str, &str)] = &[
    ("query", "engine-query", "filter"),
    ("condition", "engine-core", "condition"),
    ("api", "engine-api", "http"),
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let selected: Vec<_> = match args.first() {
        None => BENCHES.iter().collect(),
        Some(name) => {
            let bench = BENCHES.iter().find(|(n, _, _)| n == name).ok_or_else(|| {
                let names: Vec<_> = BENCHES.iter().map(|(n, _, _)| *n).collect();
                format!(
                    "unknown benchmark '{name}'; choose one of: {}",
                    names.join(", ")
                )
            })?;
            vec![bench]
        }
    };
    let cargo = cargo();
    for (_, package, target) in selected {
        run_command(&cargo, &["bench", "-p", package, "--bench", target], &[])?;
    }
    Ok(())
}
