//! The run loop of an [`IndexingLister`]: fetch → simplify → validate → commit, page by page.

use std::sync::Arc;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use url::Url;

use crate::lister::{IndexingLister, Lister, PageIndex};
use crate::origin_cleaner::OriginCleaner;
use crate::page::NextPage;
use crate::page_fetcher::PageFetcher;
use crate::page_writer::{PageHandoff, PageWriter, pipeline};
use crate::progress::{RunContext, RunProgress};
use crate::run::{RunFailure, RunOptions, RunStats, StopReason, default_fold_every};
use crate::source::PageSource;
use crate::store::Store;
use crate::walk::{Handover, Walk};
use crate::{Error, ListerKey, Result};

/// The state an indexing lister saves after every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexingState<I> {
    /// Where the next run starts: the next page's index, or the last page's own index when
    /// the listing ended (so a rerun asks that page again, conditionally).
    pub index: I,
}

/// Characters an index is percent-encoded against before it goes into a URL.
const INDEX_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The URL of the page at `index`: `base` (without a trailing `/`) followed by `template`
/// with `{index}` replaced by the percent-encoded index.
///
/// ```
/// let base = url::Url::parse("https://ghe.example.org/api/v3/").unwrap();
/// let url = lister_core::page_url(&base, "/repositories?since={index}", &42).unwrap();
/// assert_eq!(url.as_str(), "https://ghe.example.org/api/v3/repositories?since=42");
/// ```
pub fn page_url(base: &Url, template: &str, index: &impl std::fmt::Display) -> Result<Url> {
    let index = utf8_percent_encode(&index.to_string(), INDEX_ENCODE).to_string();
    let raw = format!(
        "{}{}",
        base.as_str().trim_end_matches('/'),
        template.replace("{index}", &index)
    );
    Url::parse(&raw).map_err(|err| Error::InvalidOption(format!("page URL `{raw}`: {err}")))
}

/// An [`IndexingLister`] with its instance, base URL and page source: a [`Lister`] the CLI
/// can run.
pub struct IndexedListing<L: IndexingLister> {
    lister: L,
    key: ListerKey,
    base_url: Url,
    source: Box<dyn PageSource<L::Index>>,
}

impl<L: IndexingLister> IndexedListing<L> {
    /// Combines a forge, its instance name, its API base URL and a page source.
    pub fn new(
        lister: L,
        instance: impl Into<String>,
        base_url: Url,
        source: Box<dyn PageSource<L::Index>>,
    ) -> Self {
        let key = ListerKey::new(L::NAME, instance);
        IndexedListing {
            lister,
            key,
            base_url,
            source,
        }
    }
}

#[async_trait]
impl<L: IndexingLister> Lister for IndexedListing<L> {
    fn key(&self) -> &ListerKey {
        &self.key
    }

    async fn run(
        &self,
        store: &Store,
        options: &RunOptions,
        context: &RunContext,
    ) -> Result<RunStats, RunFailure> {
        let mut run = Run::<L> {
            started: Instant::now(),
            key: &self.key,
            progress: &context.progress,
            first_index: None,
            last_index: None,
            saved_index: None,
            disabled: 0,
        };
        let outcome = run.walk(self, store, options, context).await;
        let disabled = run.disabled;
        let mut stats = RunStats::from_progress(
            self.key.to_string(),
            &context.progress,
            run.started.elapsed(),
        );
        stats.first_index = run.first_index.map(|index| index.to_string());
        stats.last_index = run.last_index.map(|index| index.to_string());
        stats.saved_index = run.saved_index.map(|index| index.to_string());
        stats.origins_disabled = disabled;
        match outcome {
            Ok(reason) => {
                stats.stopped = Some(reason);
                Ok(stats)
            }
            Err(error) => Err(RunFailure { error, stats }),
        }
    }
}

/// One run's bookkeeping.
struct Run<'a, L: IndexingLister> {
    started: Instant,
    key: &'a ListerKey,
    progress: &'a RunProgress,
    first_index: Option<L::Index>,
    last_index: Option<L::Index>,
    saved_index: Option<L::Index>,
    disabled: u64,
}

