//! Writing a page: its origins (as sightings), the lister's advanced state and the page's
//! validators, all in one transaction.

use chrono::NaiveDateTime;
use diesel::{AsChangeset, Insertable};
use serde::Serialize;

use super::connection::DbConnection;
use super::schema::{listers, origin_sightings, page_validators};
use super::{ListerRecord, PageRecord, Store, now};
use crate::{Error, ListerKey, Origin, Result};

/// Rows per INSERT statement (keeps well under SQLite's bound-parameter limit).
const ROWS_PER_STATEMENT: usize = 500;

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
        let json = serde_json::to_string(state).map_err(|source| Error::Decode {
            what: "lister state".into(),
            source,
        })?;
        Ok(StateWrite {
            json,
            expected_version,
        })
    }
}

/// Everything one page writes, committed together or not at all.
#[derive(Debug, Clone)]
pub struct PageWrite<'a> {
    /// The lister instance.
    pub lister: &'a ListerRecord,
    /// The page's validated, de-duplicated origins.
    pub origins: &'a [Origin],
    /// The advanced state (`None` in relisting mode, which never touches the state).
    pub state: Option<StateWrite>,
    /// The page's validators and next link, for conditional requests.
    pub page: Option<PageRecord>,
}

/// What a page write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageWritten {
    /// Origins written as sightings (see [`Store::fold_sightings`]).
    pub sightings: u64,
    /// The state version after the write, if the state was written.
    pub state_version: Option<i64>,
}

/// `None` is written as NULL, not DEFAULT: SQLite has no DEFAULT in multi-row VALUES, and
/// diesel would otherwise insert such rows one statement at a time.
#[derive(Insertable)]
#[diesel(table_name = origin_sightings, treat_none_as_default_value = false)]
struct SightingRow {
    lister_id: i64,
    url: String,
    visit_type: String,
    seen_at: NaiveDateTime,
    last_update: Option<NaiveDateTime>,
    enabled: bool,
    is_fork: Option<bool>,
    extra_loader_arguments: String,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = page_validators, treat_none_as_null = true, treat_none_as_default_value = false)]
struct PageRow {
    lister_id: i64,
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    next_url: Option<String>,
    next_index: Option<String>,
    updated: NaiveDateTime,
}

impl Store {
    /// Writes a page's origins as sightings, the advanced state and the page record in one
    /// transaction. A state conflict or any failure rolls all of it back.
    ///
    /// Sightings are appended, never looked up: [`fold_sightings`](Self::fold_sightings)
    /// merges them into `listed_origins` later, in large sorted batches.
    pub async fn commit_page(&self, write: PageWrite<'_>) -> Result<PageWritten> {
        let at = now();
        let lister_id = write.lister.id;
        let rows: Vec<SightingRow> = write
            .origins
            .iter()
            .map(|origin| SightingRow {
                lister_id,
                url: origin.url.clone(),
                visit_type: origin.visit_type.clone(),
                seen_at: at,
                last_update: origin.last_update.map(|t| t.naive_utc()),
                enabled: origin.enabled,
                is_fork: origin.is_fork,
                extra_loader_arguments: origin.extra_loader_arguments.to_string(),
            })
            .collect();
        let page_row = write.page.map(|page| PageRow {
            lister_id,
            url: page.url,
            etag: page.validators.etag,
            last_modified: page.validators.last_modified,
            next_url: page.next_url,
            next_index: page.next_index,
            updated: at,
        });
        let state = write.state;
        let key = write.lister.key();
        let mut conn = self.writer().await?;
        let outcome = match &mut *conn {
            DbConnection::Postgres(conn) => {
                backends::commit_postgres(conn, lister_id, at, state, rows, page_row).await?
            }
            DbConnection::Sqlite(conn) => {
                backends::commit_sqlite(conn, lister_id, at, state, rows, page_row).await?
            }
        };
        outcome.map_err(|found| conflict(&key, found.expected, found.found))
    }
}

/// A refused state write: the version it expected and the one it found.
struct StaleVersion {
    expected: i64,
    found: i64,
}

/// The body of a page commit, written once for both backends: `$($await)*` is `.await` for
/// the async PostgreSQL connection and nothing for the synchronous SQLite one. It evaluates to
/// `Ok(PageWritten)`, or `Err(StaleVersion)` before anything was written.
macro_rules! commit_body {
    ($conn:ident, $lister_id:expr, $at:expr, $state:expr, $rows:expr, $page_row:expr, $insert:expr; $($await:tt)*) => {{
        let mut written = PageWritten::default();
        let mut stale = None;
        // The state first: it takes the write lock at once, and a conflict stops the page
        // before any origin is written.
        if let Some(state) = &$state {
            let changed = diesel::update(
                listers::table
                    .find($lister_id)
                    .filter(listers::state_version.eq(state.expected_version)),
            )
            .set((
                listers::state.eq(&state.json),
                listers::state_version.eq(listers::state_version + 1),
                listers::updated.eq($at),
            ))
            .execute($conn) $($await)* ?;
            if changed == 0 {
                let found: i64 = listers::table
                    .find($lister_id)
                    .select(listers::state_version)
                    .first($conn) $($await)* ?;
                stale = Some(StaleVersion { expected: state.expected_version, found });
            } else {
                written.state_version = Some(state.expected_version + 1);
            }
        }
        if stale.is_none() {
            for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
                written.sightings += $insert($conn, $lister_id, $at, chunk) $($await)* ? as u64;
            }
            if let Some(row) = &$page_row {
                diesel::insert_into(page_validators::table)
                    .values(row)
                    .on_conflict((page_validators::lister_id, page_validators::url))
                    .do_update()
                    .set(row)
                    .execute($conn) $($await)* ?;
            }
        }
        match stale {
            Some(stale) => Err(stale),
            None => Ok(written),
        }
    }};
}

