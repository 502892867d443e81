//! The HTTP transport of lister, shared by every forge: requests with a descriptive
//! `User-Agent`, credentials presented as each forge wants them, retries with exponential
//! backoff for transient failures, quota waits and credential rotation, conditional
//! requests, a body size cap, and `Link` header parsing.
//!
//! A forge crate implements [`lister_core::Forge`]; [`http_listing`] makes it a runnable
//! [`Listing`]. Its hooks can use [`link_cursor`], [`query_param`], [`retry_after`],
//! [`json_message`] and hand off to [`default_classification`].
//!
//! ```
//! use std::borrow::Cow;
//! use lister_core::{Auth, Forge, Origin, PageResponse, ParseError};
//! use lister_http::{Credential, TransportConfig, http_listing, link_cursor};
//!
//! /// A GitHub-like forge: a JSON array of repositories, the next page in `Link`.
//! struct Hub;
//!
//! #[derive(serde::Deserialize)]
//! struct Repo<'a> { html_url: Cow<'a, str> }
//!
//! impl Forge for Hub {
//!     type Cursor = u64;
//!     type Item<'a> = Repo<'a>;
//!     const NAME: &'static str = "hub";
//!     const DEFAULT_URL: &'static str = "https://forge.example.org";
//!     const PATH: &'static str = "/repositories?since={cursor}";
//!     const AUTH: Auth = Auth::Token;
//!
//!     fn first_cursor(&self) -> u64 { 0 }
//!
//!     fn next_cursor(&self, _: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
//!         link_cursor(page, "since")
//!     }
//!
//!     fn origin(&self, repo: Repo<'_>) -> Option<Origin> {
//!         Some(Origin::new(repo.html_url, "git"))
//!     }
//! }
//!
//! let mut config = TransportConfig::default();
//! config.credentials = vec![Credential::token("ghp_secret"), Credential::token("ghp_other")];
//! assert!(!format!("{config:?}").contains("secret"));
//! let listing = http_listing(Hub, None, None, config).unwrap();
//! # let _ = listing;
//!
//! let plain = url::Url::parse("http://forge.example.org").unwrap();
//! let refused = http_listing(Hub, None, Some(plain), TransportConfig::default()).unwrap_err();
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

use lister_core::{Cursor, Forge, Listing, PageResponse, ParseError};
use url::Url;

pub use classify::{BARE_429_WAIT, classify_at, default_classification};
pub use clock::{Clock, SystemClock, VirtualClock};
pub use config::TransportConfig;
pub use credential::Credential;
pub use error::credential_variable;
pub use error::{Error, scrub};
pub use headers::{json_message, parse_retry_after, quota_reset_in, retry_after, retry_after_at};
pub use link::next_link;
pub use source::HttpSource;

/// `Result` with lister-http's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The forge `forge` at the address `url` (its [`DEFAULT_URL`](Forge::DEFAULT_URL) when
/// `None`), fetched over HTTP: a [`lister_core::Lister`] the CLI can run. Its API base is
/// [`Forge::api_base`] of that address, and its instance name `instance`, else the address's
/// host (with its port, when the address gives one), else `default` for the forge's own
/// address.
///
/// Fails, before any request, on an unusable address (plain `http://` off loopback without
/// `allow_insecure_http`, user info in it…) or credential.
pub fn http_listing<F: Forge>(
    forge: F,
    instance: Option<&str>,
    url: Option<Url>,
    config: TransportConfig,
) -> Result<Listing<F>> {
    let instance = match (instance, &url) {
        (Some(instance), _) => instance.to_owned(),
        (None, Some(url)) => instance_name(url),
        (None, None) => "default".to_owned(),
    };
    let url = match url {
        Some(url) => url,
        None => Url::parse(F::DEFAULT_URL).map_err(|err| Error::InvalidBaseUrl {
            url: F::DEFAULT_URL.to_owned(),
            reason: err.to_string(),
        })?,
    };
    let forge = Arc::new(forge);
    let api = forge.api_base(&url);
    let source = HttpSource::new(forge.clone(), &api, config)?;
    Ok(Listing::new(forge, instance, api, Box::new(source)))
}

/// The instance name of an address: its host, with the port when the address gives one.
///
/// ```
/// let url = |text| url::Url::parse(text).unwrap();
/// assert_eq!(lister_http::instance_name(&url("https://gitlab.example.org/api/v4")), "gitlab.example.org");
/// assert_eq!(lister_http::instance_name(&url("http://127.0.0.1:8080/")), "127.0.0.1:8080");
/// ```
pub fn instance_name(url: &Url) -> String {
    let host = url.host_str().unwrap_or("default");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The cursor in the `rel="next"` link of `response`: its query parameter `param` (GitHub's
/// `since`, GitLab's `id_after`). No next link ends the listing; a next link without a valid
/// `param` is an error naming the link.
///
/// ```
/// # use lister_core::PageResponse;
/// # let response = |link: &str| PageResponse {
/// #     url: "https://api.github.com/repositories".parse().unwrap(),
/// #     status: http::StatusCode::OK,
/// #     headers: [(http::header::LINK, link.parse().unwrap())].into_iter().collect(),
/// #     body: bytes::Bytes::new(),
/// # };
/// let page = response(r#"<https://api.github.com/repositories?since=369>; rel="next""#);
/// assert_eq!(lister_http::link_cursor::<u64>(&page, "since").unwrap(), Some(369));
/// let last = response(r#"<https://api.github.com/repositories{?since}>; rel="first""#);
/// assert_eq!(lister_http::link_cursor::<u64>(&last, "since").unwrap(), None);
/// ```
pub fn link_cursor<C: Cursor>(
    response: &PageResponse,
    param: &str,
) -> Result<Option<C>, ParseError> {
    match next_link(&response.headers, &response.url) {
        Some(url) => url_cursor(url.as_str(), param).map(Some),
        None => Ok(None),
    }
}

/// The cursor in the query parameter `param` of the URL `url` (a next URL in a body). The
/// error names the URL (scrubbed) when it does not parse or holds no valid `param`.
///
/// ```
/// let after = "https://api.bitbucket.org/2.0/repositories?after=2011-06-07T02%3A25%3A57%2B00%3A00";
/// let cursor: lister_core::TimeIndex = lister_http::url_cursor(after, "after").unwrap();
/// assert_eq!(cursor.to_string(), "2011-06-07T02:25:57+00:00");
/// ```
pub fn url_cursor<C: Cursor>(url: &str, param: &str) -> Result<C, ParseError> {
    let url = Url::parse(url).map_err(|err| ParseError::new(format!("next URL: {err}")))?;
    let cursor = query_param(&url, param).and_then(|value| C::parse(&value));
    cursor
        .ok_or_else(|| ParseError::new(format!("next URL {} has no valid `{param}`", scrub(&url))))
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
