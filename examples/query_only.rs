//! Example: print the lines of a JSON-lines file that match a query (engine-query alone, no scheduler).
//!
//! ```text
//! cargo run -p engine-examples --example query_only -- FILE.jsonl 'action=run&timestamp$min=2021-01-01'
//! ```
//!
//! Each line of FILE (or standard input for `-`) is a JSON object; the lines the
//! query keeps are printed unchanged. A bad query, an unreadable file or a line
//! that is not JSON is reported on standard error with exit code 2.
#![allow(clippy::print_stderr)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::process::ExitCode;

use engine::query::{Error, Filter};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, query] = args.as_slice() else {
        eprintln!("usage: query_only FILE.jsonl QUERY   (FILE may be - for standard input)");
        eprintln!("example: query_only logs.jsonl 'action=run&timestamp$min=2021-01-01'");
        return ExitCode::from(2);
    };
    match run(file, query) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("query_only: {message}");
            ExitCode::from(2)
        }
    }
}

/// Filters `file` with `query`, writing matching lines to standard output.
fn run(file: &str, query: &str) -> Result<(), String> {
    let filter = Filter::parse(query).map_err(|e| render(&e, query))?;
    let input: Box<dyn BufRead> = if file == "-" {
        Box::new(io::stdin().lock())
    } else {
        let opened = File::open(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        Box::new(BufReader::new(opened))
    };
    let mut out = io::stdout().lock();
    for (number, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read {file}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("{file}:{}: not a JSON value: {e}", number + 1))?;
        if filter.matches(&record) {
            match writeln!(out, "{line}") {
                Ok(()) => {}
                // The reader went away (`| head`): stop quietly.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(format!("cannot write the output: {e}")),
            }
        }
    }
    out.flush()
        .or_else(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| format!("cannot write the output: {e}"))
}

/// The error, then the query with a caret line under the offending part.
fn render(error: &Error, query: &str) -> String {
    let Some(span) = error.span() else {
        return format!("bad query: {error}");
    };
    let pad = query.get(..span.start).map_or(0, |s| s.chars().count());
    let width = query
        .get(span.clone())
        .map_or(1, |s| s.chars().count())
        .max(1);
    format!(
        "bad query: {error}\n  {query}\n  {}{}",
        " ".repeat(pad),
        "^".repeat(width)
    )
}
