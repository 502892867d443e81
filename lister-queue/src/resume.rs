//! Resume points: on PostgreSQL, a grab continues where the previous grab of the same process
//! stopped, rather than scanning again from the start of the ordering.
//!
//! PostgreSQL keeps the index entries of the rows a grab or an ack updated until VACUUM runs,
//! and those entries sit at the start of the ordering a grab scans: the origins it granted
//! last. Without resuming, every grab would step over all the origins granted since the last
//! VACUUM, and a queue drained at thousands of origins per second would slow down as it goes.
//!
//! So a [`Queue`](crate::Queue) remembers, per visit type and ordering (never visited, oldest
//! scheduled), the sort key of the last origin it granted. The next grab takes origins after
//! that key first, then from the start for whatever room is left. A sweep lasts
//! [`SWEEP`] at most: after that a grab starts from the start again, so an origin that became
//! due behind the point (listed later with an older update, or whose cooldown ended) waits at
//! most that long beyond the order. Other processes keep their own points.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::policy::Ordering;

/// How long a grab may resume from a point before it scans from the start again.
pub(crate) const SWEEP: Duration = Duration::from_secs(10);

/// The sort key of an origin in a resumable ordering: the ordering's column, then the URL.
pub(crate) type Key = (Option<NaiveDateTime>, String);

/// The resume points of one queue (see the [module docs](self)).
#[derive(Debug, Default)]
pub(crate) struct ResumePoints {
    points: Mutex<HashMap<(String, Ordering), Point>>,
}

#[derive(Debug)]
struct Point {
    key: Key,
    /// When the sweep began, at a scan from the start.
    swept_since: Instant,
}

impl ResumePoints {
    /// Where a scan of `ordering` resumes, if a sweep younger than [`SWEEP`] is under way.
    pub(crate) fn get(&self, visit_type: &str, ordering: Ordering) -> Option<Key> {
        let points = self.points.lock().unwrap_or_else(PoisonError::into_inner);
        let point = points.get(&(visit_type.to_owned(), ordering))?;
        (point.swept_since.elapsed() < SWEEP).then(|| point.key.clone())
    }

    /// Records where a scan stopped: `last` is the last origin it granted (none ends the
    /// sweep), `from_start` whether it took origins from the start of the ordering (which
    /// begins a new sweep).
    pub(crate) fn record(
        &self,
        visit_type: &str,
        ordering: Ordering,
        last: Option<Key>,
        from_start: bool,
    ) {
        let mut points = self.points.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = (visit_type.to_owned(), ordering);
        match last {
            None => {
                points.remove(&slot);
            }
            Some(key) => {
                let swept_since = match points.get(&slot) {
                    Some(point) if !from_start => point.swept_since,
                    _ => Instant::now(),
                };
                points.insert(slot, Point { key, swept_since });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swept_since(points: &ResumePoints) -> Instant {
        let points = points.points.lock().unwrap();
        points[&("git".to_owned(), Ordering::NeverVisited)].swept_since
    }

    #[test]
    fn a_sweep_keeps_its_start_until_it_wraps() {
        let points = ResumePoints::default();
        let key = |url: &str| (None, url.to_owned());
        assert_eq!(points.get("git", Ordering::NeverVisited), None);
        points.record("git", Ordering::NeverVisited, Some(key("a")), true);
        let started = swept_since(&points);
        points.record("git", Ordering::NeverVisited, Some(key("b")), false);
        assert_eq!(points.get("git", Ordering::NeverVisited), Some(key("b")));
        assert_eq!(
            swept_since(&points),
            started,
            "resuming keeps the sweep's start"
        );
        points.record("git", Ordering::NeverVisited, Some(key("c")), true);
        assert!(
            swept_since(&points) >= started,
            "a scan from the start begins a new sweep"
        );
        assert_eq!(
            points.get("hg", Ordering::NeverVisited),
            None,
            "per visit type"
        );
        points.record("git", Ordering::NeverVisited, None, false);
        assert_eq!(
            points.get("git", Ordering::NeverVisited),
            None,
            "an empty scan ends it"
        );
    }
}
