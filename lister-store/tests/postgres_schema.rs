//! PostgreSQL's schema beyond what the store contract sees: origins compare byte by byte and
//! are keyed by origin first, a fold finds the key it upserts on, and the queue's trigger
//! gives a large insert's origins the rows its definition says.
//! Skipped (with a printed reason) when `LISTER_TEST_POSTGRES_URL` is unset.

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use lister_core::store::Folded;
use lister_core::{ListerKey, Origin};
use lister_store::testing::{TestDatabase, commit_origins};

type Connection = AsyncConnectionWrapper<AsyncPgConnection>;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    definition: String,
}

fn definitions(conn: &mut Connection, sql: &str) -> Vec<String> {
    let rows: Vec<Definition> = diesel::sql_query(sql).load(conn).unwrap();
    rows.into_iter().map(|row| row.definition).collect()
}

/// Each origin column with its collation, and listed_origins's indexes.
fn origin_schema(url: String) -> (Vec<String>, Vec<String>) {
    let mut conn: Connection = diesel::Connection::establish(&url).unwrap();
    let collations = definitions(
        &mut conn,
        "SELECT table_name || '.' || column_name || ' ' || coalesce(collation_name, 'default') \
            AS definition \
         FROM information_schema.columns \
         WHERE column_name IN ('url', 'visit_type') AND table_name IN \
            ('listed_origins', 'visit_stats', 'origin_sightings', 'page_validators') \
         ORDER BY 1",
    );
    let indexes = definitions(
        &mut conn,
        "SELECT indexdef AS definition FROM pg_indexes WHERE tablename = 'listed_origins' \
         ORDER BY indexname",
    );
    (collations, indexes)
}

fn count(conn: &mut Connection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

#[tokio::test]
async fn origins_compare_byte_by_byte_keyed_by_origin_and_a_fold_finds_its_key() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let store = database.open().await;
    let url = database.url.clone();
    let (collations, indexes) = tokio::task::spawn_blocking(move || origin_schema(url))
        .await
        .unwrap();
    assert_eq!(collations.len(), 7, "{collations:?}");
    assert!(
        collations.iter().all(|c| c.ends_with(" C")),
        "{collations:?}"
    );
    assert_eq!(indexes.len(), 1, "only the key: {indexes:?}");
    assert!(
        indexes[0].ends_with("(url, visit_type, lister_id)"),
        "{indexes:?}"
    );

    let github = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let mirror = store
        .register_lister(&ListerKey::new("github", "mirror"))
        .await
        .unwrap();
    let shared = Origin::new("https://github.com/a/one", "git");
    commit_origins(&store, &github, std::slice::from_ref(&shared)).await;
    commit_origins(&store, &mirror, std::slice::from_ref(&shared)).await;
    store.fold_sightings(None).await.unwrap();
    // A fold upserts on the key: the shared origin again is an update, a new one new.
    let two = Origin::new("https://github.com/b/two", "git");
    commit_origins(&store, &github, &[shared, two]).await;
    let folded = store.fold_sightings(Some(github.id)).await.unwrap();
    let expected = Folded {
        new: 1,
        updated: 1,
        quarantined: 0,
    };
    assert_eq!(folded, expected);
    drop(store);
    database.drop_database().await;
}

/// Two listers insert 1,200 and 1,500 origins (600 of them shared) in one statement each, so
/// the trigger takes its set-based way; some listings are disabled, and the second lister's
/// `last_update` is later than the first's for some shared origins and earlier for others.
/// Every queue row is then the one its definition gives: the latest update among the
/// origin's listings, and how many of them are enabled.
fn insert_two_large_listings(url: String) -> (i64, i64) {
    let mut conn: Connection = diesel::Connection::establish(&url).unwrap();
    for (lister, from, to, enabled) in [(1, 1, 1200, "i % 3 <> 0"), (2, 601, 2100, "i % 2 = 0")] {
        diesel::sql_query(format!(
            "INSERT INTO listed_origins \
                (lister_id, url, visit_type, first_seen, last_seen, last_update, enabled) \
             SELECT {lister}, 'https://x.test/' || i, 'git', '2000-01-01', '2000-01-01', \
                timestamp '2001-01-01' + (CASE WHEN {lister} = 1 THEN i ELSE 2100 - i END) \
                    * interval '1 day', \
                {enabled} \
             FROM generate_series({from}, {to}) AS i"
        ))
        .execute(&mut conn)
        .unwrap();
    }
    let differing = count(
        &mut conn,
        "WITH expected AS ( \
            SELECT url, visit_type, max(last_update) AS last_update, \
                count(*) FILTER (WHERE enabled)::int AS enabled_listings \
            FROM listed_origins GROUP BY url, visit_type \
         ), queued AS ( \
            SELECT url, visit_type, last_update, enabled_listings FROM visit_stats \
         ) \
         SELECT count(*) AS n FROM ( \
            (SELECT * FROM expected EXCEPT SELECT * FROM queued) \
            UNION ALL (SELECT * FROM queued EXCEPT SELECT * FROM expected) \
         ) AS differences",
    );
    (
        count(&mut conn, "SELECT count(*) AS n FROM visit_stats"),
        differing,
    )
}

#[tokio::test]
async fn a_large_insert_gives_the_queue_the_rows_its_definition_says() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    drop(database.open().await);
    let url = database.url.clone();
    let (queued, differing) = tokio::task::spawn_blocking(move || insert_two_large_listings(url))
        .await
        .unwrap();
    assert_eq!(queued, 2100);
    assert_eq!(differing, 0, "queue rows that differ from their listings");
    database.drop_database().await;
}
