//! Two-level listings: an item of a page names a listing of its own (Tuleap: a project's git
//! repositories), whose pages hold the origins.
//!
//! A page is committed together with the origins of every sub-listing its items name, and the
//! state moves past the page only then: a crash or an error loses nothing, and a rerun fetches
//! that page and its sub-listings again (never more than the page in progress and the pages
//! parsing beside it). A sub-listing the forge says is not there (`404`, `410`) or not to be
//! shown (`403`) is skipped, logged and counted as a rejected item, so that one project cannot
//! stop the listing; any other failure fails the page, as a page's own failure does.

use std::collections::HashSet;

use url::Url;

use crate::forge::Forge;
use crate::origin_cleaner::loggable;
use crate::page::ParseError;
use crate::progress::{RunContext, RunProgress};
use crate::request::PageRequest;
use crate::source::{Fetched, PageSource};
use crate::{Error, Origin, Result};

/// One page of a sub-listing, as the forge reads it ([`Forge::sub_page`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubPage {
    /// The origins on the page.
    pub origins: Vec<Origin>,
    /// The request of the sub-listing's next page, if there is one.
    pub next: Option<PageRequest>,
}

/// The most pages one sub-listing may take; one that asks for more, or for a page it already
/// listed, is taken for a loop.
const MAX_SUB_PAGES: usize = 10_000;

/// The origins of the sub-listing that starts at `first`, every page of it.
pub(crate) async fn list_sub<F: Forge>(
    forge: &F,
    site: &Url,
    source: &dyn PageSource,
    first: PageRequest,
    context: &RunContext,
) -> Result<Vec<Origin>> {
    let (mut origins, mut requested) = (Vec::new(), HashSet::new());
    let mut next = Some(first);
    while let Some(request) = next.take() {
        let asked = format!("{} {:?}", request.url, request.body);
        if requested.len() >= MAX_SUB_PAGES || !requested.insert(asked) {
            let message = format!(
                "the sub-listing at {} comes back or never ends",
                request.url
            );
            return Err(Error::PaginationLoop(message));
        }
        let mut response = match source.fetch(&request, None, context).await {
            Ok(Fetched::Page(response)) => response,
            Ok(Fetched::NotModified) => break,
            Err(error) if source.is_absent(&error) => {
                tracing::warn!(error = %loggable(&error.to_string()), "a sub-listing is skipped");
                RunProgress::add(&context.progress.items_rejected, 1);
                break;
            }
            Err(error) => return Err(Error::Fetch(error)),
        };
        let start = crate::parse::after_prefix(&response.body, F::JSON_PREFIX);
        response.body = response.body.slice(start..);
        let page = forge.sub_page(&response, site);
        let page = page.map_err(|source: ParseError| Error::PageParse {
            url: response.url.to_string(),
            source,
        })?;
        origins.extend(page.origins);
        next = page.next;
    }
    Ok(origins)
}
