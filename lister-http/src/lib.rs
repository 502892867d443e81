//! The HTTP transport of lister, shared by every forge: requests with a descriptive
//! `User-Agent`, credentials presented as each forge wants them, retries with exponential
//! backoff for transient failures, quota waits and credential rotation, conditional
//! requests, a body size cap, and `Link` header parsing.
//!
//! A forge crate implements [`lister_core::Forge`]; [`http_listing`] makes it a runnable
//! [`Listing`]. Its hooks can use [`query_param`], [`retry_after`], [`json_message`] and hand
//! off to [`default_classification`].
//!
//! ```
//! use std::borrow::Cow;
//! use lister_core::{Auth, Forge, NextCursor, Origin};
//! use lister_http::{Credential, TransportConfig, http_listing};
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
//!     const NEXT: NextCursor = NextCursor::LinkParam("since");
//!
//!     fn origin(&self, repo: Repo<'_>, _: &url::Url) -> Option<Origin> {
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

mod app;
mod classify;
mod clock;
mod config;
mod credential;
mod error;
mod headers;
mod pace;
mod probe;
mod robots;
mod schedule;
mod source;
mod transport;

use std::sync::Arc;

use lister_core::{Forge, Listing};
use url::Url;

pub use app::GithubApp;
pub use classify::{BARE_429_WAIT, classify_at, default_classification};
pub use clock::{Clock, SystemClock, VirtualClock};
pub use config::TransportConfig;
pub use credential::Credential;
pub use error::{Error, scrub};
pub use error::{credential_prefix, credential_variable};
pub use headers::{json_message, parse_retry_after, quota_left, quota_reset_in};
pub use headers::{retry_after, retry_after_at};
pub use probe::Prober;
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
        None if F::DEFAULT_URL.is_empty() => return Err(Error::NoMainInstance { forge: F::NAME }),
        None => Url::parse(F::DEFAULT_URL).map_err(|err| Error::InvalidBaseUrl {
            url: F::DEFAULT_URL.to_owned(),
            reason: err.to_string(),
        })?,
    };
    let forge = Arc::new(forge);
    let api = forge.api_base(&url);
    let source = HttpSource::new(forge.clone(), &api, config)?;
    Ok(Listing::new(forge, instance, &url, api, Box::new(source)))
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
