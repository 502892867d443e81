//! How a page is requested: method, URL and an optional body. Credentials are never in it:
//! the transport adds them as the forge's [`Auth`](crate::Auth) says, when it sends.

use chrono::{DateTime, Utc};
use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use crate::parse_error::ParseError;

/// The request of one page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// Where it goes (always on the instance's scheme, host and port).
    pub url: Url,
    /// Headers of this request alone, besides the forge's [`HEADERS`](crate::Forge::HEADERS)
    /// (never a credential: the transport adds it).
    pub headers: Vec<(String, String)>,
    /// What it carries.
    pub body: RequestBody,
    /// A sub-listing's last update, as the page naming it says (cgit's "Idle" column, a
    /// sitemap's `lastmod`): the origins found there that carry none take it. Never sent.
    pub last_update: Option<DateTime<Utc>>,
}

/// The body of a page request.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    /// No body.
    Empty,
    /// `application/x-www-form-urlencoded` fields, in order.
    Form(Vec<(String, String)>),
    /// `application/json`.
    Json(serde_json::Value),
}

impl PageRequest {
    /// A GET of `url`.
    pub fn get(url: Url) -> PageRequest {
        PageRequest {
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: RequestBody::Empty,
            last_update: None,
        }
    }

    /// A POST of form fields to `url`.
    pub fn post_form<K: Into<String>, V: Into<String>>(
        url: Url,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> PageRequest {
        let fields = fields
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        PageRequest {
            method: Method::POST,
            url,
            headers: Vec::new(),
            body: RequestBody::Form(fields),
            last_update: None,
        }
    }

    /// A POST of a JSON document to `url` (a GraphQL query…).
    pub fn post_json(url: Url, document: serde_json::Value) -> PageRequest {
        PageRequest {
            method: Method::POST,
            url,
            headers: Vec::new(),
            body: RequestBody::Json(document),
            last_update: None,
        }
    }

    /// The request with one more header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The request of a sub-listing last updated at `last_update` (see
    /// [`last_update`](Self::last_update)).
    pub fn with_last_update(mut self, last_update: Option<DateTime<Utc>>) -> Self {
        self.last_update = last_update;
        self
    }

    /// Whether the request can be asked conditionally and its answer remembered by URL: a GET.
    pub fn is_cacheable(&self) -> bool {
        self.method == Method::GET
    }
}

/// A GET of the URL.
impl From<Url> for PageRequest {
    fn from(url: Url) -> PageRequest {
        PageRequest::get(url)
    }
}

/// Characters a cursor is percent-encoded against before it goes into a URL.
const CURSOR_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The URL of the page at `cursor`: `api` (without a trailing `/`) followed by `path` with
/// `{cursor}` replaced by the percent-encoded cursor.
///
/// ```
/// let base = url::Url::parse("https://ghe.example.org/api/v3/").unwrap();
/// let url = lister_core::page_url(&base, "/repositories?since={cursor}", "42").unwrap();
/// assert_eq!(url.as_str(), "https://ghe.example.org/api/v3/repositories?since=42");
/// ```
pub fn page_url(api: &Url, path: &str, cursor: &str) -> Result<Url, ParseError> {
    page_url_with(api, path, &[("cursor", cursor.to_owned())])
}

/// The URL of a page whose cursor has several parts: `api` (without a trailing `/`) followed
/// by `path` with each `{name}` replaced by its percent-encoded value (see
/// [`Cursor::placeholders`](crate::Cursor::placeholders)).
///
/// ```
/// let base = url::Url::parse("https://api.example.org/devel").unwrap();
/// let values = [("time", "2020-01-02T00:00:00+00:00".to_owned()), ("skip", "3".to_owned())];
/// let url = lister_core::page_url_with(&base, "/repos?since={time}&start={skip}", &values).unwrap();
/// assert_eq!(url.as_str(), "https://api.example.org/devel/repos?since=2020-01-02T00%3A00%3A00%2B00%3A00&start=3");
/// ```
pub fn page_url_with(api: &Url, path: &str, values: &[(&str, String)]) -> Result<Url, ParseError> {
    let mut path = path.to_owned();
    for (name, value) in values {
        let value = utf8_percent_encode(value, CURSOR_ENCODE).to_string();
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    let raw = format!("{}{path}", api.as_str().trim_end_matches('/'));
    Url::parse(&raw).map_err(|err| ParseError::new(format!("page URL `{raw}`: {err}")))
}
