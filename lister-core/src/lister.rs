//! [`Lister`]: what the CLI runs, whatever the forge ([`Listing`](crate::Listing) makes one
//! of a [`Forge`](crate::Forge)).

use async_trait::async_trait;

use crate::progress::RunContext;
use crate::run::{RunFailure, RunOptions, RunStats};
use crate::{ListerKey, ListingStore};

/// A lister the CLI can hold as `Box<dyn Lister>` and run.
#[async_trait]
pub trait Lister: Send + Sync {
    /// Which lister instance this is.
    fn key(&self) -> &ListerKey;

    /// Lists into `store`, from the saved state (or the range in `options`), until the end of
    /// the listing, `options.max_pages`, cancellation through `context`, or an error.
    async fn run(
        &self,
        store: &dyn ListingStore,
        options: &RunOptions,
        context: &RunContext,
    ) -> Result<RunStats, RunFailure>;
}
