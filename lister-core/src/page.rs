//! What a forge's listing endpoint answered, and what the framework makes of it.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use url::Url;

use crate::parse_error::ParseError;

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

    /// Whether the response says its body is JSON (`Content-Type: application/json`, or a
    /// `+json` type such as `application/problem+json`): a website that answers JSON where
    /// it can and HTML otherwise (hgweb's `?style=json`) is read as it answered.
    pub fn is_json(&self) -> bool {
        let content_type = self.header("content-type").unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        let essence = essence.to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    }

    /// Whether the body is a gzip file: it starts with gzip's magic bytes `1f 8b`, which no
    /// JSON document, guard line or HTML page starts with.
    pub fn is_gzip(&self) -> bool {
        self.body.starts_with(&GZIP_MAGIC)
    }

    /// Replaces a gzip body ([`is_gzip`](Self::is_gzip): a file served gzipped, such as
    /// grokmirror's `manifest.js.gz`, not a `Content-Encoding`) by what it decompresses to,
    /// reading no more than `cap` bytes of it: a body that would decompress to more (a gzip
    /// bomb: 64 MiB of zeros gzip to 64 KiB) is refused, not buffered. Concatenated gzip
    /// members are read as one file. A body that is not gzip is left as it is. The transport
    /// calls it on every answer, with its body cap.
    ///
    /// ```
    /// use std::io::Write;
    /// let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    /// gzip.write_all(br#"{"/a.git": {}}"#).unwrap();
    /// let gzipped = gzip.finish().unwrap();
    /// let mut page = lister_core::PageResponse::ok("https://git.example.org/manifest.js.gz", gzipped.clone());
    /// assert!(page.is_gzip());
    /// page.gunzip(1024).unwrap();
    /// assert_eq!(page.body, r#"{"/a.git": {}}"#);
    /// let mut page = lister_core::PageResponse::ok("https://git.example.org/manifest.js.gz", gzipped);
    /// let error = page.gunzip(8).unwrap_err();
    /// assert_eq!(error, lister_core::page::GzipError::TooLarge { cap: 8 });
    /// ```
    pub fn gunzip(&mut self, cap: u64) -> Result<(), GzipError> {
        use std::io::Read;
        if !self.is_gzip() {
            return Ok(());
        }
        let decoder = flate2::read::MultiGzDecoder::new(&self.body[..]);
        let mut plain = Vec::new();
        let read = decoder.take(cap.saturating_add(1)).read_to_end(&mut plain);
        read.map_err(|err| GzipError::Corrupt(err.to_string()))?;
        if plain.len() as u64 > cap {
            return Err(GzipError::TooLarge { cap });
        }
        self.body = Bytes::from(plain);
        Ok(())
    }
}

/// The magic bytes a gzip file starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why a gzip body was refused ([`PageResponse::gunzip`]): retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    /// It decompresses to more than the cap; it was not read further.
    #[error("the gzip body decompresses to more than the {cap}-byte cap; not read further")]
    TooLarge {
        /// The cap, in bytes.
        cap: u64,
    },
    /// It is not valid gzip (cut short, corrupt, or followed by other bytes).
    #[error("the body is not valid gzip: {0}")]
    Corrupt(String),
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
    fn the_content_type_says_whether_a_body_is_json() {
        let typed = |value: &str| {
            let mut page = response(b"{}");
            page.headers.insert("content-type", value.parse().unwrap());
            page.is_json()
        };
        assert!(typed("application/json"));
        assert!(typed("Application/JSON; charset=utf-8"));
        assert!(typed("application/problem+json"));
        assert!(!typed("text/html; charset=utf-8"));
        assert!(!typed("application/jsonp"));
        assert!(
            !response(b"{}").is_json(),
            "no Content-Type: not said to be JSON"
        );
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

    fn gzipped(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(data).unwrap();
        gzip.finish().unwrap()
    }

    #[test]
    fn a_gzip_body_is_decompressed_within_the_cap() {
        let json = br#"{"/pub/scm/a.git": {"modified": 1}}"#;
        let mut page = response(&gzipped(json));
        page.gunzip(json.len() as u64).unwrap();
        assert_eq!(page.body, &json[..], "exactly the cap is accepted");
        // Two gzip members are one file, as gzip(1) reads them.
        let mut twice = gzipped(b"[1, ");
        twice.extend(gzipped(b"2]"));
        let mut page = response(&twice);
        page.gunzip(1024).unwrap();
        assert_eq!(page.body, "[1, 2]");
        // A body that is not gzip is left as it is.
        let mut plain = response(json);
        assert!(!plain.is_gzip());
        plain.gunzip(4).unwrap();
        assert_eq!(plain.body, &json[..]);
    }

    #[test]
    fn a_gzip_bomb_is_refused_without_being_buffered() {
        // 64 MiB of zeros gzip to about 64 KiB; the cap is the transport's default, 32 MiB.
        let zeros = vec![0u8; 64 << 20];
        let bomb = gzipped(&zeros);
        drop(zeros);
        assert!(bomb.len() < 256 << 10, "{} bytes", bomb.len());
        let mut page = response(&bomb);
        let error = page.gunzip(32 << 20).unwrap_err();
        assert_eq!(error, GzipError::TooLarge { cap: 32 << 20 });
        assert!(error.to_string().contains("33554432-byte cap"), "{error}");
        assert_eq!(page.body.len(), bomb.len(), "the body is left as it came");
    }

    #[test]
    fn corrupt_or_truncated_gzip_is_refused() {
        let whole = gzipped(br#"{"/a.git": {}}"#);
        let mut cut = response(&whole[..whole.len() - 6]);
        assert!(matches!(cut.gunzip(1024), Err(GzipError::Corrupt(_))));
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"<html>");
        assert!(matches!(
            response(&trailing).gunzip(1024),
            Err(GzipError::Corrupt(_))
        ));
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