/// The commit body expanded for each backend; each function sees only its own `RunQueryDsl`.
/// Each backend also has its own multi-row insert: PostgreSQL binds one array per column
/// (`UNNEST`, one cached statement whatever the page size), SQLite a multi-row `VALUES`.
mod backends {
    use chrono::NaiveDateTime;
    use diesel::{ExpressionMethods, QueryDsl};

    use super::{
        Error, PageRow, PageWritten, ROWS_PER_STATEMENT, Result, SightingRow, StaleVersion,
        StateWrite, listers, origin_sightings, page_validators,
    };

    const INSERT_UNNEST: &str = "\
        INSERT INTO origin_sightings (lister_id, url, visit_type, seen_at, last_update, \
            enabled, is_fork, extra_loader_arguments) \
        SELECT $1, u.url, u.visit_type, $2, u.last_update, u.enabled, u.is_fork, u.arguments \
        FROM UNNEST($3::text[], $4::text[], $5::timestamp[], $6::boolean[], $7::boolean[], \
            $8::text[]) AS u (url, visit_type, last_update, enabled, is_fork, arguments)";

    /// The PostgreSQL insert of `chunk`; returns the number of rows written.
    async fn insert_unnest(
        conn: &mut diesel_async::AsyncPgConnection,
        lister_id: i64,
        at: NaiveDateTime,
        chunk: &[SightingRow],
    ) -> diesel::QueryResult<usize> {
        use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamp};
        use diesel_async::RunQueryDsl;
        let column = |f: fn(&SightingRow) -> &str| chunk.iter().map(f).collect::<Vec<_>>();
        diesel::sql_query(INSERT_UNNEST)
            .bind::<BigInt, _>(lister_id)
            .bind::<Timestamp, _>(at)
            .bind::<Array<Text>, _>(column(|row| &row.url))
            .bind::<Array<Text>, _>(column(|row| &row.visit_type))
            .bind::<Array<Nullable<Timestamp>>, _>(
                chunk.iter().map(|row| row.last_update).collect::<Vec<_>>(),
            )
            .bind::<Array<Bool>, _>(chunk.iter().map(|row| row.enabled).collect::<Vec<_>>())
            .bind::<Array<Nullable<Bool>>, _>(
                chunk.iter().map(|row| row.is_fork).collect::<Vec<_>>(),
            )
            .bind::<Array<Text>, _>(column(|row| &row.extra_loader_arguments))
            .execute(conn)
            .await
    }

    /// The SQLite insert of `chunk`: one multi-row `VALUES` statement.
    fn insert_values(
        conn: &mut diesel::SqliteConnection,
        _lister_id: i64,
        _at: NaiveDateTime,
        chunk: &[SightingRow],
    ) -> diesel::QueryResult<usize> {
        use diesel::RunQueryDsl;
        diesel::insert_into(origin_sightings::table)
            .values(chunk)
            .execute(conn)
    }

    pub(super) async fn commit_postgres(
        conn: &mut diesel_async::AsyncPgConnection,
        lister_id: i64,
        at: NaiveDateTime,
        state: Option<StateWrite>,
        rows: Vec<SightingRow>,
        page_row: Option<PageRow>,
    ) -> Result<Result<PageWritten, StaleVersion>> {
        use diesel_async::{AsyncConnection, RunQueryDsl};
        conn.transaction::<_, Error, _>(async |conn| {
            Ok(commit_body!(conn, lister_id, at, state, rows, page_row, insert_unnest; .await))
        })
        .await
    }

    /// diesel's multi-row insert on SQLite needs the synchronous connection: the whole
    /// transaction runs on the blocking pool, as every SQLite statement does.
    pub(super) async fn commit_sqlite(
        conn: &mut diesel_async::sync_connection_wrapper::SyncConnectionWrapper<
            diesel::SqliteConnection,
        >,
        lister_id: i64,
        at: NaiveDateTime,
        state: Option<StateWrite>,
        rows: Vec<SightingRow>,
        page_row: Option<PageRow>,
    ) -> Result<Result<PageWritten, StaleVersion>> {
        use diesel::RunQueryDsl;
        let outcome = conn
            .spawn_blocking(move |conn| {
                conn.immediate_transaction(|conn| {
                    Ok(commit_body!(conn, lister_id, at, state, rows, page_row, insert_values;))
                })
            })
            .await?;
        Ok(outcome)
    }
}

fn conflict(key: &ListerKey, expected: i64, found: i64) -> Error {
    Error::StateConflict {
        lister: key.to_string(),
        expected,
        found,
    }
}
