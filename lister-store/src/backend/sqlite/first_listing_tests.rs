//! A first listing's fold gives the queue the rows its triggers would have (see
//! `queue_rows_after_fold`), whichever way it counts new origins.

use chrono::{DateTime, TimeZone, Utc};
use diesel::SqliteConnection;

use super::fold::{NewOrigins, fold_counting};
use crate::testing::{TestDatabase, commit_origins, register_github};
use crate::{ListerRecord, Store};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use lister_core::Origin;

#[derive(QueryableByName, Debug, PartialEq)]
struct QueueRow {
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Nullable<Text>)]
    last_update: Option<String>,
    #[diesel(sql_type = BigInt)]
    enabled_listings: i64,
}

fn day(day: u32) -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap())
}

fn origin(name: &str, last_update: Option<DateTime<Utc>>) -> Origin {
    Origin::new(format!("https://x.test/{name}"), "git").with_last_update(last_update)
}

/// Pages that repeat origins with an earlier update (`a`), with no update (`b`), and
/// disabled (`c`), beside an origin that another instance lists (`shared`).
async fn commit_repeating_pages(store: &Store, lister: &ListerRecord) {
    let pages = [
        vec![
            origin("a", day(3)),
            origin("b", day(2)),
            origin("shared", day(1)),
            origin("c", day(1)),
        ],
        vec![
            origin("a", day(1)),
            origin("b", None),
            origin("c", day(1)).with_enabled(false),
        ],
        vec![origin("d", None)],
    ];
    for page in &pages {
        commit_origins(store, lister, page).await;
    }
}

fn queue_rows(conn: &mut SqliteConnection) -> Vec<QueueRow> {
    diesel::sql_query(
        "SELECT url, strftime('%d', last_update) AS last_update, enabled_listings \
         FROM visit_stats ORDER BY url",
    )
    .load(conn)
    .unwrap()
}

#[derive(QueryableByName)]
struct Trigger {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

fn triggers(conn: &mut SqliteConnection) -> Vec<(String, String)> {
    let all = "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name";
    let triggers = diesel::sql_query(all).load::<Trigger>(conn).unwrap();
    triggers.into_iter().map(|t| (t.name, t.sql)).collect()
}

/// Bumped by every change to the schema: by a fold that dropped and created the triggers.
fn schema_version(conn: &mut SqliteConnection) -> i64 {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = BigInt)]
        schema_version: i64,
    }
    let query = "SELECT schema_version FROM pragma_schema_version()";
    let version = diesel::sql_query(query)
        .get_result::<Version>(conn)
        .unwrap();
    version.schema_version
}

fn row(name: &str, day: Option<&str>, enabled_listings: i64) -> QueueRow {
    let url = format!("https://x.test/{name}");
    let last_update = day.map(str::to_owned);
    QueueRow {
        url,
        last_update,
        enabled_listings,
    }
}

/// A first listing's fold, which writes the queue's rows afterwards when it counts by
/// difference (and through the triggers when it counts by sightings), gives the queue the same rows as the triggers do (counting by sightings):
/// the latest update of every sighting, enabled listings as the last sighting says, and
/// another instance's listing of the same origin merged in. The triggers are there again
/// afterwards, unchanged, and the next fold's new origin goes through them.
#[tokio::test]
async fn a_first_listing_gives_the_queue_the_rows_its_triggers_would() {
    let mut results = Vec::new();
    for (counting, chunk) in [NewOrigins::ByDifference, NewOrigins::BySightings]
        .into_iter()
        .flat_map(|way| [(way, 2), (way, 100)])
    {
        let database = TestDatabase::sqlite();
        let store = database.open().await;
        let lister = register_github(&store, "default").await;
        let other = register_github(&store, "other").await;
        commit_origins(&store, &other, &[origin("shared", day(5))]).await;
        store.fold_sightings(None).await.unwrap();
        commit_repeating_pages(&store, &lister).await;
        let mut conn = database.sqlite_connection();
        let triggers_before = triggers(&mut conn);
        let version_before = schema_version(&mut conn);
        let counts = conn
            .immediate_transaction(|conn| fold_counting(conn, Some(lister.id), chunk, counting))
            .unwrap();

        let case = format!("{counting:?} in chunks of {chunk}");
        assert_eq!((counts.sightings, counts.new), (8, 5), "{case}");
        assert_eq!(triggers(&mut conn), triggers_before, "{case}");
        assert_eq!(triggers_before.len(), 3, "{case}");
        let deferred = schema_version(&mut conn) != version_before;
        assert_eq!(deferred, counting == NewOrigins::ByDifference, "{case}");
        let expected = vec![
            row("a", Some("03"), 1),
            row("b", Some("02"), 1),
            row("c", Some("01"), 0),
            row("d", None, 1),
            row("shared", Some("05"), 2),
        ];
        assert_eq!(queue_rows(&mut conn), expected, "{case}");
        results.push(queue_rows(&mut conn));

        drop(conn);
        commit_origins(&store, &lister, &[origin("e", day(7))]).await;
        store.fold_sightings(None).await.unwrap();
        let mut conn = database.sqlite_connection();
        let e = row("e", Some("07"), 1);
        assert!(queue_rows(&mut conn).contains(&e), "{case}");
        database.drop_database().await;
    }
    assert!(results.windows(2).all(|pair| pair[0] == pair[1]));
}

/// Folding every instance at once into an empty store: two instances listing the same
/// origin in the fold give it one queue row with two enabled listings.
#[tokio::test]
async fn a_first_fold_of_every_instance_merges_their_listings_of_an_origin() {
    let database = TestDatabase::sqlite();
    let store = database.open().await;
    let lister = register_github(&store, "default").await;
    let other = register_github(&store, "other").await;
    commit_origins(&store, &other, &[origin("shared", day(5))]).await;
    commit_repeating_pages(&store, &lister).await;
    let mut conn = database.sqlite_connection();
    let counts = conn
        .immediate_transaction(|conn| fold_counting(conn, None, 100, NewOrigins::ByDifference))
        .unwrap();

    assert_eq!((counts.sightings, counts.new), (9, 6));
    let shared = queue_rows(&mut conn).pop();
    assert_eq!(shared, Some(row("shared", Some("05"), 2)));
    database.drop_database().await;
}
