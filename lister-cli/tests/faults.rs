//! End to end: every fault of the fake forge, on GitHub and Bitbucket, with its exact outcome.
//! Recovered faults end with a complete listing and exit 0; fatal ones with one clear error,
//! exit 1, the state saved up to the last good page, and few requests. Nothing hangs.
//! A malformed item is rejected and counted, and its page listed.

mod common;

use std::time::{Duration, SystemTime};

use common::{Forge, assert_complete, exported, list, lister, run};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{Config, FakeForge, Fault, OtherHost, QuotaConfig};

/// 350 repositories: 4 pages on either forge, plus GitHub's empty last page.
async fn forge_with(faults: Vec<(Fault, u32, u64)>) -> FakeForge {
    let forge = FakeForge::start_with(Config {
        github_repositories: 350,
        bitbucket_repositories: 350,
        quota: QuotaConfig {
            reset_after: Duration::from_secs(2),
            ..QuotaConfig::default()
        },
        ..Config::default()
    })
    .await;
    for (fault, times, after) in faults {
        forge.inject(fault, times, after);
    }
    forge
}

/// Lists with `faults` injected and asserts the listing is complete; returns the summary.
async fn recovers(
    forge: Forge,
    faults: Vec<(Fault, u32, u64)>,
    args: &[&str],
) -> serde_json::Value {
    let db = TestDatabase::sqlite();
    let fake = forge_with(faults).await;
    let out = list(&db.url, forge, &fake, args, &[]).await;
    assert_complete(&db.url, forge, &fake, &out).await;
    db.drop_database().await;
    out.summary()
}

