//! The queue's contract, run against SQLite and (when configured) PostgreSQL, a fresh database
//! per test.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use lister_core::store::PageWrite;
use lister_core::{ListerKey, Origin};
use lister_queue::{AckRequest, Grant, Policy, Queue, VisitStatus};
use lister_store::Store;
use lister_store::testing::TestDatabase;

const HOUR: Duration = Duration::from_secs(3600);

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::days(days)
}

/// Lists `origins` as the `github/default` lister.
async fn list(store: &Store, origins: &[Origin]) {
    list_as(store, &ListerKey::new("github", "default"), origins).await;
}

async fn list_as(store: &Store, key: &ListerKey, origins: &[Origin]) {
    let lister = store.register_lister(key).await.unwrap();
    store
        .commit_page(PageWrite {
            lister: &lister,
            origins: origins.to_vec(),
            state: None,
            pages: &[],
        })
        .await
        .unwrap();
    // As a run does at its end: readers fold nothing.
    store.fold_sightings(Some(lister.id)).await.unwrap();
}

fn git(url: &str, last_update: Option<DateTime<Utc>>) -> Origin {
    Origin::new(url, "git").with_last_update(last_update)
}

async fn grab(queue: &Queue, count: usize, policy: Policy) -> Vec<Grant> {
    queue.grab("git", count, policy, HOUR).await.unwrap()
}

fn urls(grants: &[Grant]) -> Vec<&str> {
    grants.iter().map(|grant| grant.url.as_str()).collect()
}

/// Grabs `url` alone (it must be the only due origin) and acks it with `status` at `at`.
async fn visit(queue: &Queue, url: &str, status: VisitStatus, at: DateTime<Utc>) {
    let grants = grab(queue, 1, Policy::OldestScheduledFirst).await;
    assert_eq!(urls(&grants), [url]);
    queue
        .ack(&grants[0].lease_token, status, Some(at))
        .await
        .unwrap();
}

async fn never_visited_oldest_update_first_puts_unknown_updates_last(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(
        &store,
        &[
            git("https://h/a", Some(days_ago(3))),
            git("https://h/b", None),
            git("https://h/c", Some(days_ago(10))),
            git("https://h/d", Some(days_ago(1))),
            git("https://h/e", None),
        ],
    )
    .await;
    let grants = grab(&queue, 10, Policy::NeverVisitedOldestUpdateFirst).await;
    assert_eq!(
        urls(&grants),
        [
            "https://h/c",
            "https://h/a",
            "https://h/d",
            "https://h/b",
            "https://h/e"
        ],
        "{}",
        db.url
    );
    assert!(
        grab(&queue, 10, Policy::NeverVisitedOldestUpdateFirst)
            .await
            .is_empty()
    );
    db.drop_database().await;
}

async fn grants_carry_the_listing_and_a_lease(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    let update = DateTime::from_timestamp_micros(days_ago(2).timestamp_micros()).unwrap();
    list(&store, &[git("https://h/a", Some(update))]).await;
    let before = Utc::now() - TimeDelta::seconds(5);
    let grant = grab(&queue, 5, Policy::Default).await.pop().unwrap();
    assert_eq!(
        (grant.lister.as_str(), grant.instance.as_str()),
        ("github", "default")
    );
    assert_eq!(grant.last_update, Some(update));
    assert_eq!(grant.lease_token.len(), 32);
    assert!(grant.lease_token.bytes().all(|b| b.is_ascii_hexdigit()));
    let expiry = grant.lease_expires_at - before;
    assert!(expiry >= TimeDelta::hours(1) && expiry < TimeDelta::hours(1) + TimeDelta::minutes(1));
    let json: serde_json::Value = serde_json::to_value(&grant).unwrap();
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "instance",
            "last_update",
            "lease_expires_at",
            "lease_token",
            "lister",
            "url",
            "visit_type"
        ]
    );
    db.drop_database().await;
}

