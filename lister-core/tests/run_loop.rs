//! The run loop against an in-memory forge: stop conditions, the pagination-loop error, URL
//! validation, items and pages that do not parse, cancellation, relisting ranges, unchanged
//! pages, when a run folds, parsing while the next page is fetched, and the memory budget.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use lister_core::{
    Error, FetchError, Fetched, Forge, IndexRange, Lister, ListerKey, Listing, NextCursor, Origin,
    PageRequest, PageResponse, PageSource, RunContext, RunOptions, RunProgress, SavedState,
    StopReason, Validators,
};
use lister_store::Store;
use lister_store::testing::TestDatabase;
use serde::Deserialize;
use serde_json::json;
use url::Url;

const BASE: &str = "https://forge.test/api";

/// A forge whose pages are `{"items": [{"url", "visit_type", "fork", "page"}], "next": 10}`
/// (the listing starts at cursor 0),
/// served by [`MemorySource`]. With an [`Overlap`], the origin of an item may wait for the
/// walk to request a later page.
#[derive(Default)]
struct MemoryForge {
    overlap: Option<Arc<Overlap>>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(borrow)]
    visit_type: Cow<'a, str>,
    fork: Option<bool>,
    /// The page the item is on (its index), for [`Overlap`].
    page: u64,
}

impl Forge for MemoryForge {
    type Cursor = u64;
    type Item<'a> = Item<'a>;
    const NAME: &'static str = "memory";
    const DEFAULT_URL: &'static str = BASE;
    const PATH: &'static str = "/repos?since={cursor}";
    const ITEMS: &'static str = "/items";
    const NEXT: NextCursor = NextCursor::BodyValue("/next");

    fn origin(&self, item: Item<'_>, _: &url::Url) -> Option<Origin> {
        if let Some(overlap) = &self.overlap {
            overlap.wait_in_parse_of(item.page);
        }
        Some(Origin::new(item.url, item.visit_type).with_fork(item.fork))
    }
}

/// The indexes of the pages requested from a [`MemorySource`], in order, shared with the
/// forge.
type Requested = Arc<Mutex<Vec<u64>>>;

/// Makes the parse of a page wait (up to a few seconds) until the walk has requested a later
/// page, and records whether it did: a parse that sees the later request was still running
/// when the walk sent it.
struct Overlap {
    requested: Requested,
    /// `(page, later)`: the parse of `page` waits for the request of page `later`.
    waits: Vec<(u64, u64)>,
    /// The pages whose parse already waited.
    waited: Mutex<BTreeSet<u64>>,
    /// The pages whose parse saw the page it waited for requested.
    overlapped: Mutex<Vec<u64>>,
}

impl Overlap {
    fn new(requested: Requested, waits: Vec<(u64, u64)>) -> Overlap {
        Overlap {
            requested,
            waits,
            waited: Mutex::default(),
            overlapped: Mutex::default(),
        }
    }

    /// Called by the forge (on the parse stage's blocking thread) for an item of `page`.
    fn wait_in_parse_of(&self, page: u64) {
        let Some(&(_, later)) = self.waits.iter().find(|(p, _)| *p == page) else {
            return;
        };
        if !self.waited.lock().unwrap().insert(page) {
            return;
        }
        let requested = || self.requested.lock().unwrap().contains(&later);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !requested() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if requested() {
            self.overlapped.lock().unwrap().push(page);
        }
    }

    /// The pages whose parse overlapped the request it waited for, in page order.
    fn overlapped(&self) -> Vec<u64> {
        let mut pages = self.overlapped.lock().unwrap().clone();
        pages.sort();
        pages
    }
}

