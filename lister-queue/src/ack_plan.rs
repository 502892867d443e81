//! The plain rows and records of an ack, shared by its PostgreSQL and SQLite statements: the
//! acks asked for, the leased rows they read, and what each records ([`cooldown`]).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use serde::{Deserialize, Serialize};

use crate::cooldown::{self, Before};
use crate::status::VisitStatus;

/// One ack of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckRequest {
    /// The token of the lease being acked.
    pub lease_token: String,
    /// How the visit went.
    pub status: VisitStatus,
    /// When the visit happened; `None` means now (the database server's clock on PostgreSQL).
    pub visited_at: Option<DateTime<Utc>>,
}

/// What an ack recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acked {
    /// The origin's URL.
    pub url: String,
    /// Its visit type.
    pub visit_type: String,
    /// The recorded outcome.
    pub status: VisitStatus,
    /// The recorded visit time.
    pub visited_at: DateTime<Utc>,
    /// The end of the cooldown (see [`cooldown`]).
    pub next_visit_not_before: DateTime<Utc>,
    /// Whether the queue has disabled the origin (after repeated `not_found`).
    pub disabled: bool,
}

/// A leased row as an ack reads it.
#[derive(QueryableByName)]
pub(crate) struct Leased {
    #[diesel(sql_type = Text)]
    pub(crate) url: String,
    #[diesel(sql_type = Text)]
    pub(crate) visit_type: String,
    #[diesel(sql_type = Text)]
    pub(crate) lease_token: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(crate) last_update: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(crate) last_successful: Option<NaiveDateTime>,
    #[diesel(sql_type = Integer)]
    pub(crate) consecutive_failures: i32,
    #[diesel(sql_type = Integer)]
    pub(crate) consecutive_not_found: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) recurrence_interval_secs: Option<i64>,
    /// The clock (the server's on PostgreSQL).
    #[diesel(sql_type = Timestamp)]
    pub(crate) now: NaiveDateTime,
}

/// A row's new stats.
pub(crate) struct Record {
    pub(crate) lease_token: String,
    pub(crate) status: VisitStatus,
    pub(crate) visited_at: NaiveDateTime,
    pub(crate) after: cooldown::After,
}

/// Matches leased rows to acks (the first ack of a token wins): for each ack, its row and
/// what to record, if its row is among `rows`.
pub(crate) fn plan(acks: &[AckRequest], rows: Vec<Leased>) -> Vec<Option<(Leased, Record)>> {
    let mut rows: HashMap<String, Leased> = rows
        .into_iter()
        .map(|row| (row.lease_token.clone(), row))
        .collect();
    acks.iter()
        .map(|ack| {
            let row = rows.remove(&ack.lease_token)?;
            let record = record(ack, &row);
            Some((row, record))
        })
        .collect()
}

/// What `ack` records on its leased `row`.
fn record(ack: &AckRequest, row: &Leased) -> Record {
    let visited_at = ack.visited_at.map_or(row.now, |at| at.naive_utc());
    let before = Before {
        last_update: row.last_update,
        last_successful: row.last_successful,
        consecutive_failures: row.consecutive_failures,
        consecutive_not_found: row.consecutive_not_found,
        recurrence_interval_secs: row.recurrence_interval_secs,
    };
    Record {
        lease_token: row.lease_token.clone(),
        status: ack.status,
        visited_at,
        after: cooldown::after_visit(before, ack.status, visited_at),
    }
}

pub(crate) fn acked(row: &Leased, record: &Record) -> Acked {
    Acked {
        url: row.url.clone(),
        visit_type: row.visit_type.clone(),
        status: record.status,
        visited_at: record.visited_at.and_utc(),
        next_visit_not_before: record.after.next_visit_not_before.and_utc(),
        disabled: record.after.disable,
    }
}
