//! End to end, `lister detect URL` and `lister run --url URL` without a forge name: the real
//! binary against the fake forge, where each forge has an address of its own and answers its
//! home page and version endpoints as the real one does.

mod common;

use lister_store::testing::TestDatabase;

use common::{exported, lister, run};
use lister_tests::fake_forge::{FORGEJO_VERSION, FakeForge, Site};

/// A database path for commands that open none.
fn no_database() -> String {
    std::env::temp_dir()
        .join("lister-detect-unused.db")
        .display()
        .to_string()
}

/// `lister detect ARGS…`, bounded in time, with every forge's token in the environment (none
/// may be sent).
async fn detect(args: &[&str]) -> common::Run {
    let mut command = lister(&no_database());
    command.arg("detect").args(args);
    for (variable, token) in [
        ("GITLAB_TOKEN", "glpat-secret-gitlab"),
        ("GITEA_TOKEN", "secret-gitea"),
        ("GITHUB_TOKEN", "ghp_secretgithub"),
        ("PHORGE_TOKEN", "api-secretphorge"),
    ] {
        command.env(variable, token);
    }
    tokio::time::timeout(std::time::Duration::from_secs(60), run(&mut command))
        .await
        .expect("lister detect must never hang")
}

#[tokio::test]
async fn every_forge_is_named_certain_in_at_most_four_requests() {
    let fake = FakeForge::start().await;
    let mut counts = Vec::new();
    for site in Site::ALL {
        fake.clear_requests();
        let url = fake.site_url(site);
        let out = detect(&[url.as_str()]).await;
        assert_eq!(out.code, 0, "{site:?}: {out:?}");
        // git.sr.ht's refusal is hg.sr.ht's too: a self-hosted sourcehut stays likely.
        let confidence = if site == Site::Sourcehut {
            "likely"
        } else {
            "certain"
        };
        let expected = format!("{} ({confidence}: ", site.forge());
        assert!(out.stdout.starts_with(&expected), "{site:?}: {out:?}");
        let requests = fake.requests();
        assert!(
            (1..=4).contains(&requests.len()),
            "{site:?}: {} requests: {:?}",
            requests.len(),
            requests
                .iter()
                .map(|r| &r.path_and_query)
                .collect::<Vec<_>>()
        );
        for request in &requests {
            assert!(
                request.path_and_query.starts_with(site.prefix()),
                "{site:?}: {} left the address given",
                request.path_and_query
            );
            assert!(
                request.header("authorization").is_none()
                    && request.header("private-token").is_none()
                    && !String::from_utf8_lossy(&request.body).contains("secret"),
                "{site:?}: a credential was sent to a forge not known yet"
            );
        }
        counts.push((site.forge(), requests.len()));
    }
    eprintln!("requests per forge: {counts:?}");
}

