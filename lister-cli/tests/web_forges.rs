//! cgit and gitweb, the real ones (Debian's packages under lighttpd, on a loopback port, over
//! real bare repositories; `web/mod.rs`), listed end to end by the real `lister` binary on
//! SQLite and PostgreSQL: every repository shown, with its https clone URL, across cgit's
//! index pages; a rerun finds what was added and keeps the rest.

mod common;
mod web;

use std::collections::BTreeSet;

use common::{Run, exported, lister, run};
use lister_store::testing::TestDatabase;
use web::{CGIT_PAGE, WebForges};

/// `lister run FORGE --url URL --json`, bounded in time.
async fn list(db: &str, forge: &str, url: &str) -> Run {
    let mut command = lister(db);
    command.args(["run", forge, "--url", url, "--json"]);
    let run = tokio::time::timeout(std::time::Duration::from_secs(120), run(&mut command));
    run.await.expect("lister must never hang")
}

/// The origins listed, as `lister origins` exports them.
async fn listed(db: &str, forge: &str) -> Vec<serde_json::Value> {
    let listed = exported(db, forge).await;
    assert!(
        listed.iter().all(|o| o["visit_type"] == "git"),
        "{listed:?}"
    );
    listed
}

fn urls(listed: &[serde_json::Value]) -> BTreeSet<String> {
    let urls: BTreeSet<String> = listed
        .iter()
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), listed.len(), "an origin listed twice");
    urls
}

fn assert_ended(out: &Run) {
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.summary()["stopped"], "end_of_listing", "{out:?}");
    assert_eq!(out.summary()["items_rejected"], 0, "{out:?}");
}

lister_store::backend_tests!(
    cgit_lists_every_repository_across_its_index_pages_and_reruns_from_the_last,
    gitweb_lists_every_project_with_its_clone_url_and_last_change,
    a_base_git_url_lists_from_the_index_alone,
);

async fn cgit_lists_every_repository_across_its_index_pages_and_reruns_from_the_last(
    db: TestDatabase,
) {
    {
        let mut forges = WebForges::start();
        let url = forges.cgit_url();
        let out = list(&db.url, "cgit", &url).await;
        assert_ended(&out);
        let first = listed(&db.url, "cgit").await;
        assert_eq!(
            urls(&first),
            forges.expected_cgit_urls(),
            "PostgreSQL: {}",
            db.is_postgres()
        );
        assert!(urls(&first).contains("https://git.example.org/with%20space.git"));
        // Dated by the index's "Idle" column.
        assert!(
            first.iter().all(|o| o["last_update"].is_string()),
            "{first:?}"
        );
        // Index pages of 50 (a few hundred repositories), then one summary page a repository.
        let shown = forges.shown();
        assert!(shown > 200, "{shown}");
        let pages = shown.div_ceil(CGIT_PAGE);
        assert_eq!(out.summary()["pages"], pages, "{out:?}");
        assert_eq!(out.summary()["requests"], pages + shown, "{out:?}");
        // A section sorts after the top-level repositories: one added there is on the last
        // index page, which the rerun asks again (with its summaries) and nothing before it.
        forges.add_repository("zz/late.git");
        let again = list(&db.url, "cgit", &url).await;
        assert_ended(&again);
        let last_page = shown + 1 - (pages - 1) * CGIT_PAGE;
        assert_eq!(again.summary()["requests"], 1 + last_page, "{again:?}");
        assert_eq!(
            urls(&listed(&db.url, "cgit").await),
            forges.expected_cgit_urls()
        );
    }
}

async fn gitweb_lists_every_project_with_its_clone_url_and_last_change(db: TestDatabase) {
    {
        let mut forges = WebForges::start();
        let url = forges.gitweb_url();
        let out = list(&db.url, "gitweb", &url).await;
        assert_ended(&out);
        let first = listed(&db.url, "gitweb").await;
        assert_eq!(
            urls(&first),
            forges.expected_urls(),
            "PostgreSQL: {}",
            db.is_postgres()
        );
        assert!(
            first.iter().all(|o| o["last_update"].is_string()),
            "{first:?}"
        );
        // The project index, then one summary page a project.
        let shown = forges.shown();
        assert_eq!(out.summary()["requests"], 1 + shown, "{out:?}");
        forges.add_repository("group/late.git");
        let again = list(&db.url, "gitweb", &url).await;
        assert_ended(&again);
        assert_eq!(
            urls(&listed(&db.url, "gitweb").await),
            forges.expected_urls()
        );
        assert_eq!(again.summary()["requests"], 2 + shown, "{again:?}");
    }
}

/// `--base-git-url`: each repository's origin is the base followed by its path, from the
/// index alone (no summary page asked for); forges whose pages name no path refuse it.
async fn a_base_git_url_lists_from_the_index_alone(db: TestDatabase) {
    let forges = WebForges::start();
    let base = format!("https://{}/", web::CLONE_HOST);
    for (forge, url) in [("cgit", forges.cgit_url()), ("gitweb", forges.gitweb_url())] {
        let mut command = lister(&db.url);
        command.args([
            "run",
            forge,
            "--url",
            &url,
            "--base-git-url",
            &base,
            "--json",
        ]);
        let out = run(&mut command).await;
        assert_ended(&out);
        let expected = match forge {
            "cgit" => forges.expected_cgit_urls(),
            _ => forges.expected_urls(),
        };
        assert_eq!(urls(&listed(&db.url, forge).await), expected, "{forge}");
        let index_pages = match forge {
            "cgit" => forges.shown().div_ceil(CGIT_PAGE),
            _ => 1,
        };
        assert_eq!(out.summary()["requests"], index_pages, "{forge}: {out:?}");
    }
    let mut command = lister(&db.url);
    command.args(["run", "gitlab", "--url", "https://gitlab.example.org"]);
    let refused = run(command.args(["--base-git-url", &base])).await;
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("--base-git-url applies to cgit and gitweb only"),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn detect_names_the_real_cgit_and_gitweb_as_listable() {
    let forges = WebForges::start();
    let db = std::env::temp_dir().join(format!("lister-web-detect-{}.db", std::process::id()));
    for (url, name) in [(forges.cgit_url(), "cgit"), (forges.gitweb_url(), "gitweb")] {
        let out = run(lister(db.to_str().unwrap()).args(["detect", &url])).await;
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.starts_with(name), "{out:?}");
        assert!(!out.stdout.contains("cannot list"), "{out:?}");
    }
}
