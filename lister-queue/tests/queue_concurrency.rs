//! Eight consumers drain 100,000 origins at once (10,000 on SQLite): every origin is granted
//! exactly once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use lister_core::{Backend, ListerKey, Origin};
use lister_queue::{AckRequest, Policy, Queue, VisitStatus};
use lister_store::Store;
use lister_store::testing::{TestDatabase, commit_origins};

const ORIGINS: usize = 100_000;
const GRABBERS: usize = 8;
const BATCH: usize = 100;

async fn seed(store: &Store, count: usize) {
    let lister = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let origins: Vec<Origin> = (0..count)
        .map(|i| Origin::new(format!("https://h/{i:06}"), "git"))
        .collect();
    for page in origins.chunks(1000) {
        commit_origins(store, &lister, page).await;
    }
}

/// Grabs batches until none is due, acking every other batch at once and leaving the others
/// leased; returns every URL granted.
async fn consume(queue: Queue) -> Vec<String> {
    let mut granted = Vec::new();
    for round in 0.. {
        let grants = queue
            .grab("git", BATCH, Policy::Default, Duration::from_secs(3600))
            .await
            .unwrap();
        if grants.is_empty() {
            return granted;
        }
        if round % 2 == 0 {
            let acks: Vec<AckRequest> = grants
                .iter()
                .map(|grant| AckRequest {
                    lease_token: grant.lease_token.clone(),
                    status: VisitStatus::Successful,
                    visited_at: None,
                })
                .collect();
            for outcome in queue.ack_many(&acks).await.unwrap() {
                outcome.unwrap();
            }
        }
        granted.extend(grants.into_iter().map(|grant| grant.url));
    }
    unreachable!("the loop returns")
}

async fn eight_grabbers_drain_the_queue_each_origin_once(db: TestDatabase) {
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    // SQLite runs one grab at a time anyway; a smaller queue keeps the test quick.
    let origins = match store.backend() {
        Backend::Postgres => ORIGINS,
        Backend::Sqlite => ORIGINS / 10,
    };
    let started = Instant::now();
    seed(&store, origins).await;
    let seeded = started.elapsed();

    let started = Instant::now();
    let consumers: Vec<_> = (0..GRABBERS)
        .map(|_| tokio::spawn(consume(queue.clone())))
        .collect();
    let mut all = Vec::with_capacity(origins);
    for consumer in consumers {
        all.extend(consumer.await.unwrap());
    }
    eprintln!(
        "{}: seeded {origins} origins in {seeded:.1?}; {GRABBERS} grabbers drained them in {:.1?}",
        db.url,
        started.elapsed()
    );

    assert_eq!(all.len(), origins, "granted in all (none lost)");
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), origins, "none granted twice");
    let stats = queue.queue_stats().await.unwrap();
    assert_eq!(stats[0].due_now, 0);
    assert_eq!(stats[0].leased_now + stats[0].cooling_down, origins as i64);
    assert!(stats[0].leased_now > 0 && stats[0].cooling_down > 0);
    db.drop_database().await;
}

lister_store::backend_tests!(eight_grabbers_drain_the_queue_each_origin_once,);
