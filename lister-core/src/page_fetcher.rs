//! The fetching half of a walk: one page from the source, asked conditionally when the store
//! knows it, with its origins cleaned ([`OriginCleaner`]), or left to parse on a blocking
//! thread ([`ParsingPage`]) when the source allows, so that the walk goes on meanwhile (see
//! [`walk`](crate::walk)).

use std::sync::Arc;

use tokio::task::JoinHandle;
use url::Url;

use crate::origin_cleaner::OriginCleaner;
use crate::page::{NextPage, Page, ParseError, Validators};
use crate::progress::RunContext;
use crate::source::{FetchError, Fetched, PageSource, UnparsedPage};
use crate::store::{PageRecord, Store};
use crate::{Origin, Result};

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

    /// Starts parsing and cleaning the origins of `page`, fetched at `at`, on a blocking
    /// thread.
    pub(crate) fn start_parse(&self, at: NextPage<I>, page: UnparsedPage<I>) -> ParsingPage<I>
    where
        I: 'static,
    {
        let UnparsedPage {
            next,
            validators,
            origins,
        } = page;
        let cleaner = self.cleaner.clone();
        let parse = move || origins().map(|origins| cleaner.clean(origins));
        ParsingPage {
            at,
            next,
            validators,
            origins: tokio::task::spawn_blocking(parse),
        }
    }
}

/// A page whose origins parse on a blocking thread.
pub(crate) struct ParsingPage<I> {
    /// Where the page was fetched.
    at: NextPage<I>,
    next: Option<NextPage<I>>,
    validators: Validators,
    origins: JoinHandle<std::result::Result<Vec<Origin>, ParseError>>,
}

impl<I> ParsingPage<I> {
    /// Where the page was fetched, and the page once parsed.
    pub(crate) async fn parsed(self) -> (NextPage<I>, std::result::Result<Page<I>, ParseError>) {
        let parsed = match self.origins.await {
            Ok(parsed) => parsed,
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            Err(_) => Err(ParseError::new("the parse was cancelled")),
        };
        let page = parsed.map(|origins| Page {
            origins,
            next: self.next,
            validators: self.validators,
        });
        (self.at, page)
    }
}
