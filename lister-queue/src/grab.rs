//! Grabbing: leasing due origins to a consumer, never the same origin to two consumers.
//!
//! A grab runs the [`Selection`](crate::policy::Selection)s of its policy's plan in turn,
//! through its backend ([`QueueBackend::grab`](crate::backend::QueueBackend::grab)). On
//! PostgreSQL the whole grab is one statement: each selection picks with `FOR UPDATE SKIP
//! LOCKED` (rows another grab is taking are skipped, never waited for), then the picked rows
//! are leased and joined with their listing. On SQLite it is one `BEGIN IMMEDIATE`
//! transaction, so grabs run one at a time.

use std::time::Duration;

use chrono::TimeDelta;

use crate::backend::backend;
use crate::grant::{Grant, Request};
use crate::policy::Policy;
use crate::queue::Queue;
use lister_core::store::now;
use lister_core::{Error, Result};

impl Queue {
    /// Leases up to `count` due origins of `visit_type`, chosen by `policy`, for `lease`.
    ///
    /// Due: some lister lists it enabled, the queue has not disabled it, it is not leased (or
    /// its lease ran out) and its cooldown is over. Concurrent grabs, from any process or
    /// machine, never receive the same origin. Each grant carries its own token; an origin
    /// whose lease runs out before its ack returns to the queue by itself. The grants come in
    /// the policy's order (see [`Policy`]); fewer than `count` means fewer were due.
    ///
    /// Lease times follow the database server's clock on PostgreSQL and this process's clock
    /// on SQLite. On PostgreSQL, successive grabs of one queue resume where the previous one
    /// stopped (see `resume.rs`), so the order holds within a sweep of a few seconds.
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
        self.store.fold_sightings(None).await?;
        let request = Request {
            visit_type: visit_type.to_owned(),
            count,
            plan: policy.plan(count),
            lease,
        };
        let mut conn = self.store.connection().await?;
        backend(&mut conn)
            .grab(request, &self.resume)
            .await
            .map_err(Error::query("grabbing origins"))
    }
}
