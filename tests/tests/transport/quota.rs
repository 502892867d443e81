//! Quota answers are waits, not retries: Retry-After in every form, reset headers, bare 429,
//! GitHub's secondary limit; the waits are bounded, reported and cancellable.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lister_core::{RunContext, RunProgress};
use lister_http::{Error, SystemClock, TransportConfig};
use lister_tests::fake_forge::{Config, FakeForge, Fault, QuotaConfig};

use crate::support::{assert_near, config, fetch, fetch_with, origins, page, request, source};

const SECOND: Duration = Duration::from_secs(1);

/// Formats `at` with a chrono format string (for the obsolete HTTP-date forms).
fn date(at: SystemTime, format: &str) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format(format)
        .to_string()
}

#[tokio::test]
async fn retry_after_seconds_and_all_three_date_forms() {
    let forge = FakeForge::start().await;
    let in_a_minute = SystemTime::now() + Duration::from_secs(60);
    forge.inject(Fault::retry_after_seconds(429, 7), 1, 0);
    forge.inject(Fault::retry_after_date(503, in_a_minute), 1, 0);
    let rfc850 = date(in_a_minute, "%A, %d-%b-%y %H:%M:%S GMT");
    forge.inject(
        Fault::RetryAfter {
            status: 429,
            value: rfc850,
        },
        1,
        0,
    );
    let asctime = date(in_a_minute, "%a %b %e %H:%M:%S %Y");
    forge.inject(
        Fault::RetryAfter {
            status: 503,
            value: asctime,
        },
        1,
        0,
    );
    let (config, clock) = config();
    let context = RunContext::default();
    let page = page(fetch_with(&source(&forge, config), &request(&forge, 0), None, &context).await);
    assert_eq!(origins(&page).len(), 100);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 4, "{sleeps:?}");
    assert_eq!(sleeps[0], Duration::from_secs(7));
    // Each wait moves the virtual clock on, so later dates are nearer.
    assert_near(sleeps[1], Duration::from_secs(60 - 7), 2 * SECOND);
    assert_near(sleeps[2], Duration::ZERO, 2 * SECOND);
    assert_near(sleeps[3], Duration::ZERO, 2 * SECOND);
    assert_eq!(RunProgress::get(&context.progress.requests), 5);
    let waited: Duration = sleeps.iter().sum();
    assert_eq!(
        RunProgress::get(&context.progress.quota_wait_ms),
        waited.as_millis() as u64
    );
}

#[tokio::test]
async fn quota_waits_do_not_spend_retry_attempts() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::retry_after_seconds(429, 1), 5, 0);
    let (config, _clock) = config();
    let config = TransportConfig {
        max_attempts: 2,
        ..config
    };
    let page = page(fetch(&source(&forge, config), &request(&forge, 0)).await);
    assert_eq!(origins(&page).len(), 100);
}

#[tokio::test]
async fn bare_429_waits_at_least_two_seconds_then_doubles() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::BareTooManyRequests, 3, 0);
    let (config, clock) = config();
    page(fetch(&source(&forge, config), &request(&forge, 0)).await);
    assert_eq!(clock.sleeps(), [2, 4, 8].map(Duration::from_secs));
}

#[tokio::test]
async fn primary_limit_waits_until_the_reset() {
    let quota = QuotaConfig {
        reset_after: Duration::from_secs(120),
        ..QuotaConfig::default()
    };
    let forge = FakeForge::start_with(Config {
        quota,
        ..Config::default()
    })
    .await;
    forge.inject(Fault::PrimaryLimit, 1, 0);
    let (config, clock) = config();
    page(fetch(&source(&forge, config), &request(&forge, 0)).await);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert_near(sleeps[0], Duration::from_secs(121), 2 * SECOND);
}

#[tokio::test]
async fn secondary_limit_through_the_forge_hook() {
    let forge = FakeForge::start().await;
    forge.inject(
        Fault::SecondaryLimit {
            retry_after: Some(30),
        },
        1,
        0,
    );
    forge.inject(Fault::SecondaryLimit { retry_after: None }, 2, 0);
    let (config, clock) = config();
    page(fetch(&source(&forge, config), &request(&forge, 0)).await);
    assert_eq!(clock.sleeps(), [30, 60, 120].map(Duration::from_secs));
}

#[tokio::test]
async fn a_wait_longer_than_allowed_is_an_error_naming_it() {
    let quota = QuotaConfig {
        reset_after: Duration::from_secs(7_200),
        ..QuotaConfig::default()
    };
    let forge = FakeForge::start_with(Config {
        quota,
        ..Config::default()
    })
    .await;
    forge.inject(Fault::PrimaryLimit, 1, 0);
    forge.inject(Fault::retry_after_seconds(429, 86_400), 1, 1);
    let (config, clock) = config();
    let source = source(&forge, config);
    let error = fetch(&source, &request(&forge, 0)).await.unwrap_err();
    assert!(matches!(error, Error::QuotaWaitTooLong { .. }), "{error}");
    assert!(
        error.to_string().contains("more than the 3600s allowed"),
        "{error}"
    );
    assert!(error.to_string().contains("403"), "{error}");

    let source = crate::support::source(&forge, crate::support::config().0);
    let error = fetch(&source, &request(&forge, 0)).await.unwrap_err();
    assert!(
        error.to_string().contains("quota wait of 86400s"),
        "{error}"
    );
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn quota_waits_per_page_are_bounded() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::BareTooManyRequests, 1_000, 0);
    let (config, clock) = config();
    let config = TransportConfig {
        max_quota_waits: 3,
        ..config
    };
    let error = fetch(&source(&forge, config), &request(&forge, 0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::QuotaWaitsExhausted {
                waits: 3,
                attempts: 4,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("429"), "{error}");
    assert_eq!(clock.sleeps().len(), 3);
}

#[tokio::test]
async fn a_wait_is_reported_and_cancellable() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::retry_after_seconds(429, 3_000), 1, 0);
    let config = TransportConfig {
        clock: Arc::new(SystemClock),
        ..TransportConfig::default()
    };
    let source = source(&forge, config);
    let context = RunContext::default();
    let watcher = {
        let context = context.clone();
        tokio::spawn(async move {
            while context.progress.waiting_for().is_none() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let left = context.progress.waiting_for().unwrap();
            context.cancel.cancel();
            left
        })
    };
    let started = std::time::Instant::now();
    let error = fetch_with(&source, &request(&forge, 0), None, &context)
        .await
        .unwrap_err();
    assert!(error.is_cancelled(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_near(
        watcher.await.unwrap(),
        Duration::from_secs(3_000),
        2 * SECOND,
    );
    assert!(context.progress.waiting_for().is_none());
}

/// Cancellation cuts the transport's waits short (above), not an exchange under way: the run
/// loop is what drops a request in flight (see `listing::cancellation_aborts_the_request_in_flight`).
#[tokio::test]
async fn a_request_in_flight_finishes_despite_cancellation() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::Delay(Duration::from_millis(300)), 1, 0);
    let source = source(&forge, config().0);
    let context = RunContext::default();
    let cancel = context.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    });
    let page = page(fetch_with(&source, &request(&forge, 0), None, &context).await);
    assert_eq!(
        origins(&page).len(),
        100,
        "the transport cuts its waits short, not an exchange: the run loop aborts that"
    );
}
