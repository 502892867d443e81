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
