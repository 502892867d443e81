//! GitHub App authentication end to end: the real `lister` binary lists the fake GitHub as an
//! app's installation, on SQLite and PostgreSQL. The app's JWT buys an installation token
//! (`POST /app/installations/{id}/access_tokens`), every listing request carries that token,
//! and neither the key, the JWT nor the token shows in the output or the database.

mod common;

use common::{exported, lister, run};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::github_app::{APP_ID, INSTALLATION_ID, PRIVATE_KEY_FILE};
use lister_tests::fake_forge::{Config, FakeForge};

lister_store::backend_tests!(an_app_installation_lists_with_the_token_it_minted);

async fn an_app_installation_lists_with_the_token_it_minted(db: TestDatabase) {
    let forge = FakeForge::start_with(Config {
        github_repositories: 350,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    let app = |installation: u64| {
        let mut command = lister(&db.url);
        command.args(["run", "github", "--url", &url, "--json"]);
        command.env("GITHUB_APP_ID", APP_ID);
        command.env("GITHUB_APP_INSTALLATION_ID", installation.to_string());
        command.env("GITHUB_APP_PRIVATE_KEY_FILE", PRIVATE_KEY_FILE);
        command
    };
    let out = run(&mut app(INSTALLATION_ID)).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.summary()["origins_new"], 350, "{out:?}");
    let minted = forge.github_app_tokens();
    assert_eq!(minted.len(), 1, "one token for the whole run: {minted:?}");
    let requests = forge.requests();
    let (mint, listing) = requests.split_first().unwrap();
    assert_eq!(mint.method, http::Method::POST);
    assert_eq!(
        mint.path_and_query,
        format!("/api/v3/app/installations/{INSTALLATION_ID}/access_tokens"),
        "under the Enterprise API base, as the listing"
    );
    let expected = format!("token {}", minted[0]);
    assert!(listing.len() >= 4, "{}", listing.len());
    assert!(
        listing
            .iter()
            .all(|r| r.header("authorization") == Some(expected.as_str())),
        "every listing request carries the installation token"
    );
    // Secrets stay out of what a user or a consumer sees.
    let key = std::fs::read_to_string(PRIVATE_KEY_FILE).unwrap();
    let key_line = key.lines().nth(1).unwrap();
    let jwt = mint
        .header("authorization")
        .unwrap()
        .trim_start_matches("Bearer ");
    let exported = serde_json::to_string(&exported(&db.url, "github").await).unwrap();
    for seen in [&out.stdout, &out.stderr, &exported] {
        for secret in [minted[0].as_str(), key_line, jwt] {
            assert!(!seen.contains(secret), "a secret leaked");
        }
    }

    // An installation the app does not have: the run stops, naming what failed, and no
    // listing request goes out without the token.
    forge.clear_requests();
    let refused = run(&mut app(INSTALLATION_ID + 1)).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("minting the GitHub App's installation token failed (HTTP 404"),
        "{refused:?}"
    );
    assert_eq!(forge.requests().len(), 1, "only the token request");
    db.drop_database().await;
}
