//! End to end: `--rate` and `--max-concurrency` bound the requests a run sends to an instance,
//! and out-of-range values are usage errors.

mod common;

use common::{Forge, assert_complete, list, lister, run};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::FakeForge;

/// Eleven requests at 20 a second cannot start within half a second: the run waits for its
/// turns, and still lists everything. (A lower bound only: a slow machine cannot break it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_spaces_the_requests_and_the_listing_completes() {
    let db = TestDatabase::sqlite();
    let fake = FakeForge::start().await;
    let started = std::time::Instant::now();
    let args = ["--rate", "20", "--max-concurrency", "1"];
    let out = list(&db.url, Forge::GitHub, &fake, &args, &[]).await;
    let took = started.elapsed();
    assert_complete(&db.url, Forge::GitHub, &fake, &out).await;
    let requests = out.summary()["requests"].as_u64().unwrap();
    assert!(requests >= 11, "{out:?}");
    let least = std::time::Duration::from_secs_f64((requests - 1) as f64 / 20.0);
    assert!(
        took >= least,
        "{requests} requests at 20 a second took {took:?}"
    );
}

#[tokio::test]
async fn politeness_values_out_of_range_are_usage_errors() {
    let db = TestDatabase::sqlite();
    for (flag, value, says) in [
        (
            "--rate",
            "0",
            "--rate needs a number of requests a second above 0",
        ),
        (
            "--rate",
            "nan",
            "--rate needs a number of requests a second above 0",
        ),
        (
            "--max-concurrency",
            "0",
            "invalid value '0' for '--max-concurrency <N>'",
        ),
        (
            "--max-concurrency",
            "65",
            "invalid value '65' for '--max-concurrency <N>'",
        ),
    ] {
        let out = run(lister(&db.url).args(["run", "github", flag, value])).await;
        assert_eq!(out.code, 2, "{flag} {value}: {out:?}");
        assert!(out.stderr.contains(says), "{flag} {value}: {out:?}");
    }
}
