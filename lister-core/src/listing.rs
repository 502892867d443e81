//! A forge at an instance, with its page source: a [`Lister`] the CLI runs. A run decides
//! where to start, walks the pages ([`walk`](crate::walk)) while the
//! [writer](crate::page_writer) commits them, then closes the listing.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::time::Instant;
use url::Url;

use crate::cursor::Cursor;
use crate::forge::Forge;
use crate::lister::Lister;
use crate::origin_cleaner::OriginCleaner;
use crate::page_writer::{PageWriter, pipeline};
use crate::parallel::{RangesEnd, list_in_ranges};
use crate::progress::RunContext;
use crate::run::{
    DEFAULT_MEMORY_BUDGET, RunFailure, RunOptions, RunStats, StopReason, default_fold_every,
};
use crate::source::PageSource;
use crate::store::ListingStore;
use crate::walk::{MemoryBudget, SavedState, Walk, WalkEnd, walk};
use crate::{Error, ListerKey, Result};

/// A forge at one instance, with the source its pages come from.
pub struct Listing<F: Forge> {
    forge: Arc<F>,
    key: ListerKey,
    site: Arc<Url>,
    api: Url,
    source: Box<dyn PageSource>,
}

impl<F: Forge> Listing<F> {
    /// The forge `forge` at the instance `instance`, whose address is `site` (see
    /// [`Forge::origin`]) and API base `api`, fetched through `source`.
    pub fn new(
        forge: Arc<F>,
        instance: impl Into<String>,
        site: &Url,
        api: Url,
        source: Box<dyn PageSource>,
    ) -> Self {
        Listing {
            forge,
            key: ListerKey::new(F::NAME, instance),
            site: Arc::new(crate::forge::site_address(site)),
            api,
            source,
        }
    }
}

/// Where a run starts and what it keeps.
struct Plan<C> {
    start: C,
    /// The inclusive end of a range run.
    last: Option<C>,
    /// Whether the run saves its state (a range run does not).
    persist: bool,
}

/// The cursors a run went through, in text form, for its statistics.
#[derive(Default)]
struct Cursors {
    first: Option<String>,
    last: Option<String>,
    saved: Option<String>,
    disabled: u64,
}

#[async_trait]
impl<F: Forge> Lister for Listing<F> {
    fn key(&self) -> &ListerKey {
        &self.key
    }

    async fn run(
        &self,
        store: &dyn ListingStore,
        options: &RunOptions,
        context: &RunContext,
    ) -> Result<RunStats, RunFailure> {
        let started = Instant::now();
        let mut cursors = Cursors::default();
        let outcome = self.list(store, options, context, &mut cursors).await;
        let key = self.key.to_string();
        let mut stats = RunStats::from_progress(key, &context.progress, started.elapsed());
        stats.first_cursor = cursors.first;
        stats.last_cursor = cursors.last;
        stats.saved_cursor = cursors.saved;
        stats.origins_disabled = cursors.disabled;
        match outcome {
            Ok(reason) => {
                stats.stopped = Some(reason);
                Ok(stats)
            }
            Err(error) => Err(RunFailure { error, stats }),
        }
    }
}

