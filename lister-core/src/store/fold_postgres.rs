//! The PostgreSQL fold: several URL-disjoint parts at once, each one statement.
//!
//! New origins are inserted plainly and only origins the store already has are upserted:
//! `INSERT ... ON CONFLICT` inserts every row speculatively (a lock on a token, then a second
//! WAL record to confirm it). A fold of 50,000 new origins took 1.77–1.82 s with it and
//! 1.24–1.58 s without it (`EXPLAIN ANALYZE`, with the queue trigger's own plain insert).

use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Integer, Nullable};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::fold::{COLUMNS, Counts, ON_CONFLICT};
use super::{PooledConnection, Store};
use crate::store::connection::DbConnection;
use crate::{Error, Result};

/// PostgreSQL folds this many disjoint parts of the sightings at once, each on its own
/// connection (one server process each): a fold is CPU-bound, and one part left the second
/// core idle. Parts split by URL, so no two parts ever write the same origin.
const POSTGRES_FOLD_PARTS: i32 = 2;

/// How a fold writes the origins `listed_origins` does not have (in its snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewOrigins {
    /// A plain insert: fails with a unique violation if another transaction commits one of
    /// them while the fold runs.
    Inserted,
    /// Upserted like the others: the fallback after such a unique violation.
    Upserted,
}

/// One part of a fold, in one statement: the sightings it deletes are exactly the ones it
/// writes, so a concurrent fold or a page committing meanwhile loses nothing. One sort serves
/// both the window (the earliest sighting) and `DISTINCT ON` (the latest). An upserted row
/// with `xmax = 0` was inserted, not updated (the usual PostgreSQL idiom). Every part of the
/// statement sees one snapshot, so `known` and `fresh` split the origins exactly; `marked`
/// looks each origin up once for both (two lookups were 8 % of the server's CPU in a run).
fn fold_statement(new_origins: NewOrigins) -> String {
    let insert_from =
        |from| format!("INSERT INTO listed_origins ({COLUMNS}) SELECT {COLUMNS} FROM {from}");
    let written = match new_origins {
        NewOrigins::Inserted => {
            let insert = insert_from("marked");
            format!(
                "marked AS ( \
                    SELECT l.*, EXISTS (SELECT FROM listed_origins AS o \
                        WHERE o.lister_id = l.lister_id AND o.url = l.url \
                        AND o.visit_type = l.visit_type) AS listed \
                    FROM latest AS l \
                ), known AS ( \
                    {insert} WHERE listed {ON_CONFLICT} RETURNING xmax = 0 AS inserted \
                ), fresh AS ( \
                    {insert} WHERE NOT listed RETURNING true AS inserted \
                ), written AS (SELECT * FROM known UNION ALL SELECT * FROM fresh)"
            )
        }
        NewOrigins::Upserted => format!(
            "written AS ({} {ON_CONFLICT} RETURNING xmax = 0 AS inserted)",
            insert_from("latest")
        ),
    };
    format!(
        "WITH moved AS ( \
            DELETE FROM origin_sightings WHERE ($1::bigint IS NULL OR lister_id = $1) \
                AND abs(hashtext(url) % $3) = $2 \
            RETURNING * \
        ), latest AS ( \
            SELECT DISTINCT ON (url, visit_type, lister_id) lister_id, url, visit_type, \
                min(seen_at) OVER (PARTITION BY url, visit_type, lister_id ORDER BY id DESC \
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS first_seen, \
                seen_at AS last_seen, last_update, enabled, is_fork, extra_loader_arguments \
            FROM moved ORDER BY url, visit_type, lister_id, id DESC \
        ), {written} \
        SELECT (SELECT count(*) FROM moved) AS sightings, \
            (SELECT count(*) FROM written WHERE inserted) AS new"
    )
}

/// Folds part `part` of the sightings in one transaction.
async fn fold_part(
    conn: &mut AsyncPgConnection,
    lister_id: Option<i64>,
    part: i32,
    new_origins: NewOrigins,
) -> std::result::Result<Counts, QueryError> {
    conn.transaction(async |conn| {
        // The fold's sorts fit in memory rather than spill to disk.
        conn.batch_execute("SET LOCAL work_mem = '64MB'").await?;
        diesel::sql_query(fold_statement(new_origins))
            .bind::<Nullable<BigInt>, _>(lister_id)
            .bind::<Integer, _>(part)
            .bind::<Integer, _>(POSTGRES_FOLD_PARTS)
            .get_result::<Counts>(conn)
            .await
    })
    .await
}

impl Store {
    /// The PostgreSQL fold: [`POSTGRES_FOLD_PARTS`] transactions at once, the first on `conn`.
    /// A part whose plain insert meets an origin that another transaction committed meanwhile
    /// is rolled back and folded again, upserting every origin.
    pub(super) async fn fold_postgres(
        &self,
        conn: PooledConnection,
        lister_id: Option<i64>,
    ) -> Result<Counts> {
        let part = |part: i32, conn: Option<PooledConnection>| async move {
            let mut conn = match conn {
                Some(conn) => conn,
                None => self.connection().await?,
            };
            let DbConnection::Postgres(conn) = &mut *conn else {
                unreachable!("a PostgreSQL store has PostgreSQL connections");
            };
            let failed = Error::query("folding sightings into listed origins");
            match fold_part(conn, lister_id, part, NewOrigins::Inserted).await {
                Err(QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                    tracing::debug!(part, "an origin was listed meanwhile: folding again");
                    fold_part(conn, lister_id, part, NewOrigins::Upserted)
                        .await
                        .map_err(failed)
                }
                counts => counts.map_err(failed),
            }
        };
        let mut first = Some(conn);
        let parts = (0..POSTGRES_FOLD_PARTS).map(|n| part(n, first.take()));
        let counts = futures::future::try_join_all(parts).await?;
        Ok(counts.iter().fold(
            Counts {
                sightings: 0,
                new: 0,
            },
            |sum, part| Counts {
                sightings: sum.sightings + part.sightings,
                new: sum.new + part.new,
            },
        ))
    }
}