/// Pages keyed by the index they are fetched at, each with the index of the next page.
#[derive(Default)]
struct MemorySource {
    pages: BTreeMap<u64, (Vec<Origin>, Option<u64>)>,
    /// Raw JSON items appended to a page's items.
    extra_items: BTreeMap<u64, Vec<serde_json::Value>>,
    /// Bodies that replace a page's.
    bodies: BTreeMap<u64, String>,
    requested: Requested,
    /// While fetching the page at this index, cancel the run and never answer: a request in
    /// flight when the user presses Ctrl-C.
    cancel_at: Option<u64>,
    /// Answer 304 for pages fetched with the validators of their current body.
    not_modified_when_known: bool,
    /// While fetching the page at this index, move the lister's state as another run would.
    move_state_at: Option<(u64, Store)>,
    /// While fetching the page at this index, wait (at most the given time) for the run to
    /// count a new origin, which only a fold does; what it counted is kept in `folded_before`.
    await_fold_at: Option<(u64, Duration)>,
    folded_before: Mutex<Option<u64>>,
    /// For each request, the page requested and how many pages were committed then.
    committed_at_request: Mutex<Vec<(u64, u64)>>,
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
        self.requested.lock().unwrap().clone()
    }

    /// The body of the page at `index`, as the forge would send it.
    fn body(&self, index: u64) -> Option<String> {
        if let Some(body) = self.bodies.get(&index) {
            return Some(body.clone());
        }
        let (origins, next) = self.pages.get(&index)?;
        let mut items: Vec<serde_json::Value> = origins
            .iter()
            .map(|origin| {
                json!({
                    "url": origin.url,
                    "visit_type": origin.visit_type,
                    "fork": origin.is_fork,
                    "page": index,
                })
            })
            .collect();
        items.extend(self.extra_items.get(&index).into_iter().flatten().cloned());
        Some(json!({ "items": items, "next": next }).to_string())
    }
}

#[async_trait]
impl PageSource for &'static MemorySource {
    async fn fetch(
        &self,
        request: &PageRequest,
        known: Option<&Validators>,
        context: &RunContext,
    ) -> Result<Fetched, FetchError> {
        let (_, index) = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "since")
            .unwrap();
        let index: u64 = index.parse()?;
        self.requested.lock().unwrap().push(index);
        let committed = RunProgress::get(&context.progress.pages);
        self.committed_at_request
            .lock()
            .unwrap()
            .push((index, committed));
        if self.cancel_at == Some(index) {
            context.cancel.cancel();
            std::future::pending::<()>().await;
        }
        if let Some((_, store)) = self.move_state_at.as_ref().filter(|(at, _)| *at == index) {
            // Retried: the run's own commits move the version meanwhile.
            let key = ListerKey::new("memory", "default");
            let state = SavedState { cursor: 999_999u64 };
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
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            *self.folded_before.lock().unwrap() = Some(new());
        }
        let body = self.body(index).ok_or("no such page")?;
        // The page's index and its body's length: a page that lost origins changes.
        let etag = format!("\"page-{index}-{}\"", body.len());
        let unchanged = known.is_some_and(|known| known.etag.as_deref() == Some(etag.as_str()));
        if self.not_modified_when_known && unchanged {
            return Ok(Fetched::NotModified);
        }
        let mut headers = HeaderMap::new();
        let etag = HeaderValue::from_str(&etag)?;
        headers.insert(http::header::ETAG, etag);
        Ok(Fetched::Page(PageResponse {
            url: request.url.clone(),
            status: StatusCode::OK,
            headers,
            body: Bytes::from(body),
        }))
    }
}

fn listing(source: MemorySource) -> (Listing<MemoryForge>, &'static MemorySource) {
    listing_of(MemoryForge::default(), source)
}

fn listing_of(
    forge: MemoryForge,
    source: MemorySource,
) -> (Listing<MemoryForge>, &'static MemorySource) {
    let source: &'static MemorySource = Box::leak(Box::new(source));
    let listing = Listing::new(
        Arc::new(forge),
        "default",
        &Url::parse(BASE).unwrap(),
        Url::parse(BASE).unwrap(),
        Box::new(source),
    );
    (listing, source)
}

fn key() -> ListerKey {
    ListerKey::new("memory", "default")
}

async fn saved_cursor(store: &Store) -> Option<u64> {
    let lister = store.lister(&key()).await.unwrap()?;
    lister
        .decode_state::<SavedState<u64>>()
        .unwrap()
        .map(|state| state.cursor)
}

