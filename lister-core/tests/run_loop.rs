//! The run loop against an in-memory forge: stop conditions, the pagination-loop error, URL
//! validation, cancellation, relisting ranges, unchanged pages and when a run folds.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use lister_core::testing::TestDatabase;
use lister_core::{
    Error, FetchError, Fetched, IndexRange, IndexedListing, IndexingLister, IndexingState, Lister,
    ListerKey, NextPage, Origin, Page, PageResponse, PageSource, ParseError, RunContext,
    RunOptions, StopReason, Store, Validators,
};
use url::Url;

const BASE: &str = "https://forge.test/api";

/// The forge's constants; pages come from [`MemorySource`], so parsing is never asked for.
struct MemoryForge;

impl IndexingLister for MemoryForge {
    type Index = u64;
    const NAME: &'static str = "memory";
    const DEFAULT_BASE_URL: &'static str = BASE;
    const PATH_TEMPLATE: &'static str = "/repos?since={index}";
    const VISIT_TYPE: &'static str = "git";

    fn first_index(&self) -> u64 {
        0
    }

    fn simplify(&self, _: &PageResponse) -> Result<Vec<Origin>, ParseError> {
        unreachable!("MemorySource parses pages itself")
    }

    fn next_page(&self, _: &PageResponse) -> Result<Option<NextPage<u64>>, ParseError> {
        unreachable!("MemorySource parses pages itself")
    }
}

/// Pages keyed by the index they are fetched at, each with the index of the next page.
#[derive(Default)]
struct MemorySource {
    pages: BTreeMap<u64, (Vec<Origin>, Option<u64>)>,
    fetched: Mutex<Vec<u64>>,
    /// Cancel the run while fetching the page at this index (the page is still returned).
    cancel_at: Option<u64>,
    /// Answer 304 for pages fetched with validators.
    not_modified_when_known: bool,
    /// While fetching the page at this index, move the lister's state as another run would.
    move_state_at: Option<(u64, Store)>,
    /// While fetching the page at this index, wait (at most the given time) for the run to
    /// count a new origin, which only a fold does; what it counted is kept in `folded_before`.
    await_fold_at: Option<(u64, std::time::Duration)>,
    folded_before: Mutex<Option<u64>>,
}

impl MemorySource {
    /// `count` pages of `per_page` origins; page k is fetched at index k * 10.
    fn linear(count: u64, per_page: u64) -> MemorySource {
        let mut source = MemorySource::default();
        for page in 0..count {
            let origins = (0..per_page)
                .map(|i| {
                    Origin::new(
                        format!("https://forge.test/r/{}", page * per_page + i),
                        "git",
                    )
                })
                .collect();
            let next = (page + 1 < count).then_some((page + 1) * 10);
            source.pages.insert(page * 10, (origins, next));
        }
        source
    }

    fn fetched(&self) -> Vec<u64> {
        self.fetched.lock().unwrap().clone()
    }
}

fn url_at(index: u64) -> Url {
    lister_core::page_url(
        &Url::parse(BASE).unwrap(),
        MemoryForge::PATH_TEMPLATE,
        &index,
    )
    .unwrap()
}

#[async_trait]
impl PageSource<u64> for &'static MemorySource {
    async fn fetch(
        &self,
        url: &Url,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched<u64>, FetchError> {
        let index: u64 = url
            .query_pairs()
            .find(|(k, _)| k == "since")
            .unwrap()
            .1
            .parse()?;
        self.fetched.lock().unwrap().push(index);
        if self.cancel_at == Some(index) {
            context.cancel.cancel();
        }
        if let Some((_, store)) = self.move_state_at.as_ref().filter(|(at, _)| *at == index) {
            // Retried: the run's own commits move the version meanwhile.
            let key = ListerKey::new("memory", "default");
            let state = IndexingState { index: 999_999u64 };
            loop {
                let lister = store.register_lister(&key).await?;
                let saved = store
                    .save_state(&lister, &state, lister.state_version)
                    .await;
                if saved.is_ok() {
                    break;
                }
            }
        }
        if let Some((_, bound)) = self.await_fold_at.filter(|(at, _)| *at == index) {
            let new = || context.progress.origins_new.load(Ordering::Relaxed);
            let deadline = tokio::time::Instant::now() + bound;
            while new() == 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            *self.folded_before.lock().unwrap() = Some(new());
        }
        if self.not_modified_when_known && known.is_some() {
            return Ok(Fetched::NotModified);
        }
        let (origins, next) = self.pages.get(&index).ok_or("no such page")?.clone();
        Ok(Fetched::Page(Page {
            origins,
            next: next.map(|index| NextPage {
                url: url_at(index),
                index,
            }),
            validators: Validators {
                etag: Some(format!("\"page-{index}\"")),
                last_modified: None,
            },
        }))
    }
}

