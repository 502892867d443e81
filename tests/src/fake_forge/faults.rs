//! Scripted faults: what the fake does instead of (or to) its normal answer.
//!
//! [`FakeForge::inject`](super::FakeForge::inject)`(fault, times, after_requests)` applies
//! `fault` to `times` listing requests, starting once `after_requests` more listing requests
//! have been served. Faults injected earlier are served first; a fault does not spend quota.
//!
//! Every forge's listing endpoint counts as a listing request. Status, body and delivery
//! faults apply everywhere. Rate-limit faults take the forge's own form where it has one:
//! on GitLab and Heptapod, `PrimaryLimit` is GitLab's throttled 429 (`RateLimit-Remaining: 0`,
//! `Retry-After`) and `BareTooManyRequests` a bare 429 `Retry later`; on Phabricator and
//! Phorge both are the limiter's plain-text `TOO MANY REQUESTS`. `LoopingNext` points the
//! next link (or Conduit cursor) back to the start and `OffHostNext` the next link elsewhere
//! (not on Phabricator, whose cursor is no URL). `JunkEntries` is GitHub's and Bitbucket's.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use url::Url;

use super::quota::Usage;
use super::server::{Body, Dropped, empty, full, header_value, streamed};

/// The message of GitHub's primary rate limit answer (`api-examples/github_403_primary_rate_limit.http`).
const PRIMARY_MESSAGE: &str = "API rate limit exceeded for xxx.xxx.xxx.xxx. (But here's the good news: \
     Authenticated requests get a higher rate limit. Check out the documentation for more details.)";
/// The message of GitHub's secondary rate limit answer.
const SECONDARY_MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few minutes \
     before you try again. If you reach out to GitHub Support for help, please include the request ID \
     D24F:221686:28BC1:9F91F:69D56197.";

/// A misbehaviour of the fake forge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status with a JSON `{"message": …}` body (500, 502, 504, 401, 404…).
    Status(u16),
    /// This status with an empty body.
    EmptyStatus(u16),
    /// A 500 with an HTML error page.
    HtmlError,
    /// The connection closes before any response is written.
    CloseBeforeResponse,
    /// The headers (with the full Content-Length) and half the body, then the connection closes.
    CloseMidBody,
    /// The normal answer, after this delay (longer than a client timeout, say).
    Delay(Duration),
    /// Status 200 with the first half of the normal body (Content-Length matching the half).
    TruncatedJson,
    /// This status with this `Retry-After` value (delay-seconds or an HTTP-date).
    RetryAfter {
        /// The status (429, 503…).
        status: u16,
        /// The header value.
        value: String,
    },
    /// GitHub's primary limit: 403, `x-ratelimit-remaining: 0` and the bucket's reset time.
    PrimaryLimit,
    /// GitHub's secondary limit: 403 with its JSON message.
    SecondaryLimit {
        /// The `retry-after` seconds, if sent.
        retry_after: Option<u64>,
    },
    /// 429 without any rate limit header (Bitbucket's answer).
    BareTooManyRequests,
    /// GitHub: a `null`, an item without `id`, the last item twice; Bitbucket: a value
    /// without `links`, the last value twice.
    JunkEntries,
    /// The normal answer with its first `"id":N` changed to `"id":"x"`: one malformed item
    /// (GitHub's first repository; a page without a numeric `id`, Bitbucket's, is unchanged).
    MalformedItem,
    /// GitHub: the normal page with four hostile items added at its end: a 3,000-character
    /// `html_url`, one that is no URL but terminal escapes and a forged log line, one with a
    /// token in its query and fragment (`https://github.com/hostile/secret?access_token=…#ghp_…`),
    /// and one whose `id` is not a number.
    HostileItems,
    /// GitHub: the next link says `since=18446744073709551615`, past anything the page holds.
    HostileNext,
    /// A 401 whose message echoes the request's credential headers (`Authorization`,
    /// `PRIVATE-TOKEN`), as some servers' error pages do.
    EchoingUnauthorized,
    /// The next link points back to the first page.
    LoopingNext,
    /// The next link points to this other base URL (`http://localhost:PORT2`, `127.0.0.2`…).
    OffHostNext(Url),
    /// `fault`, on the requests to `path` alone (Tuleap's git listing of one project, say):
    /// the other requests are served normally and do not spend it.
    OnPath {
        /// The request path (`/tuleap/api/projects/101/git`), without the query.
        path: String,
        /// The fault those requests get.
        fault: Box<Fault>,
    },
    /// A 200 whose body is a GraphQL error with this message (`{"errors": [{"message"}],
    /// "data": null}`), as a GraphQL API (sourcehut) reports a failed query.
    GraphqlError(String),
    /// A 200 whose body is `bytes` long, streamed; with a Content-Length when `declare_length`.
    Oversized {
        /// The body size.
        bytes: u64,
        /// Whether the response announces the size.
        declare_length: bool,
    },
}

