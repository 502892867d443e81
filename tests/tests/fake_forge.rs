//! The fake forge itself: pagination, conditional requests, quotas and a few faults, with a
//! bare HTTP client.

use std::time::Duration;

use lister_tests::fake_forge::{
    Config, FakeForge, Fault, GithubEnd, OtherHost, QuotaConfig, QuotaKey,
};
use serde_json::Value;

async fn json<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> T {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// The `rel="next"` target of a GitHub `Link` header, read naively (the fake writes it first).
fn next_of(response: &reqwest::Response) -> Option<String> {
    let link = response.headers().get("link")?.to_str().ok()?;
    let (target, rest) = link.strip_prefix('<')?.split_once('>')?;
    rest.starts_with("; rel=\"next\"")
        .then(|| target.to_owned())
}

async fn walk_github(forge: &FakeForge, start: url::Url) -> (Vec<u64>, usize) {
    let client = client();
    let (mut ids, mut pages) = (Vec::new(), 0);
    let mut url = Some(start.to_string());
    while let Some(current) = url {
        let response = client.get(&current).send().await.unwrap();
        assert_eq!(response.status(), 200);
        url = next_of(&response);
        let items: Vec<Value> = json(response).await;
        ids.extend(items.iter().map(|item| item["id"].as_u64().unwrap()));
        pages += 1;
        assert!(pages < 100, "runaway pagination");
    }
    let _ = forge;
    (ids, pages)
}

#[tokio::test]
async fn github_pagination_walks_every_repository_once() {
    let forge = FakeForge::start_with(Config {
        github_repositories: 250,
        ..Config::default()
    })
    .await;
    let start = forge.github_url().join("repositories?since=0").unwrap();
    let (ids, pages) = walk_github(&forge, start).await;
    assert_eq!(ids, forge.github_ids());
    assert_eq!(pages, 4, "three pages and the empty one");

    let enterprise = forge.github_enterprise_url();
    let (ids, _) = walk_github(
        &forge,
        url::Url::parse(&format!("{enterprise}/repositories")).unwrap(),
    )
    .await;
    assert_eq!(ids.len(), 250);
    let last = forge.requests().pop().unwrap();
    assert!(
        last.path_and_query
            .starts_with("/api/v3/repositories?since="),
        "{last:?}"
    );
}

#[tokio::test]
async fn github_headers_look_like_github() {
    let forge = FakeForge::start().await;
    let url = forge.github_url().join("repositories?since=0").unwrap();
    let response = client().get(url).bearer_auth("t0ken").send().await.unwrap();
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    let base = forge.base_url().as_str().trim_end_matches('/').to_owned();
    let last_id = forge.github_ids()[99];
    assert_eq!(
        header("link"),
        format!(
            "<{base}/repositories?since={last_id}>; rel=\"next\", <{base}/repositories{{?since}}>; rel=\"first\""
        )
    );
    assert!(header("etag").starts_with("W/\""));
    assert_eq!(header("x-ratelimit-limit"), "5000");
    assert_eq!(header("x-ratelimit-remaining"), "4999");
    assert_eq!(header("x-ratelimit-used"), "1");
    assert_eq!(header("x-ratelimit-resource"), "core");
    assert!(header("x-ratelimit-reset").parse::<u64>().unwrap() > 1_700_000_000);
    assert_eq!(
        forge.requests()[0].header("authorization"),
        Some("Bearer t0ken")
    );
}

#[tokio::test]
async fn github_last_page_without_next_link() {
    let config = Config {
        github_repositories: 150,
        github_end: GithubEnd::NoNextLink,
        ..Config::default()
    };
    let forge = FakeForge::start_with(config).await;
    let (ids, pages) = walk_github(&forge, forge.github_url().join("repositories").unwrap()).await;
    assert_eq!((ids.len(), pages), (150, 2));

    forge.add_github_repositories(30);
    let since = forge.github_ids()[149];
    let rerun = forge
        .github_url()
        .join(&format!("repositories?since={since}"))
        .unwrap();
    let (ids, _) = walk_github(&forge, rerun).await;
    assert_eq!(ids, forge.github_ids()[150..]);
}

#[tokio::test]
async fn authorized_not_modified_is_free() {
    let forge = FakeForge::start().await;
    let url = forge.github_url().join("repositories?since=0").unwrap();
    let first = client()
        .get(url.clone())
        .bearer_auth("a")
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].clone();
    for _ in 0..3 {
        let again = client()
            .get(url.clone())
            .bearer_auth("a")
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()["x-ratelimit-remaining"], "4999");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let anonymous = client()
        .get(url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 304);
    assert_eq!(anonymous.headers()["x-ratelimit-remaining"], "59");
}

