//! The run loop of an [`IndexingLister`]: fetch → simplify → validate → commit, page by page.

use std::sync::Arc;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use url::Url;

use crate::lister::{IndexingLister, Lister, PageIndex};
use crate::origin_cleaner::{OriginCleaner, loggable};
use crate::page::{NextPage, Page};
use crate::page_fetcher::{FetchOutcome, PageFetcher};
use crate::page_writer::{PageHandoff, PageWriter, PendingPage, pipeline};
use crate::progress::{RunContext, RunProgress};
use crate::run::{RunFailure, RunOptions, RunStats, StopReason, default_fold_every};
use crate::source::{Fetched, PageSource, UnparsedPage};
use crate::store::{PageRecord, StateWrite, Store};
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
        };
        let (handoff, queue) = pipeline();
        let (walked, written) = tokio::join!(
            self.fetch_pages(listing, store, options, context, plan, handoff),
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

    /// Fetches, parses and validates pages, handing each to the writer through `pages`, until
    /// the listing (or the range) ends, the run is cancelled or a fetch fails. `None` when
    /// the writer stopped taking pages (it failed).
    async fn fetch_pages(
        &self,
        listing: &IndexedListing<L>,
        store: &Store,
        options: &RunOptions,
        context: &RunContext,
        plan: Plan<L::Index>,
        mut pages: PageHandoff<L::Index>,
    ) -> Result<Option<StopReason>> {
        let Plan {
            lister_id,
            start,
            last,
            persist,
        } = plan;
        // Only pages the store knew before the run can be asked for conditionally: a run
        // never fetches a page twice.
        let fetcher = PageFetcher {
            source: &*listing.source,
            store,
            context,
            lister_id,
            lookup: !options.full_pass && store.has_page_records(lister_id).await?,
            cleaner: Arc::new(OriginCleaner::new(
                self.key.clone(),
                context.progress.clone(),
            )),
        };
        let reached_last =
            |next: &NextPage<L::Index>| last.as_ref().is_some_and(|last| next.index >= *last);
        let mut current = NextPage {
            url: page_url(&listing.base_url, L::PATH_TEMPLATE, &start)?,
            index: start,
        };
        let mut fetched_pages = 0;
        // The current page, when it was fetched while the previous one was parsed.
        let mut ahead = None;
        loop {
            self.progress.set_current_index(&current.index);
            let fetched = match ahead.take() {
                Some(fetched) => fetched,
                None => {
                    if context.cancel.is_cancelled() {
                        return Ok(Some(StopReason::Cancelled));
                    }
                    if options.max_pages.is_some_and(|max| fetched_pages >= max) {
                        return Ok(Some(StopReason::MaxPages));
                    }
                    fetched_pages += 1;
                    tokio::select! {
                        fetched = fetcher.fetch(&current.url, true) => fetched?,
                        () = pages.closed() => return Ok(None),
                    }
                }
            };
            let fetched = match fetched {
                (_, Ok(Fetched::Unparsed(unparsed))) => {
                    // Fetch the next page meanwhile: not before the first commit (a refused
                    // run spends one request), nor past where the walk stops anyway.
                    let follow = unparsed.next.as_ref().filter(|next| {
                        pages.may_run_ahead()
                            && next.index > current.index
                            && !reached_last(next)
                            && !context.cancel.is_cancelled()
                            && options.max_pages.is_none_or(|max| fetched_pages < max)
                    });
                    let follow = follow.map(|next| next.url.clone());
                    let (parsed, next_fetched) =
                        self.parse(&fetcher, unparsed, &current.url, follow).await?;
                    fetched_pages += u64::from(next_fetched.is_some());
                    ahead = next_fetched;
                    parsed
                }
                fetched => fetched,
            };
            let page = match fetched {
                (_, Ok(Fetched::Page(page))) => page,
                (known, Ok(Fetched::NotModified)) => {
                    RunProgress::add(&self.progress.not_modified, 1);
                    unchanged_page(known)?
                }
                (_, Ok(Fetched::Unparsed(_))) => unreachable!("parsed above"),
                (_, Err(_)) if context.cancel.is_cancelled() => {
                    return Ok(Some(StopReason::Cancelled));
                }
                (_, Err(err)) => return Err(Error::Fetch(err)),
            };
            if let Some(next) = page
                .next
                .as_ref()
                .filter(|next| next.index <= current.index)
            {
                return Err(Error::PaginationLoop {
                    current: current.index.to_string(),
                    next: next.index.to_string(),
                });
            }
            let range_done = page.next.as_ref().is_some_and(reached_last);
            let next = page.next.clone().filter(|next| !reached_last(next));
            let saved = next
                .as_ref()
                .map_or(&current.index, |next| &next.index)
                .clone();
            let state = match persist {
                true => Some(StateWrite::encode(&IndexingState { index: &saved })?),
                false => None,
            };
            let pending = PendingPage {
                index: current.index.clone(),
                record: page_record(&current.url, &page.validators, page.next.as_ref())?,
                origins: page.origins,
                saved: persist.then_some(saved),
                state,
            };
            if !pages.send(pending).await {
                return Ok(None);
            }
            match next {
                Some(next) => current = next,
                None if range_done => return Ok(Some(StopReason::EndOfRange)),
                None => return Ok(Some(StopReason::EndOfListing)),
            }
        }
    }

    /// Parses and cleans the origins of the page at `url` while fetching `follow` (the next
    /// page, when the walk goes on to it): the page, parsed, and the next page's fetch. When
    /// the origins fail to parse, the page is fetched again and parsed at once, as any
    /// unparsable page is; the next page's fetch stands if the page names it again.
    async fn parse(
        &self,
        fetcher: &PageFetcher<'_, L::Index>,
        page: UnparsedPage<L::Index>,
        url: &Url,
        follow: Option<Url>,
    ) -> Result<(FetchOutcome<L::Index>, Option<FetchOutcome<L::Index>>)> {
        let (parsed, next) = fetcher.parse_while_fetching(page, follow.as_ref()).await?;
        let error = match parsed {
            Ok(page) => return Ok(((None, Ok(Fetched::Page(page))), next)),
            Err(error) => error,
        };
        tracing::warn!(lister = %self.key, url = %loggable(url.as_str()), %error, "origins failed to parse; fetching the page again");
        RunProgress::add(&self.progress.retries, 1);
        let refetched = fetcher.fetch(url, false).await?;
        let same_next = match &refetched.1 {
            Ok(Fetched::Page(page)) => page.next.as_ref().map(|next| &next.url) == follow.as_ref(),
            _ => false,
        };
        Ok((refetched, next.filter(|_| same_next)))
    }
}

