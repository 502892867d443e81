//! The knobs of the transport, with defaults fit for the public forges.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::credential::Credential;

/// How the transport talks to one forge instance. Build it with struct update syntax:
/// `TransportConfig { credentials, ..TransportConfig::default() }`.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Time allowed to open a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included (default 60 s).
    pub request_timeout: Duration,
    /// The largest body read, and the most a gzip body may decompress to; a larger one fails
    /// the page without being buffered (default 32 MiB).
    pub max_body_bytes: u64,
    /// The longest single quota wait accepted; a forge asking for more fails the page with
    /// an error naming the wait (default 1 h).
    pub max_quota_wait: Duration,
    /// Quota waits allowed for one page before giving up (default 12).
    pub max_quota_waits: u32,
    /// Attempts at a page that fails transiently (5xx, resets, timeouts, bodies cut short)
    /// before giving up (default 8). Quota answers do not count.
    pub max_attempts: u32,
    /// Time allowed for the retries of one page (default 10 min), quota waits excluded.
    pub max_retry_time: Duration,
    /// The first backoff delay; later ones grow exponentially, with jitter (default 1 s).
    pub backoff_initial: Duration,
    /// The longest backoff delay (default 60 s).
    pub backoff_max: Duration,
    /// Credentials, used one at a time until each one's quota is spent (default none:
    /// anonymous requests).
    pub credentials: Vec<Credential>,
    /// Whether a plain `http://` base URL is accepted for a host other than loopback
    /// (default false).
    pub allow_insecure_http: bool,
    /// Text appended to the `User-Agent` (an operator's contact, say).
    pub user_agent_suffix: Option<String>,
    /// Requests in flight at once to the instance, retries and sub-listings included
    /// (default no bound).
    pub max_concurrency: Option<usize>,
    /// Requests started a second, at most (default no bound).
    pub rate: Option<f64>,
    /// The clock of quota waits, backoff sleeps and the rate's pauses (default real time).
    pub clock: Arc<dyn Clock>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 32 * 1024 * 1024,
            max_quota_wait: Duration::from_secs(3_600),
            max_quota_waits: 12,
            max_attempts: 8,
            max_retry_time: Duration::from_secs(600),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            credentials: Vec::new(),
            allow_insecure_http: false,
            user_agent_suffix: None,
            max_concurrency: None,
            rate: None,
            clock: Arc::new(SystemClock),
        }
    }
}
