//! Ready-made page index types.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A point in time used as a page index (Bitbucket's `after`): ordered by time, written as
/// RFC 3339 (`2008-06-25T00:51:29.547+00:00`), read from any RFC 3339 form.
///
/// ```
/// use lister_core::index::TimeIndex;
/// let a: TimeIndex = "2008-06-25T00:51:29.547000+00:00".parse().unwrap();
/// let b: TimeIndex = "2008-06-25T02:51:29.548+02:00".parse().unwrap();
/// assert!(a < b, "00:51:29.547Z is before 02:51:29.548+02:00");
/// assert_eq!(a.to_string(), "2008-06-25T00:51:29.547+00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeIndex(pub DateTime<Utc>);

impl TimeIndex {
    /// The Unix epoch, a natural first index.
    pub const EPOCH: TimeIndex = TimeIndex(DateTime::UNIX_EPOCH);
}

impl fmt::Display for TimeIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, false))
    }
}

impl FromStr for TimeIndex {
    type Err = chrono::ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(text).map(|time| TimeIndex(time.with_timezone(&Utc)))
    }
}
