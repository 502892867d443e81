//! The error type of lister-http. Every variant names the URL (without user info or
//! secret-looking query parameters), the status when there was one, and the attempts made.

use std::time::Duration;

use http::StatusCode;
use url::Url;

/// What can go wrong while setting up the transport or fetching a page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base URL is unusable (no request was made).
    #[error("invalid base URL {url}: {reason} (no request sent)")]
    InvalidBaseUrl {
        /// The URL, scrubbed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain `http://` base URL for a host other than loopback, without opt-in.
    #[error(
        "refusing the plain-http base URL {url}: only loopback hosts may use http:// unless \
         allow_insecure_http is set (no request sent)"
    )]
    InsecureHttp {
        /// The URL, scrubbed.
        url: String,
    },
    /// A credential cannot be sent (it is named by position, never shown).
    #[error("credential #{index} is unusable: {reason} (no request sent)")]
    InvalidCredential {
        /// Its position in the configuration.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client or a forge header could not be set up.
    #[error("cannot set up the HTTP client: {reason} (no request sent)")]
    Client {
        /// What failed.
        reason: String,
    },
    /// A website's `robots.txt` keeps lister from a page (see `Forge::WEBSITE`): fatal.
    #[error("not asking for {url}: {why} (no request sent there)")]
    Robots {
        /// The page's URL, scrubbed.
        url: String,
        /// What the `robots.txt` said, or why it could not be read.
        why: String,
    },
    /// A URL to fetch leaves the base URL's scheme, host or port.
    #[error(
        "refusing to fetch {url}: it is on {found}, not on the forge's {expected} \
         (after {attempts} attempts; no request sent there)"
    )]
    OffHost {
        /// The URL, scrubbed.
        url: String,
        /// Its scheme, host and port.
        found: String,
        /// The base URL's scheme, host and port.
        expected: String,
        /// Requests made for the page that carried the link.
        attempts: u32,
    },
    /// A GitHub App installation token could not be minted.
    #[error("{url}: minting the GitHub App's installation token failed{}: {reason}",
        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    AppToken {
        /// The token URL, scrubbed.
        url: String,
        /// The status answered, if the exchange got that far.
        status: Option<StatusCode>,
        /// Why, secrets redacted.
        reason: String,
    },
    /// The request failed below HTTP (connection, timeout, reset, body read).
    #[error("{url}: request failed after {attempts} attempts: {}", causes(source))]
    Request {
        /// The URL, scrubbed.
        url: String,
        /// Requests made.
        attempts: u32,
        /// Whether the failure was of a kind worth retrying (retries ran out).
        retryable: bool,
        /// The client's error (without URL).
        #[source]
        source: reqwest::Error,
    },
    /// The forge answered a status that ends the page: fatal, or transient until retries
    /// ran out.
    #[error("{url}: {reason} (after {attempts} attempts)")]
    Status {
        /// The URL, scrubbed.
        url: String,
        /// The status.
        status: StatusCode,
        /// The classification's description (with the forge's message, truncated).
        reason: String,
        /// Requests made.
        attempts: u32,
        /// Whether it was a transient answer (retries ran out).
        retryable: bool,
    },
    /// The body is larger than the cap; it was not buffered.
    #[error(
        "{url}: HTTP {status} body exceeds the {limit}-byte cap (attempt {attempts}); not read further"
    )]
    BodyTooLarge {
        /// The URL, scrubbed.
        url: String,
        /// The status.
        status: StatusCode,
        /// The cap.
        limit: u64,
        /// Requests made.
        attempts: u32,
    },
    /// A gzip body that decompresses past the body cap, or is not valid gzip; it was not read
    /// further, nor retried (it would not decompress better the second time).
    #[error("{url}: HTTP {status}: {source} (attempt {attempts})")]
    Gzip {
        /// The URL, scrubbed.
        url: String,
        /// The status.
        status: StatusCode,
        /// What was wrong (the cap, when it was that).
        #[source]
        source: lister_core::GzipError,
        /// Requests made.
        attempts: u32,
    },
    /// The forge is only self-hosted, and no address was given.
    #[error(
        "{forge} has no main instance: give an instance's address with --url (no request sent)"
    )]
    NoMainInstance {
        /// The forge's name.
        forge: &'static str,
    },
    /// The forge needs a credential and none was given.
    #[error(
        "{forge} lists only with a credential: set {} or give --token-file (no request sent)",
        credential_variable(forge)
    )]
    CredentialNeeded {
        /// The forge's name.
        forge: &'static str,
    },
    /// The forge asks for a quota wait longer than allowed.
    #[error("{url}: quota wait of {wait:?} needed, more than the {max:?} allowed{} (after {attempts} attempts)", status_suffix(*.status))]
    QuotaWaitTooLong {
        /// The URL, scrubbed.
        url: String,
        /// The last status, if the wait follows an answer.
        status: Option<StatusCode>,
        /// The wait needed.
        wait: Duration,
        /// The longest allowed.
        max: Duration,
        /// Requests made.
        attempts: u32,
    },
    /// Still limited after the allowed number of quota waits.
    #[error("{url}: still rate limited after {waits} quota waits{} (after {attempts} attempts)", status_suffix(*.status))]
    QuotaWaitsExhausted {
        /// The URL, scrubbed.
        url: String,
        /// The last status.
        status: Option<StatusCode>,
        /// Waits made.
        waits: u32,
        /// Requests made.
        attempts: u32,
    },
    /// The run was cancelled during a request or a wait.
    #[error("{url}: cancelled (after {attempts} attempts)")]
    Cancelled {
        /// The URL, scrubbed.
        url: String,
        /// Requests made.
        attempts: u32,
    },
}

