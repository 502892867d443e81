//! SQLite's schema beyond what the store contract sees: the migration that respells
//! visit_stats's CHECK reverts and reapplies without losing a row, the check still holds, and
//! an insert into visit_stats builds no temporary B-tree (what made every fold's trigger slow),
//! and a sighting's time is text in the format diesel writes every other time in.

use diesel::migration::MigrationSource;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use lister_core::store::{PageWrite, StateWrite};
use lister_core::testing::{TestDatabase, commit_origins};
use lister_core::{ListerKey, Origin};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[derive(QueryableByName, Debug, PartialEq)]
struct VisitStatsRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    url: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    enabled_listings: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    last_visit_status: Option<String>,
}

#[derive(QueryableByName)]
struct Opcode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    opcode: String,
}

/// A store with two listed origins, one of them visited, and a raw connection to it.
async fn listed_store() -> (TestDatabase, SqliteConnection) {
    let database = TestDatabase::sqlite();
    let store = database.open().await;
    let lister = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let origins = [
        Origin::new("https://github.com/a/one", "git"),
        Origin::new("https://github.com/b/two", "git"),
    ];
    commit_origins(&store, &lister, &origins).await;
    store.fold_sightings(None).await.unwrap();
    drop(store);
    let path = database.url.trim_start_matches("sqlite://").to_owned();
    let mut conn = SqliteConnection::establish(&path).unwrap();
    diesel::sql_query("UPDATE visit_stats SET last_visit_status = 'failed' WHERE url LIKE '%one'")
        .execute(&mut conn)
        .unwrap();
    (database, conn)
}

fn visit_stats(conn: &mut SqliteConnection) -> Vec<VisitStatsRow> {
    diesel::sql_query(
        "SELECT url, enabled_listings, last_visit_status FROM visit_stats ORDER BY url",
    )
    .load(conn)
    .unwrap()
}

/// The opcodes SQLite compiles `sql` to.
fn opcodes(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
    let program: Vec<Opcode> = diesel::sql_query(format!("EXPLAIN {sql}"))
        .load(conn)
        .unwrap();
    program.into_iter().map(|row| row.opcode).collect()
}

const INSERT: &str = "INSERT INTO visit_stats (url, visit_type) VALUES ('https://x.org/y', 'git')";

#[tokio::test]
async fn the_check_migration_reverts_and_reapplies_keeping_every_row() {
    let (database, mut conn) = listed_store().await;
    let before = visit_stats(&mut conn);
    assert_eq!(before.len(), 2);
    assert_eq!(before[0].last_visit_status.as_deref(), Some("failed"));

    let migrations = MigrationSource::<Sqlite>::migrations(&MIGRATIONS).unwrap();
    let respelled = migrations
        .iter()
        .find(|migration| {
            migration
                .name()
                .to_string()
                .ends_with("_visit_stats_check_without_in")
        })
        .expect("the migration is embedded");
    conn.revert_migration(respelled.as_ref()).unwrap();
    assert_eq!(visit_stats(&mut conn), before);
    assert!(opcodes(&mut conn, INSERT).contains(&"OpenEphemeral".to_owned()));

    conn.run_pending_migrations(MIGRATIONS).unwrap();
    assert_eq!(visit_stats(&mut conn), before);
    // The queue's triggers came back with the table: a new listing still counts.
    diesel::sql_query(
        "INSERT INTO listed_origins (lister_id, url, visit_type, first_seen, last_seen) \
         SELECT id, 'https://github.com/b/two', 'git', updated, updated FROM listers \
         WHERE name = 'github' AND instance = 'default' \
         ON CONFLICT DO UPDATE SET enabled = 0",
    )
    .execute(&mut conn)
    .unwrap();
    assert_eq!(visit_stats(&mut conn)[1].enabled_listings, 0);
    database.drop_database().await;
}

#[tokio::test]
async fn visit_stats_still_rejects_an_unknown_visit_status() {
    let (database, mut conn) = listed_store().await;
    let set = |status: &str| format!("UPDATE visit_stats SET last_visit_status = '{status}'");
    for known in ["successful", "failed", "not_found"] {
        diesel::sql_query(set(known)).execute(&mut conn).unwrap();
    }
    let error = diesel::sql_query(set("lost"))
        .execute(&mut conn)
        .unwrap_err();
    assert!(
        error.to_string().contains("CHECK constraint failed"),
        "{error}"
    );
    database.drop_database().await;
}

#[tokio::test]
async fn an_insert_into_visit_stats_builds_no_temporary_btree() {
    let (database, mut conn) = listed_store().await;
    let program = opcodes(&mut conn, INSERT);
    assert!(program.contains(&"Insert".to_owned()), "{program:?}");
    assert!(
        !program.contains(&"OpenEphemeral".to_owned()),
        "{program:?}"
    );
    database.drop_database().await;
}

#[derive(QueryableByName, Debug)]
struct Times {
    #[diesel(sql_type = diesel::sql_types::Text)]
    updated: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    first_seen: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
}

/// A commit writes its time once through diesel (the lister's `updated`) and once per
/// sighting, formatted ahead: both must be the same text, since SQLite compares times as text
/// (a full pass disables what was last seen before it started).
#[tokio::test]
async fn a_sighting_time_is_the_text_diesel_writes() {
    let database = TestDatabase::sqlite();
    let store = database.open().await;
    let lister = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let origins = [Origin::new("https://github.com/a/one", "git")];
    let write = PageWrite {
        lister: &lister,
        origins: &origins,
        state: Some(StateWrite::new(&1, lister.state_version).unwrap()),
        pages: &[],
    };
    store.commit_page(write).await.unwrap();
    store.fold_sightings(None).await.unwrap();
    drop(store);
    let path = database.url.trim_start_matches("sqlite://").to_owned();
    let mut conn = SqliteConnection::establish(&path).unwrap();
    let times: Times = diesel::sql_query(
        "SELECT l.updated, o.first_seen, typeof(o.first_seen) AS kind \
         FROM listers AS l JOIN listed_origins AS o ON o.lister_id = l.id",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(times.kind, "text");
    assert_eq!(times.first_seen, times.updated, "{times:?}");
}
