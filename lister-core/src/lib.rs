//! The core of lister: the [`Forge`] trait a forge fills in, the run loop that lists it
//! ([`Listing`]), the listed-origin model, and what the run loop asks of a store
//! ([`ListingStore`], which `lister-store` implements on SQLite and PostgreSQL).
//!
//! A forge says how a page is requested from a [`Cursor`], how a response becomes origins
//! and the next cursor, and a few constants. The framework fetches (through a
//! [`PageSource`], which `lister-http` provides), parses items one by one off the async
//! thread, validates and de-duplicates origins, and commits each page's origins together with
//! the advanced state in one transaction.
//!
//! ```
//! use std::borrow::Cow;
//! use lister_core::{Forge, NextCursor, Opaque, Origin, PageRequest, ParseError};
//!
//! /// A forge answering `POST /api/repos` (form `after=…`) with
//! /// `{"data": [{"clone": "https://…", "vcs": "hg"}], "after": "token" | null}`.
//! struct Posted;
//!
//! #[derive(serde::Deserialize)]
//! struct Repo<'a> { clone: Cow<'a, str>, vcs: Cow<'a, str> }
//!
//! impl Forge for Posted {
//!     type Cursor = Opaque;
//!     type Item<'a> = Repo<'a>;
//!     const NAME: &'static str = "posted";
//!     const DEFAULT_URL: &'static str = "https://forge.example.org";
//!     const ITEMS: &'static str = "/data";
//!     const NEXT: NextCursor = NextCursor::BodyValue("/after");
//!
//!     fn request(&self, api: &url::Url, after: &Opaque) -> Result<PageRequest, ParseError> {
//!         let url = api.join("api/repos").map_err(|e| ParseError::new(e.to_string()))?;
//!         Ok(PageRequest::post_form(url, [("after", after.0.as_str())]))
//!     }
//!
//!     fn origin(&self, repo: Repo<'_>, _: &url::Url) -> Option<Origin> {
//!         Some(Origin::new(repo.clone, repo.vcs))
//!     }
//! }
//! ```

pub mod clone_url;
pub mod cursor;
pub mod error;
pub mod forge;
pub mod html;
mod items;
pub mod link;
pub mod lister;
pub mod listing;
pub mod next;
pub mod origin;
mod origin_cleaner;
pub mod page;
mod page_writer;
pub mod parallel;
pub mod parse;
pub mod parse_error;
pub mod progress;
mod ranges;
pub mod read;
pub mod request;
pub mod run;
pub mod sitemap;
pub mod source;
pub mod store;
pub mod sub_listing;
pub mod validate;
mod walk;

pub use clone_url::{RepositoryPath, preferred_clone_url};
pub use cursor::{Cursor, LoopGuard, Opaque, TimeIndex, TimeKey};
pub use error::{Error, Result};
pub use forge::{Auth, Forge, FormFields, api_under, error_in_body, graphql_errors};
pub use items::RejectedItem;
pub use lister::Lister;
pub use listing::Listing;
pub use next::{NextCursor, link_cursor, url_cursor};
pub use origin::{ListedOrigin, ListerKey, Origin};
pub use origin_cleaner::loggable;
pub use page::{Classification, GzipError, PageResponse, QuotaSignal, Validators};
pub use parse::{PageOrigins, page_origins};
pub use parse_error::ParseError;
pub use progress::{CredentialQuota, RunContext, RunProgress};
pub use read::{PageRead, SubPage};
pub use request::{PageRequest, RequestBody, page_url, page_url_with};
pub use run::{
    DEFAULT_FOLD_EVERY, DEFAULT_MEMORY_BUDGET, IndexRange, RunFailure, RunOptions, RunStats,
    StopReason, default_fold_every,
};
pub use source::{FetchError, Fetched, PageSource};
pub use store::{Backend, ListingStore};
pub use walk::SavedState;
