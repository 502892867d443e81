//! The walk of a run, as a pipeline of three stages read top to bottom:
//!
//! 1. **fetch** ([`Fetcher`]): page after page from the saved cursor, each request built by
//!    the forge from the cursor, asked conditionally when the store knows the page (in a
//!    full pass, when it also remembers the page's origins, which a `304` counts as seen);
//!    the forge names the next cursor from the response, and the [`LoopGuard`] checks it;
//! 2. **parse** ([`parse`]): the page's items become origins, validated and de-duplicated, on
//!    a blocking thread, while the fetch stage goes on to the next page; a two-level forge's
//!    page also gets the origins of the listings its items name
//!    ([`sub_listing`](crate::sub_listing));
//! 3. **hand over** ([`walk`]): each parsed page, in page order, goes to the
//!    [writer](crate::page_writer) with the state that follows it, to be committed.
//!
//! Memory is bounded in bytes: a page holds its share of the run's [`MemoryBudget`] from the
//! moment its body is read until its origins are committed (four times its body while it
//! parses, then what its origins take), and the fetch stage waits for room before it goes on.
//! The walk goes past its first page only once that page is committed, so a run refused
//! because another run of the instance moved the state has spent one request.

use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::cursor::{Cursor, LoopGuard};
use crate::forge::Forge;
use crate::origin_cleaner::OriginCleaner;
use crate::page::{PageResponse, Validators};
use crate::page_writer::{PageHandoff, PendingPage};
use crate::progress::{RunContext, RunProgress};
use crate::request::PageRequest;
use crate::run::{RunOptions, StopReason};
use crate::source::{Fetched, PageSource};
use crate::store::{HeldOrigins, ListingStore, PageRecord, StateWrite};
use crate::sub_listing::{SubListingRules, list_sub};
use crate::{Error, Origin, Result};

/// Pages parsing at once. The fetch stage goes on while fewer are: with three, a page that
/// parses slower than the next one arrives does not hold up the request after it.
const PARSING_AHEAD: usize = 3;

/// How many times its body's size a page holds while it parses: the body, its items, its
/// origins and their de-duplication. A page whose parse would not fit beside the others waits:
/// at the transport's largest body (32 MiB), one parses at a time within the default budget.
const PARSING_FACTOR: usize = 4;

/// The state an instance saves with every page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedState<C> {
    /// Where the next run starts: the next page's cursor, or the last page's own cursor when
    /// the listing ended (so a rerun asks that page again, conditionally where it can; the
    /// first cursor for a [`Forge::NEWEST_FIRST`](crate::Forge::NEWEST_FIRST) listing).
    pub cursor: C,
}

/// The bytes a run may hold between reading a body and committing its origins.
#[derive(Debug, Clone)]
pub(crate) struct MemoryBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl MemoryBudget {
    /// A budget of `total` bytes (at most 4 GiB: a semaphore's permits are taken 32 bits at
    /// a time).
    pub(crate) fn new(total: usize) -> MemoryBudget {
        let total = total.clamp(1, u32::MAX as usize);
        MemoryBudget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Waits until `bytes` (at most the whole budget) are free, and holds them.
    async fn hold(&self, bytes: usize) -> OwnedSemaphorePermit {
        let bytes = bytes.clamp(1, self.total) as u32;
        let semaphore = self.bytes.clone();
        semaphore
            .acquire_many_owned(bytes)
            .await
            .expect("the budget is never closed")
    }
}

/// Everything the walk needs, borrowed from the run.
pub(crate) struct Walk<'a, F: Forge> {
    pub(crate) forge: &'a Arc<F>,
    /// The instance's address, for [`Forge::origin`].
    pub(crate) site: &'a Arc<Url>,
    pub(crate) api: &'a Url,
    pub(crate) source: &'a dyn PageSource,
    pub(crate) store: &'a dyn ListingStore,
    pub(crate) context: &'a RunContext,
    pub(crate) options: &'a RunOptions,
    pub(crate) lister_id: i64,
    /// Whether the store may know pages of this instance, to ask for them conditionally.
    pub(crate) lookup: bool,
    /// When the instance's last complete pass started, unless this run is a full pass (see
    /// [`Forge::SKIP_UNCHANGED`]).
    pub(crate) last_pass_started: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) cleaner: Arc<OriginCleaner>,
    pub(crate) budget: MemoryBudget,
}

