//! End to end, every forge besides GitHub and Bitbucket: the real `lister` binary against the
//! fake forge, on SQLite and PostgreSQL. Each forge lists complete (exactly the origins the
//! fake says a correct lister records), reruns incrementally, and survives or reports faults.

mod common;

use lister_store::testing::TestDatabase;

use common::{Run, exported, lister, run};
use lister_tests::fake_forge::{ExpectedOrigin, FakeForge, Fault};

/// A 32-character Conduit token.
const CONDUIT_TOKEN: &str = "api-abcdefghijklmnopqrstuvwxyz01";

/// A token of sourcehut's OAuth 2.0 shape (sourcehut refuses others with a 400).
const SOURCEHUT_TOKEN: &str = "AIAAqB6sNYw4qd3o0zVSDb0HlZsLP+Bx9iyS2dhRdD0VAGxpc3Rlcg";

/// One forge of this file, as a test drives it.
#[derive(Clone, Copy, Debug)]
enum Forge {
    GitLab,
    Heptapod,
    Gitea,
    Forgejo,
    Gogs,
    Phabricator,
    Phorge,
    BitbucketServer,
    Gitiles,
    Pagure,
    Gerrit,
    Launchpad,
    LaunchpadBzr,
    Tuleap,
    Grokmirror,
    Sourcehut,
    SourcehutHg,
    Stagit,
    Sourceforge,
}

const ALL: [Forge; 19] = [
    Forge::GitLab,
    Forge::Heptapod,
    Forge::Gitea,
    Forge::Forgejo,
    Forge::Gogs,
    Forge::Phabricator,
    Forge::Phorge,
    Forge::BitbucketServer,
    Forge::Gitiles,
    Forge::Pagure,
    Forge::Gerrit,
    Forge::Launchpad,
    Forge::LaunchpadBzr,
    Forge::Grokmirror,
    Forge::Tuleap,
    Forge::Sourcehut,
    Forge::SourcehutHg,
    Forge::Stagit,
    Forge::Sourceforge,
];

