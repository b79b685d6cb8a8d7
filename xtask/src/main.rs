//! cargo xtask: project automation (`ci`, `tidy`, `bench`, `fuzz`). Run `cargo xtask help`.

mod bench;
mod ci;
mod crash;
mod fuzz;
mod hostile;
mod load;
mod schemathesis;
mod tidy;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command>

Commands:
  ci             everything CI runs: fmt, clippy, tidy, tests, feature builds, docs, deny,
                 and 5 s of fuzzing per target
  tidy           layering check (crates only depend downwards) and file-doc check
  bench [NAME]   run the benchmarks (all, or one of: query, condition, scheduler, log, api) in release mode
  fuzz [--seconds N] [TARGET...]
                 coverage-guided fuzzing (cargo-fuzz) of the condition, time and query
                 parsers, condition evaluation and the HTTP API's router and handlers,
                 N seconds per target (default 10); `fuzz --help` for more
  crash [--kills N] [--seed S]
                 crash test: SIGKILL the engine N times (default 20) while changes stream
                 in; every acknowledged change and reported log record must survive
  load [--seconds 60] [--connections 64] [--tasks 1000]
                 load test (release): mixed API traffic while tasks run; latency per
                 request kind, failed requests, the scheduler's delay
  hostile [--cases N] [--seed S]
                 the full hostile-input battery against the binary: bad requests of every
                 kind, slow clients, 2,000 idle connections, N random requests (20000)
  schemathesis [--max-examples N] [--seed S]
                 property-based tests of the API against its OpenAPI document (installs
                 schemathesis into target/, runs the release engine on 127.0.0.1)
  help           this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("tidy") => tidy::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") if args[1..].iter().any(|a| a == "--help" || a == "-h") => {
            print!("{}", fuzz::USAGE);
            Ok(())
        }
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("crash") if args[1..].iter().any(|a| a == "--help" || a == "-h") => {
            print!("{}", crash::USAGE);
            Ok(())
        }
        Some("crash") => crash::run(&args[1..]),
        Some("load") if args[1..].iter().any(|a| a == "--help" || a == "-h") => {
            print!("{}", load::USAGE);
            Ok(())
        }
        Some("load") => load::run(&args[1..]),
        Some("hostile") if args[1..].iter().any(|a| a == "--help" || a == "-h") => {
            print!("{}", hostile::USAGE);
            Ok(())
        }
        Some("hostile") => hostile::run(&args[1..]),
        Some("schemathesis") if args[1..].iter().any(|a| a == "--help" || a == "-h") => {
            print!("{}", schemathesis::USAGE);
            Ok(())
        }
        Some("schemathesis") => schemathesis::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command '{other}'\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `program args...` in the workspace root, echoing it, and fails on a
/// non-zero exit.
fn run_command(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("\n$ {} {}", program, args.join(" "));
    let status = std::process::Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Runs `program args...` and returns its standard output.
fn command_output(program: &str, args: &[&str]) -> Result<String, String> {
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("`{program}` printed non-UTF-8: {e}"))
}

/// The workspace root (the parent of this crate's directory).
fn workspace_root() -> std::path::PathBuf {
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo that runs xtask (so CI uses one toolchain throughout).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
