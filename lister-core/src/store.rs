//! What the run loop asks of a store ([`ListingStore`]), and the records it hands over.
//!
//! The run loop ([`Listing`](crate::Listing)) registers its instance, folds what interrupted
//! runs left, asks the store what it remembers of a page (for a conditional request), commits
//! pages with the state that follows them, folds its sightings while it goes on, and closes
//! the listing. The `lister-store` crate implements this trait on SQLite and PostgreSQL; the
//! run loop knows nothing else of it.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::page::Validators;
use crate::{Error, ListerKey, Origin, Result};

/// Which database engine a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, for shared, multi-machine use.
    Postgres,
}

/// The storage a run lists into: exactly what the run loop needs of it.
///
/// Every write is atomic: a [`PageWrite`] commits its origins (as sightings), its state and its
/// page records together or not at all, and a state write names the version it expects.
#[async_trait]
pub trait ListingStore: Send + Sync {
    /// The engine behind the store: it sets how often a run folds by default
    /// ([`default_fold_every`](crate::default_fold_every)).
    fn backend(&self) -> Backend;

    /// Registers a lister instance if it is new, and returns its record.
    async fn register_lister(&self, key: &ListerKey) -> Result<ListerRecord>;

    /// Folds what interrupted runs of one instance left, before a run of it walks (on
    /// PostgreSQL in committed steps).
    async fn fold_leftovers(&self, lister_id: i64) -> Result<Folded>;

    /// Whether the store remembers any listing page of this instance: a run that starts
    /// with none has no validators to look up, page after page.
    async fn has_page_records(&self, lister_id: i64) -> Result<bool>;

    /// What the store remembers of the listing page at `url`, if anything.
    async fn page_record(&self, lister_id: i64, url: &str) -> Result<Option<PageRecord>>;

    /// Writes pages' origins as sightings, the advanced state and the page records in one
    /// transaction, and refreshes the `last_seen` of the origins that pages answered `304`
    /// held ([`HeldOrigins::Unchanged`]). A stale state version ([`Error::StateConflict`]) or
    /// any failure rolls all of it back.
    async fn commit_page(&self, write: PageWrite<'_>) -> Result<PageWritten>;

    /// Folds the sightings of one instance (or, with `None`, of every instance) into the
    /// listed origins.
    async fn fold_sightings(&self, lister_id: Option<i64>) -> Result<Folded>;

    /// Records that a pass over the instance's listing starts now (a run at its first page).
    async fn start_pass(&self, lister_id: i64) -> Result<()>;

    /// Records that a listing of the instance reached the end: the pass it was part of
    /// becomes the last complete one.
    async fn finish_listing(&self, lister_id: i64) -> Result<()>;

    /// After a complete pass that started at `seen_before`, disables the instance's origins
    /// the pass did not see, and returns how many.
    async fn disable_unseen(&self, lister_id: i64, seen_before: NaiveDateTime) -> Result<u64>;

    /// The ranges of the instance's parallel listing, in order (none when it has none). By
    /// default none: a store without ranges refuses `--parallel` at
    /// [`create_ranges`](Self::create_ranges).
    async fn ranges(&self, lister_id: i64) -> Result<Vec<RangeRecord>> {
        let _ = lister_id;
        Ok(Vec::new())
    }

    /// Creates the ranges of a parallel listing, if the instance has none and its state is
    /// still at `state_version` (the version then advances, so a run that read the state
    /// before cannot commit over the ranges); `false` when another run was first.
    async fn create_ranges(
        &self,
        lister_id: i64,
        state_version: i64,
        ranges: &[NewRange],
    ) -> Result<bool> {
        let _ = (lister_id, state_version, ranges);
        Err(no_ranges())
    }

    /// Takes the first range that is not done and that no lease holds (none, or one that ran
    /// out before `now`) for `owner`, until `until`; on PostgreSQL, skipping ranges another
    /// process is taking at that moment.
    async fn claim_range(
        &self,
        lister_id: i64,
        owner: &str,
        now: NaiveDateTime,
        until: NaiveDateTime,
    ) -> Result<Option<RangeRecord>> {
        let _ = (lister_id, owner, now, until);
        Err(no_ranges())
    }

    /// Extends every lease `owner` holds on the instance's ranges until `until`.
    async fn renew_leases(&self, lister_id: i64, owner: &str, until: NaiveDateTime) -> Result<()> {
        let _ = (lister_id, owner, until);
        Err(no_ranges())
    }

    /// Gives up every lease `owner` holds on the instance's ranges, for another run to take.
    async fn release_ranges(&self, lister_id: i64, owner: &str) -> Result<()> {
        let _ = (lister_id, owner);
        Err(no_ranges())
    }

    /// Marks a range done if it is still at its version ([`Error::StateConflict`] if not:
    /// another run took it over), and moves the instance's state to the start of the first
    /// range that is not done; when none is left, to the end of the last, and the ranges go.
    /// Returns whether this closed the ranges.
    async fn finish_range(&self, range: &RangeRecord) -> Result<bool> {
        let _ = range;
        Err(no_ranges())
    }
}

/// What a store without ranges answers.
fn no_ranges() -> Error {
    Error::InvalidOption("this store cannot share a listing in ranges (--parallel)".into())
}

/// A range of a parallel listing, as stored (see [`ListingStore::claim_range`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RangeRecord {
    /// Its row id.
    pub id: i64,
    /// The instance it belongs to.
    pub lister_id: i64,
    /// Its place in the listing's order, from 0.
    pub seq: i32,
    /// The state at its start, as JSON: the instance's state once every range before it is
    /// done.
    pub start_state: String,
    /// The state at its end (its last cursor, inclusive), as JSON.
    pub end_state: String,
    /// The state its walk resumes at, as JSON.
    pub position: String,
    /// Bumped by every claim and write; a write names the version it expects.
    pub version: i64,
    /// Who holds its lease, if anyone.
    pub owner: Option<String>,
    /// Until when the lease holds.
    pub lease_until: Option<NaiveDateTime>,
    /// Whether its walk reached its end.
    pub done: bool,
}

