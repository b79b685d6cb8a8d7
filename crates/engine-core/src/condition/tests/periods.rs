//! Phrases with periods and durations: execution, status windows, `time of`.
