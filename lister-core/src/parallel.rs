//! A listing walked in ranges at once (`--parallel N`), by one run or by several runs on
//! several machines sharing one database.
//!
//! The first run cuts the span from the saved state to where the listing ends now
//! ([`ranges`](crate::ranges)) into rows of the store. Then every run, with up to N walks:
//!
//! 1. **claims** a range no lease holds, and walks it from its position to its end, each page
//!    committed with the range's new position (the range's version checked, its lease
//!    renewed); a heartbeat renews the run's leases while pages take long;
//! 2. **finishes** it: the instance's state moves to the start of the first range not done,
//!    and the run that finishes the last range walks the **tail** (what came after the cut)
//!    as a usual run;
//! 3. when no range is free but others hold some, one walk **waits** for them (the others
//!    end), and takes over a range whose lease ran out (its run died): a run that lost a
//!    lease stops walking that range at its next commit, refused.
//!
//! A cancelled run commits what it fetched and gives its leases back.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::join_all;
use tokio::sync::Notify;

use crate::forge::Forge;
use crate::page_writer::{Folding, PageWriter, pipeline};
use crate::progress::RunContext;
use crate::run::{RunOptions, StopReason};
use crate::store::{ListerRecord, RangeRecord, now};
use crate::walk::{SavedState, Walk, WalkEnd, walk};
use crate::{Cursor, Error, Result, ranges};

/// How long a run's ranges stay reserved without a sign of life from it, by default: then
/// another run takes them over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How often a run whose ranges are all taken looks again for one whose lease ran out, or
/// for the end: a run on another machine finishing the last range is seen this late.
const WAIT_FOR_OTHERS: Duration = Duration::from_millis(100);

/// How a run's part of a parallel listing ended.
pub(crate) enum RangesEnd {
    /// Every range is done, and this run closed them: the tail is its to walk.
    Tail,
    /// The ranges are done (another run walks the tail), or the run stopped.
    Stopped(StopReason),
}

/// What the walks of one run share.
struct Shared<'w, 'a, F: Forge> {
    walk: &'w Walk<'a, F>,
    record: &'w ListerRecord,
    owner: String,
    lease: Duration,
    fold_every: Duration,
    folding: Folding,
    /// Wakes the walk that waits when a range is finished.
    finished: Notify,
    /// Whether one of the run's walks waits for ranges held by others (the others end).
    watching: AtomicBool,
}

/// Walks the instance's ranges, cutting them first if it has none (see the module).
pub(crate) async fn list_in_ranges<F: Forge>(
    walk: &Walk<'_, F>,
    record: &ListerRecord,
    options: &RunOptions,
    fold_every: Duration,
) -> Result<RangesEnd> {
    let store = walk.store;
    if store.ranges(record.id).await?.is_empty() && !cut_ranges(walk, record, options).await? {
        return Ok(RangesEnd::Tail);
    }
    // Cancelling one walk's failure stops the others; Ctrl-C stops them all.
    let context = RunContext {
        cancel: walk.context.cancel.child_token(),
        progress: walk.context.progress.clone(),
    };
    let ranges_walk = walk.with_context(&context);
    let shared = Shared {
        walk: &ranges_walk,
        record,
        owner: owner(),
        lease: options.lease.unwrap_or(DEFAULT_LEASE),
        fold_every,
        folding: Folding::new(),
        finished: Notify::new(),
        watching: AtomicBool::new(false),
    };
    let folder = shared.writer(record.state_version, None);
    let walks = async {
        let parallel = options.parallel.unwrap_or(1).max(1);
        // Boxed: `join_all` is then built once, not once for every forge.
        let ended = join_all((0..parallel).map(|_| walk_ranges(&shared).boxed())).await;
        shared.folding.finish();
        ended
    };
    let stopped = tokio_util::sync::CancellationToken::new();
    let work = async {
        let done = tokio::join!(walks, folder.fold_all(&shared.folding));
        stopped.cancel();
        done
    };
    // Beside the work, not inside a `select!` on it: a renewal waiting for the writer
    // connection must not stop the commit that holds it from going on.
    let heartbeat = async {
        loop {
            tokio::select! {
                () = stopped.cancelled() => return,
                () = tokio::time::sleep(shared.lease / 3) => {}
            }
            let until = now() + shared.lease;
            if let Err(error) = store.renew_leases(record.id, &shared.owner, until).await {
                tracing::warn!(%error, "could not renew the leases on this run's ranges");
            }
        }
    };
    let ((ended, folded), ()) = tokio::join!(work, heartbeat);
    store.release_ranges(record.id, &shared.owner).await?;
    let mut closed = false;
    for ended in ended {
        closed |= ended?;
    }
    folded?;
    Ok(match (closed, walk.context.cancel.is_cancelled()) {
        (_, true) => RangesEnd::Stopped(StopReason::Cancelled),
        (true, false) => RangesEnd::Tail,
        (false, false) => RangesEnd::Stopped(StopReason::EndOfRange),
    })
}

