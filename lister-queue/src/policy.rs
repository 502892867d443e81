//! Named policies: which due origins a grab hands out first.
//!
//! Every policy first grants again the origins whose lease ran out (oldest expiry first, among
//! those the policy selects): they were due when first granted and their consumer is gone.
//! Then:
//!
//! | policy | selects | order |
//! |---|---|---|
//! | `never_visited_oldest_update_first` | never visited (no ack recorded) | `last_update` ascending, unknown last; then URL |
//! | `oldest_scheduled_first` | every due origin | `last_scheduled` ascending, never scheduled first; then URL |
//! | `already_visited_order_by_lag` | visited successfully, and listed with a `last_update` after that visit | lag (`last_update - last_successful`) descending; then URL |
//! | `default` | a mix | up to 40% of the batch by lag, up to 40% never visited, the rest oldest scheduled first |
//!
//! In `default`, a share that finds too few origins leaves its room to the next, and the
//! oldest-scheduled share (never scheduled first) takes whatever is left, so a batch is full
//! whenever enough origins are due.
//!
//! Orders are exact for one consumer. Concurrent grabs skip the origins another grab is taking
//! at that moment. On PostgreSQL, successive grabs of one store resume after the last origin
//! granted (see `queue/resume.rs`): an origin that becomes due behind that point waits for
//! the next sweep, at most 10 seconds later.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use lister_core::{Error, Result};

/// How a grab chooses among due origins (see the [module docs](self) for the orderings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// A mix of the three others: lag, never visited, then oldest scheduled.
    #[default]
    Default,
    /// Origins never visited, the oldest `last_update` first (unknown last).
    NeverVisitedOldestUpdateFirst,
    /// Every due origin, the one scheduled longest ago first (never scheduled first).
    OldestScheduledFirst,
    /// Origins listed as updated since their last successful visit, largest lag first.
    AlreadyVisitedOrderByLag,
}

impl Policy {
    /// Every policy.
    pub const ALL: [Policy; 4] = [
        Policy::Default,
        Policy::NeverVisitedOldestUpdateFirst,
        Policy::OldestScheduledFirst,
        Policy::AlreadyVisitedOrderByLag,
    ];

    /// The policy's name, as the CLI and the JSON spell it.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Default => "default",
            Policy::NeverVisitedOldestUpdateFirst => "never_visited_oldest_update_first",
            Policy::OldestScheduledFirst => "oldest_scheduled_first",
            Policy::AlreadyVisitedOrderByLag => "already_visited_order_by_lag",
        }
    }

    /// The selections a grab of `count` origins runs, in order, with the most each may take.
    pub(crate) fn plan(self, count: usize) -> Vec<(Selection, usize)> {
        let share = |percent: usize| (count * percent).div_ceil(100);
        let expired = Selection::Expired {
            filter: self.filter(),
        };
        match self {
            Policy::Default => vec![
                (expired, count),
                (Selection::Free(Ordering::Lag), share(40)),
                (Selection::Free(Ordering::NeverVisited), share(40)),
                (Selection::Free(Ordering::OldestScheduled), count),
            ],
            Policy::NeverVisitedOldestUpdateFirst => {
                vec![
                    (expired, count),
                    (Selection::Free(Ordering::NeverVisited), count),
                ]
            }
            Policy::OldestScheduledFirst => {
                vec![
                    (expired, count),
                    (Selection::Free(Ordering::OldestScheduled), count),
                ]
            }
            Policy::AlreadyVisitedOrderByLag => {
                vec![(expired, count), (Selection::Free(Ordering::Lag), count)]
            }
        }
    }

    fn filter(self) -> &'static str {
        match self {
            Policy::Default | Policy::OldestScheduledFirst => Ordering::OldestScheduled.filter(),
            Policy::NeverVisitedOldestUpdateFirst => Ordering::NeverVisited.filter(),
            Policy::AlreadyVisitedOrderByLag => Ordering::Lag.filter(),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = Error;

    fn from_str(name: &str) -> Result<Policy> {
        Policy::ALL
            .into_iter()
            .find(|policy| policy.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Policy::ALL.iter().map(|policy| policy.name()).collect();
                Error::InvalidOption(format!(
                    "unknown queue policy `{name}` (known: {})",
                    names.join(", ")
                ))
            })
    }
}

