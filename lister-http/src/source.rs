//! [`HttpPageSource`]: pages over HTTP, retried when the failure is transient, waited for
//! when the forge answers with a quota signal, rotating credentials as their quotas run out.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderValue, StatusCode};
use lister_core::{
    Classification, FetchError, Fetched, IndexingLister, Page, PageResponse, PageSource,
    ParseError, QuotaSignal, RunContext, RunProgress, UnparsedPage, Validators,
};
use url::Url;

use crate::classify::{classify_at, describe};
use crate::credential::{Pick, Pool};
use crate::error::scrub;
use crate::headers::quota_reset_in;
use crate::schedule::Schedule;
use crate::transport::{Failure, Transport, is_transient, validate_base};
use crate::{Error, TransportConfig};

/// Added to every quota reset: reset times have a one-second resolution.
const RESET_MARGIN: Duration = Duration::from_secs(1);

/// A [`PageSource`] over HTTP for the forge `L`.
#[derive(Debug)]
pub struct HttpPageSource<L> {
    lister: Arc<L>,
    transport: Transport,
    pool: Pool,
    config: TransportConfig,
}

impl<L: IndexingLister> HttpPageSource<L> {
    /// A source for the forge instance at `base_url`: refuses plain `http://` off loopback
    /// (unless `config.allow_insecure_http`) and unusable credentials.
    pub fn new(lister: Arc<L>, base_url: &Url, config: TransportConfig) -> Result<Self, Error> {
        validate_base(base_url, config.allow_insecure_http)?;
        let pool = Pool::new(&config.credentials)?;
        let transport = Transport::new(base_url, L::NAME, lister.request_headers(), &config)?;
        Ok(HttpPageSource {
            lister,
            transport,
            pool,
            config,
        })
    }

    /// Fetches and parses the page at `url` (see [`PageSource::fetch`]), with the typed error.
    pub async fn fetch_page(
        &self,
        url: &Url,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched<L::Index>, Error> {
        self.fetch_with(url, known, context, false).await
    }

    /// Fetches `url`; with `defer_origins` (and a lister that finds the next page in the
    /// headers), leaves the origins to parse ([`Fetched::Unparsed`]).
    async fn fetch_with(
        &self,
        url: &Url,
        known: Option<&Validators>,
        context: &RunContext,
        defer_origins: bool,
    ) -> Result<Fetched<L::Index>, Error> {
        let schedule = Schedule::new(&self.config, self.config.clock.now());
        let mut fetch = Fetch {
            source: self,
            url,
            context,
            schedule,
            attempts: 0,
            quota_waits: 0,
            slow_downs: 0,
            last_status: None,
            defer_origins,
        };
        fetch.run(known).await
    }
}

#[async_trait]
impl<L: IndexingLister> PageSource<L::Index> for HttpPageSource<L> {
    async fn fetch(
        &self,
        url: &Url,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched<L::Index>, FetchError> {
        Ok(self.fetch_page(url, known, context).await?)
    }

    async fn fetch_unparsed(
        &self,
        url: &Url,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched<L::Index>, FetchError> {
        Ok(self.fetch_with(url, known, context, true).await?)
    }
}

/// A transient failure, kept to report if the retries run out.
enum Transient {
    Request(reqwest::Error),
    Status(StatusCode, String),
    Parse(StatusCode, ParseError),
}

/// The fetch of one page: its counters and retry budget.
struct Fetch<'a, L> {
    source: &'a HttpPageSource<L>,
    url: &'a Url,
    context: &'a RunContext,
    schedule: Schedule,
    attempts: u32,
    quota_waits: u32,
    slow_downs: u32,
    last_status: Option<StatusCode>,
    /// Leave the origins to parse when the next page is known without them.
    defer_origins: bool,
}

impl<L: IndexingLister> Fetch<'_, L> {
    async fn run(&mut self, known: Option<&Validators>) -> Result<Fetched<L::Index>, Error> {
        self.source.transport.check(self.url, 0)?;
        loop {
            let (credential, authorization) = self.credential().await?;
            let Some(response) = self.send(authorization.as_ref(), known).await? else {
                continue;
            };
            self.last_status = Some(response.status);
            if let Some(fetched) = self.settle(&response, credential, known.is_some()).await? {
                return Ok(fetched);
            }
        }
    }