impl Forge {
    fn name(self) -> &'static str {
        match self {
            Forge::GitLab => "gitlab",
            Forge::Heptapod => "heptapod",
            Forge::Gitea => "gitea",
            Forge::Forgejo => "forgejo",
            Forge::Gogs => "gogs",
            Forge::Phabricator => "phabricator",
            Forge::Phorge => "phorge",
            Forge::BitbucketServer => "bitbucket-server",
            Forge::Gitiles => "gitiles",
            Forge::Pagure => "pagure",
            Forge::Gerrit => "gerrit",
            Forge::Launchpad => "launchpad",
            Forge::LaunchpadBzr => "launchpad-bzr",
            Forge::Tuleap => "tuleap",
            Forge::Grokmirror => "grokmirror",
            Forge::Sourcehut => "sourcehut",
            Forge::SourcehutHg => "sourcehut-hg",
            Forge::Stagit => "stagit",
            Forge::Sourceforge => "sourceforge",
        }
    }

    /// The address a user would give: the instance's web root.
    fn url(self, fake: &FakeForge) -> String {
        let url = match self {
            Forge::GitLab => fake.gitlab_url(),
            Forge::Heptapod => fake.heptapod_url(),
            Forge::Gitea => fake.gitea_url(),
            Forge::Forgejo => fake.forgejo_url(),
            Forge::Gogs => fake.gogs_url(),
            Forge::Phabricator => fake.phabricator_url(),
            Forge::Phorge => fake.phorge_url(),
            Forge::BitbucketServer => fake.bitbucket_server_url(),
            Forge::Gitiles => fake.gitiles_url(),
            Forge::Pagure => fake.pagure_url(),
            Forge::Gerrit => fake.gerrit_url(),
            Forge::Launchpad | Forge::LaunchpadBzr => fake.launchpad_url(),
            Forge::Tuleap => fake.tuleap_url(),
            Forge::Grokmirror => fake.grokmirror_url(),
            Forge::Sourcehut => fake.sourcehut_url(),
            Forge::SourcehutHg => fake.sourcehut_hg_url(),
            Forge::Stagit => fake.stagit_url(),
            Forge::Sourceforge => fake.sourceforge_url(),
        };
        url.to_string()
    }

    /// The token variable and a token, as a user sets them.
    fn token(self) -> (String, &'static str) {
        let variable = format!(
            "{}_TOKEN",
            self.name().to_ascii_uppercase().replace('-', "_")
        );
        match self {
            Forge::Phabricator | Forge::Phorge => (variable, CONDUIT_TOKEN),
            Forge::Sourcehut | Forge::SourcehutHg => (variable, SOURCEHUT_TOKEN),
            _ => (variable, "glpat-0123456789abcdef"),
        }
    }

    /// What a correct lister records, with or without a token.
    fn expected(self, fake: &FakeForge, authenticated: bool) -> Vec<ExpectedOrigin> {
        match self {
            Forge::GitLab => fake.gitlab_origins(authenticated),
            Forge::Heptapod => fake.heptapod_origins(authenticated),
            Forge::Gitea => fake.gitea_origins(authenticated),
            Forge::Forgejo => fake.forgejo_origins(authenticated),
            Forge::Gogs => fake.gogs_origins(),
            Forge::Phabricator => fake.phabricator_origins(),
            Forge::Phorge => fake.phorge_origins(),
            Forge::BitbucketServer => fake.bitbucket_server_origins(),
            Forge::Gitiles => fake.gitiles_origins(),
            Forge::Pagure => fake.pagure_origins(),
            Forge::Gerrit => fake.gerrit_origins(),
            Forge::Launchpad => fake.launchpad_origins(),
            Forge::LaunchpadBzr => fake.launchpad_bzr_origins(),
            Forge::Tuleap => fake.tuleap_origins(),
            Forge::Grokmirror => fake.grokmirror_origins(),
            Forge::Sourcehut => fake.sourcehut_origins(),
            Forge::SourcehutHg => fake.sourcehut_hg_origins(),
            Forge::Stagit => fake.stagit_origins(),
            Forge::Sourceforge => fake.sourceforge_origins(),
        }
    }

    fn add(self, fake: &FakeForge, n: u64) {
        match self {
            Forge::GitLab => fake.add_gitlab_projects(n),
            Forge::Heptapod => fake.add_heptapod_projects(n),
            Forge::Gitea => fake.add_gitea_repositories(n),
            Forge::Forgejo => fake.add_forgejo_repositories(n),
            Forge::Gogs => fake.add_gogs_repositories(n),
            Forge::Phabricator => fake.add_phabricator_repositories(n),
            Forge::Phorge => fake.add_phorge_repositories(n),
            Forge::BitbucketServer => fake.add_bitbucket_server_repositories(n),
            Forge::Gitiles => fake.add_gitiles_repositories(n),
            Forge::Pagure => fake.add_pagure_projects(n),
            Forge::Gerrit => fake.add_gerrit_projects(n),
            Forge::Launchpad => fake.add_launchpad_repositories(n),
            Forge::LaunchpadBzr => fake.add_launchpad_branches(n),
            Forge::Tuleap => fake.add_tuleap_projects(n),
            Forge::Grokmirror => fake.add_grokmirror_repositories(n),
            Forge::Sourcehut => fake.add_sourcehut_repositories(n),
            Forge::SourcehutHg => fake.add_sourcehut_hg_repositories(n),
            Forge::Stagit => fake.add_stagit_repositories(n),
            Forge::Sourceforge => fake.add_sourceforge_projects(n),
        }
    }

    /// The items a complete listing skips and counts: Tuleap's projects whose git listing
    /// answers 403, SourceForge's projects whose description answers 404.
    fn rejected(self, fake: &FakeForge) -> usize {
        match self {
            Forge::Tuleap => fake.tuleap_forbidden_projects().len(),
            Forge::Sourceforge => fake.sourceforge_gone_projects().len(),
            _ => 0,
        }
    }
}

