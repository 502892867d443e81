//! A GitHub-shaped test lister and helpers to fetch pages from the fake forge.

use std::sync::Arc;
use std::time::Duration;

use lister_core::{
    Classification, Fetched, IndexingLister, NextPage, Origin, Page, PageResponse, ParseError,
    QuotaSignal, RunContext, Validators,
};
use lister_http::{
    Error, HttpPageSource, TransportConfig, VirtualClock, json_message, next_link, query_param,
    retry_after,
};
use lister_tests::fake_forge::FakeForge;
use url::Url;

/// Simplify = map `html_url`; next page = the `Link` header's `since`.
#[derive(Debug, Clone)]
pub(crate) struct GithubLike;

#[derive(serde::Deserialize)]
struct Repo {
    id: Option<u64>,
    html_url: String,
}

impl IndexingLister for GithubLike {
    type Index = u64;
    const NAME: &'static str = "github";
    const DEFAULT_BASE_URL: &'static str = "https://api.github.com";
    const PATH_TEMPLATE: &'static str = "/repositories?since={index}";
    const VISIT_TYPE: &'static str = "git";

    fn first_index(&self) -> u64 {
        0
    }

    fn simplify(&self, response: &PageResponse) -> Result<Vec<Origin>, ParseError> {
        let repos: Vec<Option<Repo>> = response.json()?;
        let repos = repos.into_iter().flatten().filter(|repo| repo.id.is_some());
        Ok(repos
            .map(|repo| Origin::new(repo.html_url, Self::VISIT_TYPE))
            .collect())
    }

    fn next_page(&self, response: &PageResponse) -> Result<Option<NextPage<u64>>, ParseError> {
        let Some(url) = next_link(&response.headers, &response.url) else {
            return Ok(None);
        };
        let index = query_param(&url, "since").and_then(|since| since.parse().ok());
        let index = index.ok_or_else(|| ParseError::new(format!("no `since` in {url}")))?;
        Ok(Some(NextPage { url, index }))
    }

    fn request_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("accept", "application/vnd.github+json"),
            ("x-github-api-version", "2022-11-28"),
        ]
    }

    /// GitHub's secondary limit: wait `retry-after`, else at least a minute.
    fn classify(&self, response: &PageResponse) -> Option<Classification> {
        let message = json_message(&response.body)?;
        let secondary = matches!(response.status.as_u16(), 403 | 429)
            && message.contains("secondary rate limit");
        secondary.then(|| {
            let retry_after = retry_after(&response.headers);
            Classification::Quota(QuotaSignal::SlowDown {
                retry_after,
                at_least: Duration::from_secs(60),
            })
        })
    }
}

/// A configuration on a virtual clock, with short backoffs.
pub(crate) fn config() -> (TransportConfig, Arc<VirtualClock>) {
    let clock = Arc::new(VirtualClock::new());
    let config = TransportConfig {
        clock: clock.clone(),
        request_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    (config, clock)
}

/// Panics unless `url` is on the loopback interface: no test reaches the network.
pub(crate) fn assert_loopback(url: &Url) {
    let host = url.host_str().unwrap_or_default();
    assert!(
        host.starts_with("127.") || host == "localhost",
        "not a loopback URL: {url}"
    );
}

/// A source for the fake's GitHub endpoint.
pub(crate) fn source(forge: &FakeForge, config: TransportConfig) -> HttpPageSource<GithubLike> {
    let base = forge.github_url();
    assert_loopback(&base);
    HttpPageSource::new(Arc::new(GithubLike), &base, config)
        .expect("a loopback base URL is accepted")
}

/// The URL of the page after `since`.
pub(crate) fn page_url(forge: &FakeForge, since: u64) -> Url {
    lister_core::page_url(&forge.github_url(), GithubLike::PATH_TEMPLATE, &since).unwrap()
}

/// Fetches one page with a fresh context.
pub(crate) async fn fetch(
    source: &HttpPageSource<GithubLike>,
    url: &Url,
) -> Result<Fetched<u64>, Error> {
    fetch_with(source, url, None, &RunContext::default()).await
}

/// Fetches one page.
pub(crate) async fn fetch_with(
    source: &HttpPageSource<GithubLike>,
    url: &Url,
    known: Option<&Validators>,
    context: &RunContext,
) -> Result<Fetched<u64>, Error> {
    assert_loopback(url);
    source.fetch_page(url, known, context).await
}

/// The page, or a panic naming what came instead.
pub(crate) fn page(fetched: Result<Fetched<u64>, Error>) -> Page<u64> {
    match fetched {
        Ok(Fetched::Page(page)) => page,
        Ok(Fetched::NotModified) => panic!("unexpected 304"),
        Ok(Fetched::Unparsed(_)) => panic!("fetch_page parses at once"),
        Err(error) => panic!("fetch failed: {error}"),
    }
}

/// Asserts a duration is within `slack` of `expected`.
pub(crate) fn assert_near(actual: Duration, expected: Duration, slack: Duration) {
    let gap = actual.abs_diff(expected);
    assert!(
        gap <= slack,
        "{actual:?} is not within {slack:?} of {expected:?}"
    );
}
