//! `cargo xtask fuzz`: coverage-guided fuzzing of the parsers and the HTTP API with cargo-fuzz
//! (libFuzzer): builds the targets in `fuzz/`, runs each for a while, prints
//! its figures, and fails with the crash input's path when one panics. See
//! `fuzz/README.md`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, command_output, run_command, workspace_root};

mod json;
mod seeds;
#[cfg(test)]
mod tests;

/// The usage text, also part of `cargo xtask help`.
pub(crate) const USAGE: &str = "\
cargo xtask fuzz [--seconds N] [--merge] [--sanitizer none|address] [TARGET...]
cargo xtask fuzz --seed
cargo xtask fuzz --list

Runs each fuzz target in fuzz/fuzz_targets (all, or those named) for N seconds
(default 10) with cargo-fuzz, installing it when missing, and prints per target
the executions, exec/s, coverage (libFuzzer's cov:) and corpus size. A crash,
hang (5 s per input) or memory blow-up (2048 MB) fails the command and prints
the input's path under fuzz/artifacts/<target>/.

  --seconds N   how long each target runs
  --merge       afterwards, make the committed corpus fuzz/corpus/<target> a
                minimal set of inputs reaching every edge it and the run reached
  --sanitizer   none (default: the code is safe Rust; fastest) or address
  --seed        write the seed inputs fuzz/corpus/<target>/seed-* from
                testdata/vectors.json and the phrase examples, and stop
                (a later --merge folds them into the minimal set)
  --list        print the targets and stop

Targets (every fuzz/fuzz_targets/*.rs): condition, condition_eval,
duration_and_period, http (raw HTTP/1.1 and structured requests through the
API's router and handlers: no panic, no 5xx, JSON everywhere), query.
";

/// libFuzzer's limits for every run: input size, seconds per input, memory.
const LIMITS: [&str; 3] = ["-max_len=4096", "-timeout=5", "-rss_limit_mb=2048"];

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    seconds: u64,
    merge: bool,
    seed: bool,
    list: bool,
    sanitizer: String,
    targets: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            seconds: 10,
            merge: false,
            seed: false,
            list: false,
            sanitizer: "none".to_owned(),
            targets: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next().cloned())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match flag {
                "--seconds" => {
                    let text = value("--seconds")?;
                    options.seconds = text.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("--seconds takes a positive number, not '{text}'")
                    })?;
                }
                "--sanitizer" => {
                    options.sanitizer = value("--sanitizer")?;
                    if !["none", "address"].contains(&options.sanitizer.as_str()) {
                        return Err(format!(
                            "--sanitizer is none or address, not '{}'",
                            options.sanitizer
                        ));
                    }
                }
                "--merge" => options.merge = true,
                "--seed" => options.seed = true,
                "--list" => options.list = true,
                flag if flag.starts_with('-') => {
                    return Err(format!("unknown option '{flag}'\n\n{USAGE}"));
                }
                target => options.targets.push(target.to_owned()),
            }
        }
        Ok(options)
    }
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    if options.seed {
        return seeds::write(
            &root.join("testdata/vectors.json"),
            &fuzz_dir.join("corpus"),
        );
    }
    let all = targets(&fuzz_dir)?;
    if options.list {
        println!("{}", all.join("\n"));
        return Ok(());
    }
    let selected = if options.targets.is_empty() {
        all.clone()
    } else {
        options.targets.clone()
    };
    if let Some(unknown) = selected.iter().find(|t| !all.contains(t)) {
        return Err(format!(
            "unknown fuzz target '{unknown}'; choose from: {}",
            all.join(", ")
        ));
    }
    let cargo = cargo();
    ensure_cargo_fuzz(&cargo)?;
    // libFuzzer's instrumentation flags are nightly-only; the stable toolchain
    // accepts them with RUSTC_BOOTSTRAP.
    let env = [("RUSTC_BOOTSTRAP", "1")];
    run_command(
        &cargo,
        &["fuzz", "build", "--sanitizer", &options.sanitizer],
        &env,
    )?;
    let mut reports = Vec::new();
    for target in &selected {
        reports.push(fuzz_one(&cargo, &fuzz_dir, target, &options)?);
    }
    eprintln!(
        "\n{:<22} {:>12} {:>9} {:>7} {:>8} {:>8}  result",
        "target", "executions", "exec/s", "cov", "corpus", "seconds"
    );
    for report in &reports {
        eprintln!("{}", report.line());
    }
    let failed: Vec<&Report> = reports.iter().filter(|r| r.failure.is_some()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    for report in &failed {
        eprintln!(
            "\n{}: {}",
            report.target,
            report.failure.as_deref().unwrap_or_default()
        );
    }
    Err(format!("{} fuzz target(s) failed", failed.len()))
}

/// The fuzz targets: the file stems of `fuzz/fuzz_targets/*.rs`, sorted.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz_dir.join("fuzz_targets");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter_map(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// Installs cargo-fuzz when `cargo fuzz --version` fails.
fn ensure_cargo_fuzz(cargo: &str) -> Result<(), String> {
    if command_output(cargo, &["fuzz", "--version"]).is_err() {
        run_command(cargo, &["install", "cargo-fuzz", "--locked"], &[])?;
    }
    Ok(())
}

/// What one target's run gave.
#[derive(Debug, Clone, PartialEq)]
struct Report {
    target: String,
    stats: Stats,
    seconds: f64,
    /// Why the run failed, with the input's path; `None` when it did not.
    failure: Option<String>,
}

impl Report {
    fn line(&self) -> String {
        let show = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let corpus = match (self.stats.corpus_units, &self.stats.corpus_size) {
            (Some(units), Some(size)) => format!("{units}/{size}"),
            (Some(units), None) => units.to_string(),
            _ => "?".to_owned(),
        };
        format!(
            "{:<22} {:>12} {:>9} {:>7} {:>8} {:>8.0}  {}",
            self.target,
            show(self.stats.executions),
            show(self.stats.exec_per_sec),
            show(self.stats.cov),
            corpus,
            self.seconds,
            if self.failure.is_some() {
                "FAILED"
            } else {
                "ok"
            }
        )
    }
}

/// Runs one target for `options.seconds`, its new inputs going to a git-ignored
/// working corpus (`fuzz/target/corpus/<target>`) next to the committed seeds.
fn fuzz_one(
    cargo: &str,
    fuzz_dir: &Path,
    target: &str,
    options: &Options,
) -> Result<Report, String> {
    let work = fuzz_dir.join("target/corpus").join(target);
    let seeds = fuzz_dir.join("corpus").join(target);
    for dir in [&work, &seeds] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut libfuzzer: Vec<String> = LIMITS.iter().map(|s| (*s).to_owned()).collect();
    libfuzzer.push(format!("-max_total_time={}", options.seconds));
    libfuzzer.push("-print_final_stats=1".to_owned());
    let dict = fuzz_dir.join("dict").join(format!("{target}.dict"));
    if dict.is_file() {
        libfuzzer.push(format!("-dict={}", dict.display()));
    }
    eprintln!("\nxtask fuzz: {target} for {} s ...", options.seconds);
    let started = Instant::now();
    let (success, output) = cargo_fuzz_run(cargo, options, target, &[&work, &seeds], &libfuzzer)?;
    let seconds = started.elapsed().as_secs_f64();
    let log = fuzz_dir.join("target/logs").join(format!("{target}.log"));
    if let Some(parent) = log.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(&log, &output);
    let stats = Stats::parse(&output);
    let failure = (!success).then(|| failure_report(target, &output, &log));
    let report = Report {
        target: target.to_owned(),
        stats,
        seconds,
        failure,
    };
    eprintln!("{}", report.line());
    if options.merge && report.failure.is_none() {
        merge(cargo, options, target, &seeds, &work)?;
    }
    Ok(report)
}

/// `cargo fuzz run <target> <corpus dirs> -- <libFuzzer args>` in the workspace
/// root: whether it succeeded, and its output.
fn cargo_fuzz_run(
    cargo: &str,
    options: &Options,
    target: &str,
    corpora: &[&Path],
    libfuzzer: &[String],
) -> Result<(bool, String), String> {
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .env("RUSTC_BOOTSTRAP", "1");
    command.args(["fuzz", "run", "--sanitizer", &options.sanitizer, target]);
    command.args(corpora);
    command.arg("--").args(libfuzzer);
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), text))
}

/// Replaces the committed corpus with a minimal set cover of the edges that it
/// and the working corpus reach; `regression-*` inputs always stay.
fn merge(
    cargo: &str,
    options: &Options,
    target: &str,
    committed: &Path,
    work: &Path,
) -> Result<(), String> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        format!("cannot {what} {}: {e}", path.display())
    };
    let fresh = work.with_file_name(format!("{target}.merge"));
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(|e| io("remove", &fresh, e))?;
    }
    std::fs::create_dir_all(&fresh).map_err(|e| io("create", &fresh, e))?;
    let before = corpus_files(committed).len();
    let mut args: Vec<String> = LIMITS.iter().map(|s| (*s).to_owned()).collect();
    // Edges, not hit counts: that keeps the committed corpus to a few hundred
    // inputs; the working corpus keeps the finer-grained set.
    args.extend([
        "-set_cover_merge=1".to_owned(),
        "-use_counters=0".to_owned(),
    ]);
    let (success, output) =
        cargo_fuzz_run(cargo, options, target, &[&fresh, committed, work], &args)?;
    if !success {
        return Err(format!(
            "merging the corpus of {target} failed:\n{}",
            tail(&output, 20)
        ));
    }
    for path in corpus_files(committed) {
        let keep = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("regression-"));
        if !keep {
            std::fs::remove_file(&path).map_err(|e| io("remove", &path, e))?;
        }
    }
    for path in corpus_files(&fresh) {
        if let Some(name) = path.file_name() {
            let to = committed.join(name);
            std::fs::copy(&path, &to).map_err(|e| io("write", &to, e))?;
        }
    }
    let after = corpus_files(committed);
    let bytes: u64 = after
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "xtask fuzz: {} now holds {} inputs ({bytes} bytes; {before} before the merge)",
        committed.display(),
        after.len()
    );
    Ok(())
}

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// libFuzzer's final figures, read from its output.
#[derive(Debug, Clone, Default, PartialEq)]
struct Stats {
    /// `stat::number_of_executed_units`.
    executions: Option<u64>,
    /// `stat::average_exec_per_sec`.
    exec_per_sec: Option<u64>,
    /// Edges covered: `cov:` of the last status line.
    cov: Option<u64>,
    /// Features: `ft:` of the last status line.
    features: Option<u64>,
    /// Inputs in the corpus: `corp: N/size`.
    corpus_units: Option<u64>,
    /// The corpus's size as libFuzzer prints it (`45Kb`).
    corpus_size: Option<String>,
}

impl Stats {
    fn parse(output: &str) -> Stats {
        let mut stats = Stats::default();
        for line in output.lines() {
            let line = line.trim();
            if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
                stats.executions = n.trim().parse().ok();
            } else if let Some(n) = line.strip_prefix("stat::average_exec_per_sec:") {
                stats.exec_per_sec = n.trim().parse().ok();
            } else if line.starts_with('#') && line.contains(" cov: ") {
                let words: Vec<&str> = line.split_whitespace().collect();
                let after = |key: &str| {
                    words
                        .iter()
                        .position(|w| *w == key)
                        .and_then(|i| words.get(i + 1))
                };
                stats.cov = after("cov:").and_then(|n| n.parse().ok());
                stats.features = after("ft:").and_then(|n| n.parse().ok());
                if let Some((units, size)) = after("corp:").and_then(|c| c.split_once('/')) {
                    stats.corpus_units = units.parse().ok();
                    stats.corpus_size = Some(size.to_owned());
                }
            }
        }
        stats
    }
}

/// What went wrong in a failed run: libFuzzer's summary, the panic message,
/// the input's path, and how to reproduce it.
fn failure_report(target: &str, output: &str, log: &Path) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let mut report = Vec::new();
    if let Some(summary) = lines.iter().find(|l| l.starts_with("SUMMARY: libFuzzer:")) {
        report.push((*summary).to_owned());
    }
    if let Some(start) = lines.iter().position(|l| l.contains(" panicked at ")) {
        let message = lines[start..].iter().take(12).take_while(|l| {
            !l.starts_with("note:") && !l.starts_with("==") && !l.starts_with("stack backtrace")
        });
        report.extend(message.map(|l| (*l).to_owned()));
    }
    let artifact = lines.iter().find_map(|l| {
        l.split_once("Test unit written to ")
            .map(|(_, path)| path.trim().to_owned())
    });
    match artifact {
        Some(path) => {
            report.push(format!("input: {path}"));
            report.push(format!(
                "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none {target} {path}\n  \
                 minimize:  RUSTC_BOOTSTRAP=1 cargo fuzz tmin --sanitizer none {target} {path}"
            ));
        }
        None => report.push(format!(
            "no input was written; the last lines:\n{}",
            tail(output, 20)
        )),
    }
    report.push(format!("full output: {}", log.display()));
    report.join("\n  ")
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
