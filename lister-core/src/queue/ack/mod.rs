//! Acking: recording a visit's outcome, ending its lease and setting the cooldown.
//!
//! An ack names its lease by token. A token that is not the origin's current lease (already
//! acked, or expired and granted again to another consumer) is refused with
//! [`Error::StaleLease`]. A lease that expired but was not granted again is still accepted.
//!
//! The new stats are computed here ([`cooldown`]) from the row as read under lock, then
//! written by one statement per batch ([`postgres`], [`sqlite`]).

mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use serde::{Deserialize, Serialize};

use super::cooldown::{self, Before};
use crate::store::connection::DbConnection;
use crate::{Error, Result, Store};

/// How a visit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// The origin was visited.
    Successful,
    /// The visit failed (the origin may exist; try again after a backoff).
    Failed,
    /// The origin does not exist (any more).
    NotFound,
}

impl VisitStatus {
    /// Every status.
    pub const ALL: [VisitStatus; 3] = [
        VisitStatus::Successful,
        VisitStatus::Failed,
        VisitStatus::NotFound,
    ];

    /// The status as stored and as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::Successful => "successful",
            VisitStatus::Failed => "failed",
            VisitStatus::NotFound => "not_found",
        }
    }
}

impl fmt::Display for VisitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VisitStatus {
    type Err = Error;

    fn from_str(name: &str) -> Result<VisitStatus> {
        VisitStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown visit status `{name}` (known: successful, failed, not_found)"
                ))
            })
    }
}

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

impl Store {
    /// Records the outcome of the visit leased under `lease_token` (see [`Store::ack_many`]).
    pub async fn ack(
        &self,
        lease_token: &str,
        status: VisitStatus,
        visited_at: Option<DateTime<Utc>>,
    ) -> Result<Acked> {
        let request = AckRequest {
            lease_token: lease_token.to_owned(),
            status,
            visited_at,
        };
        let mut outcomes = self.ack_many(&[request]).await?;
        outcomes.pop().unwrap_or_else(|| Err(stale(lease_token)))
    }

    /// Records visits' outcomes: each ends its lease, updates the origin's visit stats and
    /// sets its cooldown (see [`cooldown`]).
    ///
    /// The outer error is a database failure; each inner result, in the order of `acks`, is
    /// the ack's outcome, [`Error::StaleLease`] if its token is not a current lease. Refused
    /// acks change nothing; the others are recorded all the same.
    pub async fn ack_many(&self, acks: &[AckRequest]) -> Result<Vec<Result<Acked>>> {
        let acks: Vec<AckRequest> = acks
            .iter()
            .cloned()
            .map(|ack| AckRequest {
                visited_at: ack.visited_at.map(truncate),
                ..ack
            })
            .collect();
        let mut conn = self.connection().await?;
        let recorded = match &mut *conn {
            DbConnection::Postgres(conn) => postgres::ack(conn, &acks).await,
            DbConnection::Sqlite(conn) => {
                let acks = acks.clone();
                conn.spawn_blocking(move |conn| {
                    conn.immediate_transaction(|conn| sqlite::ack(conn, &acks))
                })
                .await
            }
        }
        .map_err(Error::query("acking visits"))?;
        Ok(acks
            .iter()
            .zip(recorded)
            .map(|(ack, recorded)| recorded.ok_or_else(|| stale(&ack.lease_token)))
            .collect())
    }
}

fn stale(lease_token: &str) -> Error {
    Error::StaleLease {
        lease_token: lease_token.to_owned(),
    }
}

/// Keeps the microseconds both backends store.
fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// A leased row as an ack reads it.
#[derive(QueryableByName)]
struct Leased {
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    visit_type: String,
    #[diesel(sql_type = Text)]
    lease_token: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    last_update: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    last_successful: Option<NaiveDateTime>,
    #[diesel(sql_type = Integer)]
    consecutive_failures: i32,
    #[diesel(sql_type = Integer)]
    consecutive_not_found: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    recurrence_interval_secs: Option<i64>,
    /// The clock (the server's on PostgreSQL).
    #[diesel(sql_type = Timestamp)]
    now: NaiveDateTime,
}

/// A row's new stats.
struct Record {
    lease_token: String,
    status: VisitStatus,
    visited_at: NaiveDateTime,
    after: cooldown::After,
}

/// Matches leased rows to acks (the first ack of a token wins): for each ack, its row and
/// what to record, if its row is among `rows`.
fn plan(acks: &[AckRequest], rows: Vec<Leased>) -> Vec<Option<(Leased, Record)>> {
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

fn acked(row: &Leased, record: &Record) -> Acked {
    Acked {
        url: row.url.clone(),
        visit_type: row.visit_type.clone(),
        status: record.status,
        visited_at: record.visited_at.and_utc(),
        next_visit_not_before: record.after.next_visit_not_before.and_utc(),
        disabled: record.after.disable,
    }
}
