//! The listing benchmark: `lister run github` (the real release binary) against the fake
//! forge with realistic 100-item GitHub pages, next to a bare client walking the same pages.
//!
//! ```sh
//! cargo build --release -p lister-cli
//! LISTER_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p lister-tests --bench listing       # add `-- --quick` to skip 1,000,000
//! ```
//!
//! Prints one line per figure: origins/s into SQLite (and PostgreSQL when a URL is given),
//! the bare client's ceiling and the ratio, peak resident memory of the lister process at
//! 100,000 and 1,000,000 origins (as the kernel counts it: see `spawner`), requests per
//! origin, and the requests and quota an incremental rerun with nothing new uses, and a full
//! pass over the unchanged forge. A figure with a target (issue 7's, on a 2-core
//! machine) says whether it met it, and the last line counts the targets met.

mod spawner;

use std::time::{Duration, Instant};

use lister_core::link::next_link;
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{Config, FakeForge, QuotaConfig};
use spawner::Spawner;

const TOKEN: &str = "bench-token";

async fn forge(repositories: u64) -> FakeForge {
    forge_with_pages(repositories, 100, false).await
}

/// The fake forge with `page_size` repositories a page, `minimal` ones or full-size ones.
async fn forge_with_pages(repositories: u64, page_size: u64, minimal: bool) -> FakeForge {
    let quota = QuotaConfig {
        token_limit: 100_000_000,
        anonymous_limit: 100_000_000,
        ..QuotaConfig::default()
    };
    FakeForge::start_with(Config {
        github_repositories: repositories,
        github_page_size: page_size,
        github_minimal_items: minimal,
        quota,
        ..Config::default()
    })
    .await
}

/// Wall time and peak resident memory (KiB) of one `lister run github`.
fn run_lister(spawner: &mut Spawner, database: &str, forge: &FakeForge) -> (Duration, u64) {
    run_lister_with(spawner, database, forge, &[])
}

/// [`run_lister`] with more arguments to `lister run github` (`--full-pass`).
fn run_lister_with(
    spawner: &mut Spawner,
    database: &str,
    forge: &FakeForge,
    more: &[&str],
) -> (Duration, u64) {
    let started = Instant::now();
    let url = forge.github_url();
    let mut args = vec![
        "-q",
        "--database-url",
        database,
        "run",
        "github",
        "--url",
        url.as_str(),
    ];
    args.extend_from_slice(more);
    // The forge serves the run from this runtime's other threads meanwhile.
    let ended = tokio::task::block_in_place(|| spawner.run(&lister_tests::lister_binary(), &args));
    assert!(
        ended.status == 0,
        "lister failed: wait status {}",
        ended.status
    );
    (started.elapsed(), ended.peak_kib)
}

/// The transport ceiling: fetch every page, read the body, follow `Link`; nothing else.
async fn bare_walk(forge: &FakeForge) -> (Duration, u64) {
    let client = reqwest::Client::new();
    let mut url = forge.github_url().join("repositories?since=0").unwrap();
    let (started, mut pages) = (Instant::now(), 0);
    loop {
        let response = client
            .get(url.clone())
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("fetch");
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("read");
        pages += 1;
        match next_link(&headers, &url) {
            Some(next) if body.len() > 2 => url = next,
            _ => return (started.elapsed(), pages),
        }
    }
}

