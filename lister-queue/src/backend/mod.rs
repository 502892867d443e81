//! The queue's two backends behind one interface, [`QueueBackend`], implemented once per
//! backend: [`postgres`] (a grab in one statement with `FOR UPDATE SKIP LOCKED`, acks that
//! skip rows others hold) and [`sqlite`] (a grab or an ack in one `BEGIN IMMEDIATE`
//! transaction, on the blocking pool). An operation (grab, ack, the queue's counts) asks
//! [`backend`] for the interface of its connection and calls it once.
//!
//! Queries that are the same on both backends are written once, in the operation, and run
//! through the store's connection (see `lister_store::connection::DbConnection`).

mod postgres;
mod sqlite;

use async_trait::async_trait;
use diesel::result::QueryResult;

use crate::ack_plan::{AckRequest, Acked};
use crate::grant::{Grant, Request};
use crate::resume::ResumePoints;
use crate::stats::QueueStats;
use lister_store::connection::DbConnection;

/// What the queue does differently on each backend, one method per operation.
#[async_trait]
pub(crate) trait QueueBackend: Send {
    /// Leases the origins `request` asks for, never one another grab is leasing; a grab on
    /// PostgreSQL resumes where this queue's last grabs stopped (`resume`).
    async fn grab(&mut self, request: Request, resume: &ResumePoints) -> QueryResult<Vec<Grant>>;

    /// Records `acks`: for each, in order, what it recorded, or `None` when its token is not
    /// a current lease.
    async fn ack(&mut self, acks: &[AckRequest]) -> QueryResult<Vec<Option<Acked>>>;

    /// The queue's counts, per lister instance and visit type, on the backend's clock.
    async fn queue_stats(&mut self) -> QueryResult<Vec<QueueStats>>;
}

/// The queue's interface for the backend `conn` is connected to.
pub(crate) fn backend(conn: &mut DbConnection) -> &mut dyn QueueBackend {
    match conn {
        DbConnection::Postgres(conn) => &mut **conn,
        DbConnection::Sqlite(conn) => conn,
    }
}
