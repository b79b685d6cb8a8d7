//! The injected clock: every "now" in the engine comes from a [`Clock`], and
//! every wait for a point in time goes through [`Clock::sleep_until`].
//!
//! Three clocks: [`SystemClock`] (the wall clock), [`SimulatedClock`] (follows
//! tokio's clock from a chosen instant, so under tokio's paused time a simulated
//! month passes in milliseconds) and [`ManualClock`] (moves only when told to).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;
use tokio::sync::watch;

/// A boxed, sendable future of a clock's wait.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current instant, and a way to wait for a later one.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// Completes once [`Clock::now`] has reached `deadline` (at once if it has).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep;
}

/// The wall clock; waits with tokio timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that reads tokio's clock, offset to start at a chosen instant.
///
/// Under `#[tokio::test(start_paused = true)]` tokio's clock jumps forward
/// whenever every task is idle, and this clock jumps with it: a scheduler that
/// sleeps until its next due time runs a simulated month in milliseconds, in
/// the same order of events as in real time.
#[derive(Debug, Clone, Copy)]
pub struct SimulatedClock {
    origin: DateTime<Utc>,
    origin_instant: tokio::time::Instant,
}

impl SimulatedClock {
    /// A clock that reads `start` now and advances with tokio's clock.
    ///
    /// Must be called inside a tokio runtime.
    pub fn start_at(start: DateTime<Utc>) -> Self {
        SimulatedClock {
            origin: start,
            origin_instant: tokio::time::Instant::now(),
        }
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.origin_instant;
        self.origin + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX)
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let offset = (deadline - self.origin).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep_until(self.origin_instant + offset))
    }
}

/// A clock that only moves when told to; for tests and simulations driven step
/// by step. Waits complete when [`ManualClock::set`] or [`ManualClock::advance`]
/// reaches their deadline.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
    moved: Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
            moved: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Moves the clock to `instant` (which may be earlier than now).
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock() = instant;
        self.moved.send_replace(instant);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let now = {
            let mut now = self.now.lock();
            *now += by;
            *now
        };
        self.moved.send_replace(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            // An error means the clock was dropped: nothing will ever move it again.
            let _ = moved.wait_for(|now| *now >= deadline).await;
        })
    }
}

#[cfg(test)]
mod tests;
