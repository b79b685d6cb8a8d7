//! Test harness shared by the end-to-end tests: building and finding the `engine`
//! binary.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The path of the `engine` binary, built once per test run with the same cargo
/// and profile as the tests (a separate package cannot see `CARGO_BIN_EXE_*`).
pub fn engine_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test executable path");
            // target/<profile>/deps/it-xxxx -> target/<profile>
            let profile_dir = exe.parent().and_then(|p| p.parent()).expect("target profile directory");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "engine", "--bin", "engine"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build for the engine binary");
            assert!(status.success(), "building the engine binary failed");
            profile_dir.join(format!("engine{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}
