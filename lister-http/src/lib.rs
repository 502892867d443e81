//! The HTTP transport of lister, shared by every forge: requests with a descriptive
//! `User-Agent`, retries with exponential backoff for transient failures, quota waits and
//! credential rotation, conditional requests, a body size cap, and `Link` header parsing.
//!
//! A forge crate implements [`lister_core::IndexingLister`] and calls [`http_listing`]; its
//! hooks can use [`next_link`], [`query_param`], [`retry_after`], [`json_message`] and hand
//! off to [`default_classification`].
//!
//! ```
//! use lister_core::{IndexingLister, NextPage, Origin, PageResponse, ParseError};
//! use lister_http::{Credential, TransportConfig, http_listing, next_link, query_param};
//!
//! /// A GitHub-like forge: a JSON array of repositories, the next page in `Link`.
//! #[derive(Clone)]
//! struct Forge;
//!
//! #[derive(serde::Deserialize)]
//! struct Repo { html_url: String }
//!
//! impl IndexingLister for Forge {
//!     type Index = u64;
//!     const NAME: &'static str = "forge";
//!     const DEFAULT_BASE_URL: &'static str = "https://api.forge.example.org";
//!     const PATH_TEMPLATE: &'static str = "/repositories?since={index}";
//!     const VISIT_TYPE: &'static str = "git";
//!
//!     fn first_index(&self) -> u64 { 0 }
//!
//!     fn simplify(&self, response: &PageResponse) -> Result<Vec<Origin>, ParseError> {
//!         let repos: Vec<Option<Repo>> = response.json()?;
//!         Ok(repos.into_iter().flatten().map(|r| Origin::new(r.html_url, Self::VISIT_TYPE)).collect())
//!     }
//!
//!     fn next_page(&self, response: &PageResponse) -> Result<Option<NextPage<u64>>, ParseError> {
//!         let Some(url) = next_link(&response.headers, &response.url) else { return Ok(None) };
//!         let since = query_param(&url, "since").and_then(|since| since.parse().ok());
//!         let index = since.ok_or_else(|| ParseError::new(format!("no `since` in {url}")))?;
//!         Ok(Some(NextPage { url, index }))
//!     }
//! }
//!
//! let mut config = TransportConfig::default();
//! config.credentials = vec![Credential::bearer("ghp_secret"), Credential::bearer("ghp_other")];
//! assert!(!format!("{config:?}").contains("secret"));
//! let listing = http_listing(Forge, "main", None, config).unwrap();
//! # let _ = listing;
//!
//! let plain = url::Url::parse("http://forge.example.org").unwrap();
//! let refused = http_listing(Forge, "main", Some(plain), TransportConfig::default()).unwrap_err();
//! assert!(refused.to_string().contains("plain-http"));
//! ```

mod classify;
mod clock;
mod config;
mod credential;
mod error;
mod headers;
pub mod link;
mod schedule;
mod source;
mod transport;

use std::sync::Arc;

use lister_core::{IndexedListing, IndexingLister, NextPage, PageIndex, ParseError};
use url::Url;

pub use classify::{BARE_429_WAIT, classify_at, default_classification};
pub use clock::{Clock, SystemClock, VirtualClock};
pub use config::TransportConfig;
pub use credential::Credential;
pub use error::{Error, scrub};
pub use headers::{json_message, parse_retry_after, quota_reset_in, retry_after, retry_after_at};
pub use link::next_link;
pub use source::HttpPageSource;

/// `Result` with lister-http's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The forge `lister` at `base_url` (its [`DEFAULT_BASE_URL`](IndexingLister::DEFAULT_BASE_URL)
/// when `None`), fetched over HTTP: a [`lister_core::Lister`] the CLI can run.
///
/// Fails, before any request, on an unusable base URL (plain `http://` off loopback without
/// `allow_insecure_http`, user info in it…) or credential. The lister is cloned: the run loop
/// and the page source each hold one.
pub fn http_listing<L: IndexingLister + Clone>(
    lister: L,
    instance: &str,
    base_url: Option<Url>,
    config: TransportConfig,
) -> Result<IndexedListing<L>> {
    let base_url = match base_url {
        Some(url) => url,
        None => Url::parse(L::DEFAULT_BASE_URL).map_err(|err| Error::InvalidBaseUrl {
            url: L::DEFAULT_BASE_URL.to_owned(),
            reason: err.to_string(),
        })?,
    };
    let source = HttpPageSource::new(Arc::new(lister.clone()), &base_url, config)?;
    Ok(IndexedListing::new(
        lister,
        instance,
        base_url,
        Box::new(source),
    ))
}

/// The next page at `url`, whose index is the URL's query parameter `param`: how a forge
/// turns a next link into a [`NextPage`]. The error names the URL when it does not parse or
/// the parameter is missing or is not an index.
///
/// ```
/// let next: lister_core::NextPage<u64> =
///     lister_http::next_page_at("https://api.github.com/repositories?since=369", "since").unwrap();
/// assert_eq!(next.index, 369);
/// ```
pub fn next_page_at<I: PageIndex>(
    url: impl AsRef<str>,
    param: &str,
) -> Result<NextPage<I>, ParseError> {
    let url = url.as_ref();
    let url = Url::parse(url).map_err(|err| ParseError::new(format!("next URL `{url}`: {err}")))?;
    let index = query_param(&url, param).and_then(|value| value.parse().ok());
    let index =
        index.ok_or_else(|| ParseError::new(format!("next URL {url} has no valid `{param}`")))?;
    Ok(NextPage { url, index })
}

/// The decoded value of the query parameter `name`, if `url` has it.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded() {
        let url =
            Url::parse("https://x.org/r?pagelen=10&after=2011-06-07T02%3A25%3A57.515877%2B00%3A00")
                .unwrap();
        assert_eq!(
            query_param(&url, "after").as_deref(),
            Some("2011-06-07T02:25:57.515877+00:00")
        );
        assert_eq!(query_param(&url, "pagelen").as_deref(), Some("10"));
        assert_eq!(query_param(&url, "since"), None);
    }
}
