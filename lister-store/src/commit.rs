//! Writing pages: their origins (as sightings), the lister's advanced state and the pages'
//! validators and origins, all in one transaction; a page answered `304` refreshes instead
//! the `last_seen` of the origins it held. Each backend writes it its own way
//! ([`StoreBackend::commit_page`](crate::backend::StoreBackend::commit_page)).

use crate::commit_rows::Commit;
use crate::store::Store;
use lister_core::store::now;
use lister_core::store::{PageWrite, PageWritten};
use lister_core::{Error, ListerKey, Result};

impl Store {
    /// Writes pages' origins as sightings, the advanced state and the page records in one
    /// transaction. A state conflict or any failure rolls all of it back.
    ///
    /// Sightings are appended, never looked up: [`fold_sightings`](Self::fold_sightings)
    /// merges them into `listed_origins` later, in large sorted batches.
    pub async fn commit_page(&self, write: PageWrite<'_>) -> Result<PageWritten> {
        let key = write.lister.key();
        let commit = Commit {
            lister_id: write.lister.id,
            at: now(),
            state: write.state,
            origins: write.origins,
            pages: write.pages,
        };
        let mut conn = self.writer().await?;
        let outcome = conn.backend().commit_page(commit).await?;
        outcome.map_err(|found| conflict(&key, found.expected, found.found))
    }
}

fn conflict(key: &ListerKey, expected: i64, found: i64) -> Error {
    Error::StateConflict {
        lister: key.to_string(),
        expected,
        found,
    }
}