/// Cuts the span from the saved state to where the listing ends now into ranges, unless
/// another run was first; `false` when there is nothing to cut (and no ranges).
async fn cut_ranges<F: Forge>(
    walk: &Walk<'_, F>,
    record: &ListerRecord,
    options: &RunOptions,
) -> Result<bool> {
    let saved: Option<SavedState<F::Cursor>> = record.decode_state()?;
    let first = walk.forge.first_cursor();
    let start = saved.map_or(first.clone(), |saved| saved.cursor);
    let parallel = options.parallel.unwrap_or(1);
    let Some(span) = ranges::probe(walk, &start, parallel).await? else {
        return Ok(false);
    };
    let cut = ranges::cut(&start, span, parallel)?;
    if cut.len() < 2 {
        return Ok(false);
    }
    let store = walk.store;
    if store
        .create_ranges(record.id, record.state_version, &cut)
        .await?
    {
        tracing::info!(ranges = cut.len(), from = %start.text(), "listing cut into ranges");
        if start == first {
            store.start_pass(record.id).await?;
        }
        return Ok(true);
    }
    Ok(!store.ranges(record.id).await?.is_empty())
}

/// One walk of the run: claims ranges and walks them until none is left; `true` when it
/// finished the last one.
async fn walk_ranges<F: Forge>(shared: &Shared<'_, '_, F>) -> Result<bool> {
    let (store, cancel) = (shared.walk.store, &shared.walk.context.cancel);
    let lister_id = shared.record.id;
    loop {
        if cancel.is_cancelled() {
            return Ok(false);
        }
        let until = now() + shared.lease;
        let Some(range) = store
            .claim_range(lister_id, &shared.owner, now(), until)
            .await?
        else {
            // Every range is taken: one walk of the run watches for one whose lease runs out,
            // or for the end; the others end.
            if store.ranges(lister_id).await?.is_empty()
                || shared.watching.swap(true, Ordering::AcqRel)
            {
                return Ok(false);
            }
            tokio::select! {
                () = shared.finished.notified() => {}
                () = tokio::time::sleep(WAIT_FOR_OTHERS) => {}
                () = cancel.cancelled() => {}
            }
            shared.watching.store(false, Ordering::Release);
            continue;
        };
        let walked = walk_range(shared, range).await;
        let finished = match walked {
            Ok(Some(range)) => store.finish_range(&range).await,
            Ok(None) => return Ok(false),
            Err(error) => Err(error),
        };
        match finished {
            Ok(closed) => {
                shared.finished.notify_waiters();
                if closed {
                    return Ok(true);
                }
            }
            Err(Error::StateConflict { lister, .. }) => {
                tracing::warn!(%lister, "another run took this range over (this run's lease ran out)");
            }
            Err(error) => {
                cancel.cancel();
                return Err(error);
            }
        }
    }
}

/// Walks one range from its position; the range as it stands after its last commit when
/// its walk reached its end, `None` when the run stopped first.
async fn walk_range<F: Forge>(
    shared: &Shared<'_, '_, F>,
    range: RangeRecord,
) -> Result<Option<RangeRecord>> {
    let decode = |json: &str| -> Result<F::Cursor> {
        let state: SavedState<F::Cursor> = serde_json::from_str(json).map_err(|source| {
            let what = format!("position of range {}", range.seq);
            Error::Decode { what, source }
        })?;
        Ok(state.cursor)
    };
    let (start, last) = (decode(&range.position)?, decode(&range.end_state)?);
    if start.compare(&last).is_some_and(|order| order.is_ge()) {
        return Ok(Some(range));
    }
    let writer = shared.writer(range.version, Some(range.id));
    let (pages, queue) = pipeline();
    let walked = walk(shared.walk, start, Some(last), true, pages);
    let (walked, written) = tokio::join!(walked, writer.commit_all(queue, &shared.folding));
    written.committed?;
    match walked? {
        WalkEnd::Stopped(StopReason::EndOfRange | StopReason::EndOfListing) => {
            Ok(Some(RangeRecord {
                version: written.version,
                ..range
            }))
        }
        _ => Ok(None),
    }
}

impl<F: Forge> Shared<'_, '_, F> {
    /// A writer of the range `range` at `version` (with `None`, the run's folder).
    fn writer(&self, version: i64, range: Option<i64>) -> PageWriter<'_> {
        PageWriter {
            store: self.walk.store,
            lister: self.record,
            progress: &self.walk.context.progress,
            version,
            range: range.map(|id| (id, self.lease)),
            fold_every: self.fold_every,
        }
    }
}

/// Who holds a run's leases: its host and process, and a random part (a process id comes
/// back after a restart).
fn owner() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{host} pid {} {random:016x}", std::process::id())
}
