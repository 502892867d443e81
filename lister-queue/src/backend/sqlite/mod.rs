//! The queue on SQLite: a grab ([`grab`]) or a batch of acks ([`ack`]) is one `BEGIN
//! IMMEDIATE` transaction on the blocking pool, so they run one at a time; times follow this
//! process's clock.

mod ack;
mod grab;

use async_trait::async_trait;
use diesel::SqliteConnection;
use diesel::result::QueryResult;
use diesel::sql_types::Timestamp;
use diesel_async::RunQueryDsl;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;

use super::QueueBackend;
use crate::ack_plan::{AckRequest, Acked};
use crate::grant::{Grant, Request};
use crate::resume::ResumePoints;
use crate::stats::{self, QueueStats};
use lister_core::store::now;

#[async_trait]
impl QueueBackend for SyncConnectionWrapper<SqliteConnection> {
    async fn grab(&mut self, request: Request, _resume: &ResumePoints) -> QueryResult<Vec<Grant>> {
        self.spawn_blocking(move |conn| {
            conn.immediate_transaction(|conn| grab::grab(conn, &request))
        })
        .await
    }

    async fn ack(&mut self, acks: &[AckRequest]) -> QueryResult<Vec<Option<Acked>>> {
        let acks = acks.to_vec();
        self.spawn_blocking(move |conn| conn.immediate_transaction(|conn| ack::ack(conn, &acks)))
            .await
    }

    async fn queue_stats(&mut self) -> QueryResult<Vec<QueueStats>> {
        diesel::sql_query(stats::statement("?1"))
            .bind::<Timestamp, _>(now())
            .load(self)
            .await
    }
}
