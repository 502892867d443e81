//! Folding sightings into `listed_origins`.
//!
//! A page commit appends its origins to `origin_sightings`: an append touches one sequential
//! B-tree, where an upsert into `listed_origins` would touch a random leaf of every index on
//! it (and, through the queue's triggers, of `visit_stats`) for every origin. A fold moves
//! the sightings over in one sorted, set-based upsert, so each leaf is written once per fold
//! instead of once per origin. The run loop folds its own sightings while it goes on (every
//! minute on SQLite, continuously on PostgreSQL) and at the end; every reader of
//! `listed_origins` or of the queue folds first. The SQLite fold is here, the PostgreSQL one
//! in `fold_postgres`.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable};

use super::Store;
use super::connection::DbConnection;
use super::schema::origin_sightings;
use crate::{Error, Result};

/// What a fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Origins the store did not know.
    pub new: u64,
    /// Sightings of origins the store knew, or saw more than once in the fold.
    pub updated: u64,
}

#[derive(QueryableByName)]
pub(super) struct Counts {
    #[diesel(sql_type = BigInt)]
    pub(super) sightings: i64,
    #[diesel(sql_type = BigInt)]
    pub(super) new: i64,
}

/// The same upsert rules as a single sighting would follow: `first_seen` is set once (the
/// fold's earliest sighting), the rest takes the latest sighting's values.
pub(super) const ON_CONFLICT: &str = "\
    ON CONFLICT (lister_id, url, visit_type) DO UPDATE SET last_seen = excluded.last_seen, \
        last_update = excluded.last_update, enabled = excluded.enabled, \
        is_fork = excluded.is_fork, extra_loader_arguments = excluded.extra_loader_arguments";

pub(super) const COLUMNS: &str = "lister_id, url, visit_type, first_seen, last_seen, \
    last_update, enabled, is_fork, extra_loader_arguments";

/// SQLite folds in an immediate transaction, which no other writer can interleave with, in
/// chunks of this many sightings (oldest first), so that the sort stays small whatever the
/// number of sightings: SQLite's sorter holds more buffers the more sorted runs it merges.
/// Each chunk writes the leaves of the URL-keyed indexes again, so chunks are as large as
/// memory allows: folding 1,000,000 origins took 19.6 s in chunks of 50,000 and 16.9 s in
/// chunks of 100,000, with peak memory 5 % above a 100,000-origin run's. Chunks of 200,000
/// took 14.4 s but 11 % more memory, and one chunk 13.3 s but 70 % more.
const SQLITE_CHUNK: i64 = 100_000;

/// The last sighting of the next chunk, and how many sightings the chunk holds.
const SQLITE_CHUNK_END: &str = "\
    SELECT max(id) AS id, count(*) AS sightings FROM (SELECT id FROM origin_sightings \
        WHERE ?1 IS NULL OR lister_id = ?1 ORDER BY id LIMIT ?2)";

/// Sightings in the order of `listed_origins`'s key (origin, then lister), each an upsert: a
/// repeated origin's later sightings update its first.
fn sqlite_upsert() -> String {
    format!(
        "INSERT INTO listed_origins ({COLUMNS}) \
        SELECT lister_id, url, visit_type, seen_at, seen_at, last_update, enabled, is_fork, \
            extra_loader_arguments \
        FROM origin_sightings WHERE (?1 IS NULL OR lister_id = ?1) AND id <= ?2 \
        ORDER BY url, visit_type, lister_id, id {ON_CONFLICT}"
    )
}

const SQLITE_DELETE: &str =
    "DELETE FROM origin_sightings WHERE (?1 IS NULL OR lister_id = ?1) AND id <= ?2";

/// Deletes every sighting. Without a `WHERE`, SQLite frees the table's pages in one step
/// instead of deleting row by row (its truncate optimization): 7 ms instead of 28 ms for
/// 100,000 sightings. A fold takes every sighting whenever no other instance's run is
/// committing, so this is the usual case.
const SQLITE_DELETE_ALL: &str = "DELETE FROM origin_sightings";

/// How many sightings there are, of every instance: SQLite counts a table's rows without
/// reading them.
const SQLITE_ALL_SIGHTINGS: &str = "SELECT NULL AS id, count(*) AS sightings FROM origin_sightings";

#[derive(QueryableByName)]
struct ChunkEnd {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    sightings: i64,
}

/// The listed origins of one instance (or of all): a fold's new origins are the difference
/// before and after it. (Sightings of one origin committed together share their time, so
/// comparing an upserted row's first and last sighting cannot tell.)
fn sqlite_listed(
    conn: &mut diesel::SqliteConnection,
    lister_id: Option<i64>,
) -> diesel::QueryResult<i64> {
    use super::schema::listed_origins::{self, table};
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    match lister_id {
        Some(id) => table
            .filter(listed_origins::lister_id.eq(id))
            .count()
            .get_result(conn),
        None => table.count().get_result(conn),
    }
}

