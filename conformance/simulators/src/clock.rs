//! An injectable clock shared by a simulator and its tests.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

/// `t` plus `secs` seconds, saturating at the last instant chrono holds: a configured lifetime
/// of any size (a token's `expires_in`, a lock's TTL) is "never expires", not a panic.
pub(crate) fn plus_secs(t: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    i64::try_from(secs)
        .ok()
        .and_then(chrono::Duration::try_seconds)
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A settable clock: simulators read time only from here, so tests can move it (token expiry,
/// coupon validity) without sleeping. Cloning is cheap and every clone sees the same time.
#[derive(Clone, Debug)]
pub struct SimClock {
    now: Arc<Mutex<Time>>,
}

/// A fixed instant, or the system's time shifted by an offset (a running `loyalty sim`).
#[derive(Clone, Copy, Debug)]
enum Time {
    Fixed(DateTime<Utc>),
    Real(chrono::Duration),
}

impl SimClock {
    /// Creates a clock that stands still at `t` until moved.
    pub fn at(t: DateTime<Utc>) -> Self {
        Self { now: Arc::new(Mutex::new(Time::Fixed(t))) }
    }

    /// Creates a clock that follows the system's time; moving it shifts it from then on.
    pub fn real() -> Self {
        Self { now: Arc::new(Mutex::new(Time::Real(chrono::Duration::zero()))) }
    }

    /// Returns the current simulated instant.
    pub fn now(&self) -> DateTime<Utc> {
        match *self.now.lock().unwrap_or_else(|e| e.into_inner()) {
            Time::Fixed(t) => t,
            Time::Real(offset) => Utc::now().checked_add_signed(offset).unwrap_or_else(Utc::now),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: std::time::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        // Durations beyond chrono's range saturate rather than panic.
        let step = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        *now = match *now {
            Time::Fixed(t) => Time::Fixed(t.checked_add_signed(step).unwrap_or(t)),
            Time::Real(offset) => Time::Real(offset.checked_add(&step).unwrap_or(offset)),
        };
    }

    /// Sets the clock to `t` (forwards or backwards); a real clock keeps running from there.
    pub fn set(&self, t: DateTime<Utc>) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = match *now {
            Time::Fixed(_) => Time::Fixed(t),
            Time::Real(_) => Time::Real(t - Utc::now()),
        };
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
    fn a_real_clock_follows_the_system_and_moves_by_an_offset() {
        let c = SimClock::real();
        let before = Utc::now();
        assert!(c.now() >= before);
        c.advance(std::time::Duration::from_secs(3600));
        assert!(c.now() >= before + chrono::Duration::seconds(3600));
        let target = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        c.set(target);
        let t = c.now();
        assert!(t >= target && t < target + chrono::Duration::seconds(5), "{t}");
    }

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
