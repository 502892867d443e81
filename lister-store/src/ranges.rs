//! The ranges of a parallel listing (`lister run --parallel`): rows of `listing_ranges`,
//! created once for a span of the listing, each claimed under a lease by one run at a time,
//! advanced by its page commits (see `commit`), and finished in order: the instance's state
//! follows the finished prefix.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::backend::columns;
use crate::connection::DbConnection;
use crate::schema::{listers, listing_ranges};
use crate::store::Store;
use lister_core::store::{NewRange, RangeRecord, now};
use lister_core::{Error, Result};

/// A row of `listing_ranges`, read as a [`RangeRecord`].
#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = listing_ranges)]
struct RangeRow {
    id: i64,
    lister_id: i64,
    seq: i32,
    start_state: String,
    end_state: String,
    position: String,
    version: i64,
    owner: Option<String>,
    lease_until: Option<NaiveDateTime>,
    done: bool,
}

impl From<RangeRow> for RangeRecord {
    fn from(row: RangeRow) -> RangeRecord {
        RangeRecord {
            id: row.id,
            lister_id: row.lister_id,
            seq: row.seq,
            start_state: row.start_state,
            end_state: row.end_state,
            position: row.position,
            version: row.version,
            owner: row.owner,
            lease_until: row.lease_until,
            done: row.done,
        }
    }
}

/// Takes the first free range, one that is not done and that no lease holds (`{owner}`,
/// `{until}`, `{lister}`, `{now}`: the placeholders of the four parameters, in this order;
/// `{lock}`: on PostgreSQL, skip the rows other transactions are taking).
const CLAIM: &str = "UPDATE listing_ranges SET owner = {owner}, lease_until = {until}, \
    version = version + 1 WHERE id = (SELECT id FROM listing_ranges WHERE lister_id = {lister} \
    AND NOT done AND (lease_until IS NULL OR lease_until < {now}) ORDER BY seq LIMIT 1 {lock}) \
    RETURNING *";

/// Runs `body` in a transaction that writes (on SQLite, holding the write lock from its
/// start), committed when it returns `Ok`, rolled back otherwise.
async fn writing<T>(
    conn: &mut DbConnection,
    body: impl AsyncFnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    let begin = conn.backend().begin_writing();
    conn.batch_execute(begin).await?;
    let done = body(conn).await;
    let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
    conn.batch_execute(end).await?;
    done
}

impl Store {
    /// The instance's ranges, in order.
    pub async fn ranges(&self, lister_id: i64) -> Result<Vec<RangeRecord>> {
        let mut conn = self.connection().await?;
        let ranges = listing_ranges::table
            .filter(listing_ranges::lister_id.eq(lister_id))
            .order(listing_ranges::seq)
            .select(columns::<RangeRow>());
        let rows: Vec<RangeRow> = conn
            .load(ranges)
            .await
            .map_err(Error::query("reading the ranges of a listing"))?;
        Ok(rows.into_iter().map(RangeRecord::from).collect())
    }

