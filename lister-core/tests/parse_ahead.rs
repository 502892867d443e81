//! The walk parses a page's origins while it fetches the next page, and the page after next,
//! when the source leaves them unparsed ([`Fetched::Unparsed`]); a page whose origins fail to
//! parse is fetched again.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lister_core::testing::TestDatabase;
use lister_core::{
    FetchError, Fetched, IndexedListing, IndexingLister, Lister, ListerKey, NextPage, Origin, Page,
    PageResponse, PageSource, ParseError, RunContext, RunOptions, RunStats, StopReason,
    UnparsedPage, Validators,
};
use url::Url;

const BASE: &str = "https://forge.test/api";
const PAGES: u64 = 5;
const PER_PAGE: u64 = 3;

/// A forge whose pages come from [`DeferringSource`].
struct Forge;

impl IndexingLister for Forge {
    type Index = u64;
    const NAME: &'static str = "deferring";
    const DEFAULT_BASE_URL: &'static str = BASE;
    const PATH_TEMPLATE: &'static str = "/repos?page={index}";
    const VISIT_TYPE: &'static str = "git";

    fn first_index(&self) -> u64 {
        0
    }

    fn simplify(&self, _: &PageResponse) -> Result<Vec<Origin>, ParseError> {
        unreachable!("DeferringSource parses pages itself")
    }

    fn next_page(&self, _: &PageResponse) -> Result<Option<NextPage<u64>>, ParseError> {
        unreachable!("DeferringSource parses pages itself")
    }
}

/// Pages 0 to [`PAGES`] - 1, answered unparsed by `fetch_unparsed`. A page's parse may wait
/// (up to a few seconds) for the walk to ask for a later page, and records whether it did.
#[derive(Default)]
struct DeferringSource {
    /// Every fetch, in order: the page and whether it was left unparsed.
    fetched: Mutex<Vec<(u64, bool)>>,
    /// The pages whose parse saw the page it waited for requested.
    overlapped: Mutex<Vec<u64>>,
    /// `(page, later)`: the parse of `page` waits for the request of page `later`.
    waits: Vec<(u64, u64)>,
    /// The page whose first parse fails.
    fail_once_at: Option<u64>,
    /// `(page, next)`: once fetched again, `page` names `next` as its next page.
    refetch_names: Option<(u64, u64)>,
    /// Every page also lists an invalid URL, a URL with credentials and a repeat.
    dirty: bool,
}

impl DeferringSource {
    fn fetched(&self) -> Vec<(u64, bool)> {
        self.fetched.lock().unwrap().clone()
    }

    fn requested(&self, page: u64) -> bool {
        self.fetched.lock().unwrap().iter().any(|(p, _)| *p == page)
    }

    /// Parses page `page`: its origins, once the next page was requested when asked to wait.
    fn parse(&'static self, page: u64) -> Result<Vec<Origin>, ParseError> {
        let first_parse = self.fetched().iter().filter(|(p, _)| *p == page).count() == 1;
        if self.fail_once_at == Some(page) && first_parse {
            return Err(ParseError::new("truncated body"));
        }
        for &(_, later) in self.waits.iter().filter(|(p, _)| *p == page) {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !self.requested(later) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if self.requested(later) {
                self.overlapped.lock().unwrap().push(page);
            }
        }
        let mut origins: Vec<Origin> = (0..PER_PAGE)
            .map(|i| Origin::new(format!("https://forge.test/r/{page}-{i}"), "git"))
            .collect();
        if self.dirty {
            origins.push(Origin::new(format!("ftp://forge.test/r/{page}"), "git"));
            origins.push(Origin::new(format!("https://forge.test/r/{page}-0"), "git"));
            let secret = format!("https://user:secret@forge.test/r/{page}-secret");
            origins.push(Origin::new(secret, "git"));
        }
        Ok(origins)
    }

    fn page_number(url: &Url) -> u64 {
        let (_, page) = url.query_pairs().find(|(k, _)| k == "page").unwrap();
        page.parse().unwrap()
    }

    /// The next page of `page`, fetched as a whole (`refetched`) or not.
    fn next(&self, page: u64, refetched: bool) -> Option<NextPage<u64>> {
        let index = match self.refetch_names {
            Some((p, next)) if p == page && refetched => next,
            _ => page + 1,
        };
        let url = lister_core::page_url(&Url::parse(BASE).unwrap(), Forge::PATH_TEMPLATE, &index);
        (index < PAGES).then(|| NextPage {
            url: url.unwrap(),
            index,
        })
    }
}

#[async_trait]
impl PageSource<u64> for &'static DeferringSource {
    async fn fetch(
        &self,
        url: &Url,
        _: Option<&Validators>,
        _: &RunContext,
    ) -> Result<Fetched<u64>, FetchError> {
        let page = DeferringSource::page_number(url);
        self.fetched.lock().unwrap().push((page, false));
        Ok(Fetched::Page(Page {
            origins: self.parse(page)?,
            next: self.next(page, true),
            validators: Validators::default(),
        }))
    }

    async fn fetch_unparsed(
        &self,
        url: &Url,
        _: Option<&Validators>,
        _: &RunContext,
    ) -> Result<Fetched<u64>, FetchError> {
        let page = DeferringSource::page_number(url);
        self.fetched.lock().unwrap().push((page, true));
        let source: &'static DeferringSource = self;
        Ok(Fetched::Unparsed(UnparsedPage {
            next: self.next(page, false),
            validators: Validators::default(),
            origins: Box::new(move || source.parse(page)),
        }))
    }
}

