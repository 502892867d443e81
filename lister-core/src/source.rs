//! Where pages come from: the seam between the run loop and a transport.

use async_trait::async_trait;
use url::Url;

use crate::page::{Page, Validators};
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
}