/// A range to create: the states at its start and at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRange {
    /// The state at its start, as JSON (where its walk starts).
    pub start_state: String,
    /// The state at its end, as JSON.
    pub end_state: String,
}

/// A state write to a range's row instead of the instance's state, renewing its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeLease {
    /// The range's row id.
    pub range_id: i64,
    /// The lease's new end.
    pub until: NaiveDateTime,
}

/// The current time, truncated to the microseconds both backends keep.
pub fn now() -> NaiveDateTime {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros())
        .unwrap_or(now)
        .naive_utc()
}

/// A lister instance as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ListerRecord {
    /// Its row id (referenced by its origins).
    pub id: i64,
    /// The lister's name.
    pub name: String,
    /// The instance.
    pub instance: String,
    /// The saved state, as JSON text.
    pub state: Option<String>,
    /// Bumped by every state write; writes name the version they expect.
    pub state_version: i64,
    /// When the instance was first registered.
    pub created: NaiveDateTime,
    /// When its state last changed.
    pub updated: NaiveDateTime,
    /// When a listing of it last reached the end.
    pub last_listing_finished_at: Option<NaiveDateTime>,
    /// When the pass in progress started (a run at the listing's first page).
    pub pass_started_at: Option<NaiveDateTime>,
    /// When the last pass that reached the end started: what a pass lists again
    /// ([`Forge::SKIP_UNCHANGED`](crate::Forge::SKIP_UNCHANGED)) is measured from it.
    pub last_pass_started_at: Option<NaiveDateTime>,
}

impl ListerRecord {
    /// The saved state decoded as `S`, or `None` if nothing was saved yet.
    pub fn decode_state<S: DeserializeOwned>(&self) -> Result<Option<S>> {
        self.state
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|source| Error::Decode {
                what: format!("state of lister {}/{}", self.name, self.instance),
                source,
            })
    }

    /// The instance's key.
    pub fn key(&self) -> ListerKey {
        ListerKey::new(&self.name, &self.instance)
    }
}

