//! Integration tests of engine-query: the shared test vectors and property tests.

mod props;
mod vectors;