/// A rerun's requests: a page or two, not the whole listing again. Tuleap's rerun asks its
/// last page of projects (at offset 100 of the first 120) again, with every one of those
/// projects' repositories, then the projects created since; nothing before that page.
/// sourcehut lists the token owner's repositories most recently updated first, so what is
/// new is on the first page: its rerun lists them all again, one request a page, from the
/// first (no cursor). stagit has no paging: its rerun asks the index and every repository's
/// log page again. New SourceForge projects can land in any shard of its sitemap: its
/// rerun reads the index and every shard again, and the descriptions of the projects changed
/// since the last complete pass (the new ones), the rest counted as not modified.
fn assert_rerun_cost(forge: Forge, fake: &FakeForge, summary: &serde_json::Value) {
    let requests = summary["requests"].as_u64().unwrap();
    if matches!(forge, Forge::Sourceforge) {
        let skipped = summary["not_modified"].as_u64().unwrap();
        let expected = fake.sourceforge_listing_requests();
        assert_eq!(requests + skipped, expected, "{forge:?}: {summary}");
        assert!(skipped > requests, "{forge:?}: {summary}");
        let sent = fake.requests();
        assert_eq!(sent.len() as u64, requests, "{forge:?}");
        let first = &sent[0].path_and_query;
        assert_eq!(
            first, "/sourceforge/allura_sitemap/sitemap.xml",
            "{forge:?}"
        );
        return;
    }
    if matches!(forge, Forge::Stagit) {
        let pages = 1 + fake.stagit_repositories();
        assert_eq!(requests, pages, "{forge:?}: {summary}");
        let sent = fake.requests();
        let sent: Vec<&str> = sent.iter().map(|r| r.path_and_query.as_str()).collect();
        let listed = sent.iter().filter(|p| p.starts_with("/stagit/")).count();
        assert_eq!(listed as u64, pages, "{forge:?}: {sent:?}");
        assert_eq!(sent.first(), Some(&"/robots.txt"), "{forge:?}");
        assert_eq!(sent.get(1), Some(&"/stagit/index.html"), "{forge:?}");
        return;
    }
    if matches!(forge, Forge::Sourcehut | Forge::SourcehutHg) {
        let repositories = forge.expected(fake, true).len() as u64;
        let pages = repositories.div_ceil(fake.sourcehut_page_size());
        assert_eq!(requests, pages, "{forge:?}: {summary}");
        let sent = fake.requests();
        assert_eq!(sent.len() as u64, pages, "{forge:?}");
        let first: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
        assert!(
            first["variables"]["cursor"].is_null(),
            "{forge:?}: the rerun starts at the first page: {first}"
        );
        return;
    }
    if !matches!(forge, Forge::Tuleap) {
        assert!(requests <= 3, "{forge:?}: {summary}");
        return;
    }
    let sent = fake.requests();
    assert_eq!(sent.len() as u64, requests, "{summary}");
    let pages: Vec<String> = sent
        .iter()
        .filter(|r| r.path_and_query.starts_with("/tuleap/api/projects?"))
        .map(|r| r.query("offset").unwrap())
        .collect();
    assert_eq!(
        pages,
        ["100"],
        "120 + 30 projects: the last page again, and no other"
    );
    let projects: std::collections::BTreeSet<&str> = sent
        .iter()
        .filter_map(|r| r.path_and_query.strip_prefix("/tuleap/api/projects/"))
        .filter_map(|rest| rest.split('/').next())
        .collect();
    let expected: std::collections::BTreeSet<String> =
        (201..=250).map(|id: u64| id.to_string()).collect();
    let expected: std::collections::BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(
        projects, expected,
        "the git listings of projects 101 to 150"
    );
}

/// `lister run FORGE --url URL --json`, with the forge's token when `authenticated`.
async fn list(db: &str, forge: Forge, fake: &FakeForge, authenticated: bool) -> Run {
    let url = forge.url(fake);
    let mut command = lister(db);
    command.args(["run", forge.name(), "--url", &url, "--json"]);
    if authenticated {
        let (variable, token) = forge.token();
        command.env(variable, token);
    }
    let run = tokio::time::timeout(std::time::Duration::from_secs(120), run(&mut command));
    run.await.expect("lister must never hang")
}

/// An origin's facts as the listing exported them, or as the fake expects them.
type Facts = (String, String, bool, Option<bool>, Option<i64>);

fn millis(text: &str) -> i64 {
    let time = chrono::DateTime::parse_from_rfc3339(text).expect("an RFC 3339 time");
    time.timestamp_millis()
}

async fn listed_facts(db: &str, forge: Forge) -> Vec<Facts> {
    let mut facts: Vec<Facts> = exported(db, forge.name())
        .await
        .iter()
        .map(|o| {
            (
                o["url"].as_str().unwrap().to_owned(),
                o["visit_type"].as_str().unwrap().to_owned(),
                o["enabled"].as_bool().unwrap(),
                o["is_fork"].as_bool(),
                o["last_update"].as_str().map(millis),
            )
        })
        .collect();
    facts.sort();
    facts
}

