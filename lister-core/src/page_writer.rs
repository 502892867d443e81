//! The writing half of a run: the pages the walk fetched are committed in page order, all the
//! pages that queued up during a commit (or came within [`BATCH_WAIT`]) in one transaction,
//! and folded into `listed_origins` in the background while the walk goes on.
//!
//! The walk hands each parsed page over a bounded channel ([`PAGES_AHEAD`]), so fetching and
//! parsing run ahead of the database by at most that many pages: memory stays flat, and a
//! crash loses only pages whose state was not committed either (the next run fetches them
//! again). The walk goes past its first page only once that page is committed: a run refused
//! because another run of the instance moved the state has spent one request, not
//! [`PAGES_AHEAD`].

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cursor::Cursor;
use crate::progress::RunProgress;
use crate::store::{
    ListerRecord, ListingStore, PageRecord, PageWrite, PageWritten, RangeLease, StateWrite,
};
use crate::{Origin, Result};

/// How many parsed pages the walk may hold before the database has committed them.
pub(crate) const PAGES_AHEAD: usize = 128;

/// The most pages one transaction commits.
const PAGES_PER_COMMIT: usize = 64;

/// After a run's first commit, a commit of fewer pages than this waits for more, up to
/// [`BATCH_WAIT`]. Each transaction costs the same beyond its rows (the write lock, the
/// state's update, the pages' validators, the WAL's commit), and a fast walk hands over a page
/// every half millisecond: without waiting, the writer committed each page or two as it came,
/// 500 transactions for 100,000 origins; waiting, 26.
const BATCH_FILL: usize = 40;

/// The longest a page waits for others to share its commit. A crash loses at most the pages
/// waiting, which the next run fetches again (their state was not committed either).
const BATCH_WAIT: Duration = Duration::from_millis(50);

/// A parsed page waiting for its commit.
pub(crate) struct PendingPage<I> {
    /// The page's own cursor.
    pub(crate) cursor: I,
    /// The cursor the state saves with this page (`None` when the run keeps no state).
    pub(crate) saved: Option<I>,
    /// That state, as JSON.
    pub(crate) state: Option<String>,
    /// The page's validated, de-duplicated origins.
    pub(crate) origins: Vec<Origin>,
    /// What the store remembers of the page.
    pub(crate) record: PageRecord,
    /// The page's share of the run's memory budget, given back when it is committed (it is
    /// only ever dropped).
    #[allow(dead_code)]
    pub(crate) held: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// Creates the pipeline between the walk and the writer.
pub(crate) fn pipeline<I>() -> (PageHandoff<I>, PageQueue<I>) {
    let (pages, received) = mpsc::channel(PAGES_AHEAD);
    let (first_commit, committed) = watch::channel(false);
    let handoff = PageHandoff {
        pages,
        first_committed: committed,
        claimed: false,
    };
    (
        handoff,
        PageQueue {
            pages: received,
            first_commit,
        },
    )
}

/// The walk's end of the pipeline.
pub(crate) struct PageHandoff<I> {
    pages: mpsc::Sender<PendingPage<I>>,
    /// Becomes `true` when the writer's first commit succeeds.
    first_committed: watch::Receiver<bool>,
    /// The first commit succeeded: the walk may run ahead.
    claimed: bool,
}

impl<I> PageHandoff<I> {
    /// Hands `page` to the writer; `false` when the writer stopped taking pages (it failed).
    /// Until the first commit succeeds, this waits for it.
    pub(crate) async fn send(&mut self, page: PendingPage<I>) -> bool {
        if self.pages.send(page).await.is_err() {
            return false;
        }
        if !self.claimed {
            // An error: the writer ended without a successful commit.
            self.claimed = self.first_committed.wait_for(|done| *done).await.is_ok();
        }
        self.claimed
    }

