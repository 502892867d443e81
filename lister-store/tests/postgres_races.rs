//! PostgreSQL inserts new origins plainly (without `ON CONFLICT`) in a fold, and the queue's
//! trigger does the same after an insert of 1,000 rows or more. These tests commit the same
//! origin from another transaction while such an insert waits on it: the insert meets a
//! unique violation, and falls back to an upsert.
//! Skipped (with a printed reason) when `LISTER_TEST_POSTGRES_URL` is unset.

use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use lister_core::store::Folded;
use lister_core::{ListerKey, Origin};
use lister_store::testing::{TestDatabase, commit_origins};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Listing {
    #[diesel(sql_type = Text)]
    first_seen: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    enabled_listings: Option<i64>,
}

async fn connect(database: &TestDatabase) -> AsyncPgConnection {
    AsyncPgConnection::establish(&database.url).await.unwrap()
}

/// Waits until some session of the database waits on a lock (another transaction's row).
async fn until_a_session_waits_on_a_lock(conn: &mut AsyncPgConnection) {
    let started = Instant::now();
    loop {
        let waiting = sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result::<Count>(conn)
        .await
        .unwrap();
        if waiting.n > 0 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "nothing waits");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How `url` is listed by lister `lister_id`, and how many enabled listings the queue counts.
async fn listing(conn: &mut AsyncPgConnection, lister_id: i64, url: &str) -> Listing {
    sql_query(
        "SELECT o.first_seen::text AS first_seen, v.enabled_listings::bigint AS enabled_listings \
         FROM listed_origins o LEFT JOIN visit_stats v USING (url, visit_type) \
         WHERE o.lister_id = $1 AND o.url = $2",
    )
    .bind::<BigInt, _>(lister_id)
    .bind::<Text, _>(url)
    .get_result(conn)
    .await
    .unwrap()
}

fn insert_listed(lister_id: i64, url: &str) -> String {
    format!(
        "INSERT INTO listed_origins (lister_id, url, visit_type, first_seen, last_seen) \
         VALUES ({lister_id}, '{url}', 'git', '2000-01-01', '2000-01-01')"
    )
}

#[tokio::test]
async fn a_fold_meeting_an_origin_committed_meanwhile_upserts_it() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let store = database.open().await;
    let lister = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let origins = [
        Origin::new("https://x.test/a", "git"),
        Origin::new("https://x.test/b", "git"),
    ];
    commit_origins(&store, &lister, &origins).await;

    // Another transaction lists `a` first, and commits once the fold waits on it.
    let mut other = connect(&database).await;
    let insert = insert_listed(lister.id, "https://x.test/a");
    other
        .batch_execute(&format!("BEGIN; {insert}"))
        .await
        .unwrap();
    let fold = tokio::spawn({
        let store = store.clone();
        async move { store.fold_sightings(Some(lister.id)).await }
    });
    let mut watcher = connect(&database).await;
    until_a_session_waits_on_a_lock(&mut watcher).await;
    other.batch_execute("COMMIT").await.unwrap();
    let folded = fold.await.unwrap().unwrap();

    assert_eq!(
        folded,
        Folded {
            new: 1,
            updated: 1,
            quarantined: 0
        }
    );
    let a = listing(&mut watcher, lister.id, "https://x.test/a").await;
    let b = listing(&mut watcher, lister.id, "https://x.test/b").await;
    assert_eq!(
        a.first_seen, "2000-01-01 00:00:00",
        "the first sighting is kept"
    );
    assert_eq!((a.enabled_listings, b.enabled_listings), (Some(1), Some(1)));
    let left = sql_query("SELECT count(*) AS n FROM origin_sightings")
        .get_result::<Count>(&mut watcher)
        .await
        .unwrap();
    assert_eq!(left.n, 0, "every sighting folded once");
    drop((store, other, watcher));
    database.drop_database().await;
}

#[tokio::test]
async fn two_listings_racing_to_list_one_origin_both_count_in_the_queue() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let store = database.open().await;
    let github = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let mirror = store
        .register_lister(&ListerKey::new("github", "mirror"))
        .await
        .unwrap();
    let url = "https://x.test/500";

    // The mirror's listing inserts one origin (and its queue row) without committing. The
    // other listing inserts 1,000 origins at once, which the trigger inserts plainly into the
    // queue: it waits on the uncommitted queue row.
    let mut first = connect(&database).await;
    let insert = insert_listed(mirror.id, url);
    first
        .batch_execute(&format!("BEGIN; {insert}"))
        .await
        .unwrap();
    let mut second = connect(&database).await;
    let many = format!(
        "INSERT INTO listed_origins (lister_id, url, visit_type, first_seen, last_seen) \
         SELECT {}, 'https://x.test/' || i, 'git', '2000-01-01', '2000-01-01' \
         FROM generate_series(1, 1000) AS i",
        github.id
    );
    let racing = tokio::spawn(async move {
        let result = second.batch_execute(&many).await;
        (second, result)
    });
    let mut watcher = connect(&database).await;
    until_a_session_waits_on_a_lock(&mut watcher).await;
    first.batch_execute("COMMIT").await.unwrap();
    let (_second, result) = racing.await.unwrap();

    result.expect("the second insert falls back to an upsert");
    let counted = listing(&mut watcher, github.id, url).await.enabled_listings;
    assert_eq!(counted, Some(2), "both listings count");
    let queued = sql_query("SELECT sum(enabled_listings)::bigint AS n FROM visit_stats")
        .get_result::<Count>(&mut watcher)
        .await
        .unwrap();
    assert_eq!(queued.n, 1001, "one listing for each other origin");
    drop((store, first, watcher));
    database.drop_database().await;
}
