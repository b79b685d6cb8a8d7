//! Tests of the config file reader.