async fn origin_count(store: &Store) -> usize {
    store.listed_origins(&key()).await.unwrap().len()
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
        saved_cursor(&store).await,
        Some(40),
        "the last page's own cursor is saved"
    );
    let lister = store.lister(&key()).await.unwrap().unwrap();
    assert_eq!(lister.state.as_deref(), Some(r#"{"cursor":40}"#));
    assert_eq!(
        (stats.first_cursor.as_deref(), stats.last_cursor.as_deref()),
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
    for fold_every in [Some(Duration::ZERO), None] {
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
        let listed = store.listed_origins(&key()).await.unwrap();
        assert_eq!(listed.len(), 12);
        let first = listed
            .iter()
            .find(|o| o.origin.url.ends_with("/r/0"))
            .unwrap();
        assert_eq!(first.origin.is_fork, Some(true), "the later sighting wins");
        db.drop_database().await;
    }
}

/// By default a run on PostgreSQL folds while it walks (the fold runs on other connections
/// and the commits go on), and a run on SQLite folds at its end (a fold holds the only write
/// lock); either way every origin is listed once.
async fn postgresql_folds_during_the_walk_and_sqlite_at_the_end(db: TestDatabase) {
    let store = db.open().await;
    let postgres = db.is_postgres();
    let mut source = MemorySource::linear(5, 3);
    // Waits until something is folded on PostgreSQL; SQLite must not fold meanwhile.
    let bound = match postgres {
        true => Duration::from_secs(20),
        false => Duration::from_millis(500),
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
    assert_eq!(saved_cursor(&store).await, Some(20));
    assert_eq!(stats.saved_cursor.as_deref(), Some("20"));
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

/// The walk stops at the page whose next cursor goes back, at once; the pages before it,
/// still parsing when it failed, are committed first.
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
    let Error::PaginationLoop(why) = &failure.error else {
        panic!("not a pagination loop: {}", failure.error);
    };
    assert_eq!(
        why,
        "the page at 20 points to 10, which does not come after it"
    );
    let message = failure.to_string();
    assert!(
        message.starts_with("pagination loop: the page at 20 points to 10"),
        "{message}"
    );
    assert!(message.contains("state saved up to cursor 20"), "{message}");
    assert_eq!(fetched.fetched(), vec![0, 10, 20], "stopped at once");
    assert_eq!(
        saved_cursor(&store).await,
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
        .listed_origins(&key())
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

/// An item that does not parse is rejected and counted; the rest of its page is listed, and
/// the run goes on. A `null` item is skipped without a count.
#[tokio::test]
async fn a_malformed_item_is_rejected_and_its_page_goes_on() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let mut source = MemorySource::linear(3, 2);
    let malformed = vec![
        json!({"url": 5, "visit_type": "git", "page": 10}),
        serde_json::Value::Null,
        json!({"url": "https://forge.test/r/late", "visit_type": "git", "page": "ten"}),
    ];
    source.extra_items.insert(10, malformed);
    let (listing, fetched) = listing(source);
    let stats = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::EndOfListing));
    assert_eq!(fetched.fetched(), [0, 10, 20], "no page fetched again");
    assert_eq!(
        (stats.items_rejected, stats.origins_seen, stats.origins_new),
        (2, 6, 6)
    );
    assert_eq!(origin_count(&store).await, 6);
    assert_eq!(saved_cursor(&store).await, Some(20));
    db.drop_database().await;
}

/// A page that holds no list of items where the forge says, or whose next cursor does not
/// parse, fails the run: a deterministic failure, not fetched again. The pages before it are
/// committed, and the next run starts at it.
#[tokio::test]
async fn a_page_that_does_not_parse_fails_the_run_without_a_retry() {
    let bodies = [
        // The items are no list: the parse stage fails.
        r#"{"items": 5, "next": 30}"#,
        // The body is cut short: the next cursor does not parse, the fetch stage fails.
        r#"{"items": [{"url": "https://forge.test/r/x", "vis"#,
        // The next cursor is no cursor.
        r#"{"items": [], "next": "thirty"}"#,
    ];
    for body in bodies {
        let db = TestDatabase::sqlite();
        let store = db.open().await;
        let mut source = MemorySource::linear(4, 2);
        source.bodies.insert(20, body.to_owned());
        let (listing, fetched) = listing(source);
        let failure = listing
            .run(&store, &RunOptions::default(), &RunContext::default())
            .await
            .unwrap_err();
        let Error::PageParse { url, source } = &failure.error else {
            panic!("{body}: not a page parse error: {}", failure.error);
        };
        assert_eq!(url, "https://forge.test/api/repos?since=20", "{body}");
        assert!(!source.message.is_empty(), "{body}");
        assert!(
            failure.to_string().contains("state saved up to cursor 20"),
            "{body}: {failure}"
        );
        let fetched = fetched.fetched();
        assert_eq!(
            fetched.iter().filter(|&&index| index == 20).count(),
            1,
            "{body}: the page is not fetched again: {fetched:?}"
        );
        assert_eq!(saved_cursor(&store).await, Some(20), "{body}");
        assert_eq!(origin_count(&store).await, 4, "{body}");
        db.drop_database().await;
    }
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
    let saved = saved_cursor(&store).await;
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

/// Cancellation aborts the request in flight (here, one the forge never answers) at once; the
/// pages fetched before it are committed, and the next run starts at the aborted page.
#[tokio::test]
async fn cancellation_aborts_the_request_in_flight_and_commits_the_pages_before_it() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let mut source = MemorySource::linear(5, 3);
    source.cancel_at = Some(20);
    let (listing, fetched) = listing(source);
    let (options, context) = (RunOptions::default(), RunContext::default());
    let run = listing.run(&store, &options, &context);
    let stats = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the request in flight is not waited for")
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::Cancelled));
    assert_eq!(fetched.fetched(), vec![0, 10, 20]);
    assert_eq!(
        (stats.pages, origin_count(&store).await),
        (2, 6),
        "the pages before the request in flight were committed"
    );
    assert_eq!(
        saved_cursor(&store).await,
        Some(20),
        "the next run starts at the aborted page"
    );
    assert_eq!(stats.saved_cursor.as_deref(), Some("20"));
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
    assert_eq!(stats.saved_cursor, None);
    let lister = store.lister(listing.key()).await.unwrap().unwrap();
    assert_eq!(
        lister.state_version, version_before,
        "the state is untouched"
    );
    assert_eq!(saved_cursor(&store).await, Some(10));
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
        matches!(failure.error, Error::InvalidOption(_)),
        "{failure}"
    );
    assert!(
        failure
            .to_string()
            .contains("`ten` is not a cursor of memory"),
        "{failure}"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn an_unchanged_page_follows_the_remembered_next_cursor() {
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
        "followed the stored next cursors"
    );
    // The origins of the pages answered 304 are seen again, as known origins refreshed.
    assert_eq!(
        (stats.not_modified, stats.origins_seen, stats.stopped),
        (3, 6, Some(StopReason::EndOfListing))
    );
    assert_eq!((stats.origins_new, stats.origins_updated), (0, 6));
    db.drop_database().await;
}

