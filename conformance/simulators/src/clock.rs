//! An injectable clock shared by a simulator and its tests.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

/// A settable clock: simulators read time only from here, so tests can move it (token expiry,
/// coupon validity) without sleeping. Cloning is cheap and every clone sees the same time.
#[derive(Clone, Debug)]
pub struct SimClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl SimClock {
    /// Creates a clock that stands still at `t` until moved.
    pub fn at(t: DateTime<Utc>) -> Self {
        Self { now: Arc::new(Mutex::new(t)) }
    }

    /// Returns the current simulated instant.
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: std::time::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        // Durations beyond chrono's range saturate rather than panic.
        let step = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        *now = now.checked_add_signed(step).unwrap_or(*now);
    }

    /// Sets the clock to `t` (forwards or backwards).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
}

impl Default for SimClock {
    /// A clock at 2026-01-15T12:00:00Z, the fixed instant every simulator test starts from.
    fn default() -> Self {
        Self::at(Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).single().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_clock_starts_at_fixed_instant() {
        assert_eq!(SimClock::default().now().to_rfc3339(), "2026-01-15T12:00:00+00:00");
    }

    #[test]
    fn advance_moves_every_clone() {
        let a = SimClock::default();
        let b = a.clone();
        a.advance(std::time::Duration::from_secs(3600));
        assert_eq!(b.now().to_rfc3339(), "2026-01-15T13:00:00+00:00");
    }

    #[test]
    fn set_replaces_the_instant() {
        let c = SimClock::default();
        let t = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        c.set(t);
        assert_eq!(c.now(), t);
    }
}