async fn oldest_scheduled_first_puts_never_scheduled_first(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    // Scheduled in the order c, a, b (their last updates), then d is listed.
    list(
        &store,
        &[
            git("https://h/a", Some(days_ago(20))),
            git("https://h/b", Some(days_ago(10))),
            git("https://h/c", Some(days_ago(30))),
        ],
    )
    .await;
    for _ in 0..3 {
        let grant = grab(&queue, 1, Policy::NeverVisitedOldestUpdateFirst)
            .await
            .pop()
            .unwrap();
        // Visited long ago, so their cooldown is over.
        queue
            .ack(
                &grant.lease_token,
                VisitStatus::Successful,
                Some(days_ago(100)),
            )
            .await
            .unwrap();
    }
    list(&store, &[git("https://h/d", None)]).await;
    let grants = grab(&queue, 10, Policy::OldestScheduledFirst).await;
    assert_eq!(
        urls(&grants),
        ["https://h/d", "https://h/c", "https://h/a", "https://h/b"],
        "{}",
        db.url
    );
    db.drop_database().await;
}

async fn already_visited_order_by_lag_puts_the_largest_lag_first(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    let origins = [
        "https://h/small",
        "https://h/large",
        "https://h/none",
        "https://h/never",
    ];
    list(
        &store,
        &origins[..3]
            .iter()
            .map(|url| git(url, Some(days_ago(90))))
            .collect::<Vec<_>>(),
    )
    .await;
    for _ in 0..3 {
        let grant = grab(&queue, 1, Policy::OldestScheduledFirst)
            .await
            .pop()
            .unwrap();
        queue
            .ack(
                &grant.lease_token,
                VisitStatus::Successful,
                Some(days_ago(50)),
            )
            .await
            .unwrap();
    }
    // Since those visits, two origins changed; one more is listed, never visited.
    list(
        &store,
        &[
            git("https://h/small", Some(days_ago(40))),
            git("https://h/large", Some(days_ago(5))),
            git("https://h/never", Some(days_ago(1))),
        ],
    )
    .await;
    let grants = grab(&queue, 10, Policy::AlreadyVisitedOrderByLag).await;
    assert_eq!(
        urls(&grants),
        ["https://h/large", "https://h/small"],
        "{}",
        db.url
    );
    db.drop_database().await;
}

async fn default_mixes_and_fills_the_batch(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(&store, &[git("https://h/visited", Some(days_ago(90)))]).await;
    visit(
        &queue,
        "https://h/visited",
        VisitStatus::Successful,
        days_ago(50),
    )
    .await;
    let mut origins: Vec<Origin> = (0..8)
        .map(|i| git(&format!("https://h/new{i}"), Some(days_ago(i))))
        .collect();
    origins.push(git("https://h/visited", Some(days_ago(1))));
    list(&store, &origins).await;
    let grants = grab(&queue, 5, Policy::Default).await;
    // 40% by lag, 40% never visited (oldest update first), the rest oldest scheduled.
    assert_eq!(
        urls(&grants),
        [
            "https://h/visited",
            "https://h/new7",
            "https://h/new6",
            "https://h/new0",
            "https://h/new1"
        ],
        "{}",
        db.url
    );
    assert_eq!(grab(&queue, 10, Policy::Default).await.len(), 4, "the rest");
    db.drop_database().await;
}

