//! Pages per second through lister-http's transport, against a bare reqwest loop fetching the
//! same pages from the same fake forge in the same run (the target is a ratio of 95 % or
//! more). Run it with `cargo bench -p lister-tests --bench transport`.
//!
//! Two workloads: `headers only` (the forge reads the `Link` header and nothing else: the
//! transport's own cost) and `json` (both loops also read the page's origins, as the run
//! loop would).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lister_core::{Fetched, Forge, NextCursor, Origin, PageResponse, RunContext, page_origins};
use lister_http::{HttpSource, TransportConfig};
use lister_tests::fake_forge::{Config, FakeForge, QuotaConfig};
use url::Url;

const PAGES: u64 = 400;
const ROUNDS: u64 = 10;

/// A GitHub-shaped forge: a JSON array of repositories, the next page in `Link`.
struct Bench;

#[derive(serde::Deserialize)]
struct Repo<'a> {
    #[serde(borrow)]
    html_url: Cow<'a, str>,
}

impl Forge for Bench {
    type Cursor = u64;
    type Item<'a> = Repo<'a>;
    const NAME: &'static str = "bench";
    const DEFAULT_URL: &'static str = "http://127.0.0.1";
    const PATH: &'static str = "/repositories?since={cursor}";
    const NEXT: NextCursor = NextCursor::LinkParam("since");

    fn origin(&self, repo: Repo<'_>, _: &url::Url) -> Option<Origin> {
        Some(Origin::new(repo.html_url, "git"))
    }
}

/// What both loops make of a page: its next cursor, and with `parse` its origins, read as
/// the run loop reads them.
fn read(page: &PageResponse, parse: bool) -> u64 {
    if parse {
        std::hint::black_box(
            page_origins(&Bench, &"https://forge.example.org/".parse().unwrap(), page)
                .expect("a page parses"),
        );
    }
    let next = Bench.next_cursor(0, page).expect("a next link");
    next.expect("a next page")
}

/// One page with a bare reqwest client: the time it took and the next page's cursor.
async fn bare(client: &reqwest::Client, api: &Url, since: u64, parse: bool) -> (Duration, u64) {
    let started = Instant::now();
    let url = Bench.request(api, &since).expect("a page URL").url;
    let mut response = client.get(url.clone()).send().await.expect("bare request");
    assert!(response.status().is_success());
    let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
    let body = response.bytes().await.expect("bare body");
    let page = PageResponse {
        url,
        status,
        headers,
        body,
    };
    let next = read(&page, parse);
    (started.elapsed(), next)
}

/// One page through the transport: the time it took and the next page's cursor.
async fn transport(
    source: &HttpSource<Bench>,
    api: &Url,
    since: u64,
    parse: bool,
    context: &RunContext,
) -> (Duration, u64) {
    let started = Instant::now();
    let request = Bench.request(api, &since).expect("a page URL");
    let Ok(Fetched::Page(page)) = source.fetch_page(&request, None, context).await else {
        panic!("fetch failed")
    };
    let next = read(&page, parse);
    (started.elapsed(), next)
}

/// Walks the pages `ROUNDS` times (after a warm-up walk), fetching each page both ways in
/// turn (the order alternating), so that both see the same load from other processes.
async fn measure(forge: &FakeForge, parse: bool) {
    let api = forge.github_url();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client");
    let source = HttpSource::new(Arc::new(Bench), &api, TransportConfig::default())
        .expect("a loopback base URL");
    let context = RunContext::default();
    let (mut bare_total, mut transport_total) = (Duration::ZERO, Duration::ZERO);
    for round in 0..=ROUNDS {
        let mut since = 0;
        for page in 0..PAGES {
            let ((bare_took, bare_next), (took, next)) = if (page + round) % 2 == 0 {
                let bare = bare(&client, &api, since, parse).await;
                (bare, transport(&source, &api, since, parse, &context).await)
            } else {
                let transport = transport(&source, &api, since, parse, &context).await;
                (bare(&client, &api, since, parse).await, transport)
            };
            assert_eq!(bare_next, next, "both ways find the same next page");
            if round > 0 {
                bare_total += bare_took;
                transport_total += took;
            }
            since = next;
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