/// The quota left for the bench token (the probe itself costs one request).
async fn quota_left(forge: &FakeForge) -> u64 {
    let url = forge
        .github_url()
        .join("repositories?since=999999999999")
        .unwrap();
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    response.headers()["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn rate(origins: u64, took: Duration) -> f64 {
    origins as f64 / took.as_secs_f64()
}

/// The targets the figures were checked against, and how many were met.
#[derive(Default)]
struct Targets {
    checked: usize,
    met: usize,
}

impl Targets {
    /// Records one check, and returns what the figure's line says about it.
    fn check(&mut self, met: bool, target: &str) -> String {
        self.checked += 1;
        self.met += usize::from(met);
        let verdict = if met { "met" } else { "NOT met" };
        format!("(target {target}: {verdict})")
    }
}

fn main() {
    if std::env::args().any(|arg| arg == spawner::HELPER_ARG) {
        return spawner::serve();
    }
    // Started before the forge, while this process is small (see `spawner`).
    let mut spawner = Spawner::start(&[("GITHUB_TOKEN", TOKEN)]);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(bench(&mut spawner));
}

async fn bench(spawner: &mut Spawner) {
    const N: u64 = 100_000;
    let mut targets = Targets::default();
    let forge = forge(N).await;
    let (bare, pages) = bare_walk(&forge).await;
    let ceiling = rate(N, bare);
    println!(
        "bare client walk: {pages} pages, {N} origins in {:.2} s = {ceiling:.0} origins/s",
        bare.as_secs_f64()
    );

    let sqlite = TestDatabase::sqlite();
    let before = forge.listing_requests();
    let (took, peak_100k) = run_lister(spawner, &sqlite.url, &forge);
    let requests = forge.listing_requests() - before;
    let sqlite_rate = rate(N, took);
    println!(
        "sqlite: {N} origins in {:.2} s = {sqlite_rate:.0} origins/s {}",
        took.as_secs_f64(),
        targets.check(sqlite_rate >= 100_000.0, ">= 100000/s")
    );
    let ratio = 100.0 * sqlite_rate / ceiling;
    println!(
        "sqlite / bare client: {ratio:.1} % {}",
        targets.check(ratio >= 50.0, ">= 50 %")
    );
    // The bare client fetched every page once: as many requests means none twice.
    println!(
        "requests per origin: {requests} / {N} = 1/{:.1} {}",
        N as f64 / requests as f64,
        targets.check(requests == pages, "1/100, no page twice")
    );
    println!(
        "peak resident memory at {N} origins: {:.1} MiB",
        peak_100k as f64 / 1024.0
    );

    let left = quota_left(&forge).await;
    let before = forge.listing_requests();
    run_lister(spawner, &sqlite.url, &forge);
    let rerun_requests = forge.listing_requests() - before;
    let used = left - quota_left(&forge).await - 1;
    println!(
        "incremental rerun with nothing new: {rerun_requests} request(s), {used} quota {}",
        targets.check(rerun_requests == 1 && used == 0, "1 request, 0 quota")
    );

    // Every page asked again, conditionally: each answers 304, which spends no quota.
    let left = quota_left(&forge).await;
    let before = forge.listing_requests();
    let (took, _) = run_lister_with(spawner, &sqlite.url, &forge, &["--full-pass"]);
    let pass_requests = forge.listing_requests() - before;
    let used = left - quota_left(&forge).await - 1;
    println!(
        "full pass over an unchanged forge: {pass_requests} requests, {used} quota, {:.2} s {}",
        took.as_secs_f64(),
        targets.check(used == 0, "0 quota")
    );

    let postgres_url = std::env::var("LISTER_BENCH_POSTGRES_URL").ok();
    if let Some(url) = postgres_url {
        let database = TestDatabase::postgres_at(&url).await;
        let (took, _) = run_lister(spawner, &database.url, &forge);
        let postgres_rate = rate(N, took);
        println!(
            "postgres: {N} origins in {:.2} s = {postgres_rate:.0} origins/s {}",
            took.as_secs_f64(),
            targets.check(postgres_rate >= 60_000.0, ">= 60000/s")
        );
        // The 50 % is checked for SQLite only: at the ~200,000/s bare walk the issue quotes,
        // it is SQLite's 100,000/s. Asked of PostgreSQL too, it would make its own 60,000/s
        // target moot, so PostgreSQL's ratio is printed beside that target, not judged.
        let ratio = 100.0 * postgres_rate / ceiling;
        println!("postgres / bare client: {ratio:.1} % (for information: its target is 60000/s)");
        database.drop_database().await;
    } else {
        println!("postgres: skipped (set LISTER_BENCH_POSTGRES_URL to measure it)");
    }
    sqlite.drop_database().await;
    drop(forge);
    if std::env::args().any(|arg| arg == "--quick") {
        println!("1,000,000 origins: skipped (--quick)");
        println!("pages at the body cap: skipped (--quick)");
    } else {
        big_listing(spawner, peak_100k, &mut targets).await;
        largest_pages(spawner, &mut targets).await;
    }
    println!("targets met: {} of {}", targets.met, targets.checked);
}

/// The 1,000,000-origin run: its speed, and its peak memory against the 100,000-origin run's.
async fn big_listing(spawner: &mut Spawner, peak_100k: u64, targets: &mut Targets) {
    const BIG: u64 = 1_000_000;
    let big = self::forge(BIG).await;
    let sqlite = TestDatabase::sqlite();
    let (took, peak_1m) = run_lister(spawner, &sqlite.url, &big);
    println!(
        "sqlite: {BIG} origins in {:.2} s = {:.0} origins/s",
        took.as_secs_f64(),
        rate(BIG, took)
    );
    let (peak_mib, growth) = (
        peak_1m as f64 / 1024.0,
        100.0 * (peak_1m as f64 / peak_100k as f64 - 1.0),
    );
    println!(
        "peak resident memory at {BIG} origins: {peak_mib:.1} MiB ({growth:+.1} % vs 100000) {}",
        targets.check(
            peak_mib <= 64.0 && growth.abs() <= 10.0,
            "<= 64 MiB, within 10 %"
        )
    );
    sqlite.drop_database().await;
}

/// Pages as large as the transport accepts (just under its 32 MiB body cap), with full-size
/// items (8,000 a page) and with minimal ones (400,000 a page, whose origins take more memory
/// than the body). The run's peak memory is bounded by its memory budget (128 MiB of bodies
/// and origins in flight), not by how many pages its window may hold: twice the pages, the
/// same peak.
async fn largest_pages(spawner: &mut Spawner, targets: &mut Targets) {
    let mut peaks = Vec::new();
    for (page, pages, minimal) in [(8_000, 12, false), (400_000, 3, true), (400_000, 6, true)] {
        let big = forge_with_pages(page * pages, page, minimal).await;
        let first = big.github_url().join("repositories?since=0").unwrap();
        let body = reqwest::get(first)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len();
        let sqlite = TestDatabase::sqlite();
        let (took, peak) = run_lister(spawner, &sqlite.url, &big);
        let (body_mib, peak_mib) = (body as f64 / 1048576.0, peak as f64 / 1024.0);
        println!(
            "pages at the body cap: {pages} pages of {body_mib:.1} MiB ({page} repositories) in \
             {:.2} s, peak resident memory {peak_mib:.1} MiB",
            took.as_secs_f64(),
        );
        peaks.push(peak_mib);
        sqlite.drop_database().await;
    }
    let growth = 100.0 * (peaks[2] / peaks[1] - 1.0);
    println!(
        "peak memory, 6 pages of 400,000 repositories against 3: {growth:+.1} % {}",
        targets.check(
            growth <= 10.0 && peaks[2] <= 320.0,
            "within 10 %, at most 320 MiB"
        )
    );
}
