//! The injected clock: every "now" in the engine comes from a [`Clock`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock { now: Arc::new(Mutex::new(start)) }
    }

    /// Moves the clock to `instant` (which may be earlier than now).
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock() = instant;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::TimeDelta) {
        let mut now = self.now.lock();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock()
    }
}
