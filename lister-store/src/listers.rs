//! Lister instances and their typed, versioned state.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::backend::columns;
use crate::schema::{listed_origins, listers, origin_sightings, quarantined_sightings};
use crate::store::Store;
use lister_core::store::now;
use lister_core::store::{ListerRecord, PageWrite, StateWrite};
use lister_core::{Error, ListerKey, Result};

/// A row of `listers`, read as a [`ListerRecord`].
#[derive(Queryable, Selectable)]
#[diesel(table_name = listers)]
pub(crate) struct ListerRow {
    id: i64,
    name: String,
    instance: String,
    state: Option<String>,
    state_version: i64,
    created: NaiveDateTime,
    updated: NaiveDateTime,
    last_listing_finished_at: Option<NaiveDateTime>,
    pass_started_at: Option<NaiveDateTime>,
    last_pass_started_at: Option<NaiveDateTime>,
}

impl From<ListerRow> for ListerRecord {
    fn from(row: ListerRow) -> ListerRecord {
        ListerRecord {
            id: row.id,
            name: row.name,
            instance: row.instance,
            state: row.state,
            state_version: row.state_version,
            created: row.created,
            updated: row.updated,
            last_listing_finished_at: row.last_listing_finished_at,
            pass_started_at: row.pass_started_at,
            last_pass_started_at: row.last_pass_started_at,
        }
    }
}

/// A lister instance with its origin counts, for `lister listers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListerSummary {
    /// The instance.
    pub lister: ListerKey,
    /// The saved state (JSON), if any.
    pub state: Option<serde_json::Value>,
    /// Origins known.
    pub origins: i64,
    /// Origins enabled.
    pub enabled: i64,
    /// Sightings committed but not folded yet (a run in progress, or one that was
    /// interrupted): not counted in `origins` until a fold.
    pub unfolded: i64,
    /// Sightings the database refused at a fold (see [`Store::quarantined_sightings`]).
    pub quarantined: i64,
    /// When a listing last reached the end.
    pub last_listing_finished_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Registers a lister instance if it is new, and returns its record.
    pub async fn register_lister(&self, key: &ListerKey) -> Result<ListerRecord> {
        let mut conn = self.connection().await?;
        let at = now();
        let register = diesel::insert_into(listers::table)
            .values((
                listers::name.eq(&key.name),
                listers::instance.eq(&key.instance),
                listers::state_version.eq(0),
                listers::created.eq(at),
                listers::updated.eq(at),
            ))
            .on_conflict((listers::name, listers::instance))
            .do_nothing();
        conn.execute(register)
            .await
            .map_err(Error::query("registering a lister"))?;
        let lister = listers::table
            .filter(
                listers::name
                    .eq(&key.name)
                    .and(listers::instance.eq(&key.instance)),
            )
            .select(columns::<ListerRow>());
        conn.first::<ListerRow, _>(lister)
            .await
            .map(ListerRecord::from)
            .map_err(Error::query("reading a lister"))
    }

    /// The record of a lister instance, if it was ever registered.
    pub async fn lister(&self, key: &ListerKey) -> Result<Option<ListerRecord>> {
        let mut conn = self.connection().await?;
        let lister = listers::table
            .filter(
                listers::name
                    .eq(&key.name)
                    .and(listers::instance.eq(&key.instance)),
            )
            .select(columns::<ListerRow>());
        conn.first::<ListerRow, _>(lister)
            .await
            .optional()
            .map(|row| row.map(ListerRecord::from))
            .map_err(Error::query("reading a lister"))
    }

    /// Saves `state` for the lister, if its state is still at `expected_version`; returns the
    /// new version. A newer version in the database means another run moved it: the write is
    /// refused with [`Error::StateConflict`], so the state never moves backwards.
    pub async fn save_state<S: Serialize>(
        &self,
        lister: &ListerRecord,
        state: &S,
        expected_version: i64,
    ) -> Result<i64> {
        let write = StateWrite::new(state, expected_version)?;
        let written = self
            .commit_page(PageWrite {
                lister,
                origins: Vec::new(),
                state: Some(write),
                pages: &[],
            })
            .await?;
        Ok(written.state_version.unwrap_or(expected_version))
    }

    /// Records that a pass over the lister's listing starts now (a run at its first page).
    pub async fn start_pass(&self, lister_id: i64) -> Result<()> {
        let mut conn = self.connection().await?;
        let started =
            diesel::update(listers::table.find(lister_id)).set(listers::pass_started_at.eq(now()));
        conn.execute(started)
            .await
            .map(drop)
            .map_err(Error::query("recording the start of a pass"))
    }

    /// Records that a listing of the lister reached the end: the pass it was part of is the
    /// last complete one.
    pub async fn finish_listing(&self, lister_id: i64) -> Result<()> {
        let mut conn = self.connection().await?;
        let finished = (
            listers::last_listing_finished_at.eq(now()),
            listers::last_pass_started_at.eq(listers::pass_started_at),
        );
        conn.execute(diesel::update(listers::table.find(lister_id)).set(finished))
            .await
            .map(drop)
            .map_err(Error::query("recording the end of a listing"))
    }

    /// Every lister instance with its origin counts. A reader: it folds nothing, and counts
    /// the sightings waiting for a fold apart.
    pub async fn lister_summaries(&self) -> Result<Vec<ListerSummary>> {
        let mut conn = self.connection().await?;
        let all = listers::table.order((listers::name, listers::instance));
        let records: Vec<ListerRow> = conn
            .load(all.select(columns::<ListerRow>()))
            .await
            .map_err(Error::query("listing listers"))?;
        let mut summaries = Vec::with_capacity(records.len());
        for record in records.into_iter().map(ListerRecord::from) {
            let mine = listed_origins::lister_id.eq(record.id);
            let counted = || Error::query("counting origins");
            let all = listed_origins::table.filter(mine).count();
            let origins: i64 = conn.get_result(all).await.map_err(counted())?;
            let enabled = listed_origins::table.filter(mine.and(listed_origins::enabled.eq(true)));
            let enabled: i64 = conn.get_result(enabled.count()).await.map_err(counted())?;
            let unfolded = origin_sightings::table
                .filter(origin_sightings::lister_id.eq(record.id))
                .count();
            let unfolded: i64 = conn.get_result(unfolded).await.map_err(counted())?;
            let quarantined = quarantined_sightings::table
                .filter(quarantined_sightings::lister_id.eq(record.id))
                .count();
            let quarantined: i64 = conn.get_result(quarantined).await.map_err(counted())?;
            summaries.push(ListerSummary {
                lister: record.key(),
                state: record.decode_state()?,
                origins,
                enabled,
                unfolded,
                quarantined,
                last_listing_finished_at: record.last_listing_finished_at.map(|t| t.and_utc()),
            });
        }
        Ok(summaries)
    }
}
