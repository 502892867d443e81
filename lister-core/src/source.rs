//! Where pages come from: the seam between the run loop and a transport.

use async_trait::async_trait;

use crate::page::{PageResponse, Validators};
use crate::progress::RunContext;
use crate::request::PageRequest;

/// A boxed error from a page source: it names what failed (URL, status, attempt).
pub type FetchError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The outcome of fetching one page.
#[derive(Debug)]
// One value per page, moved once: boxing the response would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Fetched {
    /// A successful response.
    Page(PageResponse),
    /// The page is unchanged since the validators given to [`PageSource::fetch`].
    NotModified,
}

/// Sends page requests: `lister-http` implements it over HTTP with credentials, retries and
/// quota waits; tests implement it in memory.
#[async_trait]
pub trait PageSource: Send + Sync {
    /// Sends `request`, conditionally when `known` validators are given, and answers once it
    /// has a successful response (or a `304` to a conditional request). Waits watch
    /// `context.cancel`; counters go to `context.progress`.
    async fn fetch(
        &self,
        request: &PageRequest,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched, FetchError>;

    /// Whether `error`, one of this source's, says the page is not there (HTTP `404`, `410`)
    /// or not to be shown (`403`): a sub-listing answered so is skipped (see
    /// [`Forge::sub_listing`](crate::Forge::sub_listing)). `false` by default.
    fn is_absent(&self, error: &FetchError) -> bool {
        let _ = error;
        false
    }
}
