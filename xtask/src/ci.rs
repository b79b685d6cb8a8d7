//! `cargo xtask ci`: exactly what CI runs, in order, stopping at the first failure.

use crate::{cargo, command_output, run_command};

pub(crate) fn run() -> Result<(), String> {
    let cargo = cargo();
    let cargo = cargo.as_str();
    run_command(cargo, &["fmt", "--all", "--", "--check"], &[])?;
    run_command(
        cargo,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    crate::tidy::run()?;
    run_command(cargo, &["test", "--workspace", "--all-features"], &[])?;
    // The facade builds with no features and with each feature alone.
    run_command(
        cargo,
        &["check", "-p", "engine", "--no-default-features"],
        &[],
    )?;
    for feature in engine_features()? {
        run_command(
            cargo,
            &[
                "check",
                "-p",
                "engine",
                "--no-default-features",
                "--features",
                &feature,
            ],
            &[],
        )?;
    }
    // The core alone: the facade's unit tests and its crate-doc example.
    run_command(
        cargo,
        &["test", "-p", "engine", "--no-default-features"],
        &[],
    )?;
    run_command(
        cargo,
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    deny(cargo)?;
    // The quick versions of the hardening tests: the hostile-input battery and
    // the crash test (two kills) ran with `cargo test` above; here a few seconds
    // of fuzzing per target over the committed corpora.
    crate::fuzz::run(&["--seconds".to_owned(), "5".to_owned()])?;
    eprintln!("\nxtask ci: all checks passed");
    Ok(())
}

/// The features of the `engine` facade, read from its manifest's `[features]` table.
fn engine_features() -> Result<Vec<String>, String> {
    let manifest =
        std::fs::read_to_string(crate::workspace_root().join("crates/engine/Cargo.toml"))
            .map_err(|e| format!("cannot read crates/engine/Cargo.toml: {e}"))?;
    let mut in_features = false;
    let mut features = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
            continue;
        }
        if !in_features || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && name != "default" {
                features.push(name.to_owned());
            }
        }
    }
    Ok(features)
}

/// `cargo deny check bans licenses sources` (the advisory database needs a
/// network this machine does not have), installing cargo-deny when missing.
fn deny(cargo: &str) -> Result<(), String> {
    if command_output(cargo, &["deny", "--version"]).is_err() {
        run_command(cargo, &["install", "cargo-deny", "--locked"], &[])?;
    }
    run_command(
        cargo,
        &[
            "deny",
            "--all-features",
            "check",
            "bans",
            "licenses",
            "sources",
        ],
        &[],
    )
}