    /// Becomes `true` when the writer's first commit succeeds; closes when the writer ends.
    pub(crate) fn first_commit(&self) -> watch::Receiver<bool> {
        self.first_committed.clone()
    }
}

/// The writer's end of the pipeline.
pub(crate) struct PageQueue<I> {
    pages: mpsc::Receiver<PendingPage<I>>,
    first_commit: watch::Sender<bool>,
}

/// What the writer did: where it got to, and how each half ended.
pub(crate) struct Written<I> {
    /// The cursor of the last committed page.
    pub(crate) last_cursor: Option<I>,
    /// The cursor the last committed state saved.
    pub(crate) saved_cursor: Option<I>,
    /// The state version after the last commit (the range's, for a range's writer).
    pub(crate) version: i64,
    /// How committing ended: a failure stops the walk.
    pub(crate) committed: Result<()>,
    /// How folding ended.
    pub(crate) folded: Result<()>,
}

/// Commits pages and folds them: one per walk (a parallel listing's walks share one fold).
pub(crate) struct PageWriter<'a> {
    pub(crate) store: &'a dyn ListingStore,
    pub(crate) lister: &'a ListerRecord,
    pub(crate) progress: &'a RunProgress,
    /// The state version the next commit expects (the range's, with `range`).
    pub(crate) version: i64,
    /// The range of a parallel listing whose row the states go to, and how long each commit
    /// extends its lease; `None`: the instance's state.
    pub(crate) range: Option<(i64, Duration)>,
    /// The longest a committed sighting waits for its fold.
    pub(crate) fold_every: Duration,
}

/// What the committing walks tell the fold: shared by every walk of a parallel listing.
pub(crate) struct Folding {
    report: watch::Sender<Progress>,
    /// Cancelled when a fold fails: the commits stop.
    failed: CancellationToken,
}

impl Folding {
    pub(crate) fn new() -> Folding {
        Folding {
            report: watch::channel(Progress::default()).0,
            failed: CancellationToken::new(),
        }
    }

    /// No more commits will come: the fold folds what is left and ends.
    pub(crate) fn finish(&self) {
        self.report.send_modify(|progress| progress.done = true);
    }
}

/// Receives the pages of the next commit into the empty `batch`: those waiting, and when they
/// are fewer than `fill`, those that arrive within [`BATCH_WAIT`] (up to [`PAGES_PER_COMMIT`]
/// in all). Returns how many it received: 0 when the walk closed the channel and none is left.
async fn receive_batch<I>(
    pages: &mut mpsc::Receiver<PendingPage<I>>,
    batch: &mut Vec<PendingPage<I>>,
    fill: usize,
) -> usize {
    pages.recv_many(batch, PAGES_PER_COMMIT).await;
    let deadline = Instant::now() + BATCH_WAIT;
    while !batch.is_empty() && batch.len() < fill {
        let more = pages.recv_many(batch, PAGES_PER_COMMIT - batch.len());
        if let Ok(0) | Err(_) = tokio::time::timeout_at(deadline, more).await {
            break;
        }
    }
    batch.len()
}

/// What the committing half tells the folding half.
#[derive(Clone, Copy, Default)]
struct Progress {
    /// Sightings committed so far.
    sightings: u64,
    /// No more commits will come.
    done: bool,
}