fn listing(source: MemorySource) -> (IndexedListing<MemoryForge>, &'static MemorySource) {
    let source: &'static MemorySource = Box::leak(Box::new(source));
    let listing = IndexedListing::new(
        MemoryForge,
        "default",
        Url::parse(BASE).unwrap(),
        Box::new(source),
    );
    (listing, source)
}

async fn saved_index(store: &Store) -> Option<u64> {
    let lister = store
        .lister(&ListerKey::new("memory", "default"))
        .await
        .unwrap()?;
    lister
        .decode_state::<IndexingState<u64>>()
        .unwrap()
        .map(|state| state.index)
}

async fn origin_count(store: &Store) -> usize {
    store
        .listed_origins(&ListerKey::new("memory", "default"))
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn lists_everything_and_stops_at_the_end() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (listing, source) = listing(MemorySource::linear(5, 3));
    let stats = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::EndOfListing));
    assert_eq!(
        (stats.pages, stats.origins_seen, stats.origins_new),
        (5, 15, 15)
    );
    assert_eq!(source.fetched(), vec![0, 10, 20, 30, 40]);
    assert_eq!(origin_count(&store).await, 15);
    assert_eq!(
        saved_index(&store).await,
        Some(40),
        "the last page's own index is saved"
    );
    assert_eq!(
        (stats.first_index.as_deref(), stats.last_index.as_deref()),
        (Some("0"), Some("40"))
    );
    let summary = store.lister_summaries().await.unwrap();
    assert!(summary[0].last_listing_finished_at.is_some());
    db.drop_database().await;
}

/// Origins repeated across pages count once as new, whether the run folds after every page
/// or only at its end.
#[tokio::test]
async fn folding_during_or_after_a_run_counts_the_same() {
    for fold_every in [Some(std::time::Duration::ZERO), None] {
        let db = TestDatabase::sqlite();
        let store = db.open().await;
        let mut source = MemorySource::linear(4, 3);
        let repeated = source.pages[&0].0[0].clone().with_fork(Some(true));
        source.pages.get_mut(&30).unwrap().0.push(repeated);
        let (listing, _) = listing(source);
        let options = RunOptions {
            fold_every,
            ..Default::default()
        };
        let stats = listing
            .run(&store, &options, &RunContext::default())
            .await
            .unwrap();
        let counts = (stats.origins_seen, stats.origins_new, stats.origins_updated);
        assert_eq!(counts, (13, 12, 1), "fold every {fold_every:?}");
        let listed = store
            .listed_origins(&ListerKey::new("memory", "default"))
            .await
            .unwrap();
        assert_eq!(listed.len(), 12);
        let first = listed
            .iter()
            .find(|o| o.origin.url.ends_with("/r/0"))
            .unwrap();
        assert_eq!(first.origin.is_fork, Some(true), "the later sighting wins");
        db.drop_database().await;
    }
}

/// `before_fold` runs once per SQLite fold: here, at the end only (SQLite's default).
#[tokio::test]
async fn the_hook_before_a_fold_runs_once_per_fold() {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    fn count_call() {
        CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (listing, _) = listing(MemorySource::linear(4, 3));
    let options = RunOptions {
        before_fold: Some(count_call),
        ..Default::default()
    };
    let stats = listing
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.origins_new, 12);
    assert_eq!(CALLS.load(std::sync::atomic::Ordering::SeqCst), 1);
    db.drop_database().await;
}

/// By default a run on PostgreSQL folds while it walks (the fold runs on other connections
/// and the commits go on), and a run on SQLite folds at its end (a fold holds the only write
/// lock); either way every origin is listed once.
#[tokio::test]
async fn postgresql_folds_during_the_walk_and_sqlite_at_the_end() {
    for db in TestDatabase::all().await {
        let store = db.open().await;
        let postgres = db.is_postgres();
        let mut source = MemorySource::linear(5, 3);
        // Waits until something is folded on PostgreSQL; SQLite must not fold meanwhile.
        let bound = match postgres {
            true => std::time::Duration::from_secs(20),
            false => std::time::Duration::from_millis(500),
        };
        source.await_fold_at = Some((40, bound));
        let (listing, source) = listing(source);
        let stats = listing
            .run(&store, &RunOptions::default(), &RunContext::default())
            .await
            .unwrap();
        let folded_before_last_page = source.folded_before.lock().unwrap().unwrap();
        match postgres {
            true => assert!(
                folded_before_last_page > 0,
                "PostgreSQL folded nothing before the last page"
            ),
            false => assert_eq!(folded_before_last_page, 0, "SQLite folded during the walk"),
        }
        assert_eq!((stats.origins_new, stats.origins_updated), (15, 0));
        assert_eq!(origin_count(&store).await, 15);
        db.drop_database().await;
    }
}

