//! Crate-level tests: the endpoint table in the crate docs matches the route table.

use crate::router::{ROUTES, Verb};

/// The `| path | methods | ... |` rows of the endpoint table in lib.rs's docs.
fn documented_rows() -> Vec<(String, String)> {
    include_str!("lib.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//! | `/"))
        .filter_map(|row| {
            let mut cells = row.split(" | ");
            let path = format!("/{}", cells.next()?.trim_end_matches('`'));
            let methods = cells.next()?.to_owned();
            Some((path, methods))
        })
        .collect()
}

#[test]
fn the_docs_table_lists_every_route_with_its_methods() {
    let table: Vec<(String, String)> = ROUTES
        .iter()
        .map(|spec| {
            let verbs: Vec<&str> = spec.verbs().iter().copied().map(Verb::as_str).collect();
            (spec.pattern().to_owned(), verbs.join(", "))
        })
        .collect();
    assert_eq!(documented_rows(), table);
}
