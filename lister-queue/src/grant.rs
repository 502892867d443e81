//! What a grab asks for and what it grants, shared by its PostgreSQL and SQLite statements.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::Selection;

/// An origin leased to a consumer: visit it, then ack the lease before it expires.
///
/// Serializes to one JSON object with exactly these fields (times in RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The origin's URL.
    pub url: String,
    /// How to visit it.
    pub visit_type: String,
    /// The lister that listed it (of several, the enabled listing seen last).
    pub lister: String,
    /// That lister's instance.
    pub instance: String,
    /// The latest update any lister reported, if one did.
    pub last_update: Option<DateTime<Utc>>,
    /// The lease's token, to ack with (128 random bits, in hex).
    pub lease_token: String,
    /// When the lease runs out and the origin returns to the queue.
    pub lease_expires_at: DateTime<Utc>,
}

/// What a grab asks for.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) visit_type: String,
    pub(crate) count: usize,
    /// The selections to run in turn, with the most each may take.
    pub(crate) plan: Vec<(Selection, usize)>,
    pub(crate) lease: TimeDelta,
}

/// A fresh lease token: 128 bits from a CSPRNG seeded by the operating system, in hex.
pub(crate) fn token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The conditions every grabbed origin meets, with `{now}` for the clock.
pub(crate) const DUE: &str =
    "disabled_at IS NULL AND enabled_listings > 0 AND next_visit_not_before <= {now}";
