//! [`HttpSource`]: page requests over HTTP, retried when the failure is transient, waited
//! for when the forge answers with a quota signal, rotating credentials as their quotas run
//! out.

use crate::pace::Pace;
use crate::robots::Robots;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use http::{HeaderValue, StatusCode};
use lister_core::{
    Classification, FetchError, Fetched, Forge, PageRequest, PageResponse, PageSource, QuotaSignal,
    RunContext, RunProgress, Validators,
};

use crate::app::{GithubApp, read_token};
use crate::classify::{classify_at, describe};
use crate::credential::{Pick, Pool, Presented};
use crate::error::scrub;
use crate::headers::{quota_left, quota_reset_in};
use crate::schedule::Schedule;
use crate::transport::{Failure, Transport, is_transient, validate_base};
use crate::{Error, TransportConfig};

/// Added to every quota reset: reset times have a one-second resolution.
const RESET_MARGIN: Duration = Duration::from_secs(1);

/// A [`PageSource`] over HTTP for the forge `F` at one instance.
#[derive(Debug)]
pub struct HttpSource<F> {
    forge: Arc<F>,
    transport: Transport,
    pool: Pool,
    pace: Pace,
    robots: Robots,
    config: TransportConfig,
}

impl<F: Forge> HttpSource<F> {
    /// A source for the forge instance whose API base is `api`: refuses plain `http://` off
    /// loopback (unless `config.allow_insecure_http`), unusable credentials, and no credential
    /// for a forge that needs one.
    pub fn new(forge: Arc<F>, api: &url::Url, config: TransportConfig) -> Result<Self, Error> {
        validate_base(api, config.allow_insecure_http)?;
        if F::NEEDS_CREDENTIAL && config.credentials.is_empty() {
            return Err(Error::CredentialNeeded { forge: F::NAME });
        }
        let pool = Pool::new(&config.credentials, F::AUTH)?;
        let transport = Transport::new(api, F::NAME, F::HEADERS, &config)?;
        let transport = transport.with_other_hosts(F::OTHER_HOSTS);
        let pace = Pace::new(config.max_concurrency, config.rate, config.clock.clone());
        Ok(HttpSource {
            forge,
            transport,
            pool,
            pace,
            robots: Robots::default(),
            config,
        })
    }

    /// Sends `request` (see [`PageSource::fetch`]), with the typed error.
    pub async fn fetch_page(
        &self,
        request: &PageRequest,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched, Error> {
        if F::WEBSITE && self.transport.is_base(&request.url) {
            let rules = self.robots.check(&self.transport, &request.url).await?;
            if let Some(delay) = rules.crawl_delay() {
                self.pace.slow_to(delay);
            }
        }
        let schedule = Schedule::new(&self.config, self.config.clock.now());
        let mut fetch = Fetch {
            source: self,
            request,
            context,
            schedule,
            attempts: 0,
            quota_waits: 0,
            slow_downs: 0,
            last_status: None,
        };
        fetch.run(known).await
    }
}

#[async_trait]
impl<F: Forge> PageSource for HttpSource<F> {
    async fn fetch(
        &self,
        request: &PageRequest,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched, FetchError> {
        Ok(self.fetch_page(request, known, context).await?)
    }

    fn is_absent(&self, error: &FetchError) -> bool {
        let status = error.downcast_ref::<Error>().and_then(Error::status);
        status.is_some_and(|status| [403, 404, 410].contains(&status.as_u16()))
    }
}

/// A transient failure, kept to report if the retries run out.
enum Transient {
    Request(reqwest::Error),
    Status(StatusCode, String),
}

/// The fetch of one page: its counters and retry budget.
struct Fetch<'a, F> {
    source: &'a HttpSource<F>,
    request: &'a PageRequest,
    context: &'a RunContext,
    schedule: Schedule,
    attempts: u32,
    quota_waits: u32,
    slow_downs: u32,
    last_status: Option<StatusCode>,
}

impl<F: Forge> Fetch<'_, F> {
    async fn run(&mut self, known: Option<&Validators>) -> Result<Fetched, Error> {
        self.source.transport.check(&self.request.url, 0)?;
        loop {
            // A credential goes only to the instance, never to another host the forge names.
            let base = self.source.transport.is_base(&self.request.url);
            let (credential, presented) = match base {
                true => self.credential().await?,
                false => (0, None),
            };
            let sent = self.send(presented.as_ref(), known).await;
            if base {
                let now = self.source.config.clock.now();
                let answer = sent.as_ref().ok().and_then(Option::as_ref);
                let quota = answer.and_then(|response| quota_left(&response.headers, now));
                let quota = quota.map(|(left, reset_in)| (left, reset_in.map(|in_| now + in_)));
                self.source.pool.settle(credential, quota);
            }
            let Some(response) = sent? else {
                continue;
            };
            self.last_status = Some(response.status);
            if let Some(fetched) = self.settle(response, credential, known.is_some()).await? {
                return Ok(fetched);
            }
        }
    }