/// Where a walk starts and what it keeps.
struct Plan<I> {
    /// The lister instance's id in the store.
    lister_id: i64,
    start: I,
    /// The inclusive end of a relisting range.
    last: Option<I>,
    /// Whether the run saves its state.
    persist: bool,
}

impl<L: IndexingLister> Run<'_, L> {
    /// Walks the pages and writes them. The walk fetches and parses pages ahead of the
    /// writer (at most [`PAGES_AHEAD`](crate::page_writer::PAGES_AHEAD) of them, and none
    /// before the first commit), which commits them in page order; the run never ends (not
    /// even on an error or a cancellation) before every fetched page is committed and folded.
    async fn walk(
        &mut self,
        listing: &IndexedListing<L>,
        store: &Store,
        options: &RunOptions,
        context: &RunContext,
    ) -> Result<StopReason> {
        let record = store.register_lister(self.key).await?;
        let pass_started = crate::store::now();
        let plan = match &options.range {
            Some(range) => Plan {
                lister_id: record.id,
                start: parse_index::<L::Index>(&range.first)?,
                last: Some(parse_index(&range.last)?),
                persist: false,
            },
            None => {
                let saved: Option<IndexingState<L::Index>> = record.decode_state()?;
                let start = match saved {
                    Some(state) if !options.full_pass => state.index,
                    _ => listing.lister.first_index(),
                };
                self.saved_index = Some(start.clone());
                Plan {
                    lister_id: record.id,
                    start,
                    last: None,
                    persist: true,
                }
            }
        };
        self.first_index = Some(plan.start.clone());
        let writer = PageWriter {
            store,
            lister: &record,
            progress: self.progress,
            version: record.state_version,
            fold_every: options
                .fold_every
                .unwrap_or_else(|| default_fold_every(store.backend())),
            before_fold: options.before_fold,
        };
        let (handoff, queue) = pipeline();
        let (walked, written) = tokio::join!(
            self.walk_pages(listing, store, options, context, plan, handoff),
            writer.run(queue),
        );
        self.last_index = written.last_index;
        if written.saved_index.is_some() {
            self.saved_index = written.saved_index;
        }
        written.committed?;
        // `None`: the writer stopped, and said why above or below.
        let reason = walked?;
        written.folded?;
        let reason = reason.unwrap_or(StopReason::Cancelled);
        if reason == StopReason::EndOfListing && options.range.is_none() {
            store.finish_listing(record.id).await?;
            if options.full_pass {
                self.disabled = store.disable_unseen(record.id, pass_started).await?;
                tracing::info!(lister = %self.key, disabled = self.disabled, "full pass: origins no longer listed disabled");
            }
        }
        Ok(reason)
    }

    /// Walks the pages from `plan.start`, handing each to the writer through `pages` (see
    /// [`Walk`]).
    async fn walk_pages(
        &self,
        listing: &IndexedListing<L>,
        store: &Store,
        options: &RunOptions,
        context: &RunContext,
        plan: Plan<L::Index>,
        pages: PageHandoff<L::Index>,
    ) -> Result<Option<StopReason>> {
        // Only pages the store knew before the run can be asked for conditionally: a run
        // never fetches a page twice.
        let fetcher = PageFetcher {
            source: &*listing.source,
            store,
            context,
            lister_id: plan.lister_id,
            lookup: !options.full_pass && store.has_page_records(plan.lister_id).await?,
            cleaner: Arc::new(OriginCleaner::new(
                self.key.clone(),
                context.progress.clone(),
            )),
        };
        let start = NextPage {
            url: page_url(&listing.base_url, L::PATH_TEMPLATE, &plan.start)?,
            index: plan.start,
        };
        let walk = Walk::<L> {
            fetcher,
            options,
            handover: Handover {
                key: self.key,
                progress: self.progress,
                cancel: &context.cancel,
                pages,
                last: plan.last,
                persist: plan.persist,
            },
        };
        walk.run(start).await
    }
}

fn parse_index<I: PageIndex>(raw: &str) -> Result<I> {
    I::from_str(raw).map_err(|_| Error::InvalidOption(format!("`{raw}` is not a valid index")))
}

impl<L: IndexingLister> std::fmt::Debug for IndexedListing<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedListing")
            .field("key", &self.key)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}
