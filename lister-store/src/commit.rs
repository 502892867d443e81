//! Writing pages: their origins (as sightings), the lister's advanced state and the pages'
//! validators, all in one transaction. The SQLite commit is in `commit_sqlite`, the
//! PostgreSQL one in `commit_postgres`.

use chrono::NaiveDateTime;

use crate::commit_postgres::{PostgresWrite, commit_postgres};
use crate::commit_rows::PageRow;
use crate::commit_sqlite::commit_sqlite;
use crate::connection::DbConnection;
use crate::store::Store;
use lister_core::store::now;
use lister_core::store::{PageRecord, PageWrite, PageWritten};
use lister_core::{Error, ListerKey, Result};

impl Store {
    /// Writes pages' origins as sightings, the advanced state and the page records in one
    /// transaction. A state conflict or any failure rolls all of it back.
    ///
    /// Sightings are appended, never looked up: [`fold_sightings`](Self::fold_sightings)
    /// merges them into `listed_origins` later, in large sorted batches.
    pub async fn commit_page(&self, write: PageWrite<'_>) -> Result<PageWritten> {
        let at = now();
        let lister_id = write.lister.id;
        let page_rows = page_rows(lister_id, at, write.pages);
        let state = write.state;
        let key = write.lister.key();
        let mut conn = self.writer().await?;
        let outcome = match &mut *conn {
            DbConnection::Postgres(conn) => {
                let write = PostgresWrite {
                    lister_id,
                    at,
                    state: state.as_ref(),
                    origins: &write.origins,
                    pages: &page_rows,
                };
                commit_postgres(conn, write).await?
            }
            DbConnection::Sqlite(conn) => {
                commit_sqlite(conn, lister_id, at, state, write.origins, page_rows).await?
            }
        };
        outcome.map_err(|found| conflict(&key, found.expected, found.found))
    }
}

/// The rows of `pages`, one per URL (the last record given for it).
fn page_rows(lister_id: i64, at: NaiveDateTime, pages: &[PageRecord]) -> Vec<PageRow> {
    let mut rows: Vec<PageRow> = Vec::with_capacity(pages.len());
    for page in pages {
        rows.retain(|row| row.url != page.url);
        rows.push(PageRow {
            lister_id,
            url: page.url.clone(),
            etag: page.validators.etag.clone(),
            last_modified: page.validators.last_modified.clone(),
            next_url: page.next_url.clone(),
            next_index: page.next_index.clone(),
            updated: at,
        });
    }
    rows
}

fn conflict(key: &ListerKey, expected: i64, found: i64) -> Error {
    Error::StateConflict {
        lister: key.to_string(),
        expected,
        found,
    }
}
