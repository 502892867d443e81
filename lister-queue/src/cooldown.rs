//! What an ack does to an origin's visit stats: the cooldown before its next visit, and when
//! the queue gives up on it.
//!
//! | outcome | next visit not before | counters |
//! |---|---|---|
//! | `successful` | `visited_at` + the recurrence interval: 1 day after the first successful visit, then halved when the visit found something new and doubled when it did not, kept within 1 to 64 days | both reset |
//! | `failed` | `visited_at` + 1 hour × 2^(failures − 1), at most 14 days | `consecutive_failures` + 1, `consecutive_not_found` reset |
//! | `not_found` | `visited_at` + 31 days; the 3rd consecutive `not_found` disables the origin | `consecutive_not_found` + 1, `consecutive_failures` reset |
//!
//! A visit *found something new* when a lister reported a `last_update` later than the
//! previous successful visit, or when there was no previous successful visit. An origin whose
//! forge reports no `last_update` therefore drifts to the 64-day interval after its first visit.
//! `failed` and `not_found` leave the recurrence interval as it was.

use chrono::{NaiveDateTime, TimeDelta};

use crate::status::VisitStatus;

/// The shortest interval between successful visits.
pub const MIN_RECURRENCE: TimeDelta = TimeDelta::days(1);
/// The longest interval between successful visits.
pub const MAX_RECURRENCE: TimeDelta = TimeDelta::days(64);
/// The wait after a first failure; it doubles with each further consecutive failure.
pub const FIRST_FAILURE_BACKOFF: TimeDelta = TimeDelta::hours(1);
/// The longest wait after failures.
pub const MAX_FAILURE_BACKOFF: TimeDelta = TimeDelta::days(14);
/// The wait after a visit found the origin gone.
pub const NOT_FOUND_COOLDOWN: TimeDelta = TimeDelta::days(31);
/// Consecutive `not_found` visits after which the queue disables an origin.
pub const NOT_FOUND_LIMIT: i32 = 3;

/// The stats an ack reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Before {
    pub(crate) last_update: Option<NaiveDateTime>,
    pub(crate) last_successful: Option<NaiveDateTime>,
    pub(crate) consecutive_failures: i32,
    pub(crate) consecutive_not_found: i32,
    pub(crate) recurrence_interval_secs: Option<i64>,
}

/// The stats an ack writes (besides the visit itself and the end of the lease).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct After {
    pub(crate) last_successful: Option<NaiveDateTime>,
    pub(crate) consecutive_failures: i32,
    pub(crate) consecutive_not_found: i32,
    pub(crate) recurrence_interval_secs: Option<i64>,
    pub(crate) next_visit_not_before: NaiveDateTime,
    /// Whether this outcome disables the origin.
    pub(crate) disable: bool,
}

