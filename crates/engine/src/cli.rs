//! The `engine` command line: argument grammar ([`args`]), reading user input
//! ([`input`]), the `cond` subcommands ([`cond`]) and `run` ([`run`], with its
//! config file in [`config`]).
//!
//! Exit codes: 0 success, 1 an evaluation error or a failure while running, 2
//! bad input (an invalid condition or config file, a bad option value, a
//! malformed logs file; clap's own usage errors also exit 2).

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

mod args;
mod cond;
mod config;
mod input;
mod run;

use args::{Cli, Command};

/// Why a command failed; decides the message and the exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad input from the user (exit code 2); the message is complete, and may
    /// span several lines (a condition error with its caret line).
    Input(String),
    /// Several input errors (exit code 2), each shown on its own, in order (the
    /// errors of a config file).
    Inputs(Vec<String>),
    /// The condition could not be evaluated (exit code 1).
    Evaluation(String),
    /// `engine run` failed while starting or running (exit code 1).
    Runtime(String),
    /// Writing the output failed.
    Output(io::Error),
}

impl Failure {
    /// The exit code of this failure.
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) | Failure::Inputs(_) => 2,
            Failure::Evaluation(_) | Failure::Runtime(_) | Failure::Output(_) => 1,
        }
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure::Output(error)
    }
}

/// Where a command writes: its result to `out`, notes to `err`.
pub(crate) struct Streams<'a> {
    /// Standard output: the result.
    pub(crate) out: &'a mut dyn Write,
    /// Standard error: notes about the result.
    pub(crate) err: &'a mut dyn Write,
}

/// Runs the command line of this process and returns its exit code.
pub(crate) fn main() -> ExitCode {
    // Help, version and usage errors print and exit here (usage errors with 2).
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    // Not locked for the whole run: `engine run` logs to stderr from many threads.
    let mut err = io::stderr();
    let result = {
        let mut streams = Streams {
            out: &mut out,
            err: &mut err,
        };
        run(cli, &mut streams)
    };
    let result = result.and_then(|()| out.flush().map_err(Failure::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`engine cond next ... | head -1`) is not an error.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(failure) => {
            let messages = match &failure {
                Failure::Input(m) | Failure::Evaluation(m) | Failure::Runtime(m) => vec![m.clone()],
                Failure::Inputs(list) => list.clone(),
                Failure::Output(e) => vec![format!("cannot write the output: {e}")],
            };
            for message in &messages {
                // Nothing more can be done if stderr is gone too.
                let _ = writeln!(err, "error: {message}");
            }
            if messages.len() > 1 {
                let _ = writeln!(err, "{} errors", messages.len());
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Dispatches one parsed command line.
fn run(cli: Cli, streams: &mut Streams<'_>) -> Result<(), Failure> {
    match cli.command {
        Command::Run(args) => run::run(args, streams),
        Command::Cond(cond) => cond::run(cond, streams),
    }
}
