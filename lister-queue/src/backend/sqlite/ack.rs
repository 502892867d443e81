//! Acks on SQLite: one `SELECT` and one `UPDATE` per batch, inside the caller's
//! `BEGIN IMMEDIATE` transaction.

use chrono::NaiveDateTime;
use diesel::SqliteConnection;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::sql_types::{Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::ack_plan::{AckRequest, Acked, Leased, acked, plan};
use crate::prepared::{Binds, Prepared, no_parameter};
use lister_core::store::now;

/// SQLite's binds: a JSON array (`$1`), and for the select the clock (`$2`).
struct SqliteBinds(String, Option<NaiveDateTime>);

impl Binds<Sqlite> for SqliteBinds {
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        match (n, &self.1) {
            (1, _) => out.push_bind_param::<Text, _>(&self.0),
            (2, Some(now)) => out.push_bind_param::<Timestamp, _>(now),
            (n, _) => Err(no_parameter(n)),
        }
    }
}

/// The leased rows named in `$1` (a JSON array of tokens), with the clock (`$2`).
const SQLITE_SELECT: &str = "SELECT url, visit_type, lease_token, last_update, last_successful,
        consecutive_failures, consecutive_not_found, recurrence_interval_secs, $2 AS now
    FROM visit_stats WHERE lease_token IN (SELECT value FROM json_each($1))";

/// Records each ack of `$1`, a JSON array of `[lease_token, visited_at, status,
/// last_successful, consecutive_failures, consecutive_not_found, recurrence_interval_secs,
/// next_visit_not_before, disabled_at]` (times as diesel writes them).
const SQLITE_RECORD: &str = "UPDATE visit_stats
    SET last_visit = j.value ->> 1,
        last_visit_status = j.value ->> 2,
        last_successful = j.value ->> 3,
        consecutive_failures = j.value ->> 4,
        consecutive_not_found = j.value ->> 5,
        recurrence_interval_secs = j.value ->> 6,
        next_visit_not_before = j.value ->> 7,
        disabled_at = coalesce(disabled_at, j.value ->> 8),
        lease_token = NULL,
        lease_expires_at = NULL
    FROM json_each($1) AS j
    WHERE visit_stats.lease_token = j.value ->> 0";

/// A time as diesel writes it to SQLite (so that text comparisons order it).
fn sqlite_time(at: NaiveDateTime) -> String {
    at.format("%F %T%.f").to_string()
}

pub(super) fn ack(
    conn: &mut SqliteConnection,
    acks: &[AckRequest],
) -> QueryResult<Vec<Option<Acked>>> {
    use diesel::RunQueryDsl;

    let json = |value: serde_json::Value| value.to_string();
    let tokens: Vec<&str> = acks.iter().map(|ack| ack.lease_token.as_str()).collect();
    let rows: Vec<Leased> = Prepared::new(
        SQLITE_SELECT,
        SqliteBinds(json(serde_json::json!(tokens)), Some(now())),
    )
    .load(conn)?;
    let planned = plan(acks, rows);
    let records: Vec<serde_json::Value> = planned
        .iter()
        .flatten()
        .map(|(_, record)| {
            let after = &record.after;
            serde_json::json!([
                record.lease_token,
                sqlite_time(record.visited_at),
                record.status.as_str(),
                after.last_successful.map(sqlite_time),
                after.consecutive_failures,
                after.consecutive_not_found,
                after.recurrence_interval_secs,
                sqlite_time(after.next_visit_not_before),
                after.disable.then(|| sqlite_time(record.visited_at)),
            ])
        })
        .collect();
    if !records.is_empty() {
        Prepared::new(SQLITE_RECORD, SqliteBinds(json(records.into()), None)).execute(conn)?;
    }
    Ok(planned
        .iter()
        .map(|planned| planned.as_ref().map(|(row, r)| acked(row, r)))
        .collect())
}