async fn cooldowns_follow_the_outcome(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(&store, &[git("https://h/a", None)]).await;
    let cases = [
        (VisitStatus::Successful, TimeDelta::days(1)),
        (VisitStatus::Successful, TimeDelta::days(2)),
        (VisitStatus::Failed, TimeDelta::hours(1)),
        (VisitStatus::Failed, TimeDelta::hours(2)),
        (VisitStatus::NotFound, TimeDelta::days(31)),
        (VisitStatus::Successful, TimeDelta::days(4)),
    ];
    for (status, cooldown) in cases {
        let grant = grab(&queue, 1, Policy::Default)
            .await
            .pop()
            .expect("due again");
        let at = days_ago(100);
        let acked = queue
            .ack(&grant.lease_token, status, Some(at))
            .await
            .unwrap();
        assert_eq!(
            acked.next_visit_not_before - acked.visited_at,
            cooldown,
            "{status} on {}",
            db.url
        );
        let stats = queue
            .visit_stats("https://h/a", "git")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stats.last_visit_status, Some(status));
        assert_eq!(stats.next_visit_not_before, acked.next_visit_not_before);
        assert_eq!(stats.lease_expires_at, None, "the ack ends the lease");
    }
    // A visit now cools down: nothing is due.
    let grant = grab(&queue, 1, Policy::Default).await.pop().unwrap();
    let acked = queue
        .ack(&grant.lease_token, VisitStatus::Failed, None)
        .await
        .unwrap();
    assert!((acked.visited_at - Utc::now()).abs() < TimeDelta::minutes(1));
    assert!(
        grab(&queue, 1, Policy::Default).await.is_empty(),
        "cooling down"
    );
    let stats = queue.queue_stats().await.unwrap();
    assert_eq!((stats[0].cooling_down, stats[0].due_now), (1, 0));
    db.drop_database().await;
}

async fn an_expired_lease_returns_its_origin_and_its_ack_is_refused(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(&store, &[git("https://h/a", None)]).await;
    let first = queue
        .grab("git", 1, Policy::Default, Duration::ZERO)
        .await
        .unwrap()
        .pop()
        .unwrap();
    // The first consumer is gone; its lease ran out at once.
    let second = grab(&queue, 1, Policy::NeverVisitedOldestUpdateFirst)
        .await
        .pop()
        .expect("returned");
    assert_eq!(second.url, first.url);
    assert_ne!(second.lease_token, first.lease_token);
    let refused = queue
        .ack(&first.lease_token, VisitStatus::Successful, None)
        .await
        .unwrap_err();
    assert!(refused.is_stale_lease(), "{refused}");
    assert!(refused.to_string().contains("granted to another consumer"));
    queue
        .ack(&second.lease_token, VisitStatus::Successful, None)
        .await
        .unwrap();
    let again = queue
        .ack(&second.lease_token, VisitStatus::Successful, None)
        .await
        .unwrap_err();
    assert!(again.is_stale_lease(), "a second ack of the same lease");
    assert!(
        queue
            .ack("0123", VisitStatus::Failed, None)
            .await
            .unwrap_err()
            .is_stale_lease()
    );
    db.drop_database().await;
}

async fn a_late_ack_of_a_lease_nobody_took_over_is_recorded(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(&store, &[git("https://h/a", None)]).await;
    let grant = queue
        .grab("git", 1, Policy::Default, Duration::ZERO)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let acked = queue
        .ack(&grant.lease_token, VisitStatus::Successful, None)
        .await
        .unwrap();
    assert_eq!(acked.url, "https://h/a");
    assert!(grab(&queue, 1, Policy::Default).await.is_empty());
    db.drop_database().await;
}

async fn leased_origins_are_not_granted_twice(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(
        &store,
        &(0..10)
            .map(|i| git(&format!("https://h/{i}"), None))
            .collect::<Vec<_>>(),
    )
    .await;
    let first = grab(&queue, 6, Policy::Default).await;
    let second = grab(&queue, 6, Policy::Default).await;
    assert_eq!((first.len(), second.len()), (6, 4));
    let mut all: Vec<&str> = urls(&first).into_iter().chain(urls(&second)).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 10);
    let stats = queue.queue_stats().await.unwrap();
    assert_eq!(
        (
            stats[0].leased_now,
            stats[0].due_now,
            stats[0].never_visited
        ),
        (10, 0, 10)
    );
    db.drop_database().await;
}

