//! A grab on SQLite: per selection, one `SELECT` in the ordering's index order and one
//! `UPDATE` leasing what it picked, inside the caller's `BEGIN IMMEDIATE` transaction.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{QueryableByName, SqliteConnection};

use crate::grant::{DUE, Grant, Request, token};
use crate::prepared::{Binds, Prepared, no_parameter};
use lister_core::store::now;

/// An origin a selection picked, with the lister of its latest enabled listing.
#[derive(QueryableByName)]
struct Picked {
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    visit_type: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    last_update: Option<NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    lister_id: i64,
}

/// The binds of the statements below: `$1` and `$2` are times, `$3` text.
struct SqliteBinds(NaiveDateTime, NaiveDateTime, String);

impl Binds<Sqlite> for SqliteBinds {
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        match n {
            1 => out.push_bind_param::<Timestamp, _>(&self.0),
            2 => out.push_bind_param::<Timestamp, _>(&self.1),
            3 => out.push_bind_param::<Text, _>(&self.2),
            n => Err(no_parameter(n)),
        }
    }
}

/// Leases the origins named in `$3`, a JSON array of `[url, visit_type, token]`, until `$1`.
const LEASE: &str = "UPDATE visit_stats
    SET lease_token = j.value ->> 2, lease_expires_at = $1, last_scheduled = $2
    FROM json_each($3) AS j
    WHERE visit_stats.url = j.value ->> 0 AND visit_stats.visit_type = j.value ->> 1";

pub(super) fn grab(conn: &mut SqliteConnection, request: &Request) -> QueryResult<Vec<Grant>> {
    use diesel::prelude::*;
    use lister_store::schema::listers;

    let at = now();
    let expires = at + request.lease;
    let listers: HashMap<i64, (String, String)> = listers::table
        .select((listers::id, (listers::name, listers::instance)))
        .load(conn)?
        .into_iter()
        .collect();
    let mut granted: Vec<Grant> = Vec::with_capacity(request.count);
    for (selection, limit) in &request.plan {
        let room = (*limit).min(request.count - granted.len());
        if room == 0 {
            continue;
        }
        // The limit is part of the text: SQLite prepares a statement again whenever a bound
        // limit changes.
        let sql = format!(
            "SELECT url, visit_type, last_update,
                (SELECT lister_id FROM listed_origins AS o
                 WHERE o.url = v.url AND o.visit_type = v.visit_type
                 ORDER BY o.enabled DESC, o.last_seen DESC, o.lister_id LIMIT 1) AS lister_id
            FROM visit_stats AS v
            WHERE visit_type = $3 AND {} AND {}
            ORDER BY {} LIMIT {room}",
            selection.filter().replace("{now}", "$1"),
            DUE.replace("{now}", "$1"),
            selection.order_sqlite(),
        );
        let binds = SqliteBinds(at, at, request.visit_type.clone());
        let picked: Vec<Picked> = Prepared::new(sql, binds).load(conn)?;
        if picked.is_empty() {
            continue;
        }
        let tokens: Vec<String> = picked.iter().map(|_| token()).collect();
        let leases: Vec<(&str, &str, &str)> = picked
            .iter()
            .zip(&tokens)
            .map(|(p, token)| (p.url.as_str(), p.visit_type.as_str(), token.as_str()))
            .collect();
        let leases = serde_json::to_string(&leases)
            .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
        Prepared::new(LEASE, SqliteBinds(expires, at, leases)).execute(conn)?;
        for (picked, lease_token) in picked.into_iter().zip(tokens) {
            let (lister, instance) = listers.get(&picked.lister_id).cloned().unwrap_or_default();
            granted.push(Grant {
                url: picked.url,
                visit_type: picked.visit_type,
                lister,
                instance,
                last_update: picked.last_update.map(|t| t.and_utc()),
                lease_token,
                lease_expires_at: expires.and_utc(),
            });
        }
    }
    Ok(granted)
}
