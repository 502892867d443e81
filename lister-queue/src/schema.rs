//! The diesel schema of the queue's table (see `docs/queue.md`).

#![allow(missing_docs, unreachable_pub)]

diesel::table! {
    visit_stats (url, visit_type) {
        url -> Text,
        visit_type -> Text,
        last_update -> Nullable<Timestamp>,
        enabled_listings -> Integer,
        last_scheduled -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_visit -> Nullable<Timestamp>,
        last_visit_status -> Nullable<Text>,
        last_successful -> Nullable<Timestamp>,
        consecutive_failures -> Integer,
        consecutive_not_found -> Integer,
        recurrence_interval_secs -> Nullable<BigInt>,
        next_visit_not_before -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}