/// What the store remembers of a listing page: its validators and where it led.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRecord {
    /// The page's URL.
    pub url: String,
    /// Its cache validators.
    pub validators: Validators,
    /// The next page's URL, if the page had one.
    pub next_url: Option<String>,
    /// The next page's index (text form), if the page had one.
    pub next_index: Option<String>,
    /// The origins the page held (see [`HeldOrigins`]).
    pub origins: HeldOrigins,
}

/// The origins a listing page held, which a `304` to the page counts as seen again.
///
/// In a [`PageWrite`], each page says which of the write's origins are its own (the pages'
/// counts follow the order of [`PageWrite::origins`]); in a record the store returns, whether
/// the store remembers the page's origins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeldOrigins {
    /// Not known (of a record the store returns: the store does not remember them). A `304`
    /// to such a page counts nothing as seen, and a full pass asks for it unconditionally. In
    /// a write, a page that holds none of the write's origins.
    #[default]
    Unknown,
    /// Fetched: the page held the next this many origins of the write (of a record the store
    /// returns: it remembers this many origins of the page). The store remembers them with
    /// the page's validators, when it has any.
    Held(usize),
    /// Fetched, and the page named sub-listings: the next this many origins of the write are
    /// the page's and its sub-listings', which a `304` to the page says nothing of. The store
    /// does not remember them.
    WithSubListings(usize),
    /// The forge answered the page `304`: the page holds the origins the store remembers of
    /// it, and the commit refreshes their `last_seen` (see [`PageWritten::refreshed`]).
    Unchanged,
}

impl HeldOrigins {
    /// How many of a write's origins the page holds.
    pub fn in_write(self) -> usize {
        match self {
            HeldOrigins::Held(n) | HeldOrigins::WithSubListings(n) => n,
            HeldOrigins::Unknown | HeldOrigins::Unchanged => 0,
        }
    }
}

/// A state write that only succeeds if the state is still at `expected_version`.
#[derive(Debug, Clone)]
pub struct StateWrite {
    /// The new state, as JSON text.
    pub json: String,
    /// The version this run read or last wrote (of the range, with `range`).
    pub expected_version: i64,
    /// The range of a parallel listing whose position this is, instead of the instance's
    /// state.
    pub range: Option<RangeLease>,
}

impl StateWrite {
    /// Serializes `state` for a write expecting `expected_version`.
    pub fn new<S: Serialize>(state: &S, expected_version: i64) -> Result<StateWrite> {
        Ok(StateWrite {
            json: Self::encode(state)?,
            expected_version,
            range: None,
        })
    }

    /// `state` as the JSON a state write stores.
    pub fn encode<S: Serialize>(state: &S) -> Result<String> {
        serde_json::to_string(state).map_err(|source| Error::Decode {
            what: "lister state".into(),
            source,
        })
    }
}

/// Everything one page, or several consecutive pages, write: committed together or not at
/// all.
#[derive(Debug, Clone)]
pub struct PageWrite<'a> {
    /// The lister instance.
    pub lister: &'a ListerRecord,
    /// The pages' validated origins, each page de-duplicated. The commit takes them: SQLite
    /// makes its rows on the blocking pool, so the thread that fetches pages does not.
    pub origins: Vec<Origin>,
    /// The state after the last page (`None` in relisting mode, which never touches the
    /// state).
    pub state: Option<StateWrite>,
    /// The pages' validators and next links, for conditional requests, and which origins
    /// each held ([`PageRecord::origins`], in the order of `origins`); a URL given twice
    /// keeps its last record.
    pub pages: &'a [PageRecord],
}

/// What a page write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageWritten {
    /// Origins written as sightings (see [`ListingStore::fold_sightings`]).
    pub sightings: u64,
    /// The state version after the write, if the state was written.
    pub state_version: Option<i64>,
    /// Listed origins of pages answered `304` ([`HeldOrigins::Unchanged`]) whose `last_seen`
    /// the write refreshed: seen again without a sighting.
    pub refreshed: u64,
}

/// What a fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Origins the store did not know.
    pub new: u64,
    /// Sightings of origins the store knew, or saw more than once in the fold.
    pub updated: u64,
    /// Sightings the database refused, set aside with the database's reason.
    pub quarantined: u64,
}
