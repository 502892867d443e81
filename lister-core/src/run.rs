//! Run options, statistics and the failure of a run.

use std::fmt;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use serde::Serialize;

use crate::Error;
use crate::progress::RunProgress;
use crate::store::Backend;

/// How to run a lister.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop after this many pages (the state is saved, the next run goes on).
    pub max_pages: Option<u64>,
    /// Relist the cursors in (`first`, `last`] instead of running incrementally; a range run
    /// never reads or writes the lister's state, so several can run at once.
    pub range: Option<IndexRange>,
    /// A complete pass: start at the first cursor, ask for every page (conditionally when the
    /// store remembers the page's validators and origins: a `304` counts the origins as seen),
    /// and when the listing reaches its end, disable this instance's origins that the pass did
    /// not see (they stay known; a later sighting enables them again). The state is saved as
    /// usual.
    pub full_pass: bool,
    /// How often the run folds its committed origins into `listed_origins` while it goes on
    /// (see [`ListingStore::fold_sightings`](crate::ListingStore::fold_sightings)); `None` is the backend's
    /// default ([`default_fold_every`]). A run always folds when it ends, however it ends.
    pub fold_every: Option<Duration>,
    /// The most bytes of page bodies and parsed origins the run holds between reading a
    /// page and committing it; `None` is [`DEFAULT_MEMORY_BUDGET`]. A page larger than the
    /// budget is still listed, alone.
    pub memory_budget: Option<usize>,
    /// Walk the listing in ranges, this many at once ([`Forge::PARALLEL`](crate::Forge::PARALLEL)
    /// forges): the span from the saved state to where the listing ends now is cut into ranges
    /// kept in the store, which any number of runs, on any number of machines sharing the
    /// database, walk together. A run of an instance whose ranges are not all done goes on with
    /// them (one at a time without this option).
    pub parallel: Option<usize>,
    /// How long a run's ranges stay reserved without a sign of life from it before another
    /// run takes them over; `None` is [`DEFAULT_LEASE`](crate::parallel::DEFAULT_LEASE).
    pub lease: Option<Duration>,
    /// Where the instance's repositories are cloned, for a web forge whose pages show no clone
    /// URL ([`Forge::REPOSITORY_PATH`](crate::Forge::REPOSITORY_PATH)): each repository's
    /// origin is this URL followed by its path, and its page is not fetched.
    pub clone_base: Option<url::Url>,
}

/// The default [`RunOptions::memory_budget`]: 128 MiB, four pages at the transport's largest
/// body (32 MiB), or their origins.
pub const DEFAULT_MEMORY_BUDGET: usize = 128 * 1024 * 1024;

/// How often a run folds its origins by default on SQLite: readers never wait longer than
/// this to see what a run listed, and a fold is large enough to write each index leaf once.
pub const DEFAULT_FOLD_EVERY: Duration = Duration::from_secs(60);

/// How often a run folds its origins, unless [`RunOptions::fold_every`] says otherwise.
///
/// - **SQLite**: every [`DEFAULT_FOLD_EVERY`]. A fold holds SQLite's only write lock, so the
///   run's commits wait for it, and with the 2 MiB page cache a smaller fold costs more per
///   origin: its sightings land on leaves all over the URL-keyed indexes. Folding every 100 or
///   250 ms measured no faster.
/// - **PostgreSQL**: continuously, as soon as the previous fold is done and something new is
///   committed. The fold runs on other connections while the run's pages go on committing,
///   so it uses the CPU the walk leaves idle, and the final fold is left with what the last
///   fold did not reach. A 100,000-origin run took 2.45 / 3.13 s instead of 3.46 / 3.29 s.
///
/// ```
/// use lister_core::{Backend, default_fold_every};
/// assert_eq!(default_fold_every(Backend::Postgres), std::time::Duration::ZERO);
/// ```
pub fn default_fold_every(backend: Backend) -> Duration {
    match backend {
        Backend::Sqlite => DEFAULT_FOLD_EVERY,
        Backend::Postgres => Duration::ZERO,
    }
}

