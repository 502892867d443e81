//! End to end: bad input gets one clear line and the right exit code, and writes nothing;
//! exports, completions, `lister forges` and the summary.

mod common;

use common::{lister, run};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{Config, FakeForge};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lister-usage-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn one_error_line(stderr: &str) -> &str {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0]
}

#[tokio::test]
async fn an_unknown_forge_is_a_usage_error_naming_the_known_ones() {
    let out = run(lister("sqlite:///nonexistent/never.db").args(["run", "no-such-forge"])).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("invalid value 'no-such-forge' for '[FORGE]'"),
        "{out:?}"
    );
    let known = out
        .stderr
        .lines()
        .find(|line| line.contains("[possible values: "))
        .unwrap_or_else(|| panic!("no possible values: {out:?}"));
    assert!(
        known.contains("github") && known.contains("bitbucket"),
        "{known}"
    );
}

#[tokio::test]
async fn forges_lists_each_forge_with_its_default_url_and_credentials() {
    let dir = scratch("forges");
    let db_path = dir.join("lister.db");
    let out = run(lister(&format!("sqlite://{}", db_path.display())).arg("forges")).await;
    assert_eq!(out.code, 0, "{out:?}");
    let mut lines = out.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["FORGE", "DEFAULT", "URL", "CREDENTIALS"],
        "{out:?}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let row = |forge: &str| {
        rows.iter()
            .find(|row| row[0] == forge)
            .unwrap_or_else(|| panic!("{forge} missing: {out:?}"))
    };
    assert_eq!(row("github")[1], "https://github.com");
    assert_eq!(row("bitbucket")[1], "https://bitbucket.org");
    assert!(row("github").contains(&"GITHUB_TOKEN"), "{out:?}");
    assert!(
        !row("github").contains(&"GITHUB_APP_PASSWORD"),
        "tokens only: {out:?}"
    );
    assert!(
        row("bitbucket").contains(&"BITBUCKET_APP_PASSWORD"),
        "{out:?}"
    );
    assert!(row("phorge").contains(&"(required)"), "{out:?}");
    assert_eq!(
        (rows[0][0], rows[1][0]),
        ("github", "bitbucket"),
        "in registry order: {out:?}"
    );
    assert!(!db_path.exists(), "forges opened the database");
}

#[tokio::test]
async fn an_empty_token_variable_is_a_usage_error_not_anonymous() {
    let dir = scratch("empty-token");
    let db_path = dir.join("lister.db");
    let db = format!("sqlite://{}", db_path.display());
    for (var, value, expected) in [
        ("GITHUB_TOKEN", "", "GITHUB_TOKEN is set but empty"),
        ("GITHUB_TOKEN", "  ", "GITHUB_TOKEN is set but empty"),
        (
            "GITHUB_TOKENS",
            " , ",
            "GITHUB_TOKENS is set but holds no token",
        ),
    ] {
        // Never reached: the credentials are checked first.
        let out = run(lister(&db)
            .args(["run", "github", "--url", "http://127.0.0.1:1/"])
            .env(var, value))
        .await;
        assert_eq!(out.code, 2, "{var}={value:?}: {out:?}");
        assert!(
            one_error_line(&out.stderr).contains(expected),
            "{var}={value:?}: {out:?}"
        );
        assert!(!db_path.exists(), "{var}={value:?} created the database");
    }
}

