//! Cursors: where a page of a listing starts.
//!
//! A cursor is any serializable value; the saved state of an instance is the cursor of the
//! page its next run starts at. An **ordered** cursor (a repository id, a date, a page number
//! of a listing sorted by id) enables range runs (`--first-id`/`--last-id`) and the loop guard
//! "the next page must come after this one". An **opaque** cursor ([`Opaque`], a token the
//! forge hands out) compares only for equality: the loop guard is then "this cursor was not
//! already requested in this run" (see [`LoopGuard`]).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Where a page starts. Implemented for `u64` (ids, page numbers), [`TimeIndex`] (dates) and
/// [`Opaque`] (tokens). Its `Default` is where a listing starts unless the forge says
/// otherwise.
pub trait Cursor:
    Clone + fmt::Debug + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// How two cursors of an ordered listing compare; `None` for an opaque cursor (a range of
    /// opaque cursors means nothing, so range runs refuse them).
    fn compare(&self, other: &Self) -> Option<Ordering>;

    /// The cursor given as text (`--first-id 1000`, a value in a next URL); `None` when the
    /// text is not one.
    fn parse(text: &str) -> Option<Self>;

    /// The cursor as text, for progress, statistics and error messages.
    fn text(&self) -> String;
}

impl Cursor for u64 {
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }

    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }

    fn text(&self) -> String {
        self.to_string()
    }
}

/// A token the forge hands out for its next page (Phabricator's `after`, a GraphQL cursor):
/// compared only for equality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Opaque(pub String);

impl Cursor for Opaque {
    fn compare(&self, _: &Self) -> Option<Ordering> {
        None
    }

    fn parse(text: &str) -> Option<Self> {
        Some(Opaque(text.to_owned()))
    }

    fn text(&self) -> String {
        self.0.clone()
    }
}

/// A point in time used as a cursor (Bitbucket's `after`): ordered by time, written as
/// RFC 3339 (`2008-06-25T00:51:29.547+00:00`), read from any RFC 3339 form.
///
/// ```
/// use lister_core::TimeIndex;
/// let a: TimeIndex = "2008-06-25T00:51:29.547000+00:00".parse().unwrap();
/// let b: TimeIndex = "2008-06-25T02:51:29.548+02:00".parse().unwrap();
/// assert!(a < b, "00:51:29.547Z is before 02:51:29.548+02:00");
/// assert_eq!(a.to_string(), "2008-06-25T00:51:29.547+00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeIndex(pub DateTime<Utc>);

impl TimeIndex {
    /// The Unix epoch, a natural first cursor.
    pub const EPOCH: TimeIndex = TimeIndex(DateTime::UNIX_EPOCH);
}

impl Default for TimeIndex {
    /// The Unix epoch.
    fn default() -> Self {
        TimeIndex::EPOCH
    }
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

impl Cursor for TimeIndex {
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }

    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }

    fn text(&self) -> String {
        self.to_string()
    }
}

/// Stops a listing that goes round in circles.
///
/// With an ordered cursor, each next cursor must come after the current one. With an opaque
/// one, a cursor must not come back: the guard remembers a single cursor and compares every
/// new one with it, remembering the current one instead whenever the count of pages reaches
/// a power of two (Brent's cycle detection). Memory stays one cursor however long the listing;
/// a loop is caught within three times its length and the pages before it.
///
/// ```
/// use lister_core::{LoopGuard, Opaque};
/// let mut guard = LoopGuard::new();
/// let cursors = ["a", "b", "c", "b", "c", "b", "c"].map(|c| Opaque(c.into()));
/// let caught = cursors.iter().position(|c| guard.check(&Opaque("start".into()), c).is_err());
/// assert_eq!(caught, Some(4));
/// ```
#[derive(Debug)]
pub struct LoopGuard<C> {
    remembered: Option<C>,
    steps: u64,
    power: u64,
}

impl<C: Cursor> Default for LoopGuard<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Cursor> LoopGuard<C> {
    /// A guard that has seen nothing.
    pub fn new() -> Self {
        LoopGuard {
            remembered: None,
            steps: 0,
            power: 1,
        }
    }

    /// Checks the step from `current` to `next`: `Err(why)` when it goes back or round.
    pub fn check(&mut self, current: &C, next: &C) -> Result<(), String> {
        if let Some(order) = current.compare(next) {
            return match order {
                Ordering::Less => Ok(()),
                _ => Err(format!(
                    "the page at {} points to {}, which does not come after it",
                    current.text(),
                    next.text()
                )),
            };
        }
        if next == current || self.remembered.as_ref() == Some(next) {
            return Err(format!(
                "the cursor {} was already requested in this run",
                next.text()
            ));
        }
        self.steps += 1;
        if self.steps == self.power {
            self.remembered = Some(next.clone());
            self.power *= 2;
            self.steps = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_cursors_must_advance() {
        let mut guard = LoopGuard::new();
        assert!(guard.check(&5u64, &6).is_ok());
        let error = guard.check(&6u64, &6).unwrap_err();
        assert!(error.contains("does not come after"), "{error}");
        assert!(guard.check(&6u64, &2).is_err());
    }

    #[test]
    fn every_opaque_loop_is_caught_with_bounded_memory() {
        for lead in 0..20usize {
            for period in 1..20usize {
                let mut guard = LoopGuard::new();
                let cursor = |i: usize| {
                    let i = if i < lead {
                        i
                    } else {
                        lead + (i - lead) % period
                    };
                    Opaque(i.to_string())
                };
                let caught =
                    (1..10_000).find(|&i| guard.check(&cursor(i - 1), &cursor(i)).is_err());
                let caught = caught.expect("a loop is caught");
                assert!(
                    caught <= 3 * (lead + period) + 2,
                    "lead {lead} period {period}: {caught}"
                );
            }
        }
        let mut guard = LoopGuard::new();
        for i in 1..100_000u64 {
            guard
                .check(&Opaque(format!("{}", i - 1)), &Opaque(i.to_string()))
                .unwrap();
        }
    }

    #[test]
    fn text_forms() {
        assert_eq!(<u64 as Cursor>::parse("42"), Some(42));
        assert_eq!(<Opaque as Cursor>::parse("x"), Some(Opaque("x".into())));
        let time = <TimeIndex as Cursor>::parse("1970-01-01T00:00:00Z").unwrap();
        assert_eq!(time, TimeIndex::EPOCH);
        assert_eq!(time.text(), "1970-01-01T00:00:00+00:00");
    }
}