    /// Creates the instance's ranges, if it has none and its state is at `state_version`
    /// (which then advances); `false` when another run was first.
    pub async fn create_ranges(
        &self,
        lister_id: i64,
        state_version: i64,
        ranges: &[NewRange],
    ) -> Result<bool> {
        let mut conn = self.writer().await?;
        let rows: Vec<_> = ranges
            .iter()
            .enumerate()
            .map(|(seq, range)| {
                (
                    listing_ranges::lister_id.eq(lister_id),
                    listing_ranges::seq.eq(seq as i32),
                    listing_ranges::start_state.eq(&range.start_state),
                    listing_ranges::end_state.eq(&range.end_state),
                    listing_ranges::position.eq(&range.start_state),
                )
            })
            .collect();
        let at = now();
        // The state's row first: its write serializes the runs that create ranges at once.
        let created = writing(&mut conn, async |conn| {
            let version = listers::state_version.eq(state_version);
            let bump = diesel::update(listers::table.find(lister_id).filter(version)).set((
                listers::state_version.eq(state_version + 1),
                listers::updated.eq(at),
            ));
            let moved = conn.execute(bump).await?;
            let existing = listing_ranges::table
                .filter(listing_ranges::lister_id.eq(lister_id))
                .count();
            if moved == 0 || conn.get_result::<i64, _>(existing).await? > 0 {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            for row in &rows {
                conn.execute(diesel::insert_into(listing_ranges::table).values(*row))
                    .await?;
            }
            Ok(())
        });
        match created.await {
            Ok(()) => Ok(true),
            Err(diesel::result::Error::RollbackTransaction) => Ok(false),
            Err(error) => Err(Error::query("creating the ranges of a listing")(error)),
        }
    }

    /// Takes the first range no lease holds, for `owner` until `until`.
    pub async fn claim_range(
        &self,
        lister_id: i64,
        owner: &str,
        at: NaiveDateTime,
        until: NaiveDateTime,
    ) -> Result<Option<RangeRecord>> {
        let mut conn = self.writer().await?;
        let backend = conn.backend();
        let claim = CLAIM
            .replace("{owner}", &backend.placeholder(1))
            .replace("{until}", &backend.placeholder(2))
            .replace("{lister}", &backend.placeholder(3))
            .replace("{now}", &backend.placeholder(4))
            .replace("{lock}", backend.skip_locked());
        let claim = diesel::sql_query(claim)
            .bind::<Text, _>(owner.to_owned())
            .bind::<Timestamp, _>(until)
            .bind::<BigInt, _>(lister_id)
            .bind::<Timestamp, _>(at);
        let row: Option<RangeRow> = conn
            .get_result(claim)
            .await
            .optional()
            .map_err(Error::query("claiming a range of a listing"))?;
        Ok(row.map(RangeRecord::from))
    }

    /// Extends the leases `owner` holds on the instance's ranges until `until`.
    pub async fn renew_leases(
        &self,
        lister_id: i64,
        owner: &str,
        until: NaiveDateTime,
    ) -> Result<()> {
        let mut conn = self.writer().await?;
        let held = listing_ranges::lister_id
            .eq(lister_id)
            .and(listing_ranges::owner.eq(owner))
            .and(listing_ranges::done.eq(false));
        let renew = diesel::update(listing_ranges::table.filter(held))
            .set(listing_ranges::lease_until.eq(until));
        conn.execute(renew)
            .await
            .map(drop)
            .map_err(Error::query("renewing the leases on ranges"))
    }

    /// Gives up the leases `owner` holds on the instance's ranges.
    pub async fn release_ranges(&self, lister_id: i64, owner: &str) -> Result<()> {
        let mut conn = self.writer().await?;
        let held = listing_ranges::lister_id
            .eq(lister_id)
            .and(listing_ranges::owner.eq(owner))
            .and(listing_ranges::done.eq(false));
        let free = (
            listing_ranges::owner.eq(None::<String>),
            listing_ranges::lease_until.eq(None::<NaiveDateTime>),
        );
        conn.execute(diesel::update(listing_ranges::table.filter(held)).set(free))
            .await
            .map(drop)
            .map_err(Error::query("releasing ranges"))
    }

    /// Marks `range` done if it is still at its version, and moves the instance's state over
    /// the finished prefix; when every range is done, to the end of the last, and the ranges
    /// go. Returns whether this closed the ranges.
    pub async fn finish_range(&self, range: &RangeRecord) -> Result<bool> {
        let mut conn = self.writer().await?;
        let lister_id = range.lister_id;
        let at = now();
        let finished = writing(&mut conn, async |conn| {
            // The state's row first: finishes of one instance's ranges go one at a time, so
            // that the last one sees every other done.
            let touch = diesel::update(listers::table.find(lister_id)).set(listers::updated.eq(at));
            conn.execute(touch).await?;
            let still = listing_ranges::version.eq(range.version);
            let mark = diesel::update(listing_ranges::table.find(range.id).filter(still)).set((
                listing_ranges::done.eq(true),
                listing_ranges::version.eq(range.version + 1),
                listing_ranges::owner.eq(None::<String>),
                listing_ranges::lease_until.eq(None::<NaiveDateTime>),
            ));
            if conn.execute(mark).await? == 0 {
                return Ok(None);
            }
            let ours = listing_ranges::lister_id.eq(lister_id);
            let next = listing_ranges::table
                .filter(ours.and(listing_ranges::done.eq(false)))
                .order(listing_ranges::seq)
                .select(listing_ranges::start_state);
            let next: Option<String> = conn.first(next).await.optional()?;
            let closed = next.is_none();
            let state = match next {
                Some(start) => start,
                None => {
                    let last = listing_ranges::table
                        .filter(ours)
                        .order(listing_ranges::seq.desc())
                        .select(listing_ranges::end_state);
                    conn.first(last).await?
                }
            };
            let moved = listers::state.ne(&state).or(listers::state.is_null());
            let advance = diesel::update(listers::table.find(lister_id).filter(moved)).set((
                listers::state.eq(&state),
                listers::state_version.eq(listers::state_version + 1),
            ));
            conn.execute(advance).await?;
            if closed {
                conn.execute(diesel::delete(listing_ranges::table.filter(ours)))
                    .await?;
            }
            Ok(Some(closed))
        })
        .await;
        match finished.map_err(Error::query("finishing a range of a listing"))? {
            Some(closed) => Ok(closed),
            None => Err(Error::StateConflict {
                lister: format!("range {} of lister {lister_id}", range.seq),
                expected: range.version,
                found: -1,
            }),
        }
    }
}