#[tokio::test]
async fn bad_arguments_and_files_write_nothing() {
    let dir = scratch("bad");
    let db_path = dir.join("lister.db");
    let db = format!("sqlite://{}", db_path.display());
    let bad_tokens = dir.join("tokens");
    std::fs::write(&bad_tokens, "ghp_good\nnot a token\n").unwrap();
    let bad_config = dir.join("config.toml");
    std::fs::write(&bad_config, "[listers.github.default]\ntokenz = [\"x\"]\n").unwrap();
    let token_file = bad_tokens.to_str().unwrap();
    let config = bad_config.to_str().unwrap();

    let cases: [(&[&str], &str); 6] = [
        (
            &["run", "github", "--url", "not a url"],
            "invalid value 'not a url' for '--url",
        ),
        (
            &["run", "github", "--url", "http://forge.example.org"],
            "refusing the plain-http base URL",
        ),
        (
            &["run", "github", "--token-file", token_file],
            "line 2 is not a token",
        ),
        (
            &["--config", config, "run", "github"],
            "(line 2): unknown field `tokenz`",
        ),
        (
            &["run", "github", "--timeout", "0"],
            "--timeout needs a positive number of seconds",
        ),
        (
            &["run", "github", "--max-quota-wait", "1e19"],
            "--max-quota-wait needs a positive number of seconds, at most a week",
        ),
    ];
    for (args, expected) in cases {
        let out = run(lister(&db).args(args)).await;
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(expected), "{args:?}: {out:?}");
        assert!(!db_path.exists(), "{args:?} created the database");
    }
    let out = run(lister(&db).args(["run", "github", "--token-file", token_file])).await;
    assert!(
        !out.stderr.contains("ghp_good"),
        "a token was echoed: {out:?}"
    );
}

#[tokio::test]
async fn unreachable_and_unwritable_databases_fail_with_one_line() {
    let out = run(lister("postgres://lister:hunter2@127.0.0.1:1/lister").args(["listers"])).await;
    assert_eq!(out.code, 1, "{out:?}");
    let line = one_error_line(&out.stderr);
    assert!(
        line.contains("cannot open database postgres://lister:***@127.0.0.1:1/lister"),
        "{line}"
    );
    assert!(!out.stderr.contains("hunter2"));

    let out = run(lister("sqlite:///proc/lister/lister.db").args(["listers"])).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        one_error_line(&out.stderr)
            .contains("cannot open database sqlite:///proc/lister/lister.db")
    );

    let out = run(lister("mysql://root:hunter2@db/lister").args(["listers"])).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        one_error_line(&out.stderr).contains("mysql://root:***@db/lister")
            && !out.stderr.contains("hunter2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_exports_and_completions() {
    let db = TestDatabase::sqlite();
    let forge = FakeForge::start_with(Config {
        github_repositories: 120,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().to_string();
    // No --instance: the instance is the host and port of --url.
    let name = format!("github/{}", forge.addr());

    let plain = run(lister(&db.url).args(["run", "github", "--url", &url])).await;
    assert_eq!(plain.code, 0, "{plain:?}");
    assert!(
        plain.stdout.is_empty(),
        "the summary goes to stderr: {plain:?}"
    );
    assert!(
        plain.stderr.contains(&format!("{name}: listing complete")),
        "{plain:?}"
    );
    assert!(
        plain.stderr.contains(
            "pages 3 · items rejected 0 · origins 120 seen, 120 new, 0 updated, 0 rejected"
        ),
        "{plain:?}"
    );
    // Two pages and the empty one after them: cursors 0, 302 (the 100th id) and 360.
    assert!(
        plain.stderr.contains("cursor 0 → 360 · saved 360"),
        "{plain:?}"
    );
    let quiet = run(lister(&db.url).args(["-q", "run", "github", "--url", &url])).await;
    assert_eq!(
        (quiet.code, quiet.stderr.as_str(), quiet.stdout.as_str()),
        (0, "", ""),
        "{quiet:?}"
    );

    let csv = run(lister(&db.url).args(["origins", "--format", "csv"])).await;
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "lister,instance,url,visit_type,last_update,is_fork,enabled,first_seen,last_seen,extra_loader_arguments"
        )
    );
    assert_eq!(lines.count(), 120);
    let none = run(lister(&db.url).args(["origins", "--lister", "bitbucket"])).await;
    assert_eq!((none.code, none.stdout.as_str()), (0, ""));

    let table = run(lister(&db.url).args(["listers"])).await;
    assert!(
        table.stdout.lines().nth(1).unwrap().starts_with(&name),
        "{table:?}"
    );

    for shell in ["bash", "zsh", "fish"] {
        let script = run(lister(&db.url).args(["completions", shell])).await;
        assert!(
            script.code == 0 && script.stdout.contains("origins"),
            "{shell}: {script:?}"
        );
    }
    db.drop_database().await;
}