impl Fault {
    /// `status` with `Retry-After: seconds`.
    pub fn retry_after_seconds(status: u16, seconds: u64) -> Fault {
        Fault::RetryAfter {
            status,
            value: seconds.to_string(),
        }
    }

    /// `status` with `Retry-After` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    pub fn retry_after_date(status: u16, at: SystemTime) -> Fault {
        Fault::RetryAfter {
            status,
            value: httpdate::fmt_http_date(at),
        }
    }

    /// The answer that replaces the normal one, if this fault replaces it.
    pub(crate) fn replacement(&self, usage: Usage) -> Option<Result<Response<Body>, Dropped>> {
        let response = match self {
            Fault::Status(status) => {
                let status = status_code(*status);
                json_error(status, status.canonical_reason().unwrap_or("Error"))
            }
            Fault::EmptyStatus(status) => empty(status_code(*status)),
            Fault::HtmlError => full(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/html; charset=utf-8",
                "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>\
                 <body><h1>Internal Server Error</h1><p>Something went wrong.</p></body></html>",
            ),
            Fault::CloseBeforeResponse => return Some(Err("fault: connection closed".into())),
            Fault::RetryAfter { status, value } => {
                let mut response = json_error(status_code(*status), "Slow down");
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, header_value(value));
                response
            }
            Fault::PrimaryLimit => primary_limit(Usage {
                used: usage.limit,
                ..usage
            }),
            Fault::SecondaryLimit { retry_after } => {
                let mut response = json_error(StatusCode::FORBIDDEN, SECONDARY_MESSAGE);
                if let Some(seconds) = retry_after {
                    response
                        .headers_mut()
                        .insert(http::header::RETRY_AFTER, seconds.to_string().parse().ok()?);
                }
                response
            }
            Fault::BareTooManyRequests => too_many_requests(),
            Fault::GraphqlError(message) => {
                super::sourcehut::graphql_error(StatusCode::OK, message)
            }
            Fault::Oversized {
                bytes,
                declare_length,
            } => oversized(*bytes, *declare_length),
            _ => return None,
        };
        Some(Ok(response))
    }

    /// Sends the normal answer, changed by this fault when it is about delivery.
    pub(crate) async fn deliver(
        fault: Option<&Fault>,
        status: StatusCode,
        headers: HeaderMap,
        mut body: Vec<u8>,
    ) -> Result<Response<Body>, Dropped> {
        let mut response = match fault {
            Some(Fault::Delay(delay)) => {
                tokio::time::sleep(*delay).await;
                full(status, "", body)
            }
            Some(Fault::TruncatedJson) => {
                body.truncate(body.len() / 2);
                full(status, "", body)
            }
            Some(Fault::MalformedItem) => full(status, "", malformed_id(body)),
            Some(Fault::HostileItems) => full(status, "", hostile_items(body)),
            Some(Fault::CloseMidBody) => {
                let length = body.len();
                let mut body = Bytes::from(body);
                let half = body.split_to(length / 2);
                let broken = std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "fault: closed mid-body",
                );
                // Hyper flushes what it has before it sees the error only if the error comes later.
                let failure = futures::stream::once(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(broken)
                });
                let chunks = futures::StreamExt::chain(futures::stream::iter([Ok(half)]), failure);
                let mut response = Response::new(streamed(chunks));
                response
                    .headers_mut()
                    .insert(http::header::CONTENT_LENGTH, length.into());
                *response.status_mut() = status;
                response
            }
            _ => full(status, "", body),
        };
        response.headers_mut().extend(headers);
        Ok(response)
    }
}

