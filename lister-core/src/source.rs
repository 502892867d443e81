//! Where pages come from: the seam between the run loop and a transport.

use async_trait::async_trait;
use url::Url;

use crate::Origin;
use crate::page::{NextPage, Page, ParseError, Validators};
use crate::progress::RunContext;

/// A boxed error from a page source: it names what failed (URL, status, attempt).
pub type FetchError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The outcome of fetching one page.
#[derive(Debug)]
pub enum Fetched<I> {
    /// A parsed page.
    Page(Page<I>),
    /// The page is unchanged since the validators given to [`PageSource::fetch`].
    NotModified,
    /// A page whose next page is known and whose origins are still to parse (only from
    /// [`PageSource::fetch_unparsed`]).
    Unparsed(UnparsedPage<I>),
}

/// Parses a page's origins: CPU work the run loop does on a blocking thread.
pub type ParseOrigins = Box<dyn FnOnce() -> Result<Vec<Origin>, ParseError> + Send>;

/// A fetched page whose origins are not parsed yet, so that the run loop can request the next
/// page while they are. If they fail to parse, the run loop fetches the page again with
/// [`PageSource::fetch`].
pub struct UnparsedPage<I> {
    /// Where the listing continues, if it does.
    pub next: Option<NextPage<I>>,
    /// The page's cache validators.
    pub validators: Validators,
    /// Parses the page's origins.
    pub origins: ParseOrigins,
}

impl<I: std::fmt::Debug> std::fmt::Debug for UnparsedPage<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnparsedPage")
            .field("next", &self.next)
            .field("validators", &self.validators)
            .finish_non_exhaustive()
    }
}

/// Fetches and parses pages: `lister-http` implements it over HTTP with retries and quota
/// waits; tests implement it in memory.
#[async_trait]
pub trait PageSource<I>: Send + Sync {
    /// Fetches `url`, conditionally when `known` validators are given. Waits watch
    /// `context.cancel`; counters go to `context.progress`.
    async fn fetch(
        &self,
        url: &Url,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched<I>, FetchError>;

    /// Like [`fetch`](Self::fetch), but may answer [`Fetched::Unparsed`] when the next page
    /// is known before the origins are parsed (see
    /// [`IndexingLister::NEXT_PAGE_FROM_HEADERS`](crate::IndexingLister::NEXT_PAGE_FROM_HEADERS)).
    /// The default parses at once.
    async fn fetch_unparsed(
        &self,
        url: &Url,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched<I>, FetchError> {
        self.fetch(url, known, context).await
    }
}
