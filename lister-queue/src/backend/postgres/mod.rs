//! The queue on PostgreSQL: a grab is one statement ([`grab`]), an ack batch locks the rows it
//! records without waiting for those other transactions hold ([`ack`]), and times follow the
//! server's clock.

mod ack;
mod grab;

use async_trait::async_trait;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::QueueBackend;
use crate::ack_plan::{AckRequest, Acked};
use crate::grant::{Grant, Request};
use crate::resume::ResumePoints;
use crate::retry::Retry;
use crate::stats::{self, QueueStats};

/// The clock: the server's, in UTC like every stored time.
pub(super) const NOW: &str = "(now() AT TIME ZONE 'UTC')";

#[async_trait]
impl QueueBackend for AsyncPgConnection {
    async fn grab(&mut self, request: Request, resume: &ResumePoints) -> QueryResult<Vec<Grant>> {
        let mut retry = Retry::new();
        loop {
            let outcome = grab::grab(self, &request, resume).await;
            if !retry.again(&outcome).await {
                return outcome;
            }
        }
    }

    async fn ack(&mut self, acks: &[AckRequest]) -> QueryResult<Vec<Option<Acked>>> {
        ack::ack(self, acks).await
    }

    async fn queue_stats(&mut self) -> QueryResult<Vec<QueueStats>> {
        diesel::sql_query(stats::statement(NOW)).load(self).await
    }
}
