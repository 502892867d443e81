//! End to end: the real `lister` binary against the fake forge, on SQLite and PostgreSQL.

mod common;

use lister_store::testing::TestDatabase;

use std::collections::BTreeSet;

use common::{exported, lister, run};
use lister_tests::fake_forge::{Config, FakeForge, GithubEnd, QuotaKey};

fn urls(origins: &[serde_json::Value]) -> BTreeSet<String> {
    origins
        .iter()
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect()
}

async fn github_full_listing_then_incremental_reruns(db: TestDatabase) {
    let forge = FakeForge::start_with(Config {
        github_repositories: 2_345,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    let first = run(lister(&db.url).args(["run", "github", "--url", &url, "--json"])).await;
    assert_eq!(first.code, 0, "{first:?}");
    let summary = first.summary();
    assert_eq!(summary["origins_new"], 2_345, "{summary}");
    assert_eq!(
        summary["pages"], 25,
        "24 pages of repositories and the empty last page"
    );
    assert_eq!(summary["requests"], 25, "no page fetched twice");
    assert_eq!(summary["stopped"], "end_of_listing");
    assert_eq!(summary["items_rejected"], 0);
    assert_eq!(summary["error"], serde_json::Value::Null);
    let listed = exported(&db.url, "github").await;
    assert_eq!(listed.len(), 2_345);
    assert_eq!(
        urls(&listed),
        forge.github_html_urls().into_iter().collect()
    );
    assert!(
        listed.iter().any(|o| o["is_fork"] == true)
            && listed.iter().all(|o| o["visit_type"] == "git")
    );

    // Nothing new: one conditional request, answered 304 (no quota used on GitHub).
    forge.clear_requests();
    let again = run(lister(&db.url).args(["run", "github", "--url", &url, "--json"])).await;
    let summary = again.summary();
    assert_eq!(
        (
            summary["requests"].as_u64(),
            summary["not_modified"].as_u64()
        ),
        (Some(1), Some(1)),
        "{again:?}"
    );
    assert_eq!(summary["origins_new"], 0);
    let sent = forge.requests();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].header("if-none-match").is_some(),
        "the rerun is conditional"
    );
    assert!(
        sent[0]
            .path_and_query
            .starts_with("/api/v3/repositories?since="),
        "an address other than github.com is a GitHub Enterprise Server: {}",
        sent[0].path_and_query
    );

    // New repositories appear: the rerun lists exactly them.
    forge.add_github_repositories(150);
    let more = run(lister(&db.url).args(["run", "github", "--url", &url, "--json"])).await;
    assert_eq!(more.code, 0, "{more:?}");
    assert_eq!(more.summary()["origins_new"], 150);
    assert_eq!(exported(&db.url, "github").await.len(), 2_495);
    db.drop_database().await;
}