#[tokio::test]
async fn max_pages_stops_and_the_next_run_resumes_where_it_stopped() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (listing, source) = listing(MemorySource::linear(5, 3));
    let options = RunOptions {
        max_pages: Some(2),
        ..Default::default()
    };
    let stats = listing
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap();
    assert_eq!(
        (stats.stopped, stats.pages),
        (Some(StopReason::MaxPages), 2)
    );
    assert_eq!(saved_index(&store).await, Some(20));
    assert_eq!(stats.saved_index.as_deref(), Some("20"));
    let stats = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(
        (stats.stopped, stats.pages, stats.origins_new),
        (Some(StopReason::EndOfListing), 3, 9)
    );
    assert_eq!(
        source.fetched(),
        vec![0, 10, 20, 30, 40],
        "no page fetched twice"
    );
    assert_eq!(origin_count(&store).await, 15);
    db.drop_database().await;
}

#[tokio::test]
async fn a_next_index_that_does_not_advance_is_a_pagination_loop() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let mut source = MemorySource::linear(4, 2);
    source.pages.get_mut(&20).unwrap().1 = Some(10); // page 20 points back to page 10
    let (listing, fetched) = listing(source);
    let failure = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, Error::PaginationLoop { ref current, ref next } if current == "20" && next == "10")
    );
    let message = failure.to_string();
    assert!(message.contains("index 20 points to index 10"), "{message}");
    assert!(message.contains("state saved up to index 20"), "{message}");
    assert_eq!(fetched.fetched(), vec![0, 10, 20], "stopped at once");
    assert_eq!(
        saved_index(&store).await,
        Some(20),
        "state kept up to the last good page"
    );
    assert_eq!(
        origin_count(&store).await,
        4,
        "the looping page is not committed"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn invalid_urls_are_rejected_credentials_removed_and_repeats_dropped() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let mut source = MemorySource::default();
    let page = vec![
        Origin::new("https://forge.test/ok", "git"),
        Origin::new("ftp://forge.test/bad-scheme", "git"),
        Origin::new("not a url", "git"),
        Origin::new("https://user:secret@forge.test/creds", "git"),
        Origin::new("https://forge.test/ok", "git"),
        Origin::new("https://forge.test/ok", "hg"),
    ];
    source.pages.insert(0, (page, None));
    let (listing, _) = listing(source);
    let stats = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(
        (
            stats.origins_seen,
            stats.origins_rejected,
            stats.origins_duplicate
        ),
        (6, 2, 1)
    );
    let stored: Vec<(String, String)> = store
        .listed_origins(&ListerKey::new("memory", "default"))
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.origin.url, o.origin.visit_type))
        .collect();
    let expected = [
        ("https://forge.test/creds", "git"),
        ("https://forge.test/ok", "git"),
        ("https://forge.test/ok", "hg"),
    ];
    assert_eq!(stored, expected.map(|(u, t)| (u.to_owned(), t.to_owned())));
    db.drop_database().await;
}

/// Runs a 1,000-page listing while another run moves the state as the page at `index` is
/// fetched: the run fails with a state conflict. Returns the indexes it fetched and the saved
/// index after it.
async fn run_overtaken_at(index: u64) -> (Vec<u64>, Option<u64>) {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let mut source = MemorySource::linear(1000, 1);
    source.move_state_at = Some((index, store.clone()));
    let (listing, fetched) = listing(source);
    let failure = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, Error::StateConflict { .. }),
        "{}",
        failure.error
    );
    let saved = saved_index(&store).await;
    db.drop_database().await;
    (fetched.fetched(), saved)
}

/// The walk fetches ahead of the writer; when a commit fails (here, another run moved the
/// state), the walk stops too instead of fetching the rest of the listing.
#[tokio::test]
async fn a_failed_commit_stops_the_walk() {
    let (fetched, saved) = run_overtaken_at(500).await;
    let fetched = fetched.len();
    assert!(
        fetched < 1000,
        "the walk stopped with the writer ({fetched} pages fetched)"
    );
    assert_eq!(saved, Some(999_999), "the other run's state stands");
}

