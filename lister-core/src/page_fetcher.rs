//! The fetching half of a walk: one page from the source, asked conditionally when the store
//! knows it, with its origins cleaned ([`OriginCleaner`]), parsed on a blocking thread while
//! the next page is fetched when the source allows.
//!
//! A walk is sequential (each page names the next), so without overlap its pace is fetch +
//! parse per page. When the forge gives the next page before its origins are parsed
//! ([`IndexingLister::NEXT_PAGE_FROM_HEADERS`](crate::IndexingLister::NEXT_PAGE_FROM_HEADERS)),
//! the parse of one page and the fetch of the next run at once.

use std::sync::Arc;

use url::Url;

use crate::Result;
use crate::origin_cleaner::OriginCleaner;
use crate::page::{Page, ParseError};
use crate::progress::RunContext;
use crate::source::{FetchError, Fetched, PageSource, UnparsedPage};
use crate::store::{PageRecord, Store};

/// One fetch: what the store knew of the page, and what the source answered.
pub(crate) type FetchOutcome<I> = (
    Option<PageRecord>,
    std::result::Result<Fetched<I>, FetchError>,
);

/// Fetches the pages of one lister instance.
pub(crate) struct PageFetcher<'a, I> {
    pub(crate) source: &'a dyn PageSource<I>,
    pub(crate) store: &'a Store,
    pub(crate) context: &'a RunContext,
    pub(crate) lister_id: i64,
    /// Whether the store may know pages of this instance, to ask for them conditionally.
    pub(crate) lookup: bool,
    /// Validates and de-duplicates each page's origins.
    pub(crate) cleaner: Arc<OriginCleaner>,
}

impl<I: Send> PageFetcher<'_, I> {
    /// Fetches `url`, conditionally when the store knows the page; a parsed page's origins
    /// come cleaned. With `unparsed`, the source may leave the origins to parse
    /// ([`Fetched::Unparsed`]).
    pub(crate) async fn fetch(&self, url: &Url, unparsed: bool) -> Result<FetchOutcome<I>> {
        let known = match self.lookup {
            true => self.store.page_record(self.lister_id, url.as_str()).await?,
            false => None,
        };
        let validators = known.as_ref().map(|known| &known.validators);
        let fetched = match unparsed {
            true => {
                self.source
                    .fetch_unparsed(url, validators, self.context)
                    .await
            }
            false => self.source.fetch(url, validators, self.context).await,
        };
        let fetched = fetched.map(|fetched| match fetched {
            Fetched::Page(mut page) => {
                page.origins = self.cleaner.clean(std::mem::take(&mut page.origins));
                Fetched::Page(page)
            }
            other => other,
        });
        Ok((known, fetched))
    }

    /// Parses and cleans `page`'s origins on a blocking thread while fetching `next` (when
    /// given).
    pub(crate) async fn parse_while_fetching(
        &self,
        page: UnparsedPage<I>,
        next: Option<&Url>,
    ) -> Result<(
        std::result::Result<Page<I>, ParseError>,
        Option<FetchOutcome<I>>,
    )> {
        let UnparsedPage {
            next: next_page,
            validators,
            origins,
        } = page;
        let fetch_next = async {
            match next {
                Some(url) => self.fetch(url, true).await.map(Some),
                None => Ok(None),
            }
        };
        let cleaner = self.cleaner.clone();
        let parse = move || origins().map(|origins| cleaner.clean(origins));
        let (parsed, fetched) = tokio::join!(tokio::task::spawn_blocking(parse), fetch_next);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            Err(_) => Err(ParseError::new("the parse was cancelled")),
        };
        let page = parsed.map(|origins| Page {
            origins,
            next: next_page,
            validators,
        });
        Ok((page, fetched?))
    }
}