/// One step of a grab: a set of origins in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Origins whose lease ran out, oldest expiry first, among those `filter` admits.
    Expired {
        /// An SQL condition on `visit_stats`.
        filter: &'static str,
    },
    /// Origins that are not leased, in one of the policies' orders.
    Free(Ordering),
}

/// The orderings the policies are made of; each has an index per backend (see the migration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ordering {
    NeverVisited,
    OldestScheduled,
    Lag,
}

impl Ordering {
    /// For the orderings whose PostgreSQL scans can resume after a key (see
    /// [`resume`](super::resume)): the stored column the order starts with, and its NULL-free
    /// sort expression (the order is that expression, then the URL).
    pub(crate) fn resume_key(self) -> Option<(&'static str, &'static str)> {
        match self {
            Ordering::NeverVisited => Some((
                "last_update",
                "coalesce(last_update, 'infinity'::timestamp)",
            )),
            Ordering::OldestScheduled => Some((
                "last_scheduled",
                "coalesce(last_scheduled, '-infinity'::timestamp)",
            )),
            Ordering::Lag => None,
        }
    }

    /// The SQL condition on `visit_stats` that selects the ordering's origins.
    fn filter(self) -> &'static str {
        match self {
            Ordering::NeverVisited => "last_visit IS NULL",
            Ordering::OldestScheduled => "TRUE",
            Ordering::Lag => "last_update > last_successful",
        }
    }
}

impl Selection {
    /// The SQL condition on `visit_stats`, besides "due, enabled and of this visit type".
    pub(crate) fn filter(self) -> String {
        match self {
            Selection::Expired { filter } => {
                format!("lease_expires_at IS NOT NULL AND lease_expires_at <= {{now}} AND {filter}")
            }
            Selection::Free(ordering) => {
                format!("lease_expires_at IS NULL AND {}", ordering.filter())
            }
        }
    }

    /// Whether an origin may belong to both selections (expired leases and free origins
    /// cannot; free origins in two orderings may).
    pub(crate) fn may_overlap(self, other: Selection) -> bool {
        matches!((self, other), (Selection::Free(_), Selection::Free(_)))
    }

    /// The SQL `ORDER BY` list on PostgreSQL (matching its indexes).
    pub(crate) fn order_postgres(self) -> &'static str {
        match self {
            Selection::Expired { .. } => "lease_expires_at, url",
            Selection::Free(Ordering::NeverVisited) => {
                "coalesce(last_update, 'infinity'::timestamp), url"
            }
            Selection::Free(Ordering::OldestScheduled) => {
                "coalesce(last_scheduled, '-infinity'::timestamp), url"
            }
            Selection::Free(Ordering::Lag) => "(last_update - last_successful) DESC, url",
        }
    }

    /// The SQL `ORDER BY` list on SQLite (matching its indexes; SQLite sorts NULL first).
    pub(crate) fn order_sqlite(self) -> &'static str {
        match self {
            Selection::Expired { .. } => "lease_expires_at, url",
            Selection::Free(Ordering::NeverVisited) => "last_update IS NULL, last_update, url",
            Selection::Free(Ordering::OldestScheduled) => "last_scheduled, url",
            Selection::Free(Ordering::Lag) => {
                "julianday(last_update) - julianday(last_successful) DESC, url"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for policy in Policy::ALL {
            assert_eq!(policy.name().parse::<Policy>().unwrap(), policy);
            let json = serde_json::to_string(&policy).unwrap();
            assert_eq!(json, format!("\"{}\"", policy.name()));
        }
        assert!("newest_first".parse::<Policy>().is_err());
    }

    #[test]
    fn default_shares_a_batch() {
        let plan = Policy::Default.plan(100);
        let limits: Vec<usize> = plan.iter().map(|(_, limit)| *limit).collect();
        assert_eq!(limits, [100, 40, 40, 100]);
        assert_eq!(
            Policy::Default.plan(1)[1].1,
            1,
            "a share of a tiny batch rounds up"
        );
    }
}