fn expected_facts(expected: Vec<ExpectedOrigin>) -> Vec<Facts> {
    let mut facts: Vec<Facts> = expected
        .into_iter()
        .map(|o| {
            let time = o.last_update.as_deref().map(millis);
            (o.url, o.visit_type, o.enabled, o.is_fork, time)
        })
        .collect();
    facts.sort();
    facts
}

async fn every_forge_lists_complete_then_reruns_incrementally(db: TestDatabase) {
    let fake = FakeForge::start().await;
    for forge in ALL {
        let first = list(&db.url, forge, &fake, true).await;
        assert_eq!(first.code, 0, "{forge:?} {first:?}");
        assert_eq!(first.summary()["stopped"], "end_of_listing", "{forge:?}");
        let rejected = forge.rejected(&fake);
        assert_eq!(first.summary()["items_rejected"], rejected, "{forge:?}");
        let expected = expected_facts(forge.expected(&fake, true));
        assert!(
            expected.len() >= 200,
            "{forge:?}: the fake serves several pages"
        );
        let before = expected.len();
        assert_eq!(
            listed_facts(&db.url, forge).await,
            expected,
            "{forge:?} (PostgreSQL: {})",
            db.is_postgres()
        );

        // A rerun asks the page it stopped at again and goes on: it finds what is new,
        // in a page or two, not the whole listing again.
        forge.add(&fake, 30);
        fake.clear_requests();
        let again = list(&db.url, forge, &fake, true).await;
        assert_eq!(again.code, 0, "{forge:?} {again:?}");
        let summary = again.summary();
        assert_rerun_cost(forge, &fake, &summary);
        let expected = expected_facts(forge.expected(&fake, true));
        let new = (expected.len() - before) as u64;
        assert!(
            new >= 25,
            "{forge:?}: most of the added repositories are visible"
        );
        assert_eq!(summary["origins_new"], new, "{forge:?}: {summary}");
        assert_eq!(listed_facts(&db.url, forge).await, expected, "{forge:?}");
    }
    db.drop_database().await;
}

async fn anonymous_gitlab_and_gitea_list_the_public_view(db: TestDatabase) {
    let fake = FakeForge::start().await;
    for forge in [Forge::GitLab, Forge::Heptapod, Forge::Gitea] {
        let out = list(&db.url, forge, &fake, false).await;
        assert_eq!(out.code, 0, "{forge:?} {out:?}");
        let expected = expected_facts(forge.expected(&fake, false));
        assert!(expected.iter().all(|facts| facts.2), "only public ones");
        assert_eq!(listed_facts(&db.url, forge).await, expected, "{forge:?}");
        let sent = fake.requests();
        let leaked = sent.iter().any(|request| {
            request.header("private-token").is_some() || request.header("authorization").is_some()
        });
        assert!(!leaked, "{forge:?}: no credential without one configured");
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_go_as_each_forge_wants_them_and_never_in_the_url() {
    let db = lister_store::testing::TestDatabase::sqlite();
    let fake = FakeForge::start().await;
    let forges = [
        Forge::GitLab,
        Forge::Gitea,
        Forge::Phorge,
        Forge::Pagure,
        Forge::Tuleap,
        Forge::Sourcehut,
    ];
    for forge in forges {
        fake.clear_requests();
        let out = list(&db.url, forge, &fake, true).await;
        assert_eq!(out.code, 0, "{forge:?} {out:?}");
        let (_, token) = forge.token();
        for request in fake.requests() {
            let presented = match forge {
                Forge::GitLab => request.header("private-token").map(str::to_owned),
                Forge::Gitea | Forge::Pagure | Forge::Sourcehut => {
                    request.header("authorization").map(str::to_owned)
                }
                Forge::Tuleap => request.header("x-auth-accesskey").map(str::to_owned),
                _ => request.form("api.token"),
            };
            let expected = match forge {
                Forge::Gitea | Forge::Pagure => format!("token {token}"),
                Forge::Sourcehut => format!("Bearer {token}"),
                _ => token.to_owned(),
            };
            assert_eq!(presented.as_deref(), Some(expected.as_str()), "{forge:?}");
            assert!(!request.path_and_query.contains(token), "{forge:?}");
        }
        assert!(!out.stderr.contains(token) && !out.stdout.contains(token));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_survived_or_reported_clearly() {
    let db = lister_store::testing::TestDatabase::sqlite();
    let fake = FakeForge::start().await;
    // A 502 on the second page is retried; the listing is complete.
    fake.inject(Fault::Status(502), 1, 1);
    let out = list(&db.url, Forge::GitLab, &fake, true).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.summary()["retries"], 1);
    assert_eq!(
        listed_facts(&db.url, Forge::GitLab).await,
        expected_facts(Forge::GitLab.expected(&fake, true))
    );
    // A 401 is not retried: the run stops at once and says where.
    fake.clear_requests();
    fake.inject(Fault::Status(401), 1, 0);
    let out = list(&db.url, Forge::Gitea, &fake, true).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("401") && out.stderr.contains("/api/v1/repos/search"),
        "{out:?}"
    );
    assert_eq!(fake.requests().len(), 1, "not retried");
    // Conduit's error inside a 200 stops the run with Conduit's message.
    let url = Forge::Phorge.url(&fake);
    let wrong = run(lister(&db.url)
        .args(["run", "phorge", "--url", &url])
        .env("PHORGE_TOKEN", "short"))
    .await;
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("ERR-INVALID-AUTH"), "{wrong:?}");
    assert!(!wrong.stderr.contains("short\n"), "{wrong:?}");
    // Without a token, Phabricator is refused before any request.
    fake.clear_requests();
    let none = run(lister(&db.url).args(["run", "phabricator", "--url", &url])).await;
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("PHABRICATOR_TOKEN"), "{none:?}");
    assert!(fake.requests().is_empty());
    // A listing that goes round in circles stops with a clear error.
    fake.inject(Fault::LoopingNext, 3, 0);
    let looping = list(&db.url, Forge::Phabricator, &fake, true).await;
    assert_eq!(looping.code, 1, "{looping:?}");
    assert!(looping.stderr.contains("pagination loop"), "{looping:?}");
}

