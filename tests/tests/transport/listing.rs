//! The transport under the run loop: a whole listing through faults, an incremental rerun,
//! and a pagination loop caught.

use lister_core::testing::TestDatabase;
use lister_core::{Lister, RunContext, RunOptions, StopReason};
use lister_http::{TransportConfig, http_listing};
use lister_tests::fake_forge::{FakeForge, Fault};

use crate::support::{GithubLike, assert_loopback, config};

fn listing(forge: &FakeForge, config: TransportConfig) -> impl Lister {
    assert_loopback(&forge.github_url());
    http_listing(GithubLike, "test", Some(forge.github_url()), config).unwrap()
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
    assert!(failure.to_string().contains("pagination loop"), "{failure}");
    assert_eq!(forge.listing_requests(), 2);
    db.drop_database().await;
}
