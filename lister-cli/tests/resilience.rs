//! End to end: SIGKILL at random moments, two runs of one instance at once, and secrets at
//! the most verbose log level.

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Forge, assert_complete, exported, list, lister, run, saved_cursor};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{Config, FakeForge, Fault, OtherHost, QuotaConfig};

/// Origins without their timestamps, to compare two databases.
async fn content(db: &str) -> BTreeSet<String> {
    exported(db, "github")
        .await
        .iter()
        .map(|o| {
            format!(
                "{} {} {} {}",
                o["url"], o["visit_type"], o["is_fork"], o["enabled"]
            )
        })
        .collect()
}

async fn sigkill_at_random_moments_loses_nothing_and_never_moves_state_backwards(db: TestDatabase) {
    // Restarts cost requests: a quota large enough that only the kills interrupt the run.
    let quota = QuotaConfig {
        anonymous_limit: 1_000_000,
        ..QuotaConfig::default()
    };
    let forge = FakeForge::start_with(Config {
        github_repositories: 20_000,
        quota,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    // An uninterrupted run first, on the same backend: the database the crashed one must
    // match, and how long a whole run takes on this machine. Kills come within a fifth of
    // that, so each run gets at most a fifth of the way: every machine, however fast, sees
    // several kills (fixed delays let a fast machine finish after two).
    let reference = if db.is_postgres() {
        TestDatabase::postgres().await.expect("db is PostgreSQL")
    } else {
        TestDatabase::sqlite()
    };
    let started = Instant::now();
    let uninterrupted =
        run(lister(&reference.url).args(["-q", "run", "github", "--url", &url])).await;
    assert_eq!(uninterrupted.code, 0);
    let whole_run = started.elapsed();
    let mut seed: u64 = 0x5eed_1234;
    let (mut kills, mut saved) = (0, None);
    for round in 0.. {
        assert!(round < 300, "the listing never completed");
        let mut child = lister(&db.url)
            .args(["-q", "run", "github", "--url", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let after = whole_run.mul_f64(0.02 + 0.18 * ((seed >> 33) % 1000) as f64 / 1000.0);
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
    assert!(
        saved.is_some(),
        "a killed run saved a cursor: the state was read"
    );
    assert!(
        kills >= 3,
        "only {kills} kills in a run of {whole_run:?}: the test did not exercise crashes"
    );
    let (crashed, clean) = (content(&db.url).await, content(&reference.url).await);
    assert_eq!(crashed.len(), 20_000);
    assert_eq!(
        crashed, clean,
        "the crashed database differs from an uninterrupted run"
    );
    assert_eq!(
        exported(&db.url, "github").await.len(),
        20_000,
        "nothing twice"
    );
    reference.drop_database().await;
    db.drop_database().await;
}

async fn two_runs_of_one_instance_never_lose_origins_or_move_state_backwards(db: TestDatabase) {
    // Which run is refused, and how far it got, is a race: the quota is large enough that
    // only the state decides the outcome. `a_run_refused_at_its_first_commit_fetched_one_page`
    // (run_loop) checks what a refused run spends.
    let quota = QuotaConfig {
        anonymous_limit: 1_000,
        ..QuotaConfig::default()
    };
    let forge = FakeForge::start_with(Config {
        github_repositories: 3_000,
        quota,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    let mut one = lister(&db.url);
    one.args(["run", "github", "--url", &url]);
    let mut two = lister(&db.url);
    two.args(["run", "github", "--url", &url]);
    let (a, b) = tokio::join!(run(&mut one), run(&mut two));
    for out in [&a, &b] {
        let refused = out.code == 1 && out.stderr.contains("was changed by another run");
        assert!(out.code == 0 || refused, "{out:?}");
    }
    assert!(
        a.code == 0 || b.code == 0,
        "one of them finishes: {a:?}\n{b:?}"
    );
    let urls: BTreeSet<String> = exported(&db.url, "github")
        .await
        .iter()
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        urls,
        forge.github_html_urls().into_iter().collect(),
        "no origin lost"
    );
    assert_eq!(
        saved_cursor(&db.url).await,
        forge.github_ids().last().copied(),
        "state at the end"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_never_leaks_at_the_most_verbose_level() {
    let token = "ghp_S3CR3T_t0k3n_value";
    let db = TestDatabase::sqlite();
    let other = OtherHost::start().await.unwrap();
    let quota = QuotaConfig {
        reset_after: Duration::from_secs(2),
        ..QuotaConfig::default()
    };
    let fake = FakeForge::start_with(Config {
        quota,
        ..Config::default()
    })
    .await;
    // Served in this order (each once the previous is spent), the unparsable page last: it
    // stops the run, as a page that does not parse is not retried.
    for (fault, times, after) in [
        (Fault::Status(502), 2, 1),
        (
            Fault::SecondaryLimit {
                retry_after: Some(1),
            },
            1,
            1,
        ),
        (Fault::PrimaryLimit, 1, 1),
        (Fault::retry_after_seconds(429, 1), 1, 1),
        (Fault::OffHostNext(other.localhost_url()), 1, 1),
        (Fault::TruncatedJson, 1, 1),
    ] {
        fake.inject(fault, times, after);
    }
    // RUST_LOG=trace: every crate's most verbose output, HTTP internals included.
    let env = [("GITHUB_TOKEN", token), ("RUST_LOG", "trace")];
    let out = list(
        &db.url,
        Forge::GitHub,
        &fake,
        &["--log-format", "json"],
        &env,
    )
    .await;
    assert_eq!(out.code, 1, "the truncated page stops the run: {out:?}");
    assert!(out.stderr.contains("does not parse"), "{out:?}");
    // Eight requests serve the faults in turn (the eighth is the truncated page); up to
    // three more may go out while it parses (the walk parses up to three pages at once).
    assert!(
        (8..=11).contains(&fake.listing_requests()),
        "every fault was served: {out:?}"
    );
    assert!(
        out.stderr.contains(r#""level":"TRACE""#),
        "trace logs were written: {out:?}"
    );
    assert!(
        !out.stdout.contains(token) && !out.stderr.contains(token),
        "the token leaked into output"
    );
    // GitHub's `token` scheme (GitHub takes `Bearer` too).
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("token {token}"))),
        "{:?}",
        fake.requests()
            .iter()
            .map(|r| r.header("authorization"))
            .collect::<Vec<_>>()
    );
    assert!(!other.was_contacted(), "a request reached the other host");

    // Then the database: every byte of the SQLite files.
    let path = db.url.trim_start_matches("sqlite://");
    for file in [path.to_owned(), format!("{path}-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "the token is in {file}"
            );
        }
    }
    // A rerun of the same instance (its faults spent) resumes and completes the listing.
    let out = list(
        &db.url,
        Forge::GitHub,
        &fake,
        &["-vv"],
        &[("GITHUB_TOKEN", token)],
    )
    .await;
    assert_complete(&db.url, Forge::GitHub, &fake, &out).await;
    assert_eq!(out.summary()["origins_new"], 800, "{out:?}");
    assert!(!out.stderr.contains(token));
    db.drop_database().await;
}

lister_store::backend_tests!(
    sigkill_at_random_moments_loses_nothing_and_never_moves_state_backwards,
    two_runs_of_one_instance_never_lose_origins_or_move_state_backwards,
);
