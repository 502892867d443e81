//! Writing pages: their origins (as sightings), the lister's advanced state and the pages'
//! validators and origins, all in one transaction; a page answered `304` refreshes instead
//! the `last_seen` of the origins it held. The SQLite commit is in `commit_sqlite`, the
//! PostgreSQL one in `commit_postgres`.

use chrono::NaiveDateTime;

use crate::commit_postgres::{PostgresWrite, commit_postgres};
use crate::commit_rows::{PageRow, PageRows};
use crate::commit_sqlite::commit_sqlite;
use crate::connection::DbConnection;
use crate::store::Store;
use lister_core::store::now;
use lister_core::store::{HeldOrigins, PageRecord, PageWrite, PageWritten};
use lister_core::{Error, ListerKey, Origin, Result};

impl Store {
    /// Writes pages' origins as sightings, the advanced state and the page records in one
    /// transaction. A state conflict or any failure rolls all of it back.
    ///
    /// Sightings are appended, never looked up: [`fold_sightings`](Self::fold_sightings)
    /// merges them into `listed_origins` later, in large sorted batches.
    pub async fn commit_page(&self, write: PageWrite<'_>) -> Result<PageWritten> {
        let at = now();
        let lister_id = write.lister.id;
        let state = write.state;
        let key = write.lister.key();
        let mut conn = self.writer().await?;
        let outcome = match &mut *conn {
            DbConnection::Postgres(conn) => {
                let pages = page_rows(lister_id, at, write.pages, &write.origins);
                let write = PostgresWrite {
                    lister_id,
                    at,
                    state: state.as_ref(),
                    origins: &write.origins,
                    pages: &pages,
                };
                commit_postgres(conn, write).await?
            }
            DbConnection::Sqlite(conn) => {
                // The rows are made on the blocking pool, with the sightings'.
                let pages = write.pages.to_vec();
                commit_sqlite(conn, lister_id, at, state, write.origins, pages).await?
            }
        };
        outcome.map_err(|found| conflict(&key, found.expected, found.found))
    }
}

/// The most origins the store remembers of one page. A page's origins are made into one JSON
/// value during its commit, beside the page's own origins and outside the run's memory budget:
/// at the transport's body cap (400,000 origins a page) that was 25 MiB more per page, and 20
/// MiB more peak memory for six such pages. A larger page is asked unconditionally by a full
/// pass, and its `304` in another run counts nothing as seen. (A page of a forge's API holds
/// at most a few hundred origins; a whole host in one document, as Gitiles and grokmirror
/// serve it, a few thousand.)
pub(crate) const MAX_REMEMBERED: usize = 50_000;

/// The rows of `pages`, one per URL (the last record given for it): the pages fetched, each
/// with the origins it held when the store should remember them, and the pages answered
/// `304`, whose remembered origins the commit refreshes.
pub(crate) fn page_rows(
    lister_id: i64,
    at: NaiveDateTime,
    pages: &[PageRecord],
    origins: &[Origin],
) -> PageRows {
    let mut rows = PageRows::default();
    let mut offset = 0;
    for page in pages {
        rows.fetched.retain(|row| row.url != page.url);
        rows.unchanged.retain(|url| *url != page.url);
        let held = page.origins.in_write();
        let own = origins.get(offset..offset + held).unwrap_or_default();
        offset += held;
        let remembered = match page.origins {
            HeldOrigins::Unchanged => {
                rows.unchanged.push(page.url.clone());
                continue;
            }
            // Only a page with validators can be answered `304`.
            HeldOrigins::Held(n) if n <= MAX_REMEMBERED && !page.validators.is_empty() => {
                Some(origin_keys(own))
            }
            _ => None,
        };
        rows.fetched.push(PageRow {
            lister_id,
            url: page.url.clone(),
            etag: page.validators.etag.clone(),
            last_modified: page.validators.last_modified.clone(),
            next_url: page.next_url.clone(),
            next_index: page.next_index.clone(),
            origins: remembered,
            updated: at,
        });
    }
    rows
}

/// The origins a page held as the store remembers them: `[[url, visit_type], …]`.
fn origin_keys(origins: &[Origin]) -> String {
    struct Keys<'a>(&'a [Origin]);
    impl serde::Serialize for Keys<'_> {
        fn serialize<S: serde::Serializer>(
            &self,
            serializer: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            let keys = self.0.iter().map(|o| (&o.url, &o.visit_type));
            serializer.collect_seq(keys)
        }
    }
    // `["url","visit_type"],` for each, unless a URL needs escaping.
    let size: usize = origins
        .iter()
        .map(|o| o.url.len() + o.visit_type.len() + 8)
        .sum();
    let mut json = Vec::with_capacity(size + 2);
    serde_json::to_writer(&mut json, &Keys(origins)).expect("pairs of strings serialize");
    String::from_utf8(json).expect("JSON is UTF-8")
}

fn conflict(key: &ListerKey, expected: i64, found: i64) -> Error {
    Error::StateConflict {
        lister: key.to_string(),
        expected,
        found,
    }
}
