//! End to end: list, then consume the queue with `lister queue grab/ack/stats`.

mod common;

use lister_store::testing::TestDatabase;

use std::collections::BTreeSet;

use common::{lister, run};
use lister_tests::fake_forge::{Config, FakeForge};

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

async fn grab_ack_and_stats_through_the_binary(db: TestDatabase) {
    let forge = FakeForge::start_with(Config {
        github_repositories: 120,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    assert_eq!(
        run(lister(&db.url).args(["run", "github", "--url", &url]))
            .await
            .code,
        0
    );

    let first = run(lister(&db.url).args([
        "queue",
        "grab",
        "--visit-type",
        "git",
        "--count",
        "50",
        "--lease",
        "10m",
    ]))
    .await;
    assert_eq!(first.code, 0, "{first:?}");
    let first = lines(&first.stdout);
    assert_eq!(first.len(), 50);
    for key in [
        "url",
        "visit_type",
        "lister",
        "instance",
        "last_update",
        "lease_token",
        "lease_expires_at",
    ] {
        assert!(
            first[0].get(key).is_some(),
            "{key} missing from {}",
            first[0]
        );
    }
    // No --instance: the instance is named after the URL's host and port.
    let instance = forge.addr().to_string();
    assert_eq!(
        (first[0]["lister"].as_str(), first[0]["instance"].as_str()),
        (Some("github"), Some(instance.as_str()))
    );
    let rest = run(lister(&db.url).args([
        "queue",
        "grab",
        "--visit-type",
        "git",
        "--count",
        "500",
        "--policy",
        "oldest_scheduled_first",
    ]))
    .await;
    let rest = lines(&rest.stdout);
    assert_eq!(rest.len(), 70, "only what is not leased");
    let urls: BTreeSet<&str> = first
        .iter()
        .chain(&rest)
        .map(|g| g["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 120, "no origin granted twice");

    let token = first[0]["lease_token"].as_str().unwrap();
    let ack = run(lister(&db.url).args([
        "queue",
        "ack",
        "--lease",
        token,
        "--status",
        "successful",
        "--at",
        "2026-01-02T03:04:05Z",
    ]))
    .await;
    assert_eq!(ack.code, 0, "{ack:?}");
    let acked = lines(&ack.stdout);
    assert_eq!(acked[0]["status"], "successful");
    let again =
        run(lister(&db.url).args(["queue", "ack", "--lease", token, "--status", "failed"])).await;
    assert_eq!(
        again.code, 1,
        "a second ack of the same lease is refused: {again:?}"
    );
    assert!(again.stderr.contains("is not held"), "{again:?}");
    let bad =
        run(lister(&db.url).args(["queue", "grab", "--visit-type", "git", "--policy", "random"]))
            .await;
    assert_eq!(bad.code, 2, "{bad:?}");

    let stats = run(lister(&db.url).args(["queue", "stats", "--json"])).await;
    let stats = lines(&stats.stdout);
    assert_eq!(stats.len(), 1);
    let row = &stats[0];
    assert_eq!(
        (row["known"].as_i64(), row["leased_now"].as_i64()),
        (Some(120), Some(119)),
        "{row}"
    );
    assert_eq!(row["never_visited"].as_i64(), Some(119), "{row}");
    let table = run(lister(&db.url).args(["queue", "stats"])).await;
    assert!(
        table
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("github/{instance}")),
        "{table:?}"
    );
    db.drop_database().await;
}

lister_store::backend_tests!(grab_ack_and_stats_through_the_binary,);