    /// The credential to send (its position and presentation), after waiting if all are
    /// spent.
    async fn credential(&mut self) -> Result<(usize, Option<Presented>), Error> {
        loop {
            let now = self.source.config.clock.now();
            // Enabled before the pick, so that a request settling meanwhile wakes it.
            let settled = self.source.pool.settled.notified();
            let mut settled = std::pin::pin!(settled);
            settled.as_mut().enable();
            match self.source.pool.pick(now) {
                Pick::Use { index, presented } => return Ok((index, presented)),
                Pick::Busy => settled.await,
                Pick::WaitUntil(until) => {
                    let wait = until.duration_since(now).unwrap_or_default();
                    self.quota_wait(wait, "every credential's quota is spent")
                        .await?;
                }
                Pick::Mint(index, app) => self.mint(index, &app, now).await?,
            }
        }
    }

    /// Trades the app's JWT for an installation token, and installs it in the pool.
    async fn mint(&mut self, index: usize, app: &GithubApp, now: SystemTime) -> Result<(), Error> {
        let transport = &self.source.transport;
        let url = lister_core::page_url(transport.base(), &app.token_path(), "").map_err(|e| {
            Error::Client {
                reason: e.to_string(),
            }
        })?;
        let mut jwt =
            HeaderValue::from_str(&format!("Bearer {}", app.jwt(now)?)).map_err(|_| {
                Error::Client {
                    reason: "the app's JWT is no header value".into(),
                }
            })?;
        jwt.set_sensitive(true);
        let request = PageRequest::post_json(url.clone(), serde_json::json!({}))
            .with_header("Accept", "application/vnd.github+json");
        let presented = Presented::Header(http::header::AUTHORIZATION, jwt);
        RunProgress::add(&self.context.progress.requests, 1);
        let minted = {
            let _slot = self.source.pace.admit().await;
            transport.exchange(&request, Some(&presented), None).await
        };
        let failed = |status: Option<StatusCode>, reason: String| Error::AppToken {
            url: scrub(&url),
            status,
            reason: self.source.pool.redact(&reason),
        };
        let response = match minted {
            Ok(response) => response,
            Err(Failure::Http(error)) => return Err(failed(None, error.without_url().to_string())),
            Err(_) => return Err(failed(None, "the answer could not be read".into())),
        };
        let token = response
            .status
            .is_success()
            .then(|| read_token(&response.body));
        let Some(Some((token, expires))) = token else {
            let text = String::from_utf8_lossy(&response.body)
                .chars()
                .take(200)
                .collect();
            return Err(failed(Some(response.status), text));
        };
        tracing::info!(app = ?app, "minted a GitHub App installation token");
        self.source.pool.install(index, &token, expires)
    }

