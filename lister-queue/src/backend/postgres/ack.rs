//! Acks on PostgreSQL: a batch locks the rows it names with `SKIP LOCKED` and records them
//! in one `UPDATE`, in one transaction; rows someone else holds are tried again shortly, then
//! acked alone, waiting for their lock while holding no other (so acks never deadlock).

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Integer, Text, Timestamp};
use diesel_async::AsyncPgConnection;

use crate::ack_plan::{AckRequest, Acked, Leased, Record, acked, plan};
use crate::prepared::{Binds, Prepared, no_parameter};
use crate::retry::Retry;

/// The pauses before each pass that skips locked rows.
const SKIP_LOCKED_PAUSES: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(5),
    Duration::from_millis(20),
];

/// The leased rows named in `$1` (an array of tokens), in key order, with the server's clock.
///
/// It also lets the transaction commit without waiting for the disk (`synchronous_commit` off,
/// for this transaction only, set here to spare a round trip): losing an ack in a server crash
/// is harmless, since the lease runs out and the origin is visited again. (With no row, the
/// transaction writes nothing, so there is no commit to wait for anyway.)
const PG_SELECT: &str = "SELECT url, visit_type, lease_token, last_update, last_successful,
        consecutive_failures, consecutive_not_found, recurrence_interval_secs,
        (now() AT TIME ZONE 'UTC') AS now,
        set_config('synchronous_commit', 'off', true) AS synchronous_commit
    FROM visit_stats WHERE lease_token = ANY($1) ORDER BY url, visit_type";

/// Records each ack: `$1`… are parallel arrays, one element per ack.
const PG_RECORD: &str = "UPDATE visit_stats AS v
    SET last_visit = u.visited_at,
        last_visit_status = u.status,
        last_successful = u.last_successful,
        consecutive_failures = u.consecutive_failures,
        consecutive_not_found = u.consecutive_not_found,
        recurrence_interval_secs = u.recurrence_interval_secs,
        next_visit_not_before = u.next_visit_not_before,
        disabled_at = coalesce(v.disabled_at, u.disabled_at),
        lease_token = NULL,
        lease_expires_at = NULL
    FROM unnest($1::text[], $2::text[], $3::timestamp[], $4::timestamp[], $5::integer[],
                $6::integer[], $7::bigint[], $8::timestamp[], $9::timestamp[])
        AS u (lease_token, status, visited_at, last_successful, consecutive_failures,
              consecutive_not_found, recurrence_interval_secs, next_visit_not_before,
              disabled_at)
    WHERE v.lease_token = u.lease_token";

/// The leases of a batch (`$1`).
struct Tokens<'a>(&'a [String]);

impl Binds<Pg> for Tokens<'_> {
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match n {
            1 => out.push_bind_param::<Array<Text>, _>(self.0),
            n => Err(no_parameter(n)),
        }
    }
}

/// The columns of [`PG_RECORD`].
struct Columns {
    lease_token: Vec<String>,
    status: Vec<&'static str>,
    visited_at: Vec<NaiveDateTime>,
    last_successful: Vec<Option<NaiveDateTime>>,
    consecutive_failures: Vec<i32>,
    consecutive_not_found: Vec<i32>,
    recurrence_interval_secs: Vec<Option<i64>>,
    next_visit_not_before: Vec<NaiveDateTime>,
    disabled_at: Vec<Option<NaiveDateTime>>,
}

impl Columns {
    fn new<'a>(records: impl Iterator<Item = &'a Record>) -> Columns {
        let mut columns = Columns {
            lease_token: Vec::new(),
            status: Vec::new(),
            visited_at: Vec::new(),
            last_successful: Vec::new(),
            consecutive_failures: Vec::new(),
            consecutive_not_found: Vec::new(),
            recurrence_interval_secs: Vec::new(),
            next_visit_not_before: Vec::new(),
            disabled_at: Vec::new(),
        };
        for record in records {
            let after = &record.after;
            columns.lease_token.push(record.lease_token.clone());
            columns.status.push(record.status.as_str());
            columns.visited_at.push(record.visited_at);
            columns.last_successful.push(after.last_successful);
            columns
                .consecutive_failures
                .push(after.consecutive_failures);
            columns
                .consecutive_not_found
                .push(after.consecutive_not_found);
            columns
                .recurrence_interval_secs
                .push(after.recurrence_interval_secs);
            columns
                .next_visit_not_before
                .push(after.next_visit_not_before);
            columns
                .disabled_at
                .push(after.disable.then_some(record.visited_at));
        }
        columns
    }
}