impl<'a, F: Forge> Walk<'a, F> {
    /// The same walk under another run context (a parallel listing's own cancellation).
    pub(crate) fn with_context<'b>(&'b self, context: &'b RunContext) -> Walk<'b, F> {
        Walk {
            context,
            cleaner: self.cleaner.clone(),
            budget: self.budget.clone(),
            ..*self
        }
    }

    /// The request of the page at `cursor`, and what the store remembers of that page when
    /// it may know it (for a conditional request).
    pub(crate) async fn request_at(
        &self,
        cursor: &F::Cursor,
    ) -> Result<(PageRequest, Option<PageRecord>)> {
        let request = self.forge.request(self.api, cursor);
        let request = request.map_err(|source| Error::PageParse {
            url: format!("cursor {}", cursor.text()),
            source,
        })?;
        let known = match self.lookup && request.is_cacheable() {
            true => {
                let url = request.url.as_str();
                self.store.page_record(self.lister_id, url).await?
            }
            false => None,
        };
        Ok((request, known))
    }
}

/// A step of the fetch and parse stages, in page order: an error goes down the pipeline
/// behind the pages before it, so that they are committed first.
enum Step<P> {
    /// A page, fetched or parsed.
    Page(P),
    /// The walk ends here, and why.
    End(StopReason),
    /// The walk fails here.
    Failed(Error),
}

/// A page as the fetch stage leaves it.
struct FetchedPage<C> {
    cursor: C,
    record: PageRecord,
    /// `None`: the page is unchanged since the store's record of it.
    response: Option<PageResponse>,
    next: Option<C>,
    held: OwnedSemaphorePermit,
}

/// How a walk ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WalkEnd {
    /// The walk stopped: the listing or the range ended, `max_pages`, cancellation.
    Stopped(StopReason),
    /// The writer stopped taking pages: it failed, and its error says why.
    WriterStopped,
}

/// Walks from `start` (the cursor of the first page), handing every page to the writer, until
/// the listing or the range ends, `max_pages`, cancellation, an error, or the writer stops.
pub(crate) async fn walk<F: Forge>(
    walk: &Walk<'_, F>,
    start: F::Cursor,
    last: Option<F::Cursor>,
    persist: bool,
    mut pages: PageHandoff<F::Cursor>,
) -> Result<WalkEnd> {
    let fetcher = Fetcher {
        walk,
        cursor: Some(start),
        last,
        end: None,
        fetched: 0,
        guard: LoopGuard::new(),
        first_commit: pages.first_commit(),
    };
    let parsed = fetcher
        .into_stream()
        .map(|step| parse(walk, step))
        .buffered(PARSING_AHEAD);
    let mut parsed = std::pin::pin!(parsed);
    while let Some(step) = parsed.next().await {
        let page = match step {
            Step::Page(page) => page,
            Step::End(reason) => return Ok(WalkEnd::Stopped(reason)),
            Step::Failed(error) => return Err(error),
        };
        let state = match persist {
            true => Some(StateWrite::encode(&SavedState {
                cursor: &page.saved,
            })?),
            false => None,
        };
        if !pages.send(page.into_pending(persist, state)).await {
            return Ok(WalkEnd::WriterStopped);
        }
    }
    // The fetch stage ends its stream early only when the writer stopped taking pages.
    Ok(WalkEnd::WriterStopped)
}

/// The fetch stage: one page at a time, each from the cursor the previous one named.
struct Fetcher<'w, 'a, F: Forge> {
    walk: &'w Walk<'a, F>,
    /// The cursor of the next page to fetch; `None` once the walk knows it ends.
    cursor: Option<F::Cursor>,
    /// The inclusive end of a range run.
    last: Option<F::Cursor>,
    /// Why the walk ends, once it knows.
    end: Option<StopReason>,
    fetched: u64,
    guard: LoopGuard<F::Cursor>,
    /// Becomes `true` at the writer's first successful commit.
    first_commit: tokio::sync::watch::Receiver<bool>,
}

impl<'w, 'a, F: Forge> Fetcher<'w, 'a, F> {
    /// The pages, then why the walk ends; after an error, the error.
    fn into_stream(self) -> impl Stream<Item = Step<FetchedPage<F::Cursor>>> + 'w
    where
        'a: 'w,
    {
        stream::unfold(Some(self), |fetcher| async move {
            let mut fetcher = fetcher?;
            match fetcher.next_step().await {
                Ok(step) => step.map(|step| (step, Some(fetcher))),
                Err(error) => Some((Step::Failed(error), None)),
            }
        })
    }

