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
use serde_json::value::RawValue;

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

    /// The values a forge's [`PATH`](crate::Forge::PATH) places in a page's URL, by
    /// placeholder name: `{cursor}`, the cursor's text, unless the cursor has parts of its
    /// own ([`TimeKey`]: `{time}` and `{skip}`).
    fn placeholders(&self) -> Vec<(&'static str, String)> {
        vec![("cursor", self.text())]
    }

    /// The cursor as a point on a line, for a listing cut into ranges (`--parallel`): an id,
    /// a page number, a date in microseconds. `None` (the default) for a cursor that has no
    /// such point: its listing is not cut.
    fn position(&self) -> Option<u64> {
        None
    }

    /// The cursor at a point of that line ([`position`](Self::position)), if there is one.
    fn at_position(position: u64) -> Option<Self> {
        let _ = position;
        None
    }
}

impl Cursor for u64 {
    fn position(&self) -> Option<u64> {
        Some(*self)
    }

    fn at_position(position: u64) -> Option<Self> {
        Some(position)
    }

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

    /// Microseconds since the epoch (none before it).
    fn position(&self) -> Option<u64> {
        u64::try_from(self.0.timestamp_micros()).ok()
    }

    fn at_position(position: u64) -> Option<Self> {
        let micros = i64::try_from(position).ok()?;
        DateTime::from_timestamp_micros(micros).map(TimeIndex)
    }

    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }

    fn text(&self) -> String {
        self.to_string()
    }
}

/// A date and how many items of that date were already listed: keyset paging by a date that
/// several items may share (Launchpad's `modified_since_date`, which keeps the items of that
/// very date).
///
/// A page at `TimeKey { time, skip }` asks for the items modified at or after `time`, oldest
/// first (ties in a stable order), less the first `skip`: the items of date `time` that earlier
/// pages listed. [`TimeKey::after`] names the next page from the dates of a page's items, so
/// that a page whose items all share one date still advances. Ordered by date, then `skip`.
///
/// Unlike an offset into the listing, the key survives changes: an item modified since moves
/// after every key already handed out, so a rerun from the saved key (the last page's) finds
/// every item created or modified since the last run, and skips only items it listed.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use lister_core::{TimeIndex, TimeKey};
/// let date = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
/// let start = TimeKey::default();
/// let page = ["2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "2020-01-02T00:00:00Z"].map(date);
/// let next = start.after(page).unwrap();
/// assert_eq!(next, TimeKey { time: TimeIndex(date("2020-01-02T00:00:00Z")), skip: 2 });
/// // A page whose items all have the key's date goes on past them.
/// let same = next.after([date("2020-01-02T00:00:00Z")]).unwrap();
/// assert_eq!(same.skip, 3);
/// assert!(same > next);
/// assert_eq!(same.to_string(), "2020-01-02T00:00:00+00:00~3");
/// assert_eq!(start.after([]), None, "an empty page names no next key");
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct TimeKey {
    /// The items modified at or after this date.
    pub time: TimeIndex,
    /// How many of the items of date `time` to skip.
    pub skip: u64,
}

impl TimeKey {
    /// The key of the page after one whose items have `dates`, in page order: the last date,
    /// skipping the items of that date this page listed (and, when it is still this key's
    /// date, those this key skipped). `None` for a page without dates.
    pub fn after(&self, dates: impl IntoIterator<Item = DateTime<Utc>>) -> Option<TimeKey> {
        let mut last: Option<TimeKey> = None;
        for date in dates {
            let time = TimeIndex(date);
            let skip = match last {
                Some(key) if key.time == time => key.skip + 1,
                _ => 1,
            };
            last = Some(TimeKey { time, skip });
        }
        let key = last?;
        let before = if key.time == self.time { self.skip } else { 0 };
        Some(TimeKey {
            skip: key.skip + before,
            ..key
        })
    }
}