impl Binds<Pg> for Columns {
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::Nullable as N;
        match n {
            1 => out.push_bind_param::<Array<Text>, _>(&self.lease_token),
            2 => out.push_bind_param::<Array<Text>, _>(&self.status),
            3 => out.push_bind_param::<Array<Timestamp>, _>(&self.visited_at),
            4 => out.push_bind_param::<Array<N<Timestamp>>, _>(&self.last_successful),
            5 => out.push_bind_param::<Array<Integer>, _>(&self.consecutive_failures),
            6 => out.push_bind_param::<Array<Integer>, _>(&self.consecutive_not_found),
            7 => out.push_bind_param::<Array<N<BigInt>>, _>(&self.recurrence_interval_secs),
            8 => out.push_bind_param::<Array<Timestamp>, _>(&self.next_visit_not_before),
            9 => out.push_bind_param::<Array<N<Timestamp>>, _>(&self.disabled_at),
            n => Err(no_parameter(n)),
        }
    }
}

pub(super) async fn ack(
    conn: &mut AsyncPgConnection,
    acks: &[AckRequest],
) -> QueryResult<Vec<Option<Acked>>> {
    // All at once, skipping rows someone else holds right now. A grab that started before
    // these leases were granted may hold some of their rows for the rest of its statement
    // (PostgreSQL locks a row before it finds that the row changed), so try again shortly.
    let mut outcomes: Vec<Option<Acked>> = vec![None; acks.len()];
    for pause in SKIP_LOCKED_PAUSES {
        let pending: Vec<usize> = (0..acks.len()).filter(|&i| outcomes[i].is_none()).collect();
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(pause).await;
        let batch: Vec<AckRequest> = pending.iter().map(|&i| acks[i].clone()).collect();
        let tokens: Vec<String> = batch.iter().map(|ack| ack.lease_token.clone()).collect();
        let recorded = lock_and_record(conn, &batch, &tokens, true).await?;
        for (i, outcome) in pending.into_iter().zip(recorded) {
            outcomes[i] = outcome;
        }
    }
    // The rest one at a time, waiting for their lock; a token still missing is stale.
    for (ack, outcome) in acks.iter().zip(outcomes.iter_mut()) {
        if outcome.is_none() {
            let tokens = [ack.lease_token.clone()];
            *outcome = lock_and_record(conn, std::slice::from_ref(ack), &tokens, false)
                .await?
                .pop()
                .flatten();
        }
    }
    Ok(outcomes)
}

/// One transaction (run again after a serialization failure): lock the rows leased under
/// `tokens`, without waiting for those someone else holds if `skip_locked`, and record `acks`
/// on them.
async fn lock_and_record(
    conn: &mut AsyncPgConnection,
    acks: &[AckRequest],
    tokens: &[String],
    skip_locked: bool,
) -> QueryResult<Vec<Option<Acked>>> {
    let lock = if skip_locked {
        "FOR UPDATE SKIP LOCKED"
    } else {
        "FOR UPDATE"
    };
    let mut retry = Retry::new();
    loop {
        let outcome = lock_and_record_once(conn, acks, tokens, lock).await;
        if !retry.again(&outcome).await {
            return outcome;
        }
    }
}

async fn lock_and_record_once(
    conn: &mut AsyncPgConnection,
    acks: &[AckRequest],
    tokens: &[String],
    lock: &str,
) -> QueryResult<Vec<Option<Acked>>> {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    conn.transaction(async |conn| {
        let rows: Vec<Leased> = Prepared::new(format!("{PG_SELECT} {lock}"), Tokens(tokens))
            .load(conn)
            .await?;
        let planned = plan(acks, rows);
        let records = planned.iter().flatten().map(|(_, record)| record);
        if records.clone().next().is_some() {
            Prepared::new(PG_RECORD, Columns::new(records))
                .execute(conn)
                .await?;
        }
        Ok(planned
            .iter()
            .map(|planned| planned.as_ref().map(|(row, r)| acked(row, r)))
            .collect())
    })
    .await
}
