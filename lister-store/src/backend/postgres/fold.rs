//! The PostgreSQL fold: two URL-disjoint parts at once, each one statement, each on its own
//! connection (one server process each): a fold is CPU-bound, and one part left the second
//! core idle. Parts split by URL, so no two parts ever write the same origin.
//!
//! A fold of leftovers (the sightings of runs that were killed before they folded) goes
//! [`LEFTOVER_STEP`](crate::fold::LEFTOVER_STEP) sightings at a time, each step committed: interrupted, it keeps what it
//! folded, so a backlog folds in steps that each finish, even when runs keep being killed.
//!
//! New origins are inserted plainly and only origins the store already has are upserted:
//! `INSERT ... ON CONFLICT` inserts every row speculatively (a lock on a token, then a second
//! WAL record to confirm it). A fold of 50,000 new origins took 1.77–1.82 s with it and
//! 1.24–1.58 s without it (`EXPLAIN ANALYZE`, with the queue trigger's own plain insert).

use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Integer, Nullable};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::fold_sql::{COLUMNS, Counts, ON_CONFLICT};
use lister_core::{Error, Result};

/// The last sighting of the next chunk, among those up to `$3`, if any is left.
const CHUNK_END: &str = "SELECT max(id) AS id FROM (SELECT id FROM origin_sightings \
    WHERE ($1::bigint IS NULL OR lister_id = $1) AND id <= $3 ORDER BY id LIMIT $2) AS chunk";

#[derive(diesel::QueryableByName)]
struct ChunkEnd {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
}

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
                AND abs(hashtext(url) % $3) = $2 AND id <= $4 \
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

/// Folds part `part` of `parts` of the sightings up to `last`, in one transaction.
async fn fold_part(
    conn: &mut AsyncPgConnection,
    lister_id: Option<i64>,
    (part, parts, last): (i32, i32, i64),
    new_origins: NewOrigins,
) -> std::result::Result<Counts, QueryError> {
    conn.transaction(async |conn| {
        // The fold's sorts fit in memory rather than spill to disk.
        conn.batch_execute("SET LOCAL work_mem = '64MB'").await?;
        diesel::sql_query(fold_statement(new_origins))
            .bind::<Nullable<BigInt>, _>(lister_id)
            .bind::<Integer, _>(part)
            .bind::<Integer, _>(parts)
            .bind::<BigInt, _>(last)
            .get_result::<Counts>(conn)
            .await
    })
    .await
}

/// The PostgreSQL fold: in two parts at once when the caller found a `helper` connection
/// free at once, else in one, on `conn` (waiting for a second connection while holding one
/// could deadlock concurrent folds, and a store of one connection has none). Returns what the
/// parts that committed folded, and the error of one that failed, if any.
pub(super) async fn fold(
    conn: &mut AsyncPgConnection,
    mut helper: Option<&mut AsyncPgConnection>,
    lister_id: Option<i64>,
    step: i64,
) -> (Counts, Option<Error>) {
    let mut sum = Counts::default();
    // What was committed before the fold began: pages committing meanwhile wait for the
    // next fold, so that a fold ends.
    let ceiling = match chunk_end(conn, lister_id, i64::MAX, i64::MAX).await {
        Ok(Some(ceiling)) => ceiling,
        Ok(None) => return (sum, None),
        Err(error) => return (sum, Some(error)),
    };
    loop {
        let last = match chunk_end(conn, lister_id, step, ceiling).await {
            Ok(Some(last)) => last,
            Ok(None) => return (sum, None),
            Err(error) => return (sum, Some(error)),
        };
        let parts = match helper.as_deref_mut() {
            Some(second) => {
                let (first, second) = tokio::join!(
                    fold_part_or_upsert(conn, lister_id, (0, 2, last)),
                    fold_part_or_upsert(second, lister_id, (1, 2, last)),
                );
                vec![first, second]
            }
            None => vec![fold_part_or_upsert(conn, lister_id, (0, 1, last)).await],
        };
        for part in parts {
            match part {
                Ok(part) => {
                    sum.sightings += part.sightings;
                    sum.new += part.new;
                }
                Err(error) => return (sum, Some(error)),
            }
        }
    }
}

/// Folds part `part.0` of `part.1`, on `conn`. A part whose plain insert meets an origin
/// that another transaction committed meanwhile is rolled back and folded again, upserting
/// every origin.
async fn fold_part_or_upsert(
    conn: &mut AsyncPgConnection,
    lister_id: Option<i64>,
    part: (i32, i32, i64),
) -> Result<Counts> {
    let failed = Error::query("folding sightings into listed origins");
    match fold_part(conn, lister_id, part, NewOrigins::Inserted).await {
        Err(QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            tracing::debug!(?part, "an origin was listed meanwhile: folding again");
            fold_part(conn, lister_id, part, NewOrigins::Upserted)
                .await
                .map_err(failed)
        }
        counts => counts.map_err(failed),
    }
}

/// The id of the last sighting of the next chunk of `chunk` among those up to `ceiling`, if
/// any is left.
async fn chunk_end(
    conn: &mut AsyncPgConnection,
    lister_id: Option<i64>,
    chunk: i64,
    ceiling: i64,
) -> Result<Option<i64>> {
    let end = diesel::sql_query(CHUNK_END)
        .bind::<Nullable<BigInt>, _>(lister_id)
        .bind::<BigInt, _>(chunk)
        .bind::<BigInt, _>(ceiling)
        .get_result::<ChunkEnd>(conn)
        .await;
    end.map(|end| end.id)
        .map_err(Error::query("finding the sightings to fold"))
}
