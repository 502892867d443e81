//! Disabling the origins a complete listing pass did not see.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::listed_origins;
use crate::store::Store;
use lister_core::{Error, Result};

impl Store {
    /// Disables the listings of `lister_id` last seen before `seen_before`, and returns how
    /// many it disabled.
    ///
    /// Call it only after a *complete* pass: a run that started at the lister's first index
    /// and reached the end without error, with `seen_before` the time that run started; then
    /// every origin the forge still lists was seen (its `last_seen` refreshed, by a sighting
    /// or by a `304` to a page that held it) during the run, and the others are gone from
    /// the forge. A partial run (resumed from a saved
    /// index, a range, an interrupted run) must not call it.
    ///
    /// Listings stay known (`enabled = false`). The origin leaves the queue unless another
    /// lister still lists it enabled, and comes back if a later listing sees it again (the
    /// fold of that sighting sets `enabled` anew). The queue's own disabling, after repeated
    /// `not_found`, is kept apart in `visit_stats.disabled_at`, which listings never touch.
    pub async fn disable_unseen(&self, lister_id: i64, seen_before: NaiveDateTime) -> Result<u64> {
        self.fold_sightings(Some(lister_id)).await?;
        let mut conn = self.connection().await?;
        let unseen = listed_origins::table
            .filter(listed_origins::lister_id.eq(lister_id))
            .filter(listed_origins::last_seen.lt(seen_before))
            .filter(listed_origins::enabled.eq(true));
        let disable = diesel::update(unseen).set(listed_origins::enabled.eq(false));
        let disabled = conn
            .execute(disable)
            .await
            .map_err(Error::query("disabling origins no longer listed"))?;
        Ok(disabled as u64)
    }
}
