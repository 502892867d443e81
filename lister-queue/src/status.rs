//! How a visit went: what a consumer acks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use lister_core::{Error, Result};

/// How a visit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// The origin was visited.
    Successful,
    /// The visit failed (the origin may exist; try again after a backoff).
    Failed,
    /// The origin does not exist (any more).
    NotFound,
}

impl VisitStatus {
    /// Every status.
    pub const ALL: [VisitStatus; 3] = [
        VisitStatus::Successful,
        VisitStatus::Failed,
        VisitStatus::NotFound,
    ];

    /// The status as stored and as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::Successful => "successful",
            VisitStatus::Failed => "failed",
            VisitStatus::NotFound => "not_found",
        }
    }
}

impl fmt::Display for VisitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VisitStatus {
    type Err = Error;

    fn from_str(name: &str) -> Result<VisitStatus> {
        VisitStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown visit status `{name}` (known: successful, failed, not_found)"
                ))
            })
    }
}
