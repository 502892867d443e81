//! Grabbing: leasing due origins to a consumer, never the same origin to two consumers.
//!
//! A grab runs the [`Selection`]s of its policy's plan in turn. On PostgreSQL the whole grab is
//! one statement: each selection picks with `FOR UPDATE SKIP LOCKED` (rows another grab is
//! taking are skipped, never waited for), then the picked rows are leased and joined with
//! their listing. On SQLite it is one `BEGIN IMMEDIATE` transaction, so grabs run one at a
//! time.

mod postgres;
mod sqlite;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::policy::{Policy, Selection};
use super::retry::Retry;
use crate::store::connection::DbConnection;
use crate::store::now;
use crate::{Error, Result, Store};

/// An origin leased to a consumer: visit it, then ack the lease before it expires.
///
/// Serializes to one JSON object with exactly these fields (times in RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The origin's URL.
    pub url: String,
    /// How to visit it.
    pub visit_type: String,
    /// The lister that listed it (of several, the enabled listing seen last).
    pub lister: String,
    /// That lister's instance.
    pub instance: String,
    /// The latest update any lister reported, if one did.
    pub last_update: Option<DateTime<Utc>>,
    /// The lease's token, to ack with (128 random bits, in hex).
    pub lease_token: String,
    /// When the lease runs out and the origin returns to the queue.
    pub lease_expires_at: DateTime<Utc>,
}

impl Store {
    /// Leases up to `count` due origins of `visit_type`, chosen by `policy`, for `lease`.
    ///
    /// Due: some lister lists it enabled, the queue has not disabled it, it is not leased (or
    /// its lease ran out) and its cooldown is over. Concurrent grabs, from any process or
    /// machine, never receive the same origin. Each grant carries its own token; an origin
    /// whose lease runs out before its ack returns to the queue by itself. The grants come in
    /// the policy's order (see [`Policy`]); fewer than `count` means fewer were due.
    ///
    /// Lease times follow the database server's clock on PostgreSQL and this process's clock
    /// on SQLite. On PostgreSQL, successive grabs of one store resume where the previous one
    /// stopped (see `queue/resume.rs`), so the order holds within a sweep of a few seconds.
    /// Origins that runs committed but did not fold yet are folded first.
    pub async fn grab(
        &self,
        visit_type: &str,
        count: usize,
        policy: Policy,
        lease: Duration,
    ) -> Result<Vec<Grant>> {
        let lease = TimeDelta::from_std(lease)
            .ok()
            .filter(|lease| now().checked_add_signed(*lease).is_some())
            .ok_or_else(|| Error::InvalidOption(format!("lease of {lease:?} is too long")))?;
        if count == 0 {
            return Ok(Vec::new());
        }
        self.fold_sightings(None).await?;
        let request = Request {
            visit_type: visit_type.to_owned(),
            count,
            plan: policy.plan(count),
            lease,
        };
        let mut conn = self.connection().await?;
        match &mut *conn {
            DbConnection::Postgres(conn) => {
                let mut retry = Retry::new();
                loop {
                    let outcome = postgres::grab(conn, &request, &self.resume).await;
                    if !retry.again(&outcome).await {
                        break outcome;
                    }
                }
            }
            DbConnection::Sqlite(conn) => {
                conn.spawn_blocking(move |conn| {
                    conn.immediate_transaction(|conn| sqlite::grab(conn, &request))
                })
                .await
            }
        }
        .map_err(Error::query("grabbing origins"))
    }
}

/// What a grab asks for.
#[derive(Debug)]
struct Request {
    visit_type: String,
    count: usize,
    /// The selections to run in turn, with the most each may take.
    plan: Vec<(Selection, usize)>,
    lease: TimeDelta,
}

/// A fresh lease token: 128 bits from a CSPRNG seeded by the operating system, in hex.
fn token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The conditions every grabbed origin meets, with `{now}` for the clock.
const DUE: &str = "disabled_at IS NULL AND enabled_listings > 0 AND next_visit_not_before <= {now}";