impl PageWriter<'_> {
    /// Commits the pages `queue` delivers until the walk closes it (or a commit fails), then
    /// folds what is left, however the run ended.
    pub(crate) async fn run<I: Cursor>(self, queue: PageQueue<I>) -> Written<I> {
        let folding = Folding::new();
        let commits = async {
            let commits = self.commit_all(queue, &folding).await;
            folding.finish();
            commits
        };
        let (mut written, folded) = tokio::join!(commits, self.fold_all(&folding));
        written.folded = folded;
        written
    }

    /// The committing half: one transaction for every page that queued up meanwhile, or came
    /// within [`BATCH_WAIT`] (see [`receive_batch`]). Its `folded` is left `Ok`: the fold is
    /// [`fold_all`](Self::fold_all)'s.
    pub(crate) async fn commit_all<I: Cursor>(
        &self,
        queue: PageQueue<I>,
        folding: &Folding,
    ) -> Written<I> {
        let PageQueue {
            mut pages,
            first_commit,
        } = queue;
        let (mut last_cursor, mut saved_cursor) = (None, None);
        let mut version = self.version;
        let mut batch = Vec::with_capacity(PAGES_PER_COMMIT);
        let outcome = loop {
            batch.clear();
            // The first commit goes alone: the walk waits for it before it fetches ahead.
            let fill = if last_cursor.is_some() { BATCH_FILL } else { 1 };
            let received = tokio::select! {
                received = receive_batch(&mut pages, &mut batch, fill) => received,
                () = folding.failed.cancelled() => break Ok(()),
            };
            if received == 0 {
                break Ok(());
            }
            match self.commit(&mut batch, version).await {
                Ok(written) => {
                    let sightings = written.sightings;
                    // The origins of pages answered `304`, seen again: counted as seen, and
                    // as known origins refreshed (the fold counts the sightings' own).
                    RunProgress::add(&self.progress.origins_seen, written.refreshed);
                    RunProgress::add(&self.progress.origins_updated, written.refreshed);
                    let last = batch.pop().expect("a batch has a page");
                    version += i64::from(last.state.is_some());
                    RunProgress::add(&self.progress.pages, received as u64);
                    if last.saved.is_some() {
                        saved_cursor = last.saved;
                    }
                    last_cursor = Some(last.cursor);
                    folding
                        .report
                        .send_modify(|progress| progress.sightings += sightings);
                    first_commit.send_replace(true);
                }
                Err(error) => break Err(error),
            }
        };
        // Closing the channel stops the walk at its next page.
        drop(pages);
        Written {
            last_cursor,
            saved_cursor,
            version,
            committed: outcome,
            folded: Ok(()),
        }
    }

    /// Commits `batch` (consecutive pages) in one transaction, with the last page's state.
    async fn commit<I>(&self, batch: &mut [PendingPage<I>], version: i64) -> Result<PageWritten> {
        let state = batch.last().and_then(|last| last.state.clone());
        let mut origins = Vec::new();
        let mut records = Vec::with_capacity(batch.len());
        for page in batch.iter_mut() {
            origins.append(&mut page.origins);
            records.push(std::mem::take(&mut page.record));
        }
        let write = PageWrite {
            lister: self.lister,
            origins,
            state: state.map(|json| StateWrite {
                json,
                expected_version: version,
                range: self.range.map(|(range_id, lease)| RangeLease {
                    range_id,
                    until: crate::store::now() + lease,
                }),
            }),
            pages: &records,
        };
        self.store.commit_page(write).await
    }

    /// The folding half: folds every `fold_every` while there is something new, and once
    /// more when the commits are done ([`default_fold_every`](crate::default_fold_every) says
    /// why SQLite folds rarely and PostgreSQL continuously).
    pub(crate) async fn fold_all(&self, folding: &Folding) -> Result<()> {
        let mut reports = folding.report.subscribe();
        let mut folded_up_to = 0;
        let mut last_fold = Instant::now();
        loop {
            // Something new to fold, or the end.
            let due = |p: &Progress| p.done || p.sightings > folded_up_to;
            let waited = reports.wait_for(due).await.map(|progress| *progress);
            // The committing half always says it is done before it goes.
            let progress = waited.unwrap_or_else(|_| Progress {
                done: true,
                ..*reports.borrow()
            });
            if !progress.done {
                let wait = self.fold_every.saturating_sub(last_fold.elapsed());
                let _ = tokio::time::timeout(wait, reports.wait_for(|p| p.done)).await;
            }
            let progress = *reports.borrow_and_update();
            if let Err(error) = self.fold().await {
                folding.failed.cancel();
                return Err(error);
            }
            folded_up_to = progress.sightings;
            last_fold = Instant::now();
            if progress.done {
                return Ok(());
            }
        }
    }

    /// Folds this instance's sightings, counting new and updated origins.
    async fn fold(&self) -> Result<()> {
        let folded = self.store.fold_sightings(Some(self.lister.id)).await?;
        RunProgress::add(&self.progress.origins_new, folded.new);
        RunProgress::add(&self.progress.origins_updated, folded.updated);
        RunProgress::add(&self.progress.origins_rejected, folded.quarantined);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::NaiveDateTime;

    use super::*;
    use crate::ListerKey;
    use crate::store::{Backend, Folded, StateWrite};

    /// A store in memory that counts the commits: each one with a state advances its
    /// version, as a real store's does.
    #[derive(Default)]
    struct Counting {
        /// The state, its version, and the sightings not folded yet.
        inner: Mutex<(Option<String>, i64, u64)>,
    }

    #[async_trait]
    impl ListingStore for Counting {
        fn backend(&self) -> Backend {
            Backend::Sqlite
        }
        async fn register_lister(&self, key: &ListerKey) -> Result<ListerRecord> {
            let (state, version, _) = self.inner.lock().unwrap().clone();
            Ok(ListerRecord {
                id: 1,
                name: key.name.clone(),
                instance: key.instance.clone(),
                state,
                state_version: version,
                created: NaiveDateTime::default(),
                updated: NaiveDateTime::default(),
                last_listing_finished_at: None,
                pass_started_at: None,
                last_pass_started_at: None,
            })
        }
        async fn fold_leftovers(&self, lister_id: i64) -> Result<Folded> {
            self.fold_sightings(Some(lister_id)).await
        }
        async fn has_page_records(&self, _: i64) -> Result<bool> {
            Ok(false)
        }
        async fn page_record(&self, _: i64, _: &str) -> Result<Option<PageRecord>> {
            Ok(None)
        }
        async fn commit_page(&self, write: PageWrite<'_>) -> Result<PageWritten> {
            let mut inner = self.inner.lock().unwrap();
            let sightings = write.origins.len() as u64;
            inner.2 += sightings;
            let mut written = PageWritten {
                sightings,
                ..PageWritten::default()
            };
            if let Some(state) = write.state {
                assert_eq!(state.expected_version, inner.1, "the version read");
                inner.0 = Some(state.json);
                inner.1 += 1;
                written.state_version = Some(inner.1);
            }
            Ok(written)
        }
        async fn fold_sightings(&self, _: Option<i64>) -> Result<Folded> {
            let new = std::mem::take(&mut self.inner.lock().unwrap().2);
            Ok(Folded {
                new,
                ..Folded::default()
            })
        }
        async fn start_pass(&self, _: i64) -> Result<()> {
            Ok(())
        }
        async fn finish_listing(&self, _: i64) -> Result<()> {
            Ok(())
        }
        async fn disable_unseen(&self, _: i64, _: NaiveDateTime) -> Result<u64> {
            Ok(0)
        }
    }

    /// A page a millisecond, as a fast walk hands them over. Each commit advances the state's
    /// version by one, so the version counts the transactions.
    #[tokio::test]
    async fn pages_that_arrive_during_a_wait_share_one_commit() {
        const PAGES: u64 = 100;
        let store = Counting::default();
        let key = ListerKey::new("github", "default");
        let lister = store.register_lister(&key).await.unwrap();
        let progress = RunProgress::default();
        let writer = PageWriter {
            store: &store,
            lister: &lister,
            progress: &progress,
            version: lister.state_version,
            range: None,
            fold_every: Duration::from_secs(3600),
        };
        let (mut handoff, queue) = pipeline::<u64>();
        let walk = async move {
            for index in 0..PAGES {
                let page = PendingPage {
                    cursor: index,
                    saved: Some(index + 1),
                    state: Some(StateWrite::encode(&(index + 1)).unwrap()),
                    origins: vec![Origin::new(format!("https://h.test/{index}"), "git")],
                    record: PageRecord::default(),
                    held: None,
                };
                assert!(handoff.send(page).await, "the writer takes every page");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        let (written, ()) = tokio::join!(writer.run(queue), walk);

        written.committed.unwrap();
        written.folded.unwrap();
        assert_eq!(
            (written.last_cursor, written.saved_cursor),
            (Some(99), Some(100))
        );
        assert_eq!(RunProgress::get(&progress.pages), PAGES);
        assert_eq!(RunProgress::get(&progress.origins_new), PAGES);
        let after = store.register_lister(&key).await.unwrap();
        assert_eq!(after.state.as_deref(), Some("100"));
        let commits = after.state_version - lister.state_version;
        // The first page alone, then about one commit per 40 pages or 50 ms; committing pages
        // as they came took one transaction per page or two.
        assert!(
            (2..=10).contains(&commits),
            "{commits} commits for {PAGES} pages"
        );
    }
}
