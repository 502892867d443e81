//! Transient failures are retried with backoff, up to a bound; fatal ones are not.

use std::time::Duration;

use lister_core::{RunContext, RunProgress};
use lister_http::{Error, TransportConfig};
use lister_tests::fake_forge::{FakeForge, Fault};

use crate::support::{GithubLike, config, fetch, fetch_with, next, origins, page, request, source};

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let forge = FakeForge::start().await;
    for fault in [
        Fault::Status(500),
        Fault::Status(502),
        Fault::EmptyStatus(504),
        Fault::HtmlError,
        Fault::Status(408),
    ] {
        forge.inject(fault, 1, 0);
    }
    let (config, clock) = config();
    let source = source(&forge, config);
    let context = RunContext::default();
    let page = page(fetch_with(&source, &request(&forge, 0), None, &context).await);
    assert_eq!(origins(&page).len(), 100);
    assert_eq!(forge.listing_requests(), 6);
    assert_eq!(RunProgress::get(&context.progress.requests), 6);
    assert_eq!(RunProgress::get(&context.progress.retries), 5);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 5, "{sleeps:?}");
    assert!(
        sleeps[0] >= Duration::from_millis(500) && sleeps[0] <= Duration::from_millis(1_500),
        "{sleeps:?}"
    );
    assert!(
        sleeps[4] >= Duration::from_secs(8) && sleeps[4] <= Duration::from_secs(24),
        "exponential: {sleeps:?}"
    );
}

#[tokio::test]
async fn broken_connections_and_bodies_are_retried() {
    let forge = FakeForge::start().await;
    for fault in [Fault::CloseBeforeResponse, Fault::CloseMidBody] {
        forge.inject(fault, 1, 0);
    }
    let (config, clock) = config();
    let page = page(fetch(&source(&forge, config), &request(&forge, 0)).await);
    assert_eq!(origins(&page).len(), 100);
    assert_eq!(forge.listing_requests(), 3);
    assert_eq!(clock.sleeps().len(), 2);
}

/// The transport does not parse pages: a body cut short behind a matching `Content-Length`
/// is a whole answer to it, handed over as it came (the run loop then refuses it, see
/// `listing::a_body_that_does_not_parse_fails_the_run_without_a_retry`).
#[tokio::test]
async fn a_complete_body_that_is_no_json_is_handed_over() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::TruncatedJson, 1, 0);
    let (config, clock) = config();
    let page = page(fetch(&source(&forge, config), &request(&forge, 0)).await);
    let error = lister_core::page_origins(
        &GithubLike,
        &"https://forge.example.org/".parse().unwrap(),
        &page,
    )
    .unwrap_err();
    assert!(error.message.contains("EOF"), "{error}");
    assert_eq!(forge.listing_requests(), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn timeouts_are_retried() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::Delay(Duration::from_secs(3)), 1, 0);
    let (config, _clock) = config();
    let config = TransportConfig {
        request_timeout: Duration::from_millis(300),
        ..config
    };
    let started = std::time::Instant::now();
    let page = page(fetch(&source(&forge, config), &request(&forge, 0)).await);
    assert_eq!(origins(&page).len(), 100);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(forge.listing_requests(), 2);
}

#[tokio::test]
async fn retries_run_out_with_a_clear_error() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::Status(502), 100, 0);
    let (config, clock) = config();
    let page = request(&forge, 0);
    let error = fetch(&source(&forge, config), &page).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(page.url.as_str())
            && text.contains("502 Bad Gateway")
            && text.contains("8 attempts"),
        "{text}"
    );
    assert!(error.is_retryable());
    assert_eq!(
        (error.status().map(|s| s.as_u16()), error.attempts()),
        (Some(502), 8)
    );
    assert_eq!(forge.listing_requests(), 8);
    assert_eq!(clock.sleeps().len(), 7);
}

#[tokio::test]
async fn retries_are_bounded_in_time() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::CloseMidBody, 100, 0);
    let (config, clock) = config();
    let config = TransportConfig {
        max_retry_time: Duration::from_secs(10),
        max_attempts: 100,
        ..config
    };
    let error = fetch(&source(&forge, config), &request(&forge, 0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Request {
                retryable: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.attempts() < 10, "{error}");
    let waited: Duration = clock.sleeps().iter().sum();
    assert!(waited <= Duration::from_secs(10), "{waited:?}");
}

#[tokio::test]
async fn fatal_statuses_are_not_retried() {
    for status in [401, 404, 400] {
        let forge = FakeForge::start().await;
        forge.inject(Fault::Status(status), 1, 0);
        let (config, clock) = config();
        let error = fetch(&source(&forge, config), &request(&forge, 0))
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains(&format!("HTTP {status}")) && text.contains("after 1 attempts"),
            "{text}"
        );
        assert!(!error.is_retryable());
        assert_eq!(forge.listing_requests(), 1);
        assert!(clock.sleeps().is_empty());
    }
    let forge = FakeForge::start().await;
    forge.inject(Fault::Status(404), 1, 0);
    let error = fetch(&source(&forge, config().0), &request(&forge, 0))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("HTTP 404 Not Found: Not Found (after 1 attempts)"),
        "{error}"
    );
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let forge = FakeForge::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (config, clock) = config();
    let config = TransportConfig {
        max_attempts: 3,
        ..config
    };
    let base = url::Url::parse(&format!("http://{closed}/")).unwrap();
    let source =
        lister_http::HttpSource::new(std::sync::Arc::new(GithubLike), &base, config).unwrap();
    let page = lister_core::Forge::request(&GithubLike, &base, &0).unwrap();
    let error = fetch(&source, &page).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Request {
                retryable: true,
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains(&closed.to_string()) && text.contains("after 3 attempts"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert_eq!(clock.sleeps().len(), 2);
    drop(forge);
}

#[tokio::test]
async fn junk_entries_are_skipped_by_the_lister() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::JunkEntries, 1, 0);
    let page = page(fetch(&source(&forge, config().0), &request(&forge, 0)).await);
    assert_eq!(
        origins(&page).len(),
        101,
        "100 and the duplicate, which the run loop drops; the null and the item without id \
         are skipped"
    );
    assert_eq!(next(&page), Some(forge.github_ids()[99]));
}
