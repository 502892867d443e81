//! Pages per second through lister-http's transport, against a bare reqwest loop fetching the
//! same pages from the same fake forge in the same run (the target is a ratio of 95 % or
//! more). Run it with `cargo bench -p lister-tests --bench transport`.
//!
//! Two workloads: `headers only` (the lister reads the `Link` header and nothing else: the
//! transport's own cost) and `json` (both loops also parse the page, as a forge would).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lister_core::{
    Fetched, IndexingLister, NextPage, Origin, PageResponse, ParseError, RunContext,
};
use lister_http::{HttpPageSource, TransportConfig, next_link, query_param};
use lister_tests::fake_forge::{Config, FakeForge, QuotaConfig};
use url::Url;

const PAGES: u64 = 400;
const ROUNDS: u64 = 10;

/// A GitHub-shaped lister; `parse` says whether it reads the body.
#[derive(Clone, Copy)]
struct Bench {
    parse: bool,
}

#[derive(serde::Deserialize)]
struct Repo {
    html_url: String,
}

fn origins(body: &[u8]) -> Result<Vec<Origin>, ParseError> {
    let repos: Vec<Option<Repo>> =
        serde_json::from_slice(body).map_err(|err| ParseError::new(err.to_string()))?;
    Ok(repos
        .into_iter()
        .flatten()
        .map(|repo| Origin::new(repo.html_url, "git"))
        .collect())
}

fn next(headers: &http::HeaderMap, url: &Url) -> Option<NextPage<u64>> {
    let url = next_link(headers, url)?;
    let index = query_param(&url, "since")?.parse().ok()?;
    Some(NextPage { url, index })
}

impl IndexingLister for Bench {
    type Index = u64;
    const NAME: &'static str = "bench";
    const DEFAULT_BASE_URL: &'static str = "http://127.0.0.1";
    const PATH_TEMPLATE: &'static str = "/repositories?since={index}";
    const VISIT_TYPE: &'static str = "git";

    fn first_index(&self) -> u64 {
        0
    }

    fn simplify(&self, response: &PageResponse) -> Result<Vec<Origin>, ParseError> {
        if self.parse {
            origins(&response.body)
        } else {
            Ok(Vec::new())
        }
    }

    fn next_page(&self, response: &PageResponse) -> Result<Option<NextPage<u64>>, ParseError> {
        Ok(next(&response.headers, &response.url))
    }
}

/// One page with a bare reqwest client: the time it took and the next page's URL.
async fn bare(client: &reqwest::Client, url: &Url, parse: bool) -> (Duration, Url) {
    let started = Instant::now();
    let mut response = client.get(url.clone()).send().await.expect("bare request");
    assert!(response.status().is_success());
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await.expect("bare body");
    if parse {
        std::hint::black_box(origins(&body).expect("a page parses"));
    }
    let next = next(&headers, url).expect("a next page").url;
    (started.elapsed(), next)
}

/// One page through the transport: the time it took and the next page's URL.
async fn transport(
    source: &HttpPageSource<Bench>,
    url: &Url,
    context: &RunContext,
) -> (Duration, Url) {
    let started = Instant::now();
    let Ok(Fetched::Page(page)) = source.fetch_page(url, None, context).await else {
        panic!("fetch failed")
    };
    std::hint::black_box(&page.origins);
    (started.elapsed(), page.next.expect("a next page").url)
}

/// Walks the pages `ROUNDS` times (after a warm-up walk), fetching each page both ways in
/// turn (the order alternating), so that both see the same load from other processes.
async fn measure(forge: &FakeForge, parse: bool) {
    let first = forge
        .github_url()
        .join("repositories?since=0")
        .expect("a URL");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client");
    let lister = Arc::new(Bench { parse });
    let source = HttpPageSource::new(lister, &forge.github_url(), TransportConfig::default())
        .expect("a loopback base URL");
    let context = RunContext::default();
    let (mut bare_total, mut transport_total) = (Duration::ZERO, Duration::ZERO);
    for round in 0..=ROUNDS {
        let mut url = first.clone();
        for page in 0..PAGES {
            let ((bare_took, bare_next), (took, next)) = if (page + round) % 2 == 0 {
                let bare = bare(&client, &url, parse).await;
                (bare, transport(&source, &url, &context).await)
            } else {
                let transport = transport(&source, &url, &context).await;
                (bare(&client, &url, parse).await, transport)
            };
            assert_eq!(bare_next, next, "both ways find the same next page");
            if round > 0 {
                bare_total += bare_took;
                transport_total += took;
            }
            url = next;
        }
    }
    let pages = (PAGES * ROUNDS) as f64;
    let (bare_rate, transport_rate) = (
        pages / bare_total.as_secs_f64(),
        pages / transport_total.as_secs_f64(),
    );
    let workload = if parse { "json" } else { "headers only" };
    println!(
        "{workload:>12}: bare reqwest {bare_rate:>7.0} pages/s, lister-http {transport_rate:>7.0} pages/s, \
         ratio {:.1} %",
        100.0 * transport_rate / bare_rate
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let quota = QuotaConfig {
            anonymous_limit: u64::MAX,
            ..QuotaConfig::default()
        };
        let forge = FakeForge::start_with(Config {
            github_repositories: (PAGES + 1) * 100,
            quota,
            ..Config::default()
        })
        .await;
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a client");
        let first = forge.github_url().join("repositories").expect("a URL");
        let page = client.get(first).send().await.expect("a page");
        let size = page.bytes().await.expect("a body").len();
        println!(
            "{PAGES} pages of 100 repositories ({} KiB each), {ROUNDS} walks, each page fetched both ways in turn",
            size / 1024
        );
        measure(&forge, false).await;
        measure(&forge, true).await;
    });
}
