//! The walk of a run: from page to page, handing each parsed page to the writer in page order.
//!
//! A walk is sequential (each page names the next), so without overlap its pace is fetch +
//! parse per page. When the forge names the next page before its origins are parsed
//! ([`IndexingLister::NEXT_PAGE_FROM_HEADERS`]), a page's origins parse on a blocking thread
//! while the walk fetches the next page, and the walk waits for that parse only while it
//! fetches the page after next: a page that parses slowly does not hold up the next request.
//! At most two pages parse and one is fetched at a time, so memory stays flat.
//!
//! A page whose origins fail to parse is fetched again and parsed at once. The pages fetched
//! after it stand if the page names the same next page again; otherwise the walk drops them
//! and goes where the page now points.

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::lister::{IndexingLister, PageIndex};
use crate::listing::IndexingState;
use crate::origin_cleaner::loggable;
use crate::page::{NextPage, Page};
use crate::page_fetcher::{FetchOutcome, PageFetcher, ParsingPage};
use crate::page_writer::{PageHandoff, PendingPage};
use crate::progress::RunProgress;
use crate::run::{RunOptions, StopReason};
use crate::source::Fetched;
use crate::store::{PageRecord, StateWrite};
use crate::{Error, ListerKey, Result};

/// Where the walk goes after a page.
enum Flow<I> {
    /// The page was handed to the writer; the walk goes on at this page.
    Next(NextPage<I>),
    /// The walk ends, and why (`None`: the writer stopped taking pages, and says why).
    Stop(Option<StopReason>),
}

/// The walk of one run.
pub(crate) struct Walk<'a, L: IndexingLister> {
    pub(crate) fetcher: PageFetcher<'a, L::Index>,
    pub(crate) options: &'a RunOptions,
    pub(crate) handover: Handover<'a, L::Index>,
}

impl<L: IndexingLister> Walk<'_, L> {
    /// Walks from `start` until the listing (or the range) ends, the run is cancelled or a
    /// fetch fails. `None` when the writer stopped taking pages (it failed).
    pub(crate) async fn run(mut self, start: NextPage<L::Index>) -> Result<Option<StopReason>> {
        let mut current = start;
        let mut fetched_pages = 0;
        // The page before `current`, still parsing.
        let mut parsing: Option<ParsingPage<L::Index>> = None;
        // `current`, when it was fetched while the page before it parsed.
        let mut ahead = None;
        loop {
            self.handover.progress.set_current_index(&current.index);
            let fetched = match ahead.take() {
                Some(fetched) => fetched,
                None => {
                    if self.handover.cancel.is_cancelled() {
                        return Ok(Some(StopReason::Cancelled));
                    }
                    if self
                        .options
                        .max_pages
                        .is_some_and(|max| fetched_pages >= max)
                    {
                        return Ok(Some(StopReason::MaxPages));
                    }
                    fetched_pages += 1;
                    tokio::select! {
                        fetched = self.fetcher.fetch(&current.url, true) => fetched?,
                        () = self.handover.pages.closed() => return Ok(None),
                    }
                }
            };
            let previous = parsing.take();
            let flow = 'page: {
                let (_, Ok(Fetched::Unparsed(page))) = fetched else {
                    let went = finish_previous(&mut self.handover, &self.fetcher, previous).await?;
                    if let Some(flow) = diverged(went, &current) {
                        break 'page flow;
                    }
                    break 'page self.handover.hand_over(&current, fetched).await?;
                };
                let follow = self.follow(&current, page.next.as_ref(), fetched_pages);
                let started = self.fetcher.start_parse(current.clone(), page);
                let Some(next) = follow else {
                    let went = finish_previous(&mut self.handover, &self.fetcher, previous).await?;
                    if let Some(flow) = diverged(went, &current) {
                        break 'page flow;
                    }
                    break 'page finish(&mut self.handover, &self.fetcher, started).await?;
                };
                // Hand the previous page over while fetching the page after this one.
                fetched_pages += 1;
                let (handover, fetcher) = (&mut self.handover, &self.fetcher);
                let (went, next_fetched) = tokio::join!(
                    finish_previous(handover, fetcher, previous),
                    fetcher.fetch(&next.url, true),
                );
                if let Some(flow) = diverged(went?, &current) {
                    break 'page flow;
                }
                parsing = Some(started);
                ahead = Some(next_fetched?);
                Flow::Next(next)
            };
            match flow {
                Flow::Next(next) => current = next,
                Flow::Stop(reason) => return Ok(reason),
            }
        }
    }

    /// The next page, when the walk fetches it while `current` parses: not before the first
    /// commit (a refused run spends one request), nor past where the walk stops anyway.
    fn follow(
        &self,
        current: &NextPage<L::Index>,
        next: Option<&NextPage<L::Index>>,
        fetched_pages: u64,
    ) -> Option<NextPage<L::Index>> {
        let options = self.options;
        let next = next.filter(|next| {
            self.handover.pages.may_run_ahead()
                && next.index > current.index
                && !self.handover.reached_last(next)
                && !self.handover.cancel.is_cancelled()
                && options.max_pages.is_none_or(|max| fetched_pages < max)
        });
        next.cloned()
    }
}

