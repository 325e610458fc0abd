//! Where the token cache reads the time: the real monotonic clock in production, a clock
//! that tests move by hand, so that expiry is tested without sleeping.

use std::time::Instant;

/// A monotonic time source.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// [`Instant::now`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}
