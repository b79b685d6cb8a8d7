//! Tests of the clocks: manual waits complete when moved, simulated time follows
//! tokio's paused clock.

use chrono::{TimeDelta, TimeZone, Utc};

use super::*;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("valid start")
}

#[tokio::test]
async fn manual_clock_wait_completes_when_moved_past_deadline() {
    let clock = ManualClock::new(start());
    let deadline = start() + TimeDelta::minutes(10);
    let waiter = tokio::spawn(clock.sleep_until(deadline));
    clock.advance(TimeDelta::minutes(5));
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished(), "woke before the deadline");
    clock.advance(TimeDelta::minutes(5));
    waiter.await.expect("waiter");
    assert_eq!(clock.now(), deadline);
}

#[tokio::test]
async fn manual_clock_wait_for_a_past_deadline_is_immediate() {
    let clock = ManualClock::new(start());
    clock.sleep_until(start() - TimeDelta::seconds(1)).await;
}

#[tokio::test(start_paused = true)]
async fn simulated_clock_jumps_a_month_under_paused_time() {
    let clock = SimulatedClock::start_at(start());
    let deadline = start() + TimeDelta::days(31);
    let wall = std::time::Instant::now();
    clock.sleep_until(deadline).await;
    assert!(clock.now() >= deadline);
    assert!(clock.now() - deadline < TimeDelta::milliseconds(5));
    assert!(
        wall.elapsed() < std::time::Duration::from_secs(5),
        "paused time must not wait for real"
    );
}
