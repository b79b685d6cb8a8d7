//! End-to-end tests, one module per area.

mod api;
mod cond;
mod crash;
mod hostile;
mod run;