/// A run does not fetch ahead before its first commit succeeds: when another run of the
/// instance moved the state meanwhile, the refused run has spent one request, not a pipeline's
/// worth of quota.
#[tokio::test]
async fn a_run_refused_at_its_first_commit_fetched_one_page() {
    let (fetched, saved) = run_overtaken_at(0).await;
    assert_eq!(fetched, [0], "only the first page was fetched");
    assert_eq!(saved, Some(999_999));
}

#[tokio::test]
async fn cancellation_commits_the_page_in_flight_then_stops() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let mut source = MemorySource::linear(5, 3);
    source.cancel_at = Some(20);
    let (listing, fetched) = listing(source);
    let stats = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::Cancelled));
    assert_eq!(fetched.fetched(), vec![0, 10, 20]);
    assert_eq!(
        origin_count(&store).await,
        9,
        "the page in flight was committed"
    );
    assert_eq!(
        saved_index(&store).await,
        Some(30),
        "the next run starts after it"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_range_relists_without_touching_the_state() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (listing, fetched) = listing(MemorySource::linear(6, 2));
    let options = RunOptions {
        max_pages: Some(1),
        ..Default::default()
    };
    listing
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap();
    let version_before = store
        .lister(listing.key())
        .await
        .unwrap()
        .unwrap()
        .state_version;

    let range = IndexRange {
        first: "10".into(),
        last: "30".into(),
    };
    let options = RunOptions {
        range: Some(range),
        ..Default::default()
    };
    let stats = listing
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::EndOfRange));
    assert_eq!(
        fetched.fetched(),
        vec![0, 10, 20],
        "pages 10 and 20 cover (10, 30]"
    );
    assert_eq!(stats.saved_index, None);
    let lister = store.lister(listing.key()).await.unwrap().unwrap();
    assert_eq!(
        lister.state_version, version_before,
        "the state is untouched"
    );
    assert_eq!(saved_index(&store).await, Some(10));
    let bad = IndexRange {
        first: "ten".into(),
        last: "30".into(),
    };
    let failure = listing
        .run(
            &store,
            &RunOptions {
                range: Some(bad),
                ..Default::default()
            },
            &RunContext::default(),
        )
        .await
        .unwrap_err();
    assert!(
        failure.to_string().contains("`ten` is not a valid index"),
        "{failure}"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn an_unchanged_page_follows_the_remembered_next_link() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (first, _) = listing(MemorySource::linear(3, 2));
    first
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();

    // Rerun the whole listing as a range: every page is known, and answered 304.
    let mut source = MemorySource::linear(3, 2);
    source.not_modified_when_known = true;
    let (again, fetched) = listing(source);
    let range = IndexRange {
        first: "0".into(),
        last: "1000".into(),
    };
    let stats = again
        .run(
            &store,
            &RunOptions {
                range: Some(range),
                ..Default::default()
            },
            &RunContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        fetched.fetched(),
        vec![0, 10, 20],
        "followed the stored next links"
    );
    assert_eq!(
        (stats.not_modified, stats.origins_seen, stats.stopped),
        (3, 0, Some(StopReason::EndOfListing))
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_fetch_error_names_where_the_next_run_resumes() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let mut source = MemorySource::linear(4, 1);
    source.pages.remove(&20);
    let (listing, _) = listing(source);
    let failure = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap_err();
    assert_eq!(
        failure.to_string(),
        "no such page; state saved up to index 20, the next run resumes there"
    );
    assert_eq!(failure.stats.pages, 2);
    db.drop_database().await;
}

#[tokio::test]
async fn a_full_pass_disables_what_the_forge_no_longer_lists() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (first, _) = listing(MemorySource::linear(3, 2));
    first
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();

    // The forge lost the second page's origins; an incremental run would not notice.
    let mut shrunk = MemorySource::linear(3, 2);
    shrunk.pages.get_mut(&10).unwrap().0.clear();
    shrunk.not_modified_when_known = true;
    let (again, fetched) = listing(shrunk);
    let options = RunOptions {
        full_pass: true,
        ..Default::default()
    };
    let stats = again
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap();
    assert_eq!(
        fetched.fetched(),
        vec![0, 10, 20],
        "from the first index, unconditionally"
    );
    assert_eq!((stats.not_modified, stats.origins_disabled), (0, 2));
    let enabled: Vec<bool> = store
        .listed_origins(&ListerKey::new("memory", "default"))
        .await
        .unwrap()
        .iter()
        .map(|o| o.origin.enabled)
        .collect();
    assert_eq!(
        enabled.iter().filter(|e| !**e).count(),
        2,
        "known, but disabled"
    );
    assert_eq!(enabled.len(), 6);
    db.drop_database().await;
}