/// An error and its causes, `: `-separated (the client's own error says little alone).
pub(crate) fn causes(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

fn status_suffix(status: Option<StatusCode>) -> String {
    status
        .map(|status| format!(" (last answer HTTP {status})"))
        .unwrap_or_default()
}

impl Error {
    /// Whether the failure was of a transient kind (a later run may well succeed).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Request { retryable, .. } | Error::Status { retryable, .. } => *retryable,
            Error::QuotaWaitTooLong { .. } | Error::QuotaWaitsExhausted { .. } => true,
            _ => false,
        }
    }

    /// The last HTTP status, if an answer came.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Status { status, .. }
            | Error::BodyTooLarge { status, .. }
            | Error::Gzip { status, .. } => Some(*status),
            Error::QuotaWaitTooLong { status, .. } | Error::QuotaWaitsExhausted { status, .. } => {
                *status
            }
            Error::Request { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Requests made for the page (0 when the error came before any request).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::OffHost { attempts, .. }
            | Error::Request { attempts, .. }
            | Error::Status { attempts, .. }
            | Error::BodyTooLarge { attempts, .. }
            | Error::Gzip { attempts, .. }
            | Error::QuotaWaitTooLong { attempts, .. }
            | Error::QuotaWaitsExhausted { attempts, .. }
            | Error::Cancelled { attempts, .. } => *attempts,
            _ => 0,
        }
    }

    /// Whether the run was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled { .. })
    }
}

/// Query parameters whose values are hidden in errors and logs.
const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "private_token",
    "token",
    "client_secret",
    "password",
    "key",
    "api_key",
];

/// `url` as errors and logs show it: without user info, secret-looking query values hidden.
pub fn scrub(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url
        .query_pairs()
        .any(|(name, _)| SECRET_PARAMS.contains(&name.to_ascii_lowercase().as_str()))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let hidden = SECRET_PARAMS.contains(&name.to_ascii_lowercase().as_str());
                (
                    name.into_owned(),
                    if hidden {
                        "***".to_owned()
                    } else {
                        value.into_owned()
                    },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.into()
}

/// The prefix of a forge's credential variables (`bitbucket-server` → `BITBUCKET_SERVER`).
pub fn credential_prefix(forge: &str) -> String {
    forge.to_ascii_uppercase().replace('-', "_")
}

/// The environment variable a forge's token is read from (`GITHUB_TOKEN`).
pub fn credential_variable(forge: &str) -> String {
    format!("{}_TOKEN", credential_prefix(forge))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbed_urls_hide_secrets() {
        let url =
            Url::parse("https://user:pw@forge.example.org/list?since=3&access_token=abc").unwrap();
        assert_eq!(
            scrub(&url),
            "https://forge.example.org/list?since=3&access_token=***"
        );
        let plain =
            Url::parse("https://forge.example.org/list?after=2011-06-07T02%3A25%3A57%2B00%3A00")
                .unwrap();
        assert_eq!(scrub(&plain), plain.as_str());
    }
}