async fn ack_many_records_each_and_refuses_the_stale(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(
        &store,
        &(0..3)
            .map(|i| git(&format!("https://h/{i}"), None))
            .collect::<Vec<_>>(),
    )
    .await;
    let grants = grab(&queue, 3, Policy::Default).await;
    let mut acks: Vec<AckRequest> = grants
        .iter()
        .map(|grant| AckRequest {
            lease_token: grant.lease_token.clone(),
            status: VisitStatus::Failed,
            visited_at: None,
        })
        .collect();
    acks.insert(
        1,
        AckRequest {
            lease_token: "stale".into(),
            status: VisitStatus::Failed,
            visited_at: None,
        },
    );
    acks.push(acks[0].clone());
    let outcomes = queue.ack_many(&acks).await.unwrap();
    let refused: Vec<bool> = outcomes
        .iter()
        .map(|o| o.as_ref().is_err_and(|e| e.is_stale_lease()))
        .collect();
    assert_eq!(refused, [false, true, false, false, true], "{}", db.url);
    assert_eq!(outcomes[0].as_ref().unwrap().url, grants[0].url);
    assert_eq!(outcomes[2].as_ref().unwrap().url, grants[1].url);
    db.drop_database().await;
}

async fn three_not_found_disable_until_reenabled(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(&store, &[git("https://h/gone", None)]).await;
    for round in 0..3 {
        let grant = grab(&queue, 1, Policy::Default).await.pop().expect("due");
        let acked = queue
            .ack(
                &grant.lease_token,
                VisitStatus::NotFound,
                Some(days_ago(100)),
            )
            .await
            .unwrap();
        assert_eq!(acked.disabled, round == 2, "{}", db.url);
    }
    assert!(
        grab(&queue, 1, Policy::Default).await.is_empty(),
        "disabled"
    );
    // The lister still reports it: the queue keeps it disabled.
    list(&store, &[git("https://h/gone", Some(Utc::now()))]).await;
    assert!(
        grab(&queue, 1, Policy::Default).await.is_empty(),
        "still disabled"
    );
    let stats = queue.queue_stats().await.unwrap();
    assert_eq!((stats[0].known, stats[0].enabled), (1, 0));
    assert!(
        queue
            .visit_stats("https://h/gone", "git")
            .await
            .unwrap()
            .unwrap()
            .disabled_at
            .is_some()
    );

    assert!(
        queue
            .reenable_origin("https://h/gone", "git")
            .await
            .unwrap()
    );
    assert_eq!(
        grab(&queue, 1, Policy::Default).await.len(),
        1,
        "re-enabled and due"
    );
    db.drop_database().await;
}

async fn one_origin_across_listers_and_disabled_listings(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    let gitlab = ListerKey::new("gitlab", "gitlab.example.org");
    list(
        &store,
        &[
            git("https://h/a", None),
            git("https://h/private", None).with_enabled(false),
        ],
    )
    .await;
    list_as(&store, &gitlab, &[git("https://h/a", Some(days_ago(3)))]).await;
    let grants = grab(&queue, 10, Policy::Default).await;
    assert_eq!(
        urls(&grants),
        ["https://h/a"],
        "one origin, the disabled listing left out"
    );
    assert_eq!(grants[0].lister, "gitlab", "the listing seen last");
    assert!(grants[0].last_update.is_some());
    let stats = queue.queue_stats().await.unwrap();
    let counts: Vec<(&str, i64, i64, i64)> = stats
        .iter()
        .map(|s| (s.lister.as_str(), s.known, s.enabled, s.leased_now))
        .collect();
    assert_eq!(counts, [("github", 2, 1, 1), ("gitlab", 1, 1, 1)]);
    db.drop_database().await;
}

