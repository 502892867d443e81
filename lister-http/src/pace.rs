//! Politeness: at most so many requests in flight to an instance, and at most so many a
//! second, whatever asks (the walk's next page, the sub-listings of the pages parsing).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::Clock;

/// The pace of one source's requests.
#[derive(Debug)]
pub(crate) struct Pace {
    /// Requests in flight at once; `None`: no bound.
    slots: Option<Arc<Semaphore>>,
    /// The time between the starts of two requests; `None`: no bound.
    interval: Mutex<Option<Duration>>,
    /// When the next request may start.
    next: Mutex<Option<SystemTime>>,
    clock: Arc<dyn Clock>,
}

impl Pace {
    /// At most `max_concurrency` requests at once, and `rate` a second.
    pub(crate) fn new(
        max_concurrency: Option<usize>,
        rate: Option<f64>,
        clock: Arc<dyn Clock>,
    ) -> Pace {
        let rate = rate.filter(|rate| rate.is_finite() && *rate > 0.0);
        Pace {
            slots: max_concurrency.map(|n| Arc::new(Semaphore::new(n.max(1)))),
            interval: Mutex::new(
                rate.and_then(|rate| Duration::try_from_secs_f64(1.0 / rate).ok()),
            ),
            next: Mutex::new(None),
            clock,
        }
    }

    /// Waits for a free slot, then for the request's turn at the rate; the slot is held
    /// until the returned permit is dropped (the answer read).
    pub(crate) async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        let permit = match &self.slots {
            Some(slots) => Some(slots.clone().acquire_owned().await.expect("never closed")),
            None => None,
        };
        let interval = *lock(&self.interval);
        if let Some(interval) = interval {
            let now = self.clock.now();
            let start = {
                let mut next = lock(&self.next);
                let start = next.filter(|next| *next > now).unwrap_or(now);
                *next = Some(start + interval);
                start
            };
            if let Ok(wait) = start.duration_since(now)
                && !wait.is_zero()
            {
                self.clock.sleep(wait).await;
            }
        }
        permit
    }

    /// Slows down to at least `interval` between two requests (a `Crawl-delay`).
    pub(crate) fn slow_to(&self, interval: Duration) {
        let mut current = lock(&self.interval);
        *current = Some(current.map_or(interval, |current| current.max(interval)));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::VirtualClock;

    #[tokio::test]
    async fn requests_start_at_the_rate() {
        let clock = Arc::new(VirtualClock::new());
        let pace = Pace::new(None, Some(10.0), clock.clone());
        for _ in 0..5 {
            drop(pace.admit().await);
        }
        let waited = clock.advanced();
        assert!(
            waited >= Duration::from_millis(390) && waited <= Duration::from_millis(400),
            "five requests at 10 a second start over 400 ms: {waited:?}"
        );
        assert_eq!(clock.sleeps().len(), 4, "the first starts at once");
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_so_many_requests_are_in_flight() {
        let pace = Arc::new(Pace::new(Some(2), None, Arc::new(VirtualClock::new())));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = tokio::time::Instant::now();
        let requests: Vec<_> = (0..6)
            .map(|_| {
                let (pace, in_flight, most) = (pace.clone(), in_flight.clone(), most.clone());
                tokio::spawn(async move {
                    let _slot = pace.admit().await;
                    use std::sync::atomic::Ordering::SeqCst;
                    most.fetch_max(in_flight.fetch_add(1, SeqCst) + 1, SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    in_flight.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for request in requests {
            request.await.unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(3),
            "six one-second requests, two at a time"
        );
    }

    #[tokio::test]
    async fn no_bound_admits_at_once() {
        let clock = Arc::new(VirtualClock::new());
        let pace = Pace::new(None, None, clock.clone());
        for _ in 0..100 {
            assert!(pace.admit().await.is_none());
        }
        assert_eq!(clock.advanced(), Duration::ZERO);
    }
}
