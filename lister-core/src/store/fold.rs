//! Folding sightings into `listed_origins`.
//!
//! A page commit appends its origins to `origin_sightings`: an append touches one sequential
//! B-tree, where an upsert into `listed_origins` would touch a random leaf of every index on
//! it (and, through the queue's triggers, of `visit_stats`) for every origin. A fold moves
//! the sightings over in one sorted, set-based upsert, so each leaf is written once per fold
//! instead of once per origin. The run loop folds its own sightings every minute and at the
//! end; every reader of `listed_origins` or of the queue folds first.

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
struct Counts {
    #[diesel(sql_type = BigInt)]
    sightings: i64,
    #[diesel(sql_type = BigInt)]
    new: i64,
}

/// The same upsert rules as a single sighting would follow: `first_seen` is set once (the
/// fold's earliest sighting), the rest takes the latest sighting's values.
const ON_CONFLICT: &str = "\
    ON CONFLICT (lister_id, url, visit_type) DO UPDATE SET last_seen = excluded.last_seen, \
        last_update = excluded.last_update, enabled = excluded.enabled, \
        is_fork = excluded.is_fork, extra_loader_arguments = excluded.extra_loader_arguments";

const COLUMNS: &str = "lister_id, url, visit_type, first_seen, last_seen, last_update, enabled, \
    is_fork, extra_loader_arguments";

/// PostgreSQL folds in one statement: the sightings it deletes are exactly the ones it
/// upserts, so a concurrent fold or a page committing meanwhile loses nothing. Every part of
/// the statement sees the table as it was before, so `new` counts unknown origins.
fn postgres_fold() -> String {
    format!(
        "WITH moved AS ( \
            DELETE FROM origin_sightings WHERE $1::bigint IS NULL OR lister_id = $1 \
            RETURNING * \
        ), latest AS ( \
            SELECT DISTINCT ON (lister_id, url, visit_type) lister_id, url, visit_type, \
                min(seen_at) OVER (PARTITION BY lister_id, url, visit_type) AS first_seen, \
                seen_at AS last_seen, last_update, enabled, is_fork, extra_loader_arguments \
            FROM moved ORDER BY lister_id, url, visit_type, id DESC \
        ), upserted AS ( \
            INSERT INTO listed_origins ({COLUMNS}) SELECT {COLUMNS} FROM latest {ON_CONFLICT} \
        ) \
        SELECT (SELECT count(*) FROM moved) AS sightings, \
            (SELECT count(*) FROM latest l WHERE NOT EXISTS (SELECT 1 FROM listed_origins o \
                WHERE o.lister_id = l.lister_id AND o.url = l.url \
                AND o.visit_type = l.visit_type)) AS new"
    )
}

/// SQLite folds in an immediate transaction, which no other writer can interleave with, in
/// chunks of this many sightings (oldest first), so that the sort and the returned rows stay
/// small whatever the number of sightings.
const SQLITE_CHUNK: i64 = 50_000;

/// The last sighting of the next chunk.
const SQLITE_CHUNK_END: &str = "\
    SELECT max(id) AS id FROM (SELECT id FROM origin_sightings \
        WHERE ?1 IS NULL OR lister_id = ?1 ORDER BY id LIMIT ?2)";

/// Sightings in URL order, each an upsert: a repeated origin's later sightings update its
/// first. A row is new when its first and last sighting are the same one.
fn sqlite_upsert() -> String {
    format!(
        "INSERT INTO listed_origins ({COLUMNS}) \
        SELECT lister_id, url, visit_type, seen_at, seen_at, last_update, enabled, is_fork, \
            extra_loader_arguments \
        FROM origin_sightings WHERE (?1 IS NULL OR lister_id = ?1) AND id <= ?2 \
        ORDER BY lister_id, url, visit_type, id {ON_CONFLICT} \
        RETURNING first_seen = last_seen AS new"
    )
}

const SQLITE_DELETE: &str =
    "DELETE FROM origin_sightings WHERE (?1 IS NULL OR lister_id = ?1) AND id <= ?2";

#[derive(QueryableByName)]
struct ChunkEnd {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
}

#[derive(QueryableByName)]
struct Upserted {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    new: bool,
}

/// The SQLite fold: chunk by chunk, in one transaction.
fn fold_sqlite(
    conn: &mut diesel::SqliteConnection,
    lister_id: Option<i64>,
) -> diesel::QueryResult<Counts> {
    use diesel::RunQueryDsl;
    use diesel::connection::DefaultLoadingMode;
    conn.immediate_transaction(|conn| {
        let mut counts = Counts {
            sightings: 0,
            new: 0,
        };
        let upsert = sqlite_upsert();
        loop {
            let end = diesel::sql_query(SQLITE_CHUNK_END)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(SQLITE_CHUNK)
                .get_result::<ChunkEnd>(conn)?;
            let Some(end) = end.id else {
                return Ok(counts);
            };
            let rows = diesel::sql_query(&upsert)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(end)
                .load_iter::<Upserted, DefaultLoadingMode>(conn)?;
            for row in rows {
                counts.sightings += 1;
                counts.new += i64::from(row?.new);
            }
            diesel::sql_query(SQLITE_DELETE)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(end)
                .execute(conn)?;
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
        if !pending(&mut *self.connection().await?, lister_id).await? {
            return Ok(Folded::default());
        }
        let mut conn = self.writer().await?;
        let counts = match &mut *conn {
            DbConnection::Postgres(conn) => {
                use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
                // The fold's sorts fit in memory rather than spill to disk.
                let conn: &mut diesel_async::AsyncPgConnection = conn;
                conn.transaction(async |conn| {
                    conn.batch_execute("SET LOCAL work_mem = '64MB'").await?;
                    diesel::sql_query(postgres_fold())
                        .bind::<Nullable<BigInt>, _>(lister_id)
                        .get_result::<Counts>(conn)
                        .await
                })
                .await
                .map_err(failed)?
            }
            DbConnection::Sqlite(conn) => conn
                .spawn_blocking(move |conn| fold_sqlite(conn, lister_id))
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
