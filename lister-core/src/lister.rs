//! The two traits a lister is made of: [`Lister`], what the CLI runs, and [`IndexingLister`],
//! what a forge paged by an index fills in.

use std::fmt::{Debug, Display};
use std::str::FromStr;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::page::{Classification, NextPage, PageResponse, ParseError};
use crate::progress::RunContext;
use crate::run::{RunFailure, RunOptions, RunStats};
use crate::{ListerKey, Origin, Store};

/// A lister the CLI can hold as `Box<dyn Lister>` and run.
#[async_trait]
pub trait Lister: Send + Sync {
    /// Which lister instance this is.
    fn key(&self) -> &ListerKey;

    /// Lists into `store`, from the saved state (or the range in `options`), until the end of
    /// the listing, `options.max_pages`, cancellation through `context`, or an error.
    async fn run(
        &self,
        store: &Store,
        options: &RunOptions,
        context: &RunContext,
    ) -> Result<RunStats, RunFailure>;
}

/// The index of a forge paged by an index: GitHub's repository id, Bitbucket's creation date.
///
/// It must strictly increase from page to page; the framework stops with an error otherwise.
/// `Display` and `FromStr` give its text form, used in URLs, progress and `--first-id`.
pub trait PageIndex:
    Clone + Ord + Debug + Display + FromStr + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

impl<T> PageIndex for T where
    T: Clone
        + Ord
        + Debug
        + Display
        + FromStr
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// What a forge paged by an index implements; fetching, retries, quota waits, validation,
/// de-duplication, storage and state all come from the framework.
///
/// The first page's URL is `{base URL}{PATH_TEMPLATE}` with `{index}` replaced by the
/// (percent-encoded) start index; later pages follow the URL [`next_page`](Self::next_page)
/// finds, exactly as the forge gave it.
pub trait IndexingLister: Send + Sync + 'static {
    /// The index type.
    type Index: PageIndex;

    /// The lister's name (`github`), also its name on the command line.
    const NAME: &'static str;
    /// The API base URL of the forge's main instance.
    const DEFAULT_BASE_URL: &'static str;
    /// The listing path under the base URL, with an `{index}` placeholder.
    const PATH_TEMPLATE: &'static str;
    /// The visit type of most of this forge's origins.
    const VISIT_TYPE: &'static str;

    /// Whether [`next_page`](Self::next_page) finds the next page without parsing the body
    /// (GitHub: from the `Link` header). Then the run loop requests the next page while this
    /// one's origins are parsed, on another thread: a walk no longer waits for each parse.
    const NEXT_PAGE_FROM_HEADERS: bool = false;

    /// Where a listing with no saved state starts.
    fn first_index(&self) -> Self::Index;

    /// Turns a successful response into origins (the framework validates and de-duplicates
    /// them). A parse error makes the framework fetch the page again.
    fn simplify(&self, response: &PageResponse) -> Result<Vec<Origin>, ParseError>;

    /// Finds the next page in a successful response; `None` ends the listing.
    fn next_page(
        &self,
        response: &PageResponse,
    ) -> Result<Option<NextPage<Self::Index>>, ParseError>;

    /// Extra request headers the forge wants (`Accept`, an API version…).
    fn request_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The forge's own reading of a response, asked before the default classifier; `None`
    /// hands over to the default (quota headers, status codes).
    fn classify(&self, response: &PageResponse) -> Option<Classification> {
        let _ = response;
        None
    }
}
