//! End to end: a listing walked in ranges (`--parallel`), by one run, by a run killed at
//! random moments and run again, and by two runs sharing one PostgreSQL database.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Forge, assert_complete, exported, list, lister, run, saved_cursor};
use lister_core::ListerKey;
use lister_store::Store;
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{Config, FakeForge, QuotaConfig};

/// A fake GitHub of `repositories`, each page answered after `latency`, with quota enough
/// for every run of a test.
async fn forge(repositories: u64, latency: Duration) -> FakeForge {
    let quota = QuotaConfig {
        anonymous_limit: 1_000_000,
        token_limit: 1_000_000,
        ..QuotaConfig::default()
    };
    FakeForge::start_with(Config {
        github_repositories: repositories,
        quota,
        latency,
        ..Config::default()
    })
    .await
}

/// The `since` of every GitHub listing request, in order, with the token that asked it.
fn pages_asked(forge: &FakeForge) -> Vec<(String, u64)> {
    let requests = forge.requests();
    let pages = requests
        .iter()
        .filter(|r| r.path_and_query.contains("/repositories?"));
    pages
        .map(|r| {
            let token = r.header("authorization").unwrap_or("").to_owned();
            (
                token,
                r.query("since").map_or(0, |since| since.parse().unwrap()),
            )
        })
        .collect()
}

async fn a_parallel_run_lists_everything_once_then_asks_one_page(db: TestDatabase) {
    let forge = forge(20_000, Duration::ZERO).await;
    let out = list(&db.url, Forge::GitHub, &forge, &["--parallel", "4"], &[]).await;
    assert_complete(&db.url, Forge::GitHub, &forge, &out).await;
    let summary = out.summary();
    let requests = summary["requests"].as_u64().unwrap();
    // 200 pages and the empty one; a page more per range at most, and the probe's ~20.
    assert!((201..=201 + 16 + 30).contains(&requests), "{summary}");
    assert_eq!(summary["origins_new"], 20_000, "{summary}");
    let last_id = *forge.github_ids().last().unwrap();
    assert!(saved_cursor(&db.url).await >= Some(last_id), "{summary}");
    let store = Store::open(&db.url).await.unwrap();
    let key = ListerKey::new("github", lister_http::instance_name(&forge.github_url()));
    let lister = store.lister(&key).await.unwrap().expect("registered");
    assert!(
        store.ranges(lister.id).await.unwrap().is_empty(),
        "the ranges are gone"
    );

    forge.clear_requests();
    let again = list(&db.url, Forge::GitHub, &forge, &["--parallel", "4"], &[]).await;
    assert_complete(&db.url, Forge::GitHub, &forge, &again).await;
    // The listing's last page, by the probe and by the tail walk, both answered `304`.
    assert_eq!(again.summary()["requests"], 2, "{again:?}");
    assert_eq!(again.summary()["not_modified"], 2, "{again:?}");
    db.drop_database().await;
}

