//! End to end, a hostile forge on SQLite and PostgreSQL: items that would poison the database,
//! the terminal or the consumers, a next link that would poison the state, and queue
//! arguments out of range.

mod common;

use lister_store::testing::TestDatabase;

use common::{Forge, exported, list, lister, run, saved_cursor};
use lister_tests::fake_forge::{FakeForge, Fault};

/// A 3,000-character URL (which PostgreSQL's index cannot hold), terminal escapes and a forged
/// log line, a token in a URL's query and fragment, and an id that is no number: the run lists
/// everything else, rejects and counts those, escapes what it logs, stores no secret, and
/// leaves a database every command can still read.
async fn hostile_items_are_rejected_escaped_or_cleaned_and_nothing_is_poisoned(db: TestDatabase) {
    let fake = FakeForge::start().await;
    fake.inject(Fault::HostileItems, 1, 0);
    let out = list(&db.url, Forge::GitHub, &fake, &[], &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let summary = out.summary();
    assert_eq!(
        summary["items_rejected"], 1,
        "the id that is no number: {summary}"
    );
    assert_eq!(
        summary["origins_rejected"], 2,
        "too long, and not a URL: {summary}"
    );
    // (The log's own colours are escapes too: the forge's must not be among them.)
    assert!(
        !out.stderr.contains("\u{1b}[31mnot a url"),
        "the forge's escape never reaches the terminal: {out:?}"
    );
    assert!(
        out.stderr.contains("\\u{1b}"),
        "the escape is shown escaped: {out:?}"
    );
    let forged = out
        .stderr
        .lines()
        .any(|line| line.starts_with("ERROR forged"));
    assert!(!forged, "no forged log line: {out:?}");
    let listed = exported(&db.url, "github").await;
    let urls: Vec<&str> = listed.iter().map(|o| o["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls.len(),
        1_001,
        "every good repository and the cleaned one"
    );
    assert!(
        urls.contains(&"https://github.com/hostile/secret"),
        "kept without its secrets"
    );
    let everything = format!("{listed:?}");
    assert!(!everything.contains("s3cr3t"), "no secret stored");
    // Every command still works: nothing the forge sent blocks a fold.
    fake.add_github_repositories(50);
    let again = list(&db.url, Forge::GitHub, &fake, &[], &[]).await;
    assert_eq!(
        (again.code, again.summary()["origins_new"].as_u64()),
        (0, Some(50)),
        "{again:?}"
    );
    for command in [&["listers"][..], &["queue", "stats"], &["origins"]] {
        let out = run(lister(&db.url).args(command)).await;
        assert_eq!(out.code, 0, "{command:?}: {out:?}");
    }
    db.drop_database().await;
}

/// A next link that jumps past everything (`since=18446744073709551615`) is refused: the run
/// stops with an error naming the page, the state stays before it, and a rerun against an
/// honest forge lists the rest.
async fn a_next_link_past_the_page_cannot_poison_the_state(db: TestDatabase) {
    let fake = FakeForge::start().await;
    fake.inject(Fault::HostileNext, 1, 2);
    let out = list(&db.url, Forge::GitHub, &fake, &[], &[]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("jumps past the page's last item"),
        "{out:?}"
    );
    let saved = saved_cursor(&db.url).await.expect("a saved cursor");
    assert!(
        saved < 10_000,
        "the state stays before the hostile page: {saved}"
    );
    let rerun = list(&db.url, Forge::GitHub, &fake, &[], &[]).await;
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert_eq!(exported(&db.url, "github").await.len(), 1_000);
    db.drop_database().await;
}

/// Queue arguments out of range are usage errors (exit 2), not crashes or silent nonsense.
#[tokio::test]
async fn queue_arguments_out_of_range_are_refused() {
    let db = lister_store::testing::TestDatabase::sqlite();
    let cases: [&[&str]; 5] = [
        &[
            "queue",
            "grab",
            "--visit-type",
            "git",
            "--count",
            "1000000000",
        ],
        &[
            "queue",
            "grab",
            "--visit-type",
            "git",
            "--count",
            "9223372036854775808",
        ],
        &["queue", "grab", "--visit-type", "git", "--lease", "0s"],
        &[
            "queue",
            "ack",
            "--lease",
            "x",
            "--status",
            "successful",
            "--at",
            "9999-01-01T00:00:00Z",
        ],
        &[
            "queue",
            "ack",
            "--lease",
            "x",
            "--status",
            "successful",
            "--at",
            "0001-01-01T00:00:00Z",
        ],
    ];
    for args in cases {
        let out = run(lister(&db.url).args(args)).await;
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
    }
}

lister_store::backend_tests!(
    hostile_items_are_rejected_escaped_or_cleaned_and_nothing_is_poisoned,
    a_next_link_past_the_page_cannot_poison_the_state,
);
