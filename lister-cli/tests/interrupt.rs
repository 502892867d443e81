//! End to end: Ctrl-C in the middle of a listing, then a rerun.

mod common;

use lister_store::testing::TestDatabase;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{exported, lister, run};
use lister_tests::fake_forge::{Config, FakeForge, Fault};

async fn sigint_aborts_the_page_in_flight_commits_the_fetched_ones_and_a_rerun_completes(
    db: TestDatabase,
) {
    let forge = FakeForge::start_with(Config {
        github_repositories: 3_000,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    let ids = forge.github_ids();
    // The 11th page answers far later than the test waits, so the signal arrives while
    // it is in flight, and the run ends only if the request is aborted.
    forge.inject(Fault::Delay(Duration::from_secs(60)), 1, 10);
    let child = lister(&db.url)
        .args(["run", "github", "--url", &url, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while forge.listing_requests() < 11 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run never reached page 11"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let signalled = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the request in flight is aborted: the run does not wait for it")
        .unwrap();
    assert!(signalled.elapsed() < Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["stopped"], "cancelled");
    assert_eq!(
        (summary["pages"].as_u64(), summary["requests"].as_u64()),
        (Some(10), Some(11)),
        "the ten pages fetched were committed, the one in flight abandoned: {summary}"
    );
    assert_eq!(summary["origins_new"], 1_000);
    assert_eq!(summary["saved_cursor"], ids[999].to_string());

    forge.clear_requests();
    let rerun = run(lister(&db.url).args(["run", "github", "--url", &url, "--json"])).await;
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert_eq!(
        rerun.summary()["origins_new"],
        2_000,
        "nothing listed twice"
    );
    let first = &forge.requests()[0].path_and_query;
    assert_eq!(
        first,
        &format!("/api/v3/repositories?since={}", ids[999]),
        "resumed after the last committed page"
    );
    let listed: BTreeSet<String> = exported(&db.url, "github")
        .await
        .iter()
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        listed,
        forge.github_html_urls().into_iter().collect(),
        "nothing missing"
    );
    db.drop_database().await;
}

lister_store::backend_tests!(
    sigint_aborts_the_page_in_flight_commits_the_fetched_ones_and_a_rerun_completes,
);