async fn a_parallel_run_killed_at_random_moments_then_rerun_lists_each_repository_once(
    db: TestDatabase,
) {
    const LEASE: f64 = 0.5;
    let forge = forge(60_000, Duration::from_millis(10)).await;
    let url = forge.github_url().to_string();
    let args = ["-q", "run", "github", "--url", &url, "--parallel", "4"];
    let lease = LEASE.to_string();
    let args = [&args[..], &["--lease", &lease]].concat();
    let started = Instant::now();
    let reference = TestDatabase::sqlite();
    let uninterrupted = run(lister(&reference.url).args(&args)).await;
    assert_eq!(uninterrupted.code, 0, "{uninterrupted:?}");
    let whole_run = started.elapsed();
    // Each run lives past the lease, so that it can take over what a killed run held.
    let mut seed: u64 = 0x9a7a_11e1;
    let (mut kills, mut saved) = (0, None);
    for round in 0.. {
        assert!(round < 200, "the listing never completed");
        let mut child = lister(&db.url)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let fraction = 0.02 + 0.1 * ((seed >> 33) % 1000) as f64 / 1000.0;
        let after = Duration::from_secs_f64(LEASE) + whole_run.mul_f64(fraction);
        match tokio::time::timeout(after, child.wait()).await {
            Ok(status) => {
                assert_eq!(status.unwrap().code(), Some(0));
                break;
            }
            Err(_) => {
                child.start_kill().unwrap();
                child.wait().await.unwrap();
                kills += 1;
            }
        }
        let now = saved_cursor(&db.url).await;
        assert!(now >= saved, "state moved backwards: {saved:?} → {now:?}");
        saved = now;
    }
    eprintln!("{kills} kills; an uninterrupted run took {whole_run:?}");
    assert!(kills >= 3, "only {kills} kills in a run of {whole_run:?}");
    let urls = |db: &str| {
        let db = db.to_owned();
        async move {
            let origins = exported(&db, "github").await;
            let urls: Vec<String> = origins.iter().map(|o| o["url"].to_string()).collect();
            urls
        }
    };
    let (crashed, clean) = (urls(&db.url).await, urls(&reference.url).await);
    assert_eq!(crashed.len(), 60_000, "each repository once");
    let crashed: BTreeSet<_> = crashed.into_iter().collect();
    assert_eq!(
        crashed,
        clean.into_iter().collect(),
        "as an uninterrupted run"
    );
    reference.drop_database().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_postgres_never_walk_the_same_range_at_once() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let forge = forge(30_000, Duration::from_millis(10)).await;
    let url = forge.github_url().to_string();
    let start = |token: &str| {
        let mut command = lister(&db.url);
        command
            .args(["run", "github", "--url", &url, "--parallel", "2", "--json"])
            .env("GITHUB_TOKEN", token)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().unwrap()
    };
    let first = start("token-a");
    // The second run starts once the first has cut the listing: only the first probes.
    let store = Store::open(&db.url).await.unwrap();
    let key = ListerKey::new("github", lister_http::instance_name(&forge.github_url()));
    let cut = Instant::now();
    loop {
        assert!(
            cut.elapsed() < Duration::from_secs(30),
            "the first run cut no ranges"
        );
        if let Some(lister) = store.lister(&key).await.unwrap()
            && !store.ranges(lister.id).await.unwrap().is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let probed = pages_asked(&forge).len();
    let second = start("token-b");
    let (first, second) = tokio::join!(first.wait_with_output(), second.wait_with_output());
    for output in [first.unwrap(), second.unwrap()] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
    }
    let asked = pages_asked(&forge);
    let mut by_token: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for (token, since) in &asked[probed..] {
        by_token.entry(token.as_str()).or_default().insert(*since);
    }
    let walked = |token| by_token.get(token).cloned().unwrap_or_default();
    let (a, b) = (walked("token token-a"), walked("token token-b"));
    let tokens: Vec<_> = by_token.keys().collect();
    assert!(
        a.len() > 20 && b.len() > 20,
        "both walked: {} and {} pages ({tokens:?}, {probed} probes)",
        a.len(),
        b.len()
    );
    let both: Vec<_> = a.intersection(&b).collect();
    assert!(both.is_empty(), "pages asked by both runs: {both:?}");
    let listed = exported(&db.url, "github").await;
    assert_eq!(listed.len(), 30_000, "each repository once");
    let lister = store.lister(&key).await.unwrap().unwrap();
    assert!(store.ranges(lister.id).await.unwrap().is_empty());
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pass_waits_for_a_parallel_listing_in_progress() {
    let db = TestDatabase::sqlite();
    let forge = forge(1_000, Duration::ZERO).await;
    let store = Store::open(&db.url).await.unwrap();
    let key = ListerKey::new("github", lister_http::instance_name(&forge.github_url()));
    let lister = store.register_lister(&key).await.unwrap();
    let range = |from: u64, to: u64| lister_core::store::NewRange {
        start_state: format!(r#"{{"cursor":{from}}}"#),
        end_state: format!(r#"{{"cursor":{to}}}"#),
    };
    let ranges = [range(0, 1_500), range(1_500, 3_000)];
    assert!(
        store
            .create_ranges(lister.id, lister.state_version, &ranges)
            .await
            .unwrap()
    );
    let refused = list(&db.url, Forge::GitHub, &forge, &["--full-pass"], &[]).await;
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("in progress"), "{refused:?}");
    assert_eq!(forge.requests().len(), 0, "nothing asked");
    // A run without options finishes the ranges, one at a time, then the tail.
    let resumed = list(&db.url, Forge::GitHub, &forge, &[], &[]).await;
    assert_complete(&db.url, Forge::GitHub, &forge, &resumed).await;
    assert!(store.ranges(lister.id).await.unwrap().is_empty());
    db.drop_database().await;
}

lister_store::backend_tests!(
    a_parallel_run_lists_everything_once_then_asks_one_page,
    a_parallel_run_killed_at_random_moments_then_rerun_lists_each_repository_once,
);
