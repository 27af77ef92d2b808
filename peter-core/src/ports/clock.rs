//! Time, as a port: rules that depend on "now", and every pause or deadline
//! in the services, go through a [`Clock`], so tests can set the instant and
//! move time instead of sleeping.

use std::sync::Mutex;

use time::OffsetDateTime;

/// A source of the current time, and a way to wait.
#[async_trait::async_trait]
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;

    /// Waits for `duration` (a manual clock moves itself forward instead).
    async fn sleep(&self, duration: std::time::Duration);
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait::async_trait]
impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    async fn sleep(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// A clock that stays where it is set: for tests and simulations. Sleeping
/// on it moves it forward by the duration at once.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: time::Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *guard = guard.saturating_add(by);
    }
}

#[async_trait::async_trait]
impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn sleep(&self, duration: std::time::Duration) {
        self.advance(time::Duration::try_from(duration).unwrap_or(time::Duration::MAX));
        tokio::task::yield_now().await;
    }
}
