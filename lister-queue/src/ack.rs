//! Acking: recording a visit's outcome, ending its lease and setting the cooldown.
//!
//! An ack names its lease by token. A token that is not the origin's current lease (already
//! acked, or expired and granted again to another consumer) is refused with
//! [`Error::StaleLease`]. A lease that expired but was not granted again is still accepted.
//!
//! The new stats are computed here ([`cooldown`](crate::cooldown)) from the row as read under lock, then
//! written by one statement per batch, each backend its own way
//! ([`QueueBackend::ack`](crate::backend::QueueBackend::ack)).

use chrono::{DateTime, Utc};

use crate::ack_plan::{AckRequest, Acked};
use crate::backend::backend;
use crate::queue::Queue;
use crate::status::VisitStatus;
use lister_core::{Error, Result};

impl Queue {
    /// Records the outcome of the visit leased under `lease_token` (see [`Queue::ack_many`]).
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
    /// sets its cooldown (see [`cooldown`](crate::cooldown)).
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
        let mut conn = self.store.connection().await?;
        let recorded = backend(&mut conn)
            .ack(&acks)
            .await
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
