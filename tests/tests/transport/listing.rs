//! The transport under the run loop: a whole listing through faults, an incremental rerun, a
//! pagination loop caught, a body that does not parse, and cancellation.

use std::time::Duration;

use lister_core::{Error, Lister, Listing, RunContext, RunOptions, StopReason};
use lister_http::{TransportConfig, http_listing};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{FakeForge, Fault};

use crate::support::{GithubLike, assert_loopback, config, fetch, page, request, source};

fn listing(forge: &FakeForge, config: TransportConfig) -> Listing<GithubLike> {
    assert_loopback(&forge.github_url());
    http_listing(GithubLike, Some("test"), Some(forge.github_url()), config).unwrap()
}

/// How many times the page after `since` was requested.
fn requests_of(forge: &FakeForge, since: u64) -> usize {
    let since = since.to_string();
    let requests = forge.requests();
    let of_page = requests
        .iter()
        .filter(|r| r.query("since") == Some(since.clone()));
    of_page.count()
}

#[tokio::test]
async fn lists_everything_through_faults_then_reruns_incrementally() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::Status(502), 1, 2);
    forge.inject(Fault::CloseMidBody, 1, 4);
    forge.inject(Fault::JunkEntries, 1, 5);
    forge.inject(Fault::BareTooManyRequests, 1, 7);
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (config, clock) = config();
    let lister = listing(&forge, config.clone());
    let stats = lister
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::EndOfListing));
    assert_eq!((stats.origins_new, stats.pages), (1_000, 11));
    assert_eq!((stats.requests, stats.retries), (14, 3));
    // The junk (a `null`, an item without `id`, a repeat) is skipped, not rejected.
    assert_eq!((stats.items_rejected, stats.origins_duplicate), (0, 1));
    assert_eq!(clock.sleeps().len(), 3);

    forge.add_github_repositories(30);
    let rerun = lister
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!((rerun.origins_new, rerun.not_modified), (30, 0));
    let idle = lister
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(
        (idle.origins_new, idle.not_modified, idle.requests),
        (0, 1, 1)
    );
    let urls = store.listed_origins(lister.key()).await.unwrap();
    assert_eq!(urls.len(), 1_030);
    db.drop_database().await;
}

#[tokio::test]
async fn a_looping_next_link_stops_the_run() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::LoopingNext, 1, 1);
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let lister = listing(&forge, config().0);
    let failure = lister
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, Error::PaginationLoop(_)),
        "{failure}"
    );
    assert!(failure.to_string().contains("pagination loop"), "{failure}");
    assert_eq!(forge.listing_requests(), 2);
    db.drop_database().await;
}

/// A body cut short behind a matching `Content-Length` reaches the run loop as a page; its
/// items do not parse, which fails the run at once: the transport does not fetch it again.
/// The pages before it are committed, and the next run starts at it.
#[tokio::test]
async fn a_body_that_does_not_parse_fails_the_run_without_a_retry() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::TruncatedJson, 1, 2);
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (config, clock) = config();
    let lister = listing(&forge, config);
    let failure = lister
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap_err();
    let truncated = forge.github_ids()[199];
    let Error::PageParse { url, .. } = &failure.error else {
        panic!("not a page that does not parse: {failure}");
    };
    assert!(url.ends_with(&format!("since={truncated}")), "{url}");
    assert_eq!(requests_of(&forge, truncated), 1, "not fetched again");
    assert!(clock.sleeps().is_empty());
    assert_eq!(
        (failure.stats.pages, failure.stats.retries),
        (2, 0),
        "{failure}"
    );
    assert_eq!(
        failure.stats.saved_cursor,
        Some(truncated.to_string()),
        "{failure}"
    );
    assert_eq!(store.listed_origins(lister.key()).await.unwrap().len(), 200);
    db.drop_database().await;
}

/// Cancelling a run aborts the request in flight instead of waiting for its answer; the pages
/// fetched before it are committed, and the next run starts at the aborted page.
#[tokio::test]
async fn cancellation_aborts_the_request_in_flight() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::Delay(Duration::from_secs(4)), 1, 2);
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let lister = listing(&forge, config().0);
    let context = RunContext::default();
    let cancel = {
        let (context, forge) = (context.clone(), &forge);
        async move {
            while forge.listing_requests() < 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            context.cancel.cancel();
        }
    };
    let started = std::time::Instant::now();
    let options = RunOptions::default();
    let (stats, ()) = tokio::join!(lister.run(&store, &options, &context), cancel);
    let stats = stats.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited for the request in flight: {:?}",
        started.elapsed()
    );
    assert_eq!(stats.stopped, Some(StopReason::Cancelled));
    assert_eq!((stats.pages, stats.requests), (2, 3));
    let aborted = forge.github_ids()[199];
    assert_eq!(stats.saved_cursor, Some(aborted.to_string()));
    assert_eq!(store.listed_origins(lister.key()).await.unwrap().len(), 200);
    db.drop_database().await;
}

/// A request's own headers go with it, beside the forge's; a header that cannot be sent fails
/// the page at once, before any request.
#[tokio::test]
async fn a_request_carries_its_own_headers() {
    let forge = FakeForge::start().await;
    let source = source(&forge, TransportConfig::default());
    let request = request(&forge, 0).with_header("X-Listing-Pass", "full");
    page(fetch(&source, &request).await);
    let sent = forge.requests();
    assert_eq!(sent[0].header("x-listing-pass"), Some("full"));
    assert_eq!(sent[0].header("x-github-api-version"), Some("2022-11-28"));
    let refused = fetch(&source, &request.with_header("bad header", "x")).await;
    assert!(refused.is_err());
    assert_eq!(forge.requests().len(), 1, "nothing sent");
}