impl<F: Forge> Listing<F> {
    /// Plans the run, walks and writes its pages, then closes the listing: a finished
    /// listing is recorded, and a full pass disables what it did not see. The run never ends,
    /// even on an error, before every page it fetched is committed and folded.
    async fn list(
        &self,
        store: &dyn ListingStore,
        options: &RunOptions,
        context: &RunContext,
        cursors: &mut Cursors,
    ) -> Result<StopReason> {
        if options.parallel.is_some() && !F::PARALLEL {
            return Err(Error::InvalidOption(format!(
                "{} cannot be listed in parallel ranges: its pages cannot be asked at any point \
                 of the listing",
                F::NAME
            )));
        }
        let mut record = store.register_lister(&self.key).await?;
        // What an interrupted run left, in steps that each commit (a fold at the end of this
        // run could otherwise be too long to finish before the next interruption).
        let leftovers = store.fold_leftovers(record.id).await?;
        let progress = &context.progress;
        crate::progress::RunProgress::add(&progress.origins_new, leftovers.new);
        crate::progress::RunProgress::add(&progress.origins_updated, leftovers.updated);
        crate::progress::RunProgress::add(&progress.origins_rejected, leftovers.quarantined);
        let pass_started = crate::store::now();
        let last_pass_started = record.last_pass_started_at.map(|at| at.and_utc());
        let walk_with = Walk {
            forge: &self.forge,
            site: &self.site,
            api: &self.api,
            source: &*self.source,
            store,
            context,
            options,
            lister_id: record.id,
            // Only pages the store knew before the run are asked for conditionally (in a
            // full pass too: a `304` counts the page's remembered origins as seen).
            lookup: store.has_page_records(record.id).await?,
            last_pass_started: last_pass_started.filter(|_| !options.full_pass),
            cleaner: Arc::new(OriginCleaner::new(
                self.key.clone(),
                context.progress.clone(),
            )),
            budget: MemoryBudget::new(options.memory_budget.unwrap_or(DEFAULT_MEMORY_BUDGET)),
        };
        let fold_every = options
            .fold_every
            .unwrap_or_else(|| default_fold_every(store.backend()));
        // A listing in ranges, cut now or by an earlier run: then the tail, from the state
        // the ranges left, unless another run walks it.
        // (`F::PARALLEL` first: the ranges' code is not built for the forges that cannot.)
        if F::PARALLEL && self.in_ranges(store, &record, options).await? {
            let first = self.forge.first_cursor().text();
            cursors.first = Some(saved_text::<F>(&record)?.unwrap_or(first));
            // Boxed: the run's own future does not carry the ranges' state.
            let end = list_in_ranges(&walk_with, &record, options, fold_every);
            let end = futures::FutureExt::boxed(end).await;
            record = store.register_lister(&self.key).await?;
            cursors.saved = saved_text::<F>(&record)?;
            if let RangesEnd::Stopped(reason) = end? {
                return Ok(reason);
            }
        }
        let plan = self.plan(&record, options)?;
        cursors.first.get_or_insert(plan.start.text());
        if plan.persist {
            cursors.saved = Some(plan.start.text());
        }
        // A run at the listing's first page starts a pass; what the last complete pass listed
        // is not asked again where the forge says so (a full pass asks everything).
        if plan.persist && plan.start.text() == self.forge.first_cursor().text() {
            store.start_pass(record.id).await?;
        }
        let writer = PageWriter {
            store,
            lister: &record,
            progress: &context.progress,
            version: record.state_version,
            range: None,
            fold_every,
        };
        let (pages, queue) = pipeline();
        let walked = walk(&walk_with, plan.start, plan.last, plan.persist, pages);
        let (walked, written) = tokio::join!(walked, writer.run(queue));
        cursors.last = written.last_cursor.map(|cursor| cursor.text());
        if let Some(saved) = written.saved_cursor {
            cursors.saved = Some(saved.text());
        }
        written.committed?;
        let reason = match walked? {
            WalkEnd::Stopped(reason) => reason,
            // Its error was returned above.
            WalkEnd::WriterStopped => StopReason::Cancelled,
        };
        written.folded?;
        if reason == StopReason::EndOfListing && options.range.is_none() {
            store.finish_listing(record.id).await?;
            if options.full_pass {
                cursors.disabled = store.disable_unseen(record.id, pass_started).await?;
                tracing::info!(lister = %self.key, disabled = cursors.disabled, "full pass: origins no longer listed disabled");
            }
        }
        Ok(reason)
    }

    /// Whether the run walks ranges: with `--parallel`, or when an earlier run left ranges.
    async fn in_ranges(
        &self,
        store: &dyn ListingStore,
        record: &crate::store::ListerRecord,
        options: &RunOptions,
    ) -> Result<bool> {
        if options.range.is_some() {
            return Ok(false);
        }
        let refused = match (options.max_pages, options.full_pass) {
            (Some(_), _) => Some("--max-pages"),
            (_, true) => Some("--full-pass"),
            _ => None,
        };
        let in_progress = !store.ranges(record.id).await?.is_empty();
        match (refused, options.parallel.is_some(), in_progress) {
            (Some(option), true, _) => Err(Error::InvalidOption(format!(
                "{option} lists one page after another: it cannot go with --parallel"
            ))),
            (Some(option), false, true) => Err(Error::InvalidOption(format!(
                "{option} cannot run while a parallel listing of {} is in progress: finish it \
                 first (lister run {})",
                self.key,
                F::NAME
            ))),
            (_, parallel, in_progress) => Ok(parallel || in_progress),
        }
    }

    /// Where the run starts: the range's first cursor, the saved state's, or the forge's first.
    fn plan(
        &self,
        record: &crate::store::ListerRecord,
        options: &RunOptions,
    ) -> Result<Plan<F::Cursor>> {
        if let Some(range) = &options.range {
            let parse = |text: &str| {
                let cursor = F::Cursor::parse(text);
                let invalid = || format!("`{text}` is not a cursor of {}", F::NAME);
                cursor.ok_or_else(|| Error::InvalidOption(invalid()))
            };
            let (start, last) = (parse(&range.first)?, parse(&range.last)?);
            if start.compare(&last).is_none() {
                return Err(Error::InvalidOption(format!(
                    "{} pages by an opaque cursor: ranges need an ordered one (an id, a date)",
                    F::NAME
                )));
            }
            return Ok(Plan {
                start,
                last: Some(last),
                persist: false,
            });
        }
        let saved: Option<SavedState<F::Cursor>> = record.decode_state()?;
        let start = match saved {
            Some(state) if !options.full_pass => state.cursor,
            _ => self.forge.first_cursor(),
        };
        Ok(Plan {
            start,
            last: None,
            persist: true,
        })
    }
}

/// The cursor of the instance's saved state, in text form.
fn saved_text<F: Forge>(record: &crate::store::ListerRecord) -> Result<Option<String>> {
    let saved: Option<SavedState<F::Cursor>> = record.decode_state()?;
    Ok(saved.map(|saved| saved.cursor.text()))
}

impl<F: Forge> std::fmt::Debug for Listing<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing")
            .field("key", &self.key)
            .field("api", &self.api.as_str())
            .finish_non_exhaustive()
    }
}