    /// The credential to send (its position and header), after waiting if all are spent.
    async fn credential(&mut self) -> Result<(usize, Option<HeaderValue>), Error> {
        loop {
            let now = self.source.config.clock.now();
            match self.source.pool.pick(now) {
                Pick::Use { index, header } => return Ok((index, header)),
                Pick::WaitUntil(until) => {
                    let wait = until.duration_since(now).unwrap_or_default();
                    self.quota_wait(wait, "every credential's quota is spent")
                        .await?;
                }
            }
        }
    }

    /// Sends one request; `None` when it failed transiently and a retry is due.
    async fn send(
        &mut self,
        authorization: Option<&HeaderValue>,
        known: Option<&Validators>,
    ) -> Result<Option<PageResponse>, Error> {
        self.attempts += 1;
        let progress = &self.context.progress;
        RunProgress::add(&progress.requests, 1);
        if self.attempts > 1 {
            RunProgress::add(&progress.retries, 1);
        }
        // A request in flight is not cancelled: the run loop commits its page, then stops.
        match self
            .source
            .transport
            .exchange(self.url, authorization, known)
            .await
        {
            Ok(response) => Ok(Some(response)),
            Err(Failure::TooLarge { status }) => Err(Error::BodyTooLarge {
                url: scrub(self.url),
                status,
                limit: self.source.config.max_body_bytes,
                attempts: self.attempts,
            }),
            Err(Failure::Http(error)) if is_transient(&error) => {
                self.retry(Transient::Request(error.without_url())).await?;
                Ok(None)
            }
            Err(Failure::Http(error)) => Err(self.request_error(error, false)),
        }
    }

    /// Acts on a response: the page, a retry or a wait (`None`), or the error that ends it.
    async fn settle(
        &mut self,
        response: &PageResponse,
        credential: usize,
        conditional: bool,
    ) -> Result<Option<Fetched<L::Index>>, Error> {
        let (source, status) = (self.source, response.status);
        let now = source.config.clock.now();
        // The default classifier reads reset times against the configured clock.
        let classification = source
            .lister
            .classify(response)
            .unwrap_or_else(|| classify_at(response, now));
        match classification {
            Classification::Success => match self.parse(response) {
                Ok(page) => {
                    // A next link off the base URL fails the page: no request goes there.
                    let next = match &page {
                        Fetched::Page(page) => page.next.as_ref(),
                        Fetched::Unparsed(page) => page.next.as_ref(),
                        Fetched::NotModified => None,
                    };
                    if let Some(next) = next {
                        source.transport.check(&next.url, self.attempts)?;
                    }
                    // A page that spent the last request: rest this credential until the reset.
                    if let Some(reset_in) = quota_reset_in(&response.headers, now) {
                        source.pool.spend(credential, now + reset_in + RESET_MARGIN);
                    }
                    return Ok(Some(page));
                }
                Err(error) => self.retry(Transient::Parse(status, error)).await?,
            },
            Classification::NotModified if conditional => return Ok(Some(Fetched::NotModified)),
            Classification::NotModified => {
                let reason = "HTTP 304 Not Modified to a request that was not conditional";
                return Err(self.status_error(status, reason.to_owned(), false));
            }
            Classification::Transient(reason) => {
                self.retry(Transient::Status(status, reason)).await?;
            }
            Classification::Quota(QuotaSignal::Exhausted { reset_in }) => {
                tracing::info!(url = %scrub(self.url), credential, ?reset_in, "quota spent");
                source.pool.spend(credential, now + reset_in + RESET_MARGIN);
            }
            Classification::Quota(QuotaSignal::SlowDown {
                retry_after,
                at_least,
            }) => {
                let wait = retry_after.unwrap_or_else(|| {
                    self.slow_downs += 1;
                    let doubled = at_least.saturating_mul(1 << (self.slow_downs - 1).min(16));
                    doubled.min(source.config.max_quota_wait)
                });
                self.quota_wait(wait, "the forge asks to slow down").await?;
            }
            Classification::Fatal(reason) => return Err(self.status_error(status, reason, false)),
            _ => return Err(self.status_error(status, describe(response), false)),
        }
        Ok(None)
    }

