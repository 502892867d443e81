//! The SQL and the counts every fold shares, whichever backend runs it.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;

/// What a fold statement did: the sightings it folded, and the origins among them that were
/// new.
#[derive(QueryableByName, Default)]
pub(crate) struct Counts {
    #[diesel(sql_type = BigInt)]
    pub(crate) sightings: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) new: i64,
}

/// The same upsert rules as a single sighting would follow: `first_seen` is set once (the
/// fold's earliest sighting), the rest takes the latest sighting's values.
pub(crate) const ON_CONFLICT: &str = "\
    ON CONFLICT (lister_id, url, visit_type) DO UPDATE SET last_seen = excluded.last_seen, \
        last_update = excluded.last_update, enabled = excluded.enabled, \
        is_fork = excluded.is_fork, extra_loader_arguments = excluded.extra_loader_arguments";

/// The columns of `listed_origins` a fold inserts, in order.
pub(crate) const COLUMNS: &str = "lister_id, url, visit_type, first_seen, last_seen, \
    last_update, enabled, is_fork, extra_loader_arguments";
