//! Grab + ack throughput: consumers take batches of 100 with the default policy and ack each
//! batch at once, until the queue is drained. One line per figure:
//!
//! ```text
//! cargo bench -p lister-core --bench queue            # SQLite
//! LISTER_TEST_POSTGRES_URL=postgres://… cargo bench -p lister-core --bench queue
//! LISTER_TEST_POSTGRES_URL=postgres://… cargo bench -p lister-core --bench queue -- postgres
//! ```

use std::time::{Duration, Instant};

use lister_core::store::PageWrite;
use lister_core::{ListerKey, Origin};
use lister_queue::{AckRequest, Policy, Queue, VisitStatus};
use lister_store::Store;
use lister_store::testing::TestDatabase;

const ORIGINS: usize = 100_000;
const BATCH: usize = 100;

#[tokio::main]
async fn main() {
    // `cargo bench --bench queue -- postgres` runs one backend (cargo adds `--bench`).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wanted = |backend: &str| only.is_empty() || only.iter().any(|name| name == backend);
    if wanted("sqlite") {
        let sqlite = TestDatabase::sqlite();
        run("sqlite", &sqlite, 1).await;
        sqlite.drop_database().await;
    }
    if wanted("postgres") {
        match TestDatabase::postgres().await {
            Some(postgres) => {
                run("postgres", &postgres, 4).await;
                postgres.drop_database().await;
            }
            None => println!("queue postgres: skipped (LISTER_TEST_POSTGRES_URL is not set)"),
        }
    }
}

async fn run(backend: &str, db: &TestDatabase, consumers: usize) {
    let store = db.open().await;
    seed(&store).await;
    let queue = Queue::new(store);
    let started = Instant::now();
    let tasks: Vec<_> = (0..consumers)
        .map(|_| tokio::spawn(consume(queue.clone())))
        .collect();
    let mut visited = 0;
    for task in tasks {
        visited += task.await.expect("a consumer panicked");
    }
    let elapsed = started.elapsed();
    assert_eq!(visited, ORIGINS, "every origin visited once");
    println!(
        "queue {backend}: {consumers} consumer(s), batches of {BATCH}: {visited} origins grabbed \
         and acked in {elapsed:.2?} = {:.0} origins/s",
        visited as f64 / elapsed.as_secs_f64()
    );
}

async fn seed(store: &Store) {
    let lister = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let origins: Vec<Origin> = (0..ORIGINS)
        .map(|i| Origin::new(format!("https://h/{i:06}"), "git"))
        .collect();
    for page in origins.chunks(1000) {
        let write = PageWrite {
            lister: &lister,
            origins: page.to_vec(),
            state: None,
            pages: &[],
        };
        store.commit_page(write).await.unwrap();
    }
    // As a listing run does before it ends: grabs measure the queue, not the fold.
    store.fold_sightings(None).await.unwrap();
}

/// Grabs and acks batches until none is due; returns how many origins it visited.
async fn consume(queue: Queue) -> usize {
    let mut visited = 0;
    loop {
        let grants = queue
            .grab("git", BATCH, Policy::Default, Duration::from_secs(3600))
            .await
            .unwrap();
        if grants.is_empty() {
            return visited;
        }
        let acks: Vec<AckRequest> = grants
            .into_iter()
            .map(|grant| AckRequest {
                lease_token: grant.lease_token,
                status: VisitStatus::Successful,
                visited_at: None,
            })
            .collect();
        for outcome in queue.ack_many(&acks).await.unwrap() {
            outcome.unwrap();
            visited += 1;
        }
    }
}
