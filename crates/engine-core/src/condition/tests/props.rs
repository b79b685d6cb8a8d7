//! Properties: printing then parsing gives the same tree; no input panics.