    /// Sends one request; `None` when it failed transiently and a retry is due.
    async fn send(
        &mut self,
        presented: Option<&Presented>,
        known: Option<&Validators>,
    ) -> Result<Option<PageResponse>, Error> {
        self.attempts += 1;
        let progress = &self.context.progress;
        RunProgress::add(&progress.requests, 1);
        if self.attempts > 1 {
            RunProgress::add(&progress.retries, 1);
        }
        let _slot = self.source.pace.admit().await;
        match self
            .source
            .transport
            .exchange(self.request, presented, known)
            .await
        {
            Ok(response) => Ok(Some(response)),
            Err(Failure::BadHeader) => Err(Error::Client {
                reason: format!(
                    "a header of the request to {} cannot be sent",
                    scrub(&self.request.url)
                ),
            }),
            Err(Failure::TooLarge { status }) => Err(Error::BodyTooLarge {
                url: scrub(&self.request.url),
                status,
                limit: self.source.config.max_body_bytes,
                attempts: self.attempts,
            }),
            Err(Failure::Gzip { status, error }) => Err(Error::Gzip {
                url: scrub(&self.request.url),
                status,
                source: error,
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
        response: PageResponse,
        credential: usize,
        conditional: bool,
    ) -> Result<Option<Fetched>, Error> {
        let (source, status) = (self.source, response.status);
        let now = source.config.clock.now();
        if let Some((left, reset_in)) = quota_left(&response.headers, now) {
            self.context.progress.set_quota(credential, left, reset_in);
        }
        // The default classifier reads reset times against the configured clock.
        let classification = source
            .forge
            .classify(&response)
            .unwrap_or_else(|| classify_at(&response, now));
        match classification {
            Classification::Success => {
                // A page that spent the last request: rest this credential until the reset.
                if let Some(reset_in) = quota_reset_in(&response.headers, now) {
                    source.pool.spend(credential, now + reset_in + RESET_MARGIN);
                }
                return Ok(Some(Fetched::Page(response)));
            }
            Classification::NotModified if conditional => return Ok(Some(Fetched::NotModified)),
            Classification::NotModified => {
                let reason = "HTTP 304 Not Modified to a request that was not conditional";
                return Err(self.status_error(status, reason.to_owned(), false));
            }
            Classification::Transient(reason) => {
                self.retry(Transient::Status(status, reason)).await?;
            }
            Classification::Quota(QuotaSignal::Exhausted { reset_in }) => {
                tracing::info!(url = %scrub(&self.request.url), credential, ?reset_in, "quota spent");
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
            Classification::Fatal(_)
                if status == StatusCode::UNAUTHORIZED && source.pool.refuse(credential) =>
            {
                tracing::warn!(url = %scrub(&self.request.url), credential, "the forge refused credential #{credential} (HTTP 401); going on without it");
            }
            Classification::Fatal(reason) => return Err(self.status_error(status, reason, false)),
            _ => return Err(self.status_error(status, describe(&response), false)),
        }
        Ok(None)
    }

    /// Backs off after a transient failure, or gives up with it.
    async fn retry(&mut self, failure: Transient) -> Result<(), Error> {
        let Some(delay) = self.schedule.after_failure(self.source.config.clock.now()) else {
            return Err(match failure {
                Transient::Request(error) => self.request_error(error, true),
                Transient::Status(status, reason) => self.status_error(status, reason, true),
            });
        };
        let reason = match &failure {
            Transient::Request(error) => crate::error::causes(error),
            Transient::Status(_, reason) => self.source.pool.redact(reason),
        };
        tracing::warn!(url = %scrub(&self.request.url), attempt = self.attempts, ?delay, %reason, "transient failure; retrying");
        self.sleep(delay).await
    }

    /// Waits for quota, within the configured bounds, showing a countdown in the progress.
    async fn quota_wait(&mut self, wait: Duration, why: &str) -> Result<(), Error> {
        let config = &self.source.config;
        let (url, attempts, status) = (scrub(&self.request.url), self.attempts, self.last_status);
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
            url: scrub(&self.request.url),
            attempts: self.attempts,
        }
    }

    fn request_error(&self, error: reqwest::Error, retryable: bool) -> Error {
        Error::Request {
            url: scrub(&self.request.url),
            attempts: self.attempts,
            retryable,
            source: error.without_url(),
        }
    }

    fn status_error(&self, status: StatusCode, reason: String, retryable: bool) -> Error {
        Error::Status {
            url: scrub(&self.request.url),
            status,
            reason: self.source.pool.redact(&reason),
            attempts: self.attempts,
            retryable,
        }
    }
}