#[tokio::test]
async fn the_evidence_and_the_request_count_are_printed_as_json() {
    let fake = FakeForge::start().await;
    let url = fake.site_url(Site::Forgejo);
    let out = detect(&[url.as_str(), "--json"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    assert_eq!(summary["forge"], "forgejo");
    assert_eq!(summary["confidence"], "certain");
    assert_eq!(summary["supported"], true);
    let evidence = summary["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("/forgejo/api/v1/version") && evidence.contains(FORGEJO_VERSION),
        "{evidence}"
    );
    assert_eq!(summary["requests"], fake.requests().len() as u64);
    assert_eq!(
        summary["tried"].as_array().unwrap().len(),
        fake.requests().len()
    );

    // Gitea: its version alone does not rule out a Forgejo older than 7.0, which Forgejo's
    // own endpoint does.
    fake.clear_requests();
    let url = fake.site_url(Site::Gitea);
    let out = detect(&[url.as_str(), "--json"]).await;
    let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    assert_eq!(summary["forge"], "gitea", "{out:?}");
    let asked: Vec<String> = fake
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    assert!(
        asked.contains(&"/gitea/api/forgejo/v1/version".to_owned()),
        "{asked:?}"
    );
}

#[tokio::test]
async fn main_instances_are_known_by_host_without_a_request() {
    // No network here: a request would fail, and the command with it.
    for (url, forge) in [
        ("https://github.com", "github"),
        ("https://api.github.com/", "github"),
        ("https://bitbucket.org/atlassian", "bitbucket"),
        ("https://codeberg.org", "forgejo"),
        ("https://git.sr.ht/~sircmpwn/scdoc", "sourcehut"),
        ("https://hg.sr.ht", "sourcehut-hg"),
    ] {
        let out = detect(&[url, "--json"]).await;
        assert_eq!(out.code, 0, "{url}: {out:?}");
        let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
        assert_eq!(summary["forge"], forge, "{url}");
        assert_eq!(summary["requests"], 0, "{url}");
    }
}

#[tokio::test]
async fn nothing_known_fails_naming_the_address_and_what_was_tried() {
    let fake = FakeForge::start().await;
    let url = fake.base_url().join("nothing-here").unwrap();
    let out = detect(&[url.as_str()]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(out.stderr.contains(url.as_str()), "{out:?}");
    let sent = fake.requests();
    assert!(
        out.stderr
            .contains(&format!("tried {} requests", sent.len())),
        "{out:?}"
    );
    for request in &sent {
        assert!(out.stderr.contains(&request.path_and_query), "{out:?}");
    }

    let plain = detect(&["http://forge.example.org/"]).await;
    assert_eq!(
        plain.code, 2,
        "plain http off loopback is a usage error: {plain:?}"
    );
}

async fn run_without_a_forge_name_detects_it_and_lists_complete(db: TestDatabase) {
    let fake = FakeForge::start().await;
    let url = fake.site_url(Site::Forgejo);
    let mut command = lister(&db.url);
    command.args(["run", "--url", url.as_str(), "--json"]);
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), run(&mut command))
        .await
        .expect("lister must never hang");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("detected forgejo (certain: "),
        "the log says what was picked: {out:?}"
    );
    let instance = out.summary()["lister"].as_str().unwrap().to_owned();
    assert_eq!(instance, format!("forgejo/{}", fake.addr()), "{out:?}");
    assert_eq!(out.summary()["stopped"], "end_of_listing", "{out:?}");
    let mut listed: Vec<String> = exported(&db.url, "forgejo")
        .await
        .iter()
        .map(|origin| origin["url"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut expected: Vec<String> = fake
        .forgejo_origins(false)
        .into_iter()
        .map(|origin| origin.url)
        .collect();
    expected.sort();
    assert!(expected.len() >= 200, "several pages");
    assert_eq!(listed, expected, "PostgreSQL: {}", db.is_postgres());

    // Nothing to detect: a clear error, and nothing listed.
    let nowhere = fake.base_url().join("nothing-here").unwrap();
    let mut command = lister(&db.url);
    command.args(["run", "--url", nowhere.as_str()]);
    let out = run(&mut command).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("name the forge"), "{out:?}");
    db.drop_database().await;
}

#[tokio::test]
async fn a_self_hosted_sourcehut_is_likely_from_its_graphql_endpoint() {
    let fake = FakeForge::start().await;
    let url = fake.sourcehut_url();
    let out = detect(&[url.as_str(), "--json"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let summary: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    assert_eq!(summary["forge"], "sourcehut", "{out:?}");
    assert_eq!(summary["confidence"], "likely", "hg.sr.ht answers alike");
    let evidence = summary["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("POST /sourcehut/query")
            && evidence.contains("Authorization header is required"),
        "{evidence}"
    );
    let sent = fake.requests();
    let last = sent.last().unwrap();
    assert_eq!(last.path_and_query, "/sourcehut/query");
    assert_eq!(summary["requests"], sent.len() as u64);
    assert!(
        sent.len() <= 4,
        "the home page's sourcehut icon sends /query first: {:?}",
        sent.iter().map(|r| &r.path_and_query).collect::<Vec<_>>()
    );
    assert!(sent.iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn a_stagit_index_is_named_from_the_first_request() {
    let fake = FakeForge::start().await;
    let out = detect(&[fake.stagit_url().as_str()]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("stagit (certain: "), "{out:?}");
    let sent = fake.requests();
    let sent: Vec<&str> = sent.iter().map(|r| r.path_and_query.as_str()).collect();
    assert_eq!(
        sent,
        ["/stagit/?format=JSON"],
        "the index answers the first probe"
    );
}

lister_store::backend_tests!(run_without_a_forge_name_detects_it_and_lists_complete,);