#[tokio::test]
async fn quotas_run_out_per_token() {
    let quota = QuotaConfig {
        token_limit: 2,
        anonymous_limit: 1,
        reset_after: Duration::from_secs(600),
    };
    let forge = FakeForge::start_with(Config {
        quota,
        ..Config::default()
    })
    .await;
    let url = forge.github_url().join("repositories?since=0").unwrap();
    let get = |token: &'static str| {
        client()
            .get(url.clone())
            .header("authorization", format!("token {token}"))
            .send()
    };
    assert_eq!(get("a").await.unwrap().status(), 200);
    assert_eq!(get("a").await.unwrap().status(), 200);
    let spent = get("a").await.unwrap();
    assert_eq!(spent.status(), 403);
    assert_eq!(spent.headers()["x-ratelimit-remaining"], "0");
    let reset: u64 = spent.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 590..=now + 600).contains(&reset), "{reset} vs {now}");
    let body: Value = json(spent).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
    assert_eq!(
        get("b").await.unwrap().status(),
        200,
        "another token has its own bucket"
    );

    let bitbucket = forge.bitbucket_url().join("2.0/repositories").unwrap();
    assert_eq!(
        client()
            .get(bitbucket.clone())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let spent = client().get(bitbucket).send().await.unwrap();
    assert_eq!(spent.status(), 429);
    assert!(spent.headers().get("retry-after").is_none());

    forge.refill_quotas();
    assert_eq!(get("a").await.unwrap().status(), 200);
    forge.set_quota(QuotaKey::token("a"), 0);
    assert_eq!(get("a").await.unwrap().status(), 403);
}

#[tokio::test]
async fn bitbucket_pagination_keeps_pagelen_and_fields() {
    let forge = FakeForge::start_with(Config {
        bitbucket_repositories: 25,
        ..Config::default()
    })
    .await;
    let fields = "next,values.links.clone,values.scm,values.created_on";
    let mut url = forge.bitbucket_url().join("2.0/repositories").unwrap();
    url.query_pairs_mut()
        .append_pair("pagelen", "10")
        .append_pair("fields", fields);
    let mut names = Vec::new();
    let mut next = Some(url.to_string());
    while let Some(current) = next {
        let body: Value = json(client().get(&current).send().await.unwrap()).await;
        assert_eq!(body["pagelen"], 10);
        for value in body["values"].as_array().unwrap() {
            names.push(value["full_name"].as_str().unwrap().to_owned());
        }
        next = body["next"].as_str().map(str::to_owned);
        if let Some(next) = &next {
            let parsed = url::Url::parse(next).unwrap();
            let param = |name: &str| {
                parsed
                    .query_pairs()
                    .find(|(key, _)| key == name)
                    .map(|(_, v)| v.into_owned())
            };
            assert_eq!(param("pagelen").as_deref(), Some("10"));
            assert_eq!(param("fields").as_deref(), Some(fields));
            assert!(param("after").unwrap().ends_with('Z'));
            assert_eq!(parsed.origin(), forge.base_url().origin());
        }
    }
    assert_eq!(names, forge.bitbucket_full_names());
}