fn parse_index<I: PageIndex>(raw: &str) -> Result<I> {
    I::from_str(raw).map_err(|_| Error::InvalidOption(format!("`{raw}` is not a valid index")))
}

/// What the store should remember of a committed page.
fn page_record<I: PageIndex>(
    url: &Url,
    validators: &crate::page::Validators,
    next: Option<&NextPage<I>>,
) -> Result<PageRecord> {
    let next_index = next
        .map(|next| serde_json::to_string(&next.index))
        .transpose()
        .map_err(|source| Error::Decode {
            what: "page index".into(),
            source,
        })?;
    Ok(PageRecord {
        url: url.to_string(),
        validators: validators.clone(),
        next_url: next.map(|next| next.url.to_string()),
        next_index,
    })
}

/// A page the forge answered `304 Not Modified` for: no origins, and the next page the store
/// remembered for it.
fn unchanged_page<I: PageIndex>(known: Option<PageRecord>) -> Result<Page<I>> {
    let known = known.unwrap_or_default();
    let next = match (&known.next_url, &known.next_index) {
        (Some(url), Some(index)) => Some(NextPage {
            url: Url::parse(url)
                .map_err(|err| Error::InvalidOption(format!("stored next URL: {err}")))?,
            index: serde_json::from_str(index).map_err(|source| Error::Decode {
                what: "stored next index".into(),
                source,
            })?,
        }),
        _ => None,
    };
    Ok(Page {
        origins: Vec::new(),
        next,
        validators: known.validators,
    })
}

impl<L: IndexingLister> std::fmt::Debug for IndexedListing<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedListing")
            .field("key", &self.key)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}