const BOTH: [Forge; 2] = [Forge::GitHub, Forge::Bitbucket];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_5xx_are_retried() {
    for forge in BOTH {
        let burst = vec![
            (Fault::Status(500), 1, 1),
            (Fault::Status(502), 1, 1),
            (Fault::Status(504), 1, 1),
        ];
        let summary = recovers(forge, burst, &[]).await;
        assert_eq!(summary["retries"], 3, "{forge:?}: {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_are_retried() {
    for forge in BOTH {
        let drops = vec![
            (Fault::CloseBeforeResponse, 2, 1),
            (Fault::CloseMidBody, 1, 1),
        ];
        let summary = recovers(forge, drops, &[]).await;
        assert_eq!(summary["retries"], 3, "{forge:?}: {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_slower_than_the_timeout_is_retried() {
    for forge in BOTH {
        let slow = vec![(Fault::Delay(Duration::from_secs(5)), 1, 2)];
        let summary = recovers(forge, slow, &["--timeout", "1"]).await;
        assert_eq!(summary["retries"], 1, "{forge:?}: {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_error_pages_are_retried() {
    for forge in BOTH {
        let garbled = vec![(Fault::HtmlError, 2, 0), (Fault::HtmlError, 1, 2)];
        let summary = recovers(forge, garbled, &[]).await;
        assert_eq!(summary["retries"], 3, "{forge:?}: {summary}");
    }
}

/// A 200 whose body is cut short (with a Content-Length that matches) reads as a page that
/// does not parse: a deterministic failure, so the run stops at once instead of retrying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_200_body_is_not_retried_and_stops_the_run() {
    for forge in BOTH {
        let fake = forge_with(vec![(Fault::TruncatedJson, 1, 2)]).await;
        let summary = stops(forge, &fake, &[], "does not parse").await;
        assert_eq!(summary["retries"], 0, "{forge:?}: {summary}");
        // The pages before the truncated one are committed, whichever stage fails.
        assert_eq!(summary["pages"].as_u64(), Some(2), "{forge:?}: {summary}");
        // Three pages, and up to three more fetched while the third parsed; none twice.
        let sent: Vec<String> = fake
            .requests()
            .into_iter()
            .map(|r| r.path_and_query)
            .collect();
        let distinct: std::collections::BTreeSet<&String> = sent.iter().collect();
        assert!(
            (3..=6).contains(&sent.len()) && distinct.len() == sent.len(),
            "{forge:?}: not retried: {sent:#?}"
        );
        let saved = summary["saved_cursor"].as_str().unwrap();
        let error = summary["error"].as_str().unwrap();
        assert!(error.starts_with("the page at http://"), "{error}");
        assert!(
            error.contains(&format!("state saved up to cursor {saved}")),
            "{error}"
        );
    }
}

/// One GitHub repository whose `id` is a string: that item is rejected and counted, the
/// rest of its page (and the listing) goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_item_is_rejected_and_the_rest_of_its_page_listed() {
    let db = TestDatabase::sqlite();
    let fake = forge_with(vec![(Fault::MalformedItem, 1, 1)]).await;
    let out = list(&db.url, Forge::GitHub, &fake, &[], &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let summary = out.summary();
    assert_eq!(summary["stopped"], "end_of_listing", "{summary}");
    assert_eq!(
        (
            summary["items_rejected"].as_u64(),
            summary["origins_seen"].as_u64(),
            summary["origins_new"].as_u64(),
            summary["pages"].as_u64(),
            summary["retries"].as_u64(),
        ),
        (Some(1), Some(349), Some(349), Some(5), Some(0)),
        "{summary}"
    );
    let listed: std::collections::BTreeSet<String> = exported(&db.url, "github")
        .await
        .iter()
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = Forge::GitHub.expected_urls(&fake);
    let rejected = fake.github_html_urls()[100].clone();
    assert!(expected.remove(&rejected));
    assert_eq!(
        listed, expected,
        "all but the first repository of page 2 ({rejected})"
    );
    db.drop_database().await;

    // The human summary counts it too.
    let db = TestDatabase::sqlite();
    let fake = forge_with(vec![(Fault::MalformedItem, 1, 0)]).await;
    let url = Forge::GitHub.url(&fake);
    let out = run(lister(&db.url).args(["run", "github", "--url", &url])).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("pages 5 · items rejected 1 · origins 349 seen, 349 new"),
        "{out:?}"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_in_seconds_and_as_an_http_date_is_honoured() {
    for forge in BOTH {
        let date = SystemTime::now() + Duration::from_secs(2);
        let waits = vec![
            (Fault::retry_after_seconds(429, 1), 1, 1),
            (Fault::retry_after_date(503, date), 1, 2),
        ];
        let summary = recovers(forge, waits, &[]).await;
        let waited = summary["quota_wait_seconds"].as_f64().unwrap();
        assert!(waited >= 1.0, "{forge:?} waited {waited}s: {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_secondary_limit_waits_its_retry_after() {
    let summary = recovers(
        Forge::GitHub,
        vec![(
            Fault::SecondaryLimit {
                retry_after: Some(1),
            },
            1,
            1,
        )],
        &[],
    )
    .await;
    assert!(
        summary["quota_wait_seconds"].as_f64().unwrap() >= 1.0,
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_primary_limit_rotates_tokens_then_waits_for_the_earliest_reset() {
    // Three requests per token: two tokens cover six of the listing's five pages plus retries.
    let db = TestDatabase::sqlite();
    let fake = FakeForge::start_with(Config {
        github_repositories: 750,
        quota: QuotaConfig {
            token_limit: 3,
            reset_after: Duration::from_secs(2),
            ..QuotaConfig::default()
        },
        ..Config::default()
    })
    .await;
    let out = list(
        &db.url,
        Forge::GitHub,
        &fake,
        &[],
        &[("GITHUB_TOKENS", "tok-one,tok-two")],
    )
    .await;
    assert_complete(&db.url, Forge::GitHub, &fake, &out).await;
    let summary = out.summary();
    assert!(
        summary["quota_wait_seconds"].as_f64().unwrap() > 0.0,
        "both spent: a wait: {summary}"
    );
    let tokens: std::collections::BTreeSet<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(tokens.len(), 2, "both tokens were used: {tokens:?}");

    // With one token: a wait until its reset.
    let db_one = TestDatabase::sqlite();
    let fake = forge_with(vec![(Fault::PrimaryLimit, 1, 2)]).await;
    let out = list(
        &db_one.url,
        Forge::GitHub,
        &fake,
        &[],
        &[("GITHUB_TOKEN", "tok-one")],
    )
    .await;
    assert_complete(&db_one.url, Forge::GitHub, &fake, &out).await;
    assert!(
        out.summary()["quota_wait_seconds"].as_f64().unwrap() > 0.0,
        "{out:?}"
    );
    db.drop_database().await;
    db_one.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitbucket_bare_429_backs_off() {
    let summary = recovers(
        Forge::Bitbucket,
        vec![(Fault::BareTooManyRequests, 2, 1)],
        &[],
    )
    .await;
    assert!(
        summary["quota_wait_seconds"].as_f64().unwrap() >= 2.0,
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_and_duplicate_entries_are_skipped() {
    for forge in BOTH {
        let summary = recovers(forge, vec![(Fault::JunkEntries, 4, 0)], &[]).await;
        assert!(
            summary["origins_duplicate"].as_u64().unwrap() >= 1,
            "{forge:?}: {summary}"
        );
    }
}

/// Lists with the faults of `fake` and expects exit 1 with one error line holding `message`,
/// few requests; returns the summary (`saved_cursor`: the cursor the next run starts at).
async fn stops(
    forge: Forge,
    fake: &FakeForge,
    env: &[(&str, &str)],
    message: &str,
) -> serde_json::Value {
    let db = TestDatabase::sqlite();
    let out = list(&db.url, forge, fake, &["-vv"], env).await;
    assert_eq!(out.code, 1, "{forge:?}: {out:?}");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{out:?}");
    assert!(errors[0].contains(message), "{forge:?}: {}", errors[0]);
    assert!(out.summary()["error"].as_str().unwrap().contains(message));
    assert!(
        fake.listing_requests() <= 6,
        "{forge:?}: {} requests",
        fake.listing_requests()
    );
    db.drop_database().await;
    out.summary()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_looping_back_stops_with_both_indexes() {
    for forge in BOTH {
        let fake = forge_with(vec![(Fault::LoopingNext, 1, 2)]).await;
        let summary = stops(forge, &fake, &[], "pagination loop").await;
        let saved = summary["saved_cursor"].as_str().unwrap().to_owned();
        let error = summary["error"].as_str().unwrap();
        let looping = error
            .split("the page at ")
            .nth(1)
            .and_then(|rest| rest.split(" points to ").next())
            .unwrap_or_else(|| panic!("no cursors named: {error}"));
        assert!(error.contains("which does not come after it"), "{error}");
        assert!(
            error.contains(&format!("state saved up to cursor {saved}")),
            "{error}"
        );
        // The third page loops: page 2 is committed, the state saved at the looping page.
        assert_eq!(summary["pages"].as_u64(), Some(2), "{forge:?}: {summary}");
        assert_eq!(looping, saved, "{forge:?}: {error}");
    }
}

/// A fetch-stage error on page 3 (a pagination loop; an unreadable next cursor) must not
/// cost the pages fetched before it: page 2 is committed. The error goes down the pipeline
/// behind the pages still parsing; five rounds, since the two stages race.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_error_keeps_every_page_fetched_before_it() {
    for round in 0..5 {
        for (forge, fault, message) in [
            (Forge::GitHub, Fault::LoopingNext, "pagination loop"),
            (Forge::Bitbucket, Fault::TruncatedJson, "does not parse"),
        ] {
            let fake = forge_with(vec![(fault, 1, 2)]).await;
            let summary = stops(forge, &fake, &[], message).await;
            assert_eq!(summary["pages"], 2, "round {round}, {forge:?}: {summary}");
        }
    }
}

/// The lister builds each page's URL from the instance's API base and the cursor it reads in
/// the next link: a next link to another host gives its cursor and nothing else, so the
/// listing goes on at the instance, and neither a request nor the token goes elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_to_another_host_gives_only_its_cursor_and_the_token_never_goes_there() {
    for forge in BOTH {
        let db = TestDatabase::sqlite();
        let other = OtherHost::start().await.unwrap();
        let fake = forge_with(vec![(Fault::OffHostNext(other.localhost_url()), 1, 1)]).await;
        let env = [
            ("GITHUB_TOKEN", "tok-secret-1"),
            ("BITBUCKET_TOKEN", "tok-secret-1"),
        ];
        let out = list(&db.url, forge, &fake, &[], &env).await;
        assert_complete(&db.url, forge, &fake, &out).await;
        assert_eq!(out.summary()["retries"], 0, "{forge:?}: {out:?}");
        assert!(
            !other.was_contacted(),
            "{forge:?}: a request reached the other host"
        );
        assert!(!out.stderr.contains("tok-secret-1"), "{out:?}");
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_stops_clearly() {
    for forge in BOTH {
        let huge = Fault::Oversized {
            bytes: 40 * 1024 * 1024,
            declare_length: false,
        };
        let fake = forge_with(vec![(huge, 1, 1)]).await;
        let summary = stops(forge, &fake, &[], "body exceeds the 33554432-byte cap").await;
        assert_eq!(summary["pages"], 1, "{summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_or_not_found_on_the_first_page_stops_at_once() {
    for forge in BOTH {
        for status in [401, 404] {
            let fake = forge_with(vec![(Fault::Status(status), 1, 0)]).await;
            let summary = stops(forge, &fake, &[], &status.to_string()).await;
            assert_eq!(
                (summary["requests"].as_u64(), summary["pages"].as_u64()),
                (Some(1), Some(0))
            );
        }
    }
}