async fn sourcehut_needs_a_token_and_stops_on_its_errors_naming_them(db: TestDatabase) {
    let fake = FakeForge::start().await;
    for forge in [Forge::Sourcehut, Forge::SourcehutHg] {
        // Without a token, the run is refused before any request, naming the variable.
        fake.clear_requests();
        let none = list(&db.url, forge, &fake, false).await;
        assert_eq!(none.code, 2, "{forge:?} {none:?}");
        let (variable, token) = forge.token();
        assert!(none.stderr.contains(&variable), "{forge:?} {none:?}");
        assert!(fake.requests().is_empty(), "{forge:?}: nothing sent");

        // A GraphQL error inside a 200 (a token without access to the repositories) stops
        // the run at once with sourcehut's message, and the token is never printed.
        fake.inject(Fault::GraphqlError("Access denied".into()), 1, 0);
        let denied = list(&db.url, forge, &fake, true).await;
        assert_eq!(denied.code, 1, "{forge:?} {denied:?}");
        assert!(
            denied.stderr.contains("Access denied"),
            "{forge:?} {denied:?}"
        );
        assert_eq!(fake.requests().len(), 1, "{forge:?}: not retried");
        assert!(!denied.stderr.contains(token) && !denied.stdout.contains(token));

        // The same on a later page: the pages before it stay listed, and the next run
        // resumes at the page that failed.
        fake.clear_requests();
        fake.inject(Fault::GraphqlError("Access denied".into()), 1, 2);
        let later = list(&db.url, forge, &fake, true).await;
        assert_eq!(later.code, 1, "{forge:?} {later:?}");
        assert_eq!(fake.requests().len(), 3, "{forge:?}");
        let listed = listed_facts(&db.url, forge).await.len();
        assert_eq!(listed, 50, "{forge:?}: the two pages before the error");

        // An expired token is refused with a 403 and core.sr.ht's message (whose last word,
        // after "bearer", the log scrubs as it would a token).
        fake.clear_requests();
        fake.inject(Fault::Status(403), 1, 0);
        let expired = list(&db.url, forge, &fake, true).await;
        assert_eq!(expired.code, 1, "{forge:?} {expired:?}");
        assert!(
            expired
                .stderr
                .contains("HTTP 403 Forbidden: Authentication error: Invalid or expired OAuth 2.0"),
            "{forge:?} {expired:?}"
        );
        assert!(!expired.stderr.contains(token) && !expired.stdout.contains(token));

        // Then the rest is listed, from the page that failed.
        fake.clear_requests();
        let out = list(&db.url, forge, &fake, true).await;
        assert_eq!(out.code, 0, "{forge:?} {out:?}");
        let first: serde_json::Value = serde_json::from_slice(&fake.requests()[0].body).unwrap();
        assert!(
            first["variables"]["cursor"].is_string(),
            "{forge:?}: {first}"
        );
        assert_eq!(fake.requests().len(), 8, "{forge:?}: pages 3 to 10");
        assert_eq!(
            listed_facts(&db.url, forge).await,
            expected_facts(forge.expected(&fake, true)),
            "{forge:?} (PostgreSQL: {})",
            db.is_postgres()
        );
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_dropped_and_an_echoed_one_never_printed() {
    let db = lister_store::testing::TestDatabase::sqlite();
    let fake = FakeForge::start().await;
    let (first, second) = ("ghp_first0123456789", "ghp_second0123456789");
    let github = |db: &str| {
        let mut command = lister(db);
        command
            .args([
                "run",
                "github",
                "--url",
                fake.github_url().as_str(),
                "--json",
            ])
            .env("GITHUB_TOKENS", format!("{first},{second}"));
        command
    };
    // The first token is refused: it is dropped with a warning, and the run lists everything
    // with the second.
    fake.inject(Fault::EchoingUnauthorized, 1, 0);
    let out = run(&mut github(&db.url)).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.summary()["origins_new"], 1_000, "{out:?}");
    assert!(out.stderr.contains("refused credential #0"), "{out:?}");
    // Both refused: the last one's refusal ends the run, the forge's message is shown with
    // the token it echoed removed.
    fake.inject(Fault::EchoingUnauthorized, 2, 0);
    let out = run(&mut github(&db.url)).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("Bad credentials (you sent authorization: token ***"),
        "{out:?}"
    );
    for token in [first, second] {
        assert!(
            !out.stderr.contains(token) && !out.stdout.contains(token),
            "{out:?}"
        );
    }
    // GitLab's header, echoed, is removed too.
    fake.inject(Fault::EchoingUnauthorized, 1, 0);
    let out = list(&db.url, Forge::GitLab, &fake, true).await;
    assert_eq!(out.code, 1, "{out:?}");
    let (_, token) = Forge::GitLab.token();
    assert!(out.stderr.contains("private-token: ***"), "{out:?}");
    assert!(
        !out.stderr.contains(token) && !out.stdout.contains(token),
        "{out:?}"
    );
}

