//! [`Queue`]: the queue's handle on the store, with this process's resume points.

use std::sync::Arc;

use lister_core::{Error, Result};
use lister_store::Store;

use crate::backend::backend;
use crate::resume::ResumePoints;
use crate::stats::QueueStats;

/// The visit queue over a [`Store`]'s database: grabs, acks and the queue's counts.
///
/// A queue remembers where its grabs stopped (see `resume.rs`): a process keeps one queue
/// (clones share it) rather than making one per grab.
#[derive(Debug, Clone)]
pub struct Queue {
    pub(crate) store: Store,
    /// Where this queue's grabs stopped.
    pub(crate) resume: Arc<ResumePoints>,
}

impl Queue {
    /// The queue of `store`'s database.
    pub fn new(store: Store) -> Queue {
        Queue {
            store,
            resume: Arc::default(),
        }
    }

    /// The store the queue reads and writes.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The queue's counts, per lister instance and visit type (see [`QueueStats`]).
    ///
    /// A reader: sightings not folded yet are not counted (see [`ListerSummary::unfolded`]).
    ///
    /// [`ListerSummary::unfolded`]: lister_store::ListerSummary::unfolded
    pub async fn queue_stats(&self) -> Result<Vec<QueueStats>> {
        let mut conn = self.store.connection().await?;
        backend(&mut conn)
            .queue_stats()
            .await
            .map_err(Error::query("counting the queue"))
    }
}
