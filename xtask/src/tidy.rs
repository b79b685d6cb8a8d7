//! `cargo xtask tidy`: the layering rule (engine-query <- engine-core <- engine-api
//! <- engine; a crate never reaches up, and only engine-api knows HTTP) and the
//! rule that every Rust file opens with a `//!` line saying what it is for.

use std::path::{Path, PathBuf};

use crate::{cargo, command_output, workspace_root};

/// For each library crate, the packages it must not depend on (directly or not).
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "engine-query",
        &[
            "engine-core",
            "engine-api",
            "engine",
            "tokio",
            "hyper",
            "hyper-util",
            "http",
            "chrono-tz",
        ],
    ),
    (
        "engine-core",
        &[
            "engine-api",
            "engine",
            "hyper",
            "hyper-util",
            "http",
            "http-body-util",
        ],
    ),
    ("engine-api", &["engine"]),
];

/// The directories whose `.rs` files must open with a `//!` line.
const DOC_ROOTS: &[&str] = &["crates", "xtask", "tests", "examples", "fuzz"];

pub(crate) fn run() -> Result<(), String> {
    let mut problems = layering_problems()?;
    problems.extend(file_doc_problems());
    if problems.is_empty() {
        eprintln!("xtask tidy: layering and file docs are clean");
        return Ok(());
    }
    Err(format!(
        "tidy found {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    ))
}

fn layering_problems() -> Result<Vec<String>, String> {
    let cargo = cargo();
    let mut problems = Vec::new();
    for (krate, forbidden) in FORBIDDEN {
        let tree = command_output(
            &cargo,
            &[
                "tree",
                "-p",
                krate,
                "-e",
                "normal",
                "--prefix",
                "none",
                "--format",
                "{p}",
                "--all-features",
            ],
        )?;
        for dependency in tree
            .lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().next())
        {
            if forbidden.contains(&dependency) {
                problems.push(format!(
                    "{krate} depends on {dependency}, which is above it or HTTP-only"
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    Ok(problems)
}

fn file_doc_problems() -> Vec<String> {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in DOC_ROOTS {
        collect_rust_files(&root.join(dir), &mut files);
    }
    let mut problems = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            problems.push(format!("{} cannot be read", relative(&root, &file)));
            continue;
        };
        let first = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with("#!["));
        if !first.is_some_and(|line| line.starts_with("//!")) {
            problems.push(format!(
                "{} does not open with a `//!` line saying what it is for",
                relative(&root, &file)
            ));
        }
    }
    problems
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "corpus" || name == "artifacts" {
            continue;
        }
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    /// The layering and file-doc rules hold; runs with `cargo test --workspace`.
    #[test]
    fn tidy() {
        if let Err(message) = super::run() {
            panic!("{message}");
        }
    }
}
