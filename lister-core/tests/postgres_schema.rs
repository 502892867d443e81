//! PostgreSQL's schema beyond what the store contract sees: the migration that keys
//! listed_origins by origin first reverts and reapplies without losing a row, and a fold
//! still finds the key it upserts on afterwards.
//! Skipped (with a printed reason) when `LISTER_TEST_POSTGRES_URL` is unset.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use lister_core::store::Folded;
use lister_core::testing::{TestDatabase, commit_origins};
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

    let migrations = MigrationSource::<Pg>::migrations(&MIGRATIONS).unwrap();
    let migration = migrations
        .iter()
        .find(|migration| {
            migration
                .name()
                .to_string()
                .ends_with("_listed_origins_keyed_by_origin")
        })
        .expect("the migration is embedded");
    conn.revert_migration(migration.as_ref()).unwrap();
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
    assert_eq!(folded, Folded { new: 1, updated: 1 });
    drop(store);
    database.drop_database().await;
}
