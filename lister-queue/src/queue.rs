//! [`Queue`]: the queue's handle on the store, with this process's resume points.

use std::sync::Arc;

use lister_store::Store;

use crate::resume::ResumePoints;

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
}
