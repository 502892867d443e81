//! Readers of the headers and bodies that say how long to wait: `Retry-After`, the
//! `X-RateLimit-*` and `RateLimit-*` families, and a JSON error's `message`.
//!
//! None of them panics on any input: an unreadable value is `None`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

/// `RateLimit-Reset` values above this are epoch timestamps (GitLab), not seconds to wait.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// The `Retry-After` delay from now: delay-seconds, or an HTTP-date in any of the three
/// RFC 9110 formats (a date in the past is a zero delay).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, SystemTime::now())
}

/// [`retry_after`], from `now`.
pub fn retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(text(headers, "retry-after")?, now)
}

/// Parses a `Retry-After` value.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What the quota headers say is left, and how long until the quota resets (`X-RateLimit-*`
/// as GitHub sends them, or `RateLimit-*` as GitLab does), whether or not it is spent.
pub fn quota_left(headers: &HeaderMap, now: SystemTime) -> Option<(u64, Option<Duration>)> {
    quota_families(headers, now).into_iter().flatten().next()
}

/// How long until the quota resets, when the headers say it is spent: `X-RateLimit-Remaining:
/// 0` with `X-RateLimit-Reset` (epoch seconds, GitHub), `RateLimit-Remaining: 0` with
/// `RateLimit-Reset` (seconds, or an epoch timestamp as GitLab sends), or the structured
/// `RateLimit: "default";r=0;t=30`.
pub fn quota_reset_in(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let families = quota_families(headers, now).into_iter().flatten();
    let spent = families
        .filter(|(left, _)| *left == 0)
        .find_map(|(_, reset)| reset);
    spent.or_else(|| structured_reset_in(text(headers, "ratelimit")?))
}

/// What is left and the time to the reset, as `X-RateLimit-*` says, then as `RateLimit-*`
/// says (a reset above [`EPOCH_THRESHOLD`] is an epoch timestamp, else seconds).
fn quota_families(headers: &HeaderMap, now: SystemTime) -> [Option<(u64, Option<Duration>)>; 2] {
    let epoch = |seconds: u64| {
        let at = UNIX_EPOCH.checked_add(Duration::from_secs(seconds))?;
        Some(at.duration_since(now).unwrap_or(Duration::ZERO))
    };
    let github = number(headers, "x-ratelimit-remaining")
        .map(|left| (left, number(headers, "x-ratelimit-reset").and_then(epoch)));
    let reset = match number(headers, "ratelimit-reset") {
        Some(reset) if reset > EPOCH_THRESHOLD => epoch(reset),
        reset => reset.map(Duration::from_secs),
    };
    let ietf = number(headers, "ratelimit-remaining").map(|left| (left, reset));
    [github, ietf]
}

/// The `t` of a structured `RateLimit` field whose `r` is 0.
fn structured_reset_in(value: &str) -> Option<Duration> {
    let param = |name: &str| {
        value.split([';', ',']).find_map(|param| {
            let (key, value) = param.split_once('=')?;
            (key.trim() == name)
                .then(|| value.trim().parse::<u64>().ok())
                .flatten()
        })
    };
    (param("r")? == 0)
        .then(|| param("t").map(Duration::from_secs))
        .flatten()
}

/// The `message` of a JSON error body (`{"message": …}`, or Bitbucket's
/// `{"error": {"message": …}}`).
pub fn json_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value
        .get("message")
        .or_else(|| value.get("error")?.get("message"))?;
    message.as_str().map(str::to_owned)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    text(headers, name)?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_left_reads_either_family() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let github = headers(&[
            ("x-ratelimit-remaining", "4321"),
            ("x-ratelimit-reset", "1700000600"),
        ]);
        assert_eq!(
            quota_left(&github, now),
            Some((4321, Some(Duration::from_secs(600))))
        );
        let gitlab = headers(&[("ratelimit-remaining", "7"), ("ratelimit-reset", "30")]);
        assert_eq!(
            quota_left(&gitlab, now),
            Some((7, Some(Duration::from_secs(30))))
        );
        assert_eq!(
            quota_left(&headers(&[("ratelimit-remaining", "x")]), now),
            None
        );
        assert_eq!(quota_left(&HeaderMap::new(), now), None);
    }
    use proptest::prelude::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (http::HeaderName::from_static(name), value.parse().unwrap()))
            .collect()
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn retry_after_in_every_form() {
        let now = at(784_111_000); // 1994-11-06T08:36:40Z
        let expected = Some(Duration::from_secs(777));
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            expected
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now),
            expected
        );
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:37 1994", now), expected);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn quota_reset_forms() {
        let now = at(1_700_000_000);
        let github = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000060"),
        ]);
        assert_eq!(quota_reset_in(&github, now), Some(Duration::from_secs(60)));
        let left = headers(&[
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", "1700000060"),
        ]);
        assert_eq!(quota_reset_in(&left, now), None);
        let seconds = headers(&[("ratelimit-remaining", "0"), ("ratelimit-reset", "30")]);
        assert_eq!(quota_reset_in(&seconds, now), Some(Duration::from_secs(30)));
        let gitlab = headers(&[
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "1700000090"),
        ]);
        assert_eq!(quota_reset_in(&gitlab, now), Some(Duration::from_secs(90)));
        let past = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1600000000"),
        ]);
        assert_eq!(quota_reset_in(&past, now), Some(Duration::ZERO));
        let structured = headers(&[("ratelimit", "\"default\";r=0;t=42")]);
        assert_eq!(
            quota_reset_in(&structured, now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            quota_reset_in(&headers(&[("ratelimit", "\"default\";r=5;t=42")]), now),
            None
        );
    }

    #[test]
    fn json_messages() {
        assert_eq!(
            json_message(br#"{"message":"Not Found"}"#).as_deref(),
            Some("Not Found")
        );
        assert_eq!(
            json_message(br#"{"type":"error","error":{"message":"Slow"}}"#).as_deref(),
            Some("Slow")
        );
        assert_eq!(json_message(b"<html>"), None);
        assert_eq!(json_message(br#"{"message":3}"#), None);
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("ab", 3), "ab");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(value in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..64), now in any::<u64>()) {
            let now = UNIX_EPOCH.checked_add(Duration::from_secs(now)).unwrap_or(UNIX_EPOCH);
            let _ = parse_retry_after(&value, now);
            let _ = structured_reset_in(&value);
            let _ = json_message(value.as_bytes());
            let _ = json_message(&bytes);
            let _ = truncate(&value, 5);
            if let Ok(header) = http::HeaderValue::from_str(&value) {
                let mut map = HeaderMap::new();
                for name in ["retry-after", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-remaining", "ratelimit-reset", "ratelimit"] {
                    map.insert(name, header.clone());
                }
                let _ = retry_after_at(&map, now);
                let _ = quota_reset_in(&map, now);
            }
        }

        #[test]
        fn delay_seconds_round_trip(seconds in any::<u64>()) {
            prop_assert_eq!(parse_retry_after(&seconds.to_string(), UNIX_EPOCH), Some(Duration::from_secs(seconds)));
        }
    }
}
