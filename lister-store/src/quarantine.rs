//! Sightings the database refuses: no single row can stop a fold for everyone.
//!
//! A fold is one set-based statement: a row the database refuses (a key too long for
//! PostgreSQL's index, a constraint it breaks) fails the whole statement, and every later fold
//! with it. When a fold fails on a database error that is the data's fault, it is done again
//! here, one sighting at a time, each in a savepoint: a sighting the database refuses moves to
//! `quarantined_sightings` with the database's reason, and the others fold as they would have.
//! An error that is not the data's fault (a lost connection, a full disk, a read-only
//! database) fails the fold as before, and quarantines nothing.

use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::{QueryableByName, sql_query};

use crate::backend::{DbConnection, StoreBackend, columns};
use crate::fold_sql::{COLUMNS, Counts, ON_CONFLICT};
use lister_core::store::now;
use lister_core::{Error, Result, loggable};

/// Sightings read per query while folding one at a time.
const BATCH: i64 = 1_000;

#[derive(QueryableByName)]
struct Sighting {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Bool)]
    listed: bool,
}

/// Whether a fold that failed with `error` may have failed on a row's data (so that folding
/// one sighting at a time can find it), rather than on the database or its connection.
pub(super) fn data_error(error: &QueryError) -> bool {
    let QueryError::DatabaseError(kind, info) = error else {
        return false;
    };
    let message = info.message().to_ascii_lowercase();
    // The disk's, the files' or the server's doing, never a row's: a full disk ("database or
    // disk is full", "could not extend file … No space left on device"), I/O, rights, locks.
    let environment = [
        "disk",
        "no space",
        "could not extend",
        "i/o",
        "readonly",
        "read-only",
        "locked",
        "busy",
    ];
    !matches!(
        kind,
        DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::ReadOnlyTransaction
            | DatabaseErrorKind::SerializationFailure
    ) && !environment.iter().any(|word| message.contains(word))
}

/// The statements of a fold one sighting at a time, in the backend's SQL.
struct Statements {
    begin: &'static str,
    batch: String,
    upsert: String,
    quarantine: String,
    delete: String,
}

impl Statements {
    fn new(backend: &dyn StoreBackend) -> Statements {
        let p = |n: u8| backend.placeholder(n);
        let (p1, p2, p3) = (p(1), p(2), p(3));
        Statements {
            // No other writer may come between the reads and the writes.
            begin: backend.begin_writing(),
            batch: format!(
                "SELECT s.id, s.url, EXISTS (SELECT 1 FROM listed_origins AS o \
                    WHERE o.url = s.url AND o.visit_type = s.visit_type \
                    AND o.lister_id = s.lister_id) AS listed \
                 FROM origin_sightings AS s \
                 WHERE ({p1} IS NULL OR s.lister_id = {p1}) AND s.id > {p2} \
                 ORDER BY s.id LIMIT {p3}"
            ),
            upsert: format!(
                "INSERT INTO listed_origins ({COLUMNS}) SELECT lister_id, url, visit_type, \
                    seen_at, seen_at, last_update, enabled, is_fork, extra_loader_arguments \
                 FROM origin_sightings WHERE id = {p1} {ON_CONFLICT}"
            ),
            quarantine: format!(
                "INSERT INTO quarantined_sightings SELECT id, lister_id, url, visit_type, \
                    seen_at, last_update, enabled, is_fork, extra_loader_arguments, {p2}, {p3} \
                 FROM origin_sightings WHERE id = {p1}"
            ),
            delete: format!("DELETE FROM origin_sightings WHERE id = {p1}"),
        }
    }
}

/// Folds the sightings of one instance (or of all) one at a time, in one transaction, each
/// in a savepoint, quarantining each sighting the database refuses. Returns the fold's
/// counts and how many sightings were quarantined.
pub(super) async fn fold_one_by_one(
    conn: &mut DbConnection,
    lister_id: Option<i64>,
) -> Result<(Counts, u64)> {
    let sql = Statements::new(conn.backend());
    let failed = |source: QueryError| Error::Query {
        action: "folding sightings one by one",
        source: Box::new(source),
    };
    conn.batch_execute(sql.begin).await.map_err(failed)?;
    let (mut counts, mut quarantined, mut after) = (Counts::default(), 0, 0);
    let folded: diesel::QueryResult<()> = async {
        loop {
            let batch = sql_query(&sql.batch)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(after)
                .bind::<BigInt, _>(BATCH);
            let sightings: Vec<Sighting> = conn.load(batch).await?;
            let Some(last) = sightings.last() else {
                return Ok(());
            };
            after = last.id;
            for sighting in sightings {
                conn.batch_execute("SAVEPOINT sighting").await?;
                let upsert = sql_query(&sql.upsert).bind::<BigInt, _>(sighting.id);
                match conn.execute(upsert).await {
                    Ok(_) => counts.new += i64::from(!sighting.listed),
                    Err(error) if data_error(&error) => {
                        conn.batch_execute("ROLLBACK TO SAVEPOINT sighting").await?;
                        let reason = error.to_string();
                        let url: String = sighting.url.chars().take(200).collect();
                        tracing::warn!(url = %loggable(&url), %reason,
                            "the database refuses an origin: it is quarantined");
                        let quarantine = sql_query(&sql.quarantine)
                            .bind::<BigInt, _>(sighting.id)
                            .bind::<Text, _>(reason)
                            .bind::<Timestamp, _>(now());
                        conn.execute(quarantine).await?;
                        quarantined += 1;
                    }
                    Err(error) => return Err(error),
                }
                conn.batch_execute("RELEASE SAVEPOINT sighting").await?;
                let delete = sql_query(&sql.delete).bind::<BigInt, _>(sighting.id);
                conn.execute(delete).await?;
                counts.sightings += 1;
            }
        }
    }
    .await;
    let end = if folded.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = conn.batch_execute(end).await;
    folded.and(ended).map_err(failed)?;
    Ok((counts, quarantined))
}

/// A sighting the database refused to fold, as `quarantined_sightings` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = crate::schema::quarantined_sightings)]
pub struct QuarantinedSighting {
    /// The lister instance that saw it.
    pub lister_id: i64,
    /// The origin's URL.
    pub url: String,
    /// The origin's visit type.
    pub visit_type: String,
    /// The database's reason.
    pub reason: String,
    /// When it was quarantined (UTC).
    pub quarantined_at: chrono::NaiveDateTime,
}

impl crate::store::Store {
    /// Up to `limit` quarantined sightings, oldest first: what the operator reads to see what
    /// a forge sent that the database refused.
    pub async fn quarantined_sightings(&self, limit: i64) -> Result<Vec<QuarantinedSighting>> {
        use crate::schema::quarantined_sightings::{id, table};
        use diesel::QueryDsl;
        let mut conn = self.connection().await?;
        let oldest = table.order(id).limit(limit);
        conn.load(oldest.select(columns::<QuarantinedSighting>()))
            .await
            .map_err(Error::query("reading quarantined sightings"))
    }
}