async fn launchpad_reruns_find_what_was_modified_since_and_keep_git_and_bzr_apart(
    db: TestDatabase,
) {
    let fake = FakeForge::start().await;
    for forge in [Forge::Launchpad, Forge::LaunchpadBzr] {
        let first = list(&db.url, forge, &fake, false).await;
        assert_eq!(first.code, 0, "{forge:?} {first:?}");
        assert_eq!(first.summary()["requests"], 3, "700 entries, 300 a batch");
    }
    // Old repositories modified since (one of them on the first page) move after every
    // key handed out: the rerun, from the saved key, finds them, and nothing else is new.
    let before = launchpad_state(&db.url).await;
    let now = chrono::Utc::now();
    fake.touch_launchpad_repositories(&[2, 301, 650], now);
    let again = list(&db.url, Forge::Launchpad, &fake, false).await;
    assert_eq!(again.code, 0, "{again:?}");
    let summary = again.summary();
    assert_eq!(summary["requests"], 1, "{summary}");
    assert_eq!(summary["origins_new"], 0, "{summary}");
    let listed = listed_facts(&db.url, Forge::Launchpad).await;
    assert_eq!(listed, expected_facts(fake.launchpad_origins()));
    let touched = listed
        .iter()
        .filter(|facts| facts.4 == Some(now.timestamp_millis()));
    assert_eq!(
        touched.count(),
        3,
        "the three modified repositories, with their new date"
    );
    // The state is a date and how many entries of that date were listed.
    // The state stays the last page's own key (a date, and how many entries of that
    // date the pages before it listed): the next rerun asks that page again.
    let after = launchpad_state(&db.url).await;
    assert_eq!(after, before, "{after}");
    assert!(after["cursor"]["skip"].as_u64().unwrap() >= 1, "{after}");
    // The Bazaar branches kept their own listing and state.
    let bzr = listed_facts(&db.url, Forge::LaunchpadBzr).await;
    assert_eq!(bzr, expected_facts(fake.launchpad_bzr_origins()));
    assert!(bzr.iter().all(|facts| facts.1 == "bzr"));
    db.drop_database().await;
}