/// Hands `previous` (the page before the one the walk is at) over, if one is still parsing.
async fn finish_previous<I: PageIndex>(
    handover: &mut Handover<'_, I>,
    fetcher: &PageFetcher<'_, I>,
    previous: Option<ParsingPage<I>>,
) -> Result<Option<Flow<I>>> {
    match previous {
        Some(parsing) => finish(handover, fetcher, parsing).await.map(Some),
        None => Ok(None),
    }
}

/// Hands a parsing page over once parsed. When its origins failed to parse, it is fetched
/// again and parsed at once, as any unparsable page is.
async fn finish<I: PageIndex>(
    handover: &mut Handover<'_, I>,
    fetcher: &PageFetcher<'_, I>,
    parsing: ParsingPage<I>,
) -> Result<Flow<I>> {
    let (page, parsed) = parsing.parsed().await;
    let fetched = match parsed {
        Ok(parsed) => (None, Ok(Fetched::Page(parsed))),
        Err(error) => {
            tracing::warn!(lister = %handover.key, url = %loggable(page.url.as_str()), %error, "origins failed to parse; fetching the page again");
            RunProgress::add(&handover.progress.retries, 1);
            fetcher.fetch(&page.url, false).await?
        }
    };
    handover.hand_over(&page, fetched).await
}

/// `None` when the previous page's flow leads to `current`, as the walk assumed when it fetched
/// `current` ahead; otherwise the flow the walk follows instead.
fn diverged<I: PartialEq>(went: Option<Flow<I>>, current: &NextPage<I>) -> Option<Flow<I>> {
    match went {
        None => None,
        Some(Flow::Next(next)) if next == *current => None,
        Some(flow) => Some(flow),
    }
}

/// The handing of pages to the writer, in page order.
pub(crate) struct Handover<'a, I> {
    pub(crate) key: &'a ListerKey,
    pub(crate) progress: &'a RunProgress,
    pub(crate) cancel: &'a CancellationToken,
    pub(crate) pages: PageHandoff<I>,
    /// The inclusive end of a relisting range.
    pub(crate) last: Option<I>,
    /// Whether the run saves its state.
    pub(crate) persist: bool,
}

impl<I: PageIndex> Handover<'_, I> {
    fn reached_last(&self, next: &NextPage<I>) -> bool {
        self.last.as_ref().is_some_and(|last| next.index >= *last)
    }

    /// Checks the page fetched at `current` and hands it to the writer with the state that
    /// follows it.
    async fn hand_over(
        &mut self,
        current: &NextPage<I>,
        fetched: FetchOutcome<I>,
    ) -> Result<Flow<I>> {
        let page = match fetched {
            (_, Ok(Fetched::Page(page))) => page,
            (known, Ok(Fetched::NotModified)) => {
                RunProgress::add(&self.progress.not_modified, 1);
                unchanged_page(known)?
            }
            (_, Ok(Fetched::Unparsed(_))) => unreachable!("the walk parses unparsed pages"),
            (_, Err(_)) if self.cancel.is_cancelled() => {
                return Ok(Flow::Stop(Some(StopReason::Cancelled)));
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
        let range_done = page
            .next
            .as_ref()
            .is_some_and(|next| self.reached_last(next));
        let next = page.next.clone().filter(|next| !self.reached_last(next));
        let saved = next
            .as_ref()
            .map_or(&current.index, |next| &next.index)
            .clone();
        let state = match self.persist {
            true => Some(StateWrite::encode(&IndexingState { index: &saved })?),
            false => None,
        };
        let pending = PendingPage {
            index: current.index.clone(),
            record: page_record(&current.url, &page.validators, page.next.as_ref())?,
            origins: page.origins,
            saved: self.persist.then_some(saved),
            state,
        };
        if !self.pages.send(pending).await {
            return Ok(Flow::Stop(None));
        }
        Ok(match next {
            Some(next) => Flow::Next(next),
            None if range_done => Flow::Stop(Some(StopReason::EndOfRange)),
            None => Flow::Stop(Some(StopReason::EndOfListing)),
        })
    }
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
