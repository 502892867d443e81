//! The SQLite page commit: the state, the sightings, the pages' validators and origins, and
//! the refresh of the origins of pages answered `304`, in one immediate transaction, on the
//! blocking pool.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::expression::AsExpression;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{ExpressionMethods, Insertable, OptionalExtension, QueryDsl};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;

use crate::commit_rows::{Commit, PageRows, StaleVersion, loader_arguments, page_rows};
use crate::schema::{listers, listing_ranges, origin_sightings, page_validators};
use lister_core::store::{PageWritten, StateWrite};
use lister_core::{Error, Origin, Result};

/// Rows per SQLite INSERT statement: a page's worth, well under SQLite's bound-parameter
/// limit. A fixed-size statement is prepared once per connection and then reused: preparing a
/// statement with hundreds of parameters cost more than running it.
const ROWS_PER_STATEMENT: usize = 100;

/// The pages answered `304` (`?3`, a JSON array of their URLs): their remembered origins are
/// seen again, at `?1`. The origins are looked up by `listed_origins`'s key, in its order (its
/// `last_seen` is in no index, and no trigger follows it). A run folds what an interrupted
/// run left before it walks, so the origins of a page committed by an earlier run are listed.
const REFRESH: &str = "\
    UPDATE listed_origins SET last_seen = ?1 \
    FROM (SELECT DISTINCT json_extract(k.value, '$[0]') AS url, \
            json_extract(k.value, '$[1]') AS visit_type \
        FROM page_validators AS p, json_each(p.origins) AS k \
        WHERE p.lister_id = ?2 AND p.url IN (SELECT value FROM json_each(?3)) \
        ORDER BY 1, 2) AS held \
    WHERE listed_origins.url = held.url AND listed_origins.visit_type = held.visit_type \
        AND listed_origins.lister_id = ?2";

/// The rows of the pages answered `304` (`?3`) were checked at `?1`.
const TOUCH: &str = "\
    UPDATE page_validators SET updated = ?1 \
    WHERE lister_id = ?2 AND url IN (SELECT value FROM json_each(?3))";

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
pub(super) async fn commit_page(
    conn: &mut SyncConnectionWrapper<diesel::SqliteConnection>,
    write: Commit<'_>,
) -> Result<Result<PageWritten, StaleVersion>> {
    let Commit {
        lister_id,
        at,
        state,
        origins,
        pages,
    } = write;
    // The rows are made on the blocking pool, with the sightings'.
    let pages = pages.to_vec();
    let outcome = conn
        .spawn_blocking(move |conn| {
            let page_rows = page_rows(lister_id, at, &pages, &origins);
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
    page_rows: &PageRows,
) -> diesel::QueryResult<Result<PageWritten, StaleVersion>> {
    use diesel::RunQueryDsl;
    let mut written = PageWritten::default();
    // The state first: it takes the write lock at once, and a conflict stops the page before
    // any origin is written.
    if let Some(state) = state {
        let expected = state.expected_version;
        let changed = match state.range {
            None => diesel::update(
                listers::table
                    .find(lister_id)
                    .filter(listers::state_version.eq(expected)),
            )
            .set((
                listers::state.eq(&state.json),
                listers::state_version.eq(listers::state_version + 1),
                listers::updated.eq(at),
            ))
            .execute(conn)?,
            Some(range) => diesel::update(
                listing_ranges::table
                    .find(range.range_id)
                    .filter(listing_ranges::version.eq(expected)),
            )
            .set((
                listing_ranges::position.eq(&state.json),
                listing_ranges::version.eq(listing_ranges::version + 1),
                listing_ranges::lease_until.eq(range.until),
            ))
            .execute(conn)?,
        };
        if changed == 0 {
            let found = match state.range {
                None => listers::table
                    .find(lister_id)
                    .select(listers::state_version)
                    .first(conn)?,
                Some(range) => listing_ranges::table
                    .find(range.range_id)
                    .select(listing_ranges::version)
                    .first(conn)
                    .optional()?
                    .unwrap_or(-1),
            };
            return Ok(Err(StaleVersion { expected, found }));
        }
        written.state_version = Some(expected + 1);
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
    for row in &page_rows.fetched {
        diesel::insert_into(page_validators::table)
            .values(row)
            .on_conflict((page_validators::lister_id, page_validators::url))
            .do_update()
            .set(row)
            .execute(conn)?;
    }
    if !page_rows.unchanged.is_empty() {
        let urls = serde_json::Value::from(page_rows.unchanged.clone()).to_string();
        for statement in [REFRESH, TOUCH] {
            let changed = diesel::sql_query(statement)
                .bind::<Timestamp, _>(at)
                .bind::<BigInt, _>(lister_id)
                .bind::<Text, _>(&urls)
                .execute(conn)?;
            if statement == REFRESH {
                written.refreshed = changed as u64;
            }
        }
    }
    Ok(Ok(written))
}
