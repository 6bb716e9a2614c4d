//! Failed attempts counted per key, answered with a delay that grows with
//! each failure past a free allowance (docs/security.md, "Guessing").
//!
//! Used for staff passwords (per username, per client address, per pair)
//! and for complainants' access codes (per tracking number). The state is
//! per process: on PostgreSQL with several instances each keeps its own,
//! which multiplies an attacker's budget by the number of instances and
//! no more. Wall-clock time, never the test clock: moving the test clock
//! must not unlock anything.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a key's failures turn into a delay.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before attempts must wait.
    pub free: u32,
    /// The first delay; each further failure doubles it.
    pub base: Duration,
    /// The longest delay: a delay, never a lock-out.
    pub cap: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    until: Instant,
}

/// Failures per key under one [`Policy`].
#[derive(Debug)]
pub struct Backoff {
    policy: Policy,
    entries: Mutex<HashMap<String, Entry>>,
    swept: Mutex<Option<Instant>>,
}

/// Keys kept before old ones are swept: bounds memory under a flood of
/// distinct keys.
const SWEEP_AT: usize = 10_000;

impl Backoff {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
            swept: Mutex::new(None),
        }
    }

    /// Whether a second has passed since the last sweep (and marks one).
    fn swept_before(&self, now: Instant) -> bool {
        let mut swept = self.swept.lock().expect("throttle lock");
        if swept.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return false;
        }
        *swept = Some(now);
        true
    }

    /// `Err(seconds)` while the key must wait.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let entries = self.entries.lock().expect("throttle lock");
        match entries.get(key) {
            Some(e) if e.until > now => Err((e.until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Counts a failure; the delay starts when the allowance is spent.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let p = self.policy;
        let mut entries = self.entries.lock().expect("throttle lock");
        // Swept by time, at most once a second, so that a flood of
        // distinct keys costs memory for a window, not CPU per request.
        if entries.len() >= SWEEP_AT && self.swept_before(now) {
            entries.retain(|_, e| now.duration_since(e.last) < p.window || e.until > now);
        }
        let e = entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            last: now,
            until: now,
        });
        if now.duration_since(e.last) >= p.window && e.until <= now {
            e.failures = 0;
        }
        e.failures += 1;
        e.last = now;
        if e.failures >= p.free {
            let doublings = (e.failures - p.free).min(20);
            let delay = p.base.saturating_mul(1 << doublings).min(p.cap);
            e.until = now + delay;
        }
    }

    /// Takes back one failure counted by [`Backoff::fail`] before the
    /// outcome was known (the attempt succeeded).
    pub fn forgive(&self, key: &str) {
        let mut entries = self.entries.lock().expect("throttle lock");
        if let Some(e) = entries.get_mut(key) {
            e.failures = e.failures.saturating_sub(1);
            if e.failures < self.policy.free {
                e.until = e.last;
            }
        }
    }

    /// Forgets the key's failures (a success).
    pub fn clear(&self, key: &str) {
        self.entries.lock().expect("throttle lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_allowance_and_grow_to_the_cap() {
        let b = Backoff::new(Policy {
            free: 2,
            base: Duration::from_secs(4),
            cap: Duration::from_secs(10),
            window: Duration::from_secs(900),
        });
        b.fail("k");
        assert_eq!(b.check("k"), Ok(()), "within the allowance");
        b.fail("k");
        let first = b.check("k").unwrap_err();
        assert!((3..=4).contains(&first), "{first}");
        b.fail("k");
        let second = b.check("k").unwrap_err();
        assert!((7..=8).contains(&second), "{second}");
        for _ in 0..30 {
            b.fail("k");
        }
        assert!(b.check("k").unwrap_err() <= 10, "capped");
        assert_eq!(b.check("other"), Ok(()), "keys are separate");
        b.clear("k");
        assert_eq!(b.check("k"), Ok(()));
    }

    #[test]
    fn a_failure_counted_ahead_is_forgiven_on_success() {
        let b = Backoff::new(Policy {
            free: 2,
            base: Duration::from_secs(4),
            cap: Duration::from_secs(10),
            window: Duration::from_secs(900),
        });
        // Two attempts in flight are both counted before their outcome.
        b.fail("k");
        b.fail("k");
        assert!(b.check("k").is_err(), "a third waits");
        // One of them succeeded.
        b.forgive("k");
        assert_eq!(b.check("k"), Ok(()));
    }
}
