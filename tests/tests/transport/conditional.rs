//! Conditional requests: validators go out as If-None-Match / If-Modified-Since, and a 304
//! is `Fetched::NotModified` (and free for an authorized client).

use lister_core::{Fetched, RunContext, Validators};
use lister_http::{Credential, TransportConfig};
use lister_tests::fake_forge::FakeForge;

use crate::support::{config, fetch, fetch_with, origins, page, request, source};

#[tokio::test]
async fn etag_round_trip_gives_not_modified() {
    let forge = FakeForge::start().await;
    let (config, _clock) = config();
    let source = source(
        &forge,
        TransportConfig {
            credentials: vec![Credential::token("t")],
            ..config
        },
    );
    let first_page = request(&forge, 0);
    let first = Validators::of(&page(fetch(&source, &first_page).await));
    let etag = first.etag.clone().expect("the fake sends an ETag");
    let again = fetch_with(&source, &first_page, Some(&first), &RunContext::default())
        .await
        .unwrap();
    assert!(matches!(again, Fetched::NotModified));
    let sent = forge.requests().pop().unwrap();
    assert_eq!(sent.header("if-none-match"), Some(etag.as_str()));
    assert_eq!(sent.header("if-modified-since"), None);

    let last_page = request(&forge, forge.github_ids()[949]);
    let stale = Validators::of(&page(fetch(&source, &last_page).await));
    forge.add_github_repositories(10);
    let changed = fetch_with(&source, &last_page, Some(&stale), &RunContext::default())
        .await
        .unwrap();
    assert!(matches!(changed, Fetched::Page(page) if origins(&page).len() == 60));
}

#[tokio::test]
async fn last_modified_is_sent_back() {
    let forge = FakeForge::start().await;
    let known = Validators {
        etag: None,
        last_modified: Some("Tue, 20 Aug 2013 14:50:41 GMT".into()),
    };
    let source = source(&forge, config().0);
    page(
        fetch_with(
            &source,
            &request(&forge, 0),
            Some(&known),
            &RunContext::default(),
        )
        .await,
    );
    let sent = forge.requests().pop().unwrap();
    assert_eq!(
        sent.header("if-modified-since"),
        Some("Tue, 20 Aug 2013 14:50:41 GMT")
    );
    assert_eq!(sent.header("if-none-match"), None);
}

#[tokio::test]
async fn not_modified_to_an_unconditional_request_is_an_error() {
    let forge = FakeForge::start().await;
    forge.inject(lister_tests::fake_forge::Fault::EmptyStatus(304), 1, 0);
    let error = fetch(&source(&forge, config().0), &request(&forge, 0))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not conditional"), "{error}");
    assert_eq!(forge.listing_requests(), 1);
}