    /// The page in a successful response (a parse error is transient: the caller retries).
    fn parse(&self, response: &PageResponse) -> Result<Fetched<L::Index>, ParseError> {
        let lister = &self.source.lister;
        let validators = Validators {
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
        };
        let next = lister.next_page(response)?;
        if self.defer_origins && L::NEXT_PAGE_FROM_HEADERS {
            let (lister, response) = (Arc::clone(lister), response.clone());
            return Ok(Fetched::Unparsed(UnparsedPage {
                next,
                validators,
                origins: Box::new(move || lister.simplify(&response)),
            }));
        }
        Ok(Fetched::Page(Page {
            origins: lister.simplify(response)?,
            next,
            validators,
        }))
    }

    /// Backs off after a transient failure, or gives up with it.
    async fn retry(&mut self, failure: Transient) -> Result<(), Error> {
        let Some(delay) = self.schedule.after_failure(self.source.config.clock.now()) else {
            return Err(match failure {
                Transient::Request(error) => self.request_error(error, true),
                Transient::Status(status, reason) => self.status_error(status, reason, true),
                Transient::Parse(status, source) => Error::Parse {
                    url: scrub(self.url),
                    status,
                    attempts: self.attempts,
                    source,
                },
            });
        };
        let reason = match &failure {
            Transient::Request(error) => error.to_string(),
            Transient::Status(_, reason) => reason.clone(),
            Transient::Parse(_, error) => error.to_string(),
        };
        tracing::warn!(url = %scrub(self.url), attempt = self.attempts, ?delay, %reason, "transient failure; retrying");
        self.sleep(delay).await
    }

    /// Waits for quota, within the configured bounds, showing a countdown in the progress.
    async fn quota_wait(&mut self, wait: Duration, why: &str) -> Result<(), Error> {
        let config = &self.source.config;
        let (url, attempts, status) = (scrub(self.url), self.attempts, self.last_status);
        if wait > config.max_quota_wait {
            return Err(Error::QuotaWaitTooLong {
                url,
                status,
                wait,
                max: config.max_quota_wait,
                attempts,
            });
        }
        if self.quota_waits >= config.max_quota_waits {
            return Err(Error::QuotaWaitsExhausted {
                url,
                status,
                waits: self.quota_waits,
                attempts,
            });
        }
        self.quota_waits += 1;
        tracing::info!(%url, ?wait, waits = self.quota_waits, "{why}; waiting");
        let progress = &self.context.progress;
        progress.set_waiting_until(Some(tokio::time::Instant::now() + wait));
        let slept = self.sleep(wait).await;
        progress.set_waiting_until(None);
        progress.add_quota_wait(wait);
        self.schedule.exclude(wait);
        slept
    }

    /// Sleeps on the configured clock; cancellation ends it at once.
    async fn sleep(&self, duration: Duration) -> Result<(), Error> {
        tokio::select! {
            () = self.source.config.clock.sleep(duration) => Ok(()),
            () = self.context.cancel.cancelled() => Err(self.cancelled()),
        }
    }

    fn cancelled(&self) -> Error {
        Error::Cancelled {
            url: scrub(self.url),
            attempts: self.attempts,
        }
    }

    fn request_error(&self, error: reqwest::Error, retryable: bool) -> Error {
        Error::Request {
            url: scrub(self.url),
            attempts: self.attempts,
            retryable,
            source: error.without_url(),
        }
    }

    fn status_error(&self, status: StatusCode, reason: String, retryable: bool) -> Error {
        Error::Status {
            url: scrub(self.url),
            status,
            reason,
            attempts: self.attempts,
            retryable,
        }
    }
}