/// The SQLite fold: chunk by chunk ([`SQLITE_CHUNK`] sightings each), in one transaction.
fn fold_sqlite(
    conn: &mut diesel::SqliteConnection,
    lister_id: Option<i64>,
    chunk: i64,
) -> diesel::QueryResult<Counts> {
    use diesel::RunQueryDsl;
    conn.immediate_transaction(|conn| {
        let listed_before = sqlite_listed(conn, lister_id)?;
        let mut sightings = 0;
        let upsert = sqlite_upsert();
        loop {
            let end = diesel::sql_query(SQLITE_CHUNK_END)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(chunk)
                .get_result::<ChunkEnd>(conn)?;
            let Some(last) = end.id else {
                let new = sqlite_listed(conn, lister_id)? - listed_before;
                return Ok(Counts { sightings, new });
            };
            diesel::sql_query(&upsert)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(last)
                .execute(conn)?;
            let all = diesel::sql_query(SQLITE_ALL_SIGHTINGS).get_result::<ChunkEnd>(conn)?;
            if all.sightings == end.sightings {
                diesel::sql_query(SQLITE_DELETE_ALL).execute(conn)?;
            } else {
                diesel::sql_query(SQLITE_DELETE)
                    .bind::<Nullable<BigInt>, _>(lister_id)
                    .bind::<BigInt, _>(last)
                    .execute(conn)?;
            }
            sightings += end.sightings;
        }
    })
}

/// Whether there is anything to fold: a read that takes no lock, so that readers, which
/// fold first, pay one indexed lookup when there is nothing to fold.
async fn pending(conn: &mut DbConnection, lister_id: Option<i64>) -> Result<bool> {
    use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
    use diesel_async::RunQueryDsl;
    use origin_sightings::{id, table};
    let first: Option<i64> = crate::dispatch!(conn, conn => match lister_id {
        Some(lister) => table
            .filter(origin_sightings::lister_id.eq(lister))
            .select(id)
            .order(id)
            .first(conn)
            .await,
        None => table.select(id).order(id).first(conn).await,
    }
    .optional()
    .map_err(Error::query("looking for sightings to fold"))?);
    Ok(first.is_some())
}

impl Store {
    /// Folds the sightings of one lister instance (or, with `None`, of every instance) into
    /// `listed_origins`, in one transaction.
    pub async fn fold_sightings(&self, lister_id: Option<i64>) -> Result<Folded> {
        let failed = Error::query("folding sightings into listed origins");
        let started = std::time::Instant::now();
        // Checked on a pooled connection: concurrent readers do not queue for the writer.
        let mut conn = self.connection().await?;
        if !pending(&mut conn, lister_id).await? {
            return Ok(Folded::default());
        }
        // SQLite has one writer at a time. PostgreSQL folds on the pooled connection, so a
        // run's pages go on committing on the writer meanwhile.
        if self.backend() == super::Backend::Sqlite {
            conn = self.writer().await?;
        }
        let counts = match &mut *conn {
            DbConnection::Postgres(_) => self.fold_postgres(conn, lister_id).await?,
            DbConnection::Sqlite(conn) => conn
                .spawn_blocking(move |conn| fold_sqlite(conn, lister_id, SQLITE_CHUNK))
                .await
                .map_err(failed)?,
        };
        let (sightings, new) = (counts.sightings as u64, counts.new as u64);
        if sightings > 0 {
            tracing::debug!(sightings, new, took = ?started.elapsed(), "sightings folded");
        }
        Ok(Folded {
            new,
            updated: sightings - new,
        })
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    use super::*;
    use crate::testing::{TestDatabase, commit_origins};
    use crate::{ListerKey, Origin};

    #[derive(QueryableByName, Debug)]
    struct Listed {
        #[diesel(sql_type = Text)]
        url: String,
        #[diesel(sql_type = Text)]
        first_seen: String,
        #[diesel(sql_type = Text)]
        last_seen: String,
        #[diesel(sql_type = BigInt)]
        enabled_listings: i64,
    }

    /// A fold in chunks of two sightings, so that origins seen on several pages are upserted
    /// again in later chunks: each keeps the time of its first sighting and takes its last.
    #[tokio::test]
    async fn a_sqlite_fold_in_several_chunks_keeps_first_and_last_sightings() {
        let database = TestDatabase::sqlite();
        let store = database.open().await;
        let lister = store
            .register_lister(&ListerKey::new("github", "default"))
            .await
            .unwrap();
        for names in [["a", "b"], ["b", "c"], ["d", "a"]] {
            let origins = names.map(|name| Origin::new(format!("https://x.test/{name}"), "git"));
            commit_origins(&store, &lister, &origins).await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(store);
        let path = database.url.trim_start_matches("sqlite://");
        let mut conn = SqliteConnection::establish(path).unwrap();
        let counts = fold_sqlite(&mut conn, None, 2).unwrap();
        let listed: Vec<Listed> = diesel::sql_query(
            "SELECT o.url, o.first_seen, o.last_seen, v.enabled_listings FROM listed_origins o \
             JOIN visit_stats v USING (url, visit_type) ORDER BY o.url",
        )
        .load(&mut conn)
        .unwrap();
        let left = diesel::sql_query(SQLITE_ALL_SIGHTINGS)
            .get_result::<ChunkEnd>(&mut conn)
            .unwrap()
            .sightings;

        assert_eq!((counts.sightings, counts.new, left), (6, 4, 0));
        let urls: Vec<&str> = listed.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://x.test/a",
                "https://x.test/b",
                "https://x.test/c",
                "https://x.test/d"
            ]
        );
        let [a, b, c, d] = &listed[..] else {
            unreachable!("four origins")
        };
        let (page1, page2, page3) = (&a.first_seen, &c.first_seen, &d.first_seen);
        assert!(page1 < page2 && page2 < page3, "{listed:?}");
        assert_eq!((&a.first_seen, &a.last_seen), (page1, page3), "{listed:?}");
        assert_eq!((&b.first_seen, &b.last_seen), (page1, page2), "{listed:?}");
        assert_eq!((&c.last_seen, &d.last_seen), (page2, page3), "{listed:?}");
        assert!(listed.iter().all(|o| o.enabled_listings == 1), "{listed:?}");
    }
}