    /// The next page, or why the walk ends; `None` after that end, or when the writer
    /// stopped taking pages.
    async fn next_step(&mut self) -> Result<Option<Step<FetchedPage<F::Cursor>>>> {
        let walk = self.walk;
        let cancel: &CancellationToken = &walk.context.cancel;
        let Some(cursor) = self.cursor.take() else {
            return Ok(self.end.take().map(Step::End));
        };
        if cancel.is_cancelled() {
            return Ok(Some(Step::End(StopReason::Cancelled)));
        }
        if walk
            .options
            .max_pages
            .is_some_and(|max| self.fetched >= max)
        {
            return Ok(Some(Step::End(StopReason::MaxPages)));
        }
        if self.fetched == 1 && self.first_commit.wait_for(|done| *done).await.is_err() {
            return Ok(None);
        }
        self.fetched += 1;
        walk.context.progress.set_current_index(cursor.text());
        let (request, known) = walk.request_at(&cursor).await?;
        // A full pass asks conditionally only for pages whose origins the store remembers: a
        // `304` must count them as seen, or the pass would disable them.
        let known = known.filter(|known| {
            !walk.options.full_pass || matches!(known.origins, HeldOrigins::Held(_))
        });
        let validators = known.as_ref().map(|known| &known.validators);
        let fetched = tokio::select! {
            fetched = walk.source.fetch(&request, validators, walk.context) => fetched,
            () = cancel.cancelled() => return Ok(Some(Step::End(StopReason::Cancelled))),
        };
        let (response, next, validators) = match fetched {
            Ok(Fetched::Page(mut response)) => {
                strip_prefix(&mut response, F::JSON_PREFIX);
                let next = walk.forge.next_cursor(cursor.clone(), &response);
                let next = next.map_err(|source| Error::PageParse {
                    url: response.url.to_string(),
                    source,
                })?;
                let validators = Validators::of(&response);
                (Some(response), next, validators)
            }
            Ok(Fetched::NotModified) => {
                RunProgress::add(&walk.context.progress.not_modified, 1);
                let known = known.unwrap_or_default();
                (None, remembered_next(&known)?, known.validators)
            }
            Err(_) if cancel.is_cancelled() => return Ok(Some(Step::End(StopReason::Cancelled))),
            Err(error) => return Err(Error::Fetch(error)),
        };
        let body = response.as_ref().map_or(0, |response| response.body.len());
        let held = walk.budget.hold(body.saturating_mul(PARSING_FACTOR)).await;
        if let Some(next) = &next {
            self.guard
                .check(&cursor, next)
                .map_err(Error::PaginationLoop)?;
        }
        let past_last = |next: &F::Cursor| {
            let order = self.last.as_ref().and_then(|last| next.compare(last));
            order.is_some_and(|order| order.is_ge())
        };
        let range_done = next.as_ref().is_some_and(past_last);
        let next = next.filter(|_| !range_done);
        self.cursor = next.clone();
        if next.is_none() {
            self.end = Some(match range_done {
                true => StopReason::EndOfRange,
                false => StopReason::EndOfListing,
            });
        }
        let mut record = page_record(&request.url, validators, next.as_ref())?;
        if response.is_none() {
            record.origins = HeldOrigins::Unchanged;
        }
        let page = FetchedPage {
            cursor,
            record,
            response,
            next,
            held,
        };
        Ok(Some(Step::Page(page)))
    }
}

/// Removes `prefix`, and the rest of its line, from the start of a body that has it.
pub(crate) fn strip_prefix(response: &mut PageResponse, prefix: &str) {
    let start = crate::parse::after_prefix(&response.body, prefix);
    response.body = response.body.slice(start..);
}

/// What the store should remember of a page: its validators and the cursor it led to.
fn page_record<C: Cursor>(
    url: &Url,
    validators: Validators,
    next: Option<&C>,
) -> Result<PageRecord> {
    let next_index = next
        .map(serde_json::to_string)
        .transpose()
        .map_err(|source| Error::Decode {
            what: "page cursor".into(),
            source,
        })?;
    Ok(PageRecord {
        url: url.to_string(),
        validators,
        next_url: None,
        next_index,
        origins: HeldOrigins::Unknown,
    })
}

/// The cursor the store remembers a page led to, for a page the forge answered unchanged.
pub(crate) fn remembered_next<C: Cursor>(known: &PageRecord) -> Result<Option<C>> {
    let next = known
        .next_index
        .as_deref()
        .map(serde_json::from_str)
        .transpose();
    next.map_err(|source| Error::Decode {
        what: "stored next cursor".into(),
        source,
    })
}

