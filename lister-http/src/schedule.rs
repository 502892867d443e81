//! When to retry a transient failure: exponential backoff with jitter, bounded in attempts
//! and in time. Whether to retry is decided elsewhere ([`crate::classify`]); this only says
//! how long to wait and when to stop.

use std::time::{Duration, SystemTime};

use rand::RngExt as _;

use crate::TransportConfig;

/// The retry budget of one page.
#[derive(Debug)]
pub(crate) struct Schedule {
    initial: Duration,
    max_delay: Duration,
    started: SystemTime,
    /// Time spent in quota waits, which the time budget does not count.
    excluded: Duration,
    failures: u32,
    max_attempts: u32,
    max_time: Duration,
}

impl Schedule {
    pub(crate) fn new(config: &TransportConfig, now: SystemTime) -> Schedule {
        Schedule {
            initial: config.backoff_initial,
            max_delay: config.backoff_max,
            started: now,
            excluded: Duration::ZERO,
            failures: 0,
            max_attempts: config.max_attempts,
            max_time: config.max_retry_time,
        }
    }

    /// Records a transient failure at `now`: the delay before the next attempt, or `None`
    /// when the attempts or the time are spent.
    pub(crate) fn after_failure(&mut self, now: SystemTime) -> Option<Duration> {
        self.failures += 1;
        if self.failures >= self.max_attempts {
            return None;
        }
        let delay = self.delay();
        let elapsed = now
            .duration_since(self.started)
            .unwrap_or_default()
            .saturating_sub(self.excluded);
        (elapsed + delay <= self.max_time).then_some(delay)
    }

    /// The delay after the latest failure: the initial delay doubled at each failure, at most
    /// the longest delay, then spread at random over ±50 % so that clients do not retry in step.
    fn delay(&self) -> Duration {
        let doubled = self
            .initial
            .saturating_mul(1 << (self.failures - 1).min(20));
        let delay = doubled.min(self.max_delay);
        delay.mul_f64(rand::rng().random_range(0.5..=1.5))
    }

    /// Leaves a quota wait out of the time budget.
    pub(crate) fn exclude(&mut self, waited: Duration) {
        self.excluded += waited;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_attempts() {
        let config = TransportConfig {
            max_attempts: 4,
            ..TransportConfig::default()
        };
        let now = SystemTime::now();
        let mut schedule = Schedule::new(&config, now);
        let delays: Vec<_> = std::iter::from_fn(|| schedule.after_failure(now)).collect();
        assert_eq!(delays.len(), 3);
        assert!(
            delays[0] >= Duration::from_millis(500) && delays[0] <= Duration::from_millis(1_500)
        );
        assert!(delays[2] >= Duration::from_secs(2) && delays[2] <= Duration::from_secs(6));
    }

    #[test]
    fn bounded_by_time_but_not_quota_waits() {
        let config = TransportConfig {
            max_retry_time: Duration::from_secs(30),
            ..TransportConfig::default()
        };
        let start = SystemTime::now();
        let mut schedule = Schedule::new(&config, start);
        assert!(
            schedule
                .after_failure(start + Duration::from_secs(20))
                .is_some()
        );
        schedule.exclude(Duration::from_secs(3_600));
        assert!(
            schedule
                .after_failure(start + Duration::from_secs(3_610))
                .is_some()
        );
        assert_eq!(
            schedule.after_failure(start + Duration::from_secs(3_640)),
            None
        );
    }
}