impl TimeKey {
    /// The key after `page`, from the dates at `field` (RFC 3339) of the items at `items` (a
    /// JSON pointer, as [`Forge::ITEMS`](crate::Forge::ITEMS)); an item without one is left
    /// out. A date that does not parse is an error: the next key depends on every date.
    ///
    /// ```
    /// use lister_core::{PageResponse, TimeKey};
    /// let page = PageResponse::ok(
    ///     "https://api.example.org/devel/+git?ws.start=0",
    ///     r#"{"entries": [{"date_last_modified": "2020-01-01T00:00:00+00:00"},
    ///                     {"date_last_modified": "2020-01-01T00:00:00.000+00:00"}]}"#,
    /// );
    /// let next = TimeKey::default().after_page(&page, "/entries", "date_last_modified").unwrap();
    /// assert_eq!(next.unwrap().to_string(), "2020-01-01T00:00:00+00:00~2");
    /// ```
    pub fn after_page(
        &self,
        page: &crate::PageResponse,
        items: &str,
        field: &str,
    ) -> Result<Option<TimeKey>, crate::ParseError> {
        type Fields<'a> = std::collections::HashMap<std::borrow::Cow<'a, str>, &'a RawValue>;
        let items: Option<Vec<Fields<'_>>> = page.json_at(items)?;
        let mut dates = Vec::new();
        for (at, item) in items.iter().flatten().enumerate() {
            let date = item.get(field).map(|raw| serde_json::from_str(raw.get()));
            let date: Option<DateTime<Utc>> = date
                .transpose()
                .map_err(|err| crate::ParseError {
                    path: format!("[{at}].{field}"),
                    message: err.to_string(),
                })?
                .flatten();
            dates.extend(date);
        }
        Ok(self.after(dates))
    }
}

impl fmt::Display for TimeKey {
    /// The date, then `~skip` when it skips some.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.skip {
            0 => write!(f, "{}", self.time),
            skip => write!(f, "{}~{skip}", self.time),
        }
    }
}

impl Cursor for TimeKey {
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }

    /// `DATE` or `DATE~SKIP`.
    fn parse(text: &str) -> Option<Self> {
        let (time, skip) = text.split_once('~').unwrap_or((text, "0"));
        let time = time.parse().ok()?;
        let skip = skip.parse().ok()?;
        Some(TimeKey { time, skip })
    }

    fn text(&self) -> String {
        self.to_string()
    }

    /// `{time}`, the date, and `{skip}`, how many items of that date to skip.
    fn placeholders(&self) -> Vec<(&'static str, String)> {
        vec![
            ("time", self.time.to_string()),
            ("skip", self.skip.to_string()),
        ]
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
    fn a_time_key_goes_past_ties_and_survives_a_rerun() {
        let at =
            |hour: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 1, 1, hour, 0, 0).unwrap();
        // A listing sorted by date: 1, 2, 2, 2, 2, 3, read three at a time.
        let listing = [at(1), at(2), at(2), at(2), at(2), at(3)];
        let page = |key: TimeKey| -> Vec<DateTime<Utc>> {
            let kept = listing.iter().filter(|date| TimeIndex(**date) >= key.time);
            kept.skip(key.skip as usize).take(3).copied().collect()
        };
        let (mut key, mut seen, mut guard) = (TimeKey::default(), Vec::new(), LoopGuard::new());
        let mut dates = page(key);
        while !dates.is_empty() {
            seen.extend(dates.iter().copied());
            let next = key.after(dates).unwrap();
            guard.check(&key, &next).unwrap();
            key = next;
            dates = page(key);
        }
        assert_eq!(seen, listing, "every item once, ties included");
        assert_eq!(
            key,
            TimeKey {
                time: TimeIndex(at(3)),
                skip: 1
            }
        );
        // A rerun from the saved key sees nothing listed again but what it skips, and an item
        // modified since (now dated 4) comes after it.
        let mut modified = listing.to_vec();
        modified[1] = at(4);
        modified.sort();
        let kept: Vec<_> = modified
            .iter()
            .filter(|d| TimeIndex(**d) >= key.time)
            .skip(1)
            .collect();
        assert_eq!(kept, [&at(4)]);
        assert_eq!(<TimeKey as Cursor>::parse(&key.text()), Some(key));
        assert_eq!(
            <TimeKey as Cursor>::parse("2024-01-01T03:00:00Z"),
            Some(TimeKey {
                time: TimeIndex(at(3)),
                skip: 0
            })
        );
        assert_eq!(<TimeKey as Cursor>::parse("2024-01-01T03:00:00Z~x"), None);
        let going_back = TimeKey {
            time: TimeIndex(at(3)),
            skip: 0,
        }
        .after([at(1)])
        .unwrap();
        assert!(LoopGuard::new().check(&key, &going_back).is_err());
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
