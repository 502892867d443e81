//! Writing pages: their origins (as sightings), the lister's advanced state and the pages'
//! validators, all in one transaction.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::expression::AsExpression;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;
use diesel::{AsChangeset, ExpressionMethods, Insertable, QueryDsl};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use serde::Serialize;

use super::commit_postgres::{PostgresWrite, commit_postgres};
use super::connection::DbConnection;
use super::schema::{listers, origin_sightings, page_validators};
use super::{ListerRecord, PageRecord, Store, now};
use crate::{Error, ListerKey, Origin, Result};

/// Rows per SQLite INSERT statement: a page's worth, well under SQLite's bound-parameter
/// limit. A fixed-size statement is prepared once per connection and then reused: preparing a
/// statement with hundreds of parameters cost more than running it.
const ROWS_PER_STATEMENT: usize = 100;

/// A state write that only succeeds if the state is still at `expected_version`.
#[derive(Debug, Clone)]
pub struct StateWrite {
    /// The new state, as JSON text.
    pub json: String,
    /// The version this run read or last wrote.
    pub expected_version: i64,
}

impl StateWrite {
    /// Serializes `state` for a write expecting `expected_version`.
    pub fn new<S: Serialize>(state: &S, expected_version: i64) -> Result<StateWrite> {
        Ok(StateWrite {
            json: Self::encode(state)?,
            expected_version,
        })
    }

    /// `state` as the JSON a state write stores.
    pub(crate) fn encode<S: Serialize>(state: &S) -> Result<String> {
        serde_json::to_string(state).map_err(|source| Error::Decode {
            what: "lister state".into(),
            source,
        })
    }
}

/// Everything one page, or several consecutive pages, write: committed together or not at
/// all.
#[derive(Debug, Clone)]
pub struct PageWrite<'a> {
    /// The lister instance.
    pub lister: &'a ListerRecord,
    /// The pages' validated origins, each page de-duplicated. The commit takes them: SQLite
    /// makes its rows on the blocking pool, so the thread that fetches pages does not.
    pub origins: Vec<Origin>,
    /// The state after the last page (`None` in relisting mode, which never touches the
    /// state).
    pub state: Option<StateWrite>,
    /// The pages' validators and next links, for conditional requests; a URL given twice
    /// keeps its last record.
    pub pages: &'a [PageRecord],
}

/// What a page write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageWritten {
    /// Origins written as sightings (see [`Store::fold_sightings`]).
    pub sightings: u64,
    /// The state version after the write, if the state was written.
    pub state_version: Option<i64>,
}

/// A sighting as SQLite inserts it, made from the origin it takes the text of. `None` is
/// written as NULL, not DEFAULT: SQLite has no DEFAULT in multi-row VALUES, and diesel would
/// otherwise insert such rows one statement at a time.
#[derive(Insertable)]
#[diesel(table_name = origin_sightings, treat_none_as_default_value = false)]
struct SightingRow {
    lister_id: i64,
    url: String,
    visit_type: String,
    seen_at: CommitTime,
    last_update: Option<NaiveDateTime>,
    enabled: bool,
    is_fork: Option<bool>,
    extra_loader_arguments: Cow<'static, str>,
}

impl SightingRow {
    fn new(lister_id: i64, seen_at: &CommitTime, origin: Origin) -> SightingRow {
        SightingRow {
            lister_id,
            extra_loader_arguments: loader_arguments(&origin),
            url: origin.url,
            visit_type: origin.visit_type,
            seen_at: seen_at.clone(),
            last_update: origin.last_update.map(|t| t.naive_utc()),
            enabled: origin.enabled,
            is_fork: origin.is_fork,
        }
    }
}

/// An origin's loader arguments as the JSON text the store keeps. Most origins have none:
/// their `{}` is neither formatted nor allocated again for each one.
pub(super) fn loader_arguments(origin: &Origin) -> Cow<'static, str> {
    match &origin.extra_loader_arguments {
        serde_json::Value::Object(arguments) if arguments.is_empty() => Cow::Borrowed("{}"),
        arguments => Cow::Owned(arguments.to_string()),
    }
}

