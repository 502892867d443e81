//! Per-credential request quotas, GitHub style: a limit per bucket and a reset time.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use super::payload::base64;

/// How quotas start.
#[derive(Debug, Clone)]
pub struct QuotaConfig {
    /// Requests allowed per token (or Basic credential) per window.
    pub token_limit: u64,
    /// Requests allowed per window to anonymous clients (one shared bucket).
    pub anonymous_limit: u64,
    /// When a fresh window resets, from the first request of that window.
    pub reset_after: Duration,
}

impl Default for QuotaConfig {
    /// GitHub's numbers: 5,000 per token and 60 anonymous requests per hour.
    fn default() -> Self {
        QuotaConfig {
            token_limit: 5_000,
            anonymous_limit: 60,
            reset_after: Duration::from_secs(3_600),
        }
    }
}

/// Whose quota a request spends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QuotaKey {
    /// Requests without credentials.
    Anonymous,
    /// A token sent as `Authorization: Bearer X`, `Authorization: token X` or GitLab's
    /// `PRIVATE-TOKEN: X` (or as Conduit's `api.token` form field).
    Token(String),
    /// A Basic credential, as its base64 `user:password` form.
    Basic(String),
}

impl QuotaKey {
    /// The bucket of a token.
    pub fn token(token: &str) -> QuotaKey {
        QuotaKey::Token(token.to_owned())
    }

    /// The bucket of a Basic credential.
    pub fn basic(user: &str, password: &str) -> QuotaKey {
        QuotaKey::Basic(base64(format!("{user}:{password}").as_bytes()))
    }

    /// The bucket a request's `PRIVATE-TOKEN` or `Authorization` header names (anonymous
    /// without one).
    pub fn of(headers: &HeaderMap) -> QuotaKey {
        if let Some(token) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
            return QuotaKey::Token(token.trim().to_owned());
        }
        let Some(value) = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return QuotaKey::Anonymous;
        };
        let (scheme, credential) = value.trim().split_once(' ').unwrap_or((value, ""));
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" | "token" => QuotaKey::Token(credential.trim().to_owned()),
            "basic" => QuotaKey::Basic(credential.trim().to_owned()),
            _ => QuotaKey::Anonymous,
        }
    }
}

/// The quota state after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) limit: u64,
    pub(crate) used: u64,
    /// Epoch seconds.
    pub(crate) reset: u64,
}

impl Usage {
    pub(crate) fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    /// Writes GitHub's `x-ratelimit-*` headers.
    pub(crate) fn write_headers(&self, headers: &mut HeaderMap) {
        let numbers = [
            ("x-ratelimit-limit", self.limit),
            ("x-ratelimit-remaining", self.remaining()),
            ("x-ratelimit-used", self.used),
            ("x-ratelimit-reset", self.reset),
        ];
        for (name, value) in numbers {
            headers.insert(name, value.into());
        }
        headers.insert(
            "x-ratelimit-resource",
            http::HeaderValue::from_static("core"),
        );
    }
}

#[derive(Debug)]
pub(crate) struct Quotas {
    config: QuotaConfig,
    /// Per-bucket limits and reset windows.
    overrides: HashMap<QuotaKey, (u64, Option<Duration>)>,
    buckets: HashMap<QuotaKey, Usage>,
    /// Requests refused because their bucket was empty.
    refused: u64,
    /// The requests each bucket spent in each of its windows that ended, in order.
    closed: HashMap<QuotaKey, Vec<u64>>,
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Quotas {
    pub(crate) fn new(config: QuotaConfig) -> Self {
        Quotas {
            config,
            overrides: HashMap::new(),
            buckets: HashMap::new(),
            refused: 0,
            closed: HashMap::new(),
        }
    }

    /// Sets the limit (and optionally the reset window) of one bucket, starting a fresh window.
    pub(crate) fn set_limit(&mut self, key: QuotaKey, limit: u64, reset_after: Option<Duration>) {
        self.buckets.remove(&key);
        self.overrides.insert(key, (limit, reset_after));
    }

    /// Sets when windows reset, from now; starts fresh windows.
    pub(crate) fn set_reset_after(&mut self, reset_after: Duration) {
        self.config.reset_after = reset_after;
        self.buckets.clear();
    }

    /// Refills every bucket.
    pub(crate) fn refill(&mut self) {
        self.buckets.clear();
    }

    /// The requests the bucket spent in its current window (0 before its first request).
    pub(crate) fn used(&self, key: &QuotaKey) -> u64 {
        self.buckets.get(key).map_or(0, |usage| usage.used)
    }

    /// The requests a bucket spent in each of its windows that ended (a window starts at the
    /// first request after the last one ended), in order.
    pub(crate) fn closed_windows(&self, key: &QuotaKey) -> Vec<u64> {
        self.closed.get(key).cloned().unwrap_or_default()
    }

    /// The requests refused so far because their bucket was empty (quota errors drawn).
    pub(crate) fn refused(&self) -> u64 {
        self.refused
    }

    /// The bucket's usage, after spending one request when `spend` and the bucket is not
    /// empty; `Err` with the usage when it is empty.
    pub(crate) fn charge(&mut self, key: &QuotaKey, spend: bool) -> Result<Usage, Usage> {
        let now = epoch_now();
        let limit = match key {
            QuotaKey::Anonymous => self.config.anonymous_limit,
            _ => self.config.token_limit,
        };
        let (limit, reset_after) = match self.overrides.get(key) {
            Some(&(limit, reset_after)) => (limit, reset_after.unwrap_or(self.config.reset_after)),
            None => (limit, self.config.reset_after),
        };
        let reset_after = reset_after.as_secs();
        let usage = self.buckets.entry(key.clone()).or_insert(Usage {
            limit,
            used: 0,
            reset: now + reset_after,
        });
        if now >= usage.reset {
            self.closed.entry(key.clone()).or_default().push(usage.used);
            *usage = Usage {
                limit,
                used: 0,
                reset: now + reset_after,
            };
        }
        if usage.remaining() == 0 {
            self.refused += u64::from(spend);
            return Err(*usage);
        }
        if spend {
            usage.used += 1;
        }
        Ok(*usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_headers() {
        let key = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
            QuotaKey::of(&headers)
        };
        assert_eq!(key("Bearer abc"), QuotaKey::token("abc"));
        assert_eq!(key("token abc"), QuotaKey::token("abc"));
        assert_eq!(key("Basic dTpw"), QuotaKey::basic("u", "p"));
        let mut gitlab = HeaderMap::new();
        gitlab.insert("private-token", "glpat-abc".parse().unwrap());
        assert_eq!(QuotaKey::of(&gitlab), QuotaKey::token("glpat-abc"));
        assert_eq!(QuotaKey::of(&HeaderMap::new()), QuotaKey::Anonymous);
    }

    #[test]
    fn buckets_run_out_and_refill() {
        let mut quotas = Quotas::new(QuotaConfig::default());
        quotas.set_limit(QuotaKey::token("a"), 2, None);
        let a = QuotaKey::token("a");
        assert_eq!(quotas.charge(&a, true).unwrap().remaining(), 1);
        assert_eq!(quotas.charge(&a, false).unwrap().remaining(), 1);
        assert_eq!(quotas.charge(&a, true).unwrap().remaining(), 0);
        assert!(quotas.charge(&a, true).is_err());
        assert!(quotas.charge(&QuotaKey::token("b"), true).is_ok());
        quotas.refill();
        assert!(quotas.charge(&a, true).is_ok());
    }
}