async fn run(source: DeferringSource) -> (&'static DeferringSource, u64, u64) {
    let (source, listed, stats) = run_listing(source).await;
    (source, listed.len() as u64, stats.retries)
}

/// Runs the listing: the source, the URLs it listed, and the run's figures.
async fn run_listing(source: DeferringSource) -> (&'static DeferringSource, Vec<String>, RunStats) {
    let source: &'static DeferringSource = Box::leak(Box::new(source));
    let listing = IndexedListing::new(
        Forge,
        "default",
        Url::parse(BASE).unwrap(),
        Box::new(source),
    );
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let stats = listing
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::EndOfListing));
    let key = ListerKey::new("deferring", "default");
    let listed = store.listed_origins(&key).await.unwrap();
    let listed = listed.into_iter().map(|o| o.origin.url).collect();
    db.drop_database().await;
    (source, listed, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_parsed_while_the_next_is_fetched() {
    // Not the first page (nothing is fetched ahead of the first commit), nor the last.
    let (source, listed, retries) = run(DeferringSource {
        waits: vec![(1, 2), (2, 3), (3, 4)],
        ..DeferringSource::default()
    })
    .await;
    assert_eq!(listed, PAGES * PER_PAGE);
    assert_eq!(retries, 0);
    assert_eq!(overlapped(source), [1, 2, 3]);
    let pages: Vec<(u64, bool)> = (0..PAGES).map(|page| (page, true)).collect();
    assert_eq!(source.fetched(), pages, "every page fetched once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_whose_origins_fail_to_parse_is_fetched_again_and_parsed_at_once() {
    let (source, listed, retries) = run(DeferringSource {
        fail_once_at: Some(2),
        ..DeferringSource::default()
    })
    .await;
    assert_eq!(listed, PAGES * PER_PAGE, "nothing lost");
    assert_eq!(retries, 1);
    // Pages 3 and 4, fetched while page 2 parsed, stand: page 2 names page 3 again. Page 2's
    // second fetch and page 4's go out at once, in either order.
    let fetched = source.fetched();
    assert_eq!(fetched[..4], [(0, true), (1, true), (2, true), (3, true)]);
    let mut last_two = fetched[4..].to_vec();
    last_two.sort();
    assert_eq!(last_two, [(2, false), (4, true)], "{fetched:?}");
}

/// A page parses while the walk fetches the next page and then the page after next: the
/// walk waits for a parse only when it hands the page over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_parse_does_not_hold_up_the_page_after_next() {
    let (source, listed, retries) = run(DeferringSource {
        waits: vec![(1, 3), (2, 4)],
        ..DeferringSource::default()
    })
    .await;
    assert_eq!(listed, PAGES * PER_PAGE);
    assert_eq!(retries, 0);
    assert_eq!(overlapped(source), [1, 2]);
    let pages: Vec<(u64, bool)> = (0..PAGES).map(|page| (page, true)).collect();
    assert_eq!(source.fetched(), pages, "every page fetched once");
}

/// When a page fails to parse and, fetched again, names another next page, the pages the walk
/// fetched after it are dropped: the walk goes where the page now points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fetched_after_a_page_that_changed_its_next_page_are_dropped() {
    let (source, listed, stats) = run_listing(DeferringSource {
        fail_once_at: Some(2),
        refetch_names: Some((2, 4)),
        ..DeferringSource::default()
    })
    .await;
    assert_eq!(stats.retries, 1);
    let listed_pages: BTreeSet<&str> = listed
        .iter()
        .map(|url| &url["https://forge.test/r/".len()..url.len() - 2])
        .collect();
    assert_eq!(listed_pages, BTreeSet::from(["0", "1", "2", "4"]));
    let fetched = source.fetched();
    assert_eq!(fetched[..4], [(0, true), (1, true), (2, true), (3, true)]);
    assert!(fetched[4..].contains(&(2, false)), "{fetched:?}");
    assert_eq!(fetched.last(), Some(&(4, true)), "{fetched:?}");
}

/// The pages whose parse saw the page it waited for requested, in page order.
fn overlapped(source: &DeferringSource) -> Vec<u64> {
    let mut pages = source.overlapped.lock().unwrap().clone();
    pages.sort();
    pages
}

/// Origins parsed beside the next fetch are cleaned there as a page parsed at once is: invalid
/// URLs rejected, credentials removed, repeats within a page dropped, each counted; the same
/// for the page that failed to parse and was fetched again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_parsed_ahead_are_validated_and_deduplicated() {
    let (_, listed, stats) = run_listing(DeferringSource {
        dirty: true,
        fail_once_at: Some(2),
        ..DeferringSource::default()
    })
    .await;
    let per_page = PER_PAGE + 3;
    assert_eq!(stats.origins_seen, PAGES * per_page);
    assert_eq!(stats.origins_rejected, PAGES, "one ftp URL per page");
    assert_eq!(stats.origins_duplicate, PAGES, "one repeat per page");
    assert_eq!(stats.origins_new, PAGES * (PER_PAGE + 1));
    assert_eq!(listed.len() as u64, PAGES * (PER_PAGE + 1));
    assert!(
        listed.iter().all(|url| !url.contains("secret@")),
        "{listed:?}"
    );
    assert!(listed.contains(&"https://forge.test/r/2-secret".to_owned()));
}
