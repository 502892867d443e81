//! The default answer to "success, transient, quota wait or fatal?" for a response. A forge's
//! [`Forge::classify`](lister_core::Forge::classify) hook answers first and
//! may hand off to [`default_classification`].

use std::time::{Duration, SystemTime};

use http::StatusCode;
use lister_core::{Classification, PageResponse, QuotaSignal};

use crate::headers::{json_message, quota_reset_in, retry_after_at, truncate};

/// The least wait after a `429` that says nothing about how long (doubled on each repeat).
pub const BARE_429_WAIT: Duration = Duration::from_secs(2);

/// How much of an error body's message goes into a classification.
const MESSAGE_CHARS: usize = 200;

/// The default classification:
///
/// - 2xx: success; 304: not modified;
/// - 403, 429 or 503 with `Retry-After` (seconds or an HTTP-date): slow down for that long
///   (`Retry-After` wins over any reset header);
/// - 403 or 429 whose rate limit headers say the quota is spent (`X-RateLimit-Remaining: 0`
///   with `X-RateLimit-Reset`, `RateLimit-Remaining: 0` with `RateLimit-Reset`): exhausted
///   until the reset (a 200 that spent the last request is still a page);
/// - 429 without those headers: slow down, at least [`BARE_429_WAIT`];
/// - other 5xx and 408: transient; anything else (other 4xx, 3xx): fatal, with the body's
///   JSON `message` if it has one.
pub fn default_classification(response: &PageResponse) -> Classification {
    classify_at(response, SystemTime::now())
}

/// [`default_classification`] at a given time.
pub fn classify_at(response: &PageResponse, now: SystemTime) -> Classification {
    let status = response.status;
    if status.is_success() {
        return Classification::Success;
    }
    if status == StatusCode::NOT_MODIFIED {
        return Classification::NotModified;
    }
    let quota_status = matches!(status.as_u16(), 403 | 429);
    if (quota_status || status == StatusCode::SERVICE_UNAVAILABLE)
        && let Some(delay) = retry_after_at(&response.headers, now)
    {
        return slow_down(Some(delay));
    }
    if quota_status && let Some(reset_in) = quota_reset_in(&response.headers, now) {
        return Classification::Quota(QuotaSignal::Exhausted { reset_in });
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return slow_down(None);
    }
    let description = describe(response);
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        Classification::Transient(description)
    } else {
        Classification::Fatal(description)
    }
}

fn slow_down(retry_after: Option<Duration>) -> Classification {
    Classification::Quota(QuotaSignal::SlowDown {
        retry_after,
        at_least: BARE_429_WAIT,
    })
}

/// `HTTP 404 Not Found: <the JSON message>`, or where a redirect pointed.
pub(crate) fn describe(response: &PageResponse) -> String {
    let mut text = format!("HTTP {}", response.status);
    if response.status.is_redirection() {
        let location = response.header("location").unwrap_or("nowhere");
        text.push_str(&format!(
            " (redirect to {}, not followed)",
            truncate(location, MESSAGE_CHARS)
        ));
    }
    if let Some(message) = json_message(&response.body) {
        text.push_str(": ");
        text.push_str(&truncate(&message, MESSAGE_CHARS));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn response(status: u16, headers: &[(&'static str, &str)], body: &str) -> PageResponse {
        let headers: HeaderMap = headers
            .iter()
            .map(|(name, value)| (http::HeaderName::from_static(name), value.parse().unwrap()))
            .collect();
        PageResponse {
            url: url::Url::parse("https://forge.example.org/list").unwrap(),
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn statuses() {
        let now = at(1_700_000_000);
        let classify = |status: u16| classify_at(&response(status, &[], ""), now);
        assert_eq!(classify(200), Classification::Success);
        assert_eq!(classify(304), Classification::NotModified);
        for status in [500, 502, 503, 504, 408] {
            assert!(
                matches!(classify(status), Classification::Transient(_)),
                "{status}"
            );
        }
        for status in [301, 400, 401, 403, 404, 410, 422] {
            assert!(
                matches!(classify(status), Classification::Fatal(_)),
                "{status}"
            );
        }
        assert_eq!(classify(429), slow_down(None));
    }

    #[test]
    fn quota_headers() {
        let now = at(1_700_000_000);
        let spent = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000100"),
        ];
        let exhausted = Classification::Quota(QuotaSignal::Exhausted {
            reset_in: Duration::from_secs(100),
        });
        assert_eq!(classify_at(&response(403, &spent, ""), now), exhausted);
        assert_eq!(classify_at(&response(429, &spent, ""), now), exhausted);
        assert_eq!(
            classify_at(&response(200, &spent, "[]"), now),
            Classification::Success
        );
        let gitlab = [
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "1700000100"),
        ];
        assert_eq!(classify_at(&response(429, &gitlab, ""), now), exhausted);
        let both = [spent[0], spent[1], ("retry-after", "7")];
        assert_eq!(
            classify_at(&response(403, &both, ""), now),
            slow_down(Some(Duration::from_secs(7)))
        );
        let date = [("retry-after", "Tue, 14 Nov 2023 22:15:00 GMT")];
        assert_eq!(
            classify_at(&response(503, &date, ""), now),
            slow_down(Some(Duration::from_secs(100)))
        );
        assert_eq!(
            classify_at(&response(429, &[("retry-after", "soon")], ""), now),
            slow_down(None)
        );
    }

    #[test]
    fn fatal_names_the_message() {
        let classification = classify_at(&response(404, &[], r#"{"message":"Not Found"}"#), at(0));
        assert_eq!(
            classification,
            Classification::Fatal("HTTP 404 Not Found: Not Found".into())
        );
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(1_000));
        let Classification::Fatal(text) = classify_at(&response(401, &[], &long), at(0)) else {
            panic!()
        };
        assert!(text.len() < 300, "{text}");
        let redirect = classify_at(
            &response(302, &[("location", "https://elsewhere.example/")], ""),
            at(0),
        );
        assert!(matches!(redirect, Classification::Fatal(text) if text.contains("elsewhere")));
    }
}
