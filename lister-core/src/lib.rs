//! The core of lister: the [`Lister`] and [`IndexingLister`] traits, the run loop, the
//! listed-origin model and the [`Store`] (SQLite or PostgreSQL through diesel).
//!
//! A forge implements [`IndexingLister`]: how a response becomes origins and where the next
//! page is. The framework fetches (through a [`PageSource`], which `lister-http` provides),
//! validates and de-duplicates origins, and commits each page's origins together with the
//! advanced state in one transaction.
//!
//! ```
//! use lister_core::{IndexingLister, NextPage, Origin, PageResponse, ParseError};
//!
//! /// A forge whose pages are JSON arrays of `{"id": 1, "clone_url": "https://…"}`.
//! struct Tiny;
//!
//! #[derive(serde::Deserialize)]
//! struct Repo { id: u64, clone_url: String }
//!
//! impl IndexingLister for Tiny {
//!     type Index = u64;
//!     const NAME: &'static str = "tiny";
//!     const DEFAULT_BASE_URL: &'static str = "https://forge.example.org/api";
//!     const PATH_TEMPLATE: &'static str = "/repos?after={index}";
//!     const VISIT_TYPE: &'static str = "git";
//!
//!     fn first_index(&self) -> u64 { 0 }
//!
//!     fn simplify(&self, response: &PageResponse) -> Result<Vec<Origin>, ParseError> {
//!         let repos: Vec<Repo> = response.json()?;
//!         Ok(repos.into_iter().map(|r| Origin::new(r.clone_url, Self::VISIT_TYPE)).collect())
//!     }
//!
//!     fn next_page(&self, response: &PageResponse) -> Result<Option<NextPage<u64>>, ParseError> {
//!         let repos: Vec<Repo> = response.json()?;
//!         let Some(last) = repos.last() else { return Ok(None) };
//!         let base = url::Url::parse(Self::DEFAULT_BASE_URL).unwrap();
//!         let url = lister_core::page_url(&base, Self::PATH_TEMPLATE, &last.id)
//!             .map_err(|err| ParseError::new(err.to_string()))?;
//!         Ok(Some(NextPage { url, index: last.id }))
//!     }
//! }
//! # fn main() {}
//! ```

pub mod error;
pub mod index;
pub mod lister;
pub mod listing;
pub mod origin;
mod origin_cleaner;
pub mod page;
mod page_fetcher;
mod page_writer;
pub mod progress;
pub mod queue;
pub mod run;
pub mod source;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod validate;
mod walk;

pub use error::{Error, Result};
pub use lister::{IndexingLister, Lister, PageIndex};
pub use listing::{IndexedListing, IndexingState, page_url};
pub use origin::{ListedOrigin, ListerKey, Origin};
pub use page::{Classification, NextPage, Page, PageResponse, ParseError, QuotaSignal, Validators};
pub use progress::{RunContext, RunProgress};
pub use run::{
    DEFAULT_FOLD_EVERY, IndexRange, RunFailure, RunOptions, RunStats, StopReason,
    default_fold_every,
};
pub use source::{FetchError, Fetched, PageSource, ParseOrigins, UnparsedPage};
pub use store::{Backend, DatabaseUrl, Store};
