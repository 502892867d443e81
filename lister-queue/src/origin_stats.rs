//! One origin's visit stats, and lifting the queue's disabling of it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::queue::Queue;
use crate::schema::visit_stats;
use crate::status::VisitStatus;
use lister_core::{Error, Result};
use lister_store::connection::columns;

/// What the queue knows of one origin (a row of `visit_stats`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitStats {
    /// The origin's URL.
    pub url: String,
    /// Its visit type.
    pub visit_type: String,
    /// The latest update any lister reported.
    pub last_update: Option<DateTime<Utc>>,
    /// How many listers list it enabled.
    pub enabled_listings: i32,
    /// When it was last granted.
    pub last_scheduled: Option<DateTime<Utc>>,
    /// When the current lease runs out (`None`: not leased since the last ack).
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When it was last visited.
    pub last_visit: Option<DateTime<Utc>>,
    /// How that visit went.
    pub last_visit_status: Option<VisitStatus>,
    /// When it was last visited successfully.
    pub last_successful: Option<DateTime<Utc>>,
    /// `failed` visits since the last other outcome.
    pub consecutive_failures: i32,
    /// `not_found` visits since the last other outcome.
    pub consecutive_not_found: i32,
    /// The interval between successful visits, in seconds (after the first success).
    pub recurrence_interval_secs: Option<i64>,
    /// The end of the cooldown (the Unix epoch when there is none).
    pub next_visit_not_before: DateTime<Utc>,
    /// When the queue disabled it (after repeated `not_found`).
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = visit_stats)]
struct Row {
    url: String,
    visit_type: String,
    last_update: Option<NaiveDateTime>,
    enabled_listings: i32,
    last_scheduled: Option<NaiveDateTime>,
    lease_expires_at: Option<NaiveDateTime>,
    last_visit: Option<NaiveDateTime>,
    last_visit_status: Option<String>,
    last_successful: Option<NaiveDateTime>,
    consecutive_failures: i32,
    consecutive_not_found: i32,
    recurrence_interval_secs: Option<i64>,
    next_visit_not_before: NaiveDateTime,
    disabled_at: Option<NaiveDateTime>,
}

impl Queue {
    /// The visit stats of an origin, if any lister ever listed it.
    pub async fn visit_stats(&self, url: &str, visit_type: &str) -> Result<Option<VisitStats>> {
        let mut conn = self.store.connection().await?;
        let stats = visit_stats::table.find((url, visit_type));
        let row: Option<Row> = conn
            .first(stats.select(columns::<Row>()))
            .await
            .optional()
            .map_err(Error::query("reading visit stats"))?;
        row.map(Row::into_stats).transpose()
    }

    /// Lifts the queue's disabling of an origin (after repeated `not_found`): it is due at
    /// once, with its `not_found` count reset. Returns whether it was disabled.
    pub async fn reenable_origin(&self, url: &str, visit_type: &str) -> Result<bool> {
        let mut conn = self.store.connection().await?;
        let disabled = visit_stats::table
            .find((url, visit_type))
            .filter(visit_stats::disabled_at.is_not_null());
        let reenable = diesel::update(disabled).set((
            visit_stats::disabled_at.eq(None::<NaiveDateTime>),
            visit_stats::consecutive_not_found.eq(0),
            visit_stats::next_visit_not_before.eq(DateTime::UNIX_EPOCH.naive_utc()),
        ));
        let changed = conn
            .execute(reenable)
            .await
            .map_err(Error::query("re-enabling an origin"))?;
        Ok(changed > 0)
    }
}

impl Row {
    fn into_stats(self) -> Result<VisitStats> {
        let utc = |t: Option<NaiveDateTime>| t.map(|t| t.and_utc());
        Ok(VisitStats {
            last_visit_status: self
                .last_visit_status
                .as_deref()
                .map(str::parse)
                .transpose()?,
            url: self.url,
            visit_type: self.visit_type,
            last_update: utc(self.last_update),
            enabled_listings: self.enabled_listings,
            last_scheduled: utc(self.last_scheduled),
            lease_expires_at: utc(self.lease_expires_at),
            last_visit: utc(self.last_visit),
            last_successful: utc(self.last_successful),
            consecutive_failures: self.consecutive_failures,
            consecutive_not_found: self.consecutive_not_found,
            recurrence_interval_secs: self.recurrence_interval_secs,
            next_visit_not_before: self.next_visit_not_before.and_utc(),
            disabled_at: utc(self.disabled_at),
        })
    }
}
