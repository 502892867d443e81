//! A GitHub-shaped test forge and helpers to fetch its pages from the fake forge.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use lister_core::{
    Auth, Classification, Fetched, Forge, NextCursor, Origin, PageRequest, PageResponse,
    QuotaSignal, RunContext, Validators,
};
use lister_http::{Error, HttpSource, TransportConfig, VirtualClock, json_message, retry_after};
use lister_tests::fake_forge::FakeForge;
use url::Url;

/// GitHub's listing: a JSON array of repositories (those without an `id` skipped), the next
/// page named by the `since` of the `Link: rel="next"` URL, the token sent as
/// `Authorization: token …`, the secondary limit read from the message.
#[derive(Debug, Clone)]
pub(crate) struct GithubLike;

#[derive(serde::Deserialize)]
pub(crate) struct Repo<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    html_url: Cow<'a, str>,
}

impl Forge for GithubLike {
    type Cursor = u64;
    type Item<'a> = Repo<'a>;
    const NAME: &'static str = "github";
    const DEFAULT_URL: &'static str = "https://api.github.com";
    const PATH: &'static str = "/repositories?since={cursor}";
    const NEXT: NextCursor = NextCursor::LinkParam("since");
    const AUTH: Auth = Auth::Token;
    const HEADERS: &'static [(&'static str, &'static str)] = &[
        ("accept", "application/vnd.github+json"),
        ("x-github-api-version", "2022-11-28"),
    ];

    fn origin(&self, repo: Repo<'_>, _: &url::Url) -> Option<Origin> {
        repo.id?;
        Some(Origin::new(repo.html_url, "git"))
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
pub(crate) fn source(forge: &FakeForge, config: TransportConfig) -> HttpSource<GithubLike> {
    let base = forge.github_url();
    assert_loopback(&base);
    HttpSource::new(Arc::new(GithubLike), &base, config).expect("a loopback base URL is accepted")
}

/// The request of the page after `since`, as the run loop builds it.
pub(crate) fn request(forge: &FakeForge, since: u64) -> PageRequest {
    GithubLike
        .request(&forge.github_url(), &since)
        .expect("a page URL")
}

/// Fetches one page with a fresh context.
pub(crate) async fn fetch(
    source: &HttpSource<GithubLike>,
    request: &PageRequest,
) -> Result<Fetched, Error> {
    fetch_with(source, request, None, &RunContext::default()).await
}

/// Fetches one page.
pub(crate) async fn fetch_with(
    source: &HttpSource<GithubLike>,
    request: &PageRequest,
    known: Option<&Validators>,
    context: &RunContext,
) -> Result<Fetched, Error> {
    assert_loopback(&request.url);
    source.fetch_page(request, known, context).await
}

/// The page, or a panic naming what came instead.
pub(crate) fn page(fetched: Result<Fetched, Error>) -> PageResponse {
    match fetched {
        Ok(Fetched::Page(page)) => page,
        Ok(Fetched::NotModified) => panic!("unexpected 304"),
        Err(error) => panic!("fetch failed: {error}"),
    }
}

/// The origins the forge reads from `page`, as the run loop reads them (before validation
/// and de-duplication).
pub(crate) fn origins(page: &PageResponse) -> Vec<Origin> {
    let read = lister_core::page_origins(
        &GithubLike,
        &"https://forge.example.org/".parse().unwrap(),
        page,
    )
    .expect("the page parses");
    assert!(read.rejected.is_empty(), "{:?}", read.rejected);
    read.origins
}

/// The cursor of the page after `page`, as the forge names it.
pub(crate) fn next(page: &PageResponse) -> Option<u64> {
    GithubLike
        .next_cursor(0, page)
        .expect("the next cursor parses")
}

/// Asserts a duration is within `slack` of `expected`.
pub(crate) fn assert_near(actual: Duration, expected: Duration, slack: Duration) {
    let gap = actual.abs_diff(expected);
    assert!(
        gap <= slack,
        "{actual:?} is not within {slack:?} of {expected:?}"
    );
}
