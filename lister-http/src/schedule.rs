//! When to retry a transient failure: exponential backoff with jitter (the `backoff` crate's
//! schedule), bounded in attempts and in time. Whether to retry is decided elsewhere
//! ([`crate::classify`]); this only says how long to wait and when to stop.

use std::time::{Duration, SystemTime};

use backoff::ExponentialBackoff;
use backoff::backoff::Backoff as _;

use crate::TransportConfig;

/// The retry budget of one page.
#[derive(Debug)]
pub(crate) struct Schedule {
    backoff: ExponentialBackoff,
    started: SystemTime,
    /// Time spent in quota waits, which the time budget does not count.
    excluded: Duration,
    failures: u32,
    max_attempts: u32,
    max_time: Duration,
}

impl Schedule {
    pub(crate) fn new(config: &TransportConfig, now: SystemTime) -> Schedule {
        let backoff = backoff::ExponentialBackoffBuilder::new()
            .with_initial_interval(config.backoff_initial)
            .with_max_interval(config.backoff_max)
            .with_multiplier(2.0)
            .with_randomization_factor(0.5)
            .with_max_elapsed_time(None)
            .build();
        Schedule {
            backoff,
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
        let delay = self.backoff.next_backoff()?;
        let elapsed = now
            .duration_since(self.started)
            .unwrap_or_default()
            .saturating_sub(self.excluded);
        (elapsed + delay <= self.max_time).then_some(delay)
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