async fn an_unchanged_grokmirror_manifest_costs_one_request_answered_304(db: TestDatabase) {
    let fake = FakeForge::start().await;
    let first = list(&db.url, Forge::Grokmirror, &fake, false).await;
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(first.summary()["requests"], 1, "one document");
    let expected = expected_facts(fake.grokmirror_origins());
    assert!(expected.iter().any(|facts| facts.3 == Some(true)), "forks");
    assert_eq!(listed_facts(&db.url, Forge::Grokmirror).await, expected);
    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path_and_query, "/grokmirror/manifest.js.gz");
    assert!(sent[0].header("if-modified-since").is_none());

    // Unchanged: the rerun asks with the manifest's Last-Modified, is answered 304, and
    // lists nothing new.
    fake.clear_requests();
    let again = list(&db.url, Forge::Grokmirror, &fake, false).await;
    assert_eq!(again.code, 0, "{again:?}");
    let summary = again.summary();
    assert_eq!(summary["requests"], 1, "{summary}");
    assert_eq!(summary["not_modified"], 1, "{summary}");
    assert_eq!(summary["origins_new"], 0, "{summary}");
    assert_eq!(summary["stopped"], "end_of_listing", "{summary}");
    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    let since = sent[0]
        .header("if-modified-since")
        .expect("a conditional request");
    assert!(since.ends_with(" GMT"), "{since}");
    assert_eq!(listed_facts(&db.url, Forge::Grokmirror).await, expected);
    db.drop_database().await;
}

/// The saved state of the `launchpad` lister, as `lister listers --json` shows it.
async fn launchpad_state(db: &str) -> serde_json::Value {
    let listers = run(lister(db).args(["listers", "--json"])).await;
    let rows = listers
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap());
    let mut rows =
        rows.filter(|row: &serde_json::Value| row["lister"].to_string().contains("\"launchpad\""));
    rows.next().expect("the launchpad lister")["state"].clone()
}

async fn sourceforge_lists_every_shard_once_and_resumes_at_the_shard_that_failed(db: TestDatabase) {
    let fake = FakeForge::start().await;
    let forge = Forge::Sourceforge;
    // A 502 on a project's description is retried; the listing is complete, each
    // description asked once (several tools of a project are in the sitemap), never for
    // the `projects/` duplicates. A project answering 403 (SourceForge's rate limit) is
    // waited for (a second) and asked again.
    let limited = "/sourceforge/rest/p/project-9".to_owned();
    let fault = Box::new(Fault::Status(403));
    fake.inject(
        Fault::OnPath {
            path: limited,
            fault,
        },
        1,
        0,
    );
    let flaky = "/sourceforge/rest/p/project-8".to_owned();
    let fault = Box::new(Fault::Status(502));
    fake.inject(Fault::OnPath { path: flaky, fault }, 1, 0);
    let out = list(&db.url, forge, &fake, false).await;
    assert_eq!(out.code, 0, "{out:?}");
    let summary = out.summary();
    assert_eq!(summary["retries"], 2, "the 502 and the 403: {summary}");
    assert_eq!(
        summary["items_rejected"], 1,
        "project 13 answers 404: {summary}"
    );
    let sent: Vec<String> = fake
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    assert_eq!(
        sent.len() as u64,
        fake.sourceforge_listing_requests() + 2,
        "{sent:?}"
    );
    let descriptions: Vec<&String> = sent.iter().filter(|p| p.contains("/rest/")).collect();
    let distinct: std::collections::BTreeSet<&&String> = descriptions.iter().collect();
    assert_eq!(
        distinct.len() + 2,
        descriptions.len(),
        "two asked twice: the 502 and the 403"
    );
    assert!(
        summary["quota_wait_seconds"].as_f64().unwrap() >= 1.0,
        "{summary}"
    );
    assert!(
        sent.iter()
            .all(|p| !p.contains('#') && !p.contains("/rest/projects/"))
    );
    let expected = expected_facts(forge.expected(&fake, false));
    assert_eq!(listed_facts(&db.url, forge).await, expected);

    // A rerun reads the index and every shard again, but asks only for the projects whose
    // `lastmod` moved since the last complete pass started; the others stay listed.
    fake.touch_sourceforge_project(7);
    fake.clear_requests();
    let rerun = list(&db.url, forge, &fake, false).await;
    assert_eq!(rerun.code, 0, "{rerun:?}");
    let asked: Vec<String> = fake
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    let asked: Vec<&String> = asked.iter().filter(|p| p.contains("/rest/")).collect();
    assert_eq!(asked, ["/sourceforge/rest/p/project-7"], "{rerun:?}");
    let skipped = rerun.summary()["not_modified"].as_u64().unwrap();
    let requests = rerun.summary()["requests"].as_u64().unwrap();
    assert_eq!(skipped + requests, fake.sourceforge_listing_requests());
    let expected = expected_facts(forge.expected(&fake, false));
    assert_eq!(
        listed_facts(&db.url, forge).await,
        expected,
        "project 7 dated today"
    );

    // A shard that cannot be read (a 404) stops the run, naming it; the next run resumes at
    // that shard, not at the index.
    let shard = "/sourceforge/allura_sitemap/sitemap-3.xml".to_owned();
    fake.add_sourceforge_projects(20);
    let fault = Box::new(Fault::Status(404));
    fake.inject(
        Fault::OnPath {
            path: shard.clone(),
            fault,
        },
        1,
        0,
    );
    fake.clear_requests();
    let stopped = list(&db.url, forge, &fake, false).await;
    assert_eq!(stopped.code, 1, "{stopped:?}");
    assert!(stopped.stderr.contains("sitemap-3.xml"), "{stopped:?}");
    fake.clear_requests();
    let resumed = list(&db.url, forge, &fake, false).await;
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(fake.requests()[0].path_and_query, shard);
    let expected = expected_facts(forge.expected(&fake, false));
    assert_eq!(
        listed_facts(&db.url, forge).await,
        expected,
        "the new projects too"
    );
    // A full pass asks for every project again.
    fake.clear_requests();
    let mut command = lister(&db.url);
    let url = forge.url(&fake);
    command.args(["run", "sourceforge", "--url", &url, "--full-pass", "--json"]);
    let full = run(&mut command).await;
    assert_eq!(full.code, 0, "{full:?}");
    assert_eq!(full.summary()["not_modified"], 0, "{full:?}");
    assert_eq!(
        fake.requests().len() as u64,
        fake.sourceforge_listing_requests()
    );
    db.drop_database().await;
}

