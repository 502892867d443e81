//! The diesel schema, the same for both backends (times are UTC, JSON is stored as text).

#![allow(missing_docs, unreachable_pub)]

diesel::table! {
    listers (id) {
        id -> BigInt,
        name -> Text,
        instance -> Text,
        state -> Nullable<Text>,
        state_version -> BigInt,
        created -> Timestamp,
        updated -> Timestamp,
        last_listing_finished_at -> Nullable<Timestamp>,
        pass_started_at -> Nullable<Timestamp>,
        last_pass_started_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Keyed by origin first.
    listed_origins (url, visit_type, lister_id) {
        lister_id -> BigInt,
        url -> Text,
        visit_type -> Text,
        first_seen -> Timestamp,
        last_seen -> Timestamp,
        last_update -> Nullable<Timestamp>,
        enabled -> Bool,
        is_fork -> Nullable<Bool>,
        extra_loader_arguments -> Text,
    }
}

diesel::table! {
    page_validators (lister_id, url) {
        lister_id -> BigInt,
        url -> Text,
        etag -> Nullable<Text>,
        last_modified -> Nullable<Text>,
        next_url -> Nullable<Text>,
        next_index -> Nullable<Text>,
        origins -> Nullable<Text>,
        updated -> Timestamp,
    }
}

diesel::table! {
    origin_sightings (id) {
        id -> BigInt,
        lister_id -> BigInt,
        url -> Text,
        visit_type -> Text,
        seen_at -> Timestamp,
        last_update -> Nullable<Timestamp>,
        enabled -> Bool,
        is_fork -> Nullable<Bool>,
        extra_loader_arguments -> Text,
    }
}

diesel::table! {
    quarantined_sightings (id) {
        id -> BigInt,
        lister_id -> BigInt,
        url -> Text,
        visit_type -> Text,
        seen_at -> Timestamp,
        last_update -> Nullable<Timestamp>,
        enabled -> Bool,
        is_fork -> Nullable<Bool>,
        extra_loader_arguments -> Text,
        reason -> Text,
        quarantined_at -> Timestamp,
    }
}

diesel::table! {
    listing_ranges (id) {
        id -> BigInt,
        lister_id -> BigInt,
        seq -> Integer,
        start_state -> Text,
        end_state -> Text,
        position -> Text,
        version -> BigInt,
        owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        done -> Bool,
    }
}

diesel::joinable!(listed_origins -> listers (lister_id));
diesel::joinable!(listing_ranges -> listers (lister_id));
diesel::joinable!(page_validators -> listers (lister_id));
diesel::allow_tables_to_appear_in_same_query!(
    listers,
    listed_origins,
    listing_ranges,
    origin_sightings,
    page_validators,
    quarantined_sightings
);
