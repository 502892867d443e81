//! The two-level guarantees, through the transport and a real store (SQLite, and PostgreSQL
//! when `LISTER_TEST_POSTGRES_URL` is set), against Tuleap on the fake forge: a sub-listing
//! that keeps failing past its retries fails the page that names it, and the state stays
//! before that page; a rerun, once the forge answers again, lists everything exactly once,
//! from that page on. Retries wait on a virtual clock.

use std::collections::BTreeSet;
use std::sync::Arc;

use lister_core::{Lister, RunContext, RunOptions, StopReason};
use lister_http::{TransportConfig, VirtualClock, http_listing};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{FakeForge, Fault};
use lister_tuleap::Tuleap;

/// Attempts at a page before the transport gives up.
const ATTEMPTS: u32 = 3;

async fn a_sub_listing_failing_past_its_retries_fails_its_page_and_a_rerun_lists_it_once(
    db: TestDatabase,
) {
    // 120 projects, 50 a page: project 57 is on the page at offset 50.
    let fake = FakeForge::start().await;
    let failing = fake.tuleap_git_path(57);
    let fault = Fault::OnPath {
        path: failing.clone(),
        fault: Box::new(Fault::Status(500)),
    };
    fake.inject(fault, ATTEMPTS, 0);
    let clock = Arc::new(VirtualClock::new());
    let config = TransportConfig {
        clock: clock.clone(),
        max_attempts: ATTEMPTS,
        ..TransportConfig::default()
    };
    let url = Some(fake.tuleap_url());
    let listing = http_listing(Tuleap, Some("test"), url, config).unwrap();
    let store = db.open().await;
    let options = RunOptions::default();

    let failure = listing
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap_err();
    let message = failure.to_string();
    assert!(
        message.contains(&failing) && message.contains("500"),
        "{message}"
    );
    assert_eq!(
        failure.stats.saved_cursor.as_deref(),
        Some("50"),
        "{message}"
    );
    assert_eq!(
        clock.sleeps().len(),
        ATTEMPTS as usize - 1,
        "retried, then given up"
    );
    let failed_at = |request: &lister_tests::fake_forge::RecordedRequest| {
        request.path_and_query.starts_with(&format!("{failing}?"))
    };
    assert_eq!(
        fake.requests().iter().filter(|r| failed_at(r)).count(),
        ATTEMPTS as usize
    );
    // Only the first page of projects, with every repository of its projects, is stored.
    let expected: Vec<String> = fake.tuleap_origins().into_iter().map(|o| o.url).collect();
    let stored = || async {
        let listed = store.listed_origins(listing.key()).await.unwrap();
        listed
            .into_iter()
            .map(|o| o.origin.url)
            .collect::<BTreeSet<String>>()
    };
    let first_page = |url: &String| {
        let project = url
            .split("/plugins/git/project-")
            .nth(1)
            .unwrap_or_default();
        let k: u64 = project.split('/').next().unwrap().parse().unwrap();
        k <= 50
    };
    let before: BTreeSet<String> = expected.iter().filter(|u| first_page(u)).cloned().collect();
    assert!(before.len() > 50 && before.len() < expected.len());
    assert_eq!(stored().await, before);

    // The forge answers again: the rerun starts at the failed page, and lists every
    // repository of it and of the pages after it, once.
    fake.clear_requests();
    let rerun = listing
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap();
    assert_eq!(rerun.stopped, Some(StopReason::EndOfListing));
    assert_eq!(rerun.first_cursor.as_deref(), Some("50"));
    assert_eq!(rerun.origins_new as usize, expected.len() - before.len());
    assert_eq!(
        rerun.origins_seen, rerun.origins_new,
        "nothing listed twice"
    );
    let projects_pages: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with("/tuleap/api/projects?"))
        .map(|r| r.query("offset").unwrap())
        .collect();
    assert_eq!(projects_pages, ["50", "100"]);
    let git_listings: BTreeSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path_and_query.contains("/git?"))
        .map(|r| r.path_and_query.split('?').next().unwrap().to_owned())
        .collect();
    assert_eq!(git_listings.len(), 70, "projects 51 to 120, each once");
    assert_eq!(stored().await, expected.into_iter().collect());
    db.drop_database().await;
}

lister_store::backend_tests!(
    a_sub_listing_failing_past_its_retries_fails_its_page_and_a_rerun_lists_it_once,
);
