//! The SQLite page commit: the state, the sightings and the pages' validators in one
//! immediate transaction, on the blocking pool.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::expression::AsExpression;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;
use diesel::{ExpressionMethods, Insertable, QueryDsl};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;

use crate::commit_rows::{PageRow, StaleVersion, loader_arguments};
use crate::schema::{listers, origin_sightings, page_validators};
use lister_core::store::{PageWritten, StateWrite};
use lister_core::{Error, Origin, Result};

/// Rows per SQLite INSERT statement: a page's worth, well under SQLite's bound-parameter
/// limit. A fixed-size statement is prepared once per connection and then reused: preparing a
/// statement with hundreds of parameters cost more than running it.
const ROWS_PER_STATEMENT: usize = 100;

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

/// The SQLite commit: on the synchronous connection, because diesel's multi-row insert on
/// SQLite exists only there; the rows are made and the whole transaction runs on the
/// blocking pool.
pub(crate) async fn commit_sqlite(
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
        .await
        .map_err(Error::query("running a transaction"))?;
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