async fn bitbucket_full_listing(db: TestDatabase) {
    let forge = FakeForge::start_with(Config {
        bitbucket_repositories: 1_234,
        ..Config::default()
    })
    .await;
    let url = forge.bitbucket_url().to_string();
    let done = run(lister(&db.url).args(["run", "bitbucket", "--url", &url, "--json"])).await;
    assert_eq!(done.code, 0, "{done:?}");
    let summary = done.summary();
    assert_eq!(
        (summary["origins_new"].as_u64(), summary["pages"].as_u64()),
        (Some(1_234), Some(13)),
        "{summary}"
    );
    let listed = exported(&db.url, "bitbucket").await;
    assert_eq!(listed.len(), 1_234);
    assert!(
        listed.iter().any(|o| o["enabled"] == false),
        "private repositories are disabled"
    );
    assert!(listed.iter().any(|o| o["visit_type"] == "hg"));
    assert!(listed.iter().all(|o| o["last_update"].is_string()));
    let sent = forge.requests();
    assert!(
        sent[0].path_and_query.contains("fields="),
        "{}",
        sent[0].path_and_query
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_enterprise_paths_and_a_last_page_without_next_link() {
    let db = lister_store::testing::TestDatabase::sqlite();
    let forge = FakeForge::start_with(Config {
        github_repositories: 250,
        github_end: GithubEnd::NoNextLink,
        ..Config::default()
    })
    .await;
    let url = forge.github_enterprise_url().to_string();
    let done = run(lister(&db.url).args([
        "run",
        "github",
        "--instance",
        "ghe",
        "--url",
        &url,
        "--json",
    ]))
    .await;
    assert_eq!(done.code, 0, "{done:?}");
    assert_eq!(
        (
            done.summary()["origins_new"].as_u64(),
            done.summary()["pages"].as_u64()
        ),
        (Some(250), Some(3))
    );
    assert!(
        forge
            .requests()
            .iter()
            .all(|r| r.path_and_query.starts_with("/api/v3/repositories"))
    );
    let listers = run(lister(&db.url).args(["listers", "--json"])).await;
    let row: serde_json::Value =
        serde_json::from_str(listers.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        (row["lister"]["instance"].as_str(), row["origins"].as_u64()),
        (Some("ghe"), Some(250))
    );
    assert!(row["last_listing_finished_at"].is_string());
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relisting_a_range_leaves_the_incremental_state_alone() {
    let db = lister_store::testing::TestDatabase::sqlite();
    let forge = FakeForge::start_with(Config {
        github_repositories: 1_000,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    let ids = forge.github_ids();
    let partial =
        run(lister(&db.url).args(["run", "github", "--url", &url, "--max-pages", "2", "--json"]))
            .await;
    assert_eq!(partial.summary()["stopped"], "max_pages");
    let saved = partial.summary()["saved_cursor"].clone();
    assert_eq!(saved, ids[199].to_string());

    let (first, last) = (ids[499].to_string(), ids[799].to_string());
    let range = run(lister(&db.url).args([
        "run",
        "github",
        "--url",
        &url,
        "--first-id",
        &first,
        "--last-id",
        &last,
        "--json",
    ]))
    .await;
    assert_eq!(range.code, 0, "{range:?}");
    let summary = range.summary();
    assert_eq!(
        (summary["stopped"].as_str(), summary["origins_new"].as_u64()),
        (Some("end_of_range"), Some(300))
    );
    let listers = run(lister(&db.url).args(["listers", "--json"])).await;
    let row: serde_json::Value =
        serde_json::from_str(listers.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        row["state"]["cursor"].to_string(),
        saved.as_str().unwrap(),
        "state untouched by the range"
    );
}

/// The `listers --json` rows as (instance, origins).
async fn instances(db: &str) -> Vec<(String, u64)> {
    let out = run(lister(db).args(["listers", "--json"])).await;
    assert_eq!(out.code, 0, "{out:?}");
    out.stdout
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                row["lister"]["instance"].as_str().unwrap().to_owned(),
                row["origins"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_name_defaults_to_the_host_and_port_of_the_url() {
    let db = lister_store::testing::TestDatabase::sqlite();
    let forge = FakeForge::start_with(Config {
        github_repositories: 250,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    let host_port = forge.addr().to_string();
    let dir = std::env::temp_dir().join(format!("lister-run-instance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // No --instance: the instance is `127.0.0.1:PORT`, and its configuration section is
    // looked up by that name.
    let by_host = dir.join("by-host.toml");
    std::fs::write(
        &by_host,
        format!("[listers.github.\"{host_port}\"]\nmax_pages = 1\n"),
    )
    .unwrap();
    let config = by_host.to_str().unwrap();
    let out =
        run(lister(&db.url).args(["--config", config, "run", "github", "--url", &url, "--json"]))
            .await;
    assert_eq!(out.code, 0, "{out:?}");
    let summary = out.summary();
    assert_eq!(
        summary["lister"],
        format!("github/{host_port}"),
        "{summary}"
    );
    assert_eq!(
        (summary["stopped"].as_str(), summary["pages"].as_u64()),
        (Some("max_pages"), Some(1)),
        "the section [listers.github.\"{host_port}\"] applies: {summary}"
    );
    let table = run(lister(&db.url).arg("listers")).await;
    assert!(
        table
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("github/{host_port}")),
        "{table:?}"
    );

    // --instance names it instead (and that section does not apply).
    let out = run(lister(&db.url).args([
        "--config",
        config,
        "run",
        "github",
        "--url",
        &url,
        "--instance",
        "mine",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        (
            out.summary()["lister"].as_str(),
            out.summary()["stopped"].as_str()
        ),
        (Some("github/mine"), Some("end_of_listing")),
        "{out:?}"
    );

    // Neither --url nor --instance: the instance `default`, at its configured address.
    let default = dir.join("default.toml");
    std::fs::write(
        &default,
        format!("[listers.github.default]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    let out = run(lister(&db.url).args([
        "--config",
        default.to_str().unwrap(),
        "run",
        "github",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.summary()["lister"], "github/default", "{out:?}");

    let mut rows = instances(&db.url).await;
    rows.sort();
    let mut expected = vec![
        (host_port.clone(), 100),
        ("mine".to_owned(), 250),
        ("default".to_owned(), 250),
    ];
    expected.sort();
    assert_eq!(rows, expected, "three instances, each with its own state");
    db.drop_database().await;
}

/// `--full-pass` asks conditionally too. Over a forge that did not change, every page answers
/// `304`, which spends no quota (an authorized `304` on GitHub) and disables nothing: each
/// page's origins count as seen. Once the forge removed repositories, the pages that held them
/// answer `200` without them, the others `304`, and the pass disables exactly the removed.
async fn a_full_pass_with_304s_disables_exactly_what_the_forge_removed(db: TestDatabase) {
    const TOKEN: &str = "full-pass-token";
    let forge = FakeForge::start_with(Config {
        github_repositories: 450,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    let quota = QuotaKey::token(TOKEN);
    let list = |full_pass: bool| {
        let mut command = lister(&db.url);
        command
            .args(["run", "github", "--url", &url, "--json"])
            .env("GITHUB_TOKEN", TOKEN);
        if full_pass {
            command.arg("--full-pass");
        }
        async move { run(&mut command).await }
    };
    let first = list(false).await;
    assert_eq!(first.code, 0, "{first:?}");
    // 5 pages of repositories and the empty last page.
    assert_eq!(first.summary()["requests"], 6, "{first:?}");
    let disabled = |listed: &[serde_json::Value]| -> BTreeSet<String> {
        let disabled = listed.iter().filter(|o| o["enabled"] == false);
        urls(&disabled.cloned().collect::<Vec<_>>())
    };

    // Unchanged: 6 requests, all 304, no quota, nothing disabled, every origin seen.
    let spent = forge.quota_used(&quota);
    let unchanged = list(true).await;
    assert_eq!(unchanged.code, 0, "{unchanged:?}");
    let summary = unchanged.summary();
    let figures = [
        "requests",
        "not_modified",
        "origins_seen",
        "origins_disabled",
    ]
    .map(|figure| summary[figure].as_u64());
    assert_eq!(
        figures,
        [Some(6), Some(6), Some(450), Some(0)],
        "{unchanged:?}"
    );
    assert_eq!(forge.quota_used(&quota) - spent, 0, "no quota spent");
    assert!(disabled(&exported(&db.url, "github").await).is_empty());

    // Four repositories removed from three pages (none the last of its page).
    let removed = [7, 150, 151, 333];
    forge.remove_github_repositories(removed);
    let spent = forge.quota_used(&quota);
    let shrunk = list(true).await;
    assert_eq!(shrunk.code, 0, "{shrunk:?}");
    let summary = shrunk.summary();
    let figures = ["requests", "not_modified", "origins_disabled"].map(|f| summary[f].as_u64());
    assert_eq!(figures, [Some(6), Some(3), Some(4)], "{shrunk:?}");
    assert_eq!(
        forge.quota_used(&quota) - spent,
        3,
        "the changed pages only"
    );
    let listed = exported(&db.url, "github").await;
    assert_eq!(listed.len(), 450, "disabled origins stay known");
    let expected: BTreeSet<String> = removed.map(|k| forge.github_html_url(k)).into();
    assert_eq!(disabled(&listed), expected);
    let enabled: BTreeSet<String> = listed
        .iter()
        .filter(|o| o["enabled"] == true)
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(enabled, forge.github_html_urls().into_iter().collect());

    // Unchanged again: all 304, no quota, and the removed stay disabled.
    let spent = forge.quota_used(&quota);
    let again = list(true).await;
    let summary = again.summary();
    let figures = ["not_modified", "origins_disabled"].map(|f| summary[f].as_u64());
    assert_eq!(figures, [Some(6), Some(0)], "{again:?}");
    assert_eq!(forge.quota_used(&quota) - spent, 0);
    assert_eq!(disabled(&exported(&db.url, "github").await), expected);
    db.drop_database().await;
}

lister_store::backend_tests!(
    github_full_listing_then_incremental_reruns,
    bitbucket_full_listing,
    a_full_pass_with_304s_disables_exactly_what_the_forge_removed,
);
