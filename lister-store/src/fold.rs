//! Folding sightings into `listed_origins`.
//!
//! A page commit appends its origins to `origin_sightings`: an append touches one sequential
//! B-tree, where an upsert into `listed_origins` would touch a random leaf of every index on
//! it (and, through the queue's triggers, of `visit_stats`) for every origin. A fold moves
//! the sightings over in one sorted, set-based upsert, so each leaf is written once per fold
//! instead of once per origin. The run loop folds its own sightings while it goes on (every
//! minute on SQLite, continuously on PostgreSQL) and at the end; every reader of
//! `listed_origins` or of the queue folds first. Each backend folds its own way
//! ([`StoreBackend::fold`](crate::backend::StoreBackend::fold)); a fold that fails on a
//! row's data is done again here, one sighting at a time (see `quarantine`).

use crate::backend::DbConnection;
use crate::quarantine;
use crate::schema::origin_sightings;
use crate::store::Store;
use lister_core::store::Folded;
use lister_core::{Error, Result};

/// Sightings per committed step of a fold of leftovers on PostgreSQL
/// ([`Store::fold_leftovers`]): a backlog of 10,000 sightings folded in 221 ms in steps of
/// 5,000, too long a step to finish between kills a tenth of a second apart. The folds of a
/// run go in one step: in steps of 2,000 the benchmark's first listing into PostgreSQL went
/// from 67,000 to 36,000 origins a second (in steps of 4,000, 44,000), each step a statement,
/// a sort and a trigger call more.
pub(crate) const LEFTOVER_STEP: i64 = 2_000;

/// Whether there is anything to fold: a read that takes no lock, so that readers, which
/// fold first, pay one indexed lookup when there is nothing to fold.
async fn pending(conn: &mut DbConnection, lister_id: Option<i64>) -> Result<bool> {
    use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
    use origin_sightings::{id, table};
    let first: Option<i64> = match lister_id {
        Some(lister) => {
            let mine = table.filter(origin_sightings::lister_id.eq(lister));
            conn.first(mine.select(id).order(id)).await
        }
        None => conn.first(table.select(id).order(id)).await,
    }
    .optional()
    .map_err(Error::query("looking for sightings to fold"))?;
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
        self.fold_in_steps(Some(lister_id), LEFTOVER_STEP).await
    }

    /// A fold (see [`fold_sightings`](Self::fold_sightings)), on PostgreSQL in committed steps
    /// of at most `step` sightings.
    async fn fold_in_steps(&self, lister_id: Option<i64>, step: i64) -> Result<Folded> {
        let started = std::time::Instant::now();
        // Checked on a pooled connection: concurrent readers do not queue for the writer.
        let mut conn = self.connection().await?;
        if !pending(&mut conn, lister_id).await? {
            return Ok(Folded::default());
        }
        // SQLite has one writer at a time. PostgreSQL folds on the pooled connection, so a
        // run's pages go on committing on the writer meanwhile, with a helper if one is free.
        let mut helper = None;
        if conn.backend().folds_on_writer() {
            // Let go first: a one-connection store's writer is that same connection.
            drop(conn);
            conn = self.writer().await?;
        } else {
            helper = self.free_connection().await;
        }
        // What folded, and why the rest did not (PostgreSQL's parts commit one by one).
        let folded = conn
            .backend()
            .fold(helper.as_deref_mut(), lister_id, step)
            .await;
        drop(helper);
        let (mut counts, failure) = folded;
        let quarantined = match failure {
            None => 0,
            Some(Error::Query { source, .. })
                if source
                    .downcast_ref::<diesel::result::Error>()
                    .is_some_and(quarantine::data_error) =>
            {
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
