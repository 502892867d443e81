//! Live counters of a run, shared by the run loop, the transport and whoever shows progress.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// What a run shares with the code it calls: live counters and the cancellation signal.
#[derive(Debug, Default, Clone)]
pub struct RunContext {
    /// Counters, readable at any time (the CLI draws its progress line from them).
    pub progress: std::sync::Arc<RunProgress>,
    /// Cancelled on Ctrl-C: the pages already fetched are committed, then the run ends.
    pub cancel: CancellationToken,
}

/// Live counters of one run. Everything is a plain number or a short text, so reading it
/// from another task never blocks the run for long.
#[derive(Debug, Default)]
pub struct RunProgress {
    /// Pages committed (or found unchanged).
    pub pages: AtomicU64,
    /// Origins read from pages, before validation, and those of pages answered `304`
    /// (seen again).
    pub origins_seen: AtomicU64,
    /// Origins the store did not know.
    pub origins_new: AtomicU64,
    /// Origins the store knew and refreshed.
    pub origins_updated: AtomicU64,
    /// Origins rejected: by validation, or by the database at a fold (quarantined).
    pub origins_rejected: AtomicU64,
    /// Origins repeated within a page (dropped).
    pub origins_duplicate: AtomicU64,
    /// Items of a page that did not parse (rejected; the page went on).
    pub items_rejected: AtomicU64,
    /// HTTP requests sent.
    pub requests: AtomicU64,
    /// Requests that were retries of an earlier attempt.
    pub retries: AtomicU64,
    /// `304 Not Modified` answers.
    pub not_modified: AtomicU64,
    /// Milliseconds spent waiting for quota.
    pub quota_wait_ms: AtomicU64,
    /// The cursor being fetched.
    current_index: Mutex<Option<String>>,
    /// While waiting for quota: when the wait ends (for a countdown).
    waiting_until: Mutex<Option<tokio::time::Instant>>,
    /// What each credential has left, by its position, as the forge last said.
    quotas: Mutex<Vec<Option<CredentialQuota>>>,
}

/// A credential's quota as the forge's last answer to it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialQuota {
    /// Requests left in the window.
    pub left: u64,
    /// When the window resets, if the forge said.
    pub resets_at: Option<tokio::time::Instant>,
}

impl RunProgress {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Records the index being fetched.
    pub fn set_current_index(&self, index: impl ToString) {
        *lock(&self.current_index) = Some(index.to_string());
    }

    /// The index being fetched, if the run has started.
    pub fn current_index(&self) -> Option<String> {
        lock(&self.current_index).clone()
    }

    /// Marks the start (`Some(deadline)`) or the end (`None`) of a quota wait.
    pub fn set_waiting_until(&self, deadline: Option<tokio::time::Instant>) {
        *lock(&self.waiting_until) = deadline;
    }

    /// Time left in the current quota wait, if one is under way.
    pub fn waiting_for(&self) -> Option<Duration> {
        lock(&self.waiting_until).map(|deadline| deadline - tokio::time::Instant::now())
    }

    /// Records what credential `index` has left (see [`CredentialQuota`]).
    pub fn set_quota(&self, index: usize, left: u64, reset_in: Option<Duration>) {
        let mut quotas = lock(&self.quotas);
        if quotas.len() <= index {
            quotas.resize(index + 1, None);
        }
        let resets_at = reset_in.map(|reset_in| tokio::time::Instant::now() + reset_in);
        quotas[index] = Some(CredentialQuota { left, resets_at });
    }

    /// What each credential has left, by position (`None`: no answer said yet).
    pub fn quotas(&self) -> Vec<Option<CredentialQuota>> {
        lock(&self.quotas).clone()
    }

    /// Records a quota wait that took `waited`.
    pub fn add_quota_wait(&self, waited: Duration) {
        Self::add(&self.quota_wait_ms, waited.as_millis() as u64);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