/// A commit's time, as SQLite stores a timestamp, formatted once for all the commit's rows:
/// diesel formats a `NaiveDateTime` again for every row it binds, which was 3 % of a SQLite
/// run's instructions. (PostgreSQL binds the commit's time once per statement.)
#[derive(Debug, Clone, AsExpression)]
#[diesel(sql_type = Timestamp)]
struct CommitTime(Arc<str>);

impl CommitTime {
    fn new(at: NaiveDateTime) -> CommitTime {
        // The format diesel writes a `NaiveDateTime` in on SQLite, so that times compare as
        // text whichever wrote them.
        CommitTime(at.format("%F %T%.f").to_string().into())
    }
}

impl ToSql<Timestamp, Sqlite> for CommitTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> diesel::serialize::Result {
        out.set_value(&*self.0);
        Ok(IsNull::No)
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = page_validators, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(super) struct PageRow {
    pub(super) lister_id: i64,
    pub(super) url: String,
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
    pub(super) next_url: Option<String>,
    pub(super) next_index: Option<String>,
    pub(super) updated: NaiveDateTime,
}

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

/// A refused state write: the version it expected and the one it found.
pub(super) struct StaleVersion {
    pub(super) expected: i64,
    pub(super) found: i64,
}

/// The SQLite commit: on the synchronous connection, because diesel's multi-row insert on
/// SQLite exists only there; the rows are made and the whole transaction runs on the
/// blocking pool.
async fn commit_sqlite(
    conn: &mut SyncConnectionWrapper<diesel::SqliteConnection>,
    lister_id: i64,
    at: NaiveDateTime,
    state: Option<StateWrite>,
    origins: Vec<Origin>,
    page_rows: Vec<PageRow>,
) -> Result<Result<PageWritten, StaleVersion>> {
    let outcome = conn
        .spawn_blocking(move |conn| {
            // Formatted once for every row: see `CommitTime`.
            let seen_at = CommitTime::new(at);
            let rows: Vec<SightingRow> = origins
                .into_iter()
                .map(|origin| SightingRow::new(lister_id, &seen_at, origin))
                .collect();
            conn.immediate_transaction(|conn| {
                write_sqlite(conn, lister_id, at, state.as_ref(), &rows, &page_rows)
            })
        })
        .await?;
    Ok(outcome)
}

/// The body of the SQLite transaction: `Err(StaleVersion)` before anything was written.
fn write_sqlite(
    conn: &mut diesel::SqliteConnection,
    lister_id: i64,
    at: NaiveDateTime,
    state: Option<&StateWrite>,
    rows: &[SightingRow],
    page_rows: &[PageRow],
) -> diesel::QueryResult<Result<PageWritten, StaleVersion>> {
    use diesel::RunQueryDsl;
    let mut written = PageWritten::default();
    // The state first: it takes the write lock at once, and a conflict stops the page before
    // any origin is written.
    if let Some(state) = state {
        let changed = diesel::update(
            listers::table
                .find(lister_id)
                .filter(listers::state_version.eq(state.expected_version)),
        )
        .set((
            listers::state.eq(&state.json),
            listers::state_version.eq(listers::state_version + 1),
            listers::updated.eq(at),
        ))
        .execute(conn)?;
        if changed == 0 {
            let found = listers::table
                .find(lister_id)
                .select(listers::state_version)
                .first(conn)?;
            let expected = state.expected_version;
            return Ok(Err(StaleVersion { expected, found }));
        }
        written.state_version = Some(state.expected_version + 1);
    }
    // Arrays, not slices: diesel caches the prepared statement of a fixed row count.
    let (chunks, rest) = rows.as_chunks::<ROWS_PER_STATEMENT>();
    for chunk in chunks {
        let inserted = diesel::insert_into(origin_sightings::table)
            .values(chunk)
            .execute(conn)?;
        written.sightings += inserted as u64;
    }
    if !rest.is_empty() {
        let inserted = diesel::insert_into(origin_sightings::table)
            .values(rest)
            .execute(conn)?;
        written.sightings += inserted as u64;
    }
    for row in page_rows {
        diesel::insert_into(page_validators::table)
            .values(row)
            .on_conflict((page_validators::lister_id, page_validators::url))
            .do_update()
            .set(row)
            .execute(conn)?;
    }
    Ok(Ok(written))
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
