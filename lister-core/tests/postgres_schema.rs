//! PostgreSQL's schema beyond what the store contract sees: the migrations that key
//! listed_origins by origin first and that compare origins byte by byte revert and reapply
//! without losing a row, a fold still finds the key it upserts on afterwards, and the queue's
//! trigger gives a large insert's origins the rows its definition says.
//! Skipped (with a printed reason) when `LISTER_TEST_POSTGRES_URL` is unset.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use lister_core::store::Folded;
use lister_core::testing::{TestDatabase, commit_origins, register_github};
use lister_core::{ListerKey, Origin};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

type Connection = AsyncConnectionWrapper<AsyncPgConnection>;

#[derive(QueryableByName, Debug, PartialEq)]
struct ListingRow {
    #[diesel(sql_type = BigInt)]
    lister_id: i64,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    first_seen: String,
}

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

fn listings(conn: &mut Connection) -> Vec<ListingRow> {
    diesel::sql_query(
        "SELECT lister_id, url, first_seen::text AS first_seen FROM listed_origins \
         ORDER BY url, lister_id",
    )
    .load(conn)
    .unwrap()
}

/// The definitions of listed_origins's indexes, in name order.
fn indexes(conn: &mut Connection) -> Vec<String> {
    let rows: Vec<Definition> = diesel::sql_query(
        "SELECT indexdef AS definition FROM pg_indexes WHERE tablename = 'listed_origins' \
         ORDER BY indexname",
    )
    .load(conn)
    .unwrap();
    rows.into_iter().map(|row| row.definition).collect()
}

/// Reverts the key migration, checks, and applies it again (on a blocking thread: the
/// migration harness is synchronous).
fn revert_and_reapply(url: String) -> (Vec<ListingRow>, Vec<ListingRow>, Vec<String>) {
    let mut conn: Connection = diesel::Connection::establish(&url).unwrap();
    let before = listings(&mut conn);
    let keyed_by_origin = indexes(&mut conn);
    assert_eq!(keyed_by_origin.len(), 1, "{keyed_by_origin:?}");
    assert!(keyed_by_origin[0].ends_with("(url, visit_type, lister_id)"));

    revert(&mut conn, "_listed_origins_keyed_by_origin");
    let reverted = indexes(&mut conn);
    assert_eq!(listings(&mut conn), before);
    assert!(reverted[0].ends_with("(url, visit_type)"), "{reverted:?}");
    assert!(
        reverted[1].ends_with("(lister_id, url, visit_type)"),
        "{reverted:?}"
    );

    conn.run_pending_migrations(MIGRATIONS).unwrap();
    (before, listings(&mut conn), indexes(&mut conn))
}

#[tokio::test]
async fn the_key_migration_reverts_and_reapplies_keeping_every_row() {
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
    let shared = Origin::new("https://github.com/a/one", "git");
    commit_origins(&store, &github, std::slice::from_ref(&shared)).await;
    commit_origins(&store, &mirror, std::slice::from_ref(&shared)).await;
    store.fold_sightings(None).await.unwrap();

    let url = database.url.clone();
    let (before, after, indexes) = tokio::task::spawn_blocking(move || revert_and_reapply(url))
        .await
        .unwrap();
    assert_eq!(before.len(), 2);
    assert_eq!(after, before);
    assert_eq!(indexes.len(), 1, "{indexes:?}");

    // A fold upserts on the new key: the shared origin again is an update, a new one new.
    let two = Origin::new("https://github.com/b/two", "git");
    commit_origins(&store, &github, &[shared, two]).await;
    let folded = store.fold_sightings(Some(github.id)).await.unwrap();
    assert_eq!(
        folded,
        Folded {
            new: 1,
            updated: 1,
            quarantined: 0
        }
    );
    drop(store);
    database.drop_database().await;
}

/// Reverts the embedded migration whose name ends with `suffix`.
fn revert(conn: &mut Connection, suffix: &str) {
    let migrations = MigrationSource::<Pg>::migrations(&MIGRATIONS).unwrap();
    let migration = migrations
        .iter()
        .find(|migration| migration.name().to_string().ends_with(suffix))
        .expect("the migration is embedded");
    conn.revert_migration(migration.as_ref()).unwrap();
}

/// The collation of every origin URL and visit type column, "default" when none is declared.
fn origin_collations(conn: &mut Connection) -> Vec<String> {
    let rows: Vec<Definition> = diesel::sql_query(
        "SELECT table_name || '.' || column_name || ' ' || coalesce(collation_name, 'default') \
            AS definition \
         FROM information_schema.columns \
         WHERE column_name IN ('url', 'visit_type') AND table_name IN \
            ('listed_origins', 'visit_stats', 'origin_sightings', 'page_validators') \
         ORDER BY 1",
    )
    .load(conn)
    .unwrap();
    rows.into_iter().map(|row| row.definition).collect()
}

fn count(conn: &mut Connection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

/// Reverts the queue trigger's and the byte order's migrations, checks, applies them again.
fn revert_and_reapply_byte_order(url: String) -> (Vec<ListingRow>, Vec<ListingRow>, Vec<String>) {
    let mut conn: Connection = diesel::Connection::establish(&url).unwrap();
    let before = listings(&mut conn);
    revert(&mut conn, "_visit_stats_probed_once");
    revert(&mut conn, "_origins_in_byte_order");
    let reverted = origin_collations(&mut conn);
    assert_eq!(reverted.len(), 7, "{reverted:?}");
    assert!(
        reverted.iter().all(|c| c.ends_with(" default")),
        "{reverted:?}"
    );
    assert_eq!(listings(&mut conn), before);
    // The update trigger, dropped and created again both ways, still follows the listing.
    diesel::sql_query("UPDATE listed_origins SET enabled = false")
        .execute(&mut conn)
        .unwrap();
    let enabled = "SELECT sum(enabled_listings)::bigint AS n FROM visit_stats";
    assert_eq!(count(&mut conn, enabled), 0);
    diesel::sql_query("UPDATE listed_origins SET enabled = true")
        .execute(&mut conn)
        .unwrap();

    conn.run_pending_migrations(MIGRATIONS).unwrap();
    assert_eq!(count(&mut conn, enabled), 2);
    (before, listings(&mut conn), origin_collations(&mut conn))
}

#[tokio::test]
async fn the_byte_order_migrations_revert_and_reapply_keeping_every_row() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let store = database.open().await;
    let github = register_github(&store, "default").await;
    let origins = [
        Origin::new("https://github.com/a/one", "git"),
        Origin::new("https://github.com/B/two", "git"),
    ];
    commit_origins(&store, &github, &origins).await;
    store.fold_sightings(None).await.unwrap();
    drop(store);

    let url = database.url.clone();
    let (before, after, collations) =
        tokio::task::spawn_blocking(move || revert_and_reapply_byte_order(url))
            .await
            .unwrap();
    assert_eq!(before.len(), 2);
    assert_eq!(after, before);
    assert_eq!(collations.len(), 7, "{collations:?}");
    assert!(
        collations.iter().all(|c| c.ends_with(" C")),
        "{collations:?}"
    );
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
