//! Runnable examples; see the `[[example]]` entries.