/// `body` with its first `"id":` followed by digits made `"id":"x"`.
/// The JSON array `body` with [`Fault::HostileItems`]'s items added at its end.
fn hostile_items(mut body: Vec<u8>) -> Vec<u8> {
    let long = format!("https://github.com/{}", "x".repeat(3_000));
    let items = [
        format!(r#"{{"id":1,"html_url":"{long}"}}"#),
        r#"{"id":2,"html_url":"\u001b[31mnot a url\nERROR forged log line"}"#.to_owned(),
        r#"{"id":3,"html_url":"https://github.com/hostile/secret?access_token=s3cr3t-query#ghp_s3cr3t-fragment"}"#.to_owned(),
        r#"{"id":"four","html_url":"https://github.com/hostile/four"}"#.to_owned(),
    ];
    if body.last() == Some(&b']') {
        body.pop();
        for item in items {
            if body.len() > 1 {
                body.push(b',');
            }
            body.extend_from_slice(item.as_bytes());
        }
        body.push(b']');
    }
    body
}

fn malformed_id(mut body: Vec<u8>) -> Vec<u8> {
    const KEY: &[u8] = b"\"id\":";
    let Some(at) = body.windows(KEY.len()).position(|window| window == KEY) else {
        return body;
    };
    let start = at + KEY.len();
    let digits = body[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits > 0 {
        body.splice(start..start + digits, *b"\"x\"");
    }
    body
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `status` with a GitHub-style JSON error body.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
    });
    full(status, "application/json; charset=utf-8", body.to_string())
}

/// GitHub's answer when a bucket is empty.
pub(crate) fn primary_limit(usage: Usage) -> Response<Body> {
    let mut response = json_error(StatusCode::FORBIDDEN, PRIMARY_MESSAGE);
    usage.write_headers(response.headers_mut());
    response
}

/// Bitbucket's answer when a bucket is empty: 429, no header saying for how long.
pub(crate) fn too_many_requests() -> Response<Body> {
    let body =
        r#"{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"}}"#;
    full(StatusCode::TOO_MANY_REQUESTS, "application/json", body)
}

fn oversized(bytes: u64, declare_length: bool) -> Response<Body> {
    const CHUNK: usize = 64 * 1024;
    let filler = Bytes::from(vec![b' '; CHUNK]);
    let inner = bytes.saturating_sub(2);
    let (whole, rest) = (inner / CHUNK as u64, (inner % CHUNK as u64) as usize);
    let chunks = std::iter::once(Bytes::from_static(b"["))
        .chain(std::iter::repeat_n(filler.clone(), whole as usize))
        .chain(std::iter::once(filler.slice(..rest)))
        .chain(std::iter::once(Bytes::from_static(b"]")))
        .map(Ok);
    let mut response = Response::new(streamed(futures::stream::iter(chunks)));
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, header_value("application/json"));
    if declare_length {
        response
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, bytes.max(2).into());
    }
    response
}

/// The faults waiting to be served, and the count of listing requests so far.
#[derive(Debug, Default)]
pub(crate) struct Script {
    served: u64,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    fault: Fault,
    remaining: u32,
    from: u64,
}

impl Script {
    pub(crate) fn inject(&mut self, fault: Fault, times: u32, after_requests: u64) {
        self.entries.push(Entry {
            fault,
            remaining: times,
            from: self.served + after_requests,
        });
    }

    /// Counts one listing request, to `path`, and returns the fault it gets, if any.
    pub(crate) fn next(&mut self, path: &str) -> Option<Fault> {
        let number = self.served;
        self.served += 1;
        let applies = |fault: &Fault| match fault {
            Fault::OnPath { path: only, .. } => only == path,
            _ => true,
        };
        let entry = self
            .entries
            .iter_mut()
            .find(|entry| entry.remaining > 0 && entry.from <= number && applies(&entry.fault))?;
        entry.remaining -= 1;
        let fault = match &entry.fault {
            Fault::OnPath { fault, .. } => (**fault).clone(),
            fault => fault.clone(),
        };
        self.entries.retain(|entry| entry.remaining > 0);
        Some(fault)
    }

    pub(crate) fn served(&self) -> u64 {
        self.served
    }
}
