//! SQLite's schema beyond what the store contract sees: the queue's triggers follow listings,
//! a lookup by origin searches listed_origins's key, a fold's delete of every sighting empties
//! the table at once, visit_stats's check holds, an insert into visit_stats builds no
//! temporary B-tree (what made every fold's trigger slow), and a sighting's time is text in
//! the format diesel writes every other time in.

use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};
use lister_core::store::{ListerRecord, PageWrite, StateWrite};
use lister_core::{ListerKey, Origin};
use lister_store::Store;
use lister_store::testing::{TestDatabase, commit_origins};

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

/// A store where a page of two origins was committed (sightings, not folded yet), its lister
/// and the origins.
async fn committed_store() -> (TestDatabase, Store, ListerRecord, [Origin; 2]) {
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
    (database, store, lister, origins)
}

/// A store with two listed origins, one of them visited, and a raw connection to it.
async fn listed_store() -> (TestDatabase, SqliteConnection) {
    let (database, store, _, _) = committed_store().await;
    store.fold_sightings(None).await.unwrap();
    drop(store);
    let mut conn = database.sqlite_connection();
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

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// How SQLite plans `sql`, one step per line.
fn plan(conn: &mut SqliteConnection, sql: &str) -> String {
    let steps: Vec<PlanStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load(conn)
        .unwrap();
    steps.into_iter().map(|step| step.detail + "\n").collect()
}

/// How the queue finds the listings of an origin.
const BY_ORIGIN: &str = "SELECT lister_id FROM listed_origins WHERE url = 'https://github.com/a/one' AND visit_type = 'git'";

/// A new listing enters the queue and a disabled one leaves it, through the triggers; the
/// queue finds an origin's listings by listed_origins's key.
#[tokio::test]
async fn listings_enter_and_leave_the_queue_through_the_triggers() {
    let (database, mut conn) = listed_store().await;
    let steps = plan(&mut conn, BY_ORIGIN);
    assert!(
        steps.contains("SEARCH listed_origins USING PRIMARY KEY (url=? AND visit_type=?)"),
        "{steps}"
    );
    diesel::sql_query(
        "INSERT INTO listed_origins (lister_id, url, visit_type, first_seen, last_seen) \
         SELECT id, 'https://github.com/c/three', 'git', updated, updated FROM listers",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("UPDATE listed_origins SET enabled = 0 WHERE url LIKE '%two'")
        .execute(&mut conn)
        .unwrap();
    let listed: Vec<(String, i32)> = visit_stats(&mut conn)
        .into_iter()
        .map(|row| (row.url, row.enabled_listings))
        .collect();
    assert_eq!(
        listed,
        [
            ("https://github.com/a/one".to_owned(), 1),
            ("https://github.com/b/two".to_owned(), 0),
            ("https://github.com/c/three".to_owned(), 1),
        ]
    );
    assert_eq!(
        visit_stats(&mut conn)[0].last_visit_status.as_deref(),
        Some("failed")
    );
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
    let write = PageWrite {
        lister: &lister,
        origins: vec![Origin::new("https://github.com/a/one", "git")],
        state: Some(StateWrite::new(&1, lister.state_version).unwrap()),
        pages: &[],
    };
    store.commit_page(write).await.unwrap();
    store.fold_sightings(None).await.unwrap();
    drop(store);
    let mut conn = database.sqlite_connection();
    let times: Times = diesel::sql_query(
        "SELECT l.updated, o.first_seen, typeof(o.first_seen) AS kind \
         FROM listers AS l JOIN listed_origins AS o ON o.lister_id = l.id",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(times.kind, "text");
    assert_eq!(times.first_seen, times.updated, "{times:?}");
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Sighting {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    url: String,
}

fn sightings(conn: &mut SqliteConnection) -> Vec<Sighting> {
    diesel::sql_query("SELECT id, url FROM origin_sightings ORDER BY id")
        .load(conn)
        .unwrap()
}

/// Sightings not folded yet (as a killed run leaves them) are folded, then deleted at once:
/// origin_sightings is no foreign key's child, so SQLite frees its pages in one step
/// (`Clear`) instead of deleting row by row.
#[tokio::test]
async fn a_fold_deletes_every_sighting_at_once() {
    let (database, store, lister, origins) = committed_store().await;
    commit_origins(&store, &lister, &origins[1..]).await;
    drop(store);
    let mut conn = database.sqlite_connection();
    // As every connection of the store has it: a key is checked only when this is on.
    diesel::sql_query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .unwrap();
    assert_eq!(sightings(&mut conn).len(), 3);
    let program = opcodes(&mut conn, "DELETE FROM origin_sightings");
    assert!(program.contains(&"Clear".to_owned()), "{program:?}");
    drop(conn);
    let store = database.open().await;
    let folded = store.fold_sightings(None).await.unwrap();
    assert_eq!((folded.new, folded.updated), (2, 1));
    drop(store);
    let mut conn = database.sqlite_connection();
    assert_eq!(sightings(&mut conn), []);
    database.drop_database().await;
}