#[tokio::test]
async fn faults_are_served_in_order_then_stop() {
    let forge = FakeForge::start().await;
    let url = forge.github_url().join("repositories?since=0").unwrap();
    forge.inject(Fault::Status(500), 2, 1);
    forge.inject(Fault::CloseBeforeResponse, 1, 0);
    forge.inject(Fault::EmptyStatus(504), 1, 3);
    let client = client();
    assert!(
        client.get(url.clone()).send().await.is_err(),
        "closed without a response"
    );
    assert_eq!(client.get(url.clone()).send().await.unwrap().status(), 500);
    assert_eq!(client.get(url.clone()).send().await.unwrap().status(), 500);
    let empty = client.get(url.clone()).send().await.unwrap();
    assert_eq!(empty.status(), 504);
    assert!(empty.bytes().await.unwrap().is_empty());
    assert_eq!(client.get(url.clone()).send().await.unwrap().status(), 200);
    assert_eq!(forge.listing_requests(), 5);
}

#[tokio::test]
async fn truncated_and_mid_body_faults_break_the_body() {
    let forge = FakeForge::start().await;
    let url = forge.github_url().join("repositories?since=0").unwrap();
    forge.inject(Fault::TruncatedJson, 1, 0);
    forge.inject(Fault::CloseMidBody, 1, 0);
    let truncated = client().get(url.clone()).send().await.unwrap();
    assert_eq!(truncated.status(), 200);
    let body = truncated.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    let broken = client().get(url).send().await.unwrap();
    assert!(broken.bytes().await.is_err());
}

#[tokio::test]
async fn rate_limit_faults_carry_their_headers() {
    let forge = FakeForge::start().await;
    let url = forge.github_url().join("repositories?since=0").unwrap();
    forge.inject(Fault::retry_after_seconds(429, 7), 1, 0);
    forge.inject(Fault::SecondaryLimit { retry_after: None }, 1, 0);
    forge.inject(Fault::PrimaryLimit, 1, 0);
    let first = client().get(url.clone()).send().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), &first.headers()["retry-after"]),
        (429, &"7".parse().unwrap())
    );
    let secondary = client().get(url.clone()).send().await.unwrap();
    assert_eq!(secondary.status(), 403);
    assert!(
        secondary
            .text()
            .await
            .unwrap()
            .contains("secondary rate limit")
    );
    let primary = client().get(url).send().await.unwrap();
    assert_eq!(
        (
            primary.status().as_u16(),
            &primary.headers()["x-ratelimit-remaining"]
        ),
        (403, &"0".parse().unwrap())
    );
}

#[tokio::test]
async fn off_host_and_looping_links() {
    let forge = FakeForge::start().await;
    let other = OtherHost::start().await.unwrap();
    forge.inject(Fault::OffHostNext(other.localhost_url()), 1, 0);
    forge.inject(Fault::LoopingNext, 1, 0);
    let url = forge.github_url().join("repositories?since=0").unwrap();
    let off = next_of(&client().get(url.clone()).send().await.unwrap()).unwrap();
    assert!(off.starts_with(&format!(
        "http://localhost:{}/repositories?since=",
        other.base_url().port().unwrap()
    )));
    let looping = next_of(&client().get(url).send().await.unwrap()).unwrap();
    assert!(looping.ends_with("/repositories?since=0"));
    assert!(!other.was_contacted());
    client().get(off).send().await.unwrap();
    assert_eq!(other.requests().len(), 1);
}

#[tokio::test]
async fn oversized_body_is_streamed() {
    let forge = FakeForge::start().await;
    forge.inject(
        Fault::Oversized {
            bytes: 3 * 1024 * 1024 + 5,
            declare_length: false,
        },
        1,
        0,
    );
    let url = forge.github_url().join("repositories?since=0").unwrap();
    let response = client().get(url).send().await.unwrap();
    assert!(response.content_length().is_none());
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), 3 * 1024 * 1024 + 5);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        Value::Array(vec![])
    );
}
