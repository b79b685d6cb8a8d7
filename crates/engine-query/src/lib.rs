//! URL query language for filtering records (OWNED BY THE QUERY WORK).
//!
//! ```
//! ```
