//! The fake forge's Bitbucket Data Center and Gitiles endpoints, with a bare HTTP client.

use lister_tests::fake_forge::{Config, ExpectedOrigin, FakeForge, Fault};
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn json(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

fn repos_url(forge: &FakeForge, query: &str) -> url::Url {
    forge
        .bitbucket_server_url()
        .join(&format!("rest/api/1.0/repos?{query}"))
        .unwrap()
}

/// What a lister makes of one Bitbucket Data Center repository.
fn bitbucket_server_origin(value: &Value) -> ExpectedOrigin {
    let clone = value["links"]["clone"].as_array().unwrap();
    let http = clone.iter().find(|link| link["name"] == "http").unwrap();
    ExpectedOrigin {
        url: http["href"].as_str().unwrap().to_owned(),
        visit_type: value["scmId"].as_str().unwrap().to_owned(),
        enabled: value["public"].as_bool().unwrap(),
        is_fork: None,
        last_update: None,
    }
}

#[tokio::test]
async fn bitbucket_server_pages_by_next_page_start() {
    let forge = FakeForge::start().await;
    let client = client();
    let (mut origins, mut pages, mut start) = (Vec::new(), 0, 0);
    let mut forks = 0;
    loop {
        let url = repos_url(&forge, &format!("start={start}&limit=100"));
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let page = json(response).await;
        pages += 1;
        assert!(pages < 10, "runaway pagination");
        assert_eq!(page["start"], start);
        assert_eq!(page["limit"], 100);
        let values = page["values"].as_array().unwrap();
        assert_eq!(page["size"], values.len());
        forks += values.iter().filter(|v| v.get("origin").is_some()).count();
        origins.extend(values.iter().map(bitbucket_server_origin));
        if page["isLastPage"] == true {
            assert!(page.get("nextPageStart").is_none());
            break;
        }
        let next = page["nextPageStart"].as_u64().unwrap();
        assert_eq!(next, start + values.len() as u64);
        start = next;
    }
    assert_eq!(pages, 3);
    assert_eq!(forks, 25);
    assert_eq!(origins, forge.bitbucket_server_origins());
    assert_eq!(origins.iter().filter(|origin| !origin.enabled).count(), 41);
    assert_eq!(forge.listing_requests(), 3);

    // The default limit, and the listing growing.
    let page = json(client.get(repos_url(&forge, "")).send().await.unwrap()).await;
    assert_eq!(page["limit"], 25);
    assert_eq!(page["nextPageStart"], 25);
    forge.add_bitbucket_server_repositories(5);
    assert_eq!(forge.bitbucket_server_origins().len(), 255);
    let url = repos_url(&forge, "start=250");
    let page = json(client.get(url).send().await.unwrap()).await;
    assert_eq!(page["size"], 5);
    assert_eq!(page["isLastPage"], true);
}

#[tokio::test]
async fn bitbucket_server_limit_is_clamped() {
    let forge = FakeForge::start_with(Config {
        bitbucket_server_repositories: 1_500,
        ..Config::default()
    })
    .await;
    let client = client();
    let page = json(
        client
            .get(repos_url(&forge, "limit=5000"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["limit"], 1_000);
    assert_eq!(page["size"], 1_000);
    assert_eq!(page["values"].as_array().unwrap().len(), 1_000);
    assert_eq!(page["isLastPage"], false);
    assert_eq!(page["nextPageStart"], 1_000);
    let bad = client
        .get(repos_url(&forge, "start=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn gitiles_answers_the_guarded_document_and_304() {
    let forge = FakeForge::start().await;
    let client = client();
    let url = forge.gitiles_url().join("?format=JSON").unwrap();
    assert_eq!(url.path(), "/gitiles/");
    let response = client.get(url.clone()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body = response.bytes().await.unwrap();
    let json = body.strip_prefix(b")]}'\n").expect("the XSSI guard line");
    let object: serde_json::Map<String, Value> = serde_json::from_slice(json).unwrap();
    let origins: Vec<ExpectedOrigin> = object
        .iter()
        .map(|(name, entry)| {
            assert_eq!(entry["name"], name.as_str());
            ExpectedOrigin {
                url: entry["clone_url"].as_str().unwrap().to_owned(),
                visit_type: "git".to_owned(),
                enabled: true,
                is_fork: None,
                last_update: None,
            }
        })
        .collect();
    // serde_json's map is ordered by name, as the document and `gitiles_origins`.
    assert_eq!(origins, forge.gitiles_origins());
    assert_eq!(origins.len(), 250);
    assert!(object.keys().any(|name| name.contains('/')));

    let cached = client
        .get(url.clone())
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert!(cached.bytes().await.unwrap().is_empty());

    forge.add_gitiles_repositories(1);
    let changed = client
        .get(url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);

    let html = client.get(forge.gitiles_url()).send().await.unwrap();
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn faults_apply_to_both_routes() {
    let forge = FakeForge::start().await;
    let client = client();
    let urls = [
        repos_url(&forge, "start=0"),
        forge.gitiles_url().join("?format=JSON").unwrap(),
    ];
    for url in urls {
        forge.inject(Fault::Status(502), 1, 0);
        let failed = client.get(url.clone()).send().await.unwrap();
        assert_eq!(failed.status(), 502);
        let served = client.get(url).send().await.unwrap();
        assert_eq!(served.status(), 200);
    }
    assert_eq!(forge.listing_requests(), 4);

    forge.inject(Fault::LoopingNext, 1, 0);
    let page = json(
        client
            .get(repos_url(&forge, "start=225"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["nextPageStart"], 0);
    assert_eq!(page["isLastPage"], false);
}
