//! `cargo xtask bench [NAME]`: runs the benchmarks in release mode and prints their
//! figures (see docs/benchmarks.md for the latest numbers).

use crate::{cargo, run_command};

/// A benchmark: its name here, its package, its bench target, and the package
/// features it needs.
struct Bench {
    name: &'static str,
    package: &'static str,
    target: &'static str,
    features: &'static str,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "query",
        package: "engine-query",
        target: "filter",
        features: "",
    },
    Bench {
        name: "condition",
        package: "engine-core",
        target: "condition",
        features: "",
    },
    Bench {
        name: "scheduler",
        package: "engine-core",
        target: "scheduler",
        features: "",
    },
    Bench {
        name: "log",
        package: "engine-core",
        target: "log",
        features: "sqlite",
    },
    Bench {
        name: "api",
        package: "engine-api",
        target: "http",
        features: "",
    },
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let selected: Vec<&Bench> = match args.first() {
        None => BENCHES.iter().collect(),
        Some(name) => {
            let bench = BENCHES.iter().find(|b| b.name == name).ok_or_else(|| {
                let names: Vec<_> = BENCHES.iter().map(|b| b.name).collect();
                format!(
                    "unknown benchmark '{name}'; choose one of: {}",
                    names.join(", ")
                )
            })?;
            vec![bench]
        }
    };
    let cargo = cargo();
    for bench in selected {
        let mut args = vec!["bench", "-p", bench.package, "--bench", bench.target];
        if !bench.features.is_empty() {
            args.extend(["--features", bench.features]);
        }
        run_command(&cargo, &args, &[])?;
    }
    Ok(())
}