/// A page whose origins are ready to commit.
struct ParsedPage<C> {
    cursor: C,
    /// The cursor the state saves with this page.
    saved: C,
    record: PageRecord,
    origins: Vec<Origin>,
    held: OwnedSemaphorePermit,
}

impl<C: Cursor> ParsedPage<C> {
    fn into_pending(self, persist: bool, state: Option<String>) -> PendingPage<C> {
        PendingPage {
            cursor: self.cursor,
            saved: persist.then_some(self.saved),
            state,
            origins: self.origins,
            record: self.record,
            held: Some(self.held),
        }
    }
}

/// The parse stage: the page's items become clean origins on a blocking thread; the page
/// then holds the memory its origins take, if that is more than its body took.
async fn parse<F: Forge>(
    walk: &Walk<'_, F>,
    step: Step<FetchedPage<F::Cursor>>,
) -> Step<ParsedPage<F::Cursor>> {
    match step {
        Step::Page(page) => parse_page(walk, page).await.unwrap_or_else(Step::Failed),
        Step::End(reason) => Step::End(reason),
        Step::Failed(error) => Step::Failed(error),
    }
}

/// Runs `work` on the blocking thread pool (a panic there goes on here).
async fn on_blocking_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
}

/// Parses one page (see [`parse`]), and lists the sub-listings its items name.
async fn parse_page<F: Forge>(
    walk: &Walk<'_, F>,
    page: FetchedPage<F::Cursor>,
) -> Result<Step<ParsedPage<F::Cursor>>> {
    let FetchedPage {
        cursor,
        mut record,
        response,
        next,
        mut held,
    } = page;
    let (mut origins, sub_listings) = match response {
        Some(response) => {
            let (forge, site, cleaner) =
                (walk.forge.clone(), walk.site.clone(), walk.cleaner.clone());
            let next = next.clone();
            on_blocking_thread(move || {
                crate::parse::origins(&*forge, &site, &response, next.as_ref(), &cleaner)
            })
            .await?
        }
        None => (Vec::new(), Vec::new()),
    };
    // The page's own origins, unless it named sub-listings (their pages change without it).
    let own = sub_listings.is_empty();
    // A two-level forge: the page goes on with the origins of the listings its items name.
    for request in sub_listings {
        let source = walk.source;
        let rules = SubListingRules {
            clone_base: walk.options.clone_base.as_ref(),
            last_pass_started: walk.last_pass_started,
        };
        let listed = list_sub(
            &**walk.forge,
            walk.site,
            source,
            request,
            walk.context,
            rules,
        );
        let listed = listed.await?;
        origins.extend(listed);
    }
    let cleaner = walk.cleaner.clone();
    let origins = on_blocking_thread(move || Ok(cleaner.clean(origins))).await?;
    if record.origins != HeldOrigins::Unchanged {
        record.origins = match own {
            true => HeldOrigins::Held(origins.len()),
            false => HeldOrigins::WithSubListings(origins.len()),
        };
    }
    // Parsed: the page now holds what its origins take, up to the whole budget.
    let size = crate::parse::held_bytes(&origins).clamp(1, walk.budget.total);
    match size.checked_sub(held.num_permits()) {
        Some(0) => {}
        Some(more) => held.merge(walk.budget.hold(more).await),
        None => drop(held.split(held.num_permits() - size)),
    }
    // At the end, the next run asks the last page again, or starts over when new
    // repositories come first.
    let saved = match next {
        Some(next) => next,
        None if F::NEWEST_FIRST => walk.forge.first_cursor(),
        None => cursor.clone(),
    };
    Ok(Step::Page(ParsedPage {
        cursor,
        saved,
        record,
        origins,
        held,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &'static str) -> PageResponse {
        PageResponse {
            url: "https://gitiles.example.org/?format=JSON".parse().unwrap(),
            status: http::StatusCode::OK,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn the_json_prefix_goes_with_its_line() {
        let mut page = response(")]}'\n{\"a\": {}}");
        strip_prefix(&mut page, ")]}'");
        assert_eq!(page.body, "{\"a\": {}}");
        let mut plain = response("{\"a\": {}}");
        strip_prefix(&mut plain, ")]}'");
        assert_eq!(plain.body, "{\"a\": {}}", "a page without it is left alone");
    }
}
