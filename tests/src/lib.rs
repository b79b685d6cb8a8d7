//! Test harness shared by the end-to-end tests: finding the `engine` binary and
//! running it.

use std::path::PathBuf;

/// The path of the built `engine` binary (built by cargo for this test package).
pub fn engine_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_engine"))
}
