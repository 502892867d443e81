//! A first listing's SQLite fold writes the queue's rows after its upsert, in one sorted
//! statement, instead of through the queue's per-row triggers.
//!
//! The queue's insert trigger on `listed_origins` runs a small program for every origin
//! inserted. Folding 100,000 new origins, the upsert took 0.44–0.48 s with it and 0.15 s
//! without; filling `visit_stats` afterwards from `listed_origins` took 0.18 s, and the
//! commit, with the queue's pages written in order, 0.10 s instead of 0.13–0.15 s (sqlite3
//! shell). A fold does this only when the instance (or, folding every instance, the store)
//! lists no origin yet: then every row of its `listed_origins` is new to this fold, and one
//! statement gives each its queue row, exactly as the trigger would have.
//!
//! The triggers are dropped inside the fold's immediate transaction and created again from
//! their stored SQL before it commits: no other connection ever sees the schema without them,
//! and a failed fold rolls back to it. A sighting that repeats an origin within the fold
//! updates the origin's row, which the queue's update trigger would have followed; a
//! temporary trigger of this connection keeps the only part the final statement cannot
//! recompute, the earlier sightings' `last_update` (the queue keeps the latest of all).

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};

/// The queue's triggers that a fold's upsert fires, and that a first listing's fold drops.
const FOLD_TRIGGERS: &str = "\
    SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'listed_origins' \
        AND name IN ('listed_origins_insert_visit_stats', 'listed_origins_update_visit_stats') \
    ORDER BY name";

/// The queue's rule for `visit_stats` (the same as its triggers'): the latest `last_update`
/// any listing reported, and one more enabled listing per enabled listed origin.
const MERGE_INTO_QUEUE_ROW: &str = "\
    ON CONFLICT (url, visit_type) DO UPDATE \
    SET last_update = coalesce(max(last_update, excluded.last_update), last_update, \
            excluded.last_update), \
        enabled_listings = enabled_listings + excluded.enabled_listings";

/// Keeps, for an origin sighted again within the fold, the `last_update` its earlier sighting
/// reported: a queue row with no enabled listing yet, which the final statement completes.
fn remember_earlier_updates() -> String {
    format!(
        "CREATE TEMP TRIGGER fold_repeated_origin AFTER UPDATE OF last_update \
            ON main.listed_origins WHEN OLD.last_update IS NOT NULL \
        BEGIN \
            INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings) \
            VALUES (OLD.url, OLD.visit_type, OLD.last_update, 0) {MERGE_INTO_QUEUE_ROW}; \
        END"
    )
}

/// Every listed origin of the instance (or of all) into the queue, in the queue's key order.
fn fill_queue() -> String {
    format!(
        "INSERT INTO visit_stats (url, visit_type, last_update, enabled_listings) \
        SELECT url, visit_type, last_update, enabled FROM listed_origins \
        WHERE ?1 IS NULL OR lister_id = ?1 ORDER BY url, visit_type {MERGE_INTO_QUEUE_ROW}"
    )
}

#[derive(QueryableByName)]
struct Trigger {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// The queue's triggers, dropped until [`QueueRowsAfterFold::write`] creates them again.
#[must_use = "the queue's triggers stay dropped until `write` runs"]
pub(super) struct QueueRowsAfterFold {
    triggers: Vec<Trigger>,
}

impl QueueRowsAfterFold {
    /// Drops the queue's fold triggers (keeping their SQL) and remembers repeated origins'
    /// earlier updates instead. Only inside a transaction, before a fold into an instance
    /// with no listed origin. `None`, and nothing changed, unless both triggers are there.
    pub(super) fn defer(conn: &mut SqliteConnection) -> diesel::QueryResult<Option<Self>> {
        let triggers = diesel::sql_query(FOLD_TRIGGERS).load::<Trigger>(conn)?;
        if triggers.len() != 2 {
            return Ok(None);
        }
        for trigger in &triggers {
            diesel::sql_query(format!("DROP TRIGGER \"{}\"", trigger.name)).execute(conn)?;
        }
        diesel::sql_query(remember_earlier_updates()).execute(conn)?;
        Ok(Some(QueueRowsAfterFold { triggers }))
    }

    /// Gives every origin the fold listed its queue row, and creates the triggers again.
    pub(super) fn write(
        self,
        conn: &mut SqliteConnection,
        lister_id: Option<i64>,
    ) -> diesel::QueryResult<()> {
        diesel::sql_query("DROP TRIGGER temp.fold_repeated_origin").execute(conn)?;
        diesel::sql_query(fill_queue())
            .bind::<Nullable<BigInt>, _>(lister_id)
            .execute(conn)?;
        for trigger in self.triggers {
            diesel::sql_query(trigger.sql).execute(conn)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use diesel::SqliteConnection;

    use super::*;
    use crate::fold_sqlite::{NewOrigins, fold_counting};
    use crate::testing::{TestDatabase, commit_origins, register_github};
    use crate::{ListerRecord, Store};
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
}
