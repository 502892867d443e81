//! Several credentials: one is used until its quota is spent, then the next; when all are
//! spent, the transport waits for the earliest reset.

use std::sync::Arc;
use std::time::Duration;

use lister_http::{Credential, TransportConfig};
use lister_tests::fake_forge::{FakeForge, Fault, QuotaKey};

use crate::support::{assert_near, config, fetch, next, page, request, source};

fn authorizations(forge: &FakeForge) -> Vec<String> {
    forge
        .requests()
        .iter()
        .map(|request| request.header("authorization").unwrap_or("-").to_owned())
        .collect()
}

#[tokio::test]
async fn rotates_then_waits_for_the_earliest_reset() {
    let forge = Arc::new(FakeForge::start().await);
    forge.set_quota_with_reset(QuotaKey::token("a"), 1, Duration::from_secs(900));
    forge.set_quota_with_reset(QuotaKey::token("b"), 1, Duration::from_secs(300));
    forge.set_quota_with_reset(QuotaKey::basic("c", "pw"), 1, Duration::from_secs(600));
    let (config, clock) = config();
    let refill = forge.clone();
    clock.on_sleep(move |_| refill.refill_quotas());
    let credentials = vec![
        Credential::token("a"),
        Credential::token("b"),
        Credential::basic("c", "pw"),
    ];
    let source = source(
        &forge,
        TransportConfig {
            credentials,
            ..config
        },
    );

    let mut since = 0;
    for _ in 0..4 {
        let page = page(fetch(&source, &request(&forge, since)).await);
        since = next(&page).unwrap();
    }
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    assert_near(sleeps[0], Duration::from_secs(301), Duration::from_secs(2));
    assert_eq!(
        authorizations(&forge),
        ["token a", "token b", "Basic Yzpwdw==", "token b"]
    );
}

#[tokio::test]
async fn a_spent_credential_hands_over_without_waiting() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::PrimaryLimit, 1, 0);
    let (config, clock) = config();
    let credentials = vec![Credential::token("a"), Credential::token("b")];
    let source = source(
        &forge,
        TransportConfig {
            credentials,
            ..config
        },
    );
    page(fetch(&source, &request(&forge, 0)).await);
    page(fetch(&source, &request(&forge, 0)).await);
    assert!(clock.sleeps().is_empty());
    assert_eq!(
        authorizations(&forge),
        ["token a", "token b", "token b"],
        "b is kept once a is spent"
    );
}

#[tokio::test]
async fn anonymous_quota_is_waited_for() {
    let forge = Arc::new(FakeForge::start().await);
    forge.set_quota_with_reset(QuotaKey::Anonymous, 1, Duration::from_secs(1_800));
    let (config, clock) = config();
    let refill = forge.clone();
    clock.on_sleep(move |_| refill.refill_quotas());
    let source = source(&forge, config);
    page(fetch(&source, &request(&forge, 0)).await);
    page(fetch(&source, &request(&forge, 0)).await);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert_near(
        sleeps[0],
        Duration::from_secs(1_801),
        Duration::from_secs(2),
    );
    assert_eq!(authorizations(&forge), ["-", "-"]);
}
