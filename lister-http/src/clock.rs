//! Time as the transport sees it, injectable so tests need not sleep.
//!
//! Quota waits and backoff sleeps go through a [`Clock`]; request timeouts stay on real
//! time. A paused tokio clock does not mix with real sockets (tokio advances it whenever the
//! runtime idles, so request timeouts fire while the fake forge is still answering); a
//! [`VirtualClock`] in the [`TransportConfig`](crate::TransportConfig) is the honest way to
//! test hour-long waits in milliseconds.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

/// Reads the time and sleeps.
#[async_trait]
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Sleeps for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// Real time: [`SystemTime::now`] and [`tokio::time::sleep`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

type SleepHook = Box<dyn Fn(Duration) + Send + Sync>;

/// Virtual time for tests: a sleep returns at once, advancing the clock and recording the
/// duration asked for; a hook may react to each sleep (refill a fake forge's quotas…).
#[derive(Default)]
pub struct VirtualClock {
    state: Mutex<VirtualState>,
    hook: Mutex<Option<SleepHook>>,
}

#[derive(Debug, Default)]
struct VirtualState {
    advanced: Duration,
    sleeps: Vec<Duration>,
}

impl VirtualClock {
    /// A clock that starts at the real current time.
    pub fn new() -> VirtualClock {
        VirtualClock::default()
    }

    /// Calls `hook` with the duration of every sleep, after the clock advanced.
    pub fn on_sleep(&self, hook: impl Fn(Duration) + Send + Sync + 'static) {
        *lock(&self.hook) = Some(Box::new(hook));
    }

    /// Every sleep asked for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        lock(&self.state).sleeps.clone()
    }

    /// How far the clock has run ahead of real time.
    pub fn advanced(&self) -> Duration {
        lock(&self.state).advanced
    }
}

impl fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualClock")
            .field("state", &*lock(&self.state))
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + lock(&self.state).advanced
    }

    async fn sleep(&self, duration: Duration) {
        {
            let mut state = lock(&self.state);
            state.advanced += duration;
            state.sleeps.push(duration);
        }
        if let Some(hook) = &*lock(&self.hook) {
            hook(duration);
        }
        tokio::task::yield_now().await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