/// A range of cursors in text form, parsed by the forge's cursor type (ordered cursors only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRange {
    /// Exclusive lower bound: the first page lists what comes after it.
    pub first: String,
    /// Inclusive upper bound: the run stops once a page reaches it.
    pub last: String,
}

/// Why a run stopped without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The forge had no next page: the listing is complete.
    EndOfListing,
    /// A relisting range reached its upper bound.
    EndOfRange,
    /// `max_pages` pages were listed.
    MaxPages,
    /// The run was cancelled; the pages already fetched were committed first.
    Cancelled,
}

/// What a run did. Also the summary the CLI prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStats {
    /// The lister instance (`name/instance`).
    pub lister: String,
    /// Pages listed (fetched and committed, or found unchanged).
    pub pages: u64,
    /// Origins read from the pages, and those of pages answered `304` (seen again).
    pub origins_seen: u64,
    /// Origins new to the store.
    pub origins_new: u64,
    /// Origins already known, refreshed (those of pages answered `304` included).
    pub origins_updated: u64,
    /// Origins rejected by URL validation.
    pub origins_rejected: u64,
    /// Origins dropped because the same URL and visit type appeared earlier on the page.
    pub origins_duplicate: u64,
    /// Items of pages that did not parse: rejected, each logged with its JSON path.
    pub items_rejected: u64,
    /// Origins disabled at the end of a full pass because the forge no longer lists them.
    pub origins_disabled: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Requests that retried an earlier attempt.
    pub retries: u64,
    /// `304 Not Modified` answers.
    pub not_modified: u64,
    /// Seconds spent waiting for quota.
    pub quota_wait_seconds: f64,
    /// The cursor the run started from.
    pub first_cursor: Option<String>,
    /// The cursor of the last page listed.
    pub last_cursor: Option<String>,
    /// The cursor saved in the state: where the next run starts (`None` when nothing was saved).
    pub saved_cursor: Option<String>,
    /// Why the run stopped (`None` when it failed).
    pub stopped: Option<StopReason>,
    /// Wall-clock duration of the run, in seconds.
    pub duration_seconds: f64,
}

impl RunStats {
    /// A snapshot of `progress` with the run's cursors and outcome.
    pub fn from_progress(lister: String, progress: &RunProgress, elapsed: Duration) -> RunStats {
        let get = |counter: &AtomicU64| RunProgress::get(counter);
        RunStats {
            lister,
            pages: get(&progress.pages),
            origins_seen: get(&progress.origins_seen),
            origins_new: get(&progress.origins_new),
            origins_updated: get(&progress.origins_updated),
            origins_rejected: get(&progress.origins_rejected),
            origins_duplicate: get(&progress.origins_duplicate),
            items_rejected: get(&progress.items_rejected),
            origins_disabled: 0,
            requests: get(&progress.requests),
            retries: get(&progress.retries),
            not_modified: get(&progress.not_modified),
            quota_wait_seconds: get(&progress.quota_wait_ms) as f64 / 1000.0,
            first_cursor: None,
            last_cursor: None,
            saved_cursor: None,
            stopped: None,
            duration_seconds: elapsed.as_secs_f64(),
        }
    }
}

/// A run that stopped with an error, with what it had done until then.
#[derive(Debug)]
pub struct RunFailure {
    /// What failed.
    pub error: Error,
    /// The statistics up to the failure; `saved_cursor` says where the next run resumes.
    pub stats: RunStats,
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; ", self.error)?;
        match &self.stats.saved_cursor {
            Some(cursor) => write!(
                f,
                "state saved up to cursor {cursor}, the next run resumes there"
            ),
            None => write!(f, "no state saved by this run"),
        }
    }
}

impl std::error::Error for RunFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
