//! The store as the run loop sees it: [`ListingStore`], each method the store's own.

use async_trait::async_trait;
use chrono::NaiveDateTime;

use crate::store::Store;
use lister_core::store::{
    Folded, ListerRecord, NewRange, PageRecord, PageWrite, PageWritten, RangeRecord,
};
use lister_core::{Backend, ListerKey, ListingStore, Result};

#[async_trait]
impl ListingStore for Store {
    fn backend(&self) -> Backend {
        Store::backend(self)
    }

    async fn register_lister(&self, key: &ListerKey) -> Result<ListerRecord> {
        Store::register_lister(self, key).await
    }

    async fn fold_leftovers(&self, lister_id: i64) -> Result<Folded> {
        Store::fold_leftovers(self, lister_id).await
    }

    async fn has_page_records(&self, lister_id: i64) -> Result<bool> {
        Store::has_page_records(self, lister_id).await
    }

    async fn page_record(&self, lister_id: i64, url: &str) -> Result<Option<PageRecord>> {
        Store::page_record(self, lister_id, url).await
    }

    async fn commit_page(&self, write: PageWrite<'_>) -> Result<PageWritten> {
        Store::commit_page(self, write).await
    }

    async fn fold_sightings(&self, lister_id: Option<i64>) -> Result<Folded> {
        Store::fold_sightings(self, lister_id).await
    }

    async fn start_pass(&self, lister_id: i64) -> Result<()> {
        Store::start_pass(self, lister_id).await
    }

    async fn finish_listing(&self, lister_id: i64) -> Result<()> {
        Store::finish_listing(self, lister_id).await
    }

    async fn disable_unseen(&self, lister_id: i64, seen_before: NaiveDateTime) -> Result<u64> {
        Store::disable_unseen(self, lister_id, seen_before).await
    }

    async fn ranges(&self, lister_id: i64) -> Result<Vec<RangeRecord>> {
        Store::ranges(self, lister_id).await
    }

    async fn create_ranges(
        &self,
        lister_id: i64,
        state_version: i64,
        ranges: &[NewRange],
    ) -> Result<bool> {
        Store::create_ranges(self, lister_id, state_version, ranges).await
    }

    async fn claim_range(
        &self,
        lister_id: i64,
        owner: &str,
        now: NaiveDateTime,
        until: NaiveDateTime,
    ) -> Result<Option<RangeRecord>> {
        Store::claim_range(self, lister_id, owner, now, until).await
    }

    async fn renew_leases(&self, lister_id: i64, owner: &str, until: NaiveDateTime) -> Result<()> {
        Store::renew_leases(self, lister_id, owner, until).await
    }

    async fn release_ranges(&self, lister_id: i64, owner: &str) -> Result<()> {
        Store::release_ranges(self, lister_id, owner).await
    }

    async fn finish_range(&self, range: &RangeRecord) -> Result<bool> {
        Store::finish_range(self, range).await
    }
}