async fn stagit_is_read_from_its_index_file_and_skips_what_it_cannot_clone(db: TestDatabase) {
    let fake = FakeForge::start().await;
    // A log page gone between the index and its request (404) is skipped and counted; one
    // answering 502 is retried. The index may be given as the file itself.
    let (gone, flaky) = ("/stagit/repo-2/log.html", "/stagit/caf%C3%A9-3/log.html");
    for (path, status) in [(gone, 404), (flaky, 502)] {
        let fault = Box::new(Fault::Status(status));
        let path = path.to_owned();
        fake.inject(Fault::OnPath { path, fault }, 1, 0);
    }
    let url = format!("{}index.html", fake.stagit_url());
    let out = run(lister(&db.url).args(["run", "stagit", "--url", &url, "--json"])).await;
    assert_eq!(out.code, 0, "{out:?}");
    let summary = out.summary();
    assert_eq!(summary["items_rejected"], 1, "{summary}");
    assert_eq!(summary["retries"], 1, "{summary}");
    assert_eq!(
        summary["requests"],
        1 + fake.stagit_repositories() + 1,
        "{summary}"
    );
    // Repositories without a `url` file (5, 55, 105…) are skipped, each with a warning.
    let without = fake.stagit_repositories() as usize - fake.stagit_origins().len();
    let warned = out
        .stderr
        .matches("no clone URL on a stagit log page")
        .count();
    assert_eq!(warned, without, "{}", out.stderr);
    let mut expected = fake.stagit_origins();
    expected.retain(|o| o.url != "https://stagit.example.org/repo-2.git");
    let expected = expected_facts(expected);
    assert_eq!(listed_facts(&db.url, Forge::Stagit).await, expected);
    db.drop_database().await;
}

lister_store::backend_tests!(
    every_forge_lists_complete_then_reruns_incrementally,
    anonymous_gitlab_and_gitea_list_the_public_view,
    sourcehut_needs_a_token_and_stops_on_its_errors_naming_them,
    launchpad_reruns_find_what_was_modified_since_and_keep_git_and_bzr_apart,
    an_unchanged_grokmirror_manifest_costs_one_request_answered_304,
    sourceforge_lists_every_shard_once_and_resumes_at_the_shard_that_failed,
    stagit_is_read_from_its_index_file_and_skips_what_it_cannot_clone,
);
