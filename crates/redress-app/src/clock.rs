//! The server's clock. In test-clock mode an admin can move it forward
//! (never back), so deadlines can be exercised without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    test_mode: bool,
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn test() -> Self {
        Self {
            test_mode: true,
            offset_seconds: AtomicI64::new(0),
        }
    }

    pub fn is_test(&self) -> bool {
        self.test_mode
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_seconds.load(Ordering::SeqCst))
    }

    /// How far a test clock has been moved, in seconds.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }

    /// Sets a test clock to read `at` now (`--test-clock-start`); `false`
    /// on a real clock. It may lie in the past or the future; from there
    /// the clock runs and moves forward only.
    pub fn start_at(&self, at: DateTime<Utc>) -> bool {
        if !self.test_mode {
            return false;
        }
        self.offset_seconds
            .store((at - Utc::now()).num_seconds(), Ordering::SeqCst);
        true
    }

    /// Moves a test clock forward; `false` on a real clock.
    pub fn advance(&self, seconds: i64) -> bool {
        if !self.test_mode || seconds < 0 {
            return false;
        }
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst);
        true
    }
}
