//! Counts of the queue, per lister instance and visit type, for `lister queue stats`: what
//! they are and the statement that counts them, which each backend runs on its own clock.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use serde::{Deserialize, Serialize};

/// The queue as one lister instance sees it, for one visit type.
///
/// Counts are of that instance's listings: an origin listed by two instances counts in both.
/// `enabled` splits into `leased_now` + `cooling_down` + `due_now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, QueryableByName)]
pub struct QueueStats {
    /// The lister's name.
    #[diesel(sql_type = Text)]
    pub lister: String,
    /// The instance.
    #[diesel(sql_type = Text)]
    pub instance: String,
    /// The visit type.
    #[diesel(sql_type = Text)]
    pub visit_type: String,
    /// Origins the instance has listed.
    #[diesel(sql_type = BigInt)]
    pub known: i64,
    /// Of those, listed enabled and not disabled by the queue.
    #[diesel(sql_type = BigInt)]
    pub enabled: i64,
    /// Enabled origins with no visit recorded.
    #[diesel(sql_type = BigInt)]
    pub never_visited: i64,
    /// Enabled origins leased to a consumer now.
    #[diesel(sql_type = BigInt)]
    pub leased_now: i64,
    /// Enabled origins, not leased, waiting for the end of their cooldown.
    #[diesel(sql_type = BigInt)]
    pub cooling_down: i64,
    /// Enabled origins a grab may hand out now.
    #[diesel(sql_type = BigInt)]
    pub due_now: i64,
    /// Enabled origins visited successfully, with a `last_update` listed since: what
    /// `already_visited_order_by_lag` hands out once they are due.
    #[diesel(sql_type = BigInt)]
    pub pending_changes: i64,
}

/// `{now}` is the clock: the server's on PostgreSQL, a bound parameter on SQLite.
const STATS: &str = "
    SELECT listers.name AS lister, listers.instance, o.visit_type,
        count(*) AS known,
        count(*) FILTER (WHERE {enabled}) AS enabled,
        count(*) FILTER (WHERE {enabled} AND v.last_visit IS NULL) AS never_visited,
        count(*) FILTER (WHERE {enabled} AND v.lease_expires_at > {now}) AS leased_now,
        count(*) FILTER (WHERE {enabled} AND {free} AND v.next_visit_not_before > {now})
            AS cooling_down,
        count(*) FILTER (WHERE {enabled} AND {free} AND v.next_visit_not_before <= {now})
            AS due_now,
        count(*) FILTER (WHERE {enabled} AND v.last_update > v.last_successful)
            AS pending_changes
    FROM listed_origins AS o
    JOIN listers ON listers.id = o.lister_id
    JOIN visit_stats AS v ON v.url = o.url AND v.visit_type = o.visit_type
    GROUP BY listers.name, listers.instance, o.visit_type
    ORDER BY listers.name, listers.instance, o.visit_type";

/// The statement counting the queue, with `now` for the clock.
pub(crate) fn statement(now: &str) -> String {
    STATS
        .replace("{enabled}", "o.enabled AND v.disabled_at IS NULL")
        .replace(
            "{free}",
            "(v.lease_expires_at IS NULL OR v.lease_expires_at <= {now})",
        )
        .replace("{now}", now)
}
