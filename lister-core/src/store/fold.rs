//! Folding sightings into `listed_origins`.
//!
//! A page commit appends its origins to `origin_sightings`: an append touches one sequential
//! B-tree, where an upsert into `listed_origins` would touch a random leaf of every index on
//! it (and, through the queue's triggers, of `visit_stats`) for every origin. A fold moves
//! the sightings over in one sorted, set-based upsert, so each leaf is written once per fold
//! instead of once per origin. The run loop folds its own sightings while it goes on (every
//! minute on SQLite, continuously on PostgreSQL) and at the end; every reader of
//! `listed_origins` or of the queue folds first. The SQLite fold is in `fold_sqlite`, the
//! PostgreSQL one in `fold_postgres`.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;

use super::Store;
use super::connection::DbConnection;
use super::fold_sqlite::{SQLITE_CHUNK, fold_sqlite};
use super::quarantine;
use super::schema::origin_sightings;
use crate::{Error, Result};

/// What a fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Origins the store did not know.
    pub new: u64,
    /// Sightings of origins the store knew, or saw more than once in the fold.
    pub updated: u64,
    /// Sightings the database refused, moved to `quarantined_sightings` (see
    /// [`Store::fold_sightings`]).
    pub quarantined: u64,
}

#[derive(QueryableByName, Default)]
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
    /// `listed_origins`, in one transaction. A fold that fails on a row's data is done again
    /// one sighting at a time, and each sighting the database refuses is quarantined with the
    /// database's reason (see `quarantine`): no single row stops the fold of the others.
    pub async fn fold_sightings(&self, lister_id: Option<i64>) -> Result<Folded> {
        self.fold_in_steps(lister_id, i64::MAX).await
    }

    /// Folds what interrupted runs of one instance left, before a run of it walks: on
    /// PostgreSQL in committed steps of `LEFTOVER_STEP` sightings, so that a backlog folds even
    /// when runs keep being killed before a whole fold could end. (A SQLite fold of a backlog
    /// is fast enough in one step.)
    pub async fn fold_leftovers(&self, lister_id: i64) -> Result<Folded> {
        let step = super::fold_postgres::LEFTOVER_STEP;
        self.fold_in_steps(Some(lister_id), step).await
    }

    /// A fold (see [`fold_sightings`](Self::fold_sightings)), on PostgreSQL in committed steps
    /// of at most `step` sightings.
    async fn fold_in_steps(&self, lister_id: Option<i64>, step: i64) -> Result<Folded> {
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
            // Let go first: a one-connection store's writer is that same connection.
            drop(conn);
            conn = self.writer().await?;
        }
        // What folded, and why the rest did not (PostgreSQL's parts commit one by one).
        let (mut counts, failure) = match &mut *conn {
            DbConnection::Postgres(_) => self.fold_postgres(&mut conn, lister_id, step).await,
            DbConnection::Sqlite(conn) => match conn
                .spawn_blocking(move |conn| fold_sqlite(conn, lister_id, SQLITE_CHUNK))
                .await
            {
                Ok(counts) => (counts, None),
                Err(error) => (Counts::default(), Some(failed(error))),
            },
        };
        let quarantined = match failure {
            None => 0,
            Some(Error::Query { source, .. }) if quarantine::data_error(&source) => {
                tracing::debug!(%source, "the fold failed on a row: folding one by one");
                let (rest, quarantined) = quarantine::fold_one_by_one(&mut conn, lister_id).await?;
                counts.sightings += rest.sightings;
                counts.new += rest.new;
                quarantined
            }
            Some(error) => return Err(error),
        };
        let (sightings, new) = (counts.sightings as u64, counts.new as u64);
        if sightings > 0 {
            tracing::debug!(sightings, new, took = ?started.elapsed(), "sightings folded");
        }
        Ok(Folded {
            new,
            updated: sightings - new - quarantined,
            quarantined,
        })
    }
}