/// The pages fetched before the failure (the last one still parsing when it came) are
/// committed, and the error says where the next run resumes.
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
    assert!(matches!(failure.error, Error::Fetch(_)), "{failure}");
    assert_eq!(
        failure.to_string(),
        "no such page; state saved up to cursor 20, the next run resumes there"
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
    assert_eq!(fetched.fetched(), vec![0, 10, 20], "from the first cursor");
    // Asked conditionally: the unchanged pages answer 304, and their origins count as seen.
    assert_eq!((stats.not_modified, stats.origins_disabled), (2, 2));
    assert_eq!(stats.origins_seen, 4);
    let enabled: Vec<bool> = store
        .listed_origins(&key())
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

/// A full pass over a forge that did not change costs only `304`s and disables nothing: each
/// page's origins count as seen.
#[tokio::test]
async fn a_full_pass_over_an_unchanged_forge_disables_nothing() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (first, _) = listing(MemorySource::linear(3, 2));
    first
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();

    let mut same = MemorySource::linear(3, 2);
    same.not_modified_when_known = true;
    let (again, fetched) = listing(same);
    let options = RunOptions {
        full_pass: true,
        ..Default::default()
    };
    let stats = again
        .run(&store, &options, &RunContext::default())
        .await
        .unwrap();
    assert_eq!(fetched.fetched(), vec![0, 10, 20]);
    assert_eq!(
        (
            stats.not_modified,
            stats.origins_seen,
            stats.origins_disabled
        ),
        (3, 6, 0)
    );
    let listed = store.listed_origins(&key()).await.unwrap();
    assert!(listed.iter().all(|o| o.origin.enabled), "{listed:?}");
    assert_eq!(listed.len(), 6);
    db.drop_database().await;
}