/// Applies the rules of the [module docs](self) to one visit's outcome.
pub(crate) fn after_visit(before: Before, status: VisitStatus, visited_at: NaiveDateTime) -> After {
    match status {
        VisitStatus::Successful => {
            let found_new = match (before.last_successful, before.last_update) {
                (None, _) => true,
                (Some(previous), Some(update)) => update > previous,
                (Some(_), None) => false,
            };
            let interval = match before.recurrence_interval_secs.map(TimeDelta::seconds) {
                None => MIN_RECURRENCE,
                Some(interval) if found_new => interval / 2,
                Some(interval) => interval * 2,
            }
            .clamp(MIN_RECURRENCE, MAX_RECURRENCE);
            After {
                last_successful: Some(visited_at),
                consecutive_failures: 0,
                consecutive_not_found: 0,
                recurrence_interval_secs: Some(interval.num_seconds()),
                next_visit_not_before: visited_at + interval,
                disable: false,
            }
        }
        VisitStatus::Failed => {
            let failures = before.consecutive_failures.saturating_add(1);
            // 2^9 hours is already past the cap; larger exponents would only overflow.
            let doublings = (failures - 1).clamp(0, 9);
            let backoff = (FIRST_FAILURE_BACKOFF * (1 << doublings)).min(MAX_FAILURE_BACKOFF);
            After {
                last_successful: before.last_successful,
                consecutive_failures: failures,
                consecutive_not_found: 0,
                recurrence_interval_secs: before.recurrence_interval_secs,
                next_visit_not_before: visited_at + backoff,
                disable: false,
            }
        }
        VisitStatus::NotFound => {
            let not_found = before.consecutive_not_found.saturating_add(1);
            After {
                last_successful: before.last_successful,
                consecutive_failures: 0,
                consecutive_not_found: not_found,
                recurrence_interval_secs: before.recurrence_interval_secs,
                next_visit_not_before: visited_at + NOT_FOUND_COOLDOWN,
                disable: not_found >= NOT_FOUND_LIMIT,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> NaiveDateTime {
        chrono::DateTime::UNIX_EPOCH.naive_utc() + TimeDelta::days(day)
    }

    fn cooldown(before: Before, status: VisitStatus) -> TimeDelta {
        after_visit(before, status, at(100)).next_visit_not_before - at(100)
    }

    #[test]
    fn first_success_waits_a_day() {
        assert_eq!(
            cooldown(Before::default(), VisitStatus::Successful),
            TimeDelta::days(1)
        );
    }

    #[test]
    fn quiet_visits_double_the_interval_up_to_64_days() {
        let mut before = Before::default();
        let mut intervals = Vec::new();
        for day in 0..10 {
            let after = after_visit(before, VisitStatus::Successful, at(day));
            intervals.push((after.next_visit_not_before - at(day)).num_days());
            before = Before {
                last_successful: after.last_successful,
                recurrence_interval_secs: after.recurrence_interval_secs,
                ..before
            };
        }
        assert_eq!(intervals, [1, 2, 4, 8, 16, 32, 64, 64, 64, 64]);
    }

    #[test]
    fn eventful_visits_halve_the_interval_down_to_a_day() {
        let before = Before {
            last_successful: Some(at(10)),
            last_update: Some(at(20)),
            recurrence_interval_secs: Some(TimeDelta::days(16).num_seconds()),
            ..Before::default()
        };
        assert_eq!(
            cooldown(before, VisitStatus::Successful),
            TimeDelta::days(8)
        );
        let short = Before {
            recurrence_interval_secs: Some(3600),
            ..before
        };
        assert_eq!(cooldown(short, VisitStatus::Successful), TimeDelta::days(1));
    }

    #[test]
    fn failures_back_off_exponentially_up_to_14_days() {
        let hours: Vec<i64> = (0..12)
            .map(|failures| {
                let before = Before {
                    consecutive_failures: failures,
                    ..Before::default()
                };
                cooldown(before, VisitStatus::Failed).num_hours()
            })
            .collect();
        assert_eq!(hours, [1, 2, 4, 8, 16, 32, 64, 128, 256, 336, 336, 336]);
        let huge = Before {
            consecutive_failures: i32::MAX,
            ..Before::default()
        };
        assert_eq!(cooldown(huge, VisitStatus::Failed), MAX_FAILURE_BACKOFF);
    }

    #[test]
    fn the_third_not_found_disables() {
        let mut before = Before {
            consecutive_failures: 2,
            ..Before::default()
        };
        let mut disabled = Vec::new();
        for _ in 0..3 {
            let after = after_visit(before, VisitStatus::NotFound, at(0));
            assert_eq!(after.next_visit_not_before - at(0), NOT_FOUND_COOLDOWN);
            assert_eq!(after.consecutive_failures, 0);
            disabled.push(after.disable);
            before.consecutive_not_found = after.consecutive_not_found;
        }
        assert_eq!(disabled, [false, false, true]);
    }

    #[test]
    fn success_resets_the_counters() {
        let before = Before {
            consecutive_failures: 4,
            consecutive_not_found: 2,
            ..Before::default()
        };
        let after = after_visit(before, VisitStatus::Successful, at(0));
        assert_eq!(
            (after.consecutive_failures, after.consecutive_not_found),
            (0, 0)
        );
    }
}
