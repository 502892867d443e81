//! hgweb, the real one (Debian's Mercurial, `hg serve --web-conf` on a loopback port, over
//! repositories made by `hg init`; `hg/mod.rs`), listed end to end by the real `lister`
//! binary on SQLite and PostgreSQL: every repository of the index, of its collection and of
//! its sub-directories (walked), with the URL the index links, trailing slash included, and
//! visit type `hg`; a rerun finds what was added deep in the tree and keeps the rest.

mod common;
mod hg;

use std::collections::BTreeSet;

use common::{Run, exported, lister, run};
use hg::{DIRECTORIES, Hgweb, REPOSITORIES};
use lister_store::testing::TestDatabase;

/// `lister run hgweb --url URL --json`, bounded in time.
async fn list(db: &str, url: &str) -> Run {
    let mut command = lister(db);
    command.args(["run", "hgweb", "--url", url, "--json"]);
    let run = tokio::time::timeout(std::time::Duration::from_secs(120), run(&mut command));
    run.await.expect("lister must never hang")
}

/// The URLs listed, each once, every one an `hg` origin with its last change.
async fn listed(db: &str) -> BTreeSet<String> {
    let listed = exported(db, "hgweb").await;
    assert!(
        listed
            .iter()
            .all(|o| o["visit_type"] == "hg" && o["last_update"].is_string()),
        "{listed:?}"
    );
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

lister_store::backend_tests!(hgweb_lists_every_repository_of_its_tree_and_reruns_consistently,);

async fn hgweb_lists_every_repository_of_its_tree_and_reruns_consistently(db: TestDatabase) {
    let mut server = Hgweb::start();
    let url = server.url();
    let out = list(&db.url, &url).await;
    assert_ended(&out);
    let first = listed(&db.url).await;
    assert_eq!(
        first,
        server.expected_urls(),
        "PostgreSQL: {}",
        db.is_postgres()
    );
    for odd in [
        "with%20space/",
        "caf%C3%A9/",
        "odd%2Bname%26%281%29/",
        "cdir/coll-deep/",
    ] {
        assert!(first.contains(&format!("{url}{odd}")), "{odd}: {first:?}");
    }
    assert!(!first.iter().any(|u| u.contains("hidden")), "web.hidden");
    assert_eq!(
        first.len(),
        REPOSITORIES.len() + hg::COLLECTION.len() + hg::BULK
    );
    // The index, then one request a directory; one page, committed with the whole tree.
    assert_eq!(out.summary()["pages"], 1, "{out:?}");
    assert_eq!(out.summary()["requests"], 1 + DIRECTORIES, "{out:?}");
    // A repository added two directories down: the rerun walks the tree again and finds it.
    server.add_repository("group/deeper/late one");
    let again = list(&db.url, &url).await;
    assert_ended(&again);
    assert_eq!(again.summary()["requests"], 1 + DIRECTORIES, "{again:?}");
    let second = listed(&db.url).await;
    assert_eq!(second, server.expected_urls());
    assert_eq!(second.len(), first.len() + 1);
    assert!(second.contains(&format!("{url}group/deeper/late%20one/")));
}

#[tokio::test(flavor = "multi_thread")]
async fn detect_names_the_real_hgweb_as_listable() {
    let server = Hgweb::start();
    let db = std::env::temp_dir().join(format!("lister-hgweb-detect-{}.db", std::process::id()));
    let out = run(lister(db.to_str().unwrap()).args(["detect", &server.url()])).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("hgweb (certain: "), "{out:?}");
    assert!(!out.stdout.contains("cannot list"), "{out:?}");
}