async fn a_complete_pass_disables_what_it_did_not_see(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    let key = ListerKey::new("github", "default");
    list(
        &store,
        &[git("https://h/kept", None), git("https://h/deleted", None)],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let pass_started = Utc::now().naive_utc();
    list(&store, &[git("https://h/kept", None)]).await;
    let lister = store.lister(&key).await.unwrap().unwrap();
    assert_eq!(
        store.disable_unseen(lister.id, pass_started).await.unwrap(),
        1
    );
    assert_eq!(
        urls(&grab(&queue, 10, Policy::Default).await),
        ["https://h/kept"]
    );
    let known = store.listed_origins(&key).await.unwrap();
    assert_eq!(known.len(), 2, "unseen origins stay known");
    // Listed again, it is back.
    list(&store, &[git("https://h/deleted", None)]).await;
    assert_eq!(
        urls(&grab(&queue, 10, Policy::Default).await),
        ["https://h/deleted"]
    );
    db.drop_database().await;
}

async fn stats_split_enabled_origins(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    list(
        &store,
        &(0..6)
            .map(|i| git(&format!("https://h/{i}"), Some(days_ago(90))))
            .collect::<Vec<_>>(),
    )
    .await;
    visit(&queue, "https://h/0", VisitStatus::Successful, days_ago(50)).await;
    let grant = grab(&queue, 1, Policy::OldestScheduledFirst)
        .await
        .pop()
        .unwrap();
    queue
        .ack(&grant.lease_token, VisitStatus::Successful, None)
        .await
        .unwrap();
    grab(&queue, 2, Policy::NeverVisitedOldestUpdateFirst).await;
    list(&store, &[git("https://h/0", Some(days_ago(1)))]).await;
    let stats = queue.queue_stats().await.unwrap();
    assert_eq!(stats.len(), 1);
    let s = &stats[0];
    assert_eq!(
        (
            s.lister.as_str(),
            s.instance.as_str(),
            s.visit_type.as_str()
        ),
        ("github", "default", "git")
    );
    assert_eq!(
        (
            s.known,
            s.enabled,
            s.never_visited,
            s.leased_now,
            s.cooling_down,
            s.due_now,
            s.pending_changes
        ),
        (6, 6, 4, 2, 1, 3, 1),
        "{}",
        db.url
    );
    db.drop_database().await;
}

/// Origins that tie on the policy's order are granted in the order of their URLs' bytes, on
/// SQLite and on a PostgreSQL database whose locale sorts otherwise (`en-US`: `_`, `a`, `B`).
#[tokio::test]
async fn ties_are_granted_in_url_byte_order_whatever_the_database_locale() {
    let mut databases = vec![TestDatabase::sqlite()];
    if let Some(db) = TestDatabase::postgres_in_icu_locale("en-US").await {
        // Without this, the test could not tell byte order from the locale's.
        db.execute(
            "DO $$ BEGIN IF NOT ('a' < 'B' AND '_' < 'a') THEN \
                RAISE 'the database does not sort in the en-US order'; \
             END IF; END $$",
        )
        .await;
        databases.push(db);
    }
    for db in databases {
        let store = db.open().await;
        let queue = Queue::new(store.clone());
        let listed = ["https://h/a", "https://h/_", "https://h/Z", "https://h/B"];
        list(&store, &listed.map(|url| git(url, None))).await;
        let grants = grab(&queue, 10, Policy::NeverVisitedOldestUpdateFirst).await;
        assert_eq!(
            urls(&grants),
            ["https://h/B", "https://h/Z", "https://h/_", "https://h/a"],
            "{}",
            db.url
        );
        db.drop_database().await;
    }
}

lister_store::backend_tests!(
    never_visited_oldest_update_first_puts_unknown_updates_last,
    grants_carry_the_listing_and_a_lease,
    oldest_scheduled_first_puts_never_scheduled_first,
    already_visited_order_by_lag_puts_the_largest_lag_first,
    default_mixes_and_fills_the_batch,
    cooldowns_follow_the_outcome,
    an_expired_lease_returns_its_origin_and_its_ack_is_refused,
    a_late_ack_of_a_lease_nobody_took_over_is_recorded,
    leased_origins_are_not_granted_twice,
    ack_many_records_each_and_refuses_the_stale,
    three_not_found_disable_until_reenabled,
    one_origin_across_listers_and_disabled_listings,
    a_complete_pass_disables_what_it_did_not_see,
    stats_split_enabled_origins,
);