/// Lists 5 pages (indexes 0 to 40) whose parse waits as `waits` says (see [`Overlap`]):
/// the pages whose parse saw the page it waited for requested.
async fn parse_overlapping(waits: Vec<(u64, u64)>) -> Vec<u64> {
    let source = MemorySource::linear(5, 3);
    let overlap = Arc::new(Overlap::new(source.requested.clone(), waits));
    let forge = MemoryForge {
        overlap: Some(overlap.clone()),
    };
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let (listing, source) = listing_of(forge, source);
    let stats = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::EndOfListing));
    assert_eq!(origin_count(&store).await, 15);
    assert_eq!(
        source.fetched(),
        [0, 10, 20, 30, 40],
        "every page fetched once"
    );
    db.drop_database().await;
    overlap.overlapped()
}

/// A page's items are parsed (on a blocking thread) while the walk sends the request of the
/// next page: the parse of pages 10 to 30 waits inside the forge's `origin()` until the next
/// page is requested, which happens only if the walk does not wait for the parse. (Not the
/// first page: nothing is fetched ahead of the first commit; nor the last: no page follows.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_parsed_while_the_next_is_fetched() {
    let overlapped = parse_overlapping(vec![(10, 20), (20, 30), (30, 40)]).await;
    assert_eq!(overlapped, [10, 20, 30]);
}

/// A slow parse does not hold up the page after next either: while page 10 parses, the walk
/// fetches page 20 (whose parse waits in turn) and then page 30; the walk waits for a parse
/// only when it hands the page over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_parse_does_not_hold_up_the_page_after_next() {
    let overlapped = parse_overlapping(vec![(10, 30), (20, 40)]).await;
    assert_eq!(overlapped, [10, 20]);
}

/// The walk holds at most `memory_budget` bytes of pages between reading a body and
/// committing its origins (a page larger than the budget goes alone). With a one-byte budget,
/// the request of a page goes out only once every page but the one before it is committed;
/// with the default budget the walk runs ahead of the writer, which waits to batch its
/// commits.
#[tokio::test]
async fn the_memory_budget_bounds_the_pages_held_before_their_commit() {
    const PAGES: u64 = 12;
    let mut ahead = Vec::new();
    for memory_budget in [Some(1), None] {
        let db = TestDatabase::sqlite();
        let store = db.open().await;
        let (listing, source) = listing(MemorySource::linear(PAGES, 2));
        let options = RunOptions {
            memory_budget,
            ..Default::default()
        };
        let stats = listing
            .run(&store, &options, &RunContext::default())
            .await
            .unwrap();
        assert_eq!((stats.pages, stats.origins_new), (PAGES, 2 * PAGES));
        let requests = source.committed_at_request.lock().unwrap().clone();
        assert_eq!(requests.len() as u64, PAGES);
        // How many pages were requested but not committed when each request went out.
        let most_ahead = requests
            .iter()
            .map(|&(index, committed)| index / 10 - committed)
            .max()
            .unwrap();
        ahead.push(most_ahead);
        db.drop_database().await;
    }
    let [tiny, default] = ahead[..] else {
        unreachable!()
    };
    assert_eq!(
        tiny, 1,
        "with a one-byte budget, only the page before the one requested was not committed"
    );
    assert!(
        default > 2,
        "with the default budget, the walk ran {default} pages ahead of the commits"
    );
}

lister_store::backend_tests!(postgresql_folds_during_the_walk_and_sqlite_at_the_end,);
