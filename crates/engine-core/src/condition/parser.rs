//! Condition parser: a Pratt loop over `~ & |` and parentheses, and one parse
//! function per phrase family.
//!
//! OWNED BY THE CONDITION-PARSER WORK.

use super::Condition;
use crate::Error;

/// Parses condition text into a tree. The empty (or all-whitespace) text is `false`.
pub fn parse(text: &str) -> Result<Condition, Error> {
    let _ = text;
    todo!("condition parser work")
}
