//! What a forge's listing endpoint answered, and what the framework makes of it.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use url::Url;

/// One HTTP response from a listing endpoint, as handed to a forge's hooks.
#[derive(Debug, Clone)]
pub struct PageResponse {
    /// The URL that was requested (secrets never live in it: credentials go in headers).
    pub url: Url,
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body (bounded by the transport's size cap).
    pub body: Bytes,
}

impl PageResponse {
    /// A `200 OK` answer from `url` with `body` and no headers: how a forge's tests build a
    /// real-shaped page (`url` must be a URL).
    ///
    /// ```
    /// let page = lister_core::PageResponse::ok("https://forge.test/api/repos", "[]")
    ///     .with_header("link", r#"<https://forge.test/api/repos?page=2>; rel="next""#);
    /// assert!(page.header("link").unwrap().contains("page=2"));
    /// assert_eq!(page.status, http::StatusCode::OK);
    /// ```
    pub fn ok(url: &str, body: impl Into<Bytes>) -> PageResponse {
        PageResponse {
            url: Url::parse(url).expect("a test page's URL"),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// The answer with one more header (`value` must be a valid header value).
    pub fn with_header(mut self, name: &'static str, value: &str) -> PageResponse {
        let value = http::HeaderValue::from_str(value).expect("a test header's value");
        self.headers.append(name, value);
        self
    }

    /// Deserializes the body as JSON, possibly borrowing strings from it; the error names the
    /// JSON path that failed.
    ///
    /// The body is parsed once without tracking the path, which costs about a third more; only
    /// a body that fails is parsed again to find where. The body is checked as UTF-8 once, as
    /// a whole, and parsed as text, so that each string in it is not checked again.
    pub fn json<'de, T: Deserialize<'de>>(&'de self) -> Result<T, ParseError> {
        let text = std::str::from_utf8(&self.body).map_err(|_| ());
        let parsed = text.and_then(|text| serde_json::from_str(text).map_err(|_| ()));
        parsed.or_else(|()| {
            let mut deserializer = serde_json::Deserializer::from_slice(&self.body);
            serde_path_to_error::deserialize(&mut deserializer).map_err(|err| ParseError {
                path: err.path().to_string(),
                message: err.into_inner().to_string(),
            })
        })
    }

    /// Deserializes the value at a JSON pointer (`/result/cursor/after`) without building the
    /// rest of the document; a value that is not there reads as `null` (so an `Option` is
    /// `None`). The error names the pointer.
    pub fn json_at<'de, T: Deserialize<'de>>(&'de self, pointer: &str) -> Result<T, ParseError> {
        let text = std::str::from_utf8(&self.body).map_err(|err| ParseError {
            path: pointer.into(),
            message: format!("the body is not UTF-8: {err}"),
        })?;
        crate::items::at_pointer(text, pointer).map_err(|err| ParseError {
            path: pointer.into(),
            message: err.to_string(),
        })
    }

    /// How many items the list at a JSON pointer holds (an array, or an object of items, as
    /// [`Forge::ITEMS`](crate::Forge::ITEMS) reads them; `null` entries count), and the last
    /// one as `T`, without building the others: for a next cursor computed from a page's count
    /// (Gerrit's offset goes on by the page's count while its last item says
    /// `"_more_projects": true`). A missing or `null` list holds none.
    ///
    /// ```
    /// let page = lister_core::PageResponse::ok(
    ///     "https://review.example.org/projects/?n=2",
    ///     r#"{"a": {"id": "a"}, "b/c": {"id": "b%2Fc", "_more_projects": true}}"#,
    /// );
    /// let (count, last) = page.items_tally::<serde_json::Value>("").unwrap();
    /// assert_eq!(count, 2);
    /// assert_eq!(last.unwrap()["_more_projects"], true);
    /// ```
    pub fn items_tally<'de, T: Deserialize<'de>>(
        &'de self,
        pointer: &str,
    ) -> Result<(u64, Option<T>), ParseError> {
        let tally: Option<crate::items::Tally<'de>> = self.json_at(pointer)?;
        let Some(tally) = tally else {
            return Ok((0, None));
        };
        let last = tally.last.map(|raw| serde_json::from_str(raw.get()));
        let last = last.transpose().map_err(|err| ParseError {
            path: format!("{pointer}[{}]", tally.count.saturating_sub(1)),
            message: err.to_string(),
        })?;
        Ok((tally.count, last))
    }

    /// The value of a header as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A page that did not parse: a deterministic failure, so the run stops with it. (A body cut
/// short by a broken connection never gets here: the transport sees the broken read, and
/// retries. A body that ends early with a matching `Content-Length` does, and stops the run.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparsable body at JSON path `{path}`: {message}")]
pub struct ParseError {
    /// Where in the document parsing failed (`.` for the root).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl ParseError {
    /// A parse error that is not about a JSON path.
    pub fn new(message: impl Into<String>) -> Self {
        ParseError {
            path: ".".into(),
            message: message.into(),
        }
    }
}

/// Cache validators of a listing URL (`ETag`, `Last-Modified`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` header, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` header, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators a response carries.
    pub fn of(response: &PageResponse) -> Validators {
        Validators {
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
        }
    }

    /// Whether there is anything to send.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// What the transport should make of a response: the answer to "transient, quota wait, or
/// fatal?". The transport has a default classifier; a forge may answer first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Classification {
    /// A usable page.
    Success,
    /// `304 Not Modified`: the page is unchanged since the validators were taken.
    NotModified,
    /// Worth retrying after a backoff (5xx, 408…).
    Transient(String),
    /// A quota answer: wait, do not blindly retry.
    Quota(QuotaSignal),
    /// Retrying cannot help (401, 404, a 403 that is no quota…).
    Fatal(String),
}

/// The two kinds of quota answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuotaSignal {
    /// The credential's quota is spent until `reset_in` from now: use another credential, or
    /// wait for the earliest reset.
    Exhausted {
        /// Time until the quota resets.
        reset_in: Duration,
    },
    /// Slow down (secondary limits, a bare 429): wait `retry_after` if given, else a backoff.
    SlowDown {
        /// The forge's own delay, if it gave one.
        retry_after: Option<Duration>,
        /// The least to wait when the forge gave no delay.
        at_least: Duration,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Repo<'a> {
        #[serde(borrow)]
        name: std::borrow::Cow<'a, str>,
    }

    fn response(body: &[u8]) -> PageResponse {
        PageResponse {
            url: Url::parse("http://forge.test/repos").unwrap(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::copy_from_slice(body),
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed_from_the_body() {
        let page = response(r#"[{"name": "a-é"}, {"name": "b\"c", "skipped": "x"}]"#.as_bytes());
        let repos: Vec<Repo<'_>> = page.json().unwrap();
        assert!(matches!(repos[0].name, std::borrow::Cow::Borrowed("a-é")));
        assert_eq!(repos[1].name, "b\"c");
    }

    #[test]
    fn a_wrong_body_names_the_json_path() {
        let err = response(br#"[{"name": "a"}, {"name": 7}]"#)
            .json::<Vec<Repo<'_>>>()
            .unwrap_err();
        assert_eq!(err.path, "[1].name");
        let err = response(br#"[{"name": "a"}, {"na"#)
            .json::<Vec<Repo<'_>>>()
            .unwrap_err();
        assert!(err.message.contains("EOF"), "{err}");
    }

    #[test]
    fn a_body_that_is_not_utf8_is_read_as_bytes() {
        // Invalid UTF-8 in a field nobody reads does not stop the page from parsing.
        let page = response(b"[{\"name\": \"a\", \"skipped\": \"\xff\"}]");
        let repos: Vec<Repo<'_>> = page.json().unwrap();
        assert_eq!(repos[0].name, "a");
        // In a field that is read, it is an error at that field.
        let err = response(b"[{\"name\": \"\xff\"}]")
            .json::<Vec<Repo<'_>>>()
            .unwrap_err();
        assert_eq!(err.path, "[0].name");
    }
}
